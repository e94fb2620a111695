//! Injected latency and faults, for the API routes: fixed or random latency, a rate of 5xx
//! answers, 429 bursts, connection resets, slow bodies, pages that end half-way, and one path
//! that always fails.

use std::{sync::RwLock, time::Duration};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderValue, StatusCode},
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
}

#[derive(Default)]
pub struct FaultState {
    pub faults: RwLock<Faults>,
    burst_left: std::sync::Mutex<u32>,
}

impl FaultState {
    pub fn get(&self) -> Faults {
        self.faults.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set(&self, faults: Faults) {
        *self.faults.write().unwrap_or_else(|e| e.into_inner()) = faults;
        *self.burst_left.lock().unwrap_or_else(|e| e.into_inner()) = 0;
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

pub async fn inject(State(state): State<SimState>, request: Request, next: Next) -> Response {
    let faults = state.faults.get();
    if faults == Faults::default() {
        return next.run(request).await;
    }
    if let Some(text) = faults.fail_path.as_deref().filter(|text| !text.is_empty()) {
        let uri = request
            .extensions()
            .get::<axum::extract::OriginalUri>()
            .map(|original| original.0.clone())
            .unwrap_or_else(|| request.uri().clone());
        if uri.path_and_query().is_some_and(|pq| pq.as_str().contains(text)) {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(serde_json::json!({"message": "500 Internal Server Error"})),
            )
                .into_response();
        }
    }
    let (delay, rolls) = {
        let mut rng = rand::rng();
        let jitter = if faults.jitter_ms > 0 {
            rng.random_range(0..=faults.jitter_ms)
        } else {
            0
        };
        let rolls: [f64; 4] = [rng.random(), rng.random(), rng.random(), rng.random()];
        (faults.latency_ms + jitter, rolls)
    };
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
    let response = next.run(request).await;
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
