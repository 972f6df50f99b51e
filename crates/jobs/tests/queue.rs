//! The queue in one process: enqueueing in the caller's transaction, unique keys under
//! concurrency, ordering, retries and dead letters, timeouts, panics, cancellation, graceful
//! shutdown, checkpoints, fencing at the SQL level, and the operator functions.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::Utc;
use domain::OrganizationId;
use jobs::admin::{self, JobFilter};
use jobs::{
    Enqueued, Job, JobContext, JobError, JobId, JobState, JobsError, NewJob, QueueConfig, Registry, Worker,
    WorkerConfig, WorkerHandle, enqueue, enqueue_many,
};
use resilience::{Backoff, Jitter};
use sqlx::{Connection, PgPool};
use support::{TestDb, eventually};

const PATIENCE: Duration = Duration::from_secs(30);
/// Retries in milliseconds, not seconds.
const QUICK: Backoff =
    Backoff::exponential(Duration::from_millis(10), Duration::from_millis(20)).with_jitter(Jitter::None);

#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
struct Note {
    note: String,
}

/// Records `note` in `effects` and completes, in one transaction.
struct Record;

impl Job for Record {
    const KIND: &'static str = "test.record";
    const QUEUE: &'static str = "test";
    type Payload = Note;

    async fn run(&self, ctx: JobContext, p: Note) -> Result<(), JobError> {
        effect_in_tx(&ctx, &p.note).await
    }
}

async fn effect(ctx: &JobContext, note: &str) -> Result<(), JobError> {
    sqlx::query("insert into effects (job_id, attempt, note) values ($1, $2, $3)")
        .bind(ctx.id().0)
        .bind(ctx.attempt())
        .bind(note)
        .execute(ctx.pool())
        .await?;
    Ok(())
}

async fn effect_in_tx(ctx: &JobContext, note: &str) -> Result<(), JobError> {
    let mut tx = ctx.pool().begin().await?;
    sqlx::query("insert into effects (job_id, attempt, note) values ($1, $2, $3)")
        .bind(ctx.id().0)
        .bind(ctx.attempt())
        .bind(note)
        .execute(&mut *tx)
        .await?;
    ctx.complete_in(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Fails every attempt.
struct Flaky;

impl Job for Flaky {
    const KIND: &'static str = "test.flaky";
    const QUEUE: &'static str = "test";
    const MAX_ATTEMPTS: i32 = 3;
    const BACKOFF: Backoff = QUICK;
    type Payload = Note;

    async fn run(&self, ctx: JobContext, p: Note) -> Result<(), JobError> {
        effect(&ctx, &p.note).await?;
        match p.note.as_str() {
            "fatal" => Err(JobError::fatal("bad input")),
            "later" => Err(JobError::retry_after(Duration::from_secs(3600), "throttled")),
            _ => Err(JobError::retry(format!("boom {}", ctx.attempt()))),
        }
    }
}

/// Misbehaves on its first attempt (as the payload says), then succeeds.
struct FirstAttempt;

impl Job for FirstAttempt {
    const KIND: &'static str = "test.first_attempt";
    const QUEUE: &'static str = "test";
    const BACKOFF: Backoff = QUICK;
    const TIMEOUT: Duration = Duration::from_millis(300);
    type Payload = Note;

    async fn run(&self, ctx: JobContext, p: Note) -> Result<(), JobError> {
        if ctx.attempt() == 1 {
            match p.note.as_str() {
                "hang" => tokio::time::sleep(Duration::from_secs(3600)).await,
                "panic" => panic!("handler bug"),
                _ => {}
            }
        }
        effect_in_tx(&ctx, &p.note).await
    }
}

/// Sleeps as told, then completes.
struct Sleepy;

#[derive(serde::Serialize, serde::Deserialize)]
struct Sleep {
    ms: u64,
}

impl Job for Sleepy {
    const KIND: &'static str = "test.sleepy";
    const QUEUE: &'static str = "test";
    const TIMEOUT: Duration = Duration::from_secs(3600);
    type Payload = Sleep;

    async fn run(&self, ctx: JobContext, p: Sleep) -> Result<(), JobError> {
        effect(&ctx, "started").await?;
        tokio::time::sleep(Duration::from_millis(p.ms)).await;
        effect_in_tx(&ctx, "finished").await
    }
}

/// Two steps with `ctx.step`; the first attempt fails after step one.
struct TwoSteps {
    step_one_runs: Arc<AtomicUsize>,
}

impl Job for TwoSteps {
    const KIND: &'static str = "test.two_steps";
    const QUEUE: &'static str = "test";
    const BACKOFF: Backoff = QUICK;
    type Payload = Note;

    async fn run(&self, ctx: JobContext, _p: Note) -> Result<(), JobError> {
        let runs = self.step_one_runs.clone();
        let one: u32 = ctx
            .step("one", || async move {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok(41)
            })
            .await?;
        if ctx.attempt() == 1 {
            return Err(JobError::retry("crash after step one"));
        }
        effect_in_tx(&ctx, &format!("two saw {}", one + 1)).await
    }
}

fn registry() -> Registry {
    let mut r = Registry::new();
    r.register(Record).register(Flaky).register(FirstAttempt).register(Sleepy);
    r
}

fn config(concurrency: usize) -> WorkerConfig {
    WorkerConfig {
        queues: vec![QueueConfig::new("test").concurrency(concurrency).batch(concurrency)],
        lease: Duration::from_millis(1500),
        heartbeat: Duration::from_millis(200),
        rescue_every: Duration::from_millis(500),
        poll_interval: Duration::from_millis(200),
        ..WorkerConfig::default()
    }
}

fn start(pool: &PgPool, registry: Registry, concurrency: usize) -> WorkerHandle {
    Worker::new(pool.clone(), registry, config(concurrency)).start()
}

async fn add<J: Job>(pool: &PgPool, job: NewJob<J>) -> JobId {
    let mut conn = pool.acquire().await.expect("connection");
    match enqueue(&mut conn, job).await.expect("enqueue") {
        Enqueued::New(id) => id,
        Enqueued::Duplicate => panic!("unexpected duplicate"),
    }
}

fn note(s: &str) -> Note {
    Note { note: s.to_owned() }
}

async fn state_of(db: &TestDb, id: JobId) -> Option<JobState> {
    admin::get_job(&db.pool, id).await.expect("get job").map(|j| j.state)
}

async fn gone(db: &TestDb, id: JobId) {
    eventually(&format!("job {id} completes"), PATIENCE, || async {
        state_of(db, id).await.is_none().then_some(())
    })
    .await;
}

async fn notes(db: &TestDb) -> Vec<String> {
    sqlx::query_scalar("select note from effects order by at").fetch_all(&db.pool).await.expect("query")
}

#[tokio::test]
async fn a_job_exists_only_if_the_callers_transaction_commits() {
    let db = TestDb::create().await;
    let mut conn = db.pool.acquire().await.expect("connection");
    let mut tx = conn.begin().await.expect("begin");
    enqueue(&mut tx, NewJob::<Record>::new(note("rolled back"))).await.expect("enqueue");
    tx.rollback().await.expect("rollback");
    assert_eq!(db.count("select count(*) from jobs").await, 0);

    // Inside a tenant transaction the job takes the tenant without being told.
    let org = OrganizationId::new();
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("select set_config('app.organization_id', $1, true)")
        .bind(org.to_string())
        .execute(&mut *tx)
        .await
        .expect("set tenant");
    let Enqueued::New(id) =
        enqueue(&mut tx, NewJob::<Record>::new(note("committed"))).await.expect("enqueue")
    else {
        panic!("duplicate")
    };
    tx.commit().await.expect("commit");
    let job = admin::get_job(&db.pool, id).await.expect("get").expect("the committed job exists");
    assert_eq!(
        (job.organization_id, job.state, job.kind.as_str()),
        (Some(org), JobState::Available, "test.record")
    );
}

#[tokio::test]
async fn concurrent_enqueues_of_one_unique_key_make_one_job() {
    let db = TestDb::create().await;
    let pools = [db.another_pool(10).await, db.another_pool(10).await];
    // 20 transactions at once, each holding its insert open a moment before committing.
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let pool = pools[i % 2].clone();
            tokio::spawn(async move {
                let mut tx = pool.begin().await.expect("begin");
                let out =
                    enqueue(&mut tx, NewJob::<Record>::new(note("once")).unique_key("sync:org-1:realm-9"))
                        .await
                        .expect("enqueue");
                tokio::time::sleep(Duration::from_millis(20)).await;
                tx.commit().await.expect("commit");
                out
            })
        })
        .collect();
    let mut added = 0;
    for t in tasks {
        if matches!(t.await.expect("task"), Enqueued::New(_)) {
            added += 1;
        }
    }
    assert_eq!(added, 1);
    assert_eq!(db.count("select count(*) from jobs where unique_key = 'sync:org-1:realm-9'").await, 1);

    // Batches: duplicates within one insert and across concurrent inserts.
    let batches: Vec<_> = (0..8)
        .map(|b| {
            let pool = pools[b % 2].clone();
            tokio::spawn(async move {
                let mut conn = pool.acquire().await.expect("connection");
                let jobs = (0..100)
                    .map(|i| {
                        NewJob::<Record>::new(note("batch")).unique_key(format!("k{}", (i * 7 + b) % 50))
                    })
                    .collect();
                enqueue_many(&mut conn, jobs).await.expect("enqueue batch").len()
            })
        })
        .collect();
    let mut total = 0;
    for b in batches {
        total += b.await.expect("task");
    }
    assert_eq!(total, 50, "50 distinct keys among 800 jobs");
    assert_eq!(db.count("select count(*) from jobs where unique_key like 'k%'").await, 50);

    // The key is free again once its job is finished (here: cancelled).
    let id: i64 = sqlx::query_scalar("select id from jobs where unique_key = 'sync:org-1:realm-9'")
        .fetch_one(&db.pool)
        .await
        .expect("query");
    admin::cancel_job(&db.pool, JobId(id)).await.expect("cancel");
    let mut conn = db.pool.acquire().await.expect("connection");
    let again =
        enqueue(&mut conn, NewJob::<Record>::new(note("again")).unique_key("sync:org-1:realm-9")).await;
    assert!(matches!(again, Ok(Enqueued::New(_))));
}

#[tokio::test]
async fn jobs_run_by_priority_and_never_before_their_time() {
    let db = TestDb::create().await;
    let later =
        add(&db.pool, NewJob::<Record>::new(note("in an hour")).delay(Duration::from_secs(3600))).await;
    for (p, n) in [(5, "low"), (0, "normal"), (-5, "urgent")] {
        add(&db.pool, NewJob::<Record>::new(note(n)).priority(p)).await;
    }
    let worker = start(&db.pool, registry(), 1);
    eventually("three jobs run", PATIENCE, || async { (notes(&db).await.len() == 3).then_some(()) }).await;
    worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!(notes(&db).await, ["urgent", "normal", "low"]);
    assert_eq!(state_of(&db, later).await, Some(JobState::Available), "the delayed job waits");
}

#[tokio::test]
async fn failures_are_retried_then_dead_lettered_with_the_last_error() {
    let db = TestDb::create().await;
    let flaky = add(&db.pool, NewJob::<Flaky>::new(note("flaky"))).await;
    let fatal = add(&db.pool, NewJob::<Flaky>::new(note("fatal"))).await;
    let later = add(&db.pool, NewJob::<Flaky>::new(note("later"))).await;
    let worker = start(&db.pool, registry(), 4);
    for id in [flaky, fatal] {
        eventually("dead letter", PATIENCE, || async {
            (state_of(&db, id).await == Some(JobState::Dead)).then_some(())
        })
        .await;
    }
    eventually("retry scheduled", PATIENCE, || async {
        (state_of(&db, later).await == Some(JobState::Retrying)).then_some(())
    })
    .await;
    worker.shutdown(Duration::from_secs(5)).await;

    let job = admin::get_job(&db.pool, flaky).await.expect("get").expect("kept");
    assert_eq!(
        (job.attempt, job.last_error.as_deref()),
        (3, Some("boom 3")),
        "three attempts, the last error kept"
    );
    assert!(job.finished_at.is_some());
    let job = admin::get_job(&db.pool, fatal).await.expect("get").expect("kept");
    // Dead on the attempt that failed fatally, before its attempts ran out (normally the first; a
    // transient database error on a loaded machine can spend one before it).
    assert_eq!(job.last_error.as_deref(), Some("bad input"));
    assert!(job.attempt < 3, "fatal: no retry after it, attempt {}", job.attempt);
    let job = admin::get_job(&db.pool, later).await.expect("get").expect("kept");
    // Attempt 1 normally; a transient database error on a loaded machine can fail an earlier
    // attempt with a quick retry, which is fine: what matters is the handler's retry-after.
    assert_eq!(job.last_error.as_deref(), Some("throttled"));
    assert!(
        job.run_at > Utc::now() + chrono::Duration::minutes(50),
        "the handler's retry-after wins: {}",
        job.run_at
    );

    let stats = admin::queue_stats(&db.pool, Duration::from_secs(300)).await.expect("stats");
    assert_eq!(stats.len(), 1);
    assert_eq!(
        (stats[0].dead, stats[0].retrying, stats[0].dead_in_window, stats[0].failed_in_window),
        (2, 1, 2, 5)
    );
}

#[tokio::test]
async fn a_hung_or_panicking_attempt_fails_and_the_next_one_runs() {
    let db = TestDb::create().await;
    let hung = add(&db.pool, NewJob::<FirstAttempt>::new(note("hang"))).await;
    let panics = add(&db.pool, NewJob::<FirstAttempt>::new(note("panic"))).await;
    let worker = start(&db.pool, registry(), 4);
    gone(&db, hung).await;
    gone(&db, panics).await;
    worker.shutdown(Duration::from_secs(5)).await;
    let attempts: Vec<(String, i32)> = sqlx::query_as("select note, attempt from effects order by note")
        .fetch_all(&db.pool)
        .await
        .expect("query");
    assert_eq!(
        attempts,
        [("hang".to_owned(), 2), ("panic".to_owned(), 2)],
        "each succeeded on its second attempt"
    );
}

#[tokio::test]
async fn graceful_shutdown_finishes_short_jobs_and_releases_long_ones() {
    let db = TestDb::create().await;
    let short = add(&db.pool, NewJob::<Sleepy>::new(Sleep { ms: 300 })).await;
    let long = add(&db.pool, NewJob::<Sleepy>::new(Sleep { ms: 3_600_000 })).await;
    let worker = start(&db.pool, registry(), 4);
    eventually("both started", PATIENCE, || async { (notes(&db).await.len() == 2).then_some(()) }).await;
    let report = worker.shutdown(Duration::from_secs(3)).await;
    assert_eq!((report.in_flight, report.released), (2, 1));
    assert_eq!(state_of(&db, short).await, None, "the short job finished during the grace period");
    let job = admin::get_job(&db.pool, long).await.expect("get").expect("released, not lost");
    assert_eq!(
        (job.state, job.attempt, job.leased_by),
        (JobState::Available, 0, None),
        "the attempt is not counted"
    );
}

#[tokio::test]
async fn cancelling_a_running_job_stops_it_and_fences_off_its_completion() {
    let db = TestDb::create().await;
    let id = add(&db.pool, NewJob::<Sleepy>::new(Sleep { ms: 2_000 })).await;
    let worker = start(&db.pool, registry(), 1);
    eventually("the job starts", PATIENCE, || async { (notes(&db).await.len() == 1).then_some(()) }).await;
    admin::cancel_job(&db.pool, id).await.expect("cancel");
    eventually("the handler is stopped", PATIENCE, || async { (worker.in_flight() == 0).then_some(()) })
        .await;
    worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!(notes(&db).await, ["started"], "it never finished");
    assert_eq!(state_of(&db, id).await, Some(JobState::Cancelled));
    assert!(matches!(admin::cancel_job(&db.pool, id).await, Err(JobsError::WrongState { .. })));
}

#[tokio::test]
async fn a_retried_job_resumes_from_its_checkpoint() {
    let db = TestDb::create().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let mut registry = registry();
    registry.register(TwoSteps { step_one_runs: runs.clone() });
    let id = add(&db.pool, NewJob::<TwoSteps>::new(note("steps"))).await;
    let worker = start(&db.pool, registry, 1);
    gone(&db, id).await;
    worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1, "step one ran once, in the first attempt");
    assert_eq!(notes(&db).await, ["two saw 42"], "the second attempt used the saved result");
    assert_eq!(db.count("select count(*) from job_checkpoints").await, 0);
}

#[tokio::test]
async fn notify_wakes_an_idle_worker_without_polling() {
    let db = TestDb::create().await;
    let mut cfg = config(2);
    cfg.poll_interval = Duration::from_secs(3600);
    let worker = Worker::new(db.pool.clone(), registry(), cfg).start();
    // Let the fetcher make its first (empty) claim and go to sleep for an hour.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let id = add(&db.pool, NewJob::<Record>::new(note("woken"))).await;
    gone(&db, id).await;
    worker.shutdown(Duration::from_secs(5)).await;
    assert_eq!(notes(&db).await, ["woken"]);
}

#[tokio::test]
async fn every_asynchronously_committed_enqueue_notifies() {
    let db = TestDb::create().await;
    let mut listener = sqlx::postgres::PgListener::connect_with(&db.pool).await.expect("listener");
    listener.listen(jobs::CHANNEL).await.expect("listen");
    let mut conn = db.pool.acquire().await.expect("connection");
    sqlx::query("set synchronous_commit = off").execute(&mut *conn).await.expect("async commit");
    // Back to back, well inside one debounce window: a durable commit would notify once.
    for i in 0..20 {
        enqueue(&mut conn, NewJob::<Record>::new(note(&format!("n{i}")))).await.expect("enqueue");
    }
    // Notifications arrive in commit order, so this one comes after all of the enqueues'.
    sqlx::query("select pg_notify($1, 'end')").bind(jobs::CHANNEL).execute(&mut *conn).await.expect("end");
    let mut woken = 0;
    loop {
        let n = listener.recv().await.expect("notification");
        match n.payload() {
            "end" => break,
            "test" => woken += 1,
            other => panic!("unexpected notification {other}"),
        }
    }
    assert_eq!(woken, 20, "one wake-up per committed enqueue");
}

#[tokio::test]
async fn a_stale_lease_cannot_complete_fail_or_renew_a_re_leased_job() {
    let db = TestDb::create().await;
    let id = add(&db.pool, NewJob::<Record>::new(note("x"))).await;
    let (w1, w2) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let claim = |worker: uuid::Uuid, lease_ms: i32| {
        let pool = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, Option<i32>>(
                "select fence from jobs_claim('test', $1, 10, $2) where id is not null",
            )
            .bind(worker)
            .bind(lease_ms)
            .fetch_all(&pool)
            .await
            .expect("claim")
        }
    };
    assert_eq!(claim(w1, 1).await, [Some(1)]);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let rescued: Vec<(i64, String, String)> = sqlx::query_as("select * from jobs_rescue($1, 10)")
        .bind(w2)
        .fetch_all(&db.pool)
        .await
        .expect("rescue");
    assert_eq!(rescued, [(id.0, "test".to_owned(), "retrying".to_owned())]);
    sqlx::query("update jobs set run_at = now()").execute(&db.pool).await.expect("skip the rescue backoff");
    assert_eq!(claim(w2, 60_000).await, [Some(2)]);

    let stale = |sql: &'static str| {
        let pool = db.pool.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).bind(id.0).fetch_all(&pool).await.expect("stale write") }
    };
    assert!(stale("select * from jobs_complete(gen_random_uuid(), array[$1], array[1])").await.is_empty());
    assert!(stale("select id from jobs_fail(gen_random_uuid(), array[$1], array[1], array['x'], array[null::timestamptz])").await.is_empty());
    assert!(stale("select * from jobs_heartbeat(array[$1], array[1], 60000)").await.is_empty());
    let job = admin::get_job(&db.pool, id).await.expect("get").expect("exists");
    assert_eq!((job.state, job.leased_by), (JobState::Running, Some(w2)), "the new lease is untouched");
    assert_eq!(stale("select * from jobs_complete(gen_random_uuid(), array[$1], array[2])").await, [id.0]);
}

#[tokio::test]
async fn operators_list_filter_retry_and_cancel_jobs() {
    let db = TestDb::create().await;
    let org = OrganizationId::new();
    let a = add(&db.pool, NewJob::<Record>::new(note("a")).organization(org)).await;
    let b = add(&db.pool, NewJob::<Flaky>::new(note("fatal"))).await;
    let worker = start(&db.pool, registry(), 1);
    eventually("dead letter", PATIENCE, || async {
        (state_of(&db, b).await == Some(JobState::Dead)).then_some(())
    })
    .await;
    worker.shutdown(Duration::from_secs(1)).await;
    let c = add(&db.pool, NewJob::<Record>::new(note("c")).delay(Duration::from_secs(600))).await;

    let list = |filter: JobFilter| {
        let pool = db.pool.clone();
        async move {
            admin::list_jobs(&pool, &filter)
                .await
                .expect("list")
                .into_iter()
                .map(|j| j.id)
                .collect::<Vec<_>>()
        }
    };
    assert!(state_of(&db, a).await.is_none(), "a ran");
    assert_eq!(list(JobFilter::default()).await, [c, b], "newest first");
    assert_eq!(list(JobFilter { state: Some(JobState::Dead), ..JobFilter::default() }).await, [b]);
    assert_eq!(list(JobFilter { kind: Some("test.record".into()), ..JobFilter::default() }).await, [c]);
    assert_eq!(list(JobFilter { before: Some(c), ..JobFilter::default() }).await, [b]);
    assert!(list(JobFilter { organization: Some(org), ..JobFilter::default() }).await.is_empty());

    let stats = admin::queue_stats(&db.pool, Duration::from_secs(60)).await.expect("stats");
    assert_eq!((stats[0].scheduled, stats[0].dead, stats[0].completed_in_window), (1, 1, 1));

    let retried = admin::retry_job(&db.pool, b).await.expect("retry");
    assert_eq!((retried.state, retried.max_attempts), (JobState::Available, 3));
    assert!(matches!(admin::retry_job(&db.pool, b).await, Err(JobsError::WrongState { .. })));
    assert_eq!(admin::cancel_job(&db.pool, c).await.expect("cancel").state, JobState::Cancelled);
    assert!(matches!(admin::cancel_job(&db.pool, JobId(999_999)).await, Err(JobsError::NotFound(_))));
}
