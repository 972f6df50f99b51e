//! At seed scale (the performance plan's 100,000 clients, ~500,000 engagements, ~300,000
//! invoices), every list page, search and the AR aging are served by indexes: no sequential
//! scan of a large table. The plans are of the very queries the API runs (`store::plans`).

use domain::{ClientId, UserId};
use serde_json::Value;
use store::clients::{ClientFilter, ClientQuery, ClientSort, SearchPhase};
use store::engagements::EngagementFilter;
use store::invoices::InvoiceFilter;
use store::{Actor, TenantTx, plans, sqlx};
use testkit::TestDb;
use vault::KeyRing;

const LARGE: &[&str] = &["clients", "engagements", "invoices", "invoice_lines", "invoice_payments"];

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
    for (name, plan) in &cases {
        assert_indexed(name, plan);
    }
    tx.rollback().await.unwrap();
}
