//! The security review's findings (issue 13), each as an attacker would try it over real HTTP:
//! script in person-written text and in GitLab's names, the response headers, redirects after
//! sign-in, path tricks at the sign-in gate, the callback's text, anonymous session rows, CSV
//! formulas and the server functions' limits.

use reqwest::StatusCode;

mod common;

use common::{TestApp, builders::TokenBuilder, header, urlencode};

/// Ends a raw-text element and runs script, wherever it lands unescaped.
const PAYLOAD: &str = "</textarea></title><img src=x onerror=alert(document.domain)><script>alert(1)</script>";

/// The id of the only token, stored with `name` under the Platform team's group.
async fn one_token(app: &TestApp, name: &str) -> i64 {
    app.add_tokens(&[TokenBuilder::project(7, name, "acme/platform/api/gateway").build()])
        .await;
    app.first_page().await[0].id
}

/// No markup of the payload survives: no tag it opens, and no element it closes early.
fn assert_inert(html: &str, what: &str) {
    for raw in ["<img src=x", "<script>alert(1)", "</textarea></title>"] {
        assert!(!html.contains(raw), "{what}: `{raw}` reached the page unescaped");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn script_in_the_notes_from_the_url_is_shown_as_text() {
    let app = TestApp::spawn().await;
    let id = one_token(&app, "gateway-bot").await;
    let security = app.signed_in("sam.security").await;
    let (status, html) = security
        .get(&format!(
            "/tokens/{id}?edit=1&notes={}&purpose={}",
            urlencode(PAYLOAD),
            urlencode(PAYLOAD)
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_inert(&html, "notes from the URL");
    assert!(
        html.contains("&lt;/textarea&gt;&lt;/title&gt;&lt;img src=x"),
        "the notes are in the textarea as escaped text"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_leads_saved_note_does_not_run_in_securitys_browser() {
    let app = TestApp::spawn().await;
    let id = one_token(&app, "gateway-bot").await;
    let lead = app.signed_in("pat.lead").await;
    let response = lead
        .post_form(
            &format!("/tokens/{id}/ownership"),
            &[
                ("purpose", PAYLOAD),
                ("automation", PAYLOAD),
                ("secret_location", PAYLOAD),
                ("notes", PAYLOAD),
                ("owner_team", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let security = app.signed_in("sam.security").await;
    for page in [
        format!("/tokens/{id}"),
        "/".to_owned(),
        "/my-team".to_owned(),
        "/teams".to_owned(),
    ] {
        let (status, html) = security.get(&page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_inert(&html, &page);
    }
    let (_, html) = security.get(&format!("/tokens/{id}")).await;
    assert!(
        html.contains("&lt;/textarea&gt;&lt;/title&gt;&lt;img"),
        "the note is shown as text"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_name_from_gitlab_does_not_end_the_title() {
    let app = TestApp::spawn().await;
    let id = one_token(&app, PAYLOAD).await;
    let security = app.signed_in("sam.security").await;
    let (status, html) = security.get(&format!("/tokens/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_inert(&html, "the token page");
    let title = html
        .split_once("<title>")
        .and_then(|(_, rest)| rest.split_once("</title>"))
        .map(|(title, _)| title)
        .expect("a title");
    assert!(title.starts_with("&lt;/textarea&gt;&lt;/title&gt;"), "{title}");
    assert!(title.ends_with(" · Token Inventory"), "{title}");
    let (_, html) = security.get("/").await;
    assert_inert(&html, "the inventory");
}

fn assert_common_headers(response: &reqwest::Response, what: &str) {
    assert_eq!(header(response, "x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header(response, "referrer-policy"), "same-origin", "{what}");
    assert_eq!(header(response, "x-frame-options"), "DENY", "{what}");
    let policy = header(response, "content-security-policy");
    assert!(policy.contains("frame-ancestors 'none'"), "{what}: {policy}");
    assert!(!policy.contains("unsafe-inline"), "{what}: {policy}");
    assert!(
        header(response, "strict-transport-security").is_empty(),
        "{what}: plain http has no HSTS"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_api_routes_and_files_carry_the_security_headers() {
    let app = TestApp::spawn().await;
    let pkg = app.dir.path().join("site").join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg folder");
    std::fs::write(pkg.join("token-inventory.css"), "body{}").expect("a stylesheet");
    let browser = app.signed_in("eli.eng").await;

    // A page: its policy allows only scripts with this response's nonce (or from this site), and
    // the hydration script carries that nonce.
    let page = browser
        .client
        .get(format!("{}/", app.base))
        .send()
        .await
        .expect("GET /");
    assert_eq!(page.status(), StatusCode::OK);
    assert_common_headers(&page, "a page");
    let policy = header(&page, "content-security-policy");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split_once('\''))
        .map(|(nonce, _)| nonce.to_owned())
        .unwrap_or_else(|| panic!("no nonce in {policy}"));
    assert!(nonce.len() >= 16, "{nonce}");
    let html = page.text().await.expect("body");
    assert!(
        html.contains(&format!("<script type=\"module\" nonce=\"{nonce}\">")),
        "the hydration script has the nonce"
    );
    let again = browser
        .client
        .get(format!("{}/", app.base))
        .send()
        .await
        .expect("GET /");
    assert!(
        !header(&again, "content-security-policy").contains(&nonce),
        "a nonce is used once"
    );

    // The JSON API, a file of the bundle, the sign-in page, a 404: a policy that runs no script.
    for (path, status) in [
        ("/api/v1/tokens", StatusCode::OK),
        ("/pkg/token-inventory.css", StatusCode::OK),
        ("/healthz", StatusCode::OK),
    ] {
        let response = browser
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), status, "{path}");
        assert_common_headers(&response, path);
        assert!(
            header(&response, "content-security-policy").starts_with("default-src 'none'"),
            "{path}"
        );
    }
    let anonymous = app.browser();
    for path in ["/", "/auth/signed-out", "/api/v1/tokens"] {
        let response = anonymous
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("GET");
        assert_common_headers(&response, path);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn https_deployments_send_hsts() {
    let app = TestApp::spawn_with(|args| args.auth.public_url = Some("https://inventory.example".to_owned())).await;
    let response = app
        .browser()
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(
        header(&response, "strict-transport-security"),
        "max-age=31536000; includeSubDomains"
    );
}

/// Sends `GET <target>` as written (an HTTP client would resolve `..` before sending it).
async fn raw_get(base: &str, target: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let request = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sign_in_gate_cannot_be_walked_around_with_dot_segments() {
    let app = TestApp::spawn().await;
    let id = one_token(&app, "gateway-bot").await;
    for target in [
        format!("/auth/../tokens/{id}"),
        format!("/auth/%2e%2e/tokens/{id}"),
        format!("/auth/%2E%2E/tokens/{id}"),
        format!("/pkg/../tokens/{id}"),
        "/auth/../api/v1/tokens".to_owned(),
        format!("/auth/sign-in/../../tokens/{id}"),
    ] {
        let (status, answer) = raw_get(&app.base, &target).await;
        assert_eq!(status, 400, "{target}: {answer}");
        assert!(!answer.contains("gateway-bot"), "{target} showed the token");
    }
    // Only the sign-in routes themselves are open.
    let (status, _) = raw_get(&app.base, "/auth/anything-else").await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn after_sign_in_the_browser_goes_only_to_this_site() {
    let app = TestApp::spawn().await;
    for (next, expected) in [
        ("/\t/evil.example", None),
        ("/\\/evil.example", Some("/")),
        ("/./\\/evil.example", Some("/")),
        ("//evil.example", Some("/")),
        ("https://evil.example/", Some("/")),
        ("/tokens/../review?x=1", Some("/review?x=1")),
    ] {
        let browser = app.browser();
        let response = browser
            .client
            .get(format!("{}/auth/sign-in?next={}", app.base, urlencode(next)))
            .send()
            .await
            .expect("sign-in");
        let Some(expected) = expected else {
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{next:?}");
            continue;
        };
        let callback = browser.consent(&app, "eli.eng", "approve", next).await;
        let response = browser.client.get(&callback).send().await.expect("callback");
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(common::location(&response), expected, "{next:?}");
    }
    // Control characters are refused with a page that says so, not a 500.
    for next in ["/%0d%0aSet-Cookie:%20x=1", "/%09/evil.example", "/%00"] {
        let response = app
            .browser()
            .client
            .get(format!("{}/auth/sign-in?next={next}", app.base))
            .send()
            .await
            .expect("sign-in");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{next}");
        assert!(response.text().await.expect("body").contains("not valid"), "{next}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_callback_shows_no_foreign_text_and_keeps_the_session() {
    let app = TestApp::spawn().await;
    let attack = format!(
        "/auth/callback?error=invalid_request&error_description={}",
        urlencode("Your account is locked. Call +1 555 0100 or visit evil.example")
    );
    let anonymous = app.browser();
    let (status, html) = anonymous.get(&attack).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        !html.contains("evil.example") && !html.contains("invalid_request"),
        "{html}"
    );

    let security = app.signed_in("sam.security").await;
    let (status, html) = security.get(&attack).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!html.contains("evil.example") && !html.contains("555 0100"), "{html}");
    let (status, _) = security.get("/").await;
    assert_eq!(status, StatusCode::OK, "the signed-in session was not touched");
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_sign_in_starts_are_short_lived_and_limited_per_address() {
    let app = TestApp::spawn().await;
    // No cookie jar: every request is a new anonymous visitor from the same address.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let response = client
            .get(format!("{}/auth/sign-in", app.base))
            .send()
            .await
            .expect("sign-in");
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.headers().contains_key("retry-after"));
        }
        statuses.push(response.status());
    }
    let started = statuses.iter().filter(|s| **s == StatusCode::SEE_OTHER).count();
    let limited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((started, limited), (30, 10), "{statuses:?}");
    // Every row those starts wrote is gone within the pending sign-in's ten minutes.
    let soon = chrono::Utc::now() + chrono::Duration::minutes(11);
    let expired = app.repo.delete_expired_sessions(soon).await.expect("sessions");
    assert_eq!(expired, 30);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_csv_export_neutralises_formulas_and_the_json_keeps_the_text() {
    let app = TestApp::spawn().await;
    let tokens = [
        TokenBuilder::project(1, "=HYPERLINK(\"https://evil.example\",\"click\")", "acme/platform/a").build(),
        TokenBuilder::project(2, "+cmd|' /C calc'!A0", "acme/platform/b").build(),
        TokenBuilder::project(3, "plain-name", "-acme/odd")
            .account_username("@bot")
            .build(),
    ];
    app.add_tokens(&tokens).await;
    let rows = app.first_page().await;
    let plain = rows.iter().find(|t| t.name == "plain-name").expect("plain").id;
    let security = app.signed_in("sam.security").await;
    let response = security
        .post_form(
            &format!("/tokens/{plain}/ownership"),
            &[("purpose", "@SUM(1+1) calls"), ("owner_team", "")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let (status, csv) = security.get("/api/v1/tokens/export.csv?sort=name").await;
    assert_eq!(status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let cells: Vec<String> = reader
        .records()
        .flat_map(|row| row.expect("a row").iter().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    for cell in &cells {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "a formula cell: {cell:?}"
        );
    }
    for expected in [
        "'=HYPERLINK(\"https://evil.example\",\"click\")",
        "'+cmd|' /C calc'!A0",
        "'-acme/odd",
        "'@bot",
        "'@SUM(1+1) calls",
    ] {
        assert!(
            cells.iter().any(|c| c == expected),
            "{expected:?} missing from {cells:?}"
        );
    }
    let (_, json) = security.get("/api/v1/tokens/export.json?sort=name").await;
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let names: Vec<&str> = json
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        names.contains(&"=HYPERLINK(\"https://evil.example\",\"click\")"),
        "JSON is unchanged: {names:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_entry_point_holds_the_inventory_query_to_its_limits() {
    use app::server::inventory::ListTokens;
    use leptos::server_fn::ServerFn;
    let app = TestApp::spawn().await;
    app.add_tokens(&[TokenBuilder::project(1, "gateway-bot", "acme/platform/a").build()])
        .await;
    let browser = app.signed_in("eli.eng").await;
    let long = "a".repeat(100_000);
    let call = async |pairs: &[(&str, &str)]| {
        let mut form = vec![("query[page]", "1")];
        form.extend_from_slice(pairs);
        let response = browser
            .client
            .post(format!("{}{}", app.base, ListTokens::PATH))
            .header("origin", &app.base)
            .form(&form)
            .send()
            .await
            .expect("POST");
        (response.status(), response.text().await.expect("body"))
    };
    for (pairs, field) in [
        (vec![("query[per_page]", "4294967295")], "per_page"),
        (vec![("query[per_page]", "0")], "per_page"),
        (vec![("query[search]", long.as_str())], "q"),
        (vec![("query[search]", "bot\u{0}")], "q"),
        (vec![("query[scope]", "read_api' OR 1=1")], "scope"),
    ] {
        let (status, body) = call(&pairs).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{pairs:?}: {body}");
        assert!(body.contains(field), "{pairs:?}: {body}");
    }
    let (status, body) = call(&[("query[per_page]", "100")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The JSON API and the page refuse the same, with a 422 naming the parameter.
    for query in ["per_page=4294967295", "q=bot%00", "per_page=101"] {
        let (status, body) = browser.get(&format!("/api/v1/tokens?{query}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        let (status, _) = browser.get(&format!("/?{query}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "page ?{query}");
    }
    let (status, _) = browser.get(&format!("/api/v1/tokens?q={}", "a".repeat(201))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// The inventory's rows are rendered apart from the page, in one go (`RenderedRows`): every
/// field in them that people or GitLab wrote is still text there (name, path, account, purpose).
#[tokio::test(flavor = "multi_thread")]
async fn every_written_field_of_an_inventory_row_is_shown_as_text() {
    let app = TestApp::spawn().await;
    app.add_tokens(&[TokenBuilder::project(7, PAYLOAD, &format!("acme/{PAYLOAD}"))
        .account_username(PAYLOAD)
        .build()])
        .await;
    let id = app.first_page().await[0].id;
    let ownership = app::domain::ValidOwnership {
        owner_team_id: None,
        purpose: Some(PAYLOAD.to_owned()),
        automation: None,
        secret_location: None,
        notes: None,
    };
    app.repo
        .set_ownership(id, &ownership, "sam.security", chrono::Utc::now())
        .await
        .expect("the purpose is stored");
    let security = app.signed_in("sam.security").await;
    let (status, html) = security.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert_inert(&html, "the inventory's rows");
    let row = html
        .split_once("class=\"token-row\"")
        .map(|(_, row)| row.split_once("</tr>").map_or(row, |(row, _)| row))
        .expect("a row");
    // The name, the account (text and title) and the purpose, each whole. The path is cut at
    // each `/` (a `<wbr>` after it), so only `assert_inert` above holds it to being text.
    let shown = "&lt;/textarea&gt;&lt;/title&gt;&lt;img src=x onerror=alert(document.domain)&gt;";
    assert!(row.matches(shown).count() >= 4, "each field as text: {row}");
}
