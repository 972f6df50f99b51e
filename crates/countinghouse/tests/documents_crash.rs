//! A worker killed with SIGKILL in the middle of a 504-document batch loses nothing and redoes no
//! finished step: `countinghouse serve` takes the uploads, a `countinghouse worker` process runs
//! the pipeline jobs and is killed while documents are half done, a second worker finishes. Each
//! upload request's batch still finishes, and is notified, exactly once.
//!
//! "Redoes no finished step" is observed from outside the processes: a trigger (installed by the
//! test as the database owner) logs every write of a pipeline step's checkpoint; a step that ran
//! again would write its checkpoint twice.

mod common;

use std::time::{Duration, Instant};

use common::{Api, countinghouse, free_port, wait_until_listening};
use doc_corpus::{CorpusSpec, generate};
use store::sqlx::{self, Connection};
use testkit::TestDb;

/// Digital PDFs per type and layout: 42 × 12 layouts = 504 documents.
const PER_LAYOUT: usize = 42;
/// Files per upload request.
const PER_REQUEST: usize = 24;

/// A `multipart/form-data` body of `file` parts.
fn multipart(files: &[(String, Vec<u8>)], boundary: &str) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 content-type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

async fn count(db: &TestDb, sql: &'static str) -> i64 {
    let mut owner = sqlx::PgConnection::connect(&db.owner_url).await.expect("owner connection");
    sqlx::query_scalar(sql).fetch_one(&mut owner).await.expect("count")
}

#[tokio::test]
async fn a_killed_worker_loses_no_document_and_redoes_no_finished_step() {
    let db = TestDb::create().await;
    let dir = std::env::temp_dir().join(format!("countinghouse-docs-crash-{}", db.name));
    std::fs::create_dir_all(&dir).expect("state dir");
    let corpus = generate(
        &dir.join("corpus"),
        &CorpusSpec { per_layout: PER_LAYOUT, scans: false, ..CorpusSpec::small(7) },
    )
    .expect("corpus");
    assert_eq!(corpus.len(), 504);

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let env = vec![
        ("DATABASE_URL", db.owner_url.clone()),
        ("COUNTINGHOUSE_STATE_DIR", dir.display().to_string()),
        ("COUNTINGHOUSE_ENCRYPTION_KEYS", vault::KeyRing::generate_key_spec(1)),
    ];
    let mut serve = countinghouse(&["serve", "--listen", &format!("127.0.0.1:{port}")], &env, &dir, false);
    wait_until_listening(port, &mut serve).await;

    // Every write of a checkpoint, logged by the owner's trigger (the app role cannot see the log).
    let mut owner = sqlx::PgConnection::connect(&db.owner_url).await.unwrap();
    sqlx::raw_sql(
        "create table checkpoint_writes (job_id bigint, step text, at timestamptz default clock_timestamp());
         create function log_checkpoint() returns trigger language plpgsql security definer as $$
         begin insert into checkpoint_writes (job_id, step) values (new.job_id, new.step); return new; end $$;
         create trigger log_checkpoint after insert or update on job_checkpoints
             for each row execute function log_checkpoint();",
    )
    .execute(&mut owner)
    .await
    .unwrap();

    let api = Api::signup(&base, "crash-llp").await;
    let client = api.create_client("Tax season client").await;

    // Upload the batch before any worker runs: every accepted file is a document with its job.
    let boundary = "countinghouse-test-boundary-7f3a";
    for chunk in corpus.chunks(PER_REQUEST) {
        let files: Vec<(String, Vec<u8>)> = chunk
            .iter()
            .map(|d| (d.truth.file.clone(), std::fs::read(&d.path).expect("corpus file")))
            .collect();
        let r = api
            .http
            .post(format!("{base}/v1/clients/{client}/documents"))
            .bearer_auth(&api.token)
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(multipart(&files, boundary))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    }
    assert_eq!(count(&db, "select count(*) from documents").await, 504);
    assert_eq!(count(&db, "select count(*) from jobs where kind = 'documents.process'").await, 504);

    // The first worker runs until about a fifth of the documents are done, then dies at once.
    let mut first = countinghouse(&["worker", "--no-scheduler"], &env, &dir, false);
    let done = "select count(*) from documents where status in ('approved', 'needs_review')";
    let patience = Instant::now() + Duration::from_secs(600);
    while count(&db, done).await < 100 {
        assert!(first.0.try_wait().unwrap().is_none(), "the worker exited early");
        assert!(Instant::now() < patience, "the worker processed too little in 10 minutes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.0.kill().expect("SIGKILL");
    first.0.wait().unwrap();
    let finished_at_kill = count(&db, done).await;
    assert!(finished_at_kill < 504, "the batch finished before the kill");
    // Steps of unfinished documents whose checkpoints the killed worker had committed.
    let saved_at_kill = count(&db, "select count(*) from job_checkpoints").await;

    // A second worker takes over (the dead worker's leases expire) and finishes the batch.
    let mut second = countinghouse(&["worker", "--no-scheduler"], &env, &dir, false);
    let patience = Instant::now() + Duration::from_secs(900);
    while count(&db, done).await < 504 {
        assert!(second.0.try_wait().unwrap().is_none(), "the second worker exited");
        assert!(Instant::now() < patience, "the batch was not finished: {} done", count(&db, done).await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(second);

    assert_eq!(
        count(&db, "select count(*) from documents where status not in ('approved', 'needs_review')").await,
        0
    );
    assert_eq!(
        count(&db, "select count(*) from document_events where event = 'processed'").await,
        504,
        "each document processed exactly once"
    );
    assert_eq!(
        count(&db, "select count(*) from jobs where kind = 'documents.process'").await,
        0,
        "no job left"
    );
    let rewritten = count(
        &db,
        "select count(*) from (select job_id, step from checkpoint_writes group by 1, 2 having count(*) > 1) s",
    )
    .await;
    assert_eq!(rewritten, 0, "a finished step ran again after the kill");
    // Each upload request was a batch; each finished once, and its uploader heard of it once.
    let batches = corpus.len().div_ceil(PER_REQUEST) as i64;
    assert_eq!(
        count(&db, "select count(*) from document_batches where finished_at is not null").await,
        batches
    );
    assert_eq!(
        count(&db, "select count(*) from document_events where event = 'batch_finished'").await,
        batches
    );
    assert_eq!(count(&db, "select count(*) from notifications").await, batches);
    assert!(saved_at_kill > 0, "the kill should have left checkpoints of half-done documents to resume from");
    drop(serve);
    let _ = std::fs::remove_dir_all(&dir);
}
