//! One fresh database per test, on every backend: SQLite always, PostgreSQL when
//! `TEST_POSTGRES_URL` names a server (each test gets a database of its own there).

pub mod builders;

use std::sync::atomic::{AtomicU32, Ordering};

use db::{Repo, connect};
use sqlx::{Connection, Executor, PgConnection};

pub struct TestDb {
    pub name: &'static str,
    pub repo: Repo,
    /// Where the database is, to open a second repository on it (another replica).
    #[allow(dead_code, reason = "not every test file that shares this module opens a second one")]
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// Drops the PostgreSQL database the test used.
    pub async fn finish(self) {
        drop(self.repo);
        if let Some((admin_url, database)) = self.postgres
            && let Ok(mut admin) = PgConnection::connect(&admin_url).await
        {
            let _ = admin
                .execute(format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)").as_str())
                .await;
        }
    }
}

pub async fn backends() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    if let Some(url) = std::env::var("TEST_POSTGRES_URL").ok().filter(|url| !url.is_empty()) {
        dbs.push(postgres(&url).await);
    }
    dbs
}

async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let repo = connect(&url).await.expect("open SQLite");
    repo.migrate().await.expect("migrate SQLite");
    TestDb {
        name: "sqlite",
        repo,
        url,
        _dir: Some(dir),
        postgres: None,
    }
}

async fn postgres(admin_url: &str) -> TestDb {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let database = format!(
        "ti_test_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = PgConnection::connect(admin_url)
        .await
        .expect("connect to TEST_POSTGRES_URL");
    admin
        .execute(format!("CREATE DATABASE \"{database}\"").as_str())
        .await
        .expect("create a test database");
    let url = with_database(admin_url, &database);
    let repo = connect(&url).await.expect("open PostgreSQL");
    repo.migrate().await.expect("migrate PostgreSQL");
    TestDb {
        name: "postgres",
        repo,
        url,
        _dir: None,
        postgres: Some((admin_url.to_owned(), database)),
    }
}

/// The same server URL with another database name.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let server = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{database}?{query}"),
        None => format!("{server}/{database}"),
    }
}
