//! At seed scale (the performance plan's 100,000 clients, ~500,000 engagements, ~300,000
//! invoices), every list page, search and the AR aging are served by indexes: no sequential
//! scan of a large table. The plans are of the very queries the API runs (`store::plans`).

use domain::{ClientId, UserId};
use serde_json::Value;
use store::clients::{ClientFilter, ClientQuery, ClientSort, SearchPhase};
use store::engagements::EngagementFilter;
use store::invoices::InvoiceFilter;
use store::marketplace::{ArrayMatch, Assessment, ListingFilter, ListingQuery, ListingSort};
use store::{Actor, TenantTx, plans, sqlx};
use testkit::TestDb;
use vault::KeyRing;

const LARGE: &[&str] = &[
    "clients",
    "engagements",
    "invoices",
    "invoice_lines",
    "invoice_payments",
    "marketplace_listings",
    "marketplace_reviews",
    "advisor_profiles",
];

fn assert_indexed(name: &str, plan: &Value) {
    let scans = plans::scans(plan);
    let seq: Vec<&(String, String)> =
        scans.iter().filter(|(kind, rel)| kind == "Seq Scan" && LARGE.contains(&rel.as_str())).collect();
    assert!(
        seq.is_empty(),
        "{name}: sequential scan of {seq:?}\n{}",
        serde_json::to_string_pretty(plan).unwrap()
    );
    assert!(
        scans.iter().any(|(kind, _)| kind.contains("Index")),
        "{name}: no index used\n{}",
        serde_json::to_string_pretty(plan).unwrap()
    );
}

#[tokio::test]
async fn every_list_page_is_served_by_an_index_at_seed_scale() {
    let db = TestDb::create().await;
    let keys = KeyRing::parse(&[KeyRing::generate_key_spec(1)]).unwrap();
    let report = seed::seed(&db.owner, &keys, seed::Scale::Seed, false, false).await.expect("seed");
    assert_eq!(report.clients, 100_000);
    assert!(report.engagements > 400_000);
    let app_db = db.app_pool().await;
    let org = store::organizations::find_id_by_slug(&app_db, seed::BENCH_SLUG).await.unwrap().unwrap();
    let mut tx = TenantTx::begin(&app_db, org, Actor::system()).await.unwrap();
    let client: ClientId =
        sqlx::query_scalar("select id from clients order by id limit 1").fetch_one(tx.conn()).await.unwrap();
    let staff: UserId =
        sqlx::query_scalar("select assigned_to from engagements where assigned_to is not null limit 1")
            .fetch_one(tx.conn())
            .await
            .unwrap();
    let first = store::clients::list(
        &mut tx,
        &domain::ClientScope::All,
        &ClientFilter::default(),
        ClientSort::Name,
        false,
        None,
        50,
    )
    .await
    .unwrap();
    assert_eq!(first.items.len(), 50);
    let cursor = first.next_cursor.unwrap();

    let high = ClientFilter {
        status: Some(vec![domain::ClientStatus::Active]),
        risk_level: Some(domain::RiskLevel::High),
        ..Default::default()
    };
    let mine = ClientFilter { assigned_to: Some(staff), ..Default::default() };
    let tagged = ClientFilter { tags: Some(vec!["vip".into()]), ..Default::default() };
    let words = ClientQuery::Words {
        raw: "riverside den".into(),
        prefix: "riverside den".into(),
        tsquery: "riverside:* & den:*".into(),
    };
    let short = ClientQuery::Words { raw: "sil".into(), prefix: "sil".into(), tsquery: "sil:*".into() };
    let tax = ClientQuery::TaxId { indexes: vec![vec![0; 32]] };
    let all = ClientFilter::default();
    let by_client = EngagementFilter { client_id: Some(client), ..Default::default() };
    let by_staff = EngagementFilter { assigned_to: Some(staff), ..Default::default() };
    let inv_client = InvoiceFilter { client_id: Some(client), ..Default::default() };
    let overdue = InvoiceFilter { status: Some(domain::InvoiceStatus::Overdue), ..Default::default() };
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let mut cases: Vec<(&str, Value)> = Vec::new();
    cases.push((
        "clients: first page",
        plans::clients_list(&mut tx, &all, ClientSort::Name, false, None).await.unwrap(),
    ));
    cases.push((
        "clients: next page by cursor",
        plans::clients_list(&mut tx, &all, ClientSort::Name, false, Some(&cursor)).await.unwrap(),
    ));
    cases.push((
        "clients: active high-risk",
        plans::clients_list(&mut tx, &high, ClientSort::Name, false, None).await.unwrap(),
    ));
    cases.push((
        "clients: a member's",
        plans::clients_list(&mut tx, &mine, ClientSort::Name, false, None).await.unwrap(),
    ));
    cases.push((
        "clients: by revenue",
        plans::clients_list(&mut tx, &all, ClientSort::Revenue, true, None).await.unwrap(),
    ));
    cases.push((
        "clients: newest",
        plans::clients_list(&mut tx, &all, ClientSort::Created, true, None).await.unwrap(),
    ));
    cases.push((
        "clients: tagged",
        plans::clients_list(&mut tx, &tagged, ClientSort::Name, false, None).await.unwrap(),
    ));
    for phase in SearchPhase::ALL {
        cases.push(("search: words", plans::clients_search(&mut tx, &words, phase).await.unwrap()));
        cases.push(("search: short prefix", plans::clients_search(&mut tx, &short, phase).await.unwrap()));
    }
    cases.push((
        "search: tax id",
        plans::clients_search(&mut tx, &tax, SearchPhase::NamePrefix).await.unwrap(),
    ));
    cases.push(("engagements: of a client", plans::engagements_list(&mut tx, &by_client).await.unwrap()));
    cases.push((
        "engagements: a member's open work",
        plans::engagements_list(&mut tx, &by_staff).await.unwrap(),
    ));
    cases.push(("invoices: newest", plans::invoices_list(&mut tx, &InvoiceFilter::default()).await.unwrap()));
    cases.push(("invoices: of a client", plans::invoices_list(&mut tx, &inv_client).await.unwrap()));
    cases.push(("invoices: overdue", plans::invoices_list(&mut tx, &overdue).await.unwrap()));
    cases.push(("invoices: AR aging", plans::invoices_aging(&mut tx, None, day).await.unwrap()));
    cases.push((
        "invoices: AR aging of a client",
        plans::invoices_aging(&mut tx, Some(client), day).await.unwrap(),
    ));
    marketplace_cases(&app_db, &mut tx, &mut cases).await;
    for (name, plan) in &cases {
        assert_indexed(name, plan);
    }
    tx.rollback().await.unwrap();
    seeded_listings_agree_with_the_triggers(&db).await;
}

/// The marketplace at the plan's 15,000 advisors: search pages, text, matching candidates.
async fn marketplace_cases(db: &store::Db, tx: &mut TenantTx, cases: &mut Vec<(&str, Value)>) {
    let listed: i64 =
        sqlx::query_scalar("select count(*) from marketplace_listings").fetch_one(tx.conn()).await.unwrap();
    assert!(listed > 12_000, "about 85% of 15,000 advisors are listed: {listed}");
    let all = ListingFilter::default();
    let first = store::marketplace::search_listings(db, &all, ListingSort::Rating, None, 20).await.unwrap();
    let cursor = first.next_cursor.unwrap();
    let saas_available =
        ListingFilter { industries: vec!["saas".into()], available_now: true, ..Default::default() };
    let narrow = ListingFilter {
        services: vec!["fractional_cfo".into(), "fundraising".into()],
        services_match: ArrayMatch::All,
        certifications: vec!["cpa".into()],
        max_hourly_rate: Some(200.into()),
        ..Default::default()
    };
    let rated = ListingFilter { min_rating: Some(rust_decimal::Decimal::new(45, 1)), ..Default::default() };
    let query = |words: &[&str]| ListingQuery {
        words: words.iter().map(|w| w.to_string()).collect(),
        tsquery: words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & "),
    };
    let (words, typo) = (query(&["cash", "flow"]), query(&["acountant", "controler"]));
    let assessment = Assessment {
        id: domain::AssessmentId::new(),
        client_id: None,
        business_size: "startup".into(),
        annual_revenue: None,
        industry: Some("saas".into()),
        services_needed: vec!["fractional_cfo".into(), "fundraising".into()],
        budget_type: "monthly_retainer".into(),
        budget_min: None,
        budget_max: None,
        urgency: "within_month".into(),
        engagement_length: "ongoing".into(),
        required_certifications: vec!["cpa".into()],
        min_years_experience: 5,
        languages: Vec::new(),
        remote_ok: true,
        created_at: chrono::Utc::now(),
    };
    let plans_of = [
        ("marketplace: first page by rating", plans::listings(tx, &all, ListingSort::Rating, None).await),
        (
            "marketplace: next page by cursor",
            plans::listings(tx, &all, ListingSort::Rating, Some(&cursor)).await,
        ),
        ("marketplace: newest", plans::listings(tx, &all, ListingSort::Newest, None).await),
        ("marketplace: cheapest", plans::listings(tx, &all, ListingSort::PriceAsc, None).await),
        ("marketplace: most experienced", plans::listings(tx, &all, ListingSort::Experience, None).await),
        (
            "marketplace: saas, available now",
            plans::listings(tx, &saas_available, ListingSort::Rating, None).await,
        ),
        ("marketplace: narrow filters", plans::listings(tx, &narrow, ListingSort::Rating, None).await),
        ("marketplace: rated 4.5+", plans::listings(tx, &rated, ListingSort::Rating, None).await),
        ("marketplace: text", plans::listings_text(tx, &all, &words, false).await),
        ("marketplace: text, typo pass", plans::listings_text(tx, &all, &typo, true).await),
        ("marketplace: matching candidates", plans::match_candidates(tx, &assessment).await),
    ];
    for (name, plan) in plans_of {
        cases.push((name, plan.unwrap()));
    }
}

/// The seed writes listings with triggers off; they must equal what the triggers compute.
async fn seeded_listings_agree_with_the_triggers(db: &TestDb) {
    let mut owner = db.owner_conn().await;
    let disagree: i64 = sqlx::query_scalar(
        "select count(*) from marketplace_listings l
         left join lateral (select coalesce(round(avg(overall) / 2.0, 2), 0) as rating, count(*) as n
                            from marketplace_reviews r where r.advisor_id = l.advisor_id and r.is_published) r on true
         where l.rating <> r.rating or l.review_count <> r.n",
    )
    .fetch_one(&mut owner)
    .await
    .unwrap();
    assert_eq!(disagree, 0, "seeded ratings differ from the trigger's");
    let (active, listed): (i64, i64) = sqlx::query_as(
        "select (select count(*) from advisor_profiles where status = 'active'),
                (select count(*) from marketplace_listings l join advisor_profiles p on p.id = l.advisor_id
                 where p.status = 'active' and p.display_name = l.display_name and p.hourly_rate is not distinct from l.hourly_rate)",
    )
    .fetch_one(&mut owner)
    .await
    .unwrap();
    assert_eq!(active, listed, "every active profile is listed as it is");
    let missing_terms: i64 = sqlx::query_scalar(
        "select count(*) from (select distinct lexeme from marketplace_listings, unnest(search)
                               where lexeme ~ '^[[:alnum:]]{1,40}$') w
         where not exists (select 1 from marketplace_terms t where t.term = w.lexeme)",
    )
    .fetch_one(&mut owner)
    .await
    .unwrap();
    assert_eq!(missing_terms, 0, "the search vocabulary holds every listed word");
}
