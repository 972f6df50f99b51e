//! Workflows over HTTP: templates (system, copied, edited as versions, validated as DAGs), runs
//! for a client (due dates on business days, steps released in order, pause, cancel), who may
//! move a step, and a member's open work.

use domain::Role;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use store::sqlx;
use testkit::{TestApp, TestResponse};

async fn put(app: &TestApp, path: &str, token: &str, body: &Value) -> TestResponse {
    app.request(reqwest::Method::PUT, path, Some(token), Some(body)).await
}

fn statuses(run: &Value) -> Vec<(String, String)> {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["key"].as_str().unwrap().to_owned(), s["status"].as_str().unwrap().to_owned()))
        .collect()
}

fn status_of(run: &Value, key: &str) -> String {
    statuses(run).into_iter().find(|(k, _)| k == key).map(|(_, s)| s).unwrap()
}

#[tokio::test]
async fn templates_are_validated_copied_and_versioned() {
    let app = TestApp::spawn().await;
    let t = app.tenant("flows").await;
    let owner = t.owner.token.as_str();
    let list = app.get("/v1/workflow-templates", owner).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let list = list.value();
    let systems: Vec<&Value> = list.as_array().unwrap().iter().filter(|t| t["system"] == true).collect();
    assert_eq!(systems.len(), 8);
    let fsp = systems.iter().find(|t| t["name"] == "Financial Statement Preparation").unwrap();
    assert_eq!(fsp["stages"][1], json!(["balance_sheet", "income_statement"]));

    // A cycle and a dangling dependency are refused with each problem named; nothing is saved.
    let bad = json!({"name": "Loop", "category": "bookkeeping", "steps": [
        {"key": "a", "name": "A", "kind": "task", "estimated_hours": "1", "depends_on": ["b"]},
        {"key": "b", "name": "B", "kind": "task", "estimated_hours": "1", "depends_on": ["a"]}]});
    let r = app.post("/v1/workflow-templates", Some(owner), &bad).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("the dependencies form a cycle"), "{}", r.body);
    let dangling = json!({"name": "Dangling", "category": "bookkeeping", "steps": [
        {"key": "a", "name": "A", "kind": "task", "estimated_hours": "1", "depends_on": ["nope"]}]});
    let r = app.post("/v1/workflow-templates", Some(owner), &dangling).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("`nope` is not a step of this template"), "{}", r.body);
    assert_eq!(app.get("/v1/workflow-templates", owner).await.value().as_array().unwrap().len(), 8);

    // System templates are read-only; a copy is the firm's to edit.
    let sys_id = systems[0]["id"].as_str().unwrap();
    let r = put(&app, &format!("/v1/workflow-templates/{sys_id}"), owner, &dangling).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let copy = app
        .post(&format!("/v1/workflow-templates/{sys_id}/copy"), Some(owner), &json!({"name": "Our books"}))
        .await;
    assert_eq!(copy.status, 201, "{}", copy.body);
    let copy = copy.value();
    assert_eq!((copy["version"].clone(), copy["system"].clone()), (json!(1), json!(false)));
    assert_eq!(copy["copied_from"], sys_id);
    let id = copy["id"].as_str().unwrap();
    let mut edited = json!({"name": "Our books", "category": "bookkeeping", "steps": copy["steps"]});
    edited["steps"].as_array_mut().unwrap().truncate(2);
    let r = put(&app, &format!("/v1/workflow-templates/{id}"), owner, &edited).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.value()["version"], 2);
    assert_eq!(r.value()["steps"].as_array().unwrap().len(), 2);

    // Staff read templates but do not write them.
    let staff = app.member(&t, Role::Staff).await;
    assert_eq!(app.get(&format!("/v1/workflow-templates/{id}"), &staff.token).await.status, 200);
    assert_eq!(
        app.post(&format!("/v1/workflow-templates/{id}/copy"), Some(&staff.token), &json!({})).await.status,
        403
    );

    // Archived templates leave the list (unless asked for) and cannot start runs.
    let r = app
        .post(&format!("/v1/workflow-templates/{id}/archive"), Some(owner), &json!({"archived": true}))
        .await;
    assert_eq!(r.value()["archived"], true);
    assert_eq!(app.get("/v1/workflow-templates", owner).await.value().as_array().unwrap().len(), 8);
    assert_eq!(
        app.get("/v1/workflow-templates?archived=true", owner).await.value().as_array().unwrap().len(),
        9
    );
    let client = app.post("/v1/clients", Some(owner), &json!({"business_name": "Fern"})).await.value();
    let r = app
        .post(
            "/v1/workflow-runs",
            Some(owner),
            &json!({"client_id": client["id"], "template_id": id, "due_date": "2099-01-30"}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
}

#[tokio::test]
async fn a_run_releases_steps_in_order_and_keeps_its_version() {
    let app = TestApp::spawn().await;
    let t = app.tenant("runs").await;
    let owner = t.owner.token.as_str();
    let staff = app.member(&t, Role::Staff).await;
    let other = app.member(&t, Role::Staff).await;
    let client = app.post("/v1/clients", Some(owner), &json!({"business_name": "Fern"})).await.value();
    let template = app
        .post(
            "/v1/workflow-templates",
            Some(owner),
            &json!({"name": "Statements", "category": "bookkeeping", "steps": [
                {"key": "coa", "name": "Chart of accounts", "kind": "task", "estimated_hours": "2", "due_offset_days": 5},
                {"key": "bs", "name": "Balance sheet", "kind": "task", "estimated_hours": "3", "depends_on": ["coa"], "due_offset_days": 2},
                {"key": "is", "name": "Income statement", "kind": "task", "estimated_hours": "5", "depends_on": ["coa"], "due_offset_days": 2},
                {"key": "review", "name": "Review", "kind": "approval", "estimated_hours": "1", "depends_on": ["bs", "is"], "role": "senior_cpa"}]}),
        )
        .await;
    assert_eq!(template.status, 201, "{}", template.body);
    let tid = template.value()["id"].as_str().unwrap().to_owned();
    // Due Monday 2099-06-08: 5 business days before is Monday 06-01; 2 before is Thursday 06-04.
    let run = app
        .post(
            "/v1/workflow-runs",
            Some(owner),
            &json!({"client_id": client["id"], "template_id": tid, "due_date": "2099-06-08"}),
        )
        .await;
    assert_eq!(run.status, 201, "{}", run.body);
    let run = run.value();
    let rid = run["id"].as_str().unwrap().to_owned();
    let due: Vec<&str> =
        run["steps"].as_array().unwrap().iter().map(|s| s["due_date"].as_str().unwrap()).collect();
    assert_eq!(due, ["2099-06-01", "2099-06-04", "2099-06-04", "2099-06-08"]);
    assert_eq!(
        statuses(&run),
        [("coa", "ready"), ("bs", "pending"), ("is", "pending"), ("review", "pending")]
            .map(|(k, s)| (k.to_owned(), s.to_owned()))
    );
    let critical: Vec<&str> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["critical"] == true)
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(critical, ["coa", "is", "review"]);
    assert_eq!(run["critical_hours"], "8.00");

    // Editing the template later does not touch the run.
    let r = put(
        &app,
        &format!("/v1/workflow-templates/{tid}"),
        owner,
        &json!({"name": "Statements", "category": "bookkeeping", "steps": [
            {"key": "only", "name": "Only", "kind": "task", "estimated_hours": "1"}]}),
    )
    .await;
    assert_eq!(r.value()["version"], 2);

    // The assignee moves their own step; another staff member may not.
    let step = |key: &str| format!("/v1/workflow-runs/{rid}/steps/{key}");
    let r = put(&app, &format!("{}/assignee", step("coa")), owner, &json!({"assignee": staff.user_id})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.post(&step("coa"), Some(&other.token), &json!({"action": "start"})).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = app.post(&step("coa"), Some(&staff.token), &json!({"action": "skip"})).await;
    assert_eq!(r.status, 403, "only those who run workflows skip steps");
    let work = app.get("/v1/me/work", &staff.token).await.value();
    assert_eq!(work["items"][0]["key"], "coa");
    assert_eq!(work["items"][0]["client_name"], "Fern");
    let r = app.post(&step("coa"), Some(&staff.token), &json!({"action": "start"})).await;
    assert_eq!(status_of(&r.value(), "coa"), "in_progress");
    let r = app.post(&step("coa"), Some(&staff.token), &json!({"action": "complete"})).await;
    let v = r.value();
    assert_eq!((status_of(&v, "bs"), status_of(&v, "is")), ("ready".into(), "ready".into()), "parallel");
    assert_eq!(v["template_version"], 1);
    assert_eq!(v["progress"], 25);
    assert!(app.get("/v1/me/work", &staff.token).await.value()["items"].as_array().unwrap().is_empty());

    // A finished step cannot be completed again; a pending one cannot start.
    let r = app.post(&step("coa"), Some(owner), &json!({"action": "complete"})).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = app.post(&step("review"), Some(owner), &json!({"action": "start"})).await;
    assert_eq!(r.status, 409);

    // Paused, no step moves; resumed, they do.
    let cmd = format!("/v1/workflow-runs/{rid}/command");
    assert_eq!(app.post(&cmd, Some(owner), &json!({"command": "pause"})).await.value()["status"], "paused");
    assert_eq!(app.post(&step("bs"), Some(owner), &json!({"action": "complete"})).await.status, 409);
    assert_eq!(app.post(&cmd, Some(owner), &json!({"command": "resume"})).await.value()["status"], "active");
    app.post(&step("bs"), Some(owner), &json!({"action": "complete"})).await;
    let v = app.post(&step("is"), Some(owner), &json!({"action": "skip"})).await.value();
    assert_eq!(status_of(&v, "review"), "ready", "a skipped step releases what needs it");
    let v = app.post(&step("review"), Some(owner), &json!({"action": "complete"})).await.value();
    assert_eq!((v["status"].clone(), v["progress"].clone()), (json!("done"), json!(100)));
    assert!(v["finished_at"].is_string());
    assert_eq!(app.post(&cmd, Some(owner), &json!({"command": "cancel"})).await.status, 409);

    let runs = app.get(&format!("/v1/clients/{}/workflow-runs", client["id"].as_str().unwrap()), owner).await;
    assert_eq!(runs.value()["items"][0]["id"], rid.as_str());

    // Every change is in the audit log.
    let log = app.get("/v1/audit-log?limit=200", owner).await.body;
    for verb in [
        "workflow_template.create",
        "workflow_template.update",
        "workflow_run.start",
        "workflow_step.assign",
        "workflow_step.update",
        "workflow_run.pause",
        "workflow_run.resume",
    ] {
        assert!(log.contains(verb), "{verb} missing from the audit log");
    }
}

#[tokio::test]
async fn a_cancelled_run_cancels_its_open_steps_and_bad_starts_are_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant("cancels").await;
    let owner = t.owner.token.as_str();
    let client = app.post("/v1/clients", Some(owner), &json!({"business_name": "Fern"})).await.value();
    let other = app.post("/v1/clients", Some(owner), &json!({"business_name": "Oak"})).await.value();
    let engagement = app
        .post(
            "/v1/engagements",
            Some(owner),
            &json!({"client_id": other["id"], "name": "Books", "engagement_type": "bookkeeping"}),
        )
        .await
        .value();
    let system = app.get("/v1/workflow-templates", owner).await.value()[0]["id"].clone();
    let app = &app;
    let start = |body: Value| async move { app.post("/v1/workflow-runs", Some(owner), &body).await };
    let r = start(json!({"client_id": client["id"], "template_id": system, "due_date": "2001-01-01"})).await;
    assert_eq!(r.status, 422, "a due date in the past: {}", r.body);
    let r = start(json!({"client_id": client["id"], "template_id": system, "due_date": "2099-01-30",
        "engagement_id": engagement["id"]}))
    .await;
    assert_eq!(r.status, 422, "another client's engagement: {}", r.body);
    let r = start(
        json!({"client_id": client["id"], "template_id": uuid::Uuid::now_v7(), "due_date": "2099-01-30"}),
    )
    .await;
    assert_eq!(r.status, 404);
    let r = start(json!({"client_id": client["id"], "template_id": system, "due_date": "2099-01-30"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let rid = r.value()["id"].as_str().unwrap().to_owned();
    let v = app
        .post(&format!("/v1/workflow-runs/{rid}/command"), Some(owner), &json!({"command": "cancel"}))
        .await
        .value();
    assert_eq!(v["status"], "cancelled");
    assert!(statuses(&v).iter().all(|(_, s)| s == "cancelled"), "{v}");
}

#[tokio::test]
async fn ready_steps_are_routed_by_workload_and_skill_with_reasons_and_figures() {
    let app = TestApp::spawn().await;
    let t = app.tenant("routing").await;
    let owner = t.owner.token.as_str();
    let busy = app.member(&t, Role::Staff).await;
    let skilled = app.member(&t, Role::Staff).await;
    let away = app.member(&t, Role::Staff).await;
    let app = &app;
    let capacity = |id: &str, body: Value| {
        let path = format!("/v1/members/{id}/capacity");
        async move { put(app, &path, owner, &body).await }
    };
    assert_eq!(
        capacity(&busy.user_id, json!({"weekly_hours": "2", "skills": ["payroll"]})).await.status,
        200
    );
    assert_eq!(
        capacity(&skilled.user_id, json!({"weekly_hours": "40", "skills": ["Payroll"]})).await.status,
        200
    );
    let r = capacity(
        &away.user_id,
        json!({"weekly_hours": "40", "skills": ["payroll"], "away_from": "2000-01-01"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.value()["away_today"], true);
    let r = capacity(&away.user_id, json!({"weekly_hours": "200"})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    // A member sets their own; not someone else's.
    let r = put(
        app,
        &format!("/v1/members/{}/capacity", skilled.user_id),
        &busy.token,
        &json!({"weekly_hours": "1"}),
    )
    .await;
    assert_eq!(r.status, 403);

    // Off by default: nothing is assigned.
    let client = app.post("/v1/clients", Some(owner), &json!({"business_name": "Fern"})).await.value();
    let template = app
        .post(
            "/v1/workflow-templates",
            Some(owner),
            &json!({"name": "Payroll", "category": "bookkeeping", "steps": [
                {"key": "prep", "name": "Prepare payroll", "kind": "task", "estimated_hours": "4", "role": "staff", "skill": "payroll"},
                {"key": "check", "name": "Check payroll", "kind": "task", "estimated_hours": "2", "role": "staff", "depends_on": ["prep"]},
                {"key": "wait", "name": "Wait for the bank", "kind": "wait", "wait_days": 2, "estimated_hours": "0", "depends_on": ["prep"]}]}),
        )
        .await
        .value();
    let start = || async {
        app.post(
            "/v1/workflow-runs",
            Some(owner),
            &json!({"client_id": client["id"], "template_id": template["id"], "due_date": "2099-06-08"}),
        )
        .await
        .value()
    };
    assert!(start().await["steps"][0]["assignee"].is_null());

    let r = put(app, "/v1/workflow-settings", owner, &json!({"routing": "scored", "ab_percent": 50})).await;
    assert_eq!(r.status, 422, "a split names its second strategy: {}", r.body);
    let r = put(app, "/v1/workflow-settings", owner, &json!({"routing": "scored"})).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Scored: the member with 2 h a week (room for half the 4 h step) loses to the one with room
    // (84 against 94 points); the away one is skipped;
    // the owner is not routed staff work.
    let run = start().await;
    let prep = &run["steps"][0];
    assert_eq!(prep["assignee"], skilled.user_id.as_str(), "{run}");
    assert_eq!(prep["routed_by"], "scored");
    let reasons = prep["routing_reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(reasons[1].as_str().unwrap().contains("has `payroll`"), "{reasons:?}");
    let notes = app.get("/v1/notifications", &skilled.token).await.value();
    assert_eq!(notes["items"][0]["kind"], "workflow_step_assigned", "{notes}");

    // Its next step is routed when it becomes ready, in the same request; the wait step is not.
    let rid = run["id"].as_str().unwrap();
    let v = app
        .post(
            &format!("/v1/workflow-runs/{rid}/steps/prep"),
            Some(&skilled.token),
            &json!({"action": "complete"}),
        )
        .await
        .value();
    assert!(v["steps"][1]["assignee"].is_string(), "{v}");
    assert!(v["steps"][2]["assignee"].is_null(), "a wait step needs nobody: {v}");

    // The team's workload reflects it; a manual reassignment counts against the strategy.
    let checker = v["steps"][1]["assignee"].as_str().unwrap().to_owned();
    let team = app.get("/v1/team/workload", owner).await.value();
    let them = team["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == checker.as_str())
        .unwrap()
        .clone();
    assert_eq!(team["weeks"].as_array().unwrap().len(), 4);
    assert_eq!(
        them["hours_by_week"],
        json!(["0", "0", "0", "0"]),
        "due in 2099, beyond the four weeks: {team}"
    );
    assert_eq!((them["open_steps"].clone(), them["open_hours"].clone()), (json!(1), json!("2.00")), "{team}");
    let second = start().await;
    let sid = second["id"].as_str().unwrap();
    assert_eq!(second["steps"][0]["assignee"], skilled.user_id.as_str(), "{second}");
    let r = put(
        app,
        &format!("/v1/workflow-runs/{sid}/steps/prep/assignee"),
        owner,
        &json!({"assignee": busy.user_id}),
    )
    .await;
    assert_eq!(r.status, 200);
    let figures = app.get("/v1/workflow-routing/figures", owner).await.value();
    let scored = &figures["strategies"][0];
    assert_eq!(scored["strategy"], "scored");
    assert!(scored["routed"].as_i64().unwrap() >= 3, "{figures}");
    assert_eq!(scored["reassigned"], 1, "{figures}");
    assert!(figures["utilisation_spread"].as_f64().unwrap() >= 0.0);
}

#[tokio::test]
async fn routing_prefers_the_member_who_was_faster_on_the_task_type_before() {
    let app = TestApp::spawn().await;
    let t = app.tenant("history").await;
    let owner = t.owner.token.as_str();
    let quick = app.member(&t, Role::Staff).await;
    let slow = app.member(&t, Role::Staff).await;
    let client = app.post("/v1/clients", Some(owner), &json!({"business_name": "Gorse"})).await.value();
    let template = app
        .post(
            "/v1/workflow-templates",
            Some(owner),
            &json!({"name": "Bank reconciliation", "category": "bookkeeping", "steps": [
                {"key": "reconcile", "name": "Reconcile the bank", "kind": "task", "task_type": "data_entry",
                 "estimated_hours": "2", "role": "staff"}]}),
        )
        .await
        .value();
    let app = &app;
    let start = || async {
        let r = app
            .post(
                "/v1/workflow-runs",
                Some(owner),
                &json!({"client_id": client["id"], "template_id": template["id"], "due_date": "2099-06-08"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.value()
    };
    // Before routing is on, each member does one reconciliation by hand: one in 1 h, one in 6 h.
    for (member, minutes) in [(&quick, 60), (&slow, 360)] {
        let run = start().await;
        let rid = run["id"].as_str().unwrap();
        let r = put(
            app,
            &format!("/v1/workflow-runs/{rid}/steps/reconcile/assignee"),
            owner,
            &json!({"assignee": member.user_id}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let entry = json!({"step_id": run["steps"][0]["id"], "started_at": "2026-01-05T09:00:00Z", "minutes": minutes});
        let r = app.post("/v1/time-entries", Some(&member.token), &entry).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let path = format!("/v1/workflow-runs/{rid}/steps/reconcile");
        let r = app.post(&path, Some(&member.token), &json!({"action": "complete"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(put(app, "/v1/workflow-settings", owner, &json!({"routing": "scored"})).await.status, 200);

    // Equal workload (nothing open), equal skills: the history decides. Quick: skill 60 + 40·min(1, 2/1)
    // = 100; slow: 60 + 40·(2/6) = 73.3; 0.3 × the difference is 8 points.
    let run = start().await;
    let step = &run["steps"][0];
    assert_eq!(step["assignee"], quick.user_id.as_str(), "{run}");
    let reasons: Vec<&str> =
        step["routing_reasons"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(reasons[1], "skill 100: no skill needed, averages 1.00 h on it", "{reasons:?}");
}

/// Each member's open hours and steps as the `member_workloads` triggers keep them, next to the
/// same figures summed from the open steps themselves.
async fn kept_and_summed_workloads(
    app: &TestApp,
) -> (Vec<(uuid::Uuid, Decimal, i64)>, Vec<(uuid::Uuid, Decimal, i64)>) {
    let mut owner = app.test_db.owner_conn().await;
    let kept = sqlx::query_as(
        "select user_id, sum(open_hours), sum(open_steps) from member_workloads group by user_id
          having sum(open_steps) <> 0 or sum(open_hours) <> 0 order by user_id",
    )
    .fetch_all(&mut owner)
    .await
    .unwrap();
    let summed = sqlx::query_as(
        "select assignee_id, sum(estimated_hours), count(*) from workflow_steps
          where assignee_id is not null and status in ('ready', 'in_progress', 'blocked')
          group by assignee_id order by assignee_id",
    )
    .fetch_all(&mut owner)
    .await
    .unwrap();
    (kept, summed)
}

/// Sends `requests` (method, path, body) at once with `token`; their statuses and bodies.
async fn all_at_once(
    app: &TestApp,
    token: &str,
    requests: Vec<(reqwest::Method, String, Value)>,
) -> Vec<(u16, Value)> {
    let mut burst = tokio::task::JoinSet::new();
    for (method, path, body) in requests {
        let request = app.http.request(method, app.url(&path)).bearer_auth(token).json(&body);
        burst.spawn(async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap_or(Value::Null))
        });
    }
    burst.join_all().await
}

#[tokio::test]
async fn the_kept_workload_equals_each_members_open_steps_after_every_kind_of_change() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    let t = app.tenant("workload").await;
    let owner = t.owner.token.as_str();
    let mut staff = Vec::new();
    for _ in 0..3 {
        staff.push(app.member(&t, Role::Staff).await);
    }
    assert_eq!(put(&app, "/v1/workflow-settings", owner, &json!({"routing": "scored"})).await.status, 200);
    let client = app.post("/v1/clients", Some(owner), &json!({"business_name": "Kestrel"})).await.value();
    let template = app
        .post(
            "/v1/workflow-templates",
            Some(owner),
            &json!({"name": "Close", "category": "bookkeeping", "steps": [
                {"key": "a", "name": "Gather", "kind": "task", "estimated_hours": "2", "role": "staff"},
                {"key": "b", "name": "Reconcile", "kind": "task", "estimated_hours": "3.5", "role": "staff", "depends_on": ["a"]},
                {"key": "c", "name": "Review", "kind": "task", "estimated_hours": "1", "role": "staff", "depends_on": ["b"]},
                {"key": "d", "name": "Payroll", "kind": "task", "estimated_hours": "1.25", "role": "staff", "depends_on": ["a"]}]}),
        )
        .await
        .value();
    let start = json!({"client_id": client["id"], "template_id": template["id"], "due_date": "2099-06-08"});

    // Twelve runs started at once: each first step routed to someone.
    let started = all_at_once(&app, owner, vec![(Method::POST, "/v1/workflow-runs".into(), start); 12]).await;
    assert!(started.iter().all(|(s, _)| *s == 201), "{started:?}");
    let (kept, summed) = kept_and_summed_workloads(&app).await;
    assert_eq!(summed.iter().map(|(_, _, n)| n).sum::<i64>(), 12, "{summed:?}");
    assert_eq!(kept, summed);

    // Every first step completed at once: two dependants each become ready and are routed, in
    // the same transactions, while other completions change the same members' loads.
    let ids: Vec<String> = started.iter().map(|(_, run)| run["id"].as_str().unwrap().to_owned()).collect();
    let step = |run: &str, key: &str| format!("/v1/workflow-runs/{run}/steps/{key}");
    let completions =
        ids.iter().map(|r| (Method::POST, step(r, "a"), json!({"action": "complete"}))).collect();
    let done = all_at_once(&app, owner, completions).await;
    assert!(done.iter().all(|(s, _)| *s == 200), "{done:?}");
    let (kept, summed) = kept_and_summed_workloads(&app).await;
    assert_eq!(summed.iter().map(|(_, _, n)| n).sum::<i64>(), 24, "{summed:?}");
    assert_eq!(kept, summed);

    // Started, blocked, skipped, reassigned, a run cancelled, another paused: some at once.
    let mut changes = vec![
        (Method::POST, step(&ids[0], "b"), json!({"action": "start"})),
        (Method::POST, step(&ids[1], "b"), json!({"action": "block"})),
        (Method::POST, step(&ids[2], "d"), json!({"action": "skip"})),
        (Method::PUT, format!("{}/assignee", step(&ids[3], "b")), json!({"assignee": staff[0].user_id})),
        (Method::POST, format!("/v1/workflow-runs/{}/command", ids[4]), json!({"command": "cancel"})),
        (Method::POST, format!("/v1/workflow-runs/{}/command", ids[5]), json!({"command": "pause"})),
    ];
    changes.extend(ids[6..].iter().map(|r| (Method::POST, step(r, "b"), json!({"action": "complete"}))));
    let changed = all_at_once(&app, owner, changes).await;
    assert!(changed.iter().all(|(s, _)| *s == 200), "{changed:?}");
    let (kept, summed) = kept_and_summed_workloads(&app).await;
    assert_eq!(kept, summed);

    // A member removed from the firm takes their row with them; their steps lose the assignee.
    let mut conn = app.test_db.owner_conn().await;
    sqlx::query("delete from users where id = $1::uuid")
        .bind(&staff[1].user_id)
        .execute(&mut conn)
        .await
        .unwrap();
    let (kept, summed) = kept_and_summed_workloads(&app).await;
    assert!(kept.iter().all(|(u, _, _)| u.to_string() != staff[1].user_id), "{kept:?}");
    assert_eq!(kept, summed);

    // The team view reads the kept figures.
    let team = app.get("/v1/team/workload", owner).await.value();
    for (user, hours, steps) in &summed {
        let member = team["members"].as_array().unwrap().iter().find(|m| m["user_id"] == user.to_string());
        let member = member.unwrap_or_else(|| panic!("{user} missing: {team}"));
        assert_eq!(member["open_steps"], *steps, "{team}");
        assert_eq!(member["open_hours"].as_str().unwrap().parse::<Decimal>().unwrap(), *hours, "{team}");
    }
}
