//! What people say about a token: who owns it and why it exists. Sync never writes it; team leads
//! (for their team's tokens) and security (for all) do.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::TeamRef;

/// The ownership annotations as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ownership {
    /// The team a person set; `None` means the inferred team (if any) stands.
    pub owner_team: Option<TeamRef>,
    pub purpose: Option<String>,
    /// The automation it serves (a job, a bot, a pipeline).
    pub automation: Option<String>,
    /// Where its secret is kept (a vault item's name): never the secret itself.
    pub secret_location: Option<String>,
    pub notes: Option<String>,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// An edit, as a form sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OwnershipEdit {
    /// A team id, or empty for "the team owning the group path".
    pub owner_team: String,
    pub purpose: String,
    pub automation: String,
    pub secret_location: String,
    pub notes: String,
}

/// A checked edit, ready to store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidOwnership {
    pub owner_team_id: Option<i64>,
    pub purpose: Option<String>,
    pub automation: Option<String>,
    pub secret_location: Option<String>,
    pub notes: Option<String>,
}

/// A message for one field of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Prefixes GitLab puts on token secrets: a value starting with one is a secret, not a place.
const SECRET_PREFIXES: [&str; 8] = [
    "glpat-", "gldt-", "glsoat-", "glptt-", "glrt-", "gloas-", "glcbt-", "glimt-",
];

impl OwnershipEdit {
    /// Trims, checks lengths, refuses what looks like a token's secret, and reads the team id.
    /// `teams` are the teams that exist.
    pub fn validate(&self, teams: &[TeamRef]) -> Result<ValidOwnership, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut text = |field: &str, value: &str, max: usize| -> Option<String> {
            let value = value.trim();
            if value.chars().count() > max {
                errors.push(FieldError {
                    field: field.to_owned(),
                    message: format!("at most {max} characters"),
                });
            }
            if looks_like_a_secret(value) {
                errors.push(FieldError {
                    field: field.to_owned(),
                    message: "this looks like a token's secret: never paste secrets here; say where the secret is kept instead".to_owned(),
                });
            }
            (!value.is_empty()).then(|| value.to_owned())
        };
        let purpose = text("purpose", &self.purpose, 300);
        let automation = text("automation", &self.automation, 200);
        let secret_location = text("secret_location", &self.secret_location, 200);
        let notes = text("notes", &self.notes, 2000);
        let owner_team_id = match self.owner_team.trim() {
            "" => None,
            value => match value.parse::<i64>().ok().filter(|id| teams.iter().any(|t| t.id == *id)) {
                Some(id) => Some(id),
                None => {
                    errors.push(FieldError {
                        field: "owner_team".to_owned(),
                        message: "choose one of the teams".to_owned(),
                    });
                    None
                }
            },
        };
        if errors.is_empty() {
            Ok(ValidOwnership {
                owner_team_id,
                purpose,
                automation,
                secret_location,
                notes,
            })
        } else {
            Err(errors)
        }
    }
}

/// A GitLab token secret pasted by mistake: a known prefix, anywhere in the text (also inside a
/// word, a path or after `=`), followed by 20 or more token characters (GitLab's secrets are at
/// least that long; shorter runs, such as `glpat-release-bot`, read as names).
pub fn looks_like_a_secret(value: &str) -> bool {
    let token_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    SECRET_PREFIXES.iter().any(|prefix| {
        value.match_indices(prefix).any(|(at, _)| {
            value[at + prefix.len()..]
                .chars()
                .take_while(|c| token_char(*c))
                .count()
                >= 20
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn teams() -> Vec<TeamRef> {
        vec![TeamRef {
            id: 3,
            name: "Platform".into(),
        }]
    }

    #[test]
    fn a_good_edit_is_trimmed_and_empty_fields_become_none() {
        let edit = OwnershipEdit {
            owner_team: " 3 ".into(),
            purpose: "  posts Allure reports on merge requests ".into(),
            automation: String::new(),
            secret_location: "vault: ci/allure".into(),
            notes: "   ".into(),
        };
        assert_eq!(
            edit.validate(&teams()),
            Ok(ValidOwnership {
                owner_team_id: Some(3),
                purpose: Some("posts Allure reports on merge requests".into()),
                automation: None,
                secret_location: Some("vault: ci/allure".into()),
                notes: None,
            })
        );
        assert_eq!(
            OwnershipEdit::default().validate(&teams()),
            Ok(ValidOwnership::default())
        );
    }

    #[test]
    fn bad_fields_each_get_a_message() {
        let edit = OwnershipEdit {
            owner_team: "99".into(),
            purpose: "x".repeat(301),
            automation: String::new(),
            secret_location: "glpat-abcdefghijklmnopqrstuvwx".into(),
            notes: String::new(),
        };
        let errors = edit.validate(&teams()).expect_err("three problems");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["purpose", "secret_location", "owner_team"]);
        assert!(errors[1].message.contains("never paste secrets"));
    }

    #[test]
    fn secrets_are_told_from_places() {
        assert!(looks_like_a_secret("token glpat-1234567890abcdefghij here"));
        assert!(looks_like_a_secret("gldt-AbCdEfGhIjKlMnOpQrSt"));
        assert!(looks_like_a_secret("acme/glpat-1234567890abcdefghij/api"));
        assert!(looks_like_a_secret("token=glpat-1234567890abcdefghij"));
        assert!(looks_like_a_secret("ci-glpat-1234567890abcdefghij"));
        assert!(!looks_like_a_secret("1Password/Eng/glpat-release-tools-bot"));
        assert!(!looks_like_a_secret("glpat-"));
        assert!(!looks_like_a_secret("vault item glpat-for-allure"));
        assert!(!looks_like_a_secret("1Password: Engineering / allure bot"));
    }
}
