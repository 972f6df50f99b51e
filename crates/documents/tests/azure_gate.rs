//! The Azure gate shared by workers, through the real client against the stand-in Azure
//! (tests/support): two gates built like two worker processes' (each its own limiters, its own
//! breaker registry) sharing only real Redis (under a key prefix of the test's own) or a database
//! of the test's own. The stand-in counts what arrives.

// A failed unwrap in a helper is a failed test, with its location.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use axum::http::Method;
use documents::ocr::azure::{
    AnalyzeOptions, ApiVersion, AzureClient, AzureError, AzureGate, GateLimits, GateStores, RedisStore,
};
use resilience::{BreakerConfig, Breakers};
use support::{SUCCEEDED_LAYOUT, StandIn, accepted, redis_url, reply, unique_prefix};
use test_db::TestDb;

/// One worker's client: a gate of its own over the shared `stores`.
fn worker(stand_in: &StandIn, limits: GateLimits, stores: GateStores) -> AzureClient {
    let gate = AzureGate::new(&stand_in.base, limits, stores, &Breakers::default()).unwrap();
    stand_in.client(ApiVersion::V2023_07_31, gate, |c| c.max_attempts = 1)
}

fn shared_redis(prefix: &str) -> GateStores {
    GateStores { redis: Some(RedisStore { url: redis_url(), key_prefix: prefix.to_owned() }), postgres: None }
}

/// The most arrivals within any span shorter than `window`.
fn most_within(mut arrivals: Vec<Instant>, window: Duration) -> usize {
    arrivals.sort();
    let mut first = 0;
    let mut most = 0;
    for last in 0..arrivals.len() {
        while arrivals[last] - arrivals[first] >= window {
            first += 1;
        }
        most = most.max(last - first + 1);
    }
    most
}

/// Two workers analyse `per_worker` documents each, all at once; returns the submit arrivals.
async fn two_workers_analyse(stores: GateStores, per_worker: usize) -> Vec<Instant> {
    let stand_in = StandIn::start().await;
    stand_in.push("POST", accepted(&stand_in));
    stand_in.push("GET", reply(200, &[], Some(SUCCEEDED_LAYOUT)));
    // What is shown is the sharing, so a slow store is waited for: with the default 100 ms, a
    // busy machine's slow Redis answer sends a worker to its own limit (by design: a slow Redis
    // costs precision, never a call — `a_dead_redis_fails_no_call`), and the two limits add up.
    let limits = GateLimits { redis_timeout: Duration::from_secs(10), ..GateLimits::default() };
    let workers = [worker(&stand_in, limits, stores.clone()), worker(&stand_in, limits, stores)];

    let options = AnalyzeOptions::default();
    let options = &options;
    let calls = workers
        .iter()
        .flat_map(|client| (0..per_worker).map(move |_| client.analyze("prebuilt-layout", b"%PDF", options)));
    for result in futures::future::join_all(calls).await {
        result.expect("every analysis succeeds, however long it waited for the limit");
    }

    let posts = stand_in.seen(Method::POST);
    assert_eq!(posts.len(), 2 * per_worker, "one submit per document");
    posts.into_iter().map(|seen| seen.at).collect()
}

/// The default limit, 15 analyze calls per second, is one budget for both workers: at most 15
/// submits reach the service in any second. The limiter spaces calls 1/15 s apart on the
/// store's clock; the stand-in's clock sees them after the client's scheduling and the local
/// network, so the count allows 100 ms of that jitter: no 16 arrivals within 900 ms (two
/// workers limited apart would put about 27 there, one alone 14).
fn assert_at_most_15_per_second(arrivals: Vec<Instant>) {
    let most = most_within(arrivals, Duration::from_millis(900));
    assert!(most <= 15, "{most} analyze calls arrived within 0.9 s");
}

#[tokio::test]
async fn two_workers_sharing_redis_stay_within_one_analyze_limit() {
    let arrivals = two_workers_analyse(shared_redis(&unique_prefix()), 20).await;
    assert_at_most_15_per_second(arrivals);
}

#[tokio::test]
async fn without_redis_two_workers_share_the_limit_through_postgres() {
    let test_db = TestDb::create().await;
    let db = test_db.app_pool().await;
    let stores = GateStores { redis: None, postgres: Some(db.pool().clone()) };
    let arrivals = two_workers_analyse(stores, 20).await;
    assert_at_most_15_per_second(arrivals);
}

#[tokio::test]
async fn a_dead_redis_fails_no_call() {
    let stand_in = StandIn::start().await;
    stand_in.push("POST", accepted(&stand_in));
    stand_in.push("GET", reply(200, &[], Some(SUCCEEDED_LAYOUT)));
    // Nothing listens on port 1: every Redis request fails, the gate limits and breaks in process.
    let stores = GateStores {
        redis: Some(RedisStore { url: "redis://127.0.0.1:1".to_owned(), key_prefix: unique_prefix() }),
        postgres: None,
    };
    let client = worker(&stand_in, GateLimits::default(), stores);

    for _ in 0..5 {
        client.analyze("prebuilt-layout", b"%PDF", &AnalyzeOptions::default()).await.unwrap();
    }
    assert_eq!(stand_in.seen(Method::POST).len(), 5);
}

#[tokio::test]
async fn when_one_workers_breaker_opens_every_worker_sharing_redis_stops_calling() {
    let stand_in = StandIn::start().await;
    let down = r#"{"error":{"code":"InternalServerError","message":"An unexpected error occurred."}}"#;
    stand_in.push("POST", reply(500, &[], Some(down)));
    let limits = GateLimits {
        breaker: BreakerConfig {
            failure_rate: 0.5,
            minimum_calls: 3,
            window: Duration::from_secs(60),
            // Longer than the test: nothing reopens the way while it runs.
            open_for: Duration::from_secs(600),
            half_open_probes: 1,
        },
        ..GateLimits::default()
    };
    let prefix = unique_prefix();
    let first = worker(&stand_in, limits, shared_redis(&prefix));
    let second = worker(&stand_in, limits, shared_redis(&prefix));
    let elsewhere = worker(&stand_in, limits, shared_redis(&unique_prefix()));
    let analyze = |client: &AzureClient| {
        let client = client.clone();
        async move { client.analyze("prebuilt-layout", b"%PDF", &AnalyzeOptions::default()).await.unwrap_err() }
    };

    for _ in 0..3 {
        let error = analyze(&first).await;
        assert!(matches!(error, AzureError::Server { status: 500, .. }), "{error:?}");
    }
    assert_eq!(stand_in.seen(Method::POST).len(), 3, "three failures reached the service");

    for client in [&first, &second] {
        match analyze(client).await {
            AzureError::Refused(refusal) => {
                assert!(
                    refusal.retry_after.is_some_and(|left| left <= Duration::from_secs(600)),
                    "{refusal:?}"
                )
            }
            other => panic!("expected a refusal by the open breaker, got {other:?}"),
        }
    }
    assert_eq!(stand_in.seen(Method::POST).len(), 3, "neither worker called the failing service again");

    // A worker that does not share this Redis state still calls: the refusals above came from
    // the shared state, not from anything else about the stand-in.
    assert!(matches!(analyze(&elsewhere).await, AzureError::Server { status: 500, .. }));
    assert_eq!(stand_in.seen(Method::POST).len(), 4);
}
