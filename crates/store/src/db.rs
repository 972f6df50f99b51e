//! The application's connection pool.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::StoreResult;

/// Name of the role the application connects as (created by the first migration).
pub const APP_ROLE: &str = "countinghouse_app";

#[derive(Debug, Clone)]
pub struct DbConfig {
    /// Connection options of the owner (migrations). The app connects with these, as [`APP_ROLE`].
    pub owner: PgConnectOptions,
    /// Password of the app role where the server asks for one (not with trust or peer auth).
    pub app_password: Option<String>,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// Aborts any statement running longer than this (server side).
    pub statement_timeout: Duration,
}

impl DbConfig {
    pub fn new(owner: PgConnectOptions) -> Self {
        DbConfig {
            owner,
            app_password: None,
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
        }
    }

    /// The same server and database, as the app role.
    pub fn app_options(&self) -> PgConnectOptions {
        let mut opts = self
            .owner
            .clone()
            .username(APP_ROLE)
            .application_name("countinghouse")
            .options([("statement_timeout", format!("{}ms", self.statement_timeout.as_millis()))]);
        if let Some(pw) = &self.app_password {
            opts = opts.password(pw);
        }
        opts
    }
}

/// The application's pool. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: PgPool,
}

impl Db {
    pub async fn connect(cfg: &DbConfig) -> StoreResult<Db> {
        let pool = PgPoolOptions::new()
            .max_connections(cfg.max_connections)
            .min_connections(1)
            .acquire_timeout(cfg.acquire_timeout)
            // A ping per checkout costs a round trip per request; broken connections surface as
            // errors on first use instead and the pool replaces them.
            .test_before_acquire(false)
            .idle_timeout(Duration::from_secs(300))
            .connect_with(cfg.app_options())
            .await?;
        Ok(Db { pool })
    }

    /// The pool, for global (non-tenant) tables. Tenant tables are reachable only through
    /// [`crate::TenantTx`]: as the app role, a query without a tenant sees nothing there.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Pool figures for `/metrics`.
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }
}
