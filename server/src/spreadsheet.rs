//! Exports that a spreadsheet opens: cells it shows as text, never runs.

/// A cell a spreadsheet shows as text: one that begins with `=`, `+`, `-`, `@`, a tab or a
/// carriage return would be read as a formula (names and paths come from GitLab, purposes from
/// people), so it gets a leading `'`, as OWASP recommends against CSV injection.
pub fn spreadsheet_safe(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn cells_that_a_spreadsheet_would_run_start_with_a_quote() {
        for cell in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(spreadsheet_safe(cell.to_owned()), format!("'{cell}"));
        }
        for cell in ["", "acme/app", "1=1", " =1", "'quoted"] {
            assert_eq!(spreadsheet_safe(cell.to_owned()), cell);
        }
    }
}
