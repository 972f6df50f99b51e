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
        ("POST", "/v1/invitations", json_ct, br#"["a@b.test", "staff"]"#.to_vec(), 422, "validation"),
        ("PATCH", "/v1/organization", json_ct, b"[]".to_vec(), 422, "validation"),
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
    assert!(invitations["items"].as_array().unwrap().is_empty());
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

/// Amounts are strings holding no more decimals than they may (never floats, never rounded),
/// currencies are ISO 4217, dates are plausible, and every refusal — an over-long URI or cursor,
/// a webhook over its size — is problem+json.
#[tokio::test]
async fn amounts_currencies_dates_and_uris_are_bounded_and_every_refusal_is_a_problem() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let token = t.owner.token.as_str();
    let client = app.post("/v1/clients", Some(token), &json!({"business_name": "Birch LLC"})).await.value();
    let c = client["id"].as_str().unwrap();
    let line = |q: serde_json::Value, p: serde_json::Value| json!([{"description": "Books", "quantity": q, "unit_price": p}]);
    let before = audit_count(&app).await;
    let invoice = |extra: serde_json::Value| {
        let mut body = json!({"client_id": c, "lines": line(json!("1"), json!("100.00"))});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        serde_json::to_vec(&body).unwrap()
    };
    let json_ct = Some("application/json");
    type Case<'a> = (&'a str, String, Option<&'a str>, Vec<u8>, u16, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            "POST",
            "/v1/invoices".into(),
            json_ct,
            invoice(json!({"lines": line(json!(1), json!("1"))})),
            422,
            "validation",
        ),
        (
            "POST",
            "/v1/invoices".into(),
            json_ct,
            invoice(json!({"lines": line(json!("1"), json!(12.5))})),
            422,
            "validation",
        ),
        ("POST", "/v1/invoices".into(), json_ct, invoice(json!({"tax_rate": 0.0825})), 422, "validation"),
        (
            "POST",
            "/v1/invoices".into(),
            json_ct,
            invoice(json!({"lines": line(json!("1"), json!("0.123456789"))})),
            422,
            "validation",
        ),
        ("POST", "/v1/invoices".into(), json_ct, invoice(json!({"discount": "0.001"})), 422, "validation"),
        ("POST", "/v1/invoices".into(), json_ct, invoice(json!({"currency": "ZZZ"})), 422, "validation"),
        (
            "POST",
            "/v1/invoices".into(),
            json_ct,
            invoice(json!({"issue_date": "0000-01-01"})),
            422,
            "validation",
        ),
        (
            "POST",
            "/v1/invoices".into(),
            json_ct,
            invoice(json!({"due_date": "9999-12-31"})),
            422,
            "validation",
        ),
        (
            "POST",
            "/v1/invoices".into(),
            json_ct,
            invoice(json!({"issue_date": "-1000-01-01"})),
            422,
            "validation",
        ),
        (
            "PATCH",
            format!("/v1/clients/{c}"),
            json_ct,
            br#"{"annual_revenue": 1000000}"#.to_vec(),
            422,
            "validation",
        ),
        ("GET", format!("/v1/clients?cursor={}", "A".repeat(100_000 / 2)), None, vec![], 414, "uri-too-long"),
        ("GET", format!("/v1/clients?cursor={}", "A".repeat(2_000)), None, vec![], 400, "invalid-cursor"),
        ("GET", "/v1/invoices?due_before=9999-12-31".into(), None, vec![], 400, "invalid-parameter"),
        (
            "POST",
            "/v1/quickbooks/webhooks".into(),
            json_ct,
            vec![b' '; 4 * 1024 * 1024],
            413,
            "payload-too-large",
        ),
    ];
    for (method, path, ct, body, status, slug) in cases {
        let r = raw(&app, method, &path, token, ct, body).await;
        let shown = &path[..path.len().min(60)];
        assert_eq!(r.status, status, "{method} {shown}: {}", r.body);
        assert_eq!(r.problem_slug(), slug, "{method} {shown}");
        assert!(!r.problem().detail.is_empty());
    }
    assert_eq!(audit_count(&app).await, before, "refused requests changed nothing");
    let invoices = app.get("/v1/invoices", token).await.value();
    assert!(invoices["items"].as_array().unwrap().is_empty());

    // What the rules allow still works: amounts as strings, a currency in use, a date this century.
    let ok = invoice(json!({"currency": "eur", "tax_rate": "0.0825", "issue_date": "2026-12-01"}));
    let r = raw(&app, "POST", "/v1/invoices", token, json_ct, ok).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.value()["currency"], "EUR");
}
