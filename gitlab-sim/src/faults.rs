//! Injected latency and faults, for the API routes: fixed or random latency, a rate of 5xx
//! answers, 429 bursts, connection resets, slow bodies, pages that end half-way, one path
//! that always fails, and writes that happen while their answer is lost.

use std::{sync::RwLock, time::Duration};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, Uri},
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures_util::stream;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::SimState;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every API request.
    pub latency_ms: u64,
    /// A random extra of up to this much.
    pub jitter_ms: u64,
    /// Share of requests answered 500/502/503 (0.0–1.0).
    pub error_rate: f64,
    /// Share of requests that start a burst of 429s.
    pub throttle_rate: f64,
    /// How many requests a 429 burst lasts.
    pub throttle_burst: u32,
    /// Share of requests whose connection is dropped before any byte of the body.
    pub reset_rate: f64,
    /// Share of responses whose body stops half-way.
    pub truncate_rate: f64,
    /// Bodies are sent in small pieces with this pause between them.
    pub slow_body_ms: u64,
    /// Requests whose path and query (as the client sent them, `/api/v4/…`) contain this text
    /// are answered 500, every time: one listing that keeps failing while the rest work.
    pub fail_path: Option<String>,
    /// Writes that are carried out while their answer is lost: see [`AfterWrite`].
    pub after_write: Option<AfterWrite>,
}

/// Writes (any method but `GET` and `HEAD`) whose path and query contain `path` are carried out
/// (the handler runs and the world changes) but the client does not get their answer: a 500 in
/// its place, or the answer held back for a while. The first `times` such writes that succeed
/// (2xx) are hit; a refused one (401, 404, 409…) changed nothing and keeps its answer, and later
/// writes are answered normally.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AfterWrite {
    /// Text the request's path and query (`/api/v4/…`, as the client sent them) contain, as
    /// [`Faults::fail_path`].
    pub path: String,
    pub answer: AfterWriteAnswer,
    /// How many matching writes lose their answer (1 unless told).
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

/// What the client gets in place of a write's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum AfterWriteAnswer {
    /// 500 `{"message":"500 Internal Server Error"}`, as when GitLab fails after committing.
    Error,
    /// The real answer, sent `ms` milliseconds late: a client with a shorter timeout gives up
    /// although the write happened.
    Hang { ms: u64 },
}

#[derive(Default)]
pub struct FaultState {
    pub faults: RwLock<Faults>,
    burst_left: std::sync::Mutex<u32>,
    /// How many more writes [`Faults::after_write`] hits.
    after_write_left: std::sync::Mutex<u32>,
}

impl FaultState {
    pub fn get(&self) -> Faults {
        self.faults.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set(&self, faults: Faults) {
        *self.burst_left.lock().unwrap_or_else(|e| e.into_inner()) = 0;
        *self.after_write_left.lock().unwrap_or_else(|e| e.into_inner()) =
            faults.after_write.as_ref().map_or(0, |after| after.times);
        *self.faults.write().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    /// Whether [`Faults::after_write`] applies to requests with this method and path.
    fn is_after_write(faults: &Faults, method: &Method, uri: &Uri) -> bool {
        faults.after_write.as_ref().is_some_and(|after| {
            !after.path.is_empty()
                && !matches!(*method, Method::GET | Method::HEAD)
                && uri.path_and_query().is_some_and(|pq| pq.as_str().contains(&after.path))
        })
    }

    /// What replaces the answer of a write that succeeded, while [`Faults::after_write`] still
    /// hits writes (counting this one).
    fn after_write(&self, faults: &Faults) -> Option<AfterWriteAnswer> {
        let after = faults.after_write.as_ref()?;
        let mut left = self.after_write_left.lock().unwrap_or_else(|e| e.into_inner());
        if *left == 0 {
            return None;
        }
        *left -= 1;
        Some(after.answer.clone())
    }

    /// Whether this request falls in a 429 burst (starting one at `throttle_rate`).
    fn throttled(&self, faults: &Faults, roll: f64) -> bool {
        let mut left = self.burst_left.lock().unwrap_or_else(|e| e.into_inner());
        if *left > 0 {
            *left -= 1;
            return true;
        }
        if roll < faults.throttle_rate {
            *left = faults.throttle_burst.saturating_sub(1);
            return true;
        }
        false
    }
}

/// A body that fails after `keep` bytes: the client sees the connection end mid-response.
fn broken_body(bytes: Bytes, keep: usize) -> Body {
    let head = bytes.slice(..keep.min(bytes.len()));
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(head),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "gitlab-sim: injected fault",
        )),
    ];
    Body::from_stream(stream::iter(chunks))
}

fn slow_body(bytes: Bytes, pause: Duration) -> Body {
    let pieces: Vec<Bytes> = bytes.chunks(512).map(Bytes::copy_from_slice).collect();
    let stream = futures_util::StreamExt::then(stream::iter(pieces), move |piece| async move {
        tokio::time::sleep(pause).await;
        Ok::<_, std::io::Error>(piece)
    });
    Body::from_stream(stream)
}

/// 500 `{"message":"500 Internal Server Error"}`, as GitLab answers an unexpected failure.
fn internal_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(serde_json::json!({"message": "500 Internal Server Error"})),
    )
        .into_response()
}

/// The path and query as the client sent them, not as `nest` left them.
fn original_uri(request: &Request) -> Uri {
    request
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map(|original| original.0.clone())
        .unwrap_or_else(|| request.uri().clone())
}

/// This request's latency and its four dice: throttle, error, reset, truncate.
fn roll(faults: &Faults) -> (u64, [f64; 4]) {
    let mut rng = rand::rng();
    let jitter = if faults.jitter_ms > 0 {
        rng.random_range(0..=faults.jitter_ms)
    } else {
        0
    };
    let rolls: [f64; 4] = [rng.random(), rng.random(), rng.random(), rng.random()];
    (faults.latency_ms + jitter, rolls)
}

pub async fn inject(State(state): State<SimState>, request: Request, next: Next) -> Response {
    let faults = state.faults.get();
    if faults == Faults::default() {
        return next.run(request).await;
    }
    let uri = original_uri(&request);
    if let Some(text) = faults.fail_path.as_deref().filter(|text| !text.is_empty())
        && uri.path_and_query().is_some_and(|pq| pq.as_str().contains(text))
    {
        return internal_error();
    }
    let (delay, rolls) = roll(&faults);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if state.faults.throttled(&faults, rolls[0]) {
        let mut response = (StatusCode::TOO_MANY_REQUESTS, "Retry later\n").into_response();
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from_static("1"));
        return response;
    }
    if rolls[1] < faults.error_rate {
        let status = [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::SERVICE_UNAVAILABLE,
        ][(rolls[1] * 1_000_000.0) as usize % 3];
        return (status, axum::Json(serde_json::json!({"message": format!("{status}")}))).into_response();
    }
    let is_after_write = FaultState::is_after_write(&faults, request.method(), &uri);
    let response = next.run(request).await;
    // The write is done; only its answer is lost.
    if is_after_write && response.status().is_success() {
        match state.faults.after_write(&faults) {
            None => {}
            Some(AfterWriteAnswer::Error) => return internal_error(),
            Some(AfterWriteAnswer::Hang { ms }) => tokio::time::sleep(Duration::from_millis(ms)).await,
        }
    }
    let reset = rolls[2] < faults.reset_rate;
    let truncate = rolls[3] < faults.truncate_rate;
    if !reset && !truncate && faults.slow_body_ms == 0 {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let body = if reset {
        broken_body(bytes, 0)
    } else if truncate {
        let half = bytes.len() / 2;
        broken_body(bytes, half)
    } else {
        slow_body(bytes, Duration::from_millis(faults.slow_body_ms))
    };
    let mut response = Response::from_parts(parts, body);
    response.headers_mut().remove("content-length");
    response
}
