//! Recurring runs and bulk starts: a schedule's period created exactly once by concurrent ticks,
//! periods in the firm's time zone across a DST change, missed periods started only when asked,
//! bad input refused with nothing stored, and a template started for 300 clients by the job, each
//! client exactly once even when the job runs again.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc, Weekday};
use domain::{OrganizationId, Role};
use serde_json::{Value, json};
use store::sqlx;
use store::{Actor, TenantTx};
use testkit::{TestApp, TestResponse};

use crate::tenancy::FirmIds;

async fn put(app: &TestApp, path: &str, token: &str, body: &Value) -> TestResponse {
    app.request(reqwest::Method::PUT, path, Some(token), Some(body)).await
}

fn practice(app: &TestApp) -> practice::Practice {
    practice::Practice::new(app.db.clone(), app.keys.clone())
}

async fn system_template(app: &TestApp, token: &str) -> String {
    let list = app.get("/v1/workflow-templates", token).await.value();
    list[0]["id"].as_str().unwrap().to_owned()
}

async fn client(app: &TestApp, token: &str, name: &str) -> String {
    let r = app.post("/v1/clients", Some(token), &json!({"business_name": name})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.value()["id"].as_str().unwrap().to_owned()
}

async fn set_zone(app: &TestApp, token: &str, zone: &str) {
    let r = put(app, "/v1/workflow-settings", token, &json!({"routing": "off", "time_zone": zone})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.value()["time_zone"], zone);
}

async fn schedules(app: &TestApp, token: &str, client: &str) -> Vec<Value> {
    let r = app.get(&format!("/v1/clients/{client}/workflow-schedules"), token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.value().as_array().unwrap().clone()
}

/// Runs per client of the firm (read in the firm's transaction).
async fn runs_per_client(app: &TestApp, org: &str) -> HashMap<uuid::Uuid, i64> {
    let org: OrganizationId = org.parse().unwrap();
    let mut tx = TenantTx::begin(&app.db, org, Actor::system()).await.unwrap();
    let rows: Vec<(uuid::Uuid, i64)> =
        sqlx::query_as("select client_id, count(*) from workflow_runs group by client_id")
            .fetch_all(tx.conn())
            .await
            .unwrap();
    tx.rollback().await.unwrap();
    rows.into_iter().collect()
}

/// The firm's ready steps by routing outcome, with the notices and audit entries routing wrote.
#[derive(Debug)]
struct RoutedSteps {
    assigned: i64,
    unassigned: i64,
    notified: i64,
    audited: i64,
    per_member: HashMap<uuid::Uuid, i64>,
}

async fn routed_steps(app: &TestApp, org: &str) -> RoutedSteps {
    let org: OrganizationId = org.parse().unwrap();
    let mut tx = TenantTx::begin(&app.db, org, Actor::system()).await.unwrap();
    let (assigned, unassigned): (i64, i64) = sqlx::query_as(
        "select count(*) filter (where assignee_id is not null), count(*) filter (where assignee_id is null)
           from workflow_steps where status = 'ready' and kind not in ('wait', 'automation')",
    )
    .fetch_one(tx.conn())
    .await
    .unwrap();
    let notified: i64 =
        sqlx::query_scalar("select count(*) from notifications where kind = 'workflow_step_assigned'")
            .fetch_one(tx.conn())
            .await
            .unwrap();
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'workflow_step.route'")
            .fetch_one(tx.conn())
            .await
            .unwrap();
    let per_member: Vec<(uuid::Uuid, i64)> = sqlx::query_as(
        "select assignee_id, count(*) from workflow_steps where assignee_id is not null group by assignee_id",
    )
    .fetch_all(tx.conn())
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    RoutedSteps { assigned, unassigned, notified, audited, per_member: per_member.into_iter().collect() }
}

async fn run_count(app: &TestApp, token: &str, client: &str) -> usize {
    let runs = app.get(&format!("/v1/clients/{client}/workflow-runs"), token).await.value();
    runs["items"].as_array().unwrap().len()
}

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

/// B's schedule and bulk start for the cross-tenant table.
pub(crate) async fn schedule_and_bulk(app: &TestApp, token: &str, ids: &FirmIds) -> (String, String) {
    let r = app
        .post(
            &format!("/v1/clients/{}/workflow-schedules", ids.client),
            Some(token),
            &json!({"template_id": ids.template, "cron": "0 0 1 * *", "due_business_day": 5}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let schedule = r.value()["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            "/v1/workflow-bulk-starts",
            Some(token),
            &json!({"template_id": ids.template, "client_ids": [ids.client], "due_date": "2099-01-29"}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    (schedule, r.value()["id"].as_str().unwrap().to_owned())
}

/// A schedule with one started period, and a bulk start with its item, for the tenancy proofs.
pub(crate) async fn populate(app: &TestApp, token: &str, ids: &FirmIds) {
    let (schedule, _) = schedule_and_bulk(app, token, ids).await;
    let s = schedules(app, token, &ids.client).await;
    let s = s.iter().find(|s| s["id"] == schedule.as_str()).unwrap();
    let due = at(&s["next"][0]["starts_at"]) + chrono::Duration::minutes(1);
    practice(app).run_due_workflow_schedules(due).await.unwrap();
}

#[tokio::test]
async fn a_due_period_is_created_exactly_once_by_concurrent_ticks() {
    let app = TestApp::spawn().await;
    let t = app.tenant("recur-once").await;
    let owner = t.owner.token.as_str();
    set_zone(&app, owner, "America/New_York").await;
    let c = client(&app, owner, "Monthly Co").await;
    let template = system_template(&app, owner).await;

    // The monthly close: each month's period starts at local midnight on the 1st, its run due on
    // the 5th business day.
    let r = app
        .post(
            &format!("/v1/clients/{c}/workflow-schedules"),
            Some(owner),
            &json!({"template_id": template, "cron": "0 0 1 * *", "due_business_day": 5}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s = r.value();
    assert_eq!(s["time_zone"], "America/New_York");
    let next = s["next"].as_array().unwrap();
    assert_eq!(next.len(), 3);
    let first = at(&next[0]["starts_at"]);
    let local = first.with_timezone(&chrono_tz::America::New_York);
    assert_eq!((local.day(), local.format("%H:%M").to_string()), (1, "00:00".to_owned()));
    let cal = domain::workflow::BusinessCalendar::us_federal(local.year()..=local.year());
    let fifth = cal.nth_of_month(local.year(), local.month(), 5).unwrap();
    assert_eq!(next[0]["due_date"], fifth.to_string());

    // Nothing is due a minute before the period.
    let p = practice(&app);
    assert_eq!(p.run_due_workflow_schedules(first - chrono::Duration::minutes(1)).await.unwrap().started, 0);

    // Four schedulers tick at once on the same due schedule: one run.
    let now = first + chrono::Duration::minutes(1);
    let (p1, p2, p3, p4) = (practice(&app), practice(&app), practice(&app), practice(&app));
    let (a, b, c3, d) = tokio::join!(
        p1.run_due_workflow_schedules(now),
        p2.run_due_workflow_schedules(now),
        p3.run_due_workflow_schedules(now),
        p4.run_due_workflow_schedules(now)
    );
    let started: usize = [a, b, c3, d].into_iter().map(|r| r.unwrap().started).sum();
    assert_eq!(started, 1);
    // And again later in the same period: still one.
    assert_eq!(p.run_due_workflow_schedules(now + chrono::Duration::hours(3)).await.unwrap().started, 0);
    let runs = app.get(&format!("/v1/clients/{c}/workflow-runs"), owner).await.value();
    let runs = runs["items"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["due_date"], fifth.to_string());
    assert!(runs[0]["name"].as_str().unwrap().ends_with(&local.date_naive().to_string()), "{}", runs[0]);

    let s = &schedules(&app, owner, &c).await[0];
    assert_eq!(s["recent"].as_array().unwrap().len(), 1);
    assert_eq!(s["recent"][0]["run_id"], runs[0]["id"]);
    assert!(s["missed"].as_array().unwrap().is_empty());
    assert_eq!(at(&s["next"][0]["starts_at"]), at(&next[1]["starts_at"]));

    // The tick is audited as the run's start, by the system.
    let audit = app.get("/v1/audit-log?action=workflow_run.start", owner).await;
    assert_eq!(audit.status, 200, "{}", audit.body);
}

#[tokio::test]
async fn periods_follow_the_firm_zone_across_a_dst_change() {
    let app = TestApp::spawn().await;
    let t = app.tenant("recur-dst").await;
    let owner = t.owner.token.as_str();
    set_zone(&app, owner, "America/New_York").await;
    let c = client(&app, owner, "Weekly Co").await;
    let template = system_template(&app, owner).await;
    let r = app
        .post(
            &format!("/v1/clients/{c}/workflow-schedules"),
            Some(owner),
            &json!({"template_id": template, "cron": "0 9 * * 1", "due_business_day": 1}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // Next year's spring-forward Sunday in New York (second Sunday of March): the Monday before is
    // 09:00 EST (14:00 UTC), the Monday after 09:00 EDT (13:00 UTC).
    let year = Utc::now().year() + 1;
    let sunday = NaiveDate::from_weekday_of_month_opt(year, 3, Weekday::Sun, 2).unwrap();
    let utc = |d: NaiveDate, h: u32| Utc.from_utc_datetime(&d.and_hms_opt(h, 0, 0).unwrap());
    let before = utc(sunday - chrono::Days::new(6), 14);
    let after = utc(sunday + chrono::Days::new(1), 13);

    let p = practice(&app);
    let report = p.run_due_workflow_schedules(before).await.unwrap();
    assert_eq!(report.started, 1);
    // The Mondays between now and then were missed (the scheduler "was down"): listed, not run.
    let s = &schedules(&app, owner, &c).await[0];
    let missed = s["missed"].as_array().unwrap();
    assert!(!missed.is_empty() && missed.len() <= 24, "{s}");
    assert_eq!(at(&s["next"][0]["starts_at"]), after, "{s}");
    assert!(s["next"][0]["local"].as_str().unwrap().ends_with("09:00 EDT"), "{s}");

    assert_eq!(p.run_due_workflow_schedules(after - chrono::Duration::minutes(1)).await.unwrap().started, 0);
    assert_eq!(p.run_due_workflow_schedules(after).await.unwrap().started, 1);
    let runs = app.get(&format!("/v1/clients/{c}/workflow-runs"), owner).await.value();
    let mut dues: Vec<String> = runs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["due_date"].as_str().unwrap().to_owned())
        .collect();
    dues.sort();
    assert_eq!(
        dues,
        vec![(sunday - chrono::Days::new(6)).to_string(), (sunday + chrono::Days::new(1)).to_string()]
    );
}

#[tokio::test]
async fn missed_periods_are_started_only_when_asked() {
    let app = TestApp::spawn().await;
    let t = app.tenant("recur-catchup").await;
    let owner = t.owner.token.as_str();
    let c = client(&app, owner, "Quarterly Co").await;
    let template = system_template(&app, owner).await;
    // Quarterly estimates: the 15th of January, April, June and September (UTC, the default zone).
    let r = app
        .post(
            &format!("/v1/clients/{c}/workflow-schedules"),
            Some(owner),
            &json!({"template_id": template, "cron": "0 0 15 1,4,6,9 *"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let s = r.value();
    let id = s["id"].as_str().unwrap().to_owned();
    // The scheduler was down for four periods: the latest is created, three are missed.
    let fourth = at(&s["next"][2]["starts_at"]);
    let later = app.get("/v1/workflow-schedules/preview?cron=0%200%2015%201,4,6,9%20*", owner).await;
    assert_eq!(later.status, 200, "{}", later.body);
    let p = practice(&app);
    let now = fourth + chrono::Duration::days(100);
    let report = p.run_due_workflow_schedules(now).await.unwrap();
    assert_eq!((report.started, report.missed), (1, 3));
    assert_eq!(run_count(&app, owner, &c).await, 1);
    let s = &schedules(&app, owner, &c).await[0];
    let missed = s["missed"].as_array().unwrap().clone();
    assert_eq!(missed.len(), 3);
    assert!(at(&missed[0]["period_start"]) < at(&missed[2]["period_start"]), "oldest first: {s}");

    // Starting one creates one run; the same period again is refused; a period that was never
    // missed is refused.
    let path = format!("/v1/workflow-schedules/{id}/periods/start");
    let r = app.post(&path, Some(owner), &json!({"period_start": missed[1]["period_start"]})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(run_count(&app, owner, &c).await, 2);
    let r = app.post(&path, Some(owner), &json!({"period_start": missed[1]["period_start"]})).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = app.post(&path, Some(owner), &json!({"period_start": "2030-02-03T04:05:06Z"})).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(run_count(&app, owner, &c).await, 2);
    let s = &schedules(&app, owner, &c).await[0];
    assert_eq!(s["missed"].as_array().unwrap().len(), 2);

    // Paused: nothing is created, and resuming does not replay what passed meanwhile.
    let r =
        app.post(&format!("/v1/workflow-schedules/{id}/pause"), Some(owner), &json!({"paused": true})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.value()["paused"], true);
    assert_eq!(
        p.run_due_workflow_schedules(now + chrono::Duration::days(400)).await.unwrap(),
        Default::default()
    );
    let r =
        app.post(&format!("/v1/workflow-schedules/{id}/pause"), Some(owner), &json!({"paused": false})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(at(&r.value()["next"][0]["starts_at"]) > Utc::now());

    // Staff cannot change schedules; deleting keeps the runs.
    let staff = app.member(&t, domain::Role::Staff).await;
    let r = app.delete(&format!("/v1/workflow-schedules/{id}"), &staff.token).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = app.delete(&format!("/v1/workflow-schedules/{id}"), owner).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(schedules(&app, owner, &c).await.is_empty());
    assert_eq!(run_count(&app, owner, &c).await, 2);
}

#[tokio::test]
async fn bad_cron_zone_or_template_is_refused_and_nothing_stored() {
    let app = TestApp::spawn().await;
    let t = app.tenant("recur-bad").await;
    let owner = t.owner.token.as_str();
    let c = client(&app, owner, "Careful Co").await;
    let template = system_template(&app, owner).await;

    let r =
        put(&app, "/v1/workflow-settings", owner, &json!({"routing": "scored", "time_zone": "Mars/Base"}))
            .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("time_zone"), "{}", r.body);
    let s = app.get("/v1/workflow-settings", owner).await.value();
    assert_eq!((s["time_zone"].clone(), s["routing"].clone()), (json!("UTC"), json!("off")));

    let path = format!("/v1/clients/{c}/workflow-schedules");
    for (body, status, field) in [
        (json!({"template_id": template, "cron": "not a cron"}), 422, "cron"),
        (json!({"template_id": template, "cron": "*/5 * * * *"}), 422, "cron"),
        (
            json!({"template_id": template, "cron": "0 0 1 * *", "due_business_day": 0}),
            422,
            "due_business_day",
        ),
        (
            json!({"template_id": template, "cron": "0 0 1 * *", "due_business_day": 61}),
            422,
            "due_business_day",
        ),
        (json!({"template_id": uuid::Uuid::new_v4(), "cron": "0 0 1 * *"}), 404, "template"),
    ] {
        let r = app.post(&path, Some(owner), &body).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
        assert!(r.body.contains(field), "{body}: {}", r.body);
    }
    assert!(schedules(&app, owner, &c).await.is_empty());
    let r = app.get("/v1/workflow-schedules/preview?cron=nope", owner).await;
    assert_eq!(r.status, 422, "{}", r.body);

    let many: Vec<String> = (0..1001).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    for body in [
        json!({"template_id": template, "client_ids": [], "due_date": "2099-01-29"}),
        json!({"template_id": template, "client_ids": many, "due_date": "2099-01-29"}),
        json!({"template_id": template, "client_ids": [c], "due_date": "2001-01-01"}),
        json!({"template_id": template, "client_ids": [c], "all_active": true, "due_date": "2099-01-29"}),
    ] {
        let r = app.post("/v1/workflow-bulk-starts", Some(owner), &body).await;
        assert_eq!(r.status, 422, "{}", r.body);
    }
    let r = app
        .post(
            "/v1/workflow-bulk-starts",
            Some(owner),
            &json!({"template_id": uuid::Uuid::new_v4(), "client_ids": [c], "due_date": "2099-01-29"}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(runs_per_client(&app, &t.organization_id).await.is_empty());
    let org: OrganizationId = t.organization_id.parse().unwrap();
    let mut tx = TenantTx::begin(&app.db, org, Actor::system()).await.unwrap();
    let bulks: i64 =
        sqlx::query_scalar("select count(*) from workflow_bulk_starts").fetch_one(tx.conn()).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(bulks, 0);
}

async fn wait_done(app: &TestApp, token: &str, id: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    loop {
        let r = app.get(&format!("/v1/workflow-bulk-starts/{id}"), token).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.value();
        if v["status"] == "done" {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "the bulk start did not finish: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_bulk_start_of_300_clients_runs_each_once_even_when_retried() {
    let app = TestApp::spawn().await;
    let t = app.tenant("recur-bulk").await;
    let owner = t.owner.token.as_str();
    let template = system_template(&app, owner).await;
    // Scored routing over two members: the batch routes its runs' ready steps together.
    let (a, b) = (app.member(&t, Role::Staff).await, app.member(&t, Role::Staff).await);
    let body = json!({"routing": "scored"});
    assert_eq!(put(&app, "/v1/workflow-settings", owner, &body).await.status, 200);
    let mut clients = Vec::new();
    for i in 0..300 {
        clients.push(client(&app, owner, &format!("Bulk client {i:03}")).await);
    }
    let archived = clients[7].clone();
    let r = app.post(&format!("/v1/clients/{archived}/archive"), Some(owner), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let stranger = uuid::Uuid::new_v4().to_string();
    let mut ids = clients.clone();
    ids.push(stranger.clone());

    let r = app
        .post(
            "/v1/workflow-bulk-starts",
            Some(owner),
            &json!({"template_id": template, "client_ids": ids, "due_date": "2099-01-29"}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let bulk = r.value();
    assert_eq!(bulk["total"], 301);
    assert!(bulk["progress"].as_u64().unwrap() < 100);
    let id = bulk["id"].as_str().unwrap().to_owned();

    let mut registry = jobs::Registry::new();
    workflow_recurrence::register(&mut registry, practice(&app));
    let worker = jobs::Worker::new(
        app.db.pool().clone(),
        registry,
        jobs::WorkerConfig {
            queues: vec![jobs::QueueConfig::new(practice::workflow_jobs::QUEUE)],
            poll_interval: Duration::from_millis(50),
            ..jobs::WorkerConfig::default()
        },
    )
    .start();
    let done = wait_done(&app, owner, &id).await;
    assert_eq!(
        (done["progress"].clone(), done["started"].clone(), done["failed"].clone()),
        (json!(100), json!(299), json!(2))
    );
    let failures = done["failures"].as_array().unwrap();
    assert!(
        failures.iter().any(|f| f["client_id"] == archived.as_str() && f["error"] == "client is archived")
    );
    assert!(failures.iter().any(|f| f["client_id"] == stranger.as_str() && f["error"] == "client not found"));

    let per_client = runs_per_client(&app, &t.organization_id).await;
    assert_eq!(per_client.len(), 299);
    assert!(per_client.values().all(|&n| n == 1), "{per_client:?}");
    // Every ready step a person does is routed, its assignee notified and the choice audited, to
    // the two members (both, since each fills its week before the other is chosen again).
    let routed = routed_steps(&app, &t.organization_id).await;
    assert_eq!(routed.unassigned, 0, "{routed:?}");
    assert!(routed.assigned >= 299, "{routed:?}");
    assert_eq!((routed.notified, routed.audited), (routed.assigned, routed.assigned), "{routed:?}");
    let members: Vec<uuid::Uuid> = [&a, &b].iter().map(|m| m.user_id.parse().unwrap()).collect();
    assert!(routed.per_member.keys().all(|u| members.contains(u)), "{routed:?}");
    assert!(members.iter().all(|m| routed.per_member.get(m).is_some_and(|&n| n > 0)), "{routed:?}");

    // The job again (a retry after a crash, say), twice at once: nothing new.
    let org: OrganizationId = t.organization_id.parse().unwrap();
    let bulk_id: domain::WorkflowBulkId = id.parse().unwrap();
    let (p1, p2) = (practice(&app), practice(&app));
    let (a, b) = tokio::join!(p1.run_workflow_bulk(org, bulk_id, 2), p2.run_workflow_bulk(org, bulk_id, 2));
    a.unwrap();
    b.unwrap();
    assert_eq!(runs_per_client(&app, &t.organization_id).await, per_client);

    // "All active clients": the 299 not archived.
    let r = app
        .post(
            "/v1/workflow-bulk-starts",
            Some(owner),
            &json!({"template_id": template, "all_active": true, "due_date": "2099-02-26"}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.value()["total"], 299);
    let done = wait_done(&app, owner, r.value()["id"].as_str().unwrap()).await;
    assert_eq!(done["started"], 299);
    let per_client = runs_per_client(&app, &t.organization_id).await;
    assert!(per_client.values().all(|&n| n == 2), "{per_client:?}");
    worker.shutdown(Duration::from_secs(10)).await;
}
