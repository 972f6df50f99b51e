//! API keys: scoped, hashed, revocable, never above their maker.

use domain::Role;
use serde_json::json;
use testkit::TestApp;

#[tokio::test]
async fn a_key_acts_within_its_scopes_until_revoked() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let r = app
        .post(
            "/v1/api-keys",
            Some(&t.owner.token),
            &json!({"name": "Zapier", "scopes": ["users:read"], "expires_in_days": 30}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.value();
    let secret = v["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("chk_"));
    let prefix = v["api_key"]["prefix"].as_str().unwrap().to_owned();
    assert!(prefix.starts_with("chk_…") && secret.contains(prefix.trim_start_matches("chk_…")));

    let me = app.get("/v1/me", &secret).await.value();
    assert_eq!(me["authenticated_by"], "api_key");
    assert_eq!(me["permissions"], json!(["users:read"]));
    assert_eq!(app.get("/v1/members", &secret).await.status, 200);
    let r = app.get("/v1/audit-log", &secret).await;
    assert_eq!(r.status, 403, "outside its scopes");
    assert_eq!(r.problem_slug(), "forbidden");

    let listed = app.get("/v1/api-keys", &t.owner.token).await;
    assert!(!listed.body.contains(&secret), "the secret is shown once only");
    assert!(listed.value()[0]["last_used_at"].is_string());

    let id = v["api_key"]["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/v1/api-keys/{id}"), &t.owner.token).await.status, 200);
    assert_eq!(app.get("/v1/members", &secret).await.status, 401);
}

#[tokio::test]
async fn a_key_never_exceeds_its_maker() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let admin = app.member(&t, Role::Admin).await;
    let r =
        app.post("/v1/api-keys", Some(&admin.token), &json!({"name": "k", "scopes": ["clients:read"]})).await;
    assert_eq!(r.status, 403, "admins lack api:keys by default");
    let r = app.post("/v1/api-keys", Some(&t.owner.token), &json!({"name": "k", "scopes": []})).await;
    assert_eq!(r.status, 422);
    let r =
        app.post("/v1/api-keys", Some(&t.owner.token), &json!({"name": "k", "scopes": ["no:such"]})).await;
    assert_eq!(r.status, 422);

    // A key made by an owner who is later demoted loses what the new role lacks.
    let second = app.member(&t, Role::Owner).await;
    let key = app
        .post(
            "/v1/api-keys",
            Some(&second.token),
            &json!({"name": "k", "scopes": ["users:read", "system:audit"]}),
        )
        .await
        .value()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.get("/v1/audit-log", &key).await.status, 200);
    let r =
        app.patch(&format!("/v1/members/{}", second.user_id), &t.owner.token, &json!({"role": "cpa"})).await;
    assert_eq!(r.status, 200);
    assert_eq!(app.get("/v1/audit-log", &key).await.status, 403, "cpa has no system:audit");
    assert_eq!(app.get("/v1/members", &key).await.status, 403, "cpa has no users:read");
}
