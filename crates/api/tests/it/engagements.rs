//! Engagements (per client, per assignee) and notes.

use domain::Role;
use serde_json::json;
use testkit::TestApp;

#[tokio::test]
async fn engagements_are_managed_and_listed_per_client_and_per_assignee() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let cpa = app.member(&t, Role::Cpa).await;
    let senior = app.member(&t, Role::SeniorCpa).await;
    let client =
        app.post("/v1/clients", Some(&t.owner.token), &json!({"business_name": "Blue Fern"})).await.value();
    let cid = client["id"].as_str().unwrap();
    let mk = |name: &str, due: Option<&str>, who: &str| {
        json!({"client_id": cid, "name": name, "engagement_type": "tax_preparation", "due_date": due,
               "assigned_to": who, "estimated_hours": "12.5", "hourly_rate": "180.00", "tax_year": 2026})
    };
    for (name, due) in [("Q3 books", Some("2026-12-15")), ("1040", Some("2027-04-15")), ("Advice", None)] {
        let r = app.post("/v1/engagements", Some(&senior.token), &mk(name, due, &cpa.user_id)).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = app.post("/v1/engagements", Some(&cpa.token), &mk("x", None, &cpa.user_id)).await;
    assert_eq!(r.status, 403, "CPAs do not open engagements");

    let mine = app.get("/v1/engagements?assigned_to=me&limit=2", &cpa.token).await.value();
    let names: Vec<&str> =
        mine["items"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Q3 books", "1040"], "open work by due date");
    let rest = app
        .get(
            &format!("/v1/engagements?assigned_to=me&cursor={}", mine["next_cursor"].as_str().unwrap()),
            &cpa.token,
        )
        .await
        .value();
    assert_eq!(rest["items"][0]["name"], "Advice", "no due date last");

    let per_client = app.get(&format!("/v1/clients/{cid}/engagements"), &cpa.token).await.value();
    assert_eq!(per_client["items"].as_array().unwrap().len(), 3);
    let eid = per_client["items"][0]["id"].as_str().unwrap().to_owned();

    // The CPA moves it along; completion is stamped.
    let r = app
        .patch(
            &format!("/v1/engagements/{eid}"),
            &cpa.token,
            &json!({"status": "completed", "actual_hours": "14.25"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.value()["completed_at"].is_string());
    let r = app.patch(&format!("/v1/engagements/{eid}"), &cpa.token, &json!({"status": "in_progress"})).await;
    assert!(r.value()["completed_at"].is_null(), "reopening clears completion");
    let dated = per_client["items"][1]["id"].as_str().unwrap();
    let r = app
        .patch(&format!("/v1/engagements/{dated}"), &cpa.token, &json!({"start_date": "2027-05-01"}))
        .await;
    assert_eq!(r.status, 422, "due date before start date: {}", r.body);
    let r = app
        .post(
            "/v1/engagements",
            Some(&t.owner.token),
            &json!({"client_id": uuid::Uuid::now_v7(), "name": "x", "engagement_type": "audit"}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(app.delete(&format!("/v1/engagements/{eid}"), &cpa.token).await.status, 403);
    assert_eq!(app.delete(&format!("/v1/engagements/{eid}"), &t.owner.token).await.status, 204);
}

#[tokio::test]
async fn notes_are_internal_and_private_notes_are_their_authors() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let staff = app.member(&t, Role::Staff).await;
    let client =
        app.post("/v1/clients", Some(&t.owner.token), &json!({"business_name": "Blue Fern"})).await.value();
    let cid = client["id"].as_str().unwrap();
    let shared = app
        .post(
            &format!("/v1/clients/{cid}/notes"),
            Some(&staff.token),
            &json!({"body": "Prefers email", "note_type": "follow_up", "remind_at": "2026-12-01T15:00:00Z"}),
        )
        .await;
    assert_eq!(shared.status, 201, "{}", shared.body);
    let private = app
        .post(
            &format!("/v1/clients/{cid}/notes"),
            Some(&t.owner.token),
            &json!({"body": "Fee discussion", "is_private": true}),
        )
        .await
        .value();
    let owner_view = app.get(&format!("/v1/clients/{cid}/notes"), &t.owner.token).await.value();
    assert_eq!(owner_view["items"].as_array().unwrap().len(), 2);
    let staff_view = app.get(&format!("/v1/clients/{cid}/notes"), &staff.token).await.value();
    assert_eq!(staff_view["items"].as_array().unwrap().len(), 1, "the private note is the owner's");
    let pid = private["id"].as_str().unwrap();
    assert_eq!(app.patch(&format!("/v1/notes/{pid}"), &staff.token, &json!({"body": "x"})).await.status, 404);
    let sid = shared.value()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.patch(&format!("/v1/notes/{sid}"), &t.owner.token, &json!({"body": "x"})).await.status,
        404,
        "only the author edits"
    );
    let r = app
        .patch(
            &format!("/v1/notes/{sid}"),
            &staff.token,
            &json!({"body": "Prefers email, not calls", "remind_at": null}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.value()["remind_at"].is_null());
    assert_eq!(app.delete(&format!("/v1/notes/{sid}"), &staff.token).await.status, 204);
    assert_eq!(
        app.post(&format!("/v1/clients/{cid}/notes"), Some(&staff.token), &json!({"body": "  "}))
            .await
            .status,
        422
    );
}
