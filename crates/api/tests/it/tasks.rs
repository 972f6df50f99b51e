//! Tasks and work items over HTTP: ad-hoc tasks (lifecycle, dependencies, cycles refused), the
//! checklist, comments and @mentions, attachments, and comment/checklist on a run's step; the
//! open-work lists (paged, overdue and this week on a controlled clock); bulk reassignment;
//! bad input changing nothing; portal users seeing none of it.

use chrono::{TimeZone, Utc};
use domain::Role;
use serde_json::{Value, json};
use store::sqlx;
use testkit::{Persona, Tenant, TestApp, TestResponse};

async fn put(app: &TestApp, path: &str, token: &str, body: &Value) -> TestResponse {
    app.request(reqwest::Method::PUT, path, Some(token), Some(body)).await
}

async fn client(app: &TestApp, token: &str, name: &str) -> String {
    let r = app.post("/v1/clients", Some(token), &json!({"business_name": name})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.value()["id"].as_str().unwrap().to_owned()
}

async fn task(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post("/v1/tasks", Some(token), &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.value()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn notifications_of(app: &TestApp, p: &Persona, kind: &str) -> Vec<Value> {
    let r = app.get("/v1/notifications?limit=200", &p.token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.value()["items"].as_array().unwrap().iter().filter(|n| n["kind"] == kind).cloned().collect()
}

async fn audit_count(app: &TestApp, t: &Tenant, action: &str) -> i64 {
    let mut conn = app.test_db.owner_conn().await;
    sqlx::query_scalar("select count(*) from audit_log where organization_id = $1::uuid and action = $2")
        .bind(&t.organization_id)
        .bind(action)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

/// Starts the first system template for `client`; returns the run.
async fn run(app: &TestApp, token: &str, client: &str) -> Value {
    let templates = app.get("/v1/workflow-templates", token).await.value();
    let template = templates[0]["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            "/v1/workflow-runs",
            Some(token),
            &json!({"client_id": client, "template_id": template, "due_date": "2099-12-31"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.value()
}

#[tokio::test]
async fn a_task_moves_through_its_life_waits_for_its_dependencies_and_refuses_cycles() {
    let app = TestApp::spawn().await;
    let t = app.tenant("tasks-life").await;
    let owner = t.owner.token.as_str();
    let staff = app.member(&t, Role::Staff).await;
    let c = client(&app, owner, "Juniper").await;

    let a = task(
        &app,
        owner,
        json!({"title": "Call the bank", "client_id": c, "assignee": staff.user_id,
        "reviewer": t.owner.user_id, "due_date": "2099-01-10", "priority": "high", "estimated_hours": "1.5"}),
    )
    .await;
    assert_eq!((a["status"].as_str(), a["priority"].as_str()), (Some("open"), Some("high")));
    assert_eq!(a["client_name"], "Juniper");
    assert_eq!(a["estimated_hours"], "1.50");
    let b = task(
        &app,
        owner,
        json!({"title": "Reconcile", "assignee": staff.user_id, "due_date": "2099-01-11",
        "depends_on": [id(&a)]}),
    )
    .await;
    assert_eq!(b["blocked"], true);
    assert_eq!(b["depends_on"][0]["title"], "Call the bank");
    // The assignee was told about each task, once each.
    assert_eq!(notifications_of(&app, &staff, "task_assigned").await.len(), 2);

    // Blocked until its dependency is done: neither started nor completed.
    let act = |task: &Value| format!("/v1/tasks/{}/action", id(task));
    let r = app.post(&act(&b), Some(&staff.token), &json!({"action": "complete"})).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("Call the bank"), "{}", r.body);
    let r = app.post(&act(&a), Some(&staff.token), &json!({"action": "start"})).await;
    assert_eq!(r.value()["status"], "in_progress");
    let r = app.post(&act(&a), Some(&staff.token), &json!({"action": "complete"})).await;
    assert_eq!(r.value()["status"], "done");
    assert_eq!(app.get(&format!("/v1/tasks/{}", id(&b)), owner).await.value()["blocked"], false);
    let r = app.post(&act(&b), Some(&staff.token), &json!({"action": "complete"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.value()["status"], "done");
    assert!(r.value()["completed_at"].is_string());
    // Done again: refused. Reopened by its assignee; cancelled only by those who run work.
    assert_eq!(app.post(&act(&b), Some(&staff.token), &json!({"action": "complete"})).await.status, 409);
    let r = app.post(&act(&b), Some(&staff.token), &json!({"action": "reopen"})).await;
    assert_eq!(r.value()["status"], "open");
    assert_eq!(r.value()["completed_at"], Value::Null);
    assert_eq!(app.post(&act(&b), Some(&staff.token), &json!({"action": "cancel"})).await.status, 403);
    assert_eq!(
        app.post(&act(&b), Some(owner), &json!({"action": "cancel"})).await.value()["status"],
        "cancelled"
    );
    // A finished task is not edited; reopened, it is.
    let r = app.patch(&format!("/v1/tasks/{}", id(&b)), owner, &json!({"title": "x"})).await;
    assert_eq!(r.status, 409, "{}", r.body);
    app.post(&act(&b), Some(owner), &json!({"action": "reopen"})).await;
    let r = app
        .patch(
            &format!("/v1/tasks/{}", id(&b)),
            owner,
            &json!({"title": " Reconcile March ", "description": null,
            "reviewer": t.owner.user_id, "estimated_hours": null}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.value()["title"].as_str(), r.value()["reviewer_name"].is_string()),
        (Some("Reconcile March"), true)
    );

    // Cycles: a → b when b → a, and a task on itself; refused, nothing changed.
    let deps = |task: &Value| format!("/v1/tasks/{}/dependencies", id(task));
    let r = put(&app, &deps(&a), owner, &json!({"depends_on": [id(&b)]})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("cycle"), "{}", r.body);
    let c3 =
        task(&app, owner, json!({"title": "Third", "due_date": "2099-01-12", "depends_on": [id(&b)]})).await;
    let r = put(&app, &deps(&a), owner, &json!({"depends_on": [id(&c3)]})).await;
    assert_eq!(r.status, 422, "a longer cycle (a → c → b → a): {}", r.body);
    let r = put(&app, &deps(&a), owner, &json!({"depends_on": [id(&a)]})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(app.get(&format!("/v1/tasks/{}", id(&a)), owner).await.value()["depends_on"], json!([]));
    // Removing b's dependency unblocks nothing wrongly; replacing works.
    let r = put(&app, &deps(&b), owner, &json!({"depends_on": []})).await;
    assert_eq!(r.value()["depends_on"], json!([]));
    assert_eq!(put(&app, &deps(&a), owner, &json!({"depends_on": [id(&c3)]})).await.status, 200);

    // Bad input: 4xx, nothing written.
    let before = audit_count(&app, &t, "task.create").await;
    for (body, status) in [
        (json!({"title": "  ", "due_date": "2099-01-01"}), 422),
        (json!({"title": "x"}), 422),
        (json!({"title": "x", "due_date": "2099-01-01", "estimated_hours": 2}), 422),
        (json!({"title": "x", "due_date": "2099-01-01", "colour": "red"}), 422),
        (json!({"title": "x", "due_date": "2099-01-01", "priority": "asap"}), 422),
        (json!({"title": "x", "due_date": "2099-01-01", "assignee": uuid::Uuid::now_v7()}), 422),
        (json!({"title": "x", "due_date": "2099-01-01", "client_id": uuid::Uuid::now_v7()}), 404),
        (json!({"title": "x", "due_date": "2099-01-01", "depends_on": [uuid::Uuid::now_v7()]}), 404),
    ] {
        let r = app.post("/v1/tasks", Some(owner), &body).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
    }
    let portal = app.member(&t, Role::Client).await;
    let r = app
        .post(
            "/v1/tasks",
            Some(owner),
            &json!({"title": "x", "due_date": "2099-01-01",
        "assignee": portal.user_id}),
        )
        .await;
    assert_eq!(r.status, 422, "a portal user is no assignee: {}", r.body);
    assert_eq!(audit_count(&app, &t, "task.create").await, before);
    // Staff read tasks but do not create them.
    assert_eq!(
        app.post("/v1/tasks", Some(&staff.token), &json!({"title": "x", "due_date": "2099-01-01"}))
            .await
            .status,
        403
    );
    // Audited: each move.
    assert_eq!(audit_count(&app, &t, "task.complete").await, 2);
    assert_eq!(audit_count(&app, &t, "task.reopen").await, 2);
    assert_eq!(audit_count(&app, &t, "task.dependencies").await, 2);
}

#[tokio::test]
async fn checklists_and_comments_work_on_tasks_and_steps_and_a_mention_notifies_once() {
    let app = TestApp::spawn().await;
    let t = app.tenant("tasks-talk").await;
    let owner = t.owner.token.as_str();
    let staff = app.member(&t, Role::Staff).await;
    let other = app.member(&t, Role::Staff).await;
    let c = client(&app, owner, "Hazel").await;
    let tk = task(
        &app,
        owner,
        json!({"title": "Payroll", "client_id": c, "assignee": staff.user_id,
        "due_date": "2099-02-01"}),
    )
    .await;
    let item = format!("/v1/work-items/{}", id(&tk));

    // Checklist: added in order, ticked, reordered, removed.
    let mut ids = Vec::new();
    for text in ["Collect timesheets", "Run payroll", "File 941"] {
        let r = app.post(&format!("{item}/checklist"), Some(&staff.token), &json!({"text": text})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.value().as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_owned());
    }
    let r = app.patch(&format!("{item}/checklist/{}", ids[1]), &staff.token, &json!({"done": true})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.value()[1]["done"], true);
    assert_eq!(r.value()[1]["done_by"], staff.user_id.as_str());
    let r = put(
        &app,
        &format!("{item}/checklist/order"),
        &staff.token,
        &json!({"items": [ids[2], ids[0], ids[1]]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let order = r.value();
    let texts: Vec<&str> = order.as_array().unwrap().iter().map(|i| i["text"].as_str().unwrap()).collect();
    assert_eq!(texts, vec!["File 941", "Collect timesheets", "Run payroll"]);
    // A reorder that leaves an item out, or names one twice, changes nothing.
    for bad in [json!({"items": [ids[0], ids[1]]}), json!({"items": [ids[0], ids[0], ids[1]]})] {
        let r = put(&app, &format!("{item}/checklist/order"), &staff.token, &bad).await;
        assert_eq!(r.status, 422, "{}", r.body);
    }
    let r = app.delete(&format!("{item}/checklist/{}", ids[0]), &staff.token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.value().as_array().unwrap().len(), 2);
    assert_eq!(app.delete(&format!("{item}/checklist/{}", ids[0]), &staff.token).await.status, 404);
    assert_eq!(
        app.post(&format!("{item}/checklist"), Some(&staff.token), &json!({"text": " "})).await.status,
        422
    );
    // Someone neither assigned nor running work may not edit it, but may read and comment.
    let r = app.post(&format!("{item}/checklist"), Some(&other.token), &json!({"text": "x"})).await;
    assert_eq!(r.status, 403, "{}", r.body);

    // A comment mentioning a member twice (and an address that is no member) notifies them once.
    let body = format!(
        "@{} can you check this? cc @{} and @nobody@elsewhere.test",
        staff.email,
        staff.email.to_uppercase()
    );
    let r = app.post(&format!("{item}/comments"), Some(&other.token), &json!({"body": body})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.value()["mentions"], json!([staff.user_id]));
    let mentions = notifications_of(&app, &staff, "work_item_mentioned").await;
    assert_eq!(mentions.len(), 1, "{mentions:?}");
    assert_eq!(mentions[0]["payload"]["link"], format!("/tasks/{}", id(&tk)));
    assert!(notifications_of(&app, &other, "work_item_mentioned").await.is_empty());
    assert_eq!(
        app.post(&format!("{item}/comments"), Some(&other.token), &json!({"body": ""})).await.status,
        422
    );
    let detail = app.get(&item, &staff.token).await.value();
    assert_eq!(detail["kind"], "task");
    assert_eq!(detail["comments"].as_array().unwrap().len(), 1);
    assert_eq!(detail["checklist"].as_array().unwrap().len(), 2);

    // The same on a run's step.
    let run = run(&app, owner, &c).await;
    let step = run["steps"][0]["id"].as_str().unwrap().to_owned();
    let sitem = format!("/v1/work-items/{step}");
    let r = app
        .post(&format!("{sitem}/checklist"), Some(owner), &json!({"text": "Engagement letter signed"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .post(
            &format!("{sitem}/comments"),
            Some(owner),
            &json!({"body": format!("@{} over to you", other.email)}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let m = notifications_of(&app, &other, "work_item_mentioned").await;
    assert_eq!(m.len(), 1);
    assert_eq!(m[0]["payload"]["link"], format!("/work/steps/{step}"));
    let detail = app.get(&sitem, &staff.token).await.value();
    assert_eq!((detail["kind"].as_str(), detail["run_id"].as_str()), (Some("step"), run["id"].as_str()));
    assert_eq!(app.get(&format!("/v1/work-items/{}", uuid::Uuid::now_v7()), owner).await.status, 404);

    // A portal user of this very client sees no task, no work item, no list.
    let portal = app.member(&t, Role::Client).await;
    let r = app
        .post(&format!("/v1/clients/{c}/portal-access"), Some(owner), &json!({"user_id": portal.user_id}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(app.get(&format!("/v1/tasks/{}", id(&tk)), &portal.token).await.status, 403);
    assert_eq!(app.get(&item, &portal.token).await.status, 403);
    assert_eq!(app.get(&sitem, &portal.token).await.status, 403);
    assert_eq!(app.get(&format!("/v1/me/work?view=client&client_id={c}"), &portal.token).await.status, 403);
    let r = app.post(&format!("{item}/comments"), Some(&portal.token), &json!({"body": "hi"})).await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn only_the_author_edits_a_comment_and_newly_mentioned_members_are_notified_once() {
    let app = TestApp::spawn().await;
    let t = app.tenant("tasks-edit").await;
    let owner = t.owner.token.as_str();
    let author = app.member(&t, Role::Staff).await;
    let other = app.member(&t, Role::Staff).await;
    let c = client(&app, owner, "Juniper").await;
    let tk =
        task(&app, owner, json!({"title": "Close books", "client_id": c, "due_date": "2099-03-01"})).await;
    let item = format!("/v1/work-items/{}", id(&tk));
    let r = app
        .post(
            &format!("{item}/comments"),
            Some(&author.token),
            &json!({"body": format!("@{} first draft", t.owner.email)}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.value();
    assert_eq!(created["edited_at"], Value::Null);
    let comment = format!("{item}/comments/{}", id(&created));
    assert_eq!(notifications_of(&app, &t.owner, "work_item_mentioned").await.len(), 1);

    // Another member, even the owner who may run the work, may not edit it; nothing changes.
    for who in [&other.token, &t.owner.token] {
        let r = app.patch(&comment, who, &json!({"body": "hijacked"})).await;
        assert_eq!(r.status, 403, "{}", r.body);
        assert_eq!(r.headers["content-type"], "application/problem+json");
        assert!(r.value()["detail"].as_str().unwrap().contains("only the comment's author"), "{}", r.body);
    }
    let listed = app.get(&format!("{item}/comments"), &other.token).await.value();
    assert_eq!(listed["items"][0]["body"], created["body"]);
    assert_eq!(listed["items"][0]["edited_at"], Value::Null);
    assert_eq!(audit_count(&app, &t, "comment.update").await, 0);
    // Bad bodies and unknown comments change nothing either.
    assert_eq!(app.patch(&comment, &author.token, &json!({"body": "  "})).await.status, 422);
    assert_eq!(app.patch(&comment, &author.token, &json!({"body": "x".repeat(5001)})).await.status, 422);
    let unknown = format!("{item}/comments/{}", uuid::Uuid::now_v7());
    assert_eq!(app.patch(&unknown, &author.token, &json!({"body": "x"})).await.status, 404);

    // The author's edit: stamped, audited with before and after; only the newly mentioned member
    // is notified, and a second edit naming them again notifies nobody.
    let edited_body = format!("@{} final, cc @{}", t.owner.email, other.email);
    let r = app.patch(&comment, &author.token, &json!({"body": edited_body})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let edited = r.value();
    assert_eq!(edited["body"], edited_body.as_str());
    assert!(edited["edited_at"].is_string(), "{edited}");
    assert_eq!(edited["created_at"], created["created_at"]);
    let mut mentioned: Vec<&str> =
        edited["mentions"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
    mentioned.sort_unstable();
    let mut expected = vec![t.owner.user_id.as_str(), other.user_id.as_str()];
    expected.sort_unstable();
    assert_eq!(mentioned, expected);
    assert_eq!(notifications_of(&app, &t.owner, "work_item_mentioned").await.len(), 1);
    assert_eq!(notifications_of(&app, &other, "work_item_mentioned").await.len(), 1);
    let r = app.patch(&comment, &author.token, &json!({"body": format!("@{} final!", other.email)})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let stamped = r.value()["edited_at"].clone();
    assert!(stamped.is_string());
    assert_eq!(notifications_of(&app, &other, "work_item_mentioned").await.len(), 1);
    assert_eq!(audit_count(&app, &t, "comment.update").await, 2);
    // Saving it unchanged is not an edit: the stamp stays, nothing is audited.
    let r = app.patch(&comment, &author.token, &json!({"body": format!("@{} final!", other.email)})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.value()["edited_at"], stamped);
    assert_eq!(audit_count(&app, &t, "comment.update").await, 2);
    let mut conn = app.test_db.owner_conn().await;
    let (before, after): (Value, Value) = sqlx::query_as(
        "select before, after from audit_log where organization_id = $1::uuid and action = 'comment.update'
          order by occurred_at, id limit 1",
    )
    .bind(&t.organization_id)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(before["body"], created["body"]);
    assert_eq!(after["body"], edited_body.as_str());
    let detail = app.get(&item, &other.token).await.value();
    assert!(detail["comments"][0]["edited_at"].is_string(), "{detail}");
}

#[tokio::test]
async fn comment_pages_walk_the_whole_thread_newest_first_without_repeats() {
    let app = TestApp::spawn().await;
    let t = app.tenant("tasks-pages").await;
    let owner = t.owner.token.as_str();
    let tk = task(&app, owner, json!({"title": "Long thread", "due_date": "2099-03-01"})).await;
    let item = format!("/v1/work-items/{}", id(&tk));
    let mut written = Vec::new();
    for n in 0..7 {
        let r =
            app.post(&format!("{item}/comments"), Some(owner), &json!({"body": format!("note {n}")})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        written.push(id(&r.value()));
    }
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("{item}/comments?limit=3&cursor={c}"),
            None => format!("{item}/comments?limit=3"),
        };
        let r = app.get(&path, owner).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let page = r.value();
        seen.extend(page["items"].as_array().unwrap().iter().map(id));
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 10, "the pages end");
    }
    assert_eq!(pages, 3);
    // Newest first: exactly the written comments, reversed, none twice.
    written.reverse();
    assert_eq!(seen, written);
    assert_eq!(app.get(&format!("{item}/comments?cursor=garbage"), owner).await.status, 400);
    assert_eq!(app.get(&format!("{item}/comments?limit=0"), owner).await.status, 422);
    let unknown = format!("/v1/work-items/{}/comments", uuid::Uuid::now_v7());
    assert_eq!(app.get(&unknown, owner).await.status, 404);
}

#[tokio::test]
async fn attachments_are_the_items_clients_documents_only() {
    let app = TestApp::spawn().await;
    let t = app.tenant("tasks-docs").await;
    let other_firm = app.tenant("tasks-docs-other").await;
    let owner = t.owner.token.as_str();
    let c1 = client(&app, owner, "Aspen").await;
    let c2 = client(&app, owner, "Birch").await;
    let c3 = client(&app, &other_firm.owner.token, "Cedar").await;
    let pdf = crate::documents::receipt_pdf("12.00");
    let d1 = crate::documents::upload_one(&app, owner, &c1, "a.pdf", &pdf).await;
    let d2 = crate::documents::upload_one(&app, owner, &c2, "b.pdf", &pdf).await;
    let d3 = crate::documents::upload_one(&app, &other_firm.owner.token, &c3, "c.pdf", &pdf).await;
    let tk =
        task(&app, owner, json!({"title": "Review receipts", "client_id": c1, "due_date": "2099-02-01"}))
            .await;
    let attach = format!("/v1/work-items/{}/attachments", id(&tk));

    let r = app.post(&attach, Some(owner), &json!({"document_id": d1["id"]})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.value()[0]["file_name"], "a.pdf");
    // Again: still one.
    let r = app.post(&attach, Some(owner), &json!({"document_id": d1["id"]})).await;
    assert_eq!(r.value().as_array().unwrap().len(), 1);
    for doc in [&d2, &d3] {
        let r = app.post(&attach, Some(owner), &json!({"document_id": doc["id"]})).await;
        assert_eq!(r.status, 422, "{}", r.body);
    }
    let loose = task(&app, owner, json!({"title": "No client", "due_date": "2099-02-01"})).await;
    let r = app
        .post(
            &format!("/v1/work-items/{}/attachments", id(&loose)),
            Some(owner),
            &json!({"document_id": d1["id"]}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    // On a step of c2's run, c2's document fits and c1's does not.
    let run = run(&app, owner, &c2).await;
    let step = run["steps"][0]["id"].as_str().unwrap();
    let sattach = format!("/v1/work-items/{step}/attachments");
    assert_eq!(app.post(&sattach, Some(owner), &json!({"document_id": d2["id"]})).await.status, 201);
    assert_eq!(app.post(&sattach, Some(owner), &json!({"document_id": d1["id"]})).await.status, 422);
    let detail = app.get(&format!("/v1/work-items/{}", id(&tk)), owner).await.value();
    assert_eq!(detail["attachments"].as_array().unwrap().len(), 1);
    assert_eq!(audit_count(&app, &t, "attachment.add").await, 2);
    // Detached once; the document stays.
    let r = app.delete(&format!("{attach}/{}", d1["id"].as_str().unwrap()), owner).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(app.delete(&format!("{attach}/{}", d1["id"].as_str().unwrap()), owner).await.status, 404);
    assert_eq!(app.get(&format!("/v1/documents/{}", d1["id"].as_str().unwrap()), owner).await.status, 200);
}

#[tokio::test]
async fn work_lists_merge_steps_and_tasks_by_due_date_and_page() {
    let app = TestApp::spawn().await;
    let t = app.tenant("tasks-lists").await;
    let owner = t.owner.token.as_str();
    let staff = app.member(&t, Role::Staff).await;
    let c = client(&app, owner, "Linden").await;
    let other = client(&app, owner, "Maple").await;
    // Wednesday 2030-03-06: overdue before it, "this week" to Sunday the 10th.
    let now = Utc.with_ymd_and_hms(2030, 3, 6, 12, 0, 0).unwrap();
    for (title, due, who, cl) in [
        ("Overdue", "2030-03-01", &t.owner, &c),
        ("Today", "2030-03-06", &t.owner, &c),
        ("Sunday", "2030-03-10", &staff, &other),
        ("Next week", "2030-03-11", &t.owner, &c),
        ("Later", "2030-04-01", &t.owner, &other),
    ] {
        task(
            &app,
            owner,
            json!({"title": title, "due_date": due, "assignee": who.user_id, "client_id": cl,
            "reviewer": staff.user_id}),
        )
        .await;
    }
    // A run's first step given to the owner: due well after the tasks.
    let r = run(&app, owner, &c).await;
    let rid = r["id"].as_str().unwrap();
    let key = r["steps"][0]["key"].as_str().unwrap();
    let a = put(
        &app,
        &format!("/v1/workflow-runs/{rid}/steps/{key}/assignee"),
        owner,
        &json!({"assignee": t.owner.user_id}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let done = task(
        &app,
        owner,
        json!({"title": "Finished", "due_date": "2030-03-02", "assignee": t.owner.user_id}),
    )
    .await;
    app.post(&format!("/v1/tasks/{}/action", id(&done)), Some(owner), &json!({"action": "complete"})).await;

    // Mine, two at a time: every open item once, soonest first, the step with its run.
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/me/work?limit=2&cursor={c}"),
            None => "/v1/me/work?limit=2".to_owned(),
        };
        let page = app.get(&path, owner).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let page = page.value();
        for i in page["items"].as_array().unwrap() {
            names.push(i["name"].as_str().unwrap().to_owned());
            if i["kind"] == "step" {
                assert_eq!(i["run_id"], rid);
                assert_eq!(i["key"], key);
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let step_name = r["steps"][0]["name"].as_str().unwrap().to_owned();
    assert_eq!(names, vec!["Overdue", "Today", "Next week", "Later", step_name.as_str()]);

    // Overdue and this week against the clock the test sets.
    let practice = practice::Practice::new(app.db.clone(), app.keys.clone());
    let ctx = app.identity.authenticate(owner, &identity::RequestMeta::default()).await.unwrap();
    let caller = identity::Caller::new(ctx, identity::RequestMeta::default());
    let list = |view: &str, assignee: Option<&str>| {
        let q: api_types::tasks::WorkListParams =
            serde_json::from_value(json!({"view": view, "assignee": assignee})).unwrap();
        let (practice, caller) = (practice.clone(), caller.clone());
        async move {
            practice
                .work_list(&caller, &q, 50, now)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|i| (i.name, i.overdue))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("overdue", None).await, vec![("Overdue".to_owned(), true)]);
    assert_eq!(list("week", None).await, vec![("Today".to_owned(), false), ("Sunday".to_owned(), false)]);
    assert_eq!(list("week", Some(&staff.user_id)).await, vec![("Sunday".to_owned(), false)]);
    assert_eq!(list("overdue", Some(&staff.user_id)).await, vec![]);
    // A week later, more is overdue.
    let later = practice
        .work_list(
            &caller,
            &serde_json::from_value(json!({"view": "overdue"})).unwrap(),
            50,
            now + chrono::Duration::days(7),
        )
        .await
        .unwrap();
    assert_eq!(later.items.len(), 4, "all but the one due in April");
    // In the firm's zone: at 12:00 UTC it is already the 7th on Kiritimati (UTC+14), so what was
    // due on the 6th is overdue there.
    let zone = json!({"routing": "off", "time_zone": "Pacific/Kiritimati"});
    assert_eq!(put(&app, "/v1/workflow-settings", owner, &zone).await.status, 200);
    assert_eq!(list("overdue", None).await, vec![("Overdue".to_owned(), true), ("Today".to_owned(), true)]);

    // Reviewer queue and by client.
    let review = app.get("/v1/me/work?view=review", &staff.token).await.value();
    assert_eq!(review["items"].as_array().unwrap().len(), 5);
    let by_client =
        app.get(&format!("/v1/me/work?view=client&client_id={other}"), &staff.token).await.value();
    let names: Vec<&str> =
        by_client["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Sunday", "Later"]);

    // Bad input: 4xx.
    assert_eq!(app.get("/v1/me/work?view=client", owner).await.status, 422);
    assert_eq!(
        app.get(&format!("/v1/me/work?view=client&client_id={}", uuid::Uuid::now_v7()), owner).await.status,
        404
    );
    assert_eq!(app.get("/v1/me/work?view=everything", owner).await.status, 400);
    assert_eq!(app.get("/v1/me/work?cursor=garbage", owner).await.status, 400);
    assert_eq!(app.get("/v1/me/work?limit=0", owner).await.status, 422);
}

#[tokio::test]
async fn bulk_reassign_moves_steps_and_tasks_together_or_nothing() {
    let app = TestApp::spawn().await;
    let t = app.tenant("tasks-bulk").await;
    let owner = t.owner.token.as_str();
    let staff = app.member(&t, Role::Staff).await;
    let manager = app.member(&t, Role::Manager).await;
    let c = client(&app, owner, "Rowan").await;
    let t1 =
        task(&app, owner, json!({"title": "One", "due_date": "2099-03-01", "assignee": t.owner.user_id}))
            .await;
    let t2 = task(&app, owner, json!({"title": "Two", "due_date": "2099-03-02"})).await;
    let r = run(&app, owner, &c).await;
    let step = r["steps"][0]["id"].as_str().unwrap().to_owned();
    let items = json!([id(&t1), id(&t2), step]);

    // Refusals change nothing.
    let unknown = json!({"items": [id(&t1), uuid::Uuid::now_v7()], "assignee": staff.user_id});
    let portal = app.member(&t, Role::Client).await;
    for (caller, body, status) in [
        (owner, unknown, 404),
        (owner, json!({"items": items, "assignee": portal.user_id}), 422),
        (owner, json!({"items": [], "assignee": staff.user_id}), 422),
        (owner, json!({"items": "all", "assignee": staff.user_id}), 422),
        (staff.token.as_str(), json!({"items": items, "assignee": staff.user_id}), 403),
    ] {
        let r = app.post("/v1/work-items/reassign", Some(caller), &body).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
    }
    assert_eq!(
        app.get(&format!("/v1/tasks/{}", id(&t1)), owner).await.value()["assignee"],
        t.owner.user_id.as_str()
    );
    assert!(app.get("/v1/me/work", &staff.token).await.value()["items"].as_array().unwrap().is_empty());

    // One request: all three are the staff member's, each audited and notified.
    let r = app
        .post(
            "/v1/work-items/reassign",
            Some(&manager.token),
            &json!({"items": items, "assignee": staff.user_id}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.value()["reassigned"], 3);
    let work = app.get("/v1/me/work", &staff.token).await.value();
    assert_eq!(work["items"].as_array().unwrap().len(), 3);
    assert_eq!(notifications_of(&app, &staff, "task_assigned").await.len(), 2);
    assert_eq!(notifications_of(&app, &staff, "workflow_step_assigned").await.len(), 1);
    assert_eq!(audit_count(&app, &t, "task.reassign").await, 2);
    assert_eq!(audit_count(&app, &t, "workflow_step.assign").await, 1);
    // Again: nothing to change.
    let r = app
        .post(
            "/v1/work-items/reassign",
            Some(&manager.token),
            &json!({"items": items, "assignee": staff.user_id}),
        )
        .await;
    assert_eq!(r.value()["reassigned"], 0);
    // Finished work is not reassigned.
    app.post(&format!("/v1/tasks/{}/action", id(&t2)), Some(owner), &json!({"action": "cancel"})).await;
    let r = app
        .post("/v1/work-items/reassign", Some(owner), &json!({"items": items, "assignee": t.owner.user_id}))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(app.get("/v1/me/work", &staff.token).await.value()["items"].as_array().unwrap().len(), 2);
}

/// Ids of a firm's task data for the cross-tenant tests.
pub(crate) struct TaskIds {
    pub task: String,
    pub checklist_item: String,
    pub comment: String,
}

/// Two tasks of `client` (one waiting for the other), a checklist item, a comment and, when
/// given, an attached document.
pub(crate) async fn populate(app: &TestApp, t: &Tenant, client: &str, document: Option<&str>) -> TaskIds {
    let token = t.owner.token.as_str();
    let first = task(
        app,
        token,
        json!({"title": "Prepare", "client_id": client, "due_date": "2099-05-01",
        "assignee": t.owner.user_id}),
    )
    .await;
    let second = task(
        app,
        token,
        json!({"title": "Review", "client_id": client, "due_date": "2099-05-02",
        "depends_on": [id(&first)]}),
    )
    .await;
    let item = format!("/v1/work-items/{}", id(&second));
    let r = app.post(&format!("{item}/checklist"), Some(token), &json!({"text": "Tie out"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let checklist_item = r.value()[0]["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("{item}/comments"),
            Some(token),
            &json!({"body": format!("@{} see this", t.owner.email)}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let comment = id(&r.value());
    if let Some(d) = document {
        let r = app.post(&format!("{item}/attachments"), Some(token), &json!({"document_id": d})).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    TaskIds { task: id(&second), checklist_item, comment }
}

#[tokio::test]
async fn only_the_author_deletes_a_comment_and_the_audit_log_keeps_what_it_said() {
    let app = TestApp::spawn().await;
    let t = app.tenant("tasks-delete").await;
    let owner = t.owner.token.as_str();
    let author = app.member(&t, Role::Staff).await;
    let c = client(&app, owner, "Alder").await;
    let tk = task(&app, owner, json!({"title": "File 941", "client_id": c, "due_date": "2099-03-01"})).await;
    let item = format!("/v1/work-items/{}", id(&tk));
    let mut ids = Vec::new();
    for body in ["keep me", "posted in the wrong task"] {
        let r = app.post(&format!("{item}/comments"), Some(&author.token), &json!({"body": body})).await;
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(id(&r.value()));
    }
    let wrong = format!("{item}/comments/{}", ids[1]);

    // Not the owner, not anyone but the author; nothing changes.
    let r = app.delete(&wrong, owner).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.problem_slug(), "not-allowed");
    assert_eq!(
        app.get(&format!("{item}/comments"), owner).await.value()["items"].as_array().unwrap().len(),
        2
    );

    let r = app.delete(&wrong, &author.token).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let listed = app.get(&format!("{item}/comments"), owner).await.value();
    let bodies: Vec<&str> =
        listed["items"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["keep me"]);
    assert_eq!(app.delete(&wrong, &author.token).await.status, 404, "gone");
    assert_eq!(
        app.delete(&format!("{item}/comments/{}", uuid::Uuid::now_v7()), &author.token).await.status,
        404
    );
    let r = app.delete(&format!("{item}/comments/not-an-id"), &author.token).await;
    assert_eq!((r.status, r.problem_slug()), (400, "invalid-parameter".to_owned()), "{}", r.body);
    assert_eq!(audit_count(&app, &t, "comment.delete").await, 1);
    let mut conn = app.test_db.owner_conn().await;
    let before: Value = sqlx::query_scalar(
        "select before from audit_log where organization_id = $1::uuid and action = 'comment.delete'",
    )
    .bind(&t.organization_id)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(before["body"], "posted in the wrong task");
}
