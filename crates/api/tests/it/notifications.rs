//! Upload batches and notifications: a batch's progress, and its end noticed exactly once — with
//! the real pipeline on one worker and on two, with duplicates (finished at upload), with a
//! deletion, with its last two documents settled in concurrent transactions — and notifications
//! that only their recipient sees or marks.

use std::time::Duration;

use documents::batches;
use domain::{DocumentBatchId, DocumentId, OrganizationId, Role};
use serde_json::{Value, json};
use store::sqlx;
use store::{Actor, TenantTx};
use testkit::TestApp;

use crate::documents::{client, processed, receipt_pdf, upload_to, worker};

/// Uploads files in one request to a client, asserting 201; returns the response.
async fn upload(app: &TestApp, token: &str, client: &str, files: &[(&str, &[u8])]) -> Value {
    let r = upload_to(app, token, &format!("/v1/clients/{client}/documents"), files, &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.value()
}

fn batch_of(uploaded: &Value) -> String {
    uploaded["batch_id"].as_str().unwrap().to_owned()
}

async fn progress(app: &TestApp, token: &str, batch: &str) -> Value {
    let r = app.get(&format!("/v1/document-batches/{batch}"), token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.value()
}

/// The batch's progress once it has finished (gives up after two minutes).
async fn finished(app: &TestApp, token: &str, batch: &str) -> Value {
    for _ in 0..1200 {
        let p = progress(app, token, batch).await;
        if !p["finished_at"].is_null() {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("batch {batch} did not finish");
}

/// The caller's notifications (`query` like `?unread=true`).
async fn notifications(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let r = app.get(&format!("/v1/notifications{query}"), token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.value()["items"].as_array().unwrap().clone()
}

/// Every notification and `batch_finished` event of a batch, counted as the database owner
/// (beyond any user's or tenant's view).
async fn written_for(app: &TestApp, batch: &str) -> (i64, i64) {
    let mut owner = app.test_db.owner_conn().await;
    let notes: i64 = sqlx::query_scalar("select count(*) from notifications where payload->>'batch_id' = $1")
        .bind(batch)
        .fetch_one(&mut owner)
        .await
        .unwrap();
    let events: i64 = sqlx::query_scalar(
        "select count(*) from document_events where batch_id = $1::uuid and event = 'batch_finished'",
    )
    .bind(batch)
    .fetch_one(&mut owner)
    .await
    .unwrap();
    (notes, events)
}

/// The counts of a progress, checking that every accepted document is counted once.
fn counts(progress: &Value) -> &Value {
    let c = &progress["counts"];
    let sum: i64 = ["pending", "approved", "needs_review", "stored", "duplicates", "failed", "deleted"]
        .iter()
        .map(|k| c[*k].as_i64().unwrap())
        .sum();
    assert_eq!(sum, progress["accepted"].as_i64().unwrap(), "{progress}");
    let read: i64 = ["approved", "needs_review", "stored"].iter().map(|k| c[*k].as_i64().unwrap()).sum();
    assert_eq!(c["processed"].as_i64().unwrap(), read, "{progress}");
    c
}

const LEDGER_CSV: &[u8] = b"date,description,amount\n2025-01-02,Coffee,3.50\n2025-01-03,Paper,12.00\n";
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!";

#[tokio::test]
async fn a_batch_is_processed_and_its_uploader_notified_once() {
    let app = TestApp::spawn().await;
    let t = app.tenant("batch-done").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Batch Client").await;
    let (good, doubtful) = (receipt_pdf("21.65"), receipt_pdf("30.00"));
    let files: [(&str, &[u8]); 4] = [
        ("good.pdf", &good),
        ("doubtful.pdf", &doubtful),
        ("ledger.csv", LEDGER_CSV),
        ("animation.gif", GIF),
    ];
    let uploaded = upload(&app, token, &c, &files).await;
    let batch = batch_of(&uploaded);
    let docs = uploaded["files"].as_array().unwrap();
    assert_eq!(docs[3]["outcome"], "rejected", "{uploaded}");
    for d in &docs[..3] {
        assert_eq!(d["document"]["batch_id"], batch.as_str(), "{d}");
    }

    // Before the pipeline: three pending, nobody told anything.
    let before = progress(&app, token, &batch).await;
    assert_eq!(before["source"], "files");
    assert_eq!(before["client_name"], "Batch Client");
    assert_eq!((before["accepted"].as_i64(), before["rejected"].as_i64()), (Some(3), Some(1)));
    assert_eq!(counts(&before)["pending"], 3, "{before}");
    assert!(before["finished_at"].is_null());
    assert!(notifications(&app, token, "").await.is_empty());

    let work = worker(&app);
    let done = finished(&app, token, &batch).await;
    let c_done = counts(&done).clone();
    assert_eq!(c_done["pending"], 0, "{done}");
    assert_eq!(c_done["processed"], 3, "{done}");
    assert_eq!(c_done["stored"], 1, "{done}");
    assert_eq!(c_done["failed"], 0, "{done}");
    assert!(c_done["needs_review"].as_i64().unwrap() >= 1, "the bad total must be doubted: {done}");

    let mine = notifications(&app, token, "").await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    let n = &mine[0];
    assert_eq!(n["kind"], "document_batch_finished");
    assert!(n["title"].as_str().unwrap().contains("Batch Client"), "{n}");
    assert!(n["body"].as_str().unwrap().contains("1 file refused at upload"), "{n}");
    assert_eq!(n["payload"]["batch_id"], batch.as_str());
    assert_eq!(n["payload"]["counts"], c_done, "the notification's counts are the batch's");
    assert_eq!(n["payload"]["rejected"], 1);
    assert_eq!(n["payload"]["link"], format!("/v1/document-batches/{batch}"));
    assert!(n["read_at"].is_null());
    assert_eq!(written_for(&app, &batch).await, (1, 1));

    // Re-processing a document of a finished batch finishes nothing again.
    let id = docs[0]["document"]["id"].as_str().unwrap();
    let r = app.post(&format!("/v1/documents/{id}/reprocess"), Some(token), &json!({})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    processed(&app, token, id).await;
    assert_eq!(written_for(&app, &batch).await, (1, 1));
    assert_eq!(progress(&app, token, &batch).await["finished_at"], done["finished_at"]);
    work.shutdown(Duration::from_secs(5)).await;

    // Another member of the firm neither sees nor marks it.
    let colleague = app.member(&t, Role::Manager).await;
    assert!(notifications(&app, &colleague.token, "").await.is_empty());
    let nid = n["id"].as_str().unwrap();
    let r = app.post(&format!("/v1/notifications/{nid}/read"), Some(&colleague.token), &json!({})).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(r.problem_slug(), "not-found");
    let r = app.post("/v1/notifications/read-all", Some(&colleague.token), &json!({})).await;
    assert_eq!(r.value()["marked"], 0, "{}", r.body);
    assert_eq!(notifications(&app, token, "?unread=true").await.len(), 1, "the colleague marked it read");

    // Its recipient marks it read; marking again keeps the first time.
    let r = app.post(&format!("/v1/notifications/{nid}/read"), Some(token), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let read_at = r.value()["read_at"].clone();
    assert!(read_at.is_string(), "{}", r.body);
    assert!(notifications(&app, token, "?unread=true").await.is_empty());
    assert_eq!(notifications(&app, token, "?unread=false").await.len(), 1);
    let again = app.post(&format!("/v1/notifications/{nid}/read"), Some(token), &json!({})).await;
    assert_eq!(again.value()["read_at"], read_at);
    let r = app.post("/v1/notifications/read-all", Some(token), &json!({})).await;
    assert_eq!(r.value()["marked"], 0);
}

#[tokio::test]
async fn duplicates_finish_a_batch_at_upload_and_each_uploader_hears_of_their_own() {
    let app = TestApp::spawn().await;
    let t = app.tenant("batch-dup").await;
    let token = t.owner.token.as_str();
    let theirs = client(&app, token, "Portal Client").await;
    let ours = client(&app, token, "Firm Client").await;
    let pdf = receipt_pdf("21.65");
    // No worker runs in this test: the first upload stays pending.
    let first = batch_of(&upload(&app, token, &ours, &[("receipt.pdf", &pdf)]).await);

    // A zip of two copies of content the firm holds: both linked, nothing to process.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for name in ["copy-1.pdf", "copy-2.pdf"] {
        zip.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut zip, &pdf).unwrap();
    }
    let zip = zip.finish().unwrap().into_inner();
    let r =
        upload_to(&app, token, &format!("/v1/clients/{ours}/documents/batch"), &[("copies.zip", &zip)], &[])
            .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let copies = batch_of(&r.value());
    let done = progress(&app, token, &copies).await;
    assert_eq!(done["source"], "zip");
    assert!(done["finished_at"].is_string(), "{done}");
    assert_eq!(counts(&done)["duplicates"], 2, "{done}");
    let mine = notifications(&app, token, "").await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["payload"]["batch_id"], copies.as_str());
    assert!(progress(&app, token, &first).await["finished_at"].is_null());

    // A portal user's upload of the same content: their batch, their notification alone.
    let portal = app.member(&t, Role::Client).await;
    let r = app
        .post(
            &format!("/v1/clients/{theirs}/portal-access"),
            Some(token),
            &json!({"user_id": portal.user_id}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // Duplicates never cross clients: to their client the content is new, and is read for them.
    let new_to_them = batch_of(&upload(&app, &portal.token, &theirs, &[("mine.pdf", &pdf)]).await);
    let pending = progress(&app, &portal.token, &new_to_them).await;
    assert!(pending["finished_at"].is_null() && counts(&pending)["duplicates"] == 0, "{pending}");
    // Their second copy is a duplicate of their own document: the batch finishes at upload.
    let own = batch_of(&upload(&app, &portal.token, &theirs, &[("mine-again.pdf", &pdf)]).await);
    assert!(progress(&app, &portal.token, &own).await["finished_at"].is_string());
    let heard = notifications(&app, &portal.token, "").await;
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert_eq!(heard[0]["payload"]["batch_id"], own.as_str());
    assert_eq!(notifications(&app, token, "").await.len(), 1, "the owner heard of the portal user's batch");
    let r = app.get(&format!("/v1/document-batches/{copies}"), &portal.token).await;
    assert_eq!(r.status, 404, "a portal user read a batch of another client: {}", r.body);

    // Deleting the first batch's only document (still pending) leaves nothing to wait for.
    let pending = app.get(&format!("/v1/documents?client_id={ours}&status=uploaded"), token).await.value();
    let doc = pending["items"][0]["id"].as_str().unwrap().to_owned();
    let r = app.request(reqwest::Method::DELETE, &format!("/v1/documents/{doc}"), Some(token), None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let gone = progress(&app, token, &first).await;
    assert!(gone["finished_at"].is_string(), "{gone}");
    assert_eq!(counts(&gone)["deleted"], 1);
    let mine = notifications(&app, token, "").await;
    assert_eq!(mine.len(), 2, "{mine:?}");
    assert_eq!(mine[0]["payload"]["batch_id"], first.as_str(), "newest first");
    for batch in [&first, &copies, &own] {
        assert_eq!(written_for(&app, batch).await, (1, 1), "batch {batch}");
    }
}

#[tokio::test]
async fn two_workers_finishing_one_batch_notify_once() {
    let app = TestApp::spawn().await;
    let t = app.tenant("batch-two").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Busy Client").await;
    let receipts: Vec<(String, Vec<u8>)> =
        (0..8).map(|i| (format!("receipt-{i}.pdf"), receipt_pdf(&format!("2{i}.65")))).collect();
    let files: Vec<(&str, &[u8])> = receipts.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let batch = batch_of(&upload(&app, token, &c, &files).await);
    let (one, two) = (worker(&app), worker(&app));
    let done = finished(&app, token, &batch).await;
    assert_eq!(counts(&done)["processed"], 8, "{done}");
    one.shutdown(Duration::from_secs(5)).await;
    two.shutdown(Duration::from_secs(5)).await;
    assert_eq!(written_for(&app, &batch).await, (1, 1));
    assert_eq!(notifications(&app, token, "").await.len(), 1);
}

/// The race the batch lock is for, played out step by step: two transactions each give up on
/// one of the batch's last two documents; the first to check sees the other still pending, the
/// second waits for the first's commit, then finishes the batch. A retried job changes nothing.
#[tokio::test]
async fn the_last_two_documents_settled_in_concurrent_transactions_finish_the_batch_once() {
    let app = TestApp::spawn().await;
    let t = app.tenant("batch-race").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Race Client").await;
    let (a_pdf, b_pdf) = (receipt_pdf("1.00"), receipt_pdf("2.00"));
    let uploaded = upload(&app, token, &c, &[("a.pdf", &a_pdf), ("b.pdf", &b_pdf)]).await;
    let batch = batch_of(&uploaded);
    let batch_id: DocumentBatchId = batch.parse().unwrap();
    let doc = |i: usize| -> DocumentId {
        uploaded["files"][i]["document"]["id"].as_str().unwrap().parse().unwrap()
    };
    let org: OrganizationId = t.organization_id.parse().unwrap();

    let mut second = TenantTx::begin(&app.db, org, Actor::system()).await.unwrap();
    let in_batch = store::documents::mark_failed(&mut second, doc(1), "gave up").await.unwrap();
    assert_eq!(in_batch, Some(batch_id));
    let mut first = TenantTx::begin(&app.db, org, Actor::system()).await.unwrap();
    let in_batch = store::documents::mark_failed(&mut first, doc(0), "gave up").await.unwrap();
    assert!(batches::settle(&mut first, in_batch).await.unwrap().is_none(), "the other is still pending");
    let waiting = tokio::spawn(async move {
        let finished = batches::settle(&mut second, Some(batch_id)).await.unwrap();
        second.commit().await.unwrap();
        finished
    });
    // Commit the first only once the second is waiting for the batch's lock.
    let mut owner = app.test_db.owner_conn().await;
    let mut blocked = false;
    for _ in 0..600 {
        let n: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
        )
        .fetch_one(&mut owner)
        .await
        .unwrap();
        if n > 0 {
            blocked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(blocked, "the second transaction never waited for the batch's lock");
    first.commit().await.unwrap();
    let finished = waiting.await.unwrap().expect("the second transaction finishes the batch");
    assert_eq!(finished.counts.failed, 2);
    assert_eq!(written_for(&app, &batch).await, (1, 1));

    // A job retried after its give-up was committed settles the same document again: nothing new.
    let mut retry = TenantTx::begin(&app.db, org, Actor::system()).await.unwrap();
    let in_batch = store::documents::mark_failed(&mut retry, doc(0), "gave up again").await.unwrap();
    assert!(batches::settle(&mut retry, in_batch).await.unwrap().is_none());
    retry.commit().await.unwrap();
    assert_eq!(written_for(&app, &batch).await, (1, 1));
    let mine = notifications(&app, token, "").await;
    assert_eq!(mine.len(), 1);
    assert!(mine[0]["body"].as_str().unwrap().starts_with("2 failed"), "{}", mine[0]);
}

#[tokio::test]
async fn bad_batch_and_notification_requests_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let t = app.tenant("batch-bad").await;
    let token = t.owner.token.as_str();
    let unknown = uuid::Uuid::now_v7();
    let cases: Vec<(reqwest::Method, String, u16, &str)> = vec![
        (reqwest::Method::GET, format!("/v1/document-batches/{unknown}"), 404, "not-found"),
        (reqwest::Method::GET, "/v1/document-batches/not-a-uuid".into(), 400, "invalid-parameter"),
        (reqwest::Method::POST, format!("/v1/notifications/{unknown}/read"), 404, "not-found"),
        (reqwest::Method::POST, "/v1/notifications/not-a-uuid/read".into(), 400, "invalid-parameter"),
        (reqwest::Method::GET, "/v1/notifications?cursor=garbage".into(), 400, "invalid-cursor"),
        (reqwest::Method::GET, "/v1/notifications?limit=0".into(), 422, "validation"),
        (reqwest::Method::GET, "/v1/document-batches?cursor=garbage".into(), 400, "invalid-cursor"),
        (reqwest::Method::GET, "/v1/document-batches?limit=0".into(), 422, "validation"),
        (reqwest::Method::GET, "/v1/document-batches?client_id=nope".into(), 400, "invalid-parameter"),
    ];
    for (method, path, status, slug) in cases {
        let body = (method == reqwest::Method::POST).then(|| json!({}));
        let r = app.request(method.clone(), &path, Some(token), body.as_ref()).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        assert_eq!(r.problem_slug(), slug, "{method} {path}: {}", r.body);
    }
    let r = app.get("/v1/document-batches?colour=blue", token).await;
    assert!((400..500).contains(&r.status), "{}", r.body);
    r.problem();
    let r = app.get("/v1/notifications?unread=maybe", token).await;
    assert!((400..500).contains(&r.status), "{}", r.body);
    r.problem();
    let r = app.get("/v1/notifications", "not-a-token").await;
    assert_eq!(r.status, 401, "{}", r.body);
    let mut owner = app.test_db.owner_conn().await;
    let written: i64 = sqlx::query_scalar(
        "select (select count(*) from notifications) + (select count(*) from document_batches)",
    )
    .fetch_one(&mut owner)
    .await
    .unwrap();
    assert_eq!(written, 0);
}

/// A worker killed during a job's last attempt (say, by a page that crashes the OCR engine each
/// time) never runs the handler's give-up: the queue's rescue dead-letters the job. The sweep
/// then fails the document with the job's last error and finishes its batch, once.
#[tokio::test]
async fn documents_whose_job_died_on_its_last_attempt_fail_and_finish_their_batch() {
    let app = TestApp::spawn().await;
    let t = app.tenant("batch-crash").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Crashy Client").await;
    let files = [("one.pdf", receipt_pdf("11.65")), ("two.pdf", receipt_pdf("12.65"))];
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    let batch = batch_of(&upload(&app, token, &c, &files).await);

    // Both jobs were leased for their last attempt by a worker that died.
    let mut owner = app.test_db.owner_conn().await;
    sqlx::query(
        "update jobs set state = 'running', attempt = max_attempts, leased_by = gen_random_uuid(),
             lease_expires_at = now() - interval '1 minute'
         where kind = 'documents.process'",
    )
    .execute(&mut owner)
    .await
    .unwrap();
    let rescued: Vec<(i64, String, String)> =
        sqlx::query_as("select * from jobs_rescue(gen_random_uuid(), 100)")
            .fetch_all(&mut owner)
            .await
            .unwrap();
    assert_eq!(rescued.iter().filter(|r| r.2 == "dead").count(), 2, "{rescued:?}");
    assert!(progress(&app, token, &batch).await["finished_at"].is_null());
    let open = app.get(&format!("/v1/document-batches?unfinished=true&client_id={c}"), token).await.value();
    assert_eq!(open["items"].as_array().unwrap().len(), 1, "{open}");
    assert_eq!(open["items"][0]["id"], batch.as_str());
    assert_eq!(open["items"][0]["counts"]["pending"], 2, "{open}");

    assert_eq!(documents::jobs::sweep_abandoned(&app.db).await.unwrap(), 2);
    let done = progress(&app, token, &batch).await;
    assert!(!done["finished_at"].is_null(), "{done}");
    assert_eq!(counts(&done)["failed"], 2, "{done}");
    let docs = app.get(&format!("/v1/documents?client_id={c}"), token).await.value();
    for d in docs["items"].as_array().unwrap() {
        assert_eq!(d["status"], "failed", "{d}");
    }
    let id = docs["items"][0]["id"].as_str().unwrap();
    let detail = app.get(&format!("/v1/documents/{id}"), token).await.value();
    assert!(detail["document"]["error"].as_str().unwrap().contains("lease expired"), "{detail}");

    let open = app.get("/v1/document-batches?unfinished=true", token).await.value();
    assert_eq!(open["items"].as_array().unwrap().len(), 0, "{open}");
    let all = app.get("/v1/document-batches", token).await.value();
    assert_eq!(all["items"][0]["counts"]["failed"], 2, "{all}");

    // Again: nothing left to fail, nothing written twice.
    assert_eq!(documents::jobs::sweep_abandoned(&app.db).await.unwrap(), 0);
    assert_eq!(written_for(&app, &batch).await, (1, 1));
    assert_eq!(notifications(&app, token, "").await.len(), 1);
}
