//! Steps that run themselves (crate `workflow-automation`): a wait ends on business days (driven
//! by calling its job's handler with a controlled clock) and not while its run is paused; an email
//! step mails the client's portal users once however often its job is delivered, blocks with the
//! reason when it cannot and goes again on Retry; a QuickBooks sync step queues a sync against the
//! sandbox and is in progress until the sync has succeeded (blocked if it failed), and an identical
//! step within the TTL reuses it from the step cache, until it expires (never a failed one).

use std::time::Duration;

use chrono::Utc;
use domain::{OrganizationId, Role, WorkflowRunId, WorkflowStepId};
use qbo_sandbox::Faults;
use serde_json::{Value, json};
use store::sqlx;
use testkit::{Tenant, TestApp, TestConfig};
use workflow_automation::{
    AutomationJob, AutomationOutcome, StepJob, SyncWait, SyncWaitJob, SyncWaitOutcome, WaitJob, WaitOutcome,
};

use crate::quickbooks::{consent, qb_config, sandbox};

fn wait_job(app: &TestApp) -> WaitJob {
    WaitJob { db: app.db.clone() }
}

fn automation_job(app: &TestApp, quickbooks: bool) -> AutomationJob {
    AutomationJob { db: app.db.clone(), keys: app.keys.clone(), public_url: app.url("/"), quickbooks }
}

/// A worker for the workflow jobs (and QuickBooks syncs, given the service).
fn worker(app: &TestApp, qb: Option<qbo_sync::QuickBooks>) -> jobs::WorkerHandle {
    let quickbooks = qb.is_some();
    worker_of(app, quickbooks, qb)
}

/// A worker for the workflow jobs of a deployment with QuickBooks (`quickbooks`) or without,
/// running its syncs when given the service.
fn worker_of(app: &TestApp, quickbooks: bool, qb: Option<qbo_sync::QuickBooks>) -> jobs::WorkerHandle {
    let mut registry = jobs::Registry::new();
    let mut queues = vec![jobs::QueueConfig::new(workflow_automation::QUEUE)];
    workflow_automation::register(&mut registry, wait_job(app), automation_job(app, quickbooks));
    if let Some(qb) = qb {
        qbo_sync::register(&mut registry, qb);
        queues.push(jobs::QueueConfig::new(qbo_sync::sync_jobs::QUEUE));
    }
    let config = jobs::WorkerConfig {
        queues,
        poll_interval: Duration::from_millis(50),
        ..jobs::WorkerConfig::default()
    };
    jobs::Worker::new(app.db.pool().clone(), registry, config).start()
}

fn org(t: &Tenant) -> OrganizationId {
    t.organization_id.parse().unwrap()
}

async fn template(app: &TestApp, token: &str, steps: Value) -> String {
    let r = app
        .post(
            "/v1/workflow-templates",
            Some(token),
            &json!({"name": "Automated", "category": "bookkeeping", "steps": steps}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.value()["id"].as_str().unwrap().to_owned()
}

async fn client(app: &TestApp, token: &str, name: &str) -> String {
    let r = app.post("/v1/clients", Some(token), &json!({"business_name": name})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.value()["id"].as_str().unwrap().to_owned()
}

async fn start(app: &TestApp, token: &str, client: &str, template: &str) -> Value {
    let due = (Utc::now() + chrono::Duration::days(60)).date_naive();
    let r = app
        .post(
            "/v1/workflow-runs",
            Some(token),
            &json!({"client_id": client, "template_id": template, "due_date": due}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.value()
}

fn step<'a>(run: &'a Value, key: &str) -> &'a Value {
    run["steps"].as_array().unwrap().iter().find(|s| s["key"] == key).unwrap()
}

fn job_of(run: &Value, key: &str) -> StepJob {
    StepJob {
        run_id: run["id"].as_str().unwrap().parse::<WorkflowRunId>().unwrap(),
        step_id: step(run, key)["id"].as_str().unwrap().parse::<WorkflowStepId>().unwrap(),
    }
}

async fn get_run(app: &TestApp, token: &str, run: &Value) -> Value {
    let r = app.get(&format!("/v1/workflow-runs/{}", run["id"].as_str().unwrap()), token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.value()
}

/// Polls the run (up to a minute) until step `key` has `status`.
async fn wait_for_status(app: &TestApp, token: &str, run: &Value, key: &str, status: &str) -> Value {
    for _ in 0..1200 {
        let now = get_run(app, token, run).await;
        if step(&now, key)["status"] == status {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("step {key} never became {status}: {}", get_run(app, token, run).await);
}

/// The attempts the unfinished job of `kind` has made (0 when there is none).
async fn jobs_attempts(app: &TestApp, kind: &str) -> i32 {
    sqlx::query_scalar("select coalesce(max(attempt), 0) from jobs where kind = $1")
        .bind(kind)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn jobs_of_kind(app: &TestApp, kind: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from jobs where kind = $1 and state in ('available', 'running', 'retrying')",
    )
    .bind(kind)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_wait_ends_after_its_business_days_and_not_while_the_run_is_paused() {
    let app = TestApp::spawn().await;
    let t = app.tenant("waits").await;
    let owner = t.owner.token.as_str();
    let tid = template(
        &app,
        owner,
        json!([
            {"key": "send", "name": "Send the questionnaire", "kind": "task", "estimated_hours": "1"},
            {"key": "pause", "name": "Give them two days", "kind": "wait", "wait_days": 2, "estimated_hours": "0",
             "depends_on": ["send"]},
            {"key": "chase", "name": "Chase", "kind": "task", "estimated_hours": "1", "depends_on": ["pause"]}
        ]),
    )
    .await;
    let c = client(&app, owner, "Willow").await;
    let run = start(&app, owner, &c, &tid).await;
    assert_eq!(step(&run, "pause")["outcome"], Value::Null, "not reached yet: {run}");
    let rid = run["id"].as_str().unwrap();
    let before = Utc::now();
    let r = app
        .post(&format!("/v1/workflow-runs/{rid}/steps/send"), Some(owner), &json!({"action": "complete"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let after = Utc::now();
    let run = r.value();
    assert_eq!(step(&run, "pause")["status"], "ready");
    let until: chrono::DateTime<Utc> =
        serde_json::from_value(step(&run, "pause")["outcome"]["wait_until"].clone()).unwrap();
    // Two business days on the firm's calendar after the step became ready, same time of day.
    let (lo, hi) =
        (practice::workflow_jobs::wait_end(before, 2), practice::workflow_jobs::wait_end(after, 2));
    // (The database keeps microseconds.)
    assert!(lo - chrono::Duration::milliseconds(1) <= until && until <= hi, "{lo} <= {until} <= {hi}");
    // Its job was queued with the step, due then, once.
    let (n, run_at): (i64, chrono::DateTime<Utc>) = sqlx::query_as(
        "select count(*), max(run_at) from jobs where kind = 'workflow.wait' and unique_key = $1",
    )
    .bind(practice::workflow_jobs::unique_key(job_of(&run, "pause").step_id))
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!((n, run_at), (1, until));

    let handler = wait_job(&app);
    let job = job_of(&run, "pause");
    let early = handler.settle(org(&t), job, until - chrono::Duration::minutes(1), None).await.unwrap();
    assert_eq!(early, WaitOutcome::NotYet(until));
    assert_eq!(step(&get_run(&app, owner, &run).await, "pause")["status"], "ready");

    // Paused: the wait's end passes and nothing moves; resuming keeps the same end and one job.
    let cmd = |c: &str| json!({"command": c});
    let r = app.post(&format!("/v1/workflow-runs/{rid}/command"), Some(owner), &cmd("pause")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let late = until + chrono::Duration::seconds(1);
    assert_eq!(handler.settle(org(&t), job, late, None).await.unwrap(), WaitOutcome::Paused);
    let now = get_run(&app, owner, &run).await;
    assert_eq!(
        (step(&now, "pause")["status"].clone(), step(&now, "chase")["status"].clone()),
        (json!("ready"), json!("pending"))
    );
    let r = app.post(&format!("/v1/workflow-runs/{rid}/command"), Some(owner), &cmd("resume")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        step(&r.value(), "pause")["outcome"]["wait_until"],
        step(&run, "pause")["outcome"]["wait_until"]
    );
    assert_eq!(jobs_of_kind(&app, "workflow.wait").await, 1);

    // Resumed: the wait completes and readies its dependant, once.
    assert_eq!(handler.settle(org(&t), job, late, None).await.unwrap(), WaitOutcome::Completed);
    let now = get_run(&app, owner, &run).await;
    assert_eq!(
        (step(&now, "pause")["status"].clone(), step(&now, "chase")["status"].clone()),
        (json!("done"), json!("ready"))
    );
    assert_eq!(handler.settle(org(&t), job, late, None).await.unwrap(), WaitOutcome::Moot);
    assert_eq!(step(&get_run(&app, owner, &run).await, "chase")["status"], "ready");
}

#[tokio::test]
async fn an_email_step_mails_the_portal_users_once_blocks_without_any_and_goes_again_on_retry() {
    let app = TestApp::spawn().await;
    let t = app.tenant("mailing").await;
    let owner = t.owner.token.as_str();
    let tid = template(
        &app,
        owner,
        json!([
            {"key": "hello", "name": "Welcome letter", "kind": "automation", "automation": "send_email",
             "estimated_hours": "0"},
            {"key": "docs", "name": "Last year's return", "kind": "automation", "automation": "request_documents",
             "estimated_hours": "0", "depends_on": ["hello"]},
            {"key": "upload", "name": "Bank statements", "kind": "client_request", "estimated_hours": "0",
             "depends_on": ["hello"]}
        ]),
    )
    .await;
    let c = client(&app, owner, "Quince").await;
    let w = worker(&app, None);

    // No portal user yet: the step is blocked at once with the reason.
    let run = start(&app, owner, &c, &tid).await;
    let blocked = wait_for_status(&app, owner, &run, "hello", "blocked").await;
    let outcome = &step(&blocked, "hello")["outcome"];
    assert!(outcome["error"].as_str().unwrap().contains("has no portal users"), "{outcome}");
    assert_eq!(jobs_of_kind(&app, mailer::KIND).await, 0);

    // A portal user is granted access; Retry (unblock) queues the step again and it mails them.
    let portal = app.member(&t, Role::Client).await;
    let grant = app
        .post(
            &format!("/v1/clients/{c}/portal-access"),
            Some(owner),
            &json!({"user_id": portal.user_id, "can_upload_documents": true}),
        )
        .await;
    assert_eq!(grant.status, 201, "{}", grant.body);
    let rid = run["id"].as_str().unwrap();
    let r = app
        .post(&format!("/v1/workflow-runs/{rid}/steps/hello"), Some(owner), &json!({"action": "unblock"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let done = wait_for_status(&app, owner, &run, "docs", "done").await;
    let hello = &step(&done, "hello")["outcome"];
    assert_eq!(step(&done, "hello")["status"], "done");
    assert_eq!(hello["sent_to"], json!([portal.email]));
    assert_eq!(hello["error"], Value::Null);
    assert_eq!(hello["cached"], false, "mails are never cached");
    let docs = &step(&done, "docs")["outcome"];
    assert_eq!(docs["requested"], json!(["Last year's return", "Bank statements"]));
    w.shutdown(Duration::from_secs(5)).await;

    // Two mails queued (one per step), and a second delivery of either job adds none.
    assert_eq!(jobs_of_kind(&app, mailer::KIND).await, 2);
    let handler = automation_job(&app, false);
    for key in ["hello", "docs"] {
        let again = handler.perform(org(&t), job_of(&run, key), Utc::now(), None, false).await.unwrap();
        assert_eq!(again, AutomationOutcome::Moot);
    }
    assert_eq!(jobs_of_kind(&app, mailer::KIND).await, 2);
    let mails_worker = app.mail_worker();
    let mails = app.wait_for_mails(2).await;
    assert_eq!(mails.len(), 2);
    assert!(mails.iter().any(|m| m.contains("Welcome letter")), "{mails:?}");
    assert!(
        mails.iter().any(|m| m.contains("Bank statements") && m.contains("Last year's return")),
        "{mails:?}"
    );
    mails_worker.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_quickbooks_sync_step_is_done_when_its_sync_succeeds_and_an_identical_one_reuses_it_until_it_expires()
 {
    let sandbox = sandbox(30, Faults::default()).await;
    let config = qb_config(&sandbox);
    let api = api::ApiConfig { metrics_token: Some("scrape".into()), ..api::ApiConfig::default() };
    let app =
        TestApp::spawn_with(TestConfig { quickbooks: Some(config.clone()), api, ..TestConfig::default() })
            .await;
    let qb = qbo_sync::QuickBooks::new(config, app.db.clone(), app.keys.clone()).await.unwrap();
    let t = app.tenant("syncing").await;
    let owner = t.owner.token.as_str();
    let c = client(&app, owner, "Rowan").await;
    let tid = template(
        &app,
        owner,
        json!([{"key": "sync", "name": "Pull the books", "kind": "automation", "automation": "start_quickbooks_sync",
                "task_type": "data_entry", "estimated_hours": "0"}]),
    )
    .await;

    // Without a connection the step blocks with the reason.
    let w = worker(&app, Some(qb.clone()));
    let unconnected = start(&app, owner, &c, &tid).await;
    let blocked = wait_for_status(&app, owner, &unconnected, "sync", "blocked").await;
    assert!(
        step(&blocked, "sync")["outcome"]["error"].as_str().unwrap().contains("no QuickBooks connection"),
        "{blocked}"
    );

    // Connected through the sandbox's consent; its first sync is left to finish.
    let r = app.post(&format!("/v1/clients/{c}/quickbooks/connect"), Some(owner), &json!({})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let callback = consent(r.value()["authorization_url"].as_str().unwrap()).await;
    assert_eq!(app.http.get(&callback).send().await.unwrap().status(), 200);
    wait_for_syncs_finished(&app, owner, &c).await;
    w.shutdown(Duration::from_secs(5)).await;

    // The first step queues a sync (a miss) and is in progress while the sync has not run (no
    // worker syncs yet); it is done when the sync has succeeded.
    let w = worker_of(&app, true, None);
    let first = start(&app, owner, &c, &tid).await;
    let waiting = wait_for_status(&app, owner, &first, "sync", "in_progress").await;
    let o1 = step(&waiting, "sync")["outcome"].clone();
    assert_eq!(o1["cached"], false, "{o1}");
    let sync_run = o1["sync_run_id"].as_str().unwrap().to_owned();
    let sync_path = format!("/v1/clients/{c}/quickbooks/sync-runs/{sync_run}");
    assert_eq!(app.get(&sync_path, owner).await.value()["status"], "queued");
    // A look or two later (2 s, then 4 s), still in progress.
    while jobs_attempts(&app, workflow_automation::sync_wait::SYNC_WAIT_KIND).await < 2 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(step(&get_run(&app, owner, &first).await, "sync")["status"], "in_progress");
    w.shutdown(Duration::from_secs(5)).await;
    let w = worker(&app, Some(qb.clone()));
    wait_for_status(&app, owner, &first, "sync", "done").await;
    assert_eq!(app.get(&sync_path, owner).await.value()["status"], "succeeded");
    let second = start(&app, owner, &c, &tid).await;
    let second = wait_for_status(&app, owner, &second, "sync", "done").await;
    let o2 = step(&second, "sync")["outcome"].clone();
    assert_eq!((o2["cached"].clone(), o2["sync_run_id"].clone()), (json!(true), json!(sync_run)), "{o2}");
    let r = app.get(&format!("/v1/clients/{c}/quickbooks/sync-runs/{sync_run}"), owner).await;
    assert_eq!(r.status, 200, "the step's sync run is the client's: {}", r.body);
    wait_for_syncs_finished(&app, owner, &c).await;
    w.shutdown(Duration::from_secs(5)).await;

    // Past the data-entry TTL (5 minutes) the entry has expired: a miss, and a new sync run.
    let third = start(&app, owner, &c, &tid).await;
    let later = Utc::now() + chrono::Duration::minutes(6);
    let outcome = automation_job(&app, true)
        .perform(org(&t), job_of(&third, "sync"), later, None, false)
        .await
        .unwrap();
    let AutomationOutcome::SyncQueued { result, cached } = outcome else { panic!("{outcome:?}") };
    assert!(!cached);
    let failing = result.sync_run_id.unwrap();
    assert_ne!(failing.to_string(), sync_run);

    // That sync fails (its job ends, the run is marked failed, as the sync worker leaves them):
    // the step is blocked with the sync's errors, and retrying it does not reuse the failed sync
    // from the cache.
    let mut conn = app.test_db.owner_conn().await;
    sqlx::query("delete from jobs where queue = $1")
        .bind(qbo_sync::sync_jobs::QUEUE)
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "update qbo_sync_runs set status = 'failed', finished_at = now(),
                errors = '[{\"kind\": \"Customer\", \"error\": \"AuthorizationFailed\"}]' where id = $1",
    )
    .bind(failing)
    .execute(&mut conn)
    .await
    .unwrap();
    let job = job_of(&third, "sync");
    let wait = SyncWait {
        run_id: job.run_id,
        step_id: job.step_id,
        client_id: c.parse().unwrap(),
        sync_run_id: failing,
    };
    let looked = SyncWaitJob { db: app.db.clone() }.look(org(&t), wait, None, false).await.unwrap();
    let SyncWaitOutcome::Blocked(reason) = looked else { panic!("{looked:?}") };
    assert!(reason.contains("sync failed") && reason.contains("AuthorizationFailed"), "{reason}");
    let blocked = get_run(&app, owner, &third).await;
    assert_eq!(step(&blocked, "sync")["status"], "blocked", "{blocked}");
    assert!(step(&blocked, "sync")["outcome"]["error"].as_str().unwrap().contains("AuthorizationFailed"));
    let rid = third["id"].as_str().unwrap();
    let r = app
        .post(&format!("/v1/workflow-runs/{rid}/steps/sync"), Some(owner), &json!({"action": "unblock"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let outcome = automation_job(&app, true).perform(org(&t), job, later, None, false).await.unwrap();
    let AutomationOutcome::SyncQueued { result, cached } = outcome else { panic!("{outcome:?}") };
    assert!(!cached, "a failed sync is not reused");
    assert_ne!(result.sync_run_id, Some(failing));

    let metrics = app.request(reqwest::Method::GET, "/metrics", Some("scrape"), None).await.body;
    for name in ["workflow_step_cache_hits_total", "workflow_step_cache_misses_total"] {
        assert!(metrics.contains(name), "{name} missing from /metrics");
    }
}

/// Polls the client's sync history (up to two minutes) until no run is queued or running.
async fn wait_for_syncs_finished(app: &TestApp, token: &str, client: &str) {
    for _ in 0..2400 {
        let runs = app.get(&format!("/v1/clients/{client}/quickbooks/sync-runs"), token).await.value();
        let items = runs["items"].as_array().cloned().unwrap_or_default();
        if !items.is_empty() && items.iter().all(|r| r["status"] == "succeeded" || r["status"] == "failed") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the client's syncs did not finish");
}

/// Rows in both tables of migration 0093 for the tenancy proofs: a run whose first step is a
/// wait (taken up as it starts) and a cached sync result.
pub(crate) async fn populate(app: &TestApp, t: &Tenant, client: &str) {
    let token = t.owner.token.as_str();
    let tid = template(
        app,
        token,
        json!([{"key": "hold", "name": "Hold", "kind": "wait", "wait_days": 1, "estimated_hours": "0"}]),
    )
    .await;
    let run = start(app, token, client, &tid).await;
    assert!(step(&run, "hold")["outcome"]["wait_until"].is_string(), "{run}");
    let mut tx = store::TenantTx::begin(&app.db, org(t), store::Actor::system()).await.unwrap();
    let key = workflow_automation::cache::key(
        domain::workflow::Automation::StartQuickbooksSync,
        domain::workflow::TaskType::Review,
        &[client],
    )
    .unwrap();
    workflow_automation::cache::remember(&mut tx, &key, &json!({"sync_run_id": null}), Utc::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}
