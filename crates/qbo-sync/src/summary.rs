//! Read models over the mirror, for dashboards: P&L-style totals for a period (income from
//! invoices, expenses from bills and purchases), receivables with aging, payables, and what the
//! mirror holds.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::ClientId;
use rust_decimal::Decimal;
use serde::Serialize;
use store::TenantTx;

use crate::connections::{self, Connection};
use crate::{SyncError, SyncResult};

#[derive(Debug, Clone, Serialize)]
pub struct Aging {
    pub current: Decimal,
    pub days_1_30: Decimal,
    pub days_31_60: Decimal,
    pub days_61_90: Decimal,
    pub days_over_90: Decimal,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub connection: Connection,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Invoiced in the period (by transaction date).
    pub income: Decimal,
    /// Bills and purchases in the period.
    pub expenses: Decimal,
    pub net: Decimal,
    /// Open invoice balances, as of `to`, by days past due.
    pub receivables: Decimal,
    pub receivables_aging: Aging,
    /// Open bill balances.
    pub payables: Decimal,
    /// Rows per entity kind in the mirror.
    pub entities: BTreeMap<String, i64>,
    /// Customers linked to one of our clients.
    pub linked_customers: i64,
}

type Totals = (Decimal, Decimal, Decimal, Decimal, Decimal, Decimal, Decimal, Decimal, Decimal, i64);

/// The summary of `client`'s QuickBooks company for `[from, to]`.
pub async fn for_client(
    tx: &mut TenantTx,
    client: ClientId,
    from: NaiveDate,
    to: NaiveDate,
) -> SyncResult<Summary> {
    if from > to {
        return Err(SyncError::Invalid { field: "from", message: "must not be after `to`".into() });
    }
    let connection = connections::for_client(tx, client).await?;
    let connection = match connection {
        Some(c) => c,
        None => latest(tx, client).await?.ok_or(SyncError::NotFound("QuickBooks connection"))?,
    };
    let totals: Totals = sqlx::query_as(
        "select
             coalesce(sum(total_amount) filter (where entity = 'Invoice' and txn_date between $3 and $4), 0),
             coalesce(sum(total_amount) filter (where entity in ('Bill', 'Purchase') and txn_date between $3 and $4), 0),
             coalesce(sum(balance) filter (where entity = 'Invoice' and balance > 0), 0),
             coalesce(sum(balance) filter (where entity = 'Invoice' and balance > 0
                 and coalesce(due_date, txn_date, $4) >= $4), 0),
             coalesce(sum(balance) filter (where entity = 'Invoice' and balance > 0
                 and $4 - coalesce(due_date, txn_date, $4) between 1 and 30), 0),
             coalesce(sum(balance) filter (where entity = 'Invoice' and balance > 0
                 and $4 - coalesce(due_date, txn_date, $4) between 31 and 60), 0),
             coalesce(sum(balance) filter (where entity = 'Invoice' and balance > 0
                 and $4 - coalesce(due_date, txn_date, $4) between 61 and 90), 0),
             coalesce(sum(balance) filter (where entity = 'Invoice' and balance > 0
                 and $4 - coalesce(due_date, txn_date, $4) > 90), 0),
             coalesce(sum(balance) filter (where entity = 'Bill' and balance > 0), 0),
             count(*) filter (where entity = 'Customer' and linked_client_id is not null)
         from qbo_entities where organization_id = $1 and connection_id = $2",
    )
    .bind(tx.org_uuid())
    .bind(connection.id)
    .bind(from)
    .bind(to)
    .fetch_one(tx.conn())
    .await?;
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "select entity, count(*) from qbo_entities where organization_id = $1 and connection_id = $2 group by entity",
    )
    .bind(tx.org_uuid())
    .bind(connection.id)
    .fetch_all(tx.conn())
    .await?;
    let (income, expenses, receivables, current, d30, d60, d90, over90, payables, linked_customers) = totals;
    Ok(Summary {
        connection,
        from,
        to,
        income,
        expenses,
        net: income - expenses,
        receivables,
        receivables_aging: Aging {
            current,
            days_1_30: d30,
            days_31_60: d60,
            days_61_90: d90,
            days_over_90: over90,
        },
        payables,
        entities: rows.into_iter().collect(),
        linked_customers,
    })
}

/// The client's most recent connection, disconnected ones included (its mirror stays readable).
async fn latest(tx: &mut TenantTx, client: ClientId) -> SyncResult<Option<Connection>> {
    let id: Option<uuid::Uuid> = sqlx::query_scalar(
        "select id from qbo_connections where organization_id = $1 and client_id = $2
         order by connected_at desc limit 1",
    )
    .bind(tx.org_uuid())
    .bind(client.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    match id {
        Some(id) => Ok(Some(connections::get(tx, id).await?)),
        None => Ok(None),
    }
}
