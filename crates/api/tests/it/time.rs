//! Time over HTTP: one running timer per member (starting another stops it), stopping, manual
//! entries and their bounds, the week's time sheet, the engagement's actual hours following
//! every change, who may change whose entries, and billing the work in progress once.

use chrono::{Duration, SecondsFormat, Utc};
use domain::Role;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use testkit::{TestApp, TestResponse};

async fn patch(app: &TestApp, path: &str, token: &str, body: &Value) -> TestResponse {
    app.request(reqwest::Method::PATCH, path, Some(token), Some(body)).await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> TestResponse {
    app.request(reqwest::Method::DELETE, path, Some(token), None).await
}

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap_or_else(|| panic!("a decimal string: {v}")).parse().unwrap()
}

async fn actual_hours(app: &TestApp, engagement: &str, token: &str) -> Decimal {
    dec(&app.get(&format!("/v1/engagements/{engagement}"), token).await.value()["actual_hours"])
}

/// Hours as the engagement keeps them: total minutes / 60, to the hundredth.
fn hours(minutes: i64) -> Decimal {
    domain::time::hours(minutes)
}

#[tokio::test]
async fn timers_manual_entries_and_the_engagements_hours() {
    let app = TestApp::spawn().await;
    let t = app.tenant("hours").await;
    let owner = t.owner.token.as_str();
    let staff = app.member(&t, Role::Staff).await;
    let other = app.member(&t, Role::Staff).await;
    let client = app.post("/v1/clients", Some(owner), &json!({"business_name": "Clock Co"})).await.value();
    let client = client["id"].as_str().unwrap();
    let e = app
        .post(
            "/v1/engagements",
            Some(owner),
            &json!({"client_id": client, "name": "Books", "engagement_type": "bookkeeping", "hourly_rate": "120.00"}),
        )
        .await;
    assert_eq!(e.status, 201, "{}", e.body);
    let engagement = e.value()["id"].as_str().unwrap().to_owned();
    let template =
        app.get("/v1/workflow-templates", owner).await.value()[0]["id"].as_str().unwrap().to_owned();
    let run = app
        .post(
            "/v1/workflow-runs",
            Some(owner),
            &json!({"client_id": client, "template_id": template, "engagement_id": engagement, "due_date": "2099-12-31"}),
        )
        .await;
    assert_eq!(run.status, 201, "{}", run.body);
    let run = run.value();
    let step = run["steps"][0]["id"].as_str().unwrap().to_owned();
    let token = staff.token.as_str();

    // A timer on the step; starting one on the engagement stops it: one runs at a time.
    let first = app.post("/v1/time-entries/timer", Some(token), &json!({"step_id": step})).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let first = first.value();
    assert_eq!((first["running"].clone(), first["minutes"].clone()), (json!(true), Value::Null));
    assert_eq!(first["engagement_id"], engagement.as_str(), "a step's time counts on its run's engagement");
    assert_eq!(first["hourly_rate"], "120.00", "the engagement's rate is the default");
    let second = app
        .post("/v1/time-entries/timer", Some(token), &json!({"engagement_id": engagement, "billable": false}))
        .await;
    assert_eq!(second.status, 201, "{}", second.body);
    let sheet = app.get("/v1/me/timesheet", token).await.value();
    assert_eq!(sheet["running"]["id"], second.value()["id"], "the second timer is the running one");
    let first_id = first["id"].as_str().unwrap();
    let first_now = sheet["days"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["entries"].as_array().unwrap().iter())
        .find(|x| x["id"] == first_id)
        .cloned();
    let first_minutes = match first_now {
        Some(f) => {
            assert_eq!(f["running"], false);
            f["minutes"].as_i64().unwrap()
        }
        // Started just before Monday midnight (UTC): it is on last week's sheet.
        None => 1,
    };
    assert!(first_minutes >= 1, "a stopped timer counts at least a minute");
    let stopped = app.post("/v1/time-entries/timer/stop", Some(token), &json!({})).await;
    assert_eq!(stopped.status, 200, "{}", stopped.body);
    let stopped = stopped.value();
    assert_eq!(stopped["running"], false);
    let second_minutes = stopped["minutes"].as_i64().unwrap();
    assert!(second_minutes >= 1);
    assert!(stopped["amount"].is_null(), "not billable: no amount");
    let again = app.post("/v1/time-entries/timer/stop", Some(token), &json!({})).await;
    assert_eq!(again.status, 404, "nothing runs now: {}", again.body);
    let mut logged = first_minutes + second_minutes;
    assert_eq!(actual_hours(&app, &engagement, owner).await, hours(logged));

    // Manual entries: 1 minute to 24 hours, not in the future; each refusal names its field.
    let started = Utc::now() - Duration::hours(3);
    let at = started.to_rfc3339_opts(SecondsFormat::Secs, true);
    for (body, field) in [
        (json!({"engagement_id": engagement, "started_at": at, "minutes": 0}), "minutes"),
        (json!({"engagement_id": engagement, "started_at": at, "minutes": 1441}), "minutes"),
        (
            json!({"engagement_id": engagement, "minutes": 30,
                "started_at": (Utc::now() + Duration::hours(2)).to_rfc3339_opts(SecondsFormat::Secs, true)}),
            "started_at",
        ),
        (
            json!({"engagement_id": engagement, "started_at": at, "minutes": 30, "hourly_rate": "-1"}),
            "hourly_rate",
        ),
        (json!({"started_at": at, "minutes": 30}), "step_id"),
    ] {
        let r = app.post("/v1/time-entries", Some(token), &body).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert!(r.body.contains(field), "{body}: {}", r.body);
    }
    let manual = app
        .post(
            "/v1/time-entries",
            Some(token),
            &json!({"step_id": step, "started_at": at, "minutes": 90, "note": "Bank reconciliation"}),
        )
        .await;
    assert_eq!(manual.status, 201, "{}", manual.body);
    let manual = manual.value();
    assert_eq!(manual["amount"], "180.00", "90 minutes at 120.00");
    logged += 90;
    assert_eq!(actual_hours(&app, &engagement, owner).await, hours(logged));

    // The week: the manual entry on its day, with the totals.
    let week = started.date_naive();
    let sheet = app.get(&format!("/v1/me/timesheet?week={week}"), token).await;
    assert_eq!(sheet.status, 200, "{}", sheet.body);
    let sheet = sheet.value();
    assert_eq!(sheet["days"].as_array().unwrap().len(), 7);
    let day = sheet["days"].as_array().unwrap().iter().find(|d| d["date"] == week.to_string()).unwrap();
    assert!(day["entries"].as_array().unwrap().iter().any(|x| x["id"] == manual["id"]));
    assert!(sheet["total_minutes"].as_i64().unwrap() >= 90);
    assert!(dec(&sheet["billable_amount"]) >= "180.00".parse().unwrap());
    assert!(sheet["running"].is_null());
    let r = app.get("/v1/me/timesheet?week=2026-13-01", token).await;
    assert_eq!(r.status, 400, "{}", r.body);

    // The engagement's entries: its hours, WIP (billable amounts), step and direct entries.
    let time = app.get(&format!("/v1/engagements/{engagement}/time-entries"), owner).await;
    assert_eq!(time.status, 200, "{}", time.body);
    let time = time.value();
    assert_eq!(time["items"].as_array().unwrap().len(), 3);
    assert_eq!(dec(&time["actual_hours"]), hours(logged));
    let wip = domain::time::amount(first_minutes + 90, "120.00".parse().unwrap());
    assert!(
        (dec(&time["wip_amount"]) - wip).abs() <= "0.01".parse().unwrap(),
        "WIP is the billable entries' amounts: {time}"
    );

    // Someone else's entry: another member may neither change nor delete it; the owner may.
    let id = manual["id"].as_str().unwrap();
    let r = patch(&app, &format!("/v1/time-entries/{id}"), &other.token, &json!({"minutes": 5})).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(delete(&app, &format!("/v1/time-entries/{id}"), &other.token).await.status, 403);
    let r = patch(&app, &format!("/v1/time-entries/{id}"), token, &json!({"minutes": 2000})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = patch(&app, &format!("/v1/time-entries/{id}"), token, &json!({"minutes": 60, "billable": false}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.value()["amount"].is_null());
    logged -= 30;
    assert_eq!(actual_hours(&app, &engagement, owner).await, hours(logged));
    let r = patch(&app, &format!("/v1/time-entries/{id}"), owner, &json!({"note": "Reconciled"})).await;
    assert_eq!(r.status, 200, "an owner (workflows:update) may: {}", r.body);
    assert_eq!(r.value()["note"], "Reconciled");
    let r = delete(&app, &format!("/v1/time-entries/{id}"), token).await;
    assert_eq!(r.status, 204, "{}", r.body);
    logged -= 60;
    assert_eq!(actual_hours(&app, &engagement, owner).await, hours(logged));
    assert_eq!(delete(&app, &format!("/v1/time-entries/{id}"), token).await.status, 404);

    // The run shows the hours logged per step.
    let run_id = run["id"].as_str().unwrap();
    let r = app.get(&format!("/v1/workflow-runs/{run_id}"), owner).await.value();
    assert_eq!(dec(&r["steps"][0]["logged_hours"]), hours(first_minutes));

    // A running timer's start cannot be edited, and a portal user logs no time.
    let r = app.post("/v1/time-entries/timer", Some(token), &json!({"engagement_id": engagement})).await;
    let running = r.value()["id"].as_str().unwrap().to_owned();
    let r = patch(&app, &format!("/v1/time-entries/{running}"), token, &json!({"minutes": 5})).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = patch(&app, &format!("/v1/time-entries/{running}"), token, &json!({"note": "still going"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let portal = app.member(&t, Role::Client).await;
    let r =
        app.post("/v1/time-entries/timer", Some(&portal.token), &json!({"engagement_id": engagement})).await;
    assert_eq!(r.status, 403, "{}", r.body);

    // Every change is in the audit log.
    let audit = app.get("/v1/audit-log?limit=200", owner).await.value();
    let actions: Vec<&str> =
        audit["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    for a in
        ["time_entry.start", "time_entry.stop", "time_entry.create", "time_entry.update", "time_entry.delete"]
    {
        assert!(actions.contains(&a), "{a} is audited: {actions:?}");
    }
}

#[tokio::test]
async fn work_in_progress_is_billed_once_as_a_draft_invoice_and_billed_time_is_fixed() {
    let app = TestApp::spawn().await;
    let t = app.tenant("billing-time").await;
    let owner = t.owner.token.as_str();
    let staff = app.member(&t, Role::Staff).await;
    let client = app.post("/v1/clients", Some(owner), &json!({"business_name": "Ledger Ltd"})).await.value();
    let client = client["id"].as_str().unwrap();
    let e = app
        .post(
            "/v1/engagements",
            Some(owner),
            &json!({"client_id": client, "name": "Year-end", "engagement_type": "bookkeeping", "hourly_rate": "150.00"}),
        )
        .await;
    assert_eq!(e.status, 201, "{}", e.body);
    let engagement = e.value()["id"].as_str().unwrap().to_owned();
    let bill = format!("/v1/engagements/{engagement}/bill-time");
    let time = format!("/v1/engagements/{engagement}/time-entries");

    // Nothing logged: nothing to bill, and no invoice appears.
    let r = app.post(&bill, Some(owner), &json!({})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let invoices = app.get(&format!("/v1/invoices?client_id={client}"), owner).await.value();
    assert!(invoices["items"].as_array().unwrap().is_empty(), "{invoices}");

    let at = (Utc::now() - Duration::hours(5)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let log = |token: &str, body: Value| {
        let (app, token) = (&app, token.to_owned());
        async move {
            let r = app.post("/v1/time-entries", Some(&token), &body).await;
            assert_eq!(r.status, 201, "{}", r.body);
            r.value()["id"].as_str().unwrap().to_owned()
        }
    };
    // The owner 90 + 20 minutes at 150; staff 45 minutes at 100; 30 minutes not billable.
    let a = log(owner, json!({"engagement_id": engagement, "started_at": at, "minutes": 90})).await;
    log(owner, json!({"engagement_id": engagement, "started_at": at, "minutes": 20})).await;
    log(
        &staff.token,
        json!({"engagement_id": engagement, "started_at": at, "minutes": 45, "hourly_rate": "100"}),
    )
    .await;
    log(owner, json!({"engagement_id": engagement, "started_at": at, "minutes": 30, "billable": false}))
        .await;
    let before = app.get(&time, owner).await.value();
    // 225.00 + 50.00 + 75.00
    assert_eq!(
        (dec(&before["wip_amount"]), dec(&before["billed_amount"])),
        (dec(&json!("350.00")), Decimal::ZERO)
    );

    // Staff cannot bill; the owner can: a draft with one line per member and rate.
    assert_eq!(app.post(&bill, Some(&staff.token), &json!({})).await.status, 403);
    let r = app.post(&bill, Some(owner), &json!({"due_date": "2099-01-31"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let invoice = r.value();
    assert_eq!(invoice["status"], "draft");
    assert_eq!(invoice["engagement_id"], engagement.as_str());
    assert_eq!(invoice["due_date"], "2099-01-31");
    assert_eq!(dec(&invoice["total"]), dec(&json!("350.00")));
    let lines = invoice["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{invoice}");
    assert!(lines.iter().any(|l| dec(&l["amount"]) == dec(&json!("275.00"))), "{invoice}");
    assert!(lines.iter().any(|l| dec(&l["amount"]) == dec(&json!("75.00"))), "{invoice}");
    let invoice_id = invoice["id"].as_str().unwrap().to_owned();
    let after = app.get(&time, owner).await.value();
    assert_eq!(
        (dec(&after["wip_amount"]), dec(&after["billed_amount"])),
        (Decimal::ZERO, dec(&json!("350.00")))
    );
    let billed = after["items"].as_array().unwrap().iter().filter(|x| x["invoice_id"] == invoice_id.as_str());
    assert_eq!(billed.count(), 3, "the not-billable entry stays unbilled");

    // Billed once: again is 422; billed time cannot change or go.
    assert_eq!(app.post(&bill, Some(owner), &json!({})).await.status, 422);
    let r = patch(&app, &format!("/v1/time-entries/{a}"), owner, &json!({"minutes": 60})).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains(&invoice_id), "{}", r.body);
    assert_eq!(delete(&app, &format!("/v1/time-entries/{a}"), owner).await.status, 409);

    // Deleting the draft releases its time back to work in progress.
    assert_eq!(delete(&app, &format!("/v1/invoices/{invoice_id}"), owner).await.status, 204);
    let released = app.get(&time, owner).await.value();
    assert_eq!(dec(&released["wip_amount"]), dec(&json!("350.00")));
    assert_eq!(
        patch(&app, &format!("/v1/time-entries/{a}"), owner, &json!({"minutes": 60})).await.status,
        200
    );
}
