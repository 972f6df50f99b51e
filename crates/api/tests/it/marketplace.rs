//! The advisor marketplace: profiles and their verification, the public search, matching with
//! reasons, the match lifecycle from both sides, and reviews feeding the rating.

use std::collections::BTreeSet;

use domain::Role;
use domain::marketplace::{INDUSTRIES, SERVICES};
use serde_json::{Value, json};
use testkit::{PLATFORM_SLUG, Persona, Tenant, TestApp};

/// A complete profile; `extra` overrides fields.
pub(crate) fn profile(name: &str, extra: Value) -> Value {
    let mut p = json!({
        "display_name": name,
        "title": "Fractional CFO",
        "headline": "Cash flow and fundraising for growing companies",
        "bio": "Former controller; builds forecasting and board reporting.",
        "years_experience": 12,
        "certifications": ["cpa"],
        "industries": ["saas", "technology"],
        "services": ["fractional_cfo", "cash_flow", "fundraising"],
        "business_sizes": ["startup", "smb"],
        "languages": ["en"],
        "remote_only": true,
        "hourly_rate": "250.00",
        "retainer_min": "3000.00",
        "retainer_max": "8000.00",
        "pricing_models": ["hourly", "retainer"],
        "max_clients": 10,
    });
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

/// A member of `firm` with a profile approved by the platform; returns them and the advisor id.
pub(crate) async fn listed_advisor(
    app: &TestApp,
    platform: &Tenant,
    firm: &Tenant,
    body: Value,
) -> (Persona, String) {
    let advisor = app.member(firm, Role::Cpa).await;
    let r = app.post("/v1/marketplace/profile", Some(&advisor.token), &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.value()["id"].as_str().unwrap().to_owned();
    let r = app.post("/v1/marketplace/profile/submit", Some(&advisor.token), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .post(
            &format!("/v1/marketplace/admin/advisors/{id}/approve"),
            Some(&platform.owner.token),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    (advisor, id)
}

async fn public(app: &TestApp, path: &str) -> testkit::TestResponse {
    app.request(reqwest::Method::GET, path, None, None).await
}

fn ids(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|a| a["advisor_id"].as_str().unwrap().to_owned()).collect()
}

/// Facet counts come from each listing's tally (migration 0098), whose slots must be the domain's
/// vocabularies in order, then the rate bands: a value missing there would never be counted.
#[tokio::test]
async fn the_facet_tally_has_a_slot_for_every_marketplace_value() {
    let app = TestApp::spawn().await;
    let slots: Vec<String> = store::sqlx::query_scalar("select marketplace_facet_values()")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let mut want: Vec<String> = INDUSTRIES.iter().map(|v| format!("industries:{v}")).collect();
    want.extend(SERVICES.iter().map(|v| format!("services:{v}")));
    want.extend(
        ["unpriced", "under_100", "100_199", "200_299", "300_plus"].map(|b| format!("rate_band:{b}")),
    );
    assert_eq!(slots, want);
}

#[tokio::test]
async fn a_profile_is_listed_only_once_the_platform_approves_it() {
    let app = TestApp::spawn().await;
    let platform = app.tenant(PLATFORM_SLUG).await;
    let firm = app.tenant("north-advisory").await;
    let advisor = app.member(&firm, Role::Cpa).await;

    // Validation names every bad field, and points at the vocabulary.
    let r = app
        .post(
            "/v1/marketplace/profile",
            Some(&advisor.token),
            &json!({"services": ["astrology"], "years_experience": 99}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let v = r.value();
    let fields: BTreeSet<&str> =
        v["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, BTreeSet::from(["display_name", "title", "services", "years_experience"]));
    assert!(r.body.contains("astrology") && r.body.contains("/v1/marketplace/vocabulary"));
    let r = app
        .post(
            "/v1/marketplace/profile",
            Some(&advisor.token),
            &profile("Ann Advisor", json!({"retainer_min": "9000", "retainer_max": "100"})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.value()["errors"][0]["field"], "retainer_max");
    // A portal user cannot be an advisor.
    let portal = app.member(&firm, Role::Client).await;
    let r = app.post("/v1/marketplace/profile", Some(&portal.token), &profile("Portal", json!({}))).await;
    assert_eq!(r.status, 403, "{}", r.body);

    let r =
        app.post("/v1/marketplace/profile", Some(&advisor.token), &profile("Ann Advisor", json!({}))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.value();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["status"], "pending");
    assert_eq!(created["hourly_rate"], "250.00");
    let r = app.post("/v1/marketplace/profile", Some(&advisor.token), &profile("Again", json!({}))).await;
    assert_eq!(r.status, 409);

    // Not public yet.
    assert_eq!(public(&app, &format!("/v1/marketplace/advisors/{id}")).await.status, 404);
    assert!(ids(&public(&app, "/v1/marketplace/advisors").await.value()).is_empty());

    let r = app.post("/v1/marketplace/profile/submit", Some(&advisor.token), &json!({})).await;
    assert_eq!(r.value()["status"], "under_review");
    assert_eq!(
        app.post("/v1/marketplace/profile/submit", Some(&advisor.token), &json!({})).await.status,
        409
    );

    // Only the platform's owners decide: not the advisor, not another firm's owner.
    for token in [&advisor.token, &firm.owner.token] {
        assert_eq!(app.get("/v1/marketplace/admin/review-queue", token).await.status, 403);
        let r =
            app.post(&format!("/v1/marketplace/admin/advisors/{id}/approve"), Some(token), &json!({})).await;
        assert_eq!(r.status, 403, "{}", r.body);
    }
    let platform_admin = app.member(&platform, Role::Admin).await;
    assert_eq!(app.get("/v1/marketplace/admin/review-queue", &platform_admin.token).await.status, 403);
    let queue = app.get("/v1/marketplace/admin/review-queue", &platform.owner.token).await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert_eq!(queue.value()[0]["id"], id.as_str());

    // Rejecting needs a reason; the advisor sees it, fixes the profile and submits again.
    let decide = |decision: &str, body: Value| {
        let path = format!("/v1/marketplace/admin/advisors/{id}/{decision}");
        let token = platform.owner.token.clone();
        let app = &app;
        async move { app.post(&path, Some(&token), &body).await }
    };
    assert_eq!(decide("reject", json!({})).await.status, 422);
    assert_eq!(decide("promote", json!({})).await.status, 404);
    let r = decide("reject", json!({"reason": "Add your CPA licence number to the bio"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mine = app.get("/v1/marketplace/profile", &advisor.token).await.value();
    assert_eq!(mine["status"], "rejected");
    assert_eq!(mine["status_reason"], "Add your CPA licence number to the bio");
    let r = app
        .patch(
            "/v1/marketplace/profile",
            &advisor.token,
            &json!({"bio": "CPA licence 12345. Former controller."}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.value()["headline"],
        "Cash flow and fundraising for growing companies",
        "untouched fields stay"
    );
    app.post("/v1/marketplace/profile/submit", Some(&advisor.token), &json!({})).await;
    let r = decide("approve", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.value()["status"], "active");
    assert!(r.value()["verified_at"].is_string());
    assert_eq!(decide("approve", json!({})).await.status, 409);

    // Listed: public detail (no sign-in), and edits follow into the listing.
    let detail = public(&app, &format!("/v1/marketplace/advisors/{id}")).await;
    assert_eq!(detail.status, 200, "{}", detail.body);
    let d = detail.value();
    assert_eq!(d["bio"], "CPA licence 12345. Former controller.");
    assert_eq!(d["open_client_slots"], 10);
    assert_eq!(d["available_now"], true);
    assert!(
        d.get("user_id").is_none() && !detail.body.contains(&firm.organization_id),
        "no internal ids in public"
    );
    app.patch("/v1/marketplace/profile", &advisor.token, &json!({"headline": "Series A finance lead"})).await;
    let d = public(&app, &format!("/v1/marketplace/advisors/{id}")).await.value();
    assert_eq!(d["headline"], "Series A finance lead");

    // Availability: full or paused advisors are listed but not "available now".
    let r = app
        .request(
            reqwest::Method::PUT,
            "/v1/marketplace/profile/availability",
            Some(&advisor.token),
            Some(&json!({"current_clients": 10})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = public(&app, &format!("/v1/marketplace/advisors/{id}")).await.value();
    assert_eq!((d["available_now"].as_bool(), d["open_client_slots"].as_i64()), (Some(false), Some(0)));
    assert!(ids(&public(&app, "/v1/marketplace/advisors?available_now=true").await.value()).is_empty());
    assert_eq!(ids(&public(&app, "/v1/marketplace/advisors").await.value()), vec![id.clone()]);

    // Suspension takes the advisor off the marketplace; reinstatement lists them again.
    assert_eq!(decide("suspend", json!({"reason": " "})).await.status, 422);
    assert_eq!(decide("suspend", json!({"reason": "Licence lapsed"})).await.status, 200);
    assert_eq!(public(&app, &format!("/v1/marketplace/advisors/{id}")).await.status, 404);
    assert_eq!(decide("reinstate", json!({})).await.status, 200);
    assert_eq!(public(&app, &format!("/v1/marketplace/advisors/{id}")).await.status, 200);

    // Every decision is in the platform's audit log, the edits in the firm's.
    let audit = app.get("/v1/audit-log?limit=200", &platform.owner.token).await.value();
    let actions: Vec<&str> =
        audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions.iter().filter(|a| *a == &"advisor_profile.status").count(), 4, "{actions:?}");
}

#[tokio::test]
async fn search_filters_sorts_pages_and_counts_facets() {
    let app = TestApp::spawn().await;
    let platform = app.tenant(PLATFORM_SLUG).await;
    let firm = app.tenant("south-advisory").await;
    let specs = [
        (
            "Ava",
            json!({"industries": ["saas"], "hourly_rate": "150.00", "years_experience": 5,
                       "certifications": ["cpa", "cma"], "languages": ["en", "es"]}),
        ),
        (
            "Ben",
            json!({"industries": ["healthcare"], "services": ["tax_planning", "bookkeeping"],
                       "hourly_rate": "90.00", "years_experience": 20, "remote_only": false,
                       "title": "Controller", "business_sizes": ["enterprise"]}),
        ),
        (
            "Cleo",
            json!({"industries": ["saas", "healthcare"], "hourly_rate": "320.00", "years_experience": 8,
                        "retainer_min": "10000.00", "retainer_max": "20000.00", "certifications": ["cfa"]}),
        ),
        (
            "Dev",
            json!({"industries": ["construction"], "hourly_rate": null, "years_experience": 15,
                       "services": ["erp_implementation"], "title": "ERP implementation lead"}),
        ),
        (
            "Eve",
            json!({"industries": ["retail"], "hourly_rate": "200.00", "years_experience": 3,
                       "languages": ["fr"], "retainer_min": null, "retainer_max": null}),
        ),
    ];
    let mut by_name = std::collections::HashMap::new();
    for (name, extra) in specs {
        let (_, id) = listed_advisor(&app, &platform, &firm, profile(name, extra)).await;
        by_name.insert(name, id);
    }
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["display_name"].as_str().unwrap().to_owned())
            .collect()
    };
    let search = |q: &str| {
        let path = format!("/v1/marketplace/advisors?{q}");
        let app = &app;
        async move {
            let r = public(app, &path).await;
            assert_eq!(r.status, 200, "{path}: {}", r.body);
            r.value()
        }
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };

    assert_eq!(sorted(names(&search("industries=saas").await)), ["Ava", "Cleo"]);
    assert_eq!(sorted(names(&search("industries=saas,healthcare").await)), ["Ava", "Ben", "Cleo"]);
    assert_eq!(names(&search("industries=saas,healthcare&industries_match=all").await), ["Cleo"]);
    assert_eq!(sorted(names(&search("services=tax_planning,erp_implementation").await)), ["Ben", "Dev"]);
    assert_eq!(names(&search("certifications=cpa,cma").await), ["Ava"]);
    assert_eq!(sorted(names(&search("max_hourly_rate=150").await)), ["Ava", "Ben"]);
    assert_eq!(names(&search("retainer_min=9000&retainer_max=12000").await), ["Cleo"]);
    assert_eq!(sorted(names(&search("min_years=15").await)), ["Ben", "Dev"]);
    assert_eq!(names(&search("business_size=enterprise").await), ["Ben"]);
    assert_eq!(names(&search("language=es").await), ["Ava"]);
    assert_eq!(names(&search("remote_only=false").await), ["Ben"]);
    assert!(names(&search("min_rating=1").await).is_empty(), "nobody is reviewed yet");

    // Sorts, and keyset pages that cover everything exactly once.
    assert_eq!(names(&search("sort=experience").await), ["Ben", "Dev", "Cleo", "Ava", "Eve"]);
    assert_eq!(names(&search("sort=price_asc").await), ["Ben", "Ava", "Eve", "Cleo"], "unpriced excluded");
    assert_eq!(names(&search("sort=price_desc").await), ["Cleo", "Eve", "Ava", "Ben"]);
    assert_eq!(names(&search("sort=newest").await), ["Eve", "Dev", "Cleo", "Ben", "Ava"]);
    for sort in ["rating", "reviews", "experience", "price_asc", "price_desc", "newest"] {
        let whole = names(&search(&format!("sort={sort}")).await);
        let mut paged = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let q = match &cursor {
                Some(c) => format!("sort={sort}&limit=2&cursor={c}"),
                None => format!("sort={sort}&limit=2"),
            };
            let page = search(&q).await;
            paged.extend(names(&page));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(paged, whole, "sort={sort}: pages must equal the whole list");
    }

    // Text: words in titles, headlines and bios (prefixes), typos in any of them.
    let found = names(&search("q=controller").await);
    assert_eq!(
        (found.len(), found[0].as_str()),
        (5, "Ben"),
        "every bio says controller; Ben's title ranks first"
    );
    assert_eq!(names(&search("q=implement").await), ["Dev"]);
    assert_eq!(names(&search("q=implemantation%20lead").await), ["Dev"], "typo tolerated");
    assert_eq!(names(&search("q=forcasting").await).len(), 5, "a typo of a bio word");
    assert!(names(&search("q=xqzvw").await).is_empty(), "nothing near it: no results");
    assert_eq!(names(&search("q=controller&industries=saas").await).len(), 2, "bio mentions controller");

    // Facets count under the filters.
    let v = search("industries=saas,healthcare&facets=true").await;
    let facet = |kind: &str, value: &str| {
        v["facets"][kind]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["value"] == value)
            .map(|f| f["count"].as_i64().unwrap())
            .unwrap_or(0)
    };
    assert_eq!((facet("industries", "saas"), facet("industries", "healthcare")), (2, 2));
    assert_eq!(facet("industries", "retail"), 0);
    assert_eq!(facet("services", "tax_planning"), 1);
    assert_eq!((facet("rate_bands", "under_100"), facet("rate_bands", "100_199")), (1, 1));
    assert_eq!(facet("rate_bands", "300_plus"), 1);
    assert!(search("industries=saas").await.get("facets").is_none());

    // Featured lists, comparison, vocabulary.
    let r = public(&app, "/v1/marketplace/featured?kind=recently_joined&limit=2").await.value();
    assert_eq!(r.as_array().unwrap().len(), 2);
    assert_eq!(r[0]["display_name"], "Eve");
    let r =
        public(&app, "/v1/marketplace/featured?kind=industry_experts&industry=construction").await.value();
    assert_eq!(r[0]["display_name"], "Dev");
    assert_eq!(r.as_array().unwrap().len(), 1);
    let (a, c) = (&by_name["Ava"], &by_name["Cleo"]);
    let r = public(&app, &format!("/v1/marketplace/compare?ids={c},{a}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.value()[0]["display_name"], "Cleo", "in the order asked");
    assert_eq!(r.value()[1]["retainer_max"], "8000.00");
    let vocab = public(&app, "/v1/marketplace/vocabulary").await.value();
    assert!(vocab["services"].as_array().unwrap().contains(&json!("fractional_cfo")));

    // Bad input: a 422 naming the parameter.
    for (q, field) in [
        ("/v1/marketplace/advisors?sort=cheapest", "sort"),
        ("/v1/marketplace/advisors?industries=space", "industries"),
        ("/v1/marketplace/advisors?industries_match=most", "industries_match"),
        ("/v1/marketplace/advisors?min_rating=7", "min_rating"),
        ("/v1/marketplace/advisors?retainer_min=5&retainer_max=1", "retainer_max"),
        ("/v1/marketplace/advisors?language=xx", "language"),
        ("/v1/marketplace/advisors?q=%21%21", "q"),
        ("/v1/marketplace/advisors?q=cfo&cursor=abc", "cursor"),
        ("/v1/marketplace/featured?kind=best", "kind"),
        ("/v1/marketplace/featured?kind=top_rated&limit=50", "limit"),
    ] {
        let r = public(&app, q).await;
        assert_eq!(r.status, 422, "{q}: {}", r.body);
        assert!(r.body.contains(field), "{q}: {}", r.body);
    }
    for q in [
        "/v1/marketplace/advisors?limit=1000",
        &format!("/v1/marketplace/compare?ids={a}"),
        "/v1/marketplace/compare?ids=x,y",
    ] {
        let r = public(&app, q).await;
        assert_eq!(r.status, 422, "{q}: {}", r.body);
        r.problem();
    }
    let r = public(&app, "/v1/marketplace/advisors?bogus=1").await;
    assert_eq!((r.status, r.problem_slug().as_str()), (400, "invalid-parameter"));
    assert!(r.body.contains("bogus"));
    // A damaged cursor, or one from another sort, is refused (400 invalid-cursor, as every list).
    let page = search("sort=experience&limit=2").await;
    let cursor = page["next_cursor"].as_str().unwrap();
    for q in [
        "/v1/marketplace/advisors?cursor=garbage".to_owned(),
        format!("/v1/marketplace/advisors?sort=newest&cursor={cursor}"),
    ] {
        let r = public(&app, &q).await;
        assert_eq!((r.status, r.problem_slug().as_str()), (400, "invalid-cursor"), "{q}");
    }
    let missing = uuid::Uuid::now_v7();
    assert_eq!(public(&app, &format!("/v1/marketplace/compare?ids={a},{missing}")).await.status, 404);
    assert_eq!(public(&app, &format!("/v1/marketplace/advisors/{missing}/reviews")).await.status, 404);
}

/// A client of `firm` and a needs assessment for it; returns the assessment id.
pub(crate) async fn assessment(app: &TestApp, firm: &Tenant, body: Value) -> String {
    let client =
        app.post("/v1/clients", Some(&firm.owner.token), &json!({"business_name": "Rocket SaaS Inc"})).await;
    let mut body = body;
    body["client_id"] = client.value()["id"].clone();
    let r = app.post("/v1/marketplace/needs-assessments", Some(&firm.owner.token), &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.value()["id"].as_str().unwrap().to_owned()
}

pub(crate) fn needs() -> Value {
    json!({
        "business_size": "startup",
        "industry": "saas",
        "services_needed": ["fractional_cfo", "fundraising"],
        "budget_type": "monthly_retainer",
        "budget_min": "4000.00",
        "budget_max": "7000.00",
        "urgency": "within_month",
        "engagement_length": "ongoing",
        "required_certifications": ["cpa"],
    })
}

#[tokio::test]
async fn matching_explains_scores_and_both_sides_move_a_match_to_a_review() {
    let app = TestApp::spawn().await;
    let platform = app.tenant(PLATFORM_SLUG).await;
    let advisory = app.tenant("east-advisory").await;
    let client_firm = app.tenant("main-street-cpa").await;
    let outsider = app.tenant("other-cpa").await;

    let (best, best_id) = listed_advisor(&app, &platform, &advisory, profile("Best Fit", json!({}))).await;
    let (_, okay_id) = listed_advisor(
        &app,
        &platform,
        &advisory,
        profile(
            "Okay Fit",
            json!({"industries": ["retail"], "years_experience": 4, "retainer_min": "9000.00",
                                   "retainer_max": "15000.00"}),
        ),
    )
    .await;
    // Fails hard filters: no CPA; unavailable; offers none of the services.
    let (_, no_cpa) =
        listed_advisor(&app, &platform, &advisory, profile("No Licence", json!({"certifications": ["cfa"]})))
            .await;
    let (full, full_id) =
        listed_advisor(&app, &platform, &advisory, profile("Fully Booked", json!({}))).await;
    app.request(
        reqwest::Method::PUT,
        "/v1/marketplace/profile/availability",
        Some(&full.token),
        Some(&json!({"is_available": false})),
    )
    .await;
    let (_, wrong_service) =
        listed_advisor(&app, &platform, &advisory, profile("Payroll Only", json!({"services": ["payroll"]})))
            .await;

    // Validation of an assessment.
    let bad = app
        .post(
            "/v1/marketplace/needs-assessments",
            Some(&client_firm.owner.token),
            &json!({"business_size": "startup", "services_needed": ["astrology"], "budget_type": "flexible",
                    "urgency": "immediate", "engagement_length": "ongoing", "budget_min": "10", "budget_max": "5",
                    "industry": "space"}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let fields: BTreeSet<String> = bad.value()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, BTreeSet::from(["services_needed", "budget_max", "industry"].map(String::from)));
    // Another firm's client is not found.
    let theirs =
        app.post("/v1/clients", Some(&outsider.owner.token), &json!({"business_name": "Theirs"})).await;
    let mut body = needs();
    body["client_id"] = theirs.value()["id"].clone();
    let r = app.post("/v1/marketplace/needs-assessments", Some(&client_firm.owner.token), &body).await;
    assert_eq!(r.status, 404, "{}", r.body);

    let assessment_id = assessment(&app, &client_firm, needs()).await;
    let path = format!("/v1/marketplace/needs-assessments/{assessment_id}/matches");
    assert_eq!(
        app.post(&format!("{path}?count=50"), Some(&client_firm.owner.token), &json!({})).await.status,
        422
    );
    let r = app.post(&format!("{path}?count=3"), Some(&client_firm.owner.token), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let matches = r.value();
    let matched: Vec<&str> =
        matches.as_array().unwrap().iter().map(|m| m["advisor_id"].as_str().unwrap()).collect();
    assert_eq!(matched, [best_id.as_str(), okay_id.as_str()], "hard filters leave two, best first");
    for excluded in [&no_cpa, &full_id, &wrong_service] {
        assert!(!matched.contains(&excluded.as_str()));
    }
    let top = &matches[0];
    assert_eq!(top["rank"], 1);
    assert_eq!(top["status"], "suggested");
    assert_eq!(top["algorithm_version"], domain::marketplace::ALGORITHM_VERSION);
    assert_eq!(top["advisor"]["display_name"], "Best Fit");
    let score: f64 = top["score"].as_str().unwrap().parse().unwrap();
    let second: f64 = matches[1]["score"].as_str().unwrap().parse().unwrap();
    assert!(score > second && score <= 100.0, "{score} vs {second}");
    let parts = top["breakdown"].as_array().unwrap();
    let sum: f64 = parts.iter().map(|p| p["points"].as_f64().unwrap()).sum();
    assert!((sum - score).abs() < 0.01, "the components add up to the score: {sum} vs {score}");
    assert!(parts.iter().all(|p| !p["reason"].as_str().unwrap().is_empty()), "every component says why");
    // Asking again replaces the untouched suggestions (same advisors, same ids kept unique).
    let again = app.post(&path, Some(&client_firm.owner.token), &json!({})).await.value();
    assert_eq!(again.as_array().unwrap().len(), 2);
    let match_id = again[0]["id"].as_str().unwrap().to_owned();
    let other_match = again[1]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.get(&path, &client_firm.owner.token).await.value(), again);

    // The lifecycle: each side makes only its own moves.
    let move_to = |token: &str, id: &str, status: &str| {
        let path = format!("/v1/marketplace/matches/{id}/status");
        let token = token.to_owned();
        let body = json!({"status": status});
        let app = &app;
        async move { app.post(&path, Some(&token), &body).await }
    };
    // Before contact the advisor neither sees nor moves the match.
    assert!(
        app.get("/v1/marketplace/matches/incoming", &best.token).await.value().as_array().unwrap().is_empty()
    );
    assert_eq!(move_to(&best.token, &match_id, "declined").await.status, 404);
    assert_eq!(move_to(&client_firm.owner.token, &match_id, "viewed").await.status, 200);
    assert_eq!(move_to(&client_firm.owner.token, &match_id, "responded").await.status, 409);
    assert_eq!(move_to(&client_firm.owner.token, &match_id, "contacted").await.status, 200);
    let incoming = app.get("/v1/marketplace/matches/incoming", &best.token).await.value();
    assert_eq!(incoming[0]["id"], match_id.as_str());
    let r = move_to(&best.token, &match_id, "accepted").await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("advisor side"), "{}", r.body);
    assert_eq!(move_to(&best.token, &match_id, "responded").await.status, 200);
    // The advisor's firm admin may act for the advisor; a staff member of the client firm may not move it.
    let client_staff = app.member(&client_firm, Role::Staff).await;
    assert_eq!(move_to(&client_staff.token, &match_id, "call_scheduled").await.status, 403);
    assert_eq!(move_to(&advisory.owner.token, &match_id, "call_scheduled").await.status, 200);
    assert_eq!(move_to(&best.token, &match_id, "proposal").await.status, 200);
    // A firm that is party to nothing gets 404.
    assert_eq!(move_to(&outsider.owner.token, &match_id, "accepted").await.status, 404);
    // Reviews wait for acceptance.
    let review = json!({"overall": 9, "communication": 10, "testimonial": "Got us through the raise", "publish": true});
    let review_path = format!("/v1/marketplace/matches/{match_id}/review");
    assert_eq!(app.post(&review_path, Some(&client_firm.owner.token), &review).await.status, 409);
    let accepted = move_to(&client_firm.owner.token, &match_id, "accepted").await;
    assert_eq!(accepted.status, 200);
    assert_eq!(accepted.value()["status"], "accepted");
    assert_eq!(move_to(&client_firm.owner.token, &match_id, "declined").await.status, 409, "final");
    assert_eq!(move_to(&client_firm.owner.token, &other_match, "declined").await.status, 200);

    // A review: 1–10 each, once per match; published ones make the rating (out of 5).
    let r = app.post(&review_path, Some(&client_firm.owner.token), &json!({"overall": 11, "value": 0})).await;
    assert_eq!(r.status, 422);
    assert_eq!(app.post(&review_path, Some(&outsider.owner.token), &review).await.status, 404);
    let r = app.post(&review_path, Some(&client_firm.owner.token), &review).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(app.post(&review_path, Some(&client_firm.owner.token), &review).await.status, 409);
    let d = public(&app, &format!("/v1/marketplace/advisors/{best_id}")).await.value();
    assert_eq!((d["rating"].as_str(), d["review_count"].as_i64()), (Some("4.50"), Some(1)));
    assert_eq!(d["reviews"][0]["testimonial"], "Got us through the raise");
    assert_eq!(
        names_of(&public(&app, "/v1/marketplace/advisors?min_rating=4.5").await.value()),
        ["Best Fit"],
        "the rating filter follows reviews"
    );

    // An unpublished review counts for nothing publicly and is visible only to its writer.
    let second_assessment = assessment(&app, &client_firm, needs()).await;
    let r = app
        .post(
            &format!("/v1/marketplace/needs-assessments/{second_assessment}/matches?count=1"),
            Some(&client_firm.owner.token),
            &json!({}),
        )
        .await;
    let m2 = r.value()[0]["id"].as_str().unwrap().to_owned();
    for (token, status) in [
        (&client_firm.owner.token, "contacted"),
        (&best.token, "responded"),
        (&best.token, "call_scheduled"),
        (&best.token, "proposal"),
        (&client_firm.owner.token, "accepted"),
    ] {
        assert_eq!(move_to(token, &m2, status).await.status, 200, "{status}");
    }
    let private = json!({"overall": 2, "testimonial": "private feedback"});
    let r = app
        .post(&format!("/v1/marketplace/matches/{m2}/review"), Some(&client_firm.owner.token), &private)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let d = public(&app, &format!("/v1/marketplace/advisors/{best_id}")).await.value();
    assert_eq!((d["rating"].as_str(), d["review_count"].as_i64()), (Some("4.50"), Some(1)));
    let reviews = public(&app, &format!("/v1/marketplace/advisors/{best_id}/reviews")).await;
    assert!(!reviews.body.contains("private feedback"));

    // Both sides' audit logs record the moves they made.
    let actions = |t: &Tenant| {
        let app = &app;
        let token = t.owner.token.clone();
        async move {
            let v = app.get("/v1/audit-log?limit=200", &token).await.value();
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["action"].as_str().unwrap().to_owned())
                .filter(|a| a.starts_with("advisor_match.") || a.starts_with("marketplace_review."))
                .count()
        }
    };
    assert!(actions(&client_firm).await >= 8);
    assert!(actions(&advisory).await >= 5);
}

fn names_of(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|a| a["display_name"].as_str().unwrap().to_owned()).collect()
}
