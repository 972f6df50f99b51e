//! Cache behaviour against the real in-process tier: no mocks of the cache itself.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cache::{Cache, Scope, Tag, Use};
use uuid::Uuid;

fn listing(enabled: bool) -> Use {
    Use {
        name: "marketplace.list",
        ttl: Duration::from_secs(60),
        stale_for: Duration::ZERO,
        enabled,
        strict: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_misses_on_one_key_make_one_loader_call() {
    let cache = Cache::new(1_000);
    let calls = Arc::new(AtomicU64::new(0));
    let release = Arc::new(tokio::sync::Notify::new());
    let mut tasks = Vec::new();
    for _ in 0..1_000 {
        let (cache, calls, release) = (cache.clone(), calls.clone(), release.clone());
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_load(&listing(true), Scope::Public, "page-1", &[], || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    release.notified().await;
                    Ok::<_, Infallible>(vec![1_u32, 2, 3])
                })
                .await
        }));
    }
    // Let every task reach the cache before the single loader is allowed to finish.
    while calls.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    release.notify_one();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), vec![1, 2, 3]);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let counts = &cache.snapshot()[0];
    assert_eq!((counts.misses, counts.hits_l1), (1, 999));
}

#[tokio::test]
async fn a_write_that_bumps_the_tag_is_visible_to_the_next_read() {
    let cache = Cache::new(100);
    let tenant = Scope::Tenant(Uuid::new_v4());
    let tag = Tag::new(tenant, "profile:1");
    let read = |value: &'static str| {
        let cache = cache.clone();
        let tag = tag.clone();
        async move {
            cache
                .get_or_load(&listing(true), tenant, "profile:1", &[tag], move || async move {
                    Ok::<_, Infallible>(value.to_owned())
                })
                .await
                .unwrap()
        }
    };
    assert_eq!(read("before").await, "before");
    assert_eq!(read("after, but not bumped").await, "before");
    cache.bump(&tag).await;
    assert_eq!(read("after").await, "after");
}

#[tokio::test]
async fn tenants_do_not_share_entries_or_tags() {
    let cache = Cache::new(100);
    let (a, b) = (Scope::Tenant(Uuid::new_v4()), Scope::Tenant(Uuid::new_v4()));
    let load = |scope: Scope, value: &'static str| {
        let cache = cache.clone();
        async move {
            cache
                .get_or_load(&listing(true), scope, "k", &[Tag::new(scope, "t")], move || async move {
                    Ok::<_, Infallible>(value.to_owned())
                })
                .await
                .unwrap()
        }
    };
    assert_eq!(load(a, "a").await, "a");
    assert_eq!(load(b, "b").await, "b");
    cache.bump(&Tag::new(b, "t")).await;
    assert_eq!(load(a, "a2").await, "a");
    assert_eq!(load(b, "b2").await, "b2");
}

#[tokio::test]
async fn a_disabled_use_always_calls_the_loader_and_loader_errors_are_not_stored() {
    let cache = Cache::new(100);
    let calls = Arc::new(AtomicU64::new(0));
    for _ in 0..3 {
        let calls = calls.clone();
        let value = cache
            .get_or_load(&listing(false), Scope::Public, "k", &[], || async move {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok::<_, Infallible>(7_u8)
            })
            .await
            .unwrap();
        assert_eq!(value, 7);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let failed: Result<u8, &str> =
        cache.get_or_load(&listing(true), Scope::Public, "e", &[], || async { Err("db down") }).await;
    assert_eq!(failed, Err("db down"));
    let ok: Result<u8, &str> =
        cache.get_or_load(&listing(true), Scope::Public, "e", &[], || async { Ok(9) }).await;
    assert_eq!(ok, Ok(9));
    let counts = &cache.snapshot()[0];
    assert_eq!((counts.bypassed, counts.errors, counts.misses), (3, 1, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stale_entry_is_served_while_exactly_one_background_refresh_runs() {
    let cache = Cache::new(100);
    let short = Use {
        name: "swr",
        ttl: Duration::from_millis(50),
        stale_for: Duration::from_secs(60),
        enabled: true,
        strict: false,
    };
    let calls = Arc::new(AtomicU64::new(0));
    let release = Arc::new(tokio::sync::Notify::new());
    let read = |value: &'static str| {
        let (cache, short, calls, release) = (cache.clone(), short.clone(), calls.clone(), release.clone());
        async move {
            cache
                .get_or_load(&short, Scope::Public, "k", &[], move || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    if value == "new" {
                        release.notified().await;
                    }
                    Ok::<_, Infallible>(value.to_owned())
                })
                .await
                .unwrap()
        }
    };
    assert_eq!(read("old").await, "old");
    calls.store(0, Ordering::SeqCst);
    // Past the TTL, inside the stale window.
    tokio::time::sleep(Duration::from_millis(80)).await;
    let stale_reads: Vec<_> = (0..20).map(|_| tokio::spawn(read("new"))).collect();
    for task in stale_reads {
        assert_eq!(task.await.unwrap(), "old", "a stale value is served at once");
    }
    let counts = &cache.snapshot()[0];
    assert_eq!((counts.stale, counts.refreshes), (20, 1), "twenty stale reads start one refresh");
    while calls.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    release.notify_one();
    while read("new").await != "new" {
        tokio::task::yield_now().await;
    }
    assert_eq!(cache.snapshot()[0].misses, 1, "the refresh replaced the value without a miss");
}

#[tokio::test]
async fn a_bumped_tag_is_never_served_stale() {
    let cache = Cache::new(100);
    let swr = Use {
        name: "swr",
        ttl: Duration::from_secs(60),
        stale_for: Duration::from_secs(60),
        enabled: true,
        strict: false,
    };
    let tag = Tag::new(Scope::Public, "list");
    let read = |value: &'static str| {
        let (cache, swr, tag) = (cache.clone(), swr.clone(), tag.clone());
        async move {
            cache
                .get_or_load(&swr, Scope::Public, "k", &[tag], move || async move {
                    Ok::<_, Infallible>(value.to_owned())
                })
                .await
                .unwrap()
        }
    };
    assert_eq!(read("old").await, "old");
    cache.bump(&tag).await;
    assert_eq!(read("new").await, "new");
}
