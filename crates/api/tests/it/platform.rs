//! Health, readiness, metrics, OpenAPI, docs and request ids.

use testkit::TestApp;

#[tokio::test]
async fn health_readiness_metrics_and_docs_answer() {
    let api = api::ApiConfig { metrics_token: Some("scrape".into()), ..api::ApiConfig::default() };
    let app = TestApp::spawn_with(testkit::TestConfig { api, ..testkit::TestConfig::default() }).await;
    let t = app.tenant("acme").await;
    let get = |path: &'static str| app.request(reqwest::Method::GET, path, None, None);
    assert_eq!(get("/healthz").await.status, 200);
    assert_eq!(get("/readyz").await.status, 200);
    app.get("/v1/me", &t.owner.token).await;
    // Figures about the deployment are for its scraper only.
    assert_eq!(get("/metrics").await.status, 401);
    assert_eq!(app.request(reqwest::Method::GET, "/metrics", Some("guess"), None).await.status, 401);
    let metrics = app.request(reqwest::Method::GET, "/metrics", Some("scrape"), None).await.body;
    assert!(
        metrics.contains(r#"http_request_duration_seconds_bucket{method="GET",route="/v1/me",status="200""#),
        "latency histogram per matched route: {metrics}"
    );
    assert!(metrics.contains("db_pool_connections"));

    let spec = get("/openapi.json").await.value();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in ["/v1/signup", "/v1/sessions", "/v1/me", "/v1/members/{id}", "/v1/audit-log", "/v1/api-keys"]
    {
        assert!(spec["paths"].get(path).is_some(), "{path} missing from the OpenAPI document");
    }
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
    let docs = get("/docs/").await;
    assert_eq!(docs.status, 200);
    assert!(docs.body.to_lowercase().contains("swagger"));
}

#[tokio::test]
async fn request_ids_are_made_or_propagated() {
    let app = TestApp::spawn().await;
    let made = app.request(reqwest::Method::GET, "/healthz", None, None).await;
    assert!(made.headers.get("x-request-id").is_some());
    let resp =
        app.http.get(app.url("/v1/nowhere")).header("x-request-id", "trace-me-42").send().await.unwrap();
    assert_eq!(resp.headers()["x-request-id"], "trace-me-42");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["request_id"], "trace-me-42");
}

/// Every response says: no MIME sniffing, no framing, no referrer; HSTS only when served over https.
#[tokio::test]
async fn responses_carry_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/v1/me", "/v1/nowhere", "/openapi.json"] {
        let r = app.http.get(app.url(path)).send().await.unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"), "{path}");
        assert!(h.get("strict-transport-security").is_none(), "plain http: {path}");
    }
    let api = api::ApiConfig { public_url: "https://books.example.com".into(), ..api::ApiConfig::default() };
    let https = TestApp::spawn_with(testkit::TestConfig { api, ..testkit::TestConfig::default() }).await;
    let r = https.http.get(https.url("/healthz")).send().await.unwrap();
    assert!(r.headers()["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
}

/// A request id too long or with other than visible ASCII is replaced, never echoed or stored.
#[tokio::test]
async fn hostile_request_ids_are_replaced() {
    let app = TestApp::spawn().await;
    for hostile in ["x".repeat(60_000), "a\tb".to_owned(), "x".repeat(129)] {
        let r = app.http.get(app.url("/v1/nowhere")).header("x-request-id", &hostile).send().await.unwrap();
        let echoed = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(echoed, hostile);
        assert!(echoed.len() <= 128);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["request_id"], echoed.as_str());
    }
    let fine = "x".repeat(128);
    let r = app.http.get(app.url("/v1/nowhere")).header("x-request-id", &fine).send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], fine.as_str());
}

/// Without a metrics token configured (the default), `/metrics` is not served on the public listener.
#[tokio::test]
async fn metrics_are_not_public_by_default() {
    let app = TestApp::spawn().await;
    let r = app.request(reqwest::Method::GET, "/metrics", None, None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.problem_slug(), "not-found");
}
