//! Cron schedules: one leader among several schedulers, failover, and the missed-run policy.

mod support;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use croner::Cron;
use jobs::scheduler::{self, Schedule, Scheduler, SchedulerConfig};
use jobs::{Job, JobContext, JobError};
use support::{TestDb, eventually};

struct Tick;

#[derive(serde::Serialize, serde::Deserialize)]
struct TickPayload {
    report: String,
}

impl Job for Tick {
    const KIND: &'static str = "test.tick";
    const QUEUE: &'static str = "cron";
    type Payload = TickPayload;

    async fn run(&self, _ctx: JobContext, _p: TickPayload) -> Result<(), JobError> {
        Ok(())
    }
}

fn every_second() -> Schedule {
    Schedule::new::<Tick>("heartbeat-report", "* * * * * *", TickPayload { report: "ops".into() })
        .expect("valid cron")
}

fn fast() -> SchedulerConfig {
    SchedulerConfig {
        tick: Duration::from_millis(100),
        leader_retry: Duration::from_millis(200),
        ..SchedulerConfig::default()
    }
}

async fn occurrences(db: &TestDb) -> (i64, i64) {
    sqlx::query_as("select count(*), count(distinct unique_key) from jobs where kind = 'test.tick'")
        .fetch_one(&db.pool)
        .await
        .expect("query")
}

#[tokio::test]
async fn one_of_two_schedulers_leads_and_each_occurrence_runs_once() {
    let db = TestDb::create().await;
    let first =
        Scheduler::new(db.another_pool(3).await, vec![every_second()], fast()).start().await.expect("start");
    let second =
        Scheduler::new(db.another_pool(3).await, vec![every_second()], fast()).start().await.expect("start");
    eventually("three occurrences run", Duration::from_secs(30), || async {
        (occurrences(&db).await.0 >= 3).then_some(())
    })
    .await;
    assert_ne!(first.is_leader(), second.is_leader(), "exactly one leader");
    let (leader, follower) = if first.is_leader() { (first, second) } else { (second, first) };
    assert_eq!(follower.runs(), 0, "the follower enqueued nothing");

    // The leader goes away; the other takes over and goes on, still one job per occurrence.
    let before = leader.runs();
    assert!(before >= 3);
    leader.shutdown().await;
    eventually("the follower takes over", Duration::from_secs(30), || async {
        follower.is_leader().then_some(())
    })
    .await;
    eventually("the new leader runs occurrences", Duration::from_secs(30), || async {
        (follower.runs() >= 2).then_some(())
    })
    .await;
    follower.shutdown().await;
    let (jobs, distinct) = occurrences(&db).await;
    assert_eq!(jobs, distinct, "no occurrence ran twice");
    let expected = i64::try_from(before + 2).expect("small");
    assert!(jobs >= expected, "{jobs} jobs for {before} + ≥ 2 runs");
}

#[tokio::test]
async fn missed_occurrences_run_once_to_catch_up_and_are_counted() {
    let db = TestDb::create().await;
    let nightly = Schedule::new::<Tick>("nightly-sync", "0 2 * * *", TickPayload { report: "sync".into() })
        .expect("cron");
    let retired =
        Schedule::new::<Tick>("retired", "0 3 * * *", TickPayload { report: "old".into() }).expect("cron");
    scheduler::sync(&db.pool, &[nightly.clone(), retired]).await.expect("sync");
    scheduler::sync(&db.pool, std::slice::from_ref(&nightly)).await.expect("sync");
    assert_eq!(
        db.count("select count(*) from job_schedules").await,
        1,
        "schedules removed from code are dropped"
    );

    // The schedulers were down for three nights: the job was due four occurrences ago.
    let now = Utc::now();
    let cron = Cron::from_str("0 2 * * *").expect("cron");
    let latest: DateTime<Utc> = cron.find_previous_occurrence(&now, true).expect("previous");
    let due = latest - chrono::Duration::days(3);
    sqlx::query("update job_schedules set next_run_at = $1")
        .bind(due)
        .execute(&db.pool)
        .await
        .expect("rewind");

    let mut conn = db.pool.acquire().await.expect("connection");
    let runs = scheduler::run_due(&mut conn, std::slice::from_ref(&nightly), now).await.expect("tick");
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].occurrence, runs[0].skipped),
        (latest, 3),
        "one catch-up run for the latest occurrence"
    );
    assert!(runs[0].job.is_some());
    assert!(
        scheduler::run_due(&mut conn, &[nightly], now).await.expect("tick").is_empty(),
        "nothing more is due"
    );

    let (next, skipped): (DateTime<Utc>, i64) =
        sqlx::query_as("select next_run_at, skipped_runs from job_schedules")
            .fetch_one(&db.pool)
            .await
            .expect("query");
    assert_eq!((next, skipped), (cron.find_next_occurrence(&now, false).expect("next"), 3));
    assert_eq!(occurrences(&db).await, (1, 1), "never a burst");
}
