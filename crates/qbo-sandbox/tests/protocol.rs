//! The sandbox's protocol seen from the wire with a plain HTTP client: limits answered 429 with
//! Intuit's XML throttle fault, GET and POST queries alike, CDC's limits, fault formats by
//! `Accept`, the authorize endpoint's checks, and signed webhook payloads.

use qbo_sandbox::{CompanySpec, Faults, Limits, Sandbox, SandboxConfig, SandboxHandle};
use serde_json::Value;

async fn start(limits: Limits) -> (SandboxHandle, String, String) {
    let company = CompanySpec { entities: 2_000, ..CompanySpec::default() };
    let config = SandboxConfig { companies: vec![company], limits, ..SandboxConfig::default() };
    let sandbox = Sandbox::start(config).await.expect("starts");
    let realm = sandbox.realm_ids()[0].clone();
    let token = sandbox.issue_tokens("sandbox-client-id", &realm).expect("tokens").access_token;
    (sandbox, realm, token)
}

fn api(sandbox: &SandboxHandle, realm: &str, path: &str) -> String {
    format!("{}/v3/company/{realm}/{path}", sandbox.base_url())
}

#[tokio::test]
async fn a_burst_beyond_the_limits_is_answered_429_with_the_xml_throttle_fault() {
    let (sandbox, realm, token) = start(Limits::default()).await;
    sandbox.set_faults(Faults { latency_ms: 300, ..Faults::default() });
    let http = reqwest::Client::new();
    let url = api(&sandbox, &realm, "companyinfo/1");
    let burst =
        (0..25).map(|_| http.get(&url).bearer_auth(&token).header("Accept", "application/json").send());
    let responses = futures::future::join_all(burst).await;
    let mut throttled = 0;
    for response in responses {
        let response = response.expect("answered");
        if response.status() == 429 {
            throttled += 1;
            assert!(response.headers()["content-type"].to_str().expect("ascii").contains("xml"));
            let body = response.text().await.expect("body");
            assert!(body.contains("<Fault type=\"SERVICE\">") && body.contains("ThrottleExceeded"), "{body}");
        } else {
            assert_eq!(response.status(), 200);
        }
    }
    let counters = sandbox.counters(&realm);
    assert_eq!(counters.requests, 25);
    assert_eq!(counters.throttled_by_limit, throttled);
    assert!(throttled >= 15, "10 in flight at most: {counters:?}");
    assert!(counters.max_per_second > 10 && counters.max_in_flight > 10, "{counters:?}");
}

#[tokio::test]
async fn get_and_post_queries_answer_alike() {
    let (sandbox, realm, token) = start(Limits::default()).await;
    let http = reqwest::Client::new();
    let statement = "select * from Invoice where TotalAmt > '100' orderby Id startposition 11 maxresults 7";
    let by_get: Value = http
        .get(api(&sandbox, &realm, "query"))
        .query(&[("query", statement), ("minorversion", "75"), ("format", "json")])
        .bearer_auth(&token)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    let by_post: Value = http
        .post(api(&sandbox, &realm, "query?minorversion=75"))
        .header("Content-Type", "application/text")
        .header("Accept", "application/json")
        .body(statement)
        .bearer_auth(&token)
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    assert_eq!(by_get["QueryResponse"], by_post["QueryResponse"]);
    assert_eq!(by_get["QueryResponse"]["startPosition"], 11);
    assert_eq!(by_get["QueryResponse"]["maxResults"], 7);
    assert_eq!(by_get["QueryResponse"]["Invoice"].as_array().map(Vec::len), Some(7));
    assert!(by_get["time"].as_str().is_some_and(|t| t.ends_with("-08:00")));
}

#[tokio::test]
async fn cdc_refuses_what_intuit_refuses_and_answers_empty_in_the_documented_shape() {
    let (sandbox, realm, token) = start(Limits::default()).await;
    let http = reqwest::Client::new();
    let cdc = |entities: &str, since: String| {
        http.get(api(&sandbox, &realm, "cdc"))
            .query(&[("entities", entities), ("changedSince", since.as_str())])
            .bearer_auth(&token)
            .header("Accept", "application/json")
            .send()
    };
    let old = (chrono::Utc::now() - chrono::Duration::days(31)).to_rfc3339();
    let refused = cdc("Customer", old).await.expect("answered");
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.expect("json");
    assert!(
        body["Fault"]["Error"][0]["Detail"].as_str().is_some_and(|d| d.contains("older than fixed days"))
    );
    let unknown = cdc("Customer,Nonsense", sandbox.now().to_rfc3339()).await.expect("answered");
    assert_eq!(unknown.status(), 400);
    let quiet: Value = cdc("Customer,Invoice", sandbox.now().to_rfc3339())
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    assert_eq!(quiet["CDCResponse"], serde_json::json!([{"QueryResponse": [{}]}]));
}

#[tokio::test]
async fn faults_come_as_json_or_xml_by_accept_and_auth_faults_by_cause() {
    let (sandbox, realm, token) = start(Limits::default()).await;
    let http = reqwest::Client::new();
    let missing = api(&sandbox, &realm, "invoice/999999");
    let json =
        http.get(&missing).bearer_auth(&token).header("Accept", "application/json").send().await.expect("ok");
    assert_eq!(json.status(), 400);
    let body: Value = json.json().await.expect("json");
    assert_eq!(body["Fault"]["Error"][0]["code"], "610");
    let xml = http.get(&missing).bearer_auth(&token).send().await.expect("answered");
    assert_eq!(xml.status(), 400);
    assert!(xml.text().await.expect("body").contains("<Error code=\"610\">"));

    let unknown_token = http.get(&missing).bearer_auth("nonsense").send().await.expect("answered");
    assert_eq!(unknown_token.status(), 401);
    assert!(unknown_token.text().await.expect("body").contains("AuthenticationFault"));
    sandbox.expire_access_tokens();
    let expired = http.get(&missing).bearer_auth(&token).send().await.expect("answered");
    assert_eq!(expired.status(), 401);
    let body: Value = expired.json().await.expect("json");
    assert_eq!(body["fault"]["type"], "AUTHENTICATION", "the lowercase shape");
    assert_eq!(sandbox.counters(&realm).unauthorized, 2);
}

#[tokio::test]
async fn authorize_checks_client_redirect_and_scope() {
    let (sandbox, _, _) = start(Limits::default()).await;
    let browser =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let authorize = format!("{}/connect/oauth2", sandbox.base_url());
    let ask = |client: &str, scope: &str| {
        browser
            .get(&authorize)
            .query(&[
                ("client_id", client),
                ("response_type", "code"),
                ("scope", scope),
                ("redirect_uri", "https://app.example.com/cb?x=1"),
                ("state", "s1"),
            ])
            .send()
    };
    assert_eq!(ask("nobody", "com.intuit.quickbooks.accounting").await.expect("answered").status(), 400);
    let no_scope = ask("sandbox-client-id", "openid").await.expect("answered");
    let location = no_scope.headers()["location"].to_str().expect("ascii").to_owned();
    assert!(
        location.starts_with("https://app.example.com/cb?x=1&") && location.contains("error=invalid_scope")
    );
    let ok = ask("sandbox-client-id", "com.intuit.quickbooks.accounting openid").await.expect("answered");
    assert_eq!(ok.status(), 302);
    let location = ok.headers()["location"].to_str().expect("ascii").to_owned();
    assert!(location.contains("state=s1") && location.contains("code=") && location.contains("realmId="));
}

#[tokio::test]
async fn webhook_payloads_are_signed_like_intuits() {
    let (sandbox, realm, _) = start(Limits::default()).await;
    let summary = sandbox.apply_random_changes(&realm, 5, 1).expect("changes");
    let signed = qbo_sandbox::webhook_notification(&realm, &summary, "verifier");
    let body: Value = serde_json::from_str(&signed.body).expect("json");
    let events = &body["eventNotifications"][0];
    assert_eq!(events["realmId"], realm.as_str());
    assert_eq!(events["dataChangeEvent"]["entities"].as_array().map(Vec::len), Some(summary.changes.len()));
    assert_eq!(signed.signature, qbo_sandbox::sign_webhook(signed.body.as_bytes(), "verifier"));
    assert_ne!(signed.signature, qbo_sandbox::sign_webhook(signed.body.as_bytes(), "other"));
}
