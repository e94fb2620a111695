//! A chat sink for the demo and tests: `POST /-/sim/chat/{channel}` takes what a Slack-compatible
//! incoming webhook takes (`{"text": …}`) and keeps it; `GET /-/sim/chat` lists what arrived, oldest
//! first (`?channel=` for one channel). Like a real incoming webhook it asks for no token (its URL
//! is the secret); nothing in it is GitLab's. Messages are kept in memory, the latest 1,000.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::SimState;

/// Messages kept at most.
const KEPT: usize = 1_000;

/// One message a webhook received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub channel: String,
    pub text: String,
    pub at: DateTime<Utc>,
}

/// What the sink holds.
#[derive(Debug, Default, Clone)]
pub struct ChatSink(Arc<Mutex<VecDeque<ChatMessage>>>);

impl ChatSink {
    pub fn messages(&self) -> Vec<ChatMessage> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    fn push(&self, message: ChatMessage) {
        let mut messages = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if messages.len() == KEPT {
            messages.pop_front();
        }
        messages.push_back(message);
    }
}

pub fn router() -> Router<SimState> {
    Router::new()
        .route("/chat", get(list))
        .route("/chat/{channel}", post(receive))
}

#[derive(Deserialize)]
struct Incoming {
    text: String,
}

async fn receive(State(state): State<SimState>, Path(channel): Path<String>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<Incoming>(&body) {
        Ok(incoming) => {
            state.chat.push(ChatMessage {
                channel,
                text: incoming.text,
                at: state.now(),
            });
            (StatusCode::OK, "ok").into_response()
        }
        // What Slack answers a payload without text.
        Err(_) => (StatusCode::BAD_REQUEST, "no_text").into_response(),
    }
}

#[derive(Deserialize)]
struct Filter {
    channel: Option<String>,
}

async fn list(State(state): State<SimState>, Query(filter): Query<Filter>) -> Json<Vec<ChatMessage>> {
    let messages = state.chat.messages();
    Json(match filter.channel {
        Some(channel) => messages.into_iter().filter(|m| m.channel == channel).collect(),
        None => messages,
    })
}
