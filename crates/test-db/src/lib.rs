//! A database per test, cloned from a migrated template.

use std::str::FromStr;

use store::sqlx::postgres::{PgConnectOptions, PgConnection};
use store::sqlx::{AssertSqlSafe, Connection, Executor};
use store::{Db, DbConfig};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A fresh, migrated database; dropped when this value is dropped.
pub struct TestDb {
    pub name: String,
    /// The owner's URL for this database (for child processes).
    pub owner_url: String,
    /// Owner (superuser) options for this database.
    pub owner: PgConnectOptions,
    admin: PgConnectOptions,
}

impl TestDb {
    pub async fn create() -> TestDb {
        let url = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
        let admin = PgConnectOptions::from_str(&url).expect("TEST_DATABASE_URL is a PostgreSQL URL");
        let template = ensure_template(&admin).await;
        let name = format!("ch_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = connect(&admin).await;
        conn.execute(AssertSqlSafe(format!("create database {name} template {template}")))
            .await
            .expect("clone the template database");
        conn.close().await.ok();
        let owner = admin.clone().database(&name);
        let owner_url = with_database(&url, &name);
        TestDb { name, owner_url, owner, admin }
    }

    pub fn db_config(&self) -> DbConfig {
        // Tests run in parallel against one server: keep each one's share of connections small.
        DbConfig { max_connections: 6, ..DbConfig::new(self.owner.clone()) }
    }

    /// A pool connected as the application role (row-level security applies).
    pub async fn app_pool(&self) -> Db {
        Db::connect(&self.db_config()).await.expect("connect as countinghouse_app")
    }

    /// A single connection as the owner (superuser): bypasses row-level security, for setting up
    /// and inspecting data behind the application's back.
    pub async fn owner_conn(&self) -> PgConnection {
        connect(&self.owner).await
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        // Drop runs outside async; a short-lived runtime on its own thread does the cleanup.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    if let Ok(mut conn) = PgConnection::connect_with(&admin).await {
                        let _ = conn
                            .execute(AssertSqlSafe(format!("drop database if exists {name} with (force)")))
                            .await;
                    }
                });
            }
        })
        .join();
    }
}

async fn connect(opts: &PgConnectOptions) -> PgConnection {
    PgConnection::connect_with(opts).await.unwrap_or_else(|e| {
        panic!("cannot reach PostgreSQL for tests ({e}); `make test` starts it, or set TEST_DATABASE_URL")
    })
}

/// Creates the template for the current migrations once; concurrent test processes wait on an
/// advisory lock rather than racing.
async fn ensure_template(admin: &PgConnectOptions) -> String {
    let template = format!("ch_template_{}", store::migrate::fingerprint());
    let mut conn = connect(admin).await;
    if template_exists(&mut conn, &template).await {
        return template;
    }
    conn.execute("select pg_advisory_lock(724001)").await.expect("template lock");
    if !template_exists(&mut conn, &template).await {
        let building = format!("{template}_building");
        conn.execute(AssertSqlSafe(format!("drop database if exists {building} with (force)")))
            .await
            .expect("drop a half-built template");
        conn.execute(AssertSqlSafe(format!("create database {building}")))
            .await
            .expect("create the template database");
        store::migrate::migrate(&admin.clone().database(&building), None)
            .await
            .expect("migrate the template database");
        conn.execute(AssertSqlSafe(format!("alter database {building} rename to {template}")))
            .await
            .expect("publish the template");
        conn.execute(AssertSqlSafe(format!("alter database {template} is_template true")))
            .await
            .expect("mark the template");
    }
    conn.execute("select pg_advisory_unlock(724001)").await.expect("template unlock");
    conn.close().await.ok();
    template
}

async fn template_exists(conn: &mut PgConnection, template: &str) -> bool {
    store::sqlx::query_scalar::<_, bool>(
        "select exists (select 1 from pg_database where datname = $1 and datistemplate)",
    )
    .bind(template)
    .fetch_one(conn)
    .await
    .expect("query pg_database")
}

/// `url` with its database path replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_end..].find('/').map_or(base.len(), |i| authority_end + i);
    let mut out = format!("{}/{}", &base[..path_start], database);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}
