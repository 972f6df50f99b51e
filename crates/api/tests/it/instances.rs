//! Two (or three) instances of the app sharing one database and one Redis, as server processes behind a
//! load balancer would. A write through one is never served stale by another past its tag's bump: the
//! Redis tier at once (the versions come with the value), another instance's in-process tier as soon as
//! the bump's pub/sub message arrives. Sign-outs, role changes and revocations through one end access
//! through the others. Redis dying mid-traffic fails no request on any of them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use domain::Role;
use serde_json::json;
use testkit::{PLATFORM_SLUG, PrivateRedis, TestApp, TestConfig};

use crate::cache::{counts, public};
use crate::marketplace::{listed_advisor, profile};

/// Waits until `check` holds, for what one pub/sub message takes to arrive; fails if it never does.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..500 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never happened: {what}");
}

/// Waits until every instance is subscribed to the bump channel with Redis answering (right after a
/// start, the listener may not have subscribed yet; until then strict uses bypass the cache).
async fn hearing_bumps(apps: &[&TestApp], platform_admin: &str) {
    eventually("every instance hears bumps", async || {
        let mut all = true;
        for app in apps {
            all &= app.get("/v1/admin/cache", platform_admin).await.value()["l2"]["connected"] == true;
        }
        all
    })
    .await;
}

#[tokio::test]
async fn a_marketplace_write_through_one_instance_is_not_served_stale_by_another() {
    let a = TestApp::spawn().await;
    let b = a.spawn_sibling(TestConfig::default()).await;
    let platform = a.tenant(PLATFORM_SLUG).await;
    hearing_bumps(&[&a, &b], &platform.owner.token).await;
    let advisory = a.tenant("east-advisory").await;
    let (alice, alice_id) = listed_advisor(&a, &platform, &advisory, profile("Alice", json!({}))).await;
    let detail = format!("/v1/marketplace/advisors/{alice_id}");
    let list = "/v1/marketplace/advisors?sort=newest";
    // B holds both in its own tier and in Redis.
    for _ in 0..3 {
        assert_ne!(public(&b, &detail).await["headline"], "Board reporting");
        public(&b, list).await;
    }

    let r = a.patch("/v1/marketplace/profile", &alice.token, &json!({"headline": "Board reporting"})).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // An instance with nothing in process reads Redis, where the bump already is when the write returns.
    let c = a.spawn_sibling(TestConfig::default()).await;
    assert_eq!(public(&c, &detail).await["headline"], "Board reporting");
    assert_eq!(public(&c, list).await["items"][0]["headline"], "Board reporting");
    // B drops its in-process copies when the bump's message arrives, and never serves them again.
    eventually("B serves the new detail", async || {
        public(&b, &detail).await["headline"] == "Board reporting"
    })
    .await;
    eventually("B serves the new list", async || {
        public(&b, list).await["items"][0]["headline"] == "Board reporting"
    })
    .await;
    for _ in 0..10 {
        assert_eq!(public(&b, &detail).await["headline"], "Board reporting");
        assert_eq!(public(&b, list).await["items"][0]["headline"], "Board reporting");
    }

    // B served from its own tier, and after the bump found C's reload in Redis instead of loading again.
    let stats = b.get("/v1/admin/cache", &platform.owner.token).await.value();
    let detail_counts = counts(&stats, "marketplace.detail");
    assert!(detail_counts["hits_l1"].as_u64().unwrap() > 0, "{stats}");
    assert!(detail_counts["hits_l2"].as_u64().unwrap() > 0, "{stats}");
}

#[tokio::test]
async fn sign_outs_role_changes_and_revocations_through_one_instance_end_access_through_another() {
    let a = TestApp::spawn().await;
    let b = a.spawn_sibling(TestConfig::default()).await;
    let platform = a.tenant(PLATFORM_SLUG).await;
    let t = a.tenant("acme").await;
    let admin = a.member(&t, Role::Admin).await;
    let manager = a.member(&t, Role::Manager).await;
    let created = a
        .post("/v1/api-keys", Some(&t.owner.token), &json!({"name": "sync", "scopes": ["users:read"]}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let key = created.value()["secret"].as_str().unwrap().to_owned();
    let key_id = created.value()["api_key"]["id"].as_str().unwrap().to_owned();
    hearing_bumps(&[&a, &b], &platform.owner.token).await;

    // A resolved the owner's session (and put it in Redis); B resolves the others once, then reuses them.
    for token in [&t.owner.token, &admin.token, &manager.token, &key] {
        for _ in 0..3 {
            let r = b.get("/v1/members", token).await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
    }
    let auth = b.get("/v1/admin/cache", &platform.owner.token).await.value();
    let auth = counts(&auth, identity::AUTH_CACHE_USE).clone();
    assert!(auth["hits_l2"].as_u64().unwrap() > 0, "B found A's resolution in Redis: {auth}");
    assert!(auth["hits_l1"].as_u64().unwrap() > 0, "B reused its own: {auth}");

    // A sign-out through A.
    assert_eq!(a.delete("/v1/sessions/current", &admin.token).await.status, 204);
    eventually("B refuses the ended session", async || {
        b.get("/v1/members", &admin.token).await.status == 401
    })
    .await;

    // A role change through A: a manager made an intern loses `users:read` on B too.
    let r = a
        .patch(&format!("/v1/members/{}", manager.user_id), &t.owner.token, &json!({"role": "intern"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    eventually("B applies the new role", async || b.get("/v1/members", &manager.token).await.status == 403)
        .await;
    assert_eq!(b.get("/v1/me", &manager.token).await.value()["user"]["role"], "intern");

    // A revoked API key.
    assert_eq!(a.delete(&format!("/v1/api-keys/{key_id}"), &t.owner.token).await.status, 200);
    eventually("B refuses the revoked key", async || b.get("/v1/members", &key).await.status == 401).await;

    // Nothing of that reached further than it should: the owner still works through both.
    assert_eq!(a.get("/v1/members", &t.owner.token).await.status, 200);
    assert_eq!(b.get("/v1/members", &t.owner.token).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_dying_mid_traffic_fails_no_request_on_either_instance() {
    let redis = PrivateRedis::start();
    let config = TestConfig { cache_redis_url: Some(redis.url()), ..TestConfig::default() };
    let a = Arc::new(TestApp::spawn_with(config.clone()).await);
    let b = Arc::new(a.spawn_sibling(config).await);
    let platform = a.tenant(PLATFORM_SLUG).await;
    let advisory = a.tenant("east-advisory").await;
    let (alice, alice_id) = listed_advisor(&a, &platform, &advisory, profile("Alice", json!({}))).await;
    let token = Arc::new(advisory.owner.token.clone());
    let paths = Arc::new([
        "/v1/marketplace/advisors?sort=newest".to_owned(),
        "/v1/marketplace/advisors?facets=true".to_owned(),
        format!("/v1/marketplace/advisors/{alice_id}"),
        "/v1/members".to_owned(),
        "/v1/me".to_owned(),
    ]);

    let (done, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let target = Arc::new(AtomicU64::new(u64::MAX));
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (app, paths, token) =
                (if w % 2 == 0 { a.clone() } else { b.clone() }, paths.clone(), token.clone());
            let (done, failed, target) = (done.clone(), failed.clone(), target.clone());
            tokio::spawn(async move {
                let mut i = w;
                while done.load(Ordering::SeqCst) < target.load(Ordering::SeqCst) {
                    let path = &paths[i % paths.len()];
                    let r = app.get(path, &token).await;
                    if r.status != 200 {
                        failed.fetch_add(1, Ordering::SeqCst);
                        eprintln!("{path}: {} {}", r.status, r.body);
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                    i += 1;
                }
            })
        })
        .collect();
    let reach = async |n: u64| {
        while done.load(Ordering::SeqCst) < n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };

    reach(300).await;
    tokio::task::block_in_place(|| redis.stop());
    let at_stop = done.load(Ordering::SeqCst);
    reach(at_stop + 600).await;
    // Writes still reach the writer's next read with Redis gone.
    let r = a.patch("/v1/marketplace/profile", &alice.token, &json!({"headline": "Redis-free"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(public(&a, &format!("/v1/marketplace/advisors/{alice_id}")).await["headline"], "Redis-free");
    target.store(0, Ordering::SeqCst);
    for w in workers {
        w.await.expect("a traffic worker ends without panicking");
    }

    assert_eq!(failed.load(Ordering::SeqCst), 0, "of {} requests", done.load(Ordering::SeqCst));
    // Each instance noticed the dead Redis: its listener is gone, so signed-in reads went to
    // PostgreSQL (bypassed) instead of trusting entries no revocation could reach any more.
    for app in [&a, &b] {
        let stats = app.get("/v1/admin/cache", &platform.owner.token).await.value();
        let l2 = &stats["l2"];
        assert_eq!((&l2["connected"], &l2["subscribed"]), (&json!(false), &json!(false)), "{stats}");
        let auth = stats["uses"].as_array().unwrap().iter().find(|u| u["name"] == "auth").unwrap();
        assert!(auth["bypassed"].as_u64().unwrap() > 0, "{stats}");
    }
}

/// Redis restarting empty resets every tag counter. Instances notice (the counters carry an epoch
/// that a restart loses) and forget what they cached under the old counters, so a sign-out, a
/// revoked key and a demotion through one instance still end access through the other at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_holds_across_instances_after_redis_restarts_empty() {
    let redis = PrivateRedis::start();
    let config = TestConfig { cache_redis_url: Some(redis.url()), ..TestConfig::default() };
    let a = TestApp::spawn_with(config.clone()).await;
    let b = a.spawn_sibling(config).await;
    let platform = a.tenant(PLATFORM_SLUG).await;
    let t = a.tenant("acme").await;
    let staff = a.member(&t, Role::Staff).await;
    let manager = a.member(&t, Role::Manager).await;
    let created = a
        .post("/v1/api-keys", Some(&t.owner.token), &json!({"name": "sync", "scopes": ["users:read"]}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let key = created.value()["secret"].as_str().unwrap().to_owned();
    let key_id = created.value()["api_key"]["id"].as_str().unwrap().to_owned();
    hearing_bumps(&[&a, &b], &platform.owner.token).await;
    let warm = async || {
        for token in [&t.owner.token, &staff.token, &manager.token, &key] {
            for app in [&a, &b] {
                for _ in 0..3 {
                    assert_eq!(app.get("/v1/me", token).await.status, 200);
                }
            }
        }
    };
    // Counters well above what they restart at: each sign-out bumps the tenant's.
    warm().await;
    for _ in 0..5 {
        let r = a.login(&t.slug, &t.owner.email, testkit::PASSWORD, None).await;
        let token = r.value()["token"].as_str().unwrap().to_owned();
        assert_eq!(a.delete("/v1/sessions/current", &token).await.status, 204);
    }
    warm().await;

    tokio::task::block_in_place(|| {
        redis.stop();
        let again = PrivateRedis::start_on(redis.port);
        std::mem::forget(again); // `redis` still shuts it down on drop (same port)
    });
    // Both instances resolve through the restarted Redis again (their breakers close, they resubscribe).
    warm().await;
    hearing_bumps(&[&a, &b], &platform.owner.token).await;
    warm().await;
    assert_eq!(b.get("/v1/members", &manager.token).await.status, 200);

    assert_eq!(a.delete("/v1/sessions/current", &staff.token).await.status, 204);
    eventually("B refuses the ended session", async || b.get("/v1/me", &staff.token).await.status == 401)
        .await;
    let r = a
        .patch(&format!("/v1/members/{}", manager.user_id), &t.owner.token, &json!({"role": "intern"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    eventually("B applies the demotion", async || b.get("/v1/members", &manager.token).await.status == 403)
        .await;
    assert_eq!(a.delete(&format!("/v1/api-keys/{key_id}"), &t.owner.token).await.status, 200);
    eventually("B refuses the revoked key", async || b.get("/v1/me", &key).await.status == 401).await;
}

/// While Redis is down, bumps cannot reach other instances, so they resolve sessions and keys from the
/// database instead of process memory: a sign-out through one ends access through the other at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_holds_across_instances_while_redis_is_down() {
    let redis = PrivateRedis::start();
    let config = TestConfig { cache_redis_url: Some(redis.url()), ..TestConfig::default() };
    let a = TestApp::spawn_with(config.clone()).await;
    let b = a.spawn_sibling(config).await;
    let platform = a.tenant(PLATFORM_SLUG).await;
    let t = a.tenant("acme").await;
    let staff = a.member(&t, Role::Staff).await;
    hearing_bumps(&[&a, &b], &platform.owner.token).await;
    for app in [&a, &b] {
        for _ in 0..3 {
            assert_eq!(app.get("/v1/me", &staff.token).await.status, 200);
        }
    }
    tokio::task::block_in_place(|| redis.stop());
    eventually("both instances notice Redis is gone", async || {
        let mut deaf = true;
        for app in [&a, &b] {
            app.get("/v1/me", &staff.token).await;
            deaf &=
                app.get("/v1/admin/cache", &platform.owner.token).await.value()["l2"]["connected"] == false;
        }
        deaf
    })
    .await;
    assert_eq!(b.get("/v1/me", &staff.token).await.status, 200);
    assert_eq!(a.delete("/v1/sessions/current", &staff.token).await.status, 204);
    assert_eq!(b.get("/v1/me", &staff.token).await.status, 401, "B must not serve the ended session");
}
