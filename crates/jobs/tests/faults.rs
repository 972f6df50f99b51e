//! Fault tests with real worker processes (`jobs-test-worker`): SIGKILL mid-job, SIGSTOP past
//! the lease, random kills under load, and checkpoint resume. Every effect is written in the
//! transaction that completes the job (or saves the step), so counting rows proves
//! exactly-once.

mod support;

use std::time::Duration;

use jobs::{RawJob, enqueue_raw};
use rand::Rng;
use serde_json::json;
use support::{TestDb, WorkerProcess, eventually};

/// Short leases so rescues happen within the test: lease 1.5 s, renewed every 0.3 s, rescue
/// checks every 0.5 s.
const FAST: &[&str] = &["lease_ms=1500", "heartbeat_ms=300", "rescue_ms=500", "poll_ms=200"];
const PATIENCE: Duration = Duration::from_secs(60);

fn job(kind: &str, payload: serde_json::Value) -> RawJob {
    RawJob {
        kind: kind.to_owned(),
        queue: "fault".to_owned(),
        payload,
        priority: 0,
        max_attempts: 50,
        run_at: None,
        unique_key: None,
        organization: None,
        limit: None,
    }
}

async fn enqueue(db: &TestDb, jobs: Vec<RawJob>) -> Vec<i64> {
    let mut conn = db.pool.acquire().await.expect("connection");
    enqueue_raw(&mut conn, jobs).await.expect("enqueue").into_iter().map(|id| id.0).collect()
}

/// Waits until `job` has a `test_started` row of `what` for `attempt`; returns the pid.
async fn started(db: &TestDb, job: i64, attempt: i32, what: &str) -> i32 {
    eventually(&format!("job {job} attempt {attempt} reaches `{what}`"), PATIENCE, || async {
        sqlx::query_scalar::<_, i32>(
            "select pid from test_started where job_id = $1 and attempt = $2 and what = $3",
        )
        .bind(job)
        .bind(attempt)
        .bind(what)
        .fetch_optional(&db.pool)
        .await
        .expect("query")
    })
    .await
}

async fn finished(db: &TestDb, job: i64) {
    eventually(&format!("job {job} completes"), PATIENCE, || async {
        let left: i64 = sqlx::query_scalar("select count(*) from jobs where id = $1")
            .bind(job)
            .fetch_one(&db.pool)
            .await
            .expect("query");
        (left == 0).then_some(())
    })
    .await;
}

async fn effects_of(db: &TestDb, job: i64) -> Vec<(i32, i32)> {
    sqlx::query_as("select attempt, pid from side_effects where job_id = $1 order by attempt")
        .bind(job)
        .fetch_all(&db.pool)
        .await
        .expect("query")
}

#[tokio::test]
async fn a_job_killed_mid_run_completes_exactly_once_after_rescue() {
    let db = TestDb::create().await;
    let mut first = WorkerProcess::spawn(&db, FAST);
    let id = enqueue(
        &db,
        vec![job("fault.effect", json!({"first_sleep_ms": 600_000, "sleep_ms": 0, "mark": true}))],
    )
    .await[0];
    let pid = started(&db, id, 1, "effect").await;
    assert_eq!(pid as u32, first.pid());
    first.kill();

    let second = WorkerProcess::spawn(&db, FAST);
    finished(&db, id).await;
    assert_eq!(
        effects_of(&db, id).await,
        vec![(2, second.pid() as i32)],
        "one effect, by the rescuing attempt"
    );
    let rescued = db.count("select coalesce(sum(rescued), 0)::int8 from job_stats").await;
    assert_eq!(rescued, 1);
}

#[tokio::test]
async fn a_frozen_worker_resumed_after_its_lease_moved_cannot_complete_the_job() {
    let db = TestDb::create().await;
    let mut frozen = WorkerProcess::spawn(&db, FAST);
    // The first attempt sleeps 2 s: long enough to freeze it first, short enough that it wakes
    // ready to commit the moment it is thawed.
    let id = enqueue(
        &db,
        vec![job("fault.effect", json!({"first_sleep_ms": 2_000, "sleep_ms": 0, "mark": true}))],
    )
    .await[0];
    started(&db, id, 1, "effect").await;
    frozen.freeze();

    let mut rescuer = WorkerProcess::spawn(&db, FAST);
    finished(&db, id).await;
    assert_eq!(effects_of(&db, id).await, vec![(2, rescuer.pid() as i32)]);
    rescuer.kill();

    // Thaw: its sleep is long over, so it goes straight to writing its effect and completing with
    // its old fencing token; let it run, then stop it gracefully so every handler has ended.
    frozen.thaw();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(frozen.terminate().success());
    assert_eq!(
        effects_of(&db, id).await,
        vec![(2, rescuer.pid() as i32)],
        "the stale attempt wrote nothing: its completion named a fence that had moved on"
    );
    assert_eq!(
        db.count(&format!("select count(*) from jobs where id = {id}")).await,
        0,
        "the job stays completed"
    );
}

#[tokio::test]
async fn ten_thousand_jobs_across_four_workers_with_random_kills_run_once_each() {
    const JOBS: usize = 10_000;
    let db = TestDb::create().await;
    let settings: Vec<&str> = FAST.iter().copied().chain(["concurrency=16", "batch=16"]).collect();
    let mut workers: Vec<WorkerProcess> = (0..4).map(|_| WorkerProcess::spawn(&db, &settings)).collect();
    for chunk in (0..JOBS).collect::<Vec<_>>().chunks(1_000) {
        let batch = chunk
            .iter()
            .map(|i| job("fault.effect", json!({"first_sleep_ms": i % 7, "sleep_ms": i % 3, "mark": false})))
            .collect();
        enqueue(&db, batch).await;
    }

    let mut kills = 0;
    while kills < 8 {
        let pause = rand::rng().random_range(200..600);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        if db.count("select count(*) from jobs").await == 0 {
            break;
        }
        let victim = rand::rng().random_range(0..workers.len());
        workers[victim].kill();
        workers[victim] = WorkerProcess::spawn(&db, &settings);
        kills += 1;
    }
    eventually("every job completes", Duration::from_secs(120), || async {
        (db.count("select count(*) from jobs").await == 0).then_some(())
    })
    .await;

    assert_eq!(db.count("select count(*) from side_effects").await, JOBS as i64, "one effect per job");
    assert_eq!(
        db.count("select count(distinct job_id) from side_effects").await,
        JOBS as i64,
        "no job twice"
    );
    let rescued = db.count("select coalesce(sum(rescued), 0)::int8 from job_stats").await;
    println!("{kills} kills, {rescued} jobs rescued");
    assert!(kills == 0 || rescued > 0, "killing busy workers must have left jobs to rescue");
}

#[tokio::test]
async fn a_checkpointed_job_resumes_after_a_kill_without_redoing_its_steps() {
    let db = TestDb::create().await;
    let mut first = WorkerProcess::spawn(&db, FAST);
    let id = enqueue(&db, vec![job("fault.steps", json!({"pause_ms": 600_000}))]).await[0];
    started(&db, id, 1, "paused").await;
    first.kill();

    let second = WorkerProcess::spawn(&db, FAST);
    finished(&db, id).await;
    let runs: Vec<(String, i32, i32)> =
        sqlx::query_as("select step, attempt, pid from step_runs where job_id = $1 order by step")
            .bind(id)
            .fetch_all(&db.pool)
            .await
            .expect("query");
    let (a, b) = (first.pid() as i32, second.pid() as i32);
    assert_eq!(
        runs,
        vec![("one".to_owned(), 1, a), ("three".to_owned(), 2, b), ("two".to_owned(), 1, a)],
        "steps one and two ran once, before the kill; only step three ran after"
    );
    assert_eq!(db.count("select count(*) from job_checkpoints").await, 0, "completion removes checkpoints");
}
