//! `Idempotency-Key` on POST: a retry replays the first response and does the work once.

use domain::Role;
use serde_json::{Value, json};
use testkit::{TestApp, TestResponse};

async fn post_with_key(app: &TestApp, token: &str, path: &str, key: &str, body: &Value) -> TestResponse {
    let resp = app
        .http
        .post(app.url(path))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    TestResponse {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap(),
    }
}

async fn client_count(app: &TestApp, token: &str) -> usize {
    app.get("/v1/clients?limit=100", token).await.value()["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_retried_post_replays_the_first_response_and_creates_once() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let token = t.owner.token.as_str();
    let body = json!({"business_name": "Blue Fern LLC"});

    let first = post_with_key(&app, token, "/v1/clients", "create-blue-fern", &body).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let again = post_with_key(&app, token, "/v1/clients", "create-blue-fern", &body).await;
    assert_eq!((again.status, again.body.as_str()), (201, first.body.as_str()), "the same response");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.headers["content-type"], first.headers["content-type"]);
    assert_eq!(client_count(&app, token).await, 1, "created once");

    // The same key with another request is a client bug: 422, nothing done.
    let other =
        post_with_key(&app, token, "/v1/clients", "create-blue-fern", &json!({"business_name": "Red Oak"}))
            .await;
    assert_eq!((other.status, other.problem_slug()), (422, "validation".to_owned()), "{}", other.body);
    assert_eq!(client_count(&app, token).await, 1);

    // Keys belong to their caller: another member's same key is a new request.
    let admin = app.member(&t, Role::Admin).await;
    let theirs = post_with_key(
        &app,
        &admin.token,
        "/v1/clients",
        "create-blue-fern",
        &json!({"business_name": "Gray Elm"}),
    )
    .await;
    assert_eq!(theirs.status, 201, "{}", theirs.body);
    assert_eq!(client_count(&app, token).await, 2);

    // A client error is an answer too: replayed, not re-run.
    let bad = json!({"business_name": ""});
    let rejected = post_with_key(&app, token, "/v1/clients", "empty-name", &bad).await;
    assert_eq!(rejected.status, 422, "{}", rejected.body);
    let replayed = post_with_key(&app, token, "/v1/clients", "empty-name", &bad).await;
    assert_eq!((replayed.status, replayed.headers["idempotent-replayed"].to_str().unwrap()), (422, "true"));

    // A malformed key is refused before anything runs.
    let long = "k".repeat(256);
    for key in [long.as_str(), "has space"] {
        let r = post_with_key(&app, token, "/v1/clients", key, &json!({"business_name": "Never"})).await;
        assert_eq!((r.status, r.problem_slug()), (400, "invalid-parameter".to_owned()), "{key}: {}", r.body);
    }
    assert_eq!(client_count(&app, token).await, 2);

    // Without a key nothing changes: two POSTs, two clients.
    for _ in 0..2 {
        assert_eq!(
            app.post("/v1/clients", Some(token), &json!({"business_name": "Twice"})).await.status,
            201
        );
    }
    assert_eq!(client_count(&app, token).await, 4);
}

#[tokio::test]
async fn concurrent_duplicates_run_once_and_the_rest_wait_or_replay() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let token = t.owner.token.as_str();
    let body = json!({"business_name": "Burst LLC"});
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let request =
            app.http.post(app.url("/v1/clients")).bearer_auth(token).header("idempotency-key", "burst");
        let request = request.json(&body);
        burst.spawn(async move {
            let resp = request.send().await.unwrap();
            (resp.status().as_u16(), resp.headers().get("retry-after").cloned())
        });
    }
    let answers = burst.join_all().await;
    for (status, retry_after) in &answers {
        match status {
            201 => {}
            409 => {
                assert_eq!(retry_after.as_ref().unwrap(), "1", "a duplicate still running says when to retry")
            }
            other => panic!("only 201 (first or replayed) or 409 (still running), got {other}"),
        }
    }
    assert_eq!(client_count(&app, token).await, 1, "one client however many duplicates raced");
    let after = post_with_key(&app, token, "/v1/clients", "burst", &body).await;
    assert_eq!((after.status, after.headers["idempotent-replayed"].to_str().unwrap()), (201, "true"));
}

#[tokio::test]
async fn keys_expire_after_a_day() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let token = t.owner.token.as_str();
    let r = post_with_key(&app, token, "/v1/clients", "yesterday", &json!({"business_name": "Old"})).await;
    assert_eq!(r.status, 201);
    let mut owner = app.test_db.owner_conn().await;
    store::sqlx::query("update idempotency_keys set created_at = now() - interval '25 hours'")
        .execute(&mut owner)
        .await
        .unwrap();
    // An expired key is a new request (a different body is no mismatch any more).
    let r = post_with_key(&app, token, "/v1/clients", "yesterday", &json!({"business_name": "New"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.headers.get("idempotent-replayed").is_none());
    assert_eq!(client_count(&app, token).await, 2);

    store::sqlx::query("update idempotency_keys set created_at = now() - interval '25 hours'")
        .execute(&mut owner)
        .await
        .unwrap();
    assert_eq!(store::idempotency::expire(&app.db).await.unwrap(), 1, "housekeeping deletes expired keys");
    let left: i64 = store::sqlx::query_scalar("select count(*) from idempotency_keys")
        .fetch_one(&mut owner)
        .await
        .unwrap();
    assert_eq!(left, 0);
}
