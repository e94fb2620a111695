//! The inventory's server functions and the query they answer.

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    domain::{AccessLevel, ExpiryWindow, TeamRef, TokenDetail, TokenKind, TokenStatus, TokenSummary, Viewer},
    error::AppError,
};

/// Rows per page of the inventory.
pub const PER_PAGE: u32 = 50;

/// Which column the inventory is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenSort {
    #[default]
    Name,
    Kind,
    Path,
    Account,
    Owner,
    Purpose,
    Role,
    Expires,
    LastUsed,
}

impl TokenSort {
    pub const ALL: [TokenSort; 9] = [
        TokenSort::Name,
        TokenSort::Kind,
        TokenSort::Path,
        TokenSort::Account,
        TokenSort::Owner,
        TokenSort::Purpose,
        TokenSort::Role,
        TokenSort::Expires,
        TokenSort::LastUsed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenSort::Name => "name",
            TokenSort::Kind => "kind",
            TokenSort::Path => "path",
            TokenSort::Account => "account",
            TokenSort::Owner => "owner",
            TokenSort::Purpose => "purpose",
            TokenSort::Role => "role",
            TokenSort::Expires => "expires",
            TokenSort::LastUsed => "last_used",
        }
    }
}

/// At most this many rows a page (the JSON API's and GitLab's limit).
pub const MAX_PER_PAGE: u32 = 100;
/// Search words are at most this long.
pub const MAX_SEARCH_CHARS: usize = 200;

/// What the inventory shows: filters, sort and page, exactly as they stand in the URL.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenQuery {
    /// Words to find in the name, path, account or purpose.
    pub search: Option<String>,
    pub kind: Option<TokenKind>,
    pub expiry: Option<ExpiryWindow>,
    /// The owner team (set by a person, or inferred from the group path).
    pub team: Option<i64>,
    /// Tokens that have this scope.
    pub scope: Option<String>,
    pub role: Option<AccessLevel>,
    pub status: Option<TokenStatus>,
    /// Only tokens no team owns.
    pub no_owner: bool,
    /// Only tokens nobody has said the purpose of.
    pub no_purpose: bool,
    pub sort: TokenSort,
    pub descending: bool,
    /// 1-based.
    pub page: u32,
    /// Rows per page; the inventory's 50 when left out (the JSON API takes 1 to 100).
    pub per_page: Option<u32>,
}

impl TokenQuery {
    /// Reads the query from URL parameters (`q`, `kind`, `expiry`, `team`, `scope`, `role`,
    /// `status`, `no_owner`, `no_purpose`, `sort`, `dir`, `page`); an empty parameter means "any".
    /// Unknown values are refused with the parameter's name.
    pub fn from_params<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, AppError> {
        let param = |name: &str| get(name).map(str::trim).filter(|value| !value.is_empty());
        let kind = param("kind")
            .map(|value| value.parse::<TokenKind>())
            .transpose()
            .map_err(|e| AppError::invalid("kind", e.to_string()))?;
        let expiry = param("expiry")
            .map(|value| value.parse::<ExpiryWindow>())
            .transpose()
            .map_err(|e| AppError::invalid("expiry", e.to_string()))?;
        let team = param("team")
            .map(|value| {
                value
                    .parse::<i64>()
                    .map_err(|_| AppError::invalid("team", format!("{value:?} is not a team")))
            })
            .transpose()?;
        let scope = param("scope").map(str::to_owned);
        let role = param("role")
            .map(|value| {
                value
                    .parse::<i32>()
                    .ok()
                    .and_then(|level| AccessLevel::try_from(level).ok())
                    .ok_or_else(|| AppError::invalid("role", format!("{value:?} is not a GitLab role")))
            })
            .transpose()?;
        let status = param("status")
            .map(|value| value.parse::<TokenStatus>())
            .transpose()
            .map_err(|e| AppError::invalid("status", e.to_string()))?;
        let flag = |name: &str| -> Result<bool, AppError> {
            match param(name) {
                None | Some("0" | "false" | "off") => Ok(false),
                Some("1" | "true" | "on") => Ok(true),
                Some(value) => Err(AppError::invalid(name, format!("{value:?} is neither 1 nor 0"))),
            }
        };
        let no_owner = flag("no_owner")?;
        let no_purpose = flag("no_purpose")?;
        let sort = match param("sort") {
            None => TokenSort::default(),
            Some(value) => TokenSort::ALL
                .into_iter()
                .find(|sort| sort.as_str() == value)
                .ok_or_else(|| AppError::invalid("sort", format!("{value:?} is not a column to sort by")))?,
        };
        let descending = match param("dir") {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(value) => {
                return Err(AppError::invalid("dir", format!("{value:?} is neither asc nor desc")));
            }
        };
        let page = match param("page") {
            None => 1,
            Some(value) => value
                .parse::<u32>()
                .ok()
                .filter(|page| *page >= 1)
                .ok_or_else(|| AppError::invalid("page", format!("{value:?} is not a page number")))?,
        };
        let per_page = param("per_page")
            .map(|value| {
                value
                    .parse::<u32>()
                    .map_err(|_| AppError::invalid("per_page", format!("{value:?} is not 1 to {MAX_PER_PAGE}")))
            })
            .transpose()?;
        let search = param("q").map(str::to_owned);
        let query = TokenQuery {
            search,
            kind,
            expiry,
            team,
            scope,
            role,
            status,
            no_owner,
            no_purpose,
            sort,
            descending,
            page,
            per_page,
        };
        query.validate()?;
        Ok(query)
    }

    /// The limits every entry point holds a query to, whether it came from the URL
    /// ([`from_params`](Self::from_params): pages and the JSON API) or as a server function's
    /// argument (`list_tokens`, which a script can call with any JSON): 1 to 100 rows a page,
    /// search words of at most 200 characters and no control characters, a scope that is a
    /// GitLab scope name. A refusal is a 422 naming the parameter.
    pub fn validate(&self) -> Result<(), AppError> {
        if let Some(per_page) = self.per_page
            && !(1..=MAX_PER_PAGE).contains(&per_page)
        {
            return Err(AppError::invalid(
                "per_page",
                format!("{per_page} is not 1 to {MAX_PER_PAGE}"),
            ));
        }
        if let Some(search) = &self.search {
            if search.chars().count() > MAX_SEARCH_CHARS {
                return Err(AppError::invalid(
                    "q",
                    format!("search words are limited to {MAX_SEARCH_CHARS} characters"),
                ));
            }
            if search.chars().any(char::is_control) {
                return Err(AppError::invalid("q", "search words cannot hold control characters"));
            }
        }
        if self
            .scope
            .as_ref()
            .is_some_and(|s| s.len() > 64 || !s.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        {
            return Err(AppError::invalid(
                "scope",
                "a scope is a GitLab scope name such as read_api",
            ));
        }
        Ok(())
    }

    /// The URL query string (without `?`) that reproduces this view; defaults are left out.
    pub fn to_query_string(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(search) = &self.search {
            pairs.push(("q", search.clone()));
        }
        if let Some(kind) = self.kind {
            pairs.push(("kind", kind.as_str().to_owned()));
        }
        if let Some(expiry) = self.expiry {
            pairs.push(("expiry", expiry.as_str().to_owned()));
        }
        if let Some(team) = self.team {
            pairs.push(("team", team.to_string()));
        }
        if let Some(scope) = &self.scope {
            pairs.push(("scope", scope.clone()));
        }
        if let Some(role) = self.role {
            pairs.push(("role", (role as i32).to_string()));
        }
        if let Some(status) = self.status {
            pairs.push(("status", status.label().to_owned()));
        }
        if self.no_owner {
            pairs.push(("no_owner", "1".to_owned()));
        }
        if self.no_purpose {
            pairs.push(("no_purpose", "1".to_owned()));
        }
        if self.sort != TokenSort::default() {
            pairs.push(("sort", self.sort.as_str().to_owned()));
        }
        if self.descending {
            pairs.push(("dir", "desc".to_owned()));
        }
        if self.page > 1 {
            pairs.push(("page", self.page.to_string()));
        }
        if let Some(per_page) = self.per_page {
            pairs.push(("per_page", per_page.to_string()));
        }
        crate::query_string(pairs.iter().map(|(name, value)| (*name, value.as_str())))
    }

    /// Rows per page.
    pub fn limit(&self) -> u32 {
        self.per_page.unwrap_or(PER_PAGE).max(1)
    }

    pub fn offset(&self) -> u64 {
        u64::from(self.page.max(1) - 1) * u64::from(self.limit())
    }
}

/// One page of the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPage {
    pub tokens: Vec<TokenSummary>,
    /// Tokens matching the filters, on every page.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    /// The server's date, so relative dates read the same on the server and in the browser.
    pub today: NaiveDate,
    /// The query string of this view for the export links, when the caller may export it
    /// (security, or the lead of the team the view is filtered to).
    #[serde(default)]
    pub export: Option<String>,
}

impl TokenPage {
    pub fn page_count(&self) -> u32 {
        let pages = self.total.div_ceil(u64::from(self.per_page.max(1)));
        u32::try_from(pages).unwrap_or(u32::MAX).max(1)
    }
}

/// Lists the tokens matching `query`, one page at a time.
#[server]
pub async fn list_tokens(query: TokenQuery) -> Result<TokenPage, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    query.validate()?;
    let export = may_export(&viewer, &query).then(|| {
        TokenQuery {
            page: 1,
            per_page: None,
            ..query.clone()
        }
        .to_query_string()
    });
    let state = expect_context::<crate::state::AppState>();
    let today = chrono::Utc::now().date_naive();
    let (tokens, total) = state.repo.list_tokens(&query, today).await?;
    Ok(TokenPage {
        tokens,
        total,
        page: query.page.max(1),
        per_page: query.limit(),
        today,
        export,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<TokenQuery, AppError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        TokenQuery::from_params(|name| map.get(name).map(String::as_str))
    }

    #[test]
    fn an_empty_url_is_the_default_view() {
        assert_eq!(
            parse(&[]),
            Ok(TokenQuery {
                page: 1,
                ..TokenQuery::default()
            })
        );
        assert_eq!(
            parse(&[("kind", ""), ("q", "  ")]).map(|q| (q.kind, q.search)),
            Ok((None, None))
        );
    }

    #[test]
    fn every_parameter_round_trips_through_the_url() {
        let query = parse(&[
            ("q", "triage bot & co"),
            ("kind", "group_access"),
            ("expiry", "30d"),
            ("sort", "expires"),
            ("dir", "desc"),
            ("page", "3"),
        ])
        .expect("valid query");
        assert_eq!(query.kind, Some(TokenKind::GroupAccess));
        assert_eq!(query.expiry, Some(ExpiryWindow::Days30));
        assert_eq!(query.offset(), 100);
        let url = query.to_query_string();
        assert_eq!(
            url,
            "q=triage+bot+%26+co&kind=group_access&expiry=30d&sort=expires&dir=desc&page=3"
        );
        let decoded: Vec<(String, String)> = url
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').expect("pair");
                let v = v.replace('+', " ").replace("%26", "&");
                (k.to_owned(), v)
            })
            .collect();
        let again = parse(
            &decoded
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        );
        assert_eq!(again, Ok(query));
    }

    #[test]
    fn the_ownership_and_gitlab_filters_read_and_write_back() {
        let query = parse(&[
            ("team", "4"),
            ("scope", "read_api"),
            ("role", "40"),
            ("status", "expired"),
            ("no_owner", "1"),
            ("no_purpose", "on"),
            ("sort", "owner"),
            ("per_page", "100"),
        ])
        .expect("valid query");
        assert_eq!(query.team, Some(4));
        assert_eq!(query.scope.as_deref(), Some("read_api"));
        assert_eq!(query.role, Some(crate::domain::AccessLevel::Maintainer));
        assert_eq!(query.status, Some(TokenStatus::Expired));
        assert!(query.no_owner && query.no_purpose);
        assert_eq!(query.limit(), 100);
        let url = query.to_query_string();
        assert_eq!(
            url,
            "team=4&scope=read_api&role=40&status=expired&no_owner=1&no_purpose=1&sort=owner&per_page=100"
        );
        let pairs: Vec<(&str, &str)> = url.split('&').filter_map(|pair| pair.split_once('=')).collect();
        assert_eq!(parse(&pairs), Ok(query));
        assert_eq!(parse(&[]).map(|q| q.limit()), Ok(PER_PAGE));
    }

    #[test]
    fn bad_parameters_are_refused_by_name() {
        let cases = [
            ("kind", "pat", "kind"),
            ("expiry", "8d", "expiry"),
            ("sort", "secret", "sort"),
            ("dir", "up", "dir"),
            ("page", "0", "page"),
            ("page", "-1", "page"),
            ("page", "two", "page"),
            ("team", "platform", "team"),
            ("scope", "read api", "scope"),
            ("scope", "API", "scope"),
            ("role", "35", "role"),
            ("role", "maintainer", "role"),
            ("status", "dormant", "status"),
            ("no_owner", "yes", "no_owner"),
            ("no_purpose", "2", "no_purpose"),
            ("per_page", "0", "per_page"),
            ("per_page", "101", "per_page"),
        ];
        for (name, value, field) in cases {
            match parse(&[(name, value)]) {
                Err(AppError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{name}={value}: expected an invalid-{field} error, got {other:?}"),
            }
        }
        assert!(parse(&[("q", &"x".repeat(201))]).is_err());
    }

    #[test]
    fn page_count_rounds_up_and_is_at_least_one() {
        let page = |total| TokenPage {
            tokens: vec![],
            total,
            page: 1,
            per_page: 50,
            today: NaiveDate::MIN,
            export: None,
        };
        assert_eq!(page(0).page_count(), 1);
        assert_eq!(page(50).page_count(), 1);
        assert_eq!(page(51).page_count(), 2);
    }
}

/// One token's page: everything known, its history, and whether the caller may edit what people
/// say about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub detail: TokenDetail,
    /// (when, event, detail as JSON), oldest first.
    pub history: Vec<(chrono::DateTime<chrono::Utc>, String, String)>,
    /// Every team, for the owner choice.
    pub teams: Vec<TeamRef>,
    pub can_edit: bool,
    pub today: NaiveDate,
    /// GitLab's address, for links.
    pub gitlab_url: Option<String>,
}

/// One token with its history; anyone signed in may look.
#[server]
pub async fn get_token(id: i64) -> Result<TokenView, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    let state = expect_context::<crate::state::AppState>();
    let today = chrono::Utc::now().date_naive();
    let detail = state
        .repo
        .get_token(id, today)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("token {id}")))?;
    let history = state
        .repo
        .token_history(detail.summary.kind, detail.summary.gitlab_id)
        .await?;
    let teams = state.repo.list_teams().await?.into_iter().map(TeamRef::from).collect();
    Ok(TokenView {
        can_edit: may_edit_ownership(&viewer, &detail),
        detail,
        history,
        teams,
        today,
        gitlab_url: state.gitlab_url.clone(),
    })
}

/// The teams, for filters and choices.
#[server]
pub async fn list_team_refs() -> Result<Vec<TeamRef>, AppError> {
    crate::auth::require_viewer().await?;
    let state = expect_context::<crate::state::AppState>();
    Ok(state.repo.list_teams().await?.into_iter().map(TeamRef::from).collect())
}

/// Security exports any view; a team lead the view of a team they lead.
pub fn may_export(viewer: &Viewer, query: &TokenQuery) -> bool {
    viewer.acts_as(crate::domain::Role::Security) || query.team.is_some_and(|team| viewer.leads(team))
}

/// Security edits every token's ownership; a team lead the tokens their team owns (set or
/// inferred). Never with a read-only API key.
pub fn may_edit_ownership(viewer: &Viewer, detail: &TokenDetail) -> bool {
    if viewer.read_only {
        return false;
    }
    viewer.is_security()
        || detail
            .summary
            .owner_team
            .as_ref()
            .is_some_and(|team| viewer.leads(team.id))
}
