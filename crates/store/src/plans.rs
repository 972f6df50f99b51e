//! Query plans of the list pages, so tests can check at seed scale that every list is served by
//! an index. The list functions build their SQL through one function each, used both to run it
//! and (here) to `EXPLAIN` it — the plan checked is the plan of the query the API runs.

use chrono::NaiveDate;
use domain::{ClientId, ClientScope};
use serde_json::Value;
use sqlx::{Postgres, QueryBuilder};

use crate::clients::{ClientFilter, ClientQuery, ClientSort, SearchPhase};
use crate::engagements::EngagementFilter;
use crate::invoices::InvoiceFilter;
use crate::marketplace::{Assessment, ListingFilter, ListingQuery, ListingSort};
pub use crate::query_mode::Mode;
use crate::{StoreResult, TenantTx};

async fn explain(tx: &mut TenantTx, mut qb: QueryBuilder<Postgres>) -> StoreResult<Value> {
    let plan: Value = qb.build_query_scalar().fetch_one(tx.conn()).await?;
    Ok(plan)
}

pub async fn clients_list(
    tx: &mut TenantTx,
    filter: &ClientFilter,
    sort: ClientSort,
    descending: bool,
    after: Option<&str>,
) -> StoreResult<Value> {
    let qb = crate::clients::list_query(
        Mode::Explain,
        tx.org_uuid(),
        &ClientScope::All,
        filter,
        sort,
        descending,
        after,
        50,
    )?;
    explain(tx, qb).await
}

pub async fn clients_search(
    tx: &mut TenantTx,
    query: &ClientQuery,
    phase: SearchPhase,
) -> StoreResult<Value> {
    let org = tx.org_uuid();
    let qb = crate::clients::search_query(
        Mode::Explain,
        org,
        &ClientScope::All,
        &ClientFilter::default(),
        query,
        phase,
        &[],
        20,
    );
    explain(tx, qb).await
}

pub async fn engagements_list(tx: &mut TenantTx, filter: &EngagementFilter) -> StoreResult<Value> {
    let (qb, _) =
        crate::engagements::list_query(Mode::Explain, tx.org_uuid(), &ClientScope::All, filter, None, 50)?;
    explain(tx, qb).await
}

pub async fn invoices_list(tx: &mut TenantTx, filter: &InvoiceFilter) -> StoreResult<Value> {
    let qb = crate::invoices::list_query(Mode::Explain, tx.org_uuid(), &ClientScope::All, filter, None, 50)?;
    explain(tx, qb).await
}

pub async fn invoices_aging(
    tx: &mut TenantTx,
    client: Option<ClientId>,
    today: NaiveDate,
) -> StoreResult<Value> {
    let qb = crate::invoices::aging_query(Mode::Explain, tx.org_uuid(), &ClientScope::All, client, today);
    explain(tx, qb).await
}

/// A page of the public marketplace listing (the tenant of `tx` plays no part: it is public).
pub async fn listings(
    tx: &mut TenantTx,
    filter: &ListingFilter,
    sort: ListingSort,
    after: Option<&str>,
) -> StoreResult<Value> {
    let qb = crate::marketplace::listing_query(Mode::Explain, filter, sort, after, 20)?;
    explain(tx, qb).await
}

/// The marketplace's text search: full text (`typos` false) or the trigram pass.
pub async fn listings_text(
    tx: &mut TenantTx,
    filter: &ListingFilter,
    query: &ListingQuery,
    typos: bool,
) -> StoreResult<Value> {
    let qb = crate::marketplace::text_query(Mode::Explain, filter, query, typos, &[], 20);
    explain(tx, qb).await
}

/// Matching's candidate query for an assessment.
pub async fn match_candidates(tx: &mut TenantTx, assessment: &Assessment) -> StoreResult<Value> {
    let qb = crate::marketplace::candidates_query(Mode::Explain, assessment, 300);
    explain(tx, qb).await
}

/// Every (node type, relation) in a JSON plan.
pub fn scans(plan: &Value) -> Vec<(String, String)> {
    fn walk(node: &Value, out: &mut Vec<(String, String)>) {
        if let Some(kind) = node["Node Type"].as_str() {
            out.push((kind.to_owned(), node["Relation Name"].as_str().unwrap_or("").to_owned()));
        }
        for child in node["Plans"].as_array().into_iter().flatten() {
            walk(child, out);
        }
    }
    let mut out = Vec::new();
    for p in plan.as_array().into_iter().flatten() {
        walk(&p["Plan"], &mut out);
    }
    out
}
