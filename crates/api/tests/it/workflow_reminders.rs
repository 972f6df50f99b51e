//! Time-driven workflow notifications on a controlled clock, and the firm's holiday calendar:
//! due dates skip weekends and the firm's holidays; "due soon" (two business days, holidays
//! counted) and "overdue" reach the assignee once, even from two ticks at the same moment; a
//! client request's portal users are mailed at days 3, 10 and 17 and never again, and not at all
//! once it is done or its run paused; stuck runs and steps over their estimate alert the managers
//! once per occurrence. Every tick is `Reminders::tick(now)` with the `now` the test chooses.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::Role;
use serde_json::{Value, json};
use testkit::{Tenant, TestApp, TestConfig};
use workflow_reminders::{Reminders, TickReport};

fn reminders(app: &TestApp) -> Reminders {
    Reminders::new(app.db.clone(), app.keys.clone(), app.url(""))
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Noon UTC of a day.
fn noon(s: &str) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day(s).and_hms_opt(12, 0, 0).unwrap())
}

async fn client(app: &TestApp, t: &Tenant, name: &str) -> String {
    let r = app.post("/v1/clients", Some(&t.owner.token), &json!({"business_name": name})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.value()["id"].as_str().unwrap().to_owned()
}

/// A firm template of `steps`: `(key, kind, hours, due offset, depends on)`.
async fn template(app: &TestApp, t: &Tenant, steps: &[(&str, &str, &str, u16, &[&str])]) -> String {
    let steps: Vec<Value> = steps
        .iter()
        .map(|(key, kind, hours, offset, deps)| {
            json!({"key": key, "name": format!("Step {key}"), "kind": kind, "estimated_hours": hours,
                   "due_offset_days": offset, "depends_on": deps})
        })
        .collect();
    let r = app
        .post(
            "/v1/workflow-templates",
            Some(&t.owner.token),
            &json!({"name": "Reminder test", "category": "bookkeeping", "steps": steps}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.value()["id"].as_str().unwrap().to_owned()
}

async fn start(app: &TestApp, t: &Tenant, client: &str, template: &str, due: &str) -> Value {
    let r = app
        .post(
            "/v1/workflow-runs",
            Some(&t.owner.token),
            &json!({"client_id": client, "template_id": template, "due_date": due}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.value()
}

fn due_of(run: &Value, key: &str) -> String {
    run["steps"].as_array().unwrap().iter().find(|s| s["key"] == key).unwrap()["due_date"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn act(app: &TestApp, t: &Tenant, run: &str, key: &str, action: &str) {
    let r = app
        .post(
            &format!("/v1/workflow-runs/{run}/steps/{key}"),
            Some(&t.owner.token),
            &json!({"action": action}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn pause(app: &TestApp, t: &Tenant, run: &str) {
    let r = app
        .post(&format!("/v1/workflow-runs/{run}/command"), Some(&t.owner.token), &json!({"command": "pause"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn assign(app: &TestApp, t: &Tenant, run: &str, key: &str, user: &str) {
    let r = app
        .request(
            reqwest::Method::PUT,
            &format!("/v1/workflow-runs/{run}/steps/{key}/assignee"),
            Some(&t.owner.token),
            Some(&json!({"assignee": user})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn holiday(app: &TestApp, t: &Tenant, date: &str, name: &str) {
    let r =
        app.post("/v1/workflow-holidays", Some(&t.owner.token), &json!({"date": date, "name": name})).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// The kinds of the notifications `token`'s user has, newest first.
async fn kinds(app: &TestApp, token: &str) -> Vec<String> {
    let r = app.get("/v1/notifications?limit=200", token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.value()["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap().to_owned()).collect()
}

fn count(kinds: &[String], kind: &str) -> usize {
    kinds.iter().filter(|k| *k == kind).count()
}

/// Two ticks at the same moment, as two workers would run them; their sum.
async fn two_ticks(r: &Reminders, now: DateTime<Utc>) -> TickReport {
    let (a, b) = tokio::join!(r.tick(now), r.tick(now));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.failed, b.failed), (0, 0));
    TickReport {
        due_soon: a.due_soon + b.due_soon,
        overdue: a.overdue + b.overdue,
        client_requests: a.client_requests + b.client_requests,
        mails: a.mails + b.mails,
        stuck_runs: a.stuck_runs + b.stuck_runs,
        over_estimate: a.over_estimate + b.over_estimate,
        ..TickReport::default()
    }
}

#[tokio::test]
async fn due_dates_skip_weekends_and_the_firms_holidays() {
    let app = TestApp::spawn().await;
    let t = app.tenant("calendar").await;
    let c = client(&app, &t, "Calendar Co").await;
    let tp = template(
        &app,
        &t,
        &[("a", "task", "1", 0, &[]), ("b", "task", "1", 1, &[]), ("c", "task", "1", 2, &[])],
    )
    .await;
    // Due Wed 2099-03-18: the day before is Tue 03-17, two before Mon 03-16.
    let before = start(&app, &t, &c, &tp, "2099-03-18").await;
    assert_eq!(
        [due_of(&before, "a"), due_of(&before, "b"), due_of(&before, "c")],
        ["2099-03-18", "2099-03-17", "2099-03-16"]
    );
    // The firm closes Tue 03-17: a new run counts it out, over the weekend to Fri 03-13; the run
    // already started keeps its dates.
    holiday(&app, &t, "2099-03-17", "Firm retreat").await;
    let after = start(&app, &t, &c, &tp, "2099-03-18").await;
    assert_eq!(
        [due_of(&after, "a"), due_of(&after, "b"), due_of(&after, "c")],
        ["2099-03-18", "2099-03-16", "2099-03-13"]
    );
    let id = before["id"].as_str().unwrap();
    assert_eq!(
        due_of(&app.get(&format!("/v1/workflow-runs/{id}"), &t.owner.token).await.value(), "b"),
        "2099-03-17"
    );
    // A run due on a Sunday is due the Friday before; one due on the firm's holiday, the day before.
    let sunday = start(&app, &t, &c, &tp, "2099-03-22").await;
    assert_eq!(due_of(&sunday, "a"), "2099-03-20");
    let on_holiday = start(&app, &t, &c, &tp, "2099-03-17").await;
    assert_eq!([due_of(&on_holiday, "a"), due_of(&on_holiday, "b")], ["2099-03-16", "2099-03-13"]);
    // Federal holidays still count: Memorial Day 2099 is Mon 05-25.
    let memorial = start(&app, &t, &c, &tp, "2099-05-26").await;
    assert_eq!(due_of(&memorial, "b"), "2099-05-22");
}

#[tokio::test]
async fn holiday_api_refuses_bad_input_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let t = app.tenant("holidays").await;
    let owner = t.owner.token.as_str();
    holiday(&app, &t, "2099-07-03", "Summer Friday").await;
    let staff = app.member(&t, Role::Staff).await;
    for (body, status) in [
        (json!({"date": "2099-02-30", "name": "No such day"}), 422),
        (json!({"date": "next friday", "name": "Not a date"}), 422),
        (json!({"date": "2300-01-01", "name": "Too far"}), 422),
        (json!({"date": "2099-07-04", "name": "   "}), 422),
        (json!({"date": "2099-07-04", "name": "x".repeat(121)}), 422),
        (json!({"date": "2099-07-04"}), 422),
        (json!({"date": "2099-07-04", "name": "Extra", "color": "red"}), 422),
        (json!({"date": "2099-07-03", "name": "Twice"}), 409),
    ] {
        let r = app.post("/v1/workflow-holidays", Some(owner), &body).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
        r.problem();
    }
    // Staff read the calendar but do not change it.
    let r = app
        .post("/v1/workflow-holidays", Some(&staff.token), &json!({"date": "2099-07-06", "name": "Mine"}))
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(app.delete("/v1/workflow-holidays/2099-07-03", &staff.token).await.status, 403);
    let list = app.get("/v1/workflow-holidays", &staff.token).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(
        list.value(),
        json!([{"date": "2099-07-03", "name": "Summer Friday",
        "created_at": list.value()[0]["created_at"]}])
    );
    // Removing: a bad date is 400, a day that is no holiday 404, then the holiday itself.
    assert_eq!(app.delete("/v1/workflow-holidays/someday", owner).await.status, 400);
    let r = app.delete("/v1/workflow-holidays/2099-07-06", owner).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(r.problem_slug(), "not-found");
    let r = app.delete("/v1/workflow-holidays/2099-07-03", owner).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.get("/v1/workflow-holidays", owner).await.value(), json!([]));
}

#[tokio::test]
async fn due_soon_and_overdue_reach_the_assignee_once_even_from_concurrent_ticks() {
    let app = TestApp::spawn().await;
    let t = app.tenant("due-soon").await;
    let staff = app.member(&t, Role::Staff).await;
    let c = client(&app, &t, "Due Soon Co").await;
    let tp = template(&app, &t, &[("a", "task", "1", 0, &[]), ("later", "task", "1", 0, &["a"])]).await;
    // Step `a` is due Mon 2099-03-23; the firm is closed Fri 03-20.
    holiday(&app, &t, "2099-03-20", "Spring closing").await;
    let run = start(&app, &t, &c, &tp, "2099-03-23").await;
    let id = run["id"].as_str().unwrap();
    assert_eq!(due_of(&run, "a"), "2099-03-23");
    assign(&app, &t, id, "a", &staff.user_id).await;
    // An unassigned open step of a second run, and an assigned one of a paused run: no one to tell,
    // and work on hold.
    start(&app, &t, &c, &tp, "2099-03-23").await;
    let paused = start(&app, &t, &c, &tp, "2099-03-23").await;
    let paused_id = paused["id"].as_str().unwrap();
    assign(&app, &t, paused_id, "a", &staff.user_id).await;
    pause(&app, &t, paused_id).await;

    let r = reminders(&app);
    // Tue 03-17: two business days ahead is Thu 03-19, `a` is not due soon yet.
    assert_eq!(two_ticks(&r, noon("2099-03-17")).await.due_soon, 0);
    assert_eq!(count(&kinds(&app, &staff.token).await, "workflow_step_due_soon"), 0);
    // Wed 03-18: Thu 03-19 and (Fri being the firm's holiday) Mon 03-23 — due soon, told once.
    let sent = two_ticks(&r, noon("2099-03-18")).await;
    assert_eq!((sent.due_soon, sent.overdue), (1, 0));
    let seen = kinds(&app, &staff.token).await;
    assert_eq!(count(&seen, "workflow_step_due_soon"), 1, "{seen:?}");
    assert_eq!(two_ticks(&r, noon("2099-03-19")).await.due_soon, 0);
    assert_eq!(two_ticks(&r, noon("2099-03-23")).await.overdue, 0, "due today is not overdue");
    // Tue 03-24: overdue, told once; and never again.
    let sent = two_ticks(&r, noon("2099-03-24")).await;
    assert_eq!((sent.due_soon, sent.overdue), (0, 1));
    assert_eq!(two_ticks(&r, noon("2099-03-30")).await.overdue, 0);
    let seen = kinds(&app, &staff.token).await;
    assert_eq!(
        (count(&seen, "workflow_step_due_soon"), count(&seen, "workflow_step_overdue")),
        (1, 1),
        "{seen:?}"
    );
    let n = app.get("/v1/notifications?limit=1", &staff.token).await.value();
    assert_eq!(n["items"][0]["payload"]["link"], format!("/workflows/runs/{id}"));
    // The run page's record of them.
    let rem = app.get(&format!("/v1/workflow-runs/{id}/reminders"), &t.owner.token).await;
    assert_eq!(rem.status, 200, "{}", rem.body);
    let rem = rem.value();
    // (Ticking in 2099, the run has long been stuck as well.)
    let kinds_sent: Vec<&str> = rem["reminders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["step_key"] == "a")
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds_sent, ["due_soon", "overdue"]);
    let rem = app.get(&format!("/v1/workflow-runs/{paused_id}/reminders"), &t.owner.token).await.value();
    assert!(rem["reminders"].as_array().unwrap().iter().all(|m| m["kind"] == "stuck_run"), "{rem}");
}

#[tokio::test]
async fn client_requests_are_mailed_at_days_3_10_and_17_then_never() {
    let app = TestApp::spawn().await;
    let _mail = app.mail_worker();
    let t = app.tenant("requests").await;
    let c = client(&app, &t, "Request Co").await;
    let portal = app.member(&t, Role::Client).await;
    let r = app
        .post(
            &format!("/v1/clients/{c}/portal-access"),
            Some(&t.owner.token),
            &json!({"user_id": portal.user_id}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let tp = template(
        &app,
        &t,
        &[("docs", "client_request", "0.5", 0, &[]), ("answered", "client_request", "0.5", 0, &[])],
    )
    .await;
    let run = start(&app, &t, &c, &tp, "2099-06-30").await;
    let id = run["id"].as_str().unwrap();
    // The client answered one request at once: it is never reminded of.
    act(&app, &t, id, "answered", "complete").await;
    // A paused run's request waits, unreminded.
    let paused = start(&app, &t, &c, &tp, "2099-06-30").await;
    let paused_id = paused["id"].as_str().unwrap();
    pause(&app, &t, paused_id).await;

    let schedule = app.get(&format!("/v1/workflow-runs/{id}/reminders"), &t.owner.token).await.value();
    let docs =
        schedule["client_requests"].as_array().unwrap().iter().find(|s| s["key"] == "docs").unwrap().clone();
    let ready: DateTime<Utc> = docs["ready_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(docs["sent"], 0);
    assert_eq!(
        docs["next_at"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(),
        ready + Duration::days(3)
    );

    let rem = reminders(&app);
    let at = |days: i64| ready + Duration::days(days);
    let mut mails = 0;
    for (days, expected) in
        [(2, 0), (3, 1), (3, 0), (9, 0), (10, 1), (10, 0), (17, 1), (17, 0), (24, 0), (60, 0)]
    {
        let sent = two_ticks(&rem, at(days) + Duration::minutes(1)).await;
        assert_eq!(sent.client_requests, expected, "day {days}");
        mails += sent.mails;
    }
    assert_eq!(mails, 3, "one mail per reminder to the one portal user");
    let out = app.wait_for_mails(3).await;
    assert_eq!(out.len(), 3);
    for (i, mail) in out.iter().enumerate() {
        assert!(mail.contains(&portal.email), "{mail}");
        assert!(mail.contains("Step docs") && mail.contains(&format!("reminder {} of 3", i + 1)), "{mail}");
    }
    let schedule = app.get(&format!("/v1/workflow-runs/{id}/reminders"), &t.owner.token).await.value();
    let sent: Vec<(i64, i64)> = schedule["reminders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "client_request")
        .map(|m| {
            let at: DateTime<Utc> = m["sent_at"].as_str().unwrap().parse().unwrap();
            (m["nth"].as_i64().unwrap(), (at - ready).num_days())
        })
        .collect();
    assert_eq!(sent, [(1, 3), (2, 10), (3, 17)]);
    for s in schedule["client_requests"].as_array().unwrap() {
        assert!(s["next_at"].is_null(), "{s}");
    }
    let paused = app.get(&format!("/v1/workflow-runs/{paused_id}/reminders"), &t.owner.token).await.value();
    assert!(
        paused["reminders"].as_array().unwrap().iter().all(|m| m["kind"] != "client_request"),
        "{paused}"
    );
    assert!(paused["client_requests"][0]["next_at"].is_null());

    // Done after the first reminder: no second one.
    let second = start(&app, &t, &c, &tp, "2099-06-30").await;
    let second_id = second["id"].as_str().unwrap();
    let s = app.get(&format!("/v1/workflow-runs/{second_id}/reminders"), &t.owner.token).await.value();
    let ready2: DateTime<Utc> = s["client_requests"][0]["ready_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(two_ticks(&rem, ready2 + Duration::days(4)).await.client_requests, 2, "both of its requests");
    act(&app, &t, second_id, "docs", "complete").await;
    act(&app, &t, second_id, "answered", "skip").await;
    assert_eq!(two_ticks(&rem, ready2 + Duration::days(11)).await.client_requests, 0);
}

#[tokio::test]
async fn stuck_runs_and_steps_over_estimate_alert_the_managers_once() {
    let app = TestApp::spawn_with(TestConfig {
        api: api::ApiConfig { metrics_token: Some("scrape".into()), ..api::ApiConfig::default() },
        ..TestConfig::default()
    })
    .await;
    let t = app.tenant("stuck").await;
    let manager = app.member(&t, Role::Manager).await;
    let staff = app.member(&t, Role::Staff).await;
    let c = client(&app, &t, "Stuck Co").await;
    let tp = template(&app, &t, &[("a", "task", "1", 0, &[]), ("b", "task", "1", 0, &["a"])]).await;
    let run = start(&app, &t, &c, &tp, "2099-06-30").await;
    let id = run["id"].as_str().unwrap();
    assign(&app, &t, id, "a", &staff.user_id).await;
    act(&app, &t, id, "a", "start").await;
    // 100 minutes on a one-hour step: more than 50% over.
    let at = (Utc::now() - Duration::hours(3)).to_rfc3339();
    let step = run["steps"][0]["id"].as_str().unwrap();
    let r = app
        .post(
            "/v1/time-entries",
            Some(&staff.token),
            &json!({"step_id": step, "started_at": at, "minutes": 100}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    let stuck = app.get("/v1/workflow-stuck", &t.owner.token).await;
    assert_eq!(stuck.status, 200, "{}", stuck.body);
    let stuck = stuck.value();
    assert_eq!(stuck["runs"], json!([]));
    assert_eq!(stuck["steps"][0]["step_id"], step);
    assert_eq!(stuck["steps"][0]["percent_of_estimate"], 167);

    let r = reminders(&app);
    let now = Utc::now();
    let sent = two_ticks(&r, now).await;
    assert_eq!((sent.over_estimate, sent.stuck_runs), (1, 0));
    assert_eq!(two_ticks(&r, now + Duration::hours(1)).await.over_estimate, 0);
    // A week without a status change: stuck, told once.
    let sent = two_ticks(&r, now + Duration::days(8)).await;
    assert_eq!((sent.stuck_runs, sent.over_estimate), (1, 0));
    assert_eq!(two_ticks(&r, now + Duration::days(9)).await.stuck_runs, 0);
    for token in [&t.owner.token, &manager.token] {
        let seen = kinds(&app, token).await;
        assert_eq!(count(&seen, "workflow_step_over_estimate"), 1, "{seen:?}");
        assert_eq!(count(&seen, "workflow_run_stuck"), 1, "{seen:?}");
    }
    let seen = kinds(&app, &staff.token).await;
    assert_eq!(count(&seen, "workflow_run_stuck") + count(&seen, "workflow_step_over_estimate"), 0);

    // Progress, then a week without it again: a new stretch, a new alert (once).
    act(&app, &t, id, "a", "complete").await;
    assert_eq!(two_ticks(&r, Utc::now() + Duration::days(3)).await.stuck_runs, 0);
    assert_eq!(two_ticks(&r, Utc::now() + Duration::days(8)).await.stuck_runs, 1);
    assert_eq!(two_ticks(&r, Utc::now() + Duration::days(20)).await.stuck_runs, 0);
    assert_eq!(count(&kinds(&app, &manager.token).await, "workflow_run_stuck"), 2);

    let metrics = app.request(reqwest::Method::GET, "/metrics", Some("scrape"), None).await.body;
    assert!(metrics.contains(r#"workflow_reminders_sent_total{kind="stuck_run"}"#), "{metrics}");
    assert!(metrics.contains("workflow_stuck_runs"), "{metrics}");
}
