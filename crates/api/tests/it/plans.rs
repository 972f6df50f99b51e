//! At seed scale (the performance plan's 100,000 clients, ~500,000 engagements, ~300,000
//! invoices), every list page, search and the AR aging are served by indexes: no sequential
//! scan of a large table. The plans are of the very queries the API runs (`store::plans`).

use domain::{ClientId, UserId};
use serde_json::Value;
use store::clients::{ClientFilter, ClientQuery, ClientSort};
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
    let cases: Vec<(&str, Value)> = vec![
        (
            "clients: first page by name",
            plans::clients_list(&mut tx, &ClientFilter::default(), ClientSort::Name, false, None)
                .await
                .unwrap(),
        ),
        (
            "clients: next page by cursor",
            plans::clients_list(&mut tx, &ClientFilter::default(), ClientSort::Name, false, Some(&cursor))
                .await
                .unwrap(),
        ),
        (
            "clients: active high-risk",
            plans::clients_list(&mut tx, &high, ClientSort::Name, false, None).await.unwrap(),
        ),
        (
            "clients: assigned to a member",
            plans::clients_list(&mut tx, &mine, ClientSort::Name, false, None).await.unwrap(),
        ),
        (
            "clients: by revenue, descending",
            plans::clients_list(&mut tx, &ClientFilter::default(), ClientSort::Revenue, true, None)
                .await
                .unwrap(),
        ),
        (
            "clients: newest first",
            plans::clients_list(&mut tx, &ClientFilter::default(), ClientSort::Created, true, None)
                .await
                .unwrap(),
        ),
        (
            "clients: tagged",
            plans::clients_list(&mut tx, &tagged, ClientSort::Name, false, None).await.unwrap(),
        ),
        (
            "clients: search words",
            plans::clients_search(
                &mut tx,
                &ClientQuery::Words { raw: "riverside den".into(), tsquery: "riverside:* & den:*".into() },
            )
            .await
            .unwrap(),
        ),
        (
            "clients: search tax id",
            plans::clients_search(&mut tx, &ClientQuery::TaxId { indexes: vec![vec![0; 32]] }).await.unwrap(),
        ),
        (
            "engagements: of a client",
            plans::engagements_list(
                &mut tx,
                &EngagementFilter { client_id: Some(client), ..Default::default() },
            )
            .await
            .unwrap(),
        ),
        (
            "engagements: a member's open work",
            plans::engagements_list(
                &mut tx,
                &EngagementFilter { assigned_to: Some(staff), ..Default::default() },
            )
            .await
            .unwrap(),
        ),
        ("invoices: newest", plans::invoices_list(&mut tx, &InvoiceFilter::default()).await.unwrap()),
        (
            "invoices: of a client",
            plans::invoices_list(&mut tx, &InvoiceFilter { client_id: Some(client), ..Default::default() })
                .await
                .unwrap(),
        ),
        (
            "invoices: overdue",
            plans::invoices_list(
                &mut tx,
                &InvoiceFilter { status: Some(domain::InvoiceStatus::Overdue), ..Default::default() },
            )
            .await
            .unwrap(),
        ),
        (
            "invoices: AR aging",
            plans::invoices_aging(&mut tx, None, chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap())
                .await
                .unwrap(),
        ),
        (
            "invoices: AR aging of a client",
            plans::invoices_aging(
                &mut tx,
                Some(client),
                chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            )
            .await
            .unwrap(),
        ),
    ];
    for (name, plan) in &cases {
        assert_indexed(name, plan);
    }
    tx.rollback().await.unwrap();
}
