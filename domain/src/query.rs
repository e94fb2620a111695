//! The inventory's view: filters, sort and page as they read and write in the URL, held to the
//! limits every entry point shares, and the page of tokens that answers them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

use crate::{AccessLevel, ExpiryWindow, ParseError, Scope, TokenKind, TokenStatus, TokenSummary, enums::all};

/// A parameter of the inventory's view that cannot be read or is out of its limits: which one,
/// and why (the app answers it with a 422 naming the parameter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct QueryError {
    pub field: String,
    pub message: String,
}

impl QueryError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        QueryError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// `name=value&…` for a URL's query, encoded as a browser encodes a GET form.
pub fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Rows per page of the inventory.
pub const PER_PAGE: u32 = 50;

/// Which column the inventory is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(Display, EnumString, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case", parse_err_ty = ParseError, parse_err_fn = Self::unknown)]
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
    pub const ALL: [TokenSort; 9] = all(Self::VARIANTS);

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    fn unknown(value: &str) -> ParseError {
        ParseError::new("column to sort by", value)
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
    /// Tokens expiring on or after this date (`expires_from`, `YYYY-MM-DD`).
    pub expires_from: Option<NaiveDate>,
    /// Tokens expiring on or before this date (`expires_to`): with `expires_from`, a week of the
    /// expiry timeline.
    pub expires_to: Option<NaiveDate>,
    /// The owner team (set by a person, or inferred from the group path).
    pub team: Option<i64>,
    /// Tokens that have this scope.
    pub scope: Option<Scope>,
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
    /// Count the matching tokens exactly, however long it takes (`count=exact`); otherwise the
    /// inventory's page may say "about N" where an exact count is not quick (see
    /// [`TokenPage::estimated`]).
    pub exact_count: bool,
}

/// URL parameters as the query reads them: trimmed, an empty one left out, and a value that
/// does not parse refused with the parameter's name.
pub(crate) struct Params<F>(pub(crate) F);

impl<'a, F: Fn(&str) -> Option<&'a str>> Params<F> {
    pub(crate) fn get(&self, name: &str) -> Option<&'a str> {
        (self.0)(name).map(str::trim).filter(|value| !value.is_empty())
    }

    /// A value read by `parse`; `refusal` says why one that does not parse is refused.
    pub(crate) fn read<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
        refusal: impl Fn(&str) -> String,
    ) -> Result<Option<T>, QueryError> {
        self.get(name)
            .map(|value| parse(value).ok_or_else(|| QueryError::new(name, refusal(value))))
            .transpose()
    }

    /// A value of one of the domain's named enums, refused with its own message.
    pub(crate) fn parsed<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, QueryError>
    where
        T::Err: std::fmt::Display,
    {
        self.get(name)
            .map(|value| value.parse::<T>().map_err(|e| QueryError::new(name, e.to_string())))
            .transpose()
    }

    /// `page`: from 1, the first when left out.
    pub(crate) fn page(&self) -> Result<u32, QueryError> {
        self.read(
            "page",
            |value| value.parse::<u32>().ok().filter(|page| *page >= 1),
            |value| format!("{value:?} is not a page number"),
        )
        .map(|page| page.unwrap_or(1))
    }

    /// A date written `YYYY-MM-DD`.
    pub(crate) fn date(&self, name: &str) -> Result<Option<NaiveDate>, QueryError> {
        self.read(
            name,
            |value| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok(),
            |value| format!("{value:?} is not a date written YYYY-MM-DD"),
        )
    }

    /// A yes-or-no parameter: `1`, `true`, `on` or `0`, `false`, `off`.
    pub(crate) fn flag(&self, name: &str) -> Result<bool, QueryError> {
        self.read(
            name,
            |value| match value {
                "0" | "false" | "off" => Some(false),
                "1" | "true" | "on" => Some(true),
                _ => None,
            },
            |value| format!("{value:?} is neither 1 nor 0"),
        )
        .map(|flag| flag.unwrap_or(false))
    }
}

impl TokenQuery {
    /// Reads the query from URL parameters (`q`, `kind`, `expiry`, `expires_from`, `expires_to`, `team`, `scope`, `role`,
    /// `status`, `no_owner`, `no_purpose`, `sort`, `dir`, `page`, `per_page`, `count`); an empty
    /// parameter means "any".
    /// Unknown values are refused with the parameter's name.
    pub fn from_params<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, QueryError> {
        let params = Params(get);
        let query = TokenQuery {
            search: params.get("q").map(str::to_owned),
            kind: params.parsed("kind")?,
            expiry: params.parsed("expiry")?,
            expires_from: params.date("expires_from")?,
            expires_to: params.date("expires_to")?,
            team: params.read(
                "team",
                |value| value.parse::<i64>().ok(),
                |value| format!("{value:?} is not a team"),
            )?,
            scope: params.parsed("scope")?,
            role: params.read(
                "role",
                |value| AccessLevel::try_from(value.parse::<i32>().ok()?).ok(),
                |value| format!("{value:?} is not a GitLab role"),
            )?,
            status: params.parsed("status")?,
            no_owner: params.flag("no_owner")?,
            no_purpose: params.flag("no_purpose")?,
            sort: params
                .read(
                    "sort",
                    |value| value.parse().ok(),
                    |value| format!("{value:?} is not a column to sort by"),
                )?
                .unwrap_or_default(),
            descending: params
                .read(
                    "dir",
                    |value| match value {
                        "asc" => Some(false),
                        "desc" => Some(true),
                        _ => None,
                    },
                    |value| format!("{value:?} is neither asc nor desc"),
                )?
                .unwrap_or(false),
            page: params.page()?,
            per_page: params.read(
                "per_page",
                |value| value.parse::<u32>().ok(),
                |value| format!("{value:?} is not 1 to {MAX_PER_PAGE}"),
            )?,
            exact_count: params
                .read(
                    "count",
                    |value| (value == "exact").then_some(true),
                    |value| format!("{value:?} is not \"exact\""),
                )?
                .unwrap_or(false),
        };
        query.validate()?;
        Ok(query)
    }

    /// The limits every entry point holds a query to, whether it came from the URL
    /// ([`from_params`](Self::from_params): pages and the JSON API) or as a server function's
    /// argument (`list_tokens`, which a script can call with any JSON): 1 to 100 rows a page,
    /// search words of at most 200 characters and no control characters (the scope is one of
    /// GitLab's by its type), an expiry range that does not end before it begins. A refusal is a
    /// 422 naming the parameter.
    pub fn validate(&self) -> Result<(), QueryError> {
        if let (Some(from), Some(to)) = (self.expires_from, self.expires_to)
            && to < from
        {
            return Err(QueryError::new(
                "expires_to",
                format!("{to} is before expires_from ({from})"),
            ));
        }
        if let Some(per_page) = self.per_page
            && !(1..=MAX_PER_PAGE).contains(&per_page)
        {
            return Err(QueryError::new(
                "per_page",
                format!("{per_page} is not 1 to {MAX_PER_PAGE}"),
            ));
        }
        if let Some(search) = &self.search {
            if search.chars().count() > MAX_SEARCH_CHARS {
                return Err(QueryError::new(
                    "q",
                    format!("search words are limited to {MAX_SEARCH_CHARS} characters"),
                ));
            }
            if search.chars().any(char::is_control) {
                return Err(QueryError::new("q", "search words cannot hold control characters"));
            }
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
        if let Some(from) = self.expires_from {
            pairs.push(("expires_from", from.to_string()));
        }
        if let Some(to) = self.expires_to {
            pairs.push(("expires_to", to.to_string()));
        }
        if let Some(team) = self.team {
            pairs.push(("team", team.to_string()));
        }
        if let Some(scope) = self.scope {
            pairs.push(("scope", scope.as_str().to_owned()));
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
        if self.exact_count {
            pairs.push(("count", "exact".to_owned()));
        }
        query_string(pairs.iter().map(|(name, value)| (*name, value.as_str())))
    }

    /// Rows per page.
    pub fn limit(&self) -> u32 {
        self.per_page.unwrap_or(PER_PAGE).max(1)
    }

    pub fn offset(&self) -> u64 {
        u64::from(self.page.max(1) - 1) * u64::from(self.limit())
    }

    /// The filters alone: the sort, the page and the counting as they are by default.
    pub fn filters(&self) -> TokenQuery {
        TokenQuery {
            sort: TokenSort::default(),
            descending: false,
            page: 1,
            per_page: None,
            exact_count: false,
            ..self.clone()
        }
    }

    /// Whether anything is filtered out.
    pub fn is_filtered(&self) -> bool {
        self.filters()
            != TokenQuery {
                page: 1,
                ..TokenQuery::default()
            }
    }
}

/// `n` with a comma between thousands: `1,012,867`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// One page of the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPage {
    pub tokens: Vec<TokenSummary>,
    /// Tokens matching the filters, on every page.
    pub total: u64,
    /// `total` is an estimate, from a sample: counting exactly was not quick (a million tokens and
    /// a filter most of them match, the first time after a change). The page says "about", and
    /// links to the same view with [`TokenQuery::exact_count`].
    #[serde(default)]
    pub estimated: bool,
    pub page: u32,
    pub per_page: u32,
    /// The server's date, so relative dates read the same on the server and in the browser.
    pub today: NaiveDate,
    /// The query string of this view for the export links, when the caller may export it
    /// (security, or the lead of the team the view is filtered to).
    #[serde(default)]
    pub export: Option<String>,
    /// Every team, for the team filter: read with the page, at the same data version.
    #[serde(default)]
    pub teams: Vec<crate::TeamRef>,
}

impl TokenPage {
    /// The total as the page says it: exact, or "about" the estimate rounded to two significant
    /// digits, with a comma between thousands.
    pub fn total_label(&self) -> String {
        if !self.estimated {
            return self.total.to_string();
        }
        let mut unit = 1;
        while self.total / unit >= 100 {
            unit *= 10;
        }
        let rounded = (self.total + unit / 2) / unit * unit;
        format!("about {}", thousands(rounded))
    }

    pub fn page_count(&self) -> u32 {
        let pages = self.total.div_ceil(u64::from(self.per_page.max(1)));
        u32::try_from(pages).unwrap_or(u32::MAX).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<TokenQuery, QueryError> {
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
    fn an_expiry_date_range_reads_and_writes_back_and_is_checked() {
        let query = parse(&[
            ("expires_from", "2026-12-07"),
            ("expires_to", "2026-12-13"),
            ("team", "2"),
        ])
        .expect("valid query");
        assert_eq!(query.expires_from, "2026-12-07".parse().ok());
        assert_eq!(query.expires_to, "2026-12-13".parse().ok());
        let url = query.to_query_string();
        assert_eq!(url, "expires_from=2026-12-07&expires_to=2026-12-13&team=2");
        let pairs: Vec<(&str, &str)> = url.split('&').filter_map(|pair| pair.split_once('=')).collect();
        assert_eq!(parse(&pairs), Ok(query));
        // One end alone, and one day, are ranges too.
        assert!(parse(&[("expires_to", "2027-01-01")]).is_ok());
        assert!(parse(&[("expires_from", "2027-01-01"), ("expires_to", "2027-01-01")]).is_ok());
        for (name, bad) in [
            ("expires_from", "2026-13-01"),
            ("expires_from", "tomorrow"),
            ("expires_to", "2026-02-30"),
            ("expires_to", "07/12/2026"),
        ] {
            let error = parse(&[(name, bad)]).expect_err(bad);
            assert_eq!(error.field, name);
            assert!(error.message.contains("YYYY-MM-DD"), "{error}");
        }
        let error = parse(&[("expires_from", "2026-12-13"), ("expires_to", "2026-12-07")]).expect_err("backwards");
        assert_eq!(error.field, "expires_to");
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
        assert_eq!(query.scope, Some(crate::Scope::ReadApi));
        assert_eq!(query.role, Some(crate::AccessLevel::Maintainer));
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
                Err(QueryError { field: f, .. }) => assert_eq!(f, field),
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
            estimated: false,
            page: 1,
            per_page: 50,
            today: NaiveDate::MIN,
            export: None,
            teams: vec![],
        };
        assert_eq!(page(0).page_count(), 1);
        assert_eq!(page(50).page_count(), 1);
        assert_eq!(page(51).page_count(), 2);
    }

    #[test]
    fn an_estimated_total_says_about_and_is_rounded_to_two_digits() {
        let label = |total, estimated| {
            TokenPage {
                tokens: vec![],
                total,
                estimated,
                page: 1,
                per_page: 50,
                today: NaiveDate::MIN,
                export: None,
                teams: vec![],
            }
            .total_label()
        };
        assert_eq!(label(843_517, false), "843517");
        assert_eq!(label(843_517, true), "about 840,000");
        assert_eq!(label(1_049_999, true), "about 1,000,000");
        assert_eq!(label(12_345, true), "about 12,000");
        assert_eq!(label(97, true), "about 97");
        assert_eq!(label(0, true), "about 0");
    }

    #[test]
    fn count_exact_is_read_and_written_and_is_not_a_filter() {
        let parse = |pairs: &[(&str, &str)]| {
            TokenQuery::from_params(|name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v))
        };
        let exact = parse(&[("q", "bot"), ("count", "exact")]).expect("reads");
        assert!(exact.exact_count);
        assert_eq!(exact.to_query_string(), "q=bot&count=exact");
        assert_eq!(exact.filters(), parse(&[("q", "bot")]).expect("reads").filters());
        let refused = parse(&[("count", "roughly")]).expect_err("refused");
        assert_eq!(refused.field, "count");
        assert!(!parse(&[("count", "exact")]).expect("reads").is_filtered());
        assert!(parse(&[("kind", "deploy")]).expect("reads").is_filtered());
    }
}
