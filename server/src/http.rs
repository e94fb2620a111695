//! The HTTP surface: pages and server functions (Leptos), the wasm bundle and stylesheet, health.

use std::{path::Path, sync::LazyLock};

use app::{App, db::Repo, error::AppError, shell, state::AppState};
use axum::{
    Extension, Json, Router,
    body::Body,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    middleware,
    response::Response,
    routing::get,
};
use leptos::prelude::provide_context;
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use serde_json::{Value, json};
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer, trace::TraceLayer};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

use crate::auth::{self, AuthState, session_store::DbSessionStore};

/// How sessions behave: the idle timeout, and whether cookies are `Secure` (served over https).
#[derive(Debug, Clone, Copy)]
pub struct Sessions {
    pub idle_timeout: std::time::Duration,
    pub secure: bool,
}

/// The app's routes, listed once per process. Leptos suppresses resource loading process-wide
/// while it walks the app to list them (leptos-rs/leptos#4773): a page whose resource first ran in
/// that window, in another server of the same process, never finished.
static ROUTES: LazyLock<Vec<AxumRouteListing>> = LazyLock::new(|| generate_route_list(App));

pub fn router(
    state: AppState,
    auth: AuthState,
    sessions: Sessions,
    site_root: &Path,
    metrics: Option<crate::metrics::Metrics>,
) -> Router {
    let routes = ROUTES.clone();
    // The bundle's names do not change between builds, so browsers revalidate; the server
    // answers with the precompressed `.br`/`.gz` files `cargo xtask build` wrote.
    let bundle = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .service(
            ServeDir::new(site_root.join("pkg"))
                .precompressed_br()
                .precompressed_gzip(),
        );

    let mut router = Router::new();
    if let Some(metrics) = metrics.as_ref().filter(|metrics| metrics.on_app_address()) {
        router = router.merge(metrics.routes());
    }
    let router = router
        .route("/healthz", get(healthz))
        .nest_service("/pkg", bundle)
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .merge(auth::routes(auth.sign_in_rate).with_state((state.clone(), auth.clone())))
        .merge(crate::account::routes())
        .merge(crate::inventory::routes())
        .merge(crate::review::routes())
        .merge(crate::alerts::routes::routes())
        .merge(crate::requests::routes())
        .merge(crate::recertification::routes())
        .merge(crate::api::routes())
        .merge(crate::calendar::routes(state.clone(), auth.public_url.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::map_response(server_fn_error_status))
        .layer(middleware::from_fn_with_state(
            (open_server_fns(), std::sync::Arc::new(auth.public_url.clone())),
            auth::require_sign_in,
        ))
        // Calendar apps send the API key in the URL: it becomes a header before the gate reads it.
        .layer(middleware::from_fn(crate::calendar::key_from_query))
        .layer(middleware::from_fn_with_state(auth, auth::refuse_cross_site))
        .layer(Extension(state.clone()))
        .layer(session_layer(state.repo.clone(), sessions))
        .layer(middleware::from_fn_with_state(sessions.secure, security_headers))
        // Spans name the path, not the query: a query can carry what a person typed (the wizard's
        // answers), and a pasted secret must not reach the logs.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<Body>| {
            tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state);
    match metrics {
        // Outermost, so it times what every layer adds; the matched route is known by then.
        Some(metrics) => router.layer(middleware::from_fn_with_state(metrics, crate::metrics::track)),
        None => router,
    }
}

/// Cookie `ti_session`: `HttpOnly`, `SameSite=Lax`, `Secure` over https; it ends after the idle
/// timeout without requests (the extractor renews it at most every five minutes, so a page view
/// does not write).
fn session_layer(repo: Repo, sessions: Sessions) -> SessionManagerLayer<DbSessionStore> {
    let idle = tower_sessions::cookie::time::Duration::seconds(
        i64::try_from(sessions.idle_timeout.as_secs()).unwrap_or(i64::MAX / 2),
    );
    SessionManagerLayer::new(DbSessionStore::new(repo))
        .with_name("ti_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(sessions.secure)
        .with_expiry(Expiry::OnInactivity(idle))
}

/// The paths the sign-in gate lets through: the one server function anyone may call ("who am
/// I"), and `/metrics`, which checks its own bearer token (and is no route when metrics are off).
fn open_server_fns() -> std::sync::Arc<[&'static str]> {
    use leptos::server_fn::ServerFn;
    std::sync::Arc::from([app::server::account::CurrentUser::PATH, "/metrics"])
}

/// What every response carries: no MIME sniffing, no framing, the referrer only to this site,
/// HSTS when served over https, and a Content-Security-Policy. Pages rendered by Leptos set their
/// own policy with the response's nonce (`app::routes::content_security_policy`); everything else
/// (the JSON API, the sign-in pages, the bundle) gets one that runs no script at all.
async fn security_headers(
    State(https): State<bool>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ));
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// Server functions answer every error with a 500; this gives each [`AppError`] its own status
/// (422 for bad arguments, 403 for a refusal, …), keeping the JSON body the client decodes.
async fn server_fn_error_status(response: Response) -> Response {
    if !response.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, 1024 * 1024).await {
        Ok(bytes) => bytes,
        Err(_) => return Response::from_parts(parts, Body::empty()),
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = error.status_code();
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// `200 {"status":"ok","database":{…}}` when the database answers, `503` when it does not.
async fn healthz(State(repo): State<Repo>) -> (StatusCode, Json<Value>) {
    let backend = repo.backend();
    match repo.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({"status": "ok", "database": {"backend": backend, "status": "ok"}})),
        ),
        Err(error) => {
            tracing::warn!(error.message = %error, "health check: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": {"backend": backend, "status": "unreachable"}})),
            )
        }
    }
}
