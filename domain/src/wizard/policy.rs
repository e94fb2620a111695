//! The settings: lifetimes, the naming convention, GitLab's address.

use super::*;

// ---------------------------------------------------------------------------------------------
// The settings
// ---------------------------------------------------------------------------------------------

/// The wizard's settings, from the product's configuration.
///
/// Lifetimes: the guidelines require an expiry date but set no lifetime. GitLab refuses more
/// than 365 days (400 where that limit is raised), hence the maximum. The default of 90 days is
/// a quarter: a leaked token stops working within three months, and rotating four times a year
/// is bearable; GitLab's expiry emails (60, 30 and 7 days before) all fall inside it. Temporary
/// automation gets 30 days: long enough for a migration or an experiment, short enough that a
/// forgotten one dies on its own. A lifetime longer than the maximum is cut to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WizardPolicy {
    /// The longest lifetime the wizard recommends, in days (1 to 400).
    pub max_lifetime_days: u32,
    /// The lifetime of a token for lasting automation, in days.
    pub default_lifetime_days: u32,
    /// The lifetime of a token for temporary automation, in days.
    pub temporary_lifetime_days: u32,
    /// How the suggested names are built.
    pub naming: NamingConvention,
    /// The GitLab the links and commands point at, like `https://gitlab.com`.
    pub gitlab_url: String,
}

/// GitLab's ceiling on a token's lifetime where the longer limit is enabled.
pub const GITLAB_MAX_LIFETIME_DAYS: u32 = 400;

impl Default for WizardPolicy {
    fn default() -> Self {
        WizardPolicy {
            max_lifetime_days: 365,
            default_lifetime_days: 90,
            temporary_lifetime_days: 30,
            naming: NamingConvention::default(),
            gitlab_url: "https://gitlab.com".to_owned(),
        }
    }
}

impl WizardPolicy {
    /// Checks the settings: lifetimes of at least a day, temporary ≤ default ≤ maximum ≤ 400,
    /// and a plain `http(s)://` GitLab URL.
    pub fn validate(&self) -> Result<(), WizardError> {
        if !(1..=GITLAB_MAX_LIFETIME_DAYS).contains(&self.max_lifetime_days) {
            return Err(WizardError::policy(format!(
                "the maximum lifetime is from 1 to {GITLAB_MAX_LIFETIME_DAYS} days, not {}",
                self.max_lifetime_days
            )));
        }
        if !(1..=self.max_lifetime_days).contains(&self.default_lifetime_days) {
            return Err(WizardError::policy(format!(
                "the default lifetime is from 1 to {} days (the maximum), not {}",
                self.max_lifetime_days, self.default_lifetime_days
            )));
        }
        if !(1..=self.default_lifetime_days).contains(&self.temporary_lifetime_days) {
            return Err(WizardError::policy(format!(
                "the temporary lifetime is from 1 to {} days (the default), not {}",
                self.default_lifetime_days, self.temporary_lifetime_days
            )));
        }
        let url = self.base_url();
        let plain = url.chars().all(|c| c.is_ascii_alphanumeric() || ":/.-_~%".contains(c));
        let has_host = ["https://", "http://"]
            .iter()
            .any(|scheme| url.strip_prefix(scheme).is_some_and(|host| !host.is_empty()));
        if !plain || !has_host {
            return Err(WizardError::policy(format!(
                "the GitLab URL is like https://gitlab.example.com, not {:?}",
                self.gitlab_url
            )));
        }
        Ok(())
    }

    /// The token's lifetime, in days: shorter for temporary automation, never above the maximum.
    pub fn lifetime_days(&self, temporary: bool) -> u32 {
        let wanted = if temporary {
            self.temporary_lifetime_days
        } else {
            self.default_lifetime_days
        };
        wanted.clamp(1, self.max_lifetime_days.max(1))
    }

    pub(crate) fn base_url(&self) -> &str {
        self.gitlab_url.trim().trim_end_matches('/')
    }
}

/// How suggested names are built: a template such as `{team}-{purpose}`.
///
/// Syntax: literal text of lower-case letters, digits, `-`, `_` and `.`, and the placeholders
/// `{team}` (the owning team), `{purpose}` (the purpose; required, so that every automation gets
/// a name of its own) and `{path}` (the last part of the project or group path). Each value is
/// put in lower case with every run of other characters turned into one `-`. A placeholder
/// without a value (no team, no path) disappears with the separator next to it. At most 100
/// characters. Names never hold spaces or quotes, so they are safe as usernames and in shell
/// commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NamingConvention {
    template: String,
    parts: Vec<NamePart>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum NamePart {
    Text(String),
    Team,
    Purpose,
    Path,
}

/// A naming template that does not follow the syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("naming convention {template:?}: {reason}")]
pub struct NamingConventionError {
    pub template: String,
    pub reason: String,
}

/// The longest naming template.
pub const NAMING_TEMPLATE_MAX_CHARS: usize = 100;

impl NamingConvention {
    pub fn as_str(&self) -> &str {
        &self.template
    }

    /// The name for these values (see the type's documentation for the rules).
    pub fn render(&self, team: Option<&str>, purpose: &str, path: Option<&str>) -> String {
        let name: String = self
            .parts
            .iter()
            .map(|part| match part {
                NamePart::Text(text) => text.clone(),
                NamePart::Team => slug(team.unwrap_or_default()),
                NamePart::Purpose => slug(purpose),
                NamePart::Path => slug(path.unwrap_or_default()),
            })
            .collect();
        let name = tidy_separators(&name);
        tidy_separators(&name.chars().take(NAME_MAX_CHARS).collect::<String>())
    }

    /// Whether `name` follows the convention: only lower-case letters, digits, `-`, `_` and `.`;
    /// the template's literal text in its order; and, where the template holds `{team}` and the
    /// owner team is known, the team's name (as the template writes it). `Err` says what is off.
    pub fn check(&self, name: &str, team: Option<&str>) -> Result<(), String> {
        if let Some(bad) = name.chars().find(|c| !is_name_char(*c)) {
            return Err(format!(
                "{bad:?} is not in the convention: names hold lower-case letters, digits, '-', '_' and '.'"
            ));
        }
        let mut rest = name;
        for part in &self.parts {
            match part {
                NamePart::Text(text) if !text.is_empty() => match rest.find(text.as_str()) {
                    Some(at) => rest = &rest[at + text.len()..],
                    None => {
                        return Err(format!(
                            "it lacks {text:?}, which the convention {} puts in",
                            self.template
                        ));
                    }
                },
                NamePart::Team => {
                    let team = team.map(slug).filter(|team| !team.is_empty());
                    if let Some(team) = team.filter(|team| !name.contains(team.as_str())) {
                        return Err(format!("it does not name its team ({team}), as {} does", self.template));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn parse_parts(template: &str) -> Result<Vec<NamePart>, String> {
        let mut parts = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let end = after.find('}').ok_or("a '{' is never closed")?;
                parts.push(match &after[..end] {
                    "team" => NamePart::Team,
                    "purpose" => NamePart::Purpose,
                    "path" => NamePart::Path,
                    other => {
                        return Err(format!(
                            "{{{other}}} is not a placeholder: use {{team}}, {{purpose}} or {{path}}"
                        ));
                    }
                });
                rest = &after[end + 1..];
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                let text = &rest[..end];
                if let Some(bad) = text.chars().find(|c| !is_name_char(*c)) {
                    return Err(format!(
                        "{bad:?} is not allowed: use lower-case letters, digits, '-', '_' and '.' around the \
                         placeholders"
                    ));
                }
                parts.push(NamePart::Text(text.to_owned()));
                rest = &rest[end..];
            }
        }
        if !parts.contains(&NamePart::Purpose) {
            return Err("it must hold {purpose}, so that every automation gets a name of its own".to_owned());
        }
        Ok(parts)
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || is_separator(c)
}

fn is_separator(c: char) -> bool {
    matches!(c, '-' | '_' | '.')
}

/// Lower case, every run of other characters one `-`, none at the ends.
pub(crate) fn slug(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// Keeps the first of each run of separators, and none at the ends.
pub(crate) fn tidy_separators(name: &str) -> String {
    let mut tidy = String::new();
    for c in name.chars() {
        if is_separator(c) && (tidy.is_empty() || tidy.ends_with(is_separator)) {
            continue;
        }
        tidy.push(c);
    }
    tidy.trim_end_matches(is_separator).to_owned()
}

impl Default for NamingConvention {
    fn default() -> Self {
        NamingConvention {
            template: "{team}-{purpose}".to_owned(),
            parts: vec![NamePart::Team, NamePart::Text("-".to_owned()), NamePart::Purpose],
        }
    }
}

impl FromStr for NamingConvention {
    type Err = NamingConventionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let template = s.trim();
        let error = |reason: String| NamingConventionError {
            template: template.to_owned(),
            reason,
        };
        if template.chars().count() > NAMING_TEMPLATE_MAX_CHARS {
            return Err(error(format!("at most {NAMING_TEMPLATE_MAX_CHARS} characters")));
        }
        let parts = NamingConvention::parse_parts(template).map_err(error)?;
        Ok(NamingConvention {
            template: template.to_owned(),
            parts,
        })
    }
}

impl TryFrom<String> for NamingConvention {
    type Error = NamingConventionError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<NamingConvention> for String {
    fn from(convention: NamingConvention) -> Self {
        convention.template
    }
}

impl fmt::Display for NamingConvention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.template)
    }
}
