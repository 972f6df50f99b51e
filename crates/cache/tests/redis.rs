//! The Redis tier against the shared Redis (a unique key prefix per test) and, for failures, against a private
//! redis-server that the test kills and restarts.

use std::convert::Infallible;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cache::{BreakerConfig, Cache, L2Config, Scope, Tag, Use};
use private_redis::PrivateRedis;
use uuid::Uuid;

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

fn config(url: &str) -> L2Config {
    let mut config = L2Config::new(url, format!("test:cache:{}:", Uuid::new_v4()));
    // Short enough that the recovery test does not wait long for probes.
    config.breaker = BreakerConfig { open_for: Duration::from_millis(200), ..config.breaker };
    // A live Redis on a loaded 2-core CI machine can take longer than production's 50 ms to answer;
    // a stopped one refuses the connection at once, so the outage tests lose nothing by this.
    config.timeout = Duration::from_secs(2);
    config
}

fn listing() -> Use {
    Use {
        name: "list",
        ttl: Duration::from_secs(60),
        stale_for: Duration::ZERO,
        enabled: true,
        strict: false,
    }
}

/// Reads `key` through `cache`; the loader returns `value` and counts its calls.
async fn read(cache: &Cache, key: &str, tags: &[Tag], value: &str, calls: &Arc<AtomicU64>) -> String {
    let (value, calls) = (value.to_owned(), calls.clone());
    cache
        .get_or_load(&listing(), Scope::Public, key, tags, move || async move {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok::<_, Infallible>(value)
        })
        .await
        .unwrap()
}

/// Waits until both instances are subscribed, so a bump from one reaches the other.
async fn until_subscribed(caches: &[&Cache]) {
    for _ in 0..500 {
        if caches.iter().all(|c| c.l2_state().is_some_and(|s| s.subscribed)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the invalidation listener did not subscribe");
}

#[tokio::test]
async fn two_instances_share_values_and_see_each_others_bumps() {
    let config = config(&redis_url());
    let a = Cache::with_redis(100, config.clone()).unwrap();
    let b = Cache::with_redis(100, config).unwrap();
    until_subscribed(&[&a, &b]).await;
    let calls = Arc::new(AtomicU64::new(0));
    let tag = Tag::new(Scope::Public, "profile:1");
    let tags = [tag.clone()];

    assert_eq!(read(&a, "p1", &tags, "v1", &calls).await, "v1");
    assert_eq!(read(&b, "p1", &tags, "other", &calls).await, "v1", "b reads a's value from Redis");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!((b.snapshot()[0].hits_l2, b.snapshot()[0].misses), (1, 0));

    // a writes and bumps; b's in-process copy must go as soon as the bump reaches it over pub/sub.
    a.bump(&tag).await;
    assert_eq!(read(&a, "p1", &tags, "v2", &calls).await, "v2", "the writer's next read sees its write");
    let mut seen = read(&b, "p1", &tags, "v3", &calls).await;
    for _ in 0..500 {
        if seen != "v1" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        seen = read(&b, "p1", &tags, "v3", &calls).await;
    }
    assert_eq!(seen, "v2", "b drops its copy on a's bump and reads a's new value from Redis");
}

#[tokio::test]
async fn a_bump_is_one_counter_and_leaves_stored_values_alone() {
    let config = config(&redis_url());
    let prefix = config.prefix.clone();
    let cache = Cache::with_redis(10_000, config.clone()).unwrap();
    let calls = Arc::new(AtomicU64::new(0));
    let tag = Tag::new(Scope::Public, "list");
    let tags = [tag.clone()];
    for i in 0..200 {
        read(&cache, &format!("page-{i}"), &tags, "old", &calls).await;
    }
    let keys = |pattern: &str| -> usize {
        let out = Command::new("redis-cli").args(["--scan", "--pattern", pattern]).output().unwrap();
        String::from_utf8(out.stdout).unwrap().lines().count()
    };
    assert_eq!(keys(&format!("{prefix}v:*")), 200);

    cache.bump(&tag).await;

    // Nothing was deleted or rewritten: the bump is one counter, and the 200 values are now dead by version.
    assert_eq!(keys(&format!("{prefix}v:*")), 200);
    assert_eq!(keys(&format!("{prefix}t:*")), 1);
    let other = Cache::with_redis(10_000, config).unwrap();
    for i in 0..200 {
        assert_eq!(read(&other, &format!("page-{i}"), &tags, "new", &calls).await, "new");
    }
    assert_eq!(other.snapshot()[0].hits_l2, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_misses_through_redis_make_one_loader_call() {
    let cache = Cache::with_redis(100, config(&redis_url())).unwrap();
    let calls = Arc::new(AtomicU64::new(0));
    let release = Arc::new(tokio::sync::Notify::new());
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (cache, calls, release) = (cache.clone(), calls.clone(), release.clone());
            tokio::spawn(async move {
                cache
                    .get_or_load(&listing(), Scope::Public, "hot", &[], move || async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        release.notified().await;
                        Ok::<_, Infallible>(42_u32)
                    })
                    .await
                    .unwrap()
            })
        })
        .collect();
    while calls.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    release.notify_one();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 42);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let counts = &cache.snapshot()[0];
    assert_eq!((counts.misses, counts.hits_l1 + counts.hits_l2), (1, 49));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_test_fails_no_read_and_redis_back_recovers() {
    let server = PrivateRedis::start();
    let url = server.url();
    let config = config(&url);
    let cache = Cache::with_redis(1_000, config.clone()).unwrap();
    // Subscribing clears L1 (messages may have been missed before it): let it happen first.
    until_subscribed(&[&cache]).await;
    let calls = Arc::new(AtomicU64::new(0));
    assert_eq!(read(&cache, "before", &[], "v", &calls).await, "v");
    assert_eq!(cache.l2_state().unwrap().errors, 0);

    server.stop();
    for i in 0..50 {
        assert_eq!(
            read(&cache, &format!("down-{i}"), &[], "from the loader", &calls).await,
            "from the loader"
        );
    }
    assert_eq!(read(&cache, "before", &[], "unused", &calls).await, "v", "L1 still answers");
    let state = cache.l2_state().unwrap();
    assert!(state.errors > 0, "{state:?}");
    assert!(state.skipped > 0, "the breaker opened and later calls skipped Redis: {state:?}");
    assert!(cache.snapshot()[0].errors > 0);
    // A bump with Redis down still invalidates here.
    let tag = Tag::new(Scope::Public, "t");
    assert_eq!(read(&cache, "tagged", std::slice::from_ref(&tag), "old", &calls).await, "old");
    cache.bump(&tag).await;
    assert_eq!(read(&cache, "tagged", std::slice::from_ref(&tag), "new", &calls).await, "new");

    let _back = PrivateRedis::start_on(server.port);
    // Probes after the open interval close the breaker; values then reach Redis again.
    let mut i = 0;
    while !cache.l2_state().unwrap().connected {
        i += 1;
        assert!(i < 1_000, "the cache did not recover: {:?}", cache.l2_state());
        read(&cache, &format!("probe-{i}"), &[], "p", &calls).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(read(&cache, "after", &[], "back", &calls).await, "back");
    let other = Cache::with_redis(1_000, config).unwrap();
    assert_eq!(read(&other, "after", &[], "unused", &calls).await, "back", "the value went to Redis");
    assert_eq!(other.snapshot()[0].hits_l2, 1);
}
