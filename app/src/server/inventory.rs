//! The inventory's server functions and the query they answer.

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use crate::domain::{MAX_PER_PAGE, MAX_SEARCH_CHARS, PER_PAGE, TokenPage, TokenQuery, TokenSort};
use crate::{
    domain::{TeamRef, TokenDetail, Viewer},
    error::AppError,
};

/// How long a page waits for its count before it says "about" an estimate (the count goes on
/// behind and is kept: the next look is exact), and from how many tokens: counting a million
/// tokens' matches can take a second, a page is meant to answer in 50 ms, and below 200,000 a
/// count takes 30 ms at most.
#[cfg(feature = "ssr")]
const COUNT_BUDGET: crate::db::CountBudget = crate::db::CountBudget {
    time: std::time::Duration::from_millis(20),
    from_tokens: 200_000,
};

/// Lists the tokens matching `query`, one page at a time, with every team (the team filter's
/// choices).
#[server]
pub async fn list_tokens(query: TokenQuery) -> Result<TokenPage, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    query.validate()?;
    let export = may_export(&viewer, &query).then(|| {
        TokenQuery {
            page: 1,
            per_page: None,
            ..query.clone()
        }
        .to_query_string()
    });
    let state = expect_context::<crate::state::AppState>();
    let today = chrono::Utc::now().date_naive();
    let listing = if query.exact_count {
        let (tokens, total) = state.repo.list_tokens(&query, today).await?;
        crate::db::TokenListing {
            tokens,
            counted: crate::db::Counted {
                total,
                estimated: false,
            },
            teams: state.repo.list_teams().await?,
        }
    } else {
        state.repo.list_tokens_within(&query, today, COUNT_BUDGET).await?
    };
    Ok(TokenPage {
        tokens: listing.tokens,
        total: listing.counted.total,
        estimated: listing.counted.estimated,
        page: query.page.max(1),
        per_page: query.limit(),
        today,
        export,
        teams: listing.teams.into_iter().map(TeamRef::from).collect(),
    })
}

/// One token's page: everything known, its history, and whether the caller may edit what people
/// say about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub detail: TokenDetail,
    /// (when, event, detail as JSON), oldest first.
    pub history: Vec<(chrono::DateTime<chrono::Utc>, String, String)>,
    /// Every team, for the owner choice.
    pub teams: Vec<TeamRef>,
    pub can_edit: bool,
    pub today: NaiveDate,
    /// GitLab's address, for links.
    pub gitlab_url: Option<String>,
}

/// One token with its history; anyone signed in may look.
#[server]
pub async fn get_token(id: i64) -> Result<TokenView, AppError> {
    let viewer = crate::auth::require_viewer().await?;
    let state = expect_context::<crate::state::AppState>();
    let today = chrono::Utc::now().date_naive();
    let detail = state
        .repo
        .get_token(id, today)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("token {id}")))?;
    let history = state
        .repo
        .token_history(detail.summary.kind, detail.summary.gitlab_id)
        .await?;
    let teams = state.repo.list_teams().await?.into_iter().map(TeamRef::from).collect();
    Ok(TokenView {
        can_edit: may_edit_ownership(&viewer, &detail),
        detail,
        history,
        teams,
        today,
        gitlab_url: state.gitlab_url.clone(),
    })
}

/// The teams, for filters and choices (the inventory's come with its page).
#[server]
pub async fn list_team_refs() -> Result<Vec<TeamRef>, AppError> {
    crate::auth::require_viewer().await?;
    let state = expect_context::<crate::state::AppState>();
    Ok(state.repo.list_teams().await?.into_iter().map(TeamRef::from).collect())
}

/// Security exports any view; a team lead the view of a team they lead.
pub fn may_export(viewer: &Viewer, query: &TokenQuery) -> bool {
    viewer.acts_as(crate::domain::Role::Security) || query.team.is_some_and(|team| viewer.leads(team))
}

/// Security edits every token's ownership; a team lead the tokens their team owns (set or
/// inferred). Never with a read-only API key.
pub fn may_edit_ownership(viewer: &Viewer, detail: &TokenDetail) -> bool {
    if viewer.read_only {
        return false;
    }
    viewer.is_security()
        || detail
            .summary
            .owner_team
            .as_ref()
            .is_some_and(|team| viewer.leads(team.id))
}
