//! The review queue's view, read from and written to the URL like the inventory's.

use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

use super::{FindingRule, Severity};
use crate::{ParseError, QueryError, TokenKind, enums::all, query::Params};

/// Findings a page of the queue shows.
pub const FINDINGS_PER_PAGE: u32 = 50;

/// What the queue lists: findings nobody has decided on yet (or whose decision no longer holds),
/// those decided, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
pub enum FindingState {
    #[default]
    Open,
    Decided,
    All,
}

impl FindingState {
    pub const ALL: [FindingState; 3] = all(Self::VARIANTS);

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("finding state", value)
    }

    pub fn label(self) -> &'static str {
        match self {
            FindingState::Open => "Open",
            FindingState::Decided => "Decided",
            FindingState::All => "Open and decided",
        }
    }
}

/// What a finding is about: a token of a kind, or a service account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Token(TokenKind),
    ServiceAccount,
}

impl SubjectKind {
    /// Every kind, as the filter offers them.
    pub fn all() -> impl Iterator<Item = SubjectKind> {
        TokenKind::ALL
            .into_iter()
            .map(SubjectKind::Token)
            .chain([SubjectKind::ServiceAccount])
    }

    /// As stored and in URLs: the token kind's identifier, or `service_account`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Token(kind) => kind.as_str(),
            SubjectKind::ServiceAccount => "service_account",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SubjectKind::Token(kind) => kind.label(),
            SubjectKind::ServiceAccount => "Service account",
        }
    }
}

impl std::str::FromStr for SubjectKind {
    type Err = ParseError;

    fn from_str(value: &str) -> Result<Self, ParseError> {
        if value == "service_account" {
            return Ok(SubjectKind::ServiceAccount);
        }
        value
            .parse::<TokenKind>()
            .map(SubjectKind::Token)
            .map_err(|_| ParseError::new("token kind or service account", value))
    }
}

/// The queue's filters and page, as in `/review?team=4&rule=no-expiry&page=2`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingQuery {
    pub team: Option<i64>,
    pub rule: Option<FindingRule>,
    pub kind: Option<SubjectKind>,
    pub severity: Option<Severity>,
    pub state: FindingState,
    /// From 1.
    pub page: u32,
}

impl FindingQuery {
    /// Reads the query from URL parameters (`team`, `rule`, `kind`, `severity`, `state`, `page`);
    /// an empty parameter means "any", an unknown value is refused with the parameter's name.
    pub fn from_params<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, QueryError> {
        let params = Params(get);
        Ok(FindingQuery {
            team: params.read(
                "team",
                |value| value.parse::<i64>().ok(),
                |value| format!("{value:?} is not a team"),
            )?,
            rule: params.parsed("rule")?,
            kind: params.parsed("kind")?,
            severity: params.parsed("severity")?,
            state: params.parsed("state")?.unwrap_or_default(),
            page: params.page()?,
        })
    }

    /// The view's parameters, defaults left out (the page last).
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(team) = self.team {
            pairs.push(("team", team.to_string()));
        }
        if let Some(rule) = self.rule {
            pairs.push(("rule", rule.as_str().to_owned()));
        }
        if let Some(kind) = self.kind {
            pairs.push(("kind", kind.as_str().to_owned()));
        }
        if let Some(severity) = self.severity {
            pairs.push(("severity", severity.as_str().to_owned()));
        }
        if self.state != FindingState::default() {
            pairs.push(("state", self.state.as_str().to_owned()));
        }
        if self.page > 1 {
            pairs.push(("page", self.page.to_string()));
        }
        pairs
    }

    /// The URL query string (without `?`) that reproduces this view; defaults are left out.
    pub fn to_query_string(&self) -> String {
        let pairs = self.pairs();
        crate::query_string(pairs.iter().map(|(name, value)| (*name, value.as_str())))
    }

    /// The rows to skip for this page.
    pub fn offset(&self) -> u64 {
        u64::from(self.page.max(1) - 1) * u64::from(FINDINGS_PER_PAGE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<FindingQuery, QueryError> {
        FindingQuery::from_params(|name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v))
    }

    #[test]
    fn a_view_reads_back_from_its_url() {
        let query = parse(&[
            ("team", "4"),
            ("rule", "no-expiry"),
            ("kind", "service_account"),
            ("severity", "high"),
            ("state", "all"),
            ("page", "2"),
        ])
        .expect("valid");
        assert_eq!(query.kind, Some(SubjectKind::ServiceAccount));
        let url = query.to_query_string();
        assert_eq!(
            url,
            "team=4&rule=no-expiry&kind=service_account&severity=high&state=all&page=2"
        );
        let again = FindingQuery::from_params(|name| {
            url.split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v)
        });
        assert_eq!(again, Ok(query));
        assert_eq!(
            parse(&[("kind", "deploy")]).map(|q| q.kind),
            Ok(Some(SubjectKind::Token(TokenKind::Deploy)))
        );
        assert_eq!(parse(&[]).map(|q| q.to_query_string()), Ok(String::new()));
    }

    #[test]
    fn unknown_values_are_refused_by_name() {
        for (name, value) in [
            ("rule", "bad"),
            ("kind", "robot"),
            ("severity", "urgent"),
            ("state", "x"),
            ("page", "0"),
            ("team", "x"),
        ] {
            let error = parse(&[(name, value)]).expect_err("refused");
            assert_eq!(error.field, name);
        }
    }
}
