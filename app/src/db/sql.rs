//! The SQL behind [`Repository`], written once and compiled for SQLite and for PostgreSQL.
//! Both accept the same statements here (`ON CONFLICT … excluded.`, `RETURNING`, `ESCAPE`);
//! `QueryBuilder` writes each backend's own placeholders.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder, Sqlite, SqlitePool};

use super::{Backend, DbError, NewTeam, Repository, Team, TokenRow, UpsertCounts, contains_pattern, unique_violation};
use crate::{
    domain::{ExpiryWindow, TokenRecord, TokenSummary},
    server::inventory::{PER_PAGE, TokenQuery, TokenSort},
};

const TOKEN_COLUMNS: &str = "id, kind, gitlab_id, name, container_kind, container_path, account_username, \
     scopes, access_level, created_at, expires_on, last_used_at, revoked, gone_since";

fn sort_column(sort: TokenSort) -> &'static str {
    match sort {
        TokenSort::Name => "LOWER(name)",
        TokenSort::Kind => "kind",
        TokenSort::Path => "container_path",
        TokenSort::Expires => "expires_on",
        TokenSort::LastUsed => "last_used_at",
    }
}

macro_rules! sql_repository {
    ($(#[$doc:meta])* $name:ident, $db:ty, $pool:ty, $backend:expr, $migrations:literal, $begin:literal) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name {
            pool: $pool,
        }

        impl $name {
            pub fn new(pool: $pool) -> Self {
                Self { pool }
            }

            pub fn pool(&self) -> &$pool {
                &self.pool
            }

            /// Adds the `WHERE` clause of `query` (everything but sort and page).
            fn push_filters(builder: &mut QueryBuilder<'_, $db>, query: &TokenQuery, today: NaiveDate) {
                builder.push(" WHERE 1 = 1");
                if let Some(kind) = query.kind {
                    builder.push(" AND kind = ").push_bind(kind.as_str());
                }
                if let Some(words) = &query.search {
                    let pattern = contains_pattern(words);
                    builder
                        .push(" AND (LOWER(name) LIKE ")
                        .push_bind(pattern.clone())
                        .push(" ESCAPE '\\' OR LOWER(container_path) LIKE ")
                        .push_bind(pattern.clone())
                        .push(" ESCAPE '\\' OR LOWER(COALESCE(account_username, '')) LIKE ")
                        .push_bind(pattern)
                        .push(" ESCAPE '\\')");
                }
                match query.expiry.map(|window| (window, window.date_bounds(today))) {
                    None => {}
                    Some((ExpiryWindow::Never, _)) | Some((_, None)) => {
                        builder.push(" AND expires_on IS NULL");
                    }
                    Some((_, Some((after, until)))) => {
                        builder.push(" AND expires_on IS NOT NULL");
                        if let Some(after) = after {
                            builder.push(" AND expires_on > ").push_bind(after);
                        }
                        if let Some(until) = until {
                            builder.push(" AND expires_on <= ").push_bind(until);
                        }
                    }
                }
            }
        }

        #[async_trait]
        impl Repository for $name {
            fn backend(&self) -> Backend {
                $backend
            }

            async fn migrate(&self) -> Result<(), DbError> {
                sqlx::migrate!($migrations).run(&self.pool).await?;
                Ok(())
            }

            async fn ping(&self) -> Result<(), DbError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn upsert_tokens(
                &self,
                tokens: &[TokenRecord],
                seen_at: DateTime<Utc>,
            ) -> Result<UpsertCounts, DbError> {
                let mut tx = self.pool.begin_with($begin).await?;
                let (before,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tokens").fetch_one(&mut *tx).await?;
                Self::upsert_token_rows(&mut tx, tokens, seen_at).await?;
                let (after,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tokens").fetch_one(&mut *tx).await?;
                tx.commit().await?;
                let inserted = u64::try_from(after - before).unwrap_or(0);
                Ok(UpsertCounts {
                    inserted,
                    updated: (tokens.len() as u64).saturating_sub(inserted),
                })
            }

            async fn list_tokens(
                &self,
                query: &TokenQuery,
                today: NaiveDate,
            ) -> Result<(Vec<TokenSummary>, u64), DbError> {
                let mut count = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM tokens");
                Self::push_filters(&mut count, query, today);
                let (total,): (i64,) = count.build_query_as().fetch_one(&self.pool).await?;

                let mut select = QueryBuilder::<$db>::new(format!("SELECT {TOKEN_COLUMNS} FROM tokens"));
                Self::push_filters(&mut select, query, today);
                let column = sort_column(query.sort);
                let direction = if query.descending { "DESC" } else { "ASC" };
                // Empty values last in either direction, then a stable tie-break.
                select.push(format!(" ORDER BY ({column} IS NULL), {column} {direction}, id ASC LIMIT "));
                select.push_bind(i64::from(PER_PAGE));
                select.push(" OFFSET ");
                select.push_bind(i64::try_from(query.offset()).unwrap_or(i64::MAX));
                let rows: Vec<TokenRow> = select.build_query_as().fetch_all(&self.pool).await?;
                let tokens = rows.into_iter().map(TokenSummary::try_from).collect::<Result<_, _>>()?;
                Ok((tokens, u64::try_from(total).unwrap_or(0)))
            }

            async fn create_team(&self, team: &NewTeam) -> Result<Team, DbError> {
                let conflict = |error: sqlx::Error| {
                    if unique_violation(&error) {
                        DbError::Conflict(format!("a team named {:?} already exists", team.name))
                    } else {
                        DbError::Sqlx(error)
                    }
                };
                let mut tx = self.pool.begin_with($begin).await?;
                let (id,): (i64,) = sqlx::query_as("INSERT INTO teams (name, created_at) VALUES ($1, $2) RETURNING id")
                    .bind(&team.name)
                    .bind(Utc::now())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(conflict)?;
                let mut group_paths = team.group_paths.clone();
                group_paths.sort();
                group_paths.dedup();
                for path in &group_paths {
                    sqlx::query("INSERT INTO team_group_paths (team_id, group_path) VALUES ($1, $2)")
                        .bind(id)
                        .bind(path)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(Team {
                    id,
                    name: team.name.clone(),
                    group_paths,
                })
            }

            async fn list_teams(&self) -> Result<Vec<Team>, DbError> {
                let teams: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM teams ORDER BY name")
                    .fetch_all(&self.pool)
                    .await?;
                let paths: Vec<(i64, String)> =
                    sqlx::query_as("SELECT team_id, group_path FROM team_group_paths ORDER BY group_path")
                        .fetch_all(&self.pool)
                        .await?;
                Ok(teams
                    .into_iter()
                    .map(|(id, name)| Team {
                        id,
                        name,
                        group_paths: paths
                            .iter()
                            .filter(|(team_id, _)| *team_id == id)
                            .map(|(_, path)| path.clone())
                            .collect(),
                    })
                    .collect())
            }
        }
    };
}

sql_repository!(
    /// The embedded default: one file, no server.
    SqliteRepository,
    Sqlite,
    SqlitePool,
    Backend::Sqlite,
    "../migrations/sqlite",
    // Take the write lock at the start: a transaction that reads before it writes cannot then
    // fail with SQLITE_BUSY_SNAPSHOT.
    "BEGIN IMMEDIATE"
);

sql_repository!(
    /// For production, and for several replicas on one database.
    PostgresRepository,
    Postgres,
    PgPool,
    Backend::Postgres,
    "../migrations/postgres",
    "BEGIN"
);
