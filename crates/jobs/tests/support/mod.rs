//! Test support: a database of its own per test with the queue's migrations, worker processes,
//! and waiting for conditions (with a deadline that only guards against hanging).

#![allow(dead_code, reason = "each test binary uses a different part")]

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, PgPool};

/// A fresh database with migrations 0010–0019 and the tables the test worker writes, reached by
/// tests as the app role (so the grants are tested too); dropped at the end.
pub struct TestDb {
    pub name: String,
    admin: PgConnectOptions,
    pub app: PgConnectOptions,
    pub pool: PgPool,
}

const TEST_TABLES: &str = "
    create table test_started (job_id bigint, attempt int, what text, pid int, at timestamptz default clock_timestamp());
    create table side_effects (job_id bigint, attempt int, fence int, pid int, at timestamptz default clock_timestamp());
    create table step_runs (job_id bigint, step text, attempt int, pid int);
    create table limited_runs (job_id bigint, limit_key text, admitted_at timestamptz, began_at timestamptz,
                               ended_at timestamptz);
    create table effects (job_id bigint, attempt int, note text, at timestamptz default clock_timestamp());
    grant select, insert on test_started, side_effects, step_runs, limited_runs, effects to countinghouse_app;
";

impl TestDb {
    pub async fn create() -> TestDb {
        let url = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let admin = PgConnectOptions::from_str(&url).expect("TEST_DATABASE_URL is a PostgreSQL URL");
        let name = format!("ch_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect_with(&admin).await.unwrap_or_else(|e| {
            panic!("cannot reach PostgreSQL ({e}); `make test` starts it, or set TEST_DATABASE_URL")
        });
        conn.execute(AssertSqlSafe(format!("create database {name}")))
            .await
            .expect("create the test database");
        conn.close().await.ok();

        let mut owner =
            PgConnection::connect_with(&admin.clone().database(&name)).await.expect("connect as owner");
        owner
            .execute(
                "do $$ begin create role countinghouse_app login nosuperuser nobypassrls;
                 exception when duplicate_object or unique_violation then null; end $$",
            )
            .await
            .expect("the app role");
        for sql in migrations() {
            owner.execute(AssertSqlSafe(sql)).await.expect("apply the queue's migrations");
        }
        owner.execute(TEST_TABLES).await.expect("test tables");
        owner.close().await.ok();

        let app = admin.clone().database(&name).username("countinghouse_app");
        let pool =
            PgPoolOptions::new().max_connections(12).connect_with(app.clone()).await.expect("connect as app");
        TestDb { name, admin, app, pool }
    }

    /// The app role's URL, for worker processes.
    pub fn app_url(&self) -> String {
        format!(
            "postgres://countinghouse_app@{}:{}/{}",
            self.admin.get_host(),
            self.admin.get_port(),
            self.name
        )
    }

    /// A pool of its own as the app role (a second "process" in one test).
    pub async fn another_pool(&self, connections: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(connections)
            .connect_with(self.app.clone())
            .await
            .expect("connect as app")
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(AssertSqlSafe(sql.to_owned())).fetch_one(&self.pool).await.expect("count query")
    }
}

/// The SQL of migrations 0010–0019 (this crate's range), in order.
fn migrations() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("migrations directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("001") && n.ends_with(".sql"))
        })
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read_to_string(p).expect("read migration")).collect()
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async {
                if let Ok(mut c) = PgConnection::connect_with(&admin).await {
                    let _ = c
                        .execute(AssertSqlSafe(format!("drop database if exists {name} with (force)")))
                        .await;
                }
            });
        })
        .join();
    }
}

/// A `jobs-test-worker` process; killed when dropped.
pub struct WorkerProcess {
    child: Child,
    /// Kept open so the worker's later writes do not hit a closed pipe.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl WorkerProcess {
    /// Starts a worker on `db` with `settings` (`lease_ms=1500`, …) and waits until it is ready.
    pub fn spawn(db: &TestDb, settings: &[&str]) -> WorkerProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_jobs-test-worker"))
            .arg(db.app_url())
            .args(settings)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env("RUST_LOG", "warn")
            .spawn()
            .expect("start jobs-test-worker");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read the worker's first line");
        assert_eq!(line.trim(), "ready", "worker did not start");
        WorkerProcess { child, _stdout: stdout }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no cleanup, no shutdown, like an OOM kill.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn freeze(&self) {
        signal(self.pid(), "STOP");
    }

    pub fn thaw(&self) {
        signal(self.pid(), "CONT");
    }

    /// SIGTERM, then waits for the graceful shutdown to finish.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        signal(self.pid(), "TERM");
        self.child.wait().expect("wait for the worker")
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        signal(self.pid(), "CONT");
        self.kill();
    }
}

fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status().expect("run kill");
    assert!(status.success() || sig == "CONT", "kill -{sig} {pid} failed");
}

/// Polls `probe` until it returns `Some`, failing the test after `limit` (a guard against hanging,
/// generous on purpose; the tests assert outcomes, never durations).
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "gave up waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
