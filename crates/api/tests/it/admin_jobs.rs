//! The operator routes: the job queue (figures, lists with filters, retry, cancel), the health
//! page with the circuit breakers, and the queue gauges on /metrics. Platform administrators
//! only; retry and cancel are audited.

use jobs::{RawJob, enqueue_raw};
use serde_json::{Value, json};
use testkit::{PLATFORM_SLUG, TestApp};

fn job(kind: &str, queue: &str) -> RawJob {
    RawJob {
        kind: kind.to_owned(),
        queue: queue.to_owned(),
        payload: json!({"invoice": 7}),
        priority: 0,
        max_attempts: 3,
        run_at: None,
        unique_key: None,
        organization: None,
        limit: None,
    }
}

#[tokio::test]
async fn platform_admins_list_retry_and_cancel_jobs_and_others_cannot() {
    let api = api::ApiConfig { metrics_token: Some("scrape".into()), ..api::ApiConfig::default() };
    let app = TestApp::spawn_with(testkit::TestConfig { api, ..testkit::TestConfig::default() }).await;
    let platform = app.tenant(PLATFORM_SLUG).await;
    let firm = app.tenant("acme").await;
    let ids: Vec<i64> = {
        let mut conn = app.db.pool().acquire().await.unwrap();
        enqueue_raw(
            &mut conn,
            vec![job("mail.send", "mail"), job("mail.send", "mail"), job("ocr.page", "ocr")],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|id| id.0)
        .collect()
    };
    let (mail, ocr) = (ids[0], ids[2]);
    let admin = &platform.owner.token;

    // Another firm's owner (and a platform member without system:admin) gets 403 everywhere.
    let platform_admin_role = app.member(&platform, domain::Role::Admin).await;
    for token in [&firm.owner.token, &platform_admin_role.token] {
        assert_eq!(app.get("/v1/admin/jobs", token).await.status, 403);
        assert_eq!(app.get("/v1/admin/health", token).await.status, 403);
        for action in ["retry", "cancel"] {
            let r = app.post(&format!("/v1/admin/jobs/{mail}/{action}"), Some(token), &json!({})).await;
            assert_eq!(r.status, 403, "{}", r.body);
        }
    }
    let pool = app.db.pool().clone();
    let state = |id: i64| {
        let pool = pool.clone();
        async move { jobs::admin::get_job(&pool, jobs::JobId(id)).await.unwrap().map(|j| j.state.to_string()) }
    };
    assert_eq!(state(mail).await.as_deref(), Some("available"), "refused requests changed nothing");

    let r = app.get("/v1/admin/jobs", admin).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.value();
    assert_eq!(v["jobs"].as_array().unwrap().len(), 3);
    let mail_queue = v["queues"].as_array().unwrap().iter().find(|q| q["queue"] == "mail").unwrap().clone();
    assert_eq!(mail_queue["ready"], 2);
    assert!(mail_queue["oldest_ready_age_seconds"].as_f64().unwrap() >= 0.0);

    // Filters: queue, kind, state; a state that is not one is a bad query parameter (400), as for
    // every enum of the API's queries.
    let ids_of = |v: Value| -> Vec<i64> {
        v["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_i64().unwrap()).collect()
    };
    assert_eq!(ids_of(app.get("/v1/admin/jobs?queue=ocr", admin).await.value()), vec![ocr]);
    assert_eq!(ids_of(app.get("/v1/admin/jobs?kind=mail.send&limit=1", admin).await.value()), vec![ids[1]]);
    let bad = app.get("/v1/admin/jobs?state=stuck", admin).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("stuck"), "{}", bad.body);

    // Cancel, then retry; a second cancel of a cancelled job is a conflict; unknown ids are 404.
    let r = app.post(&format!("/v1/admin/jobs/{mail}/cancel"), Some(admin), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.value()["state"], "cancelled");
    assert_eq!(ids_of(app.get("/v1/admin/jobs?state=cancelled", admin).await.value()), vec![mail]);
    let again = app.post(&format!("/v1/admin/jobs/{mail}/cancel"), Some(admin), &json!({})).await;
    assert_eq!(again.status, 409, "{}", again.body);
    let r = app.post(&format!("/v1/admin/jobs/{mail}/retry"), Some(admin), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.value()["state"], "available");
    assert_eq!(state(mail).await.as_deref(), Some("available"));
    let missing = app.post("/v1/admin/jobs/999999999/retry", Some(admin), &json!({})).await;
    assert_eq!(missing.status, 404, "{}", missing.body);

    // Both changes are in the platform's audit log, with the job before and after.
    let log = app.get("/v1/audit-log?entity_type=job", admin).await.value();
    let actions: Vec<&str> =
        log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["job.retry", "job.cancel"]);
    assert_eq!(log["items"][1]["before"]["state"], "available");
    assert_eq!(log["items"][1]["after"]["state"], "cancelled");

    // Health: breakers of this process and the queues; /metrics carries the queue gauges.
    resilience::Breakers::process()
        .get_or_create("admin-test-provider", resilience::BreakerConfig::default());
    let h = app.get("/v1/admin/health", admin).await;
    assert_eq!(h.status, 200, "{}", h.body);
    let h = h.value();
    let breaker = h["breakers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "admin-test-provider")
        .unwrap()
        .clone();
    assert_eq!(breaker["state"], "closed");
    assert!(h["queues"].as_array().unwrap().iter().any(|q| q["queue"] == "ocr" && q["ready"] == 1));
    let metrics = app.request(reqwest::Method::GET, "/metrics", Some("scrape"), None).await.body;
    assert!(metrics.contains(r#"jobs_depth{queue="mail",state="ready"} 2"#), "{metrics}");
    assert!(metrics.contains(r#"jobs_oldest_ready_age_seconds{queue="ocr"}"#), "{metrics}");
}

/// The platform capability is issued only after the database confirms the credential: an API key
/// of the platform's owner needs the `system:admin` scope; a signed-out session proves nothing.
#[tokio::test]
async fn the_platform_capability_follows_the_credential() {
    let app = TestApp::spawn().await;
    let platform = app.tenant(PLATFORM_SLUG).await;
    let owner = &platform.owner.token;
    let key = |scopes: Value| {
        let app = &app;
        async move {
            let r = app.post("/v1/api-keys", Some(owner), &json!({"name": "ops", "scopes": scopes})).await;
            assert_eq!(r.status, 201, "{}", r.body);
            r.value()["secret"].as_str().unwrap().to_owned()
        }
    };
    let narrow = key(json!(["clients:read"])).await;
    assert_eq!(app.get("/v1/admin/health", &narrow).await.status, 403);
    let ops = key(json!(["system:admin"])).await;
    assert_eq!(app.get("/v1/admin/health", &ops).await.status, 200);

    let second = app.login(&platform.slug, &platform.owner.email, testkit::PASSWORD, None).await;
    let second = second.value()["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/v1/admin/health", &second).await.status, 200);
    assert_eq!(app.delete("/v1/sessions/current", &second).await.status, 204);
    assert_eq!(app.get("/v1/admin/health", &second).await.status, 401);
}
