//! Limits per key hold across worker processes, measured from the effects' own timestamps:
//! the token-bucket rate (admission times, and handler start times within the bound that their
//! measured delay allows) and max-in-flight (overlap of handler run intervals). And a limited key
//! does not hold up other jobs.

mod support;

use std::time::Duration;

use chrono::{DateTime, Utc};
use jobs::{RawJob, enqueue_raw};
use resilience::Quota;
use serde_json::json;
use support::{TestDb, WorkerProcess, eventually};

const SETTINGS: &[&str] =
    &["lease_ms=5000", "heartbeat_ms=500", "rescue_ms=1000", "poll_ms=200", "concurrency=8"];

fn limited(
    key: &str,
    per_second: Option<u32>,
    burst: u32,
    max_in_flight: Option<u32>,
    work_ms: u64,
) -> RawJob {
    let mut limit = jobs::Limit::new(key);
    if let Some(n) = per_second {
        limit = limit.rate(Quota::per_second(n).with_burst(burst));
    }
    if let Some(n) = max_in_flight {
        limit = limit.max_in_flight(n);
    }
    RawJob {
        kind: "fault.limited".to_owned(),
        queue: "fault".to_owned(),
        payload: json!({"key": key, "per_second": per_second, "burst": burst, "max_in_flight": max_in_flight,
                        "work_ms": work_ms}),
        priority: 0,
        max_attempts: 5,
        run_at: None,
        unique_key: None,
        organization: None,
        limit: Some(limit),
    }
}

async fn enqueue(db: &TestDb, jobs: Vec<RawJob>) {
    let mut conn = db.pool.acquire().await.expect("connection");
    enqueue_raw(&mut conn, jobs).await.expect("enqueue");
}

async fn all_done(db: &TestDb) {
    eventually("every job completes", Duration::from_secs(90), || async {
        (db.count("select count(*) from jobs").await == 0).then_some(())
    })
    .await;
}

/// The most timestamps in any half-open window `[t, t + window)`.
fn busiest_window(times: &[DateTime<Utc>], window: chrono::Duration) -> usize {
    let mut sorted = times.to_vec();
    sorted.sort();
    let mut best = 0;
    let mut end = 0;
    for start in 0..sorted.len() {
        while end < sorted.len() && sorted[end] < sorted[start] + window {
            end += 1;
        }
        best = best.max(end - start);
    }
    best
}

#[tokio::test]
async fn a_rate_limit_holds_across_worker_processes() {
    const RATE: u32 = 20;
    const BURST: u32 = 2;
    const JOBS: usize = 100;
    let db = TestDb::create().await;
    let _workers: Vec<_> = (0..2).map(|_| WorkerProcess::spawn(&db, SETTINGS)).collect();
    enqueue(&db, (0..JOBS).map(|_| limited("ocr:provider-a", Some(RATE), BURST, None, 2)).collect()).await;
    all_done(&db).await;

    let runs: Vec<(DateTime<Utc>, DateTime<Utc>)> =
        sqlx::query_as("select admitted_at, began_at from limited_runs")
            .fetch_all(&db.pool)
            .await
            .expect("query");
    assert_eq!(runs.len(), JOBS);
    let second = chrono::Duration::seconds(1);
    // Admissions (the database clock at the claim): at most rate × 1 s + burst - 1 in any second.
    let admitted: Vec<_> = runs.iter().map(|r| r.0).collect();
    let busiest = busiest_window(&admitted, second);
    assert!(busiest <= (RATE + BURST - 1) as usize, "{busiest} admissions within one second");
    // Handler starts lag admissions by up to `lag`, so a second of starts holds admissions from at
    // most 1 s + lag: the bucket allows burst + rate × (1 s + lag) of those.
    let lag = runs.iter().map(|(a, b)| (*b - *a).max(chrono::Duration::zero())).max().unwrap_or_default();
    let bound = f64::from(BURST) + f64::from(RATE) * (1.0 + lag.as_seconds_f64());
    let began: Vec<_> = runs.iter().map(|r| r.1).collect();
    let busiest_started = busiest_window(&began, second);
    println!("busiest second: {busiest} admissions, {busiest_started} starts (lag {lag}, bound {bound})");
    assert!(
        busiest_started as f64 <= bound.floor(),
        "{busiest_started} handler starts within one second (lag {lag}, bound {bound})"
    );
}

#[tokio::test]
async fn max_in_flight_holds_across_worker_processes() {
    const MAX: u32 = 3;
    let db = TestDb::create().await;
    let _workers: Vec<_> = (0..2).map(|_| WorkerProcess::spawn(&db, SETTINGS)).collect();
    enqueue(&db, (0..40).map(|_| limited("qbo:org-1:realm-1", None, 1, Some(MAX), 60)).collect()).await;
    all_done(&db).await;

    let runs: Vec<(DateTime<Utc>, DateTime<Utc>)> =
        sqlx::query_as("select began_at, ended_at from limited_runs")
            .fetch_all(&db.pool)
            .await
            .expect("query");
    assert_eq!(runs.len(), 40);
    // Sweep the start and end events: the running count never passes the cap.
    let mut events: Vec<(DateTime<Utc>, i32)> = runs.iter().flat_map(|(b, e)| [(*b, 1), (*e, -1)]).collect();
    events.sort_by_key(|(t, delta)| (*t, *delta)); // an end before a start at the same instant
    let (mut running, mut most) = (0, 0);
    for (_, delta) in events {
        running += delta;
        most = most.max(running);
    }
    println!("at most {most} jobs of the key ran at once");
    assert!(most <= MAX as i32, "{most} jobs of one key ran at once");
    assert!(most >= 1);
}

#[tokio::test]
async fn a_throttled_key_does_not_hold_up_other_jobs() {
    let db = TestDb::create().await;
    let _worker = WorkerProcess::spawn(&db, SETTINGS);
    // One job per second for this key: its five jobs need four seconds at least.
    let mut batch: Vec<RawJob> = (0..5).map(|_| limited("slow-key", Some(1), 1, None, 0)).collect();
    batch.extend((0..20).map(|_| RawJob {
        kind: "fault.effect".to_owned(),
        queue: "fault".to_owned(),
        payload: json!({"first_sleep_ms": 0, "sleep_ms": 0, "mark": false}),
        priority: 10, // even behind the throttled key in priority order
        max_attempts: 5,
        run_at: None,
        unique_key: None,
        organization: None,
        limit: None,
    }));
    enqueue(&db, batch).await;
    eventually("the unlimited jobs complete", Duration::from_secs(60), || async {
        (db.count("select count(*) from side_effects").await == 20).then_some(())
    })
    .await;
    let throttled_left = db.count("select count(*) from jobs where limit_key = 'slow-key'").await;
    assert!(throttled_left >= 2, "the unlimited jobs waited for the throttled key ({throttled_left} left)");
    all_done(&db).await;
}
