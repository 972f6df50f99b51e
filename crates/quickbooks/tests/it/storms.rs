//! Storms: the sandbox throttles, fails and expires tokens; the client still reads everything,
//! never exceeding Intuit's limits (the sandbox's own counters say so).

use std::time::Duration;

use qbo_sandbox::Faults;
use quickbooks::EntityKind;

use crate::support::{assert_within_intuit_limits, expected, read_everything, read_in_pages_of, start};

#[tokio::test]
async fn throttling_and_5xx_storm_ends_complete_within_the_limits() {
    let faults = Faults { throttle_rate: 0.15, server_error_rate: 0.1, latency_ms: 5, ..Faults::default() };
    let env = start(15_000, faults).await;
    let mirror =
        read_everything(&env.company, &EntityKind::LISTED).await.expect("complete despite the storm");
    assert_eq!(mirror, expected(&env.sandbox, &env.realm));
    let counters = env.sandbox.counters(env.realm.as_str());
    assert!(counters.throttled_injected > 0 && counters.server_errors_injected > 0, "{counters:?}");
    assert_within_intuit_limits(&counters);
    assert_eq!(counters.requests, env.company.api_calls(), "every attempt reached the sandbox");
}

#[tokio::test]
async fn token_expiry_storm_is_ridden_out_by_single_flight_refreshes() {
    // Access tokens die after 20 requests and the client is not told: it refreshes no earlier
    // than a 401 (margin zero). Responses take 200 ms, so requests overlap and each expiry hits
    // several in flight at once. (Expiry by use rather than by time keeps the storm independent
    // of machine load; 20 uses exceed the requests that can get ahead of a retry: 11 readers.)
    let faults = Faults { access_token_uses: Some(20), latency_ms: 200, ..Faults::default() };
    let sandbox = crate::support::sandbox(4_000, faults).await;
    let env = crate::support::connect_with_margin(sandbox, Duration::ZERO).await;
    env.sandbox.expire_access_tokens();
    let mirror =
        read_in_pages_of(&env.company, &EntityKind::LISTED, 50).await.expect("complete despite expiries");
    assert_eq!(mirror, expected(&env.sandbox, &env.realm));
    let counters = env.sandbox.counters(env.realm.as_str());
    let oauth = env.sandbox.oauth_counters();
    assert!(counters.unauthorized >= 2, "tokens expired under the client more than once: {counters:?}");
    assert!(oauth.refreshes >= 2, "{oauth:?}");
    assert_eq!(oauth.invalid_grants, 0, "no refresh raced another (rotation would have lost the grant)");
    assert_eq!(oauth.refreshes, env.tokens.refresh_count());
    assert!(
        oauth.refreshes < counters.unauthorized,
        "concurrent 401s shared one refresh: {oauth:?} {counters:?}"
    );
    assert_within_intuit_limits(&counters);
}
