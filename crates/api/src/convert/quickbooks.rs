//! QuickBooks connections, connect links, sync runs and the summary to their API shapes.

use api_types::quickbooks::{
    AgingResponse, ConnectResponse, ConnectionResponse, DisconnectResponse, StartSyncResponse,
    SummaryResponse, SyncRunResponse,
};
use qbo_sync::connect::{ConnectLink, Disconnected};
use qbo_sync::connections::Connection;
use qbo_sync::history::SyncRun;
use qbo_sync::summary::Summary;
use qbo_sync::sync_jobs::QueuedSync;
use rust_decimal::Decimal;

use super::IntoApi;

impl_into_api!(Connection => ConnectionResponse {
    id, client_id, realm_id, status, status_reason, company_name, connected_at, disconnected_at,
    refresh_expires_at, last_full_sync_at, last_incremental_sync_at
});
impl_into_api!(ConnectLink => ConnectResponse { authorization_url, expires_at });
impl_into_api!(QueuedSync => StartSyncResponse { run_id, job_id, already_queued });
impl_into_api!(SyncRun => SyncRunResponse {
    id, connection_id, mode, trigger, status, attempts, api_calls, counts, progress, errors, queued_at,
    started_at, finished_at
});

impl IntoApi<DisconnectResponse> for Disconnected {
    fn into_api(self) -> DisconnectResponse {
        DisconnectResponse { connection: self.connection.into_api(), revoked: self.revoked }
    }
}

/// Amounts as decimal strings with cents.
fn money(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

impl IntoApi<SummaryResponse> for Summary {
    fn into_api(self) -> SummaryResponse {
        let s = self;
        let a = &s.receivables_aging;
        SummaryResponse {
            from: s.from,
            to: s.to,
            income: money(s.income),
            expenses: money(s.expenses),
            net: money(s.net),
            receivables: money(s.receivables),
            receivables_aging: AgingResponse {
                current: money(a.current),
                days_1_30: money(a.days_1_30),
                days_31_60: money(a.days_31_60),
                days_61_90: money(a.days_61_90),
                days_over_90: money(a.days_over_90),
            },
            payables: money(s.payables),
            entities: s.entities,
            linked_customers: s.linked_customers,
            connection: s.connection.into_api(),
        }
    }
}
