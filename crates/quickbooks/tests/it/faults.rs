//! Faults that retrying cannot fix come back typed, with their code and detail; retryable ones
//! are retried until the policy gives up, and a realm that keeps failing opens its breaker.

use std::sync::Arc;
use std::time::Duration;

use qbo_sandbox::Faults;
use quickbooks::{
    ClientConfig, EntityKind, FaultKind, LocalRealmLimiter, QboClient, QboError, RealmBreakers, RealmLimits,
    RequestPolicy,
};
use resilience::{BreakerConfig, BreakerState, Breakers};
use secrecy::ExposeSecret;

use crate::support::{connect, fast_policy, sandbox, shared_core_limits, start};

#[tokio::test]
async fn a_missing_entity_is_a_typed_not_found_fault() {
    let env = start(500, Faults::default()).await;
    let error = env.company.read(EntityKind::Invoice, "999999").await.expect_err("no such invoice");
    let QboError::Fault { status, fault, intuit_tid } = &error else { panic!("{error:?}") };
    assert_eq!(*status, 400);
    assert_eq!(fault.kind(), FaultKind::NotFound);
    assert_eq!(fault.code(), Some("610"));
    assert!(intuit_tid.is_some(), "Intuit's transaction id is kept for support");
    assert!(!error.is_transient() && !error.needs_reconnect());

    let found = env.company.read(EntityKind::Invoice, "1").await.expect("invoice 1 exists");
    assert_eq!(found.header.id, "1");
    assert_eq!(env.sandbox.counters(env.realm.as_str()).requests, 2, "faults are not retried");
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let policy = RequestPolicy { max_server_retries: 2, ..fast_policy() };
    let env = connect(sandbox(100, Faults::default()).await, RealmLimits::default(), policy).await;
    env.sandbox.set_faults(Faults { server_error_rate: 1.0, ..Faults::default() });
    let error = env.company.company_info().await.expect_err("always failing");
    assert!(matches!(error, QboError::Unavailable { attempts: 3, .. }) && error.is_transient(), "{error:?}");
    assert_eq!(env.sandbox.counters(env.realm.as_str()).server_errors_injected, 3);
}

#[tokio::test]
async fn a_realm_that_keeps_failing_opens_its_breaker_and_is_not_called_while_it_is_open() {
    let env = start(100, Faults::default()).await;
    let registry = Breakers::default();
    let breaker = BreakerConfig { minimum_calls: 4, ..quickbooks::breakers::DEFAULT_BREAKER };
    let config = ClientConfig {
        api_base: reqwest::Url::parse(env.sandbox.base_url()).expect("a URL"),
        policy: RequestPolicy { max_server_retries: 2, ..fast_policy() },
        ..ClientConfig::default()
    };
    let limiter = Arc::new(LocalRealmLimiter::new(shared_core_limits()));
    let qbo = QboClient::with_breakers(
        reqwest::Client::new(),
        config,
        limiter,
        RealmBreakers::new(breaker, &registry, None),
    );
    let company = qbo.company(env.realm.clone(), env.tokens.clone());
    company.company_info().await.expect("a healthy realm answers");
    env.sandbox.set_faults(Faults { server_error_rate: 1.0, ..Faults::default() });
    let error = company.company_info().await.expect_err("always failing");
    assert!(matches!(error, QboError::Unavailable { attempts: 3, .. }), "{error:?}");
    let snapshot = registry.snapshots().into_iter().find(|s| s.name == RealmBreakers::name(&env.realm));
    assert_eq!(snapshot.map(|s| s.state), Some(BreakerState::Open), "listed for the health page, open");

    let sent = env.sandbox.counters(env.realm.as_str()).requests;
    let error = company.company_info().await.expect_err("refused while open");
    assert!(matches!(error, QboError::CircuitOpen { .. }) && error.is_transient(), "{error:?}");
    assert_eq!(env.sandbox.counters(env.realm.as_str()).requests, sent, "not called while open");
}

#[tokio::test]
async fn throttles_beyond_the_policy_are_reported_as_throttled() {
    let policy =
        RequestPolicy { max_throttle_retries: 1, throttle_pause: Duration::from_millis(50), ..fast_policy() };
    let env = connect(sandbox(100, Faults::default()).await, RealmLimits::default(), policy).await;
    env.sandbox.set_faults(Faults { throttle_rate: 1.0, ..Faults::default() });
    let error = env.company.company_info().await.expect_err("always throttled");
    assert!(matches!(error, QboError::Throttled { attempts: 2 }) && error.is_transient(), "{error:?}");
}

#[tokio::test]
async fn every_call_has_a_deadline() {
    let policy = RequestPolicy {
        attempt_timeout: Duration::from_millis(100),
        deadline: Duration::from_millis(400),
        ..fast_policy()
    };
    let env = connect(sandbox(100, Faults::default()).await, RealmLimits::default(), policy).await;
    env.sandbox.set_faults(Faults { latency_ms: 2_000, ..Faults::default() });
    let error = env.company.company_info().await.expect_err("too slow");
    assert!(
        matches!(error, QboError::DeadlineExceeded | QboError::Unavailable { .. }) && error.is_transient(),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_bad_query_is_a_validation_fault() {
    let env = start(100, Faults::default()).await;
    // An OR is not in QuickBooks' language; the builder cannot write one, so send it raw.
    let response = reqwest::Client::new()
        .post(format!("{}/v3/company/{}/query?minorversion=75", env.sandbox.base_url(), env.realm))
        .bearer_auth(env.tokens.tokens(&env.realm).await.expect("connected").access_token.expose_secret())
        .header("Accept", "application/json")
        .header("Content-Type", "application/text")
        .body("SELECT * FROM Customer WHERE Id = '1' OR Id = '2'")
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 400);
    let fault = quickbooks::fault::parse(&response.bytes().await.expect("body")).expect("a fault");
    assert_eq!((fault.kind(), fault.code()), (FaultKind::Validation, Some("4000")));
}
