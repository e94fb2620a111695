//! Recertification over real HTTP: a campaign from its opening by security, through a lead's
//! answers in bulk (and everyone refused on the way), to the flag in the review and the evidence
//! auditors read.

mod common;

use chrono::{DateTime, Days, Utc};
use common::{TestApp, location, team_id};
use domain::review::FindingRule;
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_goes_from_opening_to_the_evidence_export() {
    let app = TestApp::spawn().await;
    app.sync_as_administrator().await;
    let platform = team_id(&app, "Platform").await;
    let platform_id: i64 = platform.parse().expect("an id");
    let sam = app.signed_in("sam.security").await;
    let pat = app.signed_in("pat.lead").await;
    let erin = app.signed_in("erin.lead").await;
    let paula = app.signed_in("paula.eng").await;
    let nobody = app.browser();
    let started = Utc::now();
    let due = (started.date_naive() + Days::new(14)).to_string();
    let scope = format!("team:{platform}");
    let opening = [("scope", scope.as_str()), ("due_on", due.as_str())];

    // Only security opens one; engineers do not even see the page.
    assert_eq!(
        nobody.post_form("/recertification/open", &opening).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        pat.post_form("/recertification/open", &opening).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(paula.get("/recertification").await.0, StatusCode::FORBIDDEN);
    let (status, page) = pat.get("/recertification").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("id=\"open-campaign\""), "a lead does not open campaigns");
    assert!(
        page.contains("href=\"/recertification\""),
        "the header links it for a lead"
    );
    let (_, page) = paula.get("/").await;
    assert!(!page.contains("href=\"/recertification\""), "nor for an engineer");

    // A due date in the past comes back to the form with why, and what was written.
    let today = started.date_naive().to_string();
    let response = sam
        .post_form("/recertification/open", &[("scope", &scope), ("due_on", &today)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = location(&response);
    assert!(back.contains("error_due_on=the+due+date+must+be+after+today"), "{back}");
    let (_, form) = sam.get(&back).await;
    assert!(form.contains("id=\"error-due_on\""), "{form}");

    // Opened over Platform: every live token and service account the team owns.
    let response = sam.post_form("/recertification/open", &opening).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let done = location(&response);
    assert!(done.contains("done=Opened+with"), "{done}");
    let campaign: i64 = done
        .trim_start_matches("/recertification/")
        .split('?')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("the campaign's page");
    let items = app
        .repo
        .campaign_items(campaign, Some(platform_id))
        .await
        .expect("items");
    assert!(items.len() >= 3, "{items:?}");
    assert!(items.iter().all(|item| item.team.id == platform_id));
    let (flagged, rest) = items.split_first().expect("an item");
    let pass = format!("/recertification/{campaign}/team/{platform}");
    let answers = format!("{pass}/answers");

    // The lead sees the campaign in My team, and their pass.
    let (_, mine) = pat.get("/my-team").await;
    assert!(
        mine.contains(&format!("Recertification #{campaign} due on {due}")),
        "{mine}"
    );
    assert!(mine.contains(&format!(": 0 of {} answered.", items.len())), "{mine}");
    let (status, seen) = pat.get(&pass).await;
    assert_eq!(status, StatusCode::OK);
    assert!(seen.contains("id=\"confirm-selected\""), "{seen}");

    // Refused: nobody signed in, an engineer of the team, another team's lead, security (who
    // does not answer for a team); another team's lead does not see the pass either.
    let first = flagged.id.to_string();
    let confirm_first = [("action", "confirm"), ("item", first.as_str())];
    assert_eq!(
        nobody.post_form(&answers, &confirm_first).await.status(),
        StatusCode::UNAUTHORIZED
    );
    for refused in [&paula, &erin, &sam] {
        let response = refused.post_form(&answers, &confirm_first).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(erin.get(&pass).await.0, StatusCode::FORBIDDEN);
    let (_, progress) = erin.get(&format!("/recertification/{campaign}")).await;
    assert!(progress.contains("id=\"no-teams\""), "{progress}");

    // A flag needs a reason; what was chosen is not lost in words.
    let response = pat.post_form(&answers, &[("action", "flag"), ("item", &first)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).contains("error_reason="), "{}", location(&response));

    // The lead confirms one, changes their mind and flags it, then confirms every other in one go.
    let response = pat.post_form(&answers, &confirm_first).await;
    assert!(
        location(&response).contains("done=Confirmed+1+item."),
        "{}",
        location(&response)
    );
    let reason = "<b>nobody</b> uses it since the move";
    let response = pat
        .post_form(&answers, &[("action", "flag"), ("item", &first), ("reason", reason)])
        .await;
    assert!(
        location(&response).contains("done=Flagged+1+item."),
        "{}",
        location(&response)
    );
    let response = pat
        .post_form(&answers, &[("action", "confirm_unanswered"), ("reason", "")])
        .await;
    let rest_done = format!("done=Confirmed+{}+item", rest.len());
    assert!(location(&response).contains(&rest_done), "{}", location(&response));

    // The flag is a finding of the review, the reason quoted and escaped.
    let (_, review) = sam.get("/review?rule=flagged-at-recertification").await;
    assert!(
        review.contains("&lt;b&gt;nobody&lt;/b&gt; uses it since the move"),
        "{review}"
    );
    assert!(!review.contains("<b>nobody</b>"), "escaped");
    let found = app
        .repo
        .list_findings(
            &db::FindingFilter {
                rule: Some(FindingRule::FlaggedAtRecertification),
                limit: 10,
                ..Default::default()
            },
            Utc::now().date_naive(),
        )
        .await
        .expect("findings");
    assert_eq!(found.total, 1);
    assert_eq!(found.findings[0].subject_name, flagged.name);

    // The team is done: 100% on the campaign's page.
    let (_, progress) = sam.get(&format!("/recertification/{campaign}")).await;
    assert!(progress.contains("data-team=\"Platform\""), "{progress}");
    assert!(progress.contains("data-percent=\"100\""), "{progress}");
    assert!(progress.contains("id=\"evidence-csv\""), "{progress}");

    // Only security closes it; closed, it takes no answer.
    let close = format!("/recertification/{campaign}/close");
    assert_eq!(pat.post_form(&close, &[]).await.status(), StatusCode::FORBIDDEN);
    let response = sam.post_form(&close, &[]).await;
    assert!(location(&response).contains("done=Closed"), "{}", location(&response));
    assert_eq!(sam.post_form(&close, &[]).await.status(), StatusCode::CONFLICT);
    assert_eq!(
        pat.post_form(&answers, &confirm_first).await.status(),
        StatusCode::CONFLICT
    );

    // The evidence: security only, as CSV and JSON, who answered what and when.
    let csv_path = format!("/recertification/{campaign}/evidence.csv");
    assert_eq!(pat.get(&csv_path).await.0, StatusCode::FORBIDDEN);
    assert_ne!(nobody.get(&csv_path).await.0, StatusCode::OK);
    let (status, csv) = sam.get(&csv_path).await;
    assert_eq!(status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().expect("a header row").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let rows: Vec<csv::StringRecord> = reader.records().map(|row| row.expect("a row")).collect();
    assert_eq!(rows.len(), items.len());
    let now = Utc::now();
    for row in &rows {
        assert_eq!(&row[column("campaign")], campaign.to_string());
        assert_eq!(&row[column("team")], "Platform");
        assert_eq!(&row[column("answered_by")], "pat.lead");
        let at: DateTime<Utc> = row[column("answered_at")].parse().expect("RFC 3339");
        assert!(started <= at && at <= now, "{at}");
        let expected = if row[column("name")] == *flagged.name {
            "flagged"
        } else {
            "confirmed"
        };
        assert_eq!(&row[column("answer")], expected);
    }
    let flag_row = rows
        .iter()
        .find(|row| &row[column("answer")] == "flagged")
        .expect("the flag");
    assert_eq!(&flag_row[column("reason")], reason);

    let (status, json) = sam.get(&format!("/recertification/{campaign}/evidence.json")).await;
    assert_eq!(status, StatusCode::OK);
    let evidence: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(evidence["campaign"]["id"], campaign);
    assert_eq!(evidence["campaign"]["closed_by"], "sam.security");
    let listed = evidence["items"].as_array().expect("items");
    assert_eq!(listed.len(), items.len());
    let flag = listed
        .iter()
        .find(|item| item["answer"] == "flagged")
        .expect("the flag");
    assert_eq!(flag["name"], flagged.name.as_str());
    assert_eq!(flag["reason"], reason);
    assert_eq!(flag["answered_by"], "pat.lead");
    assert!(
        flag["answered_at"]
            .as_str()
            .expect("a time")
            .parse::<DateTime<Utc>>()
            .is_ok()
    );
    let (status, _) = pat.get(&format!("/api/v1/recertification/{campaign}/evidence")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, document) = sam.get("/api/v1/openapi.json").await;
    assert!(document.contains("/api/v1/recertification/{id}/evidence"), "documented");
}
