//! `countinghouse worker` as a real process: it starts on a migrated database, takes the
//! scheduler's leader lock, serves its metrics, and on SIGTERM shuts down cleanly (exit 0, lock
//! released with its session).

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testkit::TestDb;

async fn advisory_locks(db: &TestDb) -> i64 {
    let pool = db.app_pool().await;
    store::sqlx::query_scalar(
        "select count(*) from pg_locks l join pg_database d on d.oid = l.database
         where l.locktype = 'advisory' and d.datname = current_database()",
    )
    .fetch_one(pool.pool())
    .await
    .expect("query")
}

/// `GET /metrics` over a plain socket: the status line, or None while nothing listens.
fn metrics_status(port: u16) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.lines().next().map(str::to_owned)
}

#[tokio::test]
async fn a_worker_process_leads_the_scheduler_serves_metrics_and_stops_on_sigterm() {
    let db = TestDb::create().await;
    let state_dir = std::env::temp_dir().join(format!("countinghouse-worker-{}", db.name));
    std::fs::create_dir_all(&state_dir).expect("state dir");
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
    let mut worker = Command::new(env!("CARGO_BIN_EXE_countinghouse"))
        .args(["worker", "--metrics-listen", &format!("127.0.0.1:{port}")])
        .current_dir(&state_dir)
        .env("DATABASE_URL", &db.owner_url)
        .env("COUNTINGHOUSE_STATE_DIR", &state_dir)
        .env_remove("COUNTINGHOUSE_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("countinghouse worker starts");

    let patience = Instant::now() + Duration::from_secs(60);
    while advisory_locks(&db).await == 0 || metrics_status(port).is_none() {
        assert!(worker.try_wait().expect("wait").is_none(), "the worker exited early");
        assert!(Instant::now() < patience, "the worker never led the scheduler and served /metrics");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(metrics_status(port).as_deref(), Some("HTTP/1.0 200 OK"));

    let term = Command::new("kill").args(["-TERM", &worker.id().to_string()]).status().expect("kill runs");
    assert!(term.success());
    let status = tokio::task::spawn_blocking(move || worker.wait()).await.expect("join").expect("wait");
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    assert_eq!(advisory_locks(&db).await, 0, "the leader lock went with the worker");
    let _ = std::fs::remove_dir_all(&state_dir);
}
