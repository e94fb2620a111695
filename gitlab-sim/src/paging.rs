//! GitLab's pagination: offset (`page`, `per_page` ≤ 100, `X-*` headers and `Link`) and keyset
//! (`pagination=keyset&order_by=id&sort=asc`, `Link rel="next"` with `id_after`).

use axum::{
    Json,
    http::{HeaderMap, HeaderValue, Uri},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::error::ApiError;

/// Above this many records GitLab leaves out `X-Total`, `X-Total-Pages` and `rel="last"`.
const COUNT_LIMIT: usize = 10_000;
pub const MAX_PER_PAGE: usize = 100;
const DEFAULT_PER_PAGE: usize = 20;

/// The request's query parameters, and what it asked of paging.
#[derive(Debug, Clone)]
pub struct Query {
    pub params: BTreeMap<String, String>,
    pub base_url: String,
    pub path: String,
}

impl Query {
    pub fn new(uri: &Uri, headers: &HeaderMap) -> Result<Self, ApiError> {
        let params: BTreeMap<String, String> = match uri.query() {
            Some(query) => serde_urlencoded::from_str::<Vec<(String, String)>>(query)
                .map_err(|_| ApiError::BadRequest("the query string is not valid".to_owned()))?
                .into_iter()
                .collect(),
            None => BTreeMap::new(),
        };
        let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost");
        Ok(Query {
            params,
            base_url: format!("http://{host}"),
            path: uri.path().to_owned(),
        })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// A boolean parameter as GitLab reads them (`true`/`false`, `1`/`0`).
    pub fn flag(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some("true" | "1" | "yes") => Ok(Some(true)),
            Some("false" | "0" | "no") => Ok(Some(false)),
            Some(_) => Err(ApiError::BadRequest(format!("{name} is invalid"))),
        }
    }

    pub fn number(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| ApiError::BadRequest(format!("{name} is invalid")))
            })
            .transpose()
    }

    fn per_page(&self) -> Result<usize, ApiError> {
        Ok(match self.number("per_page")? {
            None | Some(0) => DEFAULT_PER_PAGE,
            Some(n) => (n as usize).min(MAX_PER_PAGE),
        })
    }

    fn link(&self, overrides: &[(&str, String)]) -> String {
        let mut params = self.params.clone();
        for (name, value) in overrides {
            params.insert((*name).to_owned(), value.clone());
        }
        let query = serde_urlencoded::to_string(&params).unwrap_or_default();
        format!("{}{}?{query}", self.base_url, self.path)
    }

    pub fn is_keyset(&self) -> bool {
        self.get("pagination") == Some("keyset")
    }
}

fn header(value: impl ToString) -> HeaderValue {
    HeaderValue::from_str(&value.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// One page of `items` (already filtered and ordered), with GitLab's headers. Only the page's
/// items are rendered, and counting stops past 10,000 records, as GitLab's does.
pub fn offset<T, R: Serialize>(
    query: &Query,
    items: impl Iterator<Item = T>,
    render: impl Fn(T) -> R,
) -> Result<Response, ApiError> {
    let per_page = query.per_page()?;
    let page = query.number("page")?.unwrap_or(1).max(1) as usize;
    let start = (page - 1).saturating_mul(per_page);
    let end = start.saturating_add(per_page);
    let stop_counting_at = COUNT_LIMIT.max(end) + 1;
    let mut seen = 0usize;
    let mut slice = Vec::with_capacity(per_page);
    let (lower, upper) = items.size_hint();
    if upper == Some(lower) {
        // An unfiltered listing knows its length: no need to walk it to count.
        seen = lower.min(stop_counting_at);
        slice.extend(items.skip(start).take(per_page).map(render));
    } else {
        for item in items {
            if seen >= start && seen < end {
                slice.push(render(item));
            }
            seen += 1;
            if seen >= stop_counting_at {
                break;
            }
        }
    }
    let total = (seen < stop_counting_at && seen <= COUNT_LIMIT).then_some(seen);
    let has_next = seen > end;
    let total_pages = total.map(|total| total.div_ceil(per_page).max(1));

    let mut response = Json(slice).into_response();
    let headers = response.headers_mut();
    headers.insert("x-page", header(page));
    headers.insert("x-per-page", header(per_page));
    let next = has_next.then_some(page + 1);
    let prev = (page > 1).then_some(page - 1);
    headers.insert("x-next-page", next.map(header).unwrap_or_else(|| header("")));
    headers.insert("x-prev-page", prev.map(header).unwrap_or_else(|| header("")));
    let page_link = |n: usize| query.link(&[("page", n.to_string()), ("per_page", per_page.to_string())]);
    let mut links = Vec::new();
    if let Some(prev) = prev {
        links.push(format!("<{}>; rel=\"prev\"", page_link(prev)));
    }
    if let Some(next) = next {
        links.push(format!("<{}>; rel=\"next\"", page_link(next)));
    }
    links.push(format!("<{}>; rel=\"first\"", page_link(1)));
    if let (Some(total), Some(total_pages)) = (total, total_pages) {
        headers.insert("x-total", header(total));
        headers.insert("x-total-pages", header(total_pages));
        links.push(format!("<{}>; rel=\"last\"", page_link(total_pages)));
    }
    headers.insert("link", header(links.join(", ")));
    Ok(response)
}

/// The `id_after` of a keyset request (0 for the first page).
pub fn id_after(query: &Query) -> Result<u64, ApiError> {
    Ok(query.number("id_after")?.unwrap_or(0))
}

/// Keyset pagination by id, ascending: `items` must already start after [`id_after`]; a
/// `Link rel="next"` is sent while more remain.
pub fn keyset<T, R: Serialize>(
    query: &Query,
    items: impl Iterator<Item = (u64, T)>,
    render: impl Fn(T) -> R,
) -> Result<Response, ApiError> {
    if query.get("order_by").is_some_and(|o| o != "id") || query.get("sort").is_some_and(|s| s != "asc") {
        return Err(ApiError::Validation(
            "Keyset pagination is only supported here with order_by=id and sort=asc".to_owned(),
        ));
    }
    let per_page = query.per_page()?;
    let mut items = items.peekable();
    let mut slice = Vec::with_capacity(per_page);
    let mut last_id = None;
    while slice.len() < per_page {
        match items.next() {
            Some((id, item)) => {
                last_id = Some(id);
                slice.push(render(item));
            }
            None => break,
        }
    }
    let more = items.peek().is_some();
    let mut response = Json(slice).into_response();
    if let (true, Some(last_id)) = (more, last_id) {
        let link = query.link(&[("id_after", last_id.to_string()), ("per_page", per_page.to_string())]);
        response
            .headers_mut()
            .insert("link", header(format!("<{link}>; rel=\"next\"")));
    }
    Ok(response)
}
