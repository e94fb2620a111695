//! `cargo xtask lint`'s function-length check: no function longer than [`MAX_LINES`] lines in the
//! crates' sources, tests and scenario data aside.
//!
//! It reads rustfmt's layout rather than parsing Rust: a function starts at a line whose code
//! begins with `fn` (after `pub`, `async`, `const`…) and ends at the first line below it, at the
//! same indentation, that starts with `}`. `#[cfg(test)]` modules, `tests/` folders, `tests.rs`
//! files and the files in [`EXEMPT`] are skipped.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

pub const MAX_LINES: usize = 80;

/// The crates whose sources are checked.
const CRATES: [&str; 7] = ["domain", "db", "app", "server", "frontend", "gitlab-sim", "xtask"];

/// Data, not logic: the simulated organisation's tables.
const EXEMPT: [&str; 1] = ["gitlab-sim/src/scenario.rs"];

/// A function longer than allowed.
#[derive(Debug, PartialEq, Eq)]
pub struct Long {
    pub file: PathBuf,
    pub line: usize,
    pub name: String,
    pub lines: usize,
}

pub fn check() -> anyhow::Result<()> {
    let mut long = Vec::new();
    for krate in CRATES {
        for file in rust_files(&Path::new(krate).join("src"))? {
            if EXEMPT.iter().any(|exempt| file == Path::new(exempt)) || file.ends_with("tests.rs") {
                continue;
            }
            let source = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            long.extend(
                long_functions(&source, MAX_LINES)
                    .into_iter()
                    .map(|(line, name, lines)| Long {
                        file: file.clone(),
                        line,
                        name,
                        lines,
                    }),
            );
        }
    }
    if long.is_empty() {
        println!("function lengths: none over {MAX_LINES} lines");
        return Ok(());
    }
    for f in &long {
        eprintln!(
            "{}:{}: fn {} is {} lines long",
            f.file.display(),
            f.line,
            f.name,
            f.lines
        );
    }
    bail!(
        "{} functions are over {MAX_LINES} lines: split them by concern",
        long.len()
    )
}

fn rust_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|name| name != "tests") {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The functions over `max` lines in one rustfmt-formatted file: (first line, name, lines).
pub fn long_functions(source: &str, max: usize) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = source.lines().collect();
    let mut found = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        let line = lines[at];
        let indent = line.len() - line.trim_start().len();
        if line.trim() == "#[cfg(test)]" {
            // The item below (a test module or function) and everything in it.
            at = block_end(&lines, at + 1, indent).unwrap_or(lines.len()) + 1;
            continue;
        }
        if let Some(name) = function_name(line.trim_start()) {
            match block_end(&lines, at, indent) {
                Some(end) if end + 1 - at > max => found.push((at + 1, name, end + 1 - at)),
                _ => {}
            }
        }
        at += 1;
    }
    found
}

/// The name of the function a line declares, if it does.
fn function_name(code: &str) -> Option<String> {
    let mut rest = code;
    for qualifier in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
        "extern \"C\" ",
    ] {
        rest = rest.strip_prefix(qualifier).unwrap_or(rest);
    }
    // Twice: `pub const async`, `pub async unsafe`.
    for qualifier in ["const ", "async ", "unsafe "] {
        rest = rest.strip_prefix(qualifier).unwrap_or(rest);
    }
    let name = rest.strip_prefix("fn ")?;
    let end = name.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    Some(name[..end].to_owned())
}

/// The line that closes the item starting at `start` (indented by `indent`): the first one below
/// at the same indentation that starts with `}`, or `start` itself for an item on one line or a
/// declaration without a body.
fn block_end(lines: &[&str], start: usize, indent: usize) -> Option<usize> {
    for (at, line) in lines.iter().enumerate().skip(start) {
        let code = line.trim_end();
        let this_indent = code.len() - code.trim_start().len();
        if at > start && this_indent == indent && code.trim_start().starts_with('}') {
            return Some(at);
        }
        if this_indent == indent && (code.ends_with(';') || code.ends_with('}')) && opens_no_block(code) {
            return Some(at);
        }
        if at > start && this_indent < indent && !code.trim().is_empty() {
            return None;
        }
    }
    None
}

/// A line at the item's own indentation that ends it there: `fn f();` or `fn f() {}`.
fn opens_no_block(code: &str) -> bool {
    code.ends_with(';') || code.matches('{').count() == code.matches('}').count()
}

#[cfg(test)]
mod tests {
    use super::long_functions;

    fn function(name: &str, indent: &str, body_lines: usize) -> String {
        let body: String = (0..body_lines)
            .map(|i| format!("{indent}    let x{i} = {i};\n"))
            .collect();
        format!("{indent}pub async fn {name}(a: i32) -> i32 {{\n{body}{indent}}}\n")
    }

    #[test]
    fn a_function_over_the_limit_is_found_with_its_length() {
        let source = format!("{}\n{}", function("short", "", 10), function("long", "", 79));
        assert_eq!(long_functions(&source, 80), [(14, "long".to_owned(), 81)]);
    }

    #[test]
    fn methods_count_from_their_own_indentation_and_declarations_have_no_body() {
        let source = format!(
            "impl X {{\n    fn declared(&self);\n    fn one_line(&self) {{}}\n{}}}\n",
            function("method", "    ", 85)
        );
        assert_eq!(long_functions(&source, 80), [(4, "method".to_owned(), 87)]);
    }

    #[test]
    fn test_modules_are_not_counted() {
        let source = format!(
            "#[cfg(test)]\nmod tests {{\n{}}}\n{}",
            function("long_test", "    ", 90),
            function("after", "", 3)
        );
        assert!(long_functions(&source, 80).is_empty());
    }
}
