//! The query-result cache behind the marketplace's reads: every write is visible to the next read,
//! caching off gives the same answers, and `/v1/admin/cache` shows the counters (platform admins only).

use serde_json::{Value, json};
use testkit::{PLATFORM_SLUG, TestApp, TestConfig};

use crate::marketplace::{assessment, listed_advisor, needs, profile};

pub(crate) async fn public(app: &TestApp, path: &str) -> Value {
    let r = app.request(reqwest::Method::GET, path, None, None).await;
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.value()
}

fn names(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|a| a["display_name"].as_str().unwrap().to_owned()).collect()
}

/// Reads each marketplace view twice (the second read is the cached one when caching is on) after every
/// kind of write, asserting that the write shows; returns what was read, without ids or times.
async fn reads_after_writes(app: &TestApp) -> Vec<Value> {
    let platform = app.tenant(PLATFORM_SLUG).await;
    let advisory = app.tenant("east-advisory").await;
    let client_firm = app.tenant("main-street-cpa").await;
    let mut seen = Vec::new();
    let (alice, alice_id) = listed_advisor(app, &platform, &advisory, profile("Alice", json!({}))).await;
    let list = "/v1/marketplace/advisors?sort=newest";
    let facets = "/v1/marketplace/advisors?facets=true";
    let detail = format!("/v1/marketplace/advisors/{alice_id}");
    let featured = "/v1/marketplace/featured?kind=recently_joined";
    let twice = |path: String| async move {
        let first = public(app, &path).await;
        assert_eq!(public(app, &path).await, first, "a repeated read answers the same");
        first
    };

    assert_eq!(names(&twice(list.to_owned()).await), ["Alice"]);
    twice(facets.to_owned()).await;
    twice(detail.clone()).await;
    twice(featured.to_owned()).await;

    // A second approval: every list shows it at once.
    let (_, bob_id) = listed_advisor(app, &platform, &advisory, profile("Bob", json!({}))).await;
    let v = twice(list.to_owned()).await;
    assert_eq!(names(&v), ["Bob", "Alice"]);
    seen.push(json!(names(&v)));
    let f = twice(facets.to_owned()).await;
    let saas = f["facets"]["industries"].as_array().unwrap().iter().find(|c| c["value"] == "saas").cloned();
    assert_eq!(saas.unwrap()["count"], 2, "{f}");
    seen.push(f["facets"].clone());
    let v = twice(featured.to_owned()).await;
    assert_eq!(v.as_array().unwrap().len(), 2);

    // A profile edit: the detail and the list summaries follow.
    let r = app.patch("/v1/marketplace/profile", &alice.token, &json!({"headline": "Board reporting"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = twice(detail.clone()).await;
    assert_eq!(d["headline"], "Board reporting", "{d}");
    seen.push(d["headline"].clone());
    let v = twice(list.to_owned()).await;
    assert_eq!(v["items"][1]["headline"], "Board reporting");

    // Availability: the "available now" list drops her.
    let r = app
        .request(
            reqwest::Method::PUT,
            "/v1/marketplace/profile/availability",
            Some(&alice.token),
            Some(&json!({"is_available": false})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = twice("/v1/marketplace/advisors?available_now=true".to_owned()).await;
    assert_eq!(names(&v), ["Bob"]);
    seen.push(json!(names(&v)));
    let r = app
        .request(
            reqwest::Method::PUT,
            "/v1/marketplace/profile/availability",
            Some(&alice.token),
            Some(&json!({"is_available": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Matches: requested, read (cached for the tenant), moved: the next read shows the move.
    let assessment_id = assessment(app, &client_firm, needs()).await;
    let matches = format!("/v1/marketplace/needs-assessments/{assessment_id}/matches");
    let r = app.post(&matches, Some(&client_firm.owner.token), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let first = app.get(&matches, &client_firm.owner.token).await.value();
    assert_eq!(app.get(&matches, &client_firm.owner.token).await.value(), first);
    let match_id = first[0]["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/v1/marketplace/matches/{match_id}/status"),
            Some(&client_firm.owner.token),
            &json!({"status": "viewed"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let after = app.get(&matches, &client_firm.owner.token).await.value();
    assert_eq!(after[0]["status"], "viewed", "{after}");
    seen.push(after.as_array().unwrap().iter().map(|m| m["status"].clone()).collect());

    // A suspension: gone from lists and detail.
    let r = app
        .post(
            &format!("/v1/marketplace/admin/advisors/{bob_id}/suspend"),
            Some(&platform.owner.token),
            &json!({"reason": "licence lapsed"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = twice(list.to_owned()).await;
    assert_eq!(names(&v), ["Alice"]);
    seen.push(json!(names(&v)));
    let r =
        app.request(reqwest::Method::GET, &format!("/v1/marketplace/advisors/{bob_id}"), None, None).await;
    assert_eq!(r.status, 404, "{}", r.body);

    let stats = app.get("/v1/admin/cache", &platform.owner.token).await;
    assert_eq!(stats.status, 200, "{}", stats.body);
    seen.push(stats.value());
    assert_eq!(app.get("/v1/admin/cache", &client_firm.owner.token).await.status, 403);
    seen
}

pub(crate) fn counts<'a>(stats: &'a Value, name: &str) -> &'a Value {
    stats["uses"].as_array().unwrap().iter().find(|u| u["name"] == name).unwrap()
}

#[tokio::test]
async fn every_marketplace_write_shows_in_the_next_read_and_caching_off_answers_the_same() {
    let on = TestApp::spawn().await;
    let mut with_cache = reads_after_writes(&on).await;
    let off = TestApp::spawn_with(TestConfig { cache: false, ..TestConfig::default() }).await;
    let mut without = reads_after_writes(&off).await;

    let (stats_on, stats_off) = (with_cache.pop().unwrap(), without.pop().unwrap());
    assert_eq!(with_cache, without, "the same answers with the cache on and off");

    for name in ["marketplace.search", "marketplace.facets", "marketplace.detail", "marketplace.featured"] {
        let on = counts(&stats_on, name);
        assert!(on["hits_l1"].as_u64().unwrap() > 0, "repeated reads are cache hits: {on}");
        assert!(on["misses"].as_u64().unwrap() > 0, "{on}");
        let off = counts(&stats_off, name);
        assert_eq!((off["hits_l1"].as_u64(), off["misses"].as_u64()), (Some(0), Some(0)), "{off}");
        assert!(off["bypassed"].as_u64().unwrap() > 0, "{off}");
    }
    assert!(counts(&stats_on, "marketplace.matches")["hits_l1"].as_u64().unwrap() > 0);
    assert_eq!(stats_on["l2"]["connected"], true, "{stats_on}");
}

#[tokio::test]
async fn with_the_cache_redis_down_every_read_still_answers_and_the_breaker_opens() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = TestApp::spawn_with(TestConfig {
        cache_redis_url: Some(format!("redis://127.0.0.1:{closed_port}")),
        ..TestConfig::default()
    })
    .await;
    let platform = app.tenant(PLATFORM_SLUG).await;
    let advisory = app.tenant("east-advisory").await;
    let (alice, alice_id) = listed_advisor(&app, &platform, &advisory, profile("Alice", json!({}))).await;
    for i in 0..20 {
        let v = public(&app, &format!("/v1/marketplace/advisors?limit={}", 1 + i % 10)).await;
        assert_eq!(names(&v), ["Alice"]);
        public(&app, &format!("/v1/marketplace/advisors/{alice_id}")).await;
    }
    // Writes still invalidate this instance's entries with Redis gone.
    let r = app.patch("/v1/marketplace/profile", &alice.token, &json!({"headline": "Still fresh"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        public(&app, &format!("/v1/marketplace/advisors/{alice_id}")).await["headline"],
        "Still fresh"
    );

    let stats = app.get("/v1/admin/cache", &platform.owner.token).await.value();
    let l2 = &stats["l2"];
    assert_eq!(l2["connected"], false, "{stats}");
    assert_eq!(l2["breaker"], "open", "{stats}");
    assert!(l2["errors"].as_u64().unwrap() > 0 && l2["skipped"].as_u64().unwrap() > 0, "{stats}");
    assert!(
        counts(&stats, "marketplace.search")["hits_l1"].as_u64().unwrap() > 0,
        "L1 still serves: {stats}"
    );
}
