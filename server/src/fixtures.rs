//! Loads teams and tokens from a JSON file, for development and the browser tests, through the
//! same repository calls sync uses. Dates may be given relative to the day of loading
//! (`expires_in_days`, `last_used_days_ago`) so a fixture's expiries stay meaningful.

use std::path::Path;

use anyhow::Context;
use app::{
    db::{DbError, NewTeam, Repo},
    domain::TokenRecord,
};
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    #[serde(default)]
    pub teams: Vec<NewTeam>,
    #[serde(default)]
    pub tokens: Vec<FixtureToken>,
}

#[derive(Debug, Deserialize)]
pub struct FixtureToken {
    #[serde(flatten)]
    pub record: TokenRecord,
    /// Sets `expires_on` to today plus this many days (negative: already expired).
    #[serde(default)]
    pub expires_in_days: Option<i64>,
    /// Sets `last_used_at` to this many days before now.
    #[serde(default)]
    pub last_used_days_ago: Option<u64>,
}

impl FixtureToken {
    fn resolve(self, now: DateTime<Utc>) -> anyhow::Result<TokenRecord> {
        let mut record = self.record;
        if let Some(days) = self.expires_in_days {
            record.expires_on = Some(shift(now.date_naive(), days).context("expires_in_days is out of range")?);
        }
        if let Some(days) = self.last_used_days_ago {
            record.last_used_at = Some(
                now.checked_sub_days(Days::new(days))
                    .context("last_used_days_ago is out of range")?,
            );
        }
        Ok(record)
    }
}

fn shift(day: NaiveDate, days: i64) -> Option<NaiveDate> {
    if days >= 0 {
        day.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        day.checked_sub_days(Days::new(days.unsigned_abs()))
    }
}

pub async fn load(repo: &Repo, path: &Path) -> anyhow::Result<(usize, usize)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let fixture: Fixture =
        serde_json::from_str(&text).with_context(|| format!("{} is not a valid fixture", path.display()))?;
    // Loading the same fixture twice keeps the teams it already made.
    for team in &fixture.teams {
        match repo.create_team(team).await {
            Ok(_) | Err(DbError::Conflict(_)) => {}
            Err(error) => return Err(error).with_context(|| format!("cannot create team {:?}", team.name)),
        }
    }
    let now = Utc::now();
    let tokens = fixture
        .tokens
        .into_iter()
        .map(|token| token.resolve(now))
        .collect::<anyhow::Result<Vec<_>>>()?;
    repo.upsert_tokens(&tokens, now)
        .await
        .context("cannot store the tokens")?;
    Ok((fixture.teams.len(), tokens.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_dates_resolve_against_now() {
        let now: DateTime<Utc> = "2026-11-25T10:00:00Z".parse().expect("time");
        let token: FixtureToken = serde_json::from_value(serde_json::json!({
            "kind": "deploy", "gitlab_id": 1, "name": "ci", "container_kind": "project",
            "container_path": "a/b", "scopes": ["read_repository"],
            "expires_in_days": -3, "last_used_days_ago": 2
        }))
        .expect("fixture token");
        let record = token.resolve(now).expect("resolves");
        assert_eq!(record.expires_on, Some("2026-11-22".parse().expect("date")));
        assert_eq!(record.last_used_at, Some("2026-11-23T10:00:00Z".parse().expect("time")));
    }
}
