//! Bad input gets a clear problem+json 4xx and changes nothing.

use serde_json::json;
use store::sqlx;
use testkit::{TestApp, TestConfig};

async fn audit_count(app: &TestApp) -> i64 {
    let mut owner = app.test_db.owner_conn().await;
    sqlx::query_scalar("select count(*) from audit_log").fetch_one(&mut owner).await.unwrap()
}

async fn raw(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> testkit::TestResponse {
    let mut req = app
        .http
        .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), app.url(path))
        .bearer_auth(token)
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let resp = req.send().await.unwrap();
    testkit::TestResponse {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap(),
    }
}

#[tokio::test]
async fn malformed_wrong_typed_unknown_and_oversized_bodies_are_refused_without_effect() {
    let mut config = TestConfig::default();
    config.api.json_body_limit = 16 * 1024;
    let app = TestApp::spawn_with(config).await;
    let t = app.tenant("acme").await;
    let token = t.owner.token.as_str();
    let before = audit_count(&app).await;
    let json_ct = Some("application/json");
    // (method, path, content type, body, expected status, expected problem type)
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, Vec<u8>, u16, &'a str);
    let cases: Vec<Case<'_>> = vec![
        ("POST", "/v1/invitations", json_ct, b"{\"email\": ".to_vec(), 400, "malformed-json"),
        ("POST", "/v1/invitations", json_ct, br#"{"email" "a@b.test"}"#.to_vec(), 400, "malformed-json"),
        ("POST", "/v1/invitations", json_ct, br#"{"email": 5, "role": "staff"}"#.to_vec(), 422, "validation"),
        (
            "POST",
            "/v1/invitations",
            json_ct,
            br#"{"email": "a@b.test", "role": "emperor"}"#.to_vec(),
            422,
            "validation",
        ),
        ("POST", "/v1/invitations", json_ct, br#"{"email": "a@b.test"}"#.to_vec(), 422, "validation"),
        (
            "POST",
            "/v1/invitations",
            json_ct,
            br#"{"email": "a@b.test", "role": "staff", "admin": true}"#.to_vec(),
            422,
            "validation",
        ),
        (
            "POST",
            "/v1/invitations",
            json_ct,
            br#"{"email": "not-an-email", "role": "staff"}"#.to_vec(),
            422,
            "validation",
        ),
        (
            "POST",
            "/v1/invitations",
            Some("text/plain"),
            br#"{"email": "a@b.test", "role": "staff"}"#.to_vec(),
            415,
            "unsupported-media-type",
        ),
        (
            "POST",
            "/v1/invitations",
            None,
            br#"{"email": "a@b.test", "role": "staff"}"#.to_vec(),
            415,
            "unsupported-media-type",
        ),
        (
            "POST",
            "/v1/invitations",
            json_ct,
            format!(r#"{{"email": "a@b.test", "role": "staff", "name": "{}"}}"#, "x".repeat(20_000))
                .into_bytes(),
            413,
            "payload-too-large",
        ),
        (
            "PATCH",
            "/v1/organization",
            json_ct,
            br#"{"mfa_required_for_staff": "yes"}"#.to_vec(),
            422,
            "validation",
        ),
        ("PATCH", "/v1/organization", json_ct, br#"{"name": ""}"#.to_vec(), 422, "validation"),
        (
            "PATCH",
            "/v1/members/not-a-uuid",
            json_ct,
            br#"{"role": "cpa"}"#.to_vec(),
            400,
            "invalid-parameter",
        ),
        ("GET", "/v1/members?limit=0", None, vec![], 422, "validation"),
        ("GET", "/v1/members?limit=abc", None, vec![], 400, "invalid-parameter"),
        ("GET", "/v1/members?cursor=%21%21", None, vec![], 400, "invalid-cursor"),
        ("GET", "/v1/members?role=emperor", None, vec![], 400, "invalid-parameter"),
        ("GET", "/v1/members?unknown=1", None, vec![], 400, "invalid-parameter"),
        ("GET", "/v1/audit-log?from=yesterday", None, vec![], 400, "invalid-parameter"),
        (
            "POST",
            "/v1/api-keys",
            json_ct,
            br#"{"name": "k", "scopes": ["users:read"], "expires_in_days": -1}"#.to_vec(),
            422,
            "validation",
        ),
        (
            "POST",
            "/v1/api-keys",
            json_ct,
            br#"{"name": "k", "scopes": ["users:read"], "expires_in_days": 0}"#.to_vec(),
            422,
            "validation",
        ),
        ("GET", "/v1/no-such-route", None, vec![], 404, "not-found"),
        ("PUT", "/v1/members", json_ct, b"{}".to_vec(), 405, "method-not-allowed"),
    ];
    for (method, path, ct, body, status, slug) in cases {
        let r = raw(&app, method, path, token, ct, body).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        assert_eq!(r.problem_slug(), slug, "{method} {path}");
        let p = r.problem();
        assert!(!p.detail.is_empty());
        assert!(p.request_id.is_some(), "{method} {path}: problems carry the request id");
    }
    assert_eq!(audit_count(&app).await, before, "refused requests changed nothing");
    let invitations = app.get("/v1/invitations?open=false", token).await.value();
    assert!(invitations.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn hostile_strings_are_data_not_code() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let nasty = "Robert'); drop table users;-- \u{0}\u{202e}";
    let r = app
        .post(
            "/v1/invitations",
            Some(&t.owner.token),
            &json!({"email": "bobby@acme.test", "name": nasty, "role": "staff"}),
        )
        .await;
    // PostgreSQL refuses NUL in text: a clear 4xx or a stored string, never a 500.
    assert!(r.status == 201 || r.status == 422, "{} {}", r.status, r.body);
    let r = app.login("acme'; --", "x@y.test", "whatever whatever", None).await;
    assert_eq!(r.status, 401);
    assert_eq!(app.get("/v1/members", &t.owner.token).await.status, 200, "users table still there");
}
