//! The inventory's server functions and the query they answer.

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    domain::{ExpiryWindow, TokenKind, TokenSummary},
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
    Expires,
    LastUsed,
}

impl TokenSort {
    pub const ALL: [TokenSort; 5] = [
        TokenSort::Name,
        TokenSort::Kind,
        TokenSort::Path,
        TokenSort::Expires,
        TokenSort::LastUsed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenSort::Name => "name",
            TokenSort::Kind => "kind",
            TokenSort::Path => "path",
            TokenSort::Expires => "expires",
            TokenSort::LastUsed => "last_used",
        }
    }
}

/// What the inventory shows: filters, sort and page, exactly as they stand in the URL.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TokenQuery {
    /// Words to find in the name, path or account.
    pub search: Option<String>,
    pub kind: Option<TokenKind>,
    pub expiry: Option<ExpiryWindow>,
    pub sort: TokenSort,
    pub descending: bool,
    /// 1-based.
    pub page: u32,
}

impl TokenQuery {
    /// Reads the query from URL parameters (`q`, `kind`, `expiry`, `sort`, `dir`, `page`);
    /// an empty parameter means "any". Unknown values are refused with the parameter's name.
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
        let search = param("q").map(str::to_owned);
        if search.as_ref().is_some_and(|q| q.chars().count() > 200) {
            return Err(AppError::invalid("q", "search words are limited to 200 characters"));
        }
        Ok(TokenQuery {
            search,
            kind,
            expiry,
            sort,
            descending,
            page,
        })
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
        if self.sort != TokenSort::default() {
            pairs.push(("sort", self.sort.as_str().to_owned()));
        }
        if self.descending {
            pairs.push(("dir", "desc".to_owned()));
        }
        if self.page > 1 {
            pairs.push(("page", self.page.to_string()));
        }
        pairs
            .into_iter()
            .map(|(name, value)| format!("{name}={}", encode_query_value(&value)))
            .collect::<Vec<_>>()
            .join("&")
    }

    pub fn offset(&self) -> u64 {
        u64::from(self.page.max(1) - 1) * u64::from(PER_PAGE)
    }
}

fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
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
    crate::auth::require_viewer().await?;
    let state = expect_context::<crate::state::AppState>();
    let today = chrono::Utc::now().date_naive();
    let (tokens, total) = state.repo.list_tokens(&query, today).await?;
    Ok(TokenPage {
        tokens,
        total,
        page: query.page.max(1),
        per_page: PER_PAGE,
        today,
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
    fn bad_parameters_are_refused_by_name() {
        let cases = [
            ("kind", "pat", "kind"),
            ("expiry", "8d", "expiry"),
            ("sort", "secret", "sort"),
            ("dir", "up", "dir"),
            ("page", "0", "page"),
            ("page", "-1", "page"),
            ("page", "two", "page"),
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
        };
        assert_eq!(page(0).page_count(), 1);
        assert_eq!(page(50).page_count(), 1);
        assert_eq!(page(51).page_count(), 2);
    }
}
