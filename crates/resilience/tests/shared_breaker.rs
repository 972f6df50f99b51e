//! The shared breaker against real Redis: two breakers on one key behave like two processes.

use std::time::Duration;

use resilience::{BreakerConfig, BreakerState, CircuitBreaker, SharedBreaker, SharedOpenState};

const TIMEOUT: Duration = Duration::from_millis(300);
const FRESH_FOR: Duration = Duration::from_millis(200);

fn config() -> BreakerConfig {
    BreakerConfig {
        failure_rate: 0.5,
        minimum_calls: 2,
        window: Duration::from_secs(60),
        open_for: Duration::from_secs(600),
        half_open_probes: 1,
    }
}

/// A "process": its own local breaker, the shared state under `key` on the Redis at `url`.
fn process(url: &str, key: &str) -> SharedBreaker {
    let shared = SharedOpenState::new(url, key, TIMEOUT, FRESH_FOR).expect("a valid Redis URL");
    SharedBreaker::new(CircuitBreaker::new(key, config()), Some(shared))
}

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn key() -> String {
    format!("test:{}:breaker-open", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn one_process_opening_its_breaker_stops_the_others() {
    let key = key();
    let (first, second) = (process(&redis_url(), &key), process(&redis_url(), &key));
    // The second has read the state (closed) before the first opens: the answer it keeps for
    // FRESH_FOR is "closed", so wait that out before asking again.
    second.try_acquire().await.expect("closed at first").success();

    for _ in 0..2 {
        first.try_acquire().await.expect("closed").failure().await;
    }
    assert_eq!(first.local().state(), BreakerState::Open);
    tokio::time::sleep(FRESH_FOR).await;

    let left = second.try_acquire().await.expect_err("the first process's open breaker holds here too");
    assert!(left > Duration::ZERO && left <= Duration::from_secs(600), "{left:?}");
    assert_eq!(second.local().state(), BreakerState::Closed, "its own breaker saw no failure");
    let elsewhere = process(&redis_url(), &self::key());
    elsewhere.try_acquire().await.expect("another key is another dependency").success();
}

#[tokio::test]
async fn an_unreachable_redis_leaves_the_local_breaker_in_charge() {
    // Nothing listens on port 1.
    let breaker = process("redis://127.0.0.1:1", &key());
    for _ in 0..2 {
        breaker.try_acquire().await.expect("Redis down refuses nothing").failure().await;
    }
    assert!(breaker.try_acquire().await.is_err(), "the local breaker opened on its own failures");
}
