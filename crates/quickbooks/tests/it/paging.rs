//! Full reads by STARTPOSITION paging.

use qbo_sandbox::Faults;
use quickbooks::{EntityKind, EntityPager, Query};

use crate::support::{assert_within_intuit_limits, expected, read_everything, start};

#[tokio::test]
async fn full_read_of_a_100k_company_reads_every_entity_once_within_the_limits() {
    let env = start(100_000, Faults::default()).await;
    let mirror = read_everything(&env.company, &EntityKind::LISTED).await.expect("full read");
    let truth = expected(&env.sandbox, &env.realm);
    assert_eq!(truth.len(), 100_000);
    assert_eq!(mirror, truth, "every entity once, with its SyncToken");
    let counters = env.sandbox.counters(env.realm.as_str());
    assert_within_intuit_limits(&counters);
    assert_eq!(counters.requests, env.company.api_calls());
    assert_eq!(counters.succeeded, counters.requests, "nothing was retried: {counters:?}");
}

#[tokio::test]
async fn inactive_name_list_entities_are_read_too() {
    let env = start(3_000, Faults::default()).await;
    env.sandbox.apply_random_changes(env.realm.as_str(), 600, 3).expect("changes");
    let active_only = env.company.count(&Query::count(EntityKind::Customer)).await.expect("count");
    let all = env.company.count(&Query::count(EntityKind::Customer).include_inactive()).await.expect("count");
    assert!(active_only < all, "some customers were deactivated ({active_only} of {all})");
    let mirror = read_everything(&env.company, &[EntityKind::Customer]).await.expect("read");
    assert_eq!(mirror.len() as u64, all);
}

#[tokio::test]
async fn a_read_resumed_from_its_checkpoint_misses_nothing_despite_deletions() {
    let env = start(6_000, Faults::default()).await;
    let truth_before = expected(&env.sandbox, &env.realm);
    let invoices_before = truth_before.keys().filter(|(k, _)| *k == EntityKind::Invoice).count();
    let mut pager = EntityPager::new(EntityKind::Invoice).page_size(200);
    let mut seen = std::collections::BTreeSet::new();
    let first = pager.next_page(&env.company).await.expect("page").expect("not done");
    seen.extend(first.records.iter().map(|r| r.header.id.clone()));
    let second = pager.next_page(&env.company).await.expect("page").expect("not done");
    seen.extend(second.records.iter().map(|r| r.header.id.clone()));
    let checkpoint = pager.position().expect("more to read");
    assert_eq!(checkpoint, 400 - 10 + 1, "the second page started 10 back (overlap) and read 200");

    // Deletions of already-read invoices shift every later position back; then "the worker dies"
    // and another resumes from the stored position.
    let summary = env.sandbox.apply_random_changes(env.realm.as_str(), 300, 8).expect("changes");
    let deleted: Vec<String> = summary
        .changes
        .iter()
        .filter(|c| c.entity.name() == "Invoice" && c.operation == qbo_sandbox::ChangeOperation::Delete)
        .map(|c| c.id.clone())
        .collect();
    assert!(!deleted.is_empty());
    let mut resumed = EntityPager::new(EntityKind::Invoice).page_size(200).resume_at(checkpoint);
    while let Some(page) = resumed.next_page(&env.company).await.expect("page") {
        seen.extend(page.records.iter().map(|r| r.header.id.clone()));
    }
    let now = expected(&env.sandbox, &env.realm);
    let missing: Vec<_> =
        now.keys().filter(|(k, id)| *k == EntityKind::Invoice && !seen.contains(id)).collect();
    assert!(missing.is_empty(), "missed {missing:?}");
    assert!(seen.len() >= invoices_before - deleted.len());
}
