//! Incremental reads by Change Data Capture.

use std::collections::BTreeSet;

use chrono::Utc;
use qbo_sandbox::{ChangeOperation, Faults};
use quickbooks::{EntityKind, QboError, Query};

use crate::support::start;

fn kind(name: &str) -> EntityKind {
    EntityKind::from_name(name).expect("a kind the client knows")
}

#[tokio::test]
async fn cdc_after_500_changes_returns_exactly_those_in_one_call() {
    let env = start(20_000, Faults::default()).await;
    // The watermark is the server's `time` from a previous answer.
    let watermark =
        env.company.query(&Query::select(EntityKind::Account).max_results(1)).await.expect("query").time;
    let watermark = watermark.expect("answers carry the server time");
    let summary = env.sandbox.apply_random_changes(env.realm.as_str(), 500, 11).expect("changes");

    let calls_before = env.company.api_calls();
    let cdc = env.company.cdc(&EntityKind::LISTED, watermark).await.expect("cdc");
    assert_eq!(env.company.api_calls() - calls_before, 1, "one CDC call");
    assert!(!cdc.is_truncated());
    assert!(cdc.time > watermark);

    let mut expected_upserts = BTreeSet::new();
    let mut expected_deletes = BTreeSet::new();
    for change in &summary.changes {
        let key = (kind(change.entity.name()), change.id.clone());
        match change.operation {
            ChangeOperation::Delete => expected_deletes.insert(key),
            _ => expected_upserts.insert((key, change.sync_token)),
        };
    }
    let mut upserts = BTreeSet::new();
    let mut deletes = BTreeSet::new();
    for (kind, changes) in &cdc.changes {
        for record in &changes.upserts {
            upserts.insert(((*kind, record.header.id.clone()), record.header.sync_token));
        }
        for tombstone in &changes.deletes {
            // Times on the wire have whole seconds; the watermark has milliseconds.
            let second_before = watermark - chrono::Duration::seconds(1);
            assert!(tombstone.deleted_at.is_some_and(|t| t > second_before));
            deletes.insert((*kind, tombstone.id.clone()));
        }
    }
    assert!(summary.changes.len() >= 500);
    assert!(!expected_deletes.is_empty(), "the batch deleted transactions");
    assert_eq!(upserts, expected_upserts, "created, edited and deactivated records, at their new SyncTokens");
    assert_eq!(deletes, expected_deletes, "hard deletes as tombstones");

    let deactivated: Vec<_> =
        summary.changes.iter().filter(|c| c.operation == ChangeOperation::Deactivate).collect();
    assert!(!deactivated.is_empty());
    for change in deactivated {
        let changes = &cdc.changes[&kind(change.entity.name())];
        let record = changes.upserts.iter().find(|r| r.header.id == change.id).expect("in the CDC answer");
        assert_eq!(record.header.active, Some(false), "soft deletes arrive as Active=false");
    }

    // Nothing changed since the new watermark.
    let quiet = env.company.cdc(&EntityKind::LISTED, cdc.time).await.expect("cdc");
    assert_eq!(quiet.object_count(), 0);
    assert!(quiet.time > cdc.time);
}

#[tokio::test]
async fn cdc_reports_truncation_at_1000_objects() {
    let env = start(5_000, Faults::default()).await;
    let since = env.sandbox.now();
    let summary = env.sandbox.apply_random_changes(env.realm.as_str(), 1_200, 4).expect("changes");
    assert!(summary.changes.len() > 1_000);
    let cdc = env.company.cdc(&EntityKind::LISTED, since).await.expect("cdc");
    assert_eq!(cdc.object_count(), 1_000);
    assert!(cdc.is_truncated());
    // A windowed query finds what CDC could not return (upserts; deletions only CDC shows).
    let invoices = quickbooks::EntityPager::over(Query::select(EntityKind::Invoice).updated_since(since));
    let mut pager = invoices;
    let mut updated = 0;
    while let Some(page) = pager.next_page(&env.company).await.expect("page") {
        updated += page.records.len();
    }
    let expected = summary
        .changes
        .iter()
        .filter(|c| c.entity.name() == "Invoice" && c.operation != ChangeOperation::Delete)
        .count();
    assert_eq!(updated, expected);
}

#[tokio::test]
async fn cdc_beyond_30_days_is_refused_without_a_call() {
    let env = start(100, Faults::default()).await;
    let error = env
        .company
        .cdc(&[EntityKind::Customer], Utc::now() - chrono::Duration::days(31))
        .await
        .expect_err("too old");
    assert!(matches!(error, QboError::CdcLookbackExceeded { .. }), "{error:?}");
    assert_eq!(env.company.api_calls(), 0);
}
