//! GitLab's authenticated API rate limit, per user, in one-minute windows, with its headers.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

use crate::model::Id;

/// GitLab.com's limit for authenticated API requests: 2,000 a minute.
pub const DEFAULT_PER_MINUTE: u32 = 2_000;

pub struct RateLimiter {
    per_minute: Mutex<u32>,
    windows: Mutex<HashMap<Id, (u64, u32)>>,
}

pub struct Decision {
    limit: u32,
    observed: u32,
    reset: u64,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute: Mutex::new(per_minute),
            windows: Mutex::new(HashMap::new()),
        }
    }

    pub fn set_limit(&self, per_minute: u32) {
        *self.per_minute.lock().unwrap_or_else(|e| e.into_inner()) = per_minute;
    }

    pub fn limit(&self) -> u32 {
        *self.per_minute.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn check(&self, user: Id) -> Decision {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let window = now / 60;
        let limit = self.limit();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let entry = windows.entry(user).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        Decision {
            limit,
            observed: entry.1,
            reset: (window + 1) * 60,
        }
    }
}

impl Decision {
    /// A 429 like GitLab's when the window is used up.
    pub fn refusal(&self) -> Option<Response> {
        if self.observed <= self.limit {
            return None;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let retry_after = self.reset.saturating_sub(now).max(1);
        let mut response = (StatusCode::TOO_MANY_REQUESTS, "Retry later\n").into_response();
        self.annotate(response.headers_mut());
        let headers = response.headers_mut();
        headers.insert("retry-after", number(retry_after));
        let reset_time = chrono::DateTime::from_timestamp(self.reset as i64, 0)
            .map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
            .unwrap_or_default();
        if let Ok(value) = HeaderValue::from_str(&reset_time) {
            headers.insert("ratelimit-resettime", value);
        }
        Some(response)
    }

    pub fn annotate(&self, headers: &mut HeaderMap) {
        headers.insert("ratelimit-name", HeaderValue::from_static("throttle_authenticated_api"));
        headers.insert("ratelimit-limit", number(self.limit));
        headers.insert("ratelimit-observed", number(self.observed));
        headers.insert("ratelimit-remaining", number(self.limit.saturating_sub(self.observed)));
        headers.insert("ratelimit-reset", number(self.reset));
    }
}

fn number(n: impl Into<u64>) -> HeaderValue {
    HeaderValue::from(n.into())
}
