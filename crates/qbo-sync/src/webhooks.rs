//! Intuit webhooks: the signature is checked on the exact bytes (constant time) before anything
//! is parsed; each realm's events are stored for every organization connected to it and turned
//! into a targeted incremental sync of the kinds named.

use std::collections::BTreeSet;

use domain::{ConnectionStatus, SyncMode, SyncTrigger};
use quickbooks::EntityKind;
use quickbooks::webhook;
pub use quickbooks::webhook::WebhookError;
use serde::Serialize;
use store::{Actor, TenantTx};
use uuid::Uuid;

pub use quickbooks::webhook::SIGNATURE_HEADER;

use crate::connections;
use crate::sync_jobs::queue_sync;
use crate::{QuickBooks, SyncError};

#[derive(Debug, thiserror::Error)]
pub enum WebhookRejection {
    #[error("webhooks are not configured (no verifier token)")]
    NotConfigured,
    #[error(transparent)]
    Invalid(#[from] WebhookError),
    #[error(transparent)]
    Sync(#[from] SyncError),
}

/// What a delivery did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Received {
    /// Connections a sync was queued for (or was already queued for).
    pub syncs_queued: usize,
    /// Realms in the delivery no connection of ours belongs to.
    pub unknown_realms: usize,
}

pub async fn receive(qb: &QuickBooks, body: &[u8], signature: &str) -> Result<Received, WebhookRejection> {
    let token = qb.config().webhook_verifier_token.as_deref().ok_or(WebhookRejection::NotConfigured)?;
    let realms = webhook::verify_and_parse(token.as_bytes(), body, signature)?;
    let mut received = Received::default();
    for realm in realms {
        let kinds: BTreeSet<EntityKind> = realm.entities.iter().filter_map(|e| e.kind).collect();
        let routes = connections::routes_for_realm(qb, &realm.realm_id).await?;
        if routes.is_empty() {
            received.unknown_realms += 1;
            continue;
        }
        let entities = serde_json::json!(realm
            .entities
            .iter()
            .map(|e| serde_json::json!({"name": e.name, "id": e.id, "operation": format!("{:?}", e.operation)}))
            .collect::<Vec<_>>());
        for (org, connection) in routes {
            let mut tx = TenantTx::begin(qb.db(), org, Actor::system()).await.map_err(SyncError::from)?;
            let connection = connections::get(&mut tx, connection).await?;
            let run = if connection.status == ConnectionStatus::Connected && !kinds.is_empty() {
                let kinds = Some(kinds.iter().copied().collect());
                Some(
                    queue_sync(&mut tx, &connection, SyncMode::Incremental, SyncTrigger::Webhook, kinds)
                        .await?
                        .run_id,
                )
            } else {
                None
            };
            sqlx::query(
                "insert into qbo_webhook_events (id, organization_id, connection_id, realm_id, entities, sync_run_id)
                 values ($1, $2, $3, $4, $5, $6)",
            )
            .bind(Uuid::now_v7())
            .bind(tx.org_uuid())
            .bind(connection.id)
            .bind(&realm.realm_id)
            .bind(&entities)
            .bind(run)
            .execute(tx.conn())
            .await
            .map_err(SyncError::from)?;
            tx.commit().await.map_err(SyncError::from)?;
            received.syncs_queued += usize::from(run.is_some());
        }
    }
    Ok(received)
}
