//! Secrets as the configuration gives them: directly, or in a file (a mounted secret).

use secrecy::SecretString;

/// A secret given directly or as a file (a mounted secret), trimmed; `None` when neither is set.
pub fn secret_from(
    value: Option<&SecretString>,
    file: Option<&std::path::Path>,
    what: &str,
) -> anyhow::Result<Option<SecretString>> {
    use anyhow::Context;
    Ok(match (value, file) {
        (Some(value), _) => Some(value.clone()),
        (None, Some(path)) => Some(SecretString::from(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the {what} file {}", path.display()))?
                .trim(),
        )),
        (None, None) => None,
    })
}

#[cfg(test)]
mod tests {
    use secrecy::{ExposeSecret, SecretString};

    use super::secret_from;

    #[test]
    fn secrets_come_from_the_value_or_a_file_trimmed() {
        let dir = tempfile::tempdir().expect("folder");
        let file = dir.path().join("secret");
        std::fs::write(&file, "  s3cret\n").expect("write");
        let read = |value: Option<&SecretString>, file: Option<&std::path::Path>| {
            secret_from(value, file, "x")
                .ok()
                .flatten()
                .map(|secret| secret.expose_secret().to_owned())
        };
        assert_eq!(read(Some(&SecretString::from("v")), Some(&file)).as_deref(), Some("v"));
        assert_eq!(read(None, Some(&file)).as_deref(), Some("s3cret"));
        assert_eq!(read(None, None), None);
        let missing = secret_from(None, Some(&dir.path().join("nope")), "OAuth secret").expect_err("missing file");
        assert!(
            missing.to_string().contains("cannot read the OAuth secret file"),
            "{missing}"
        );
    }
}
