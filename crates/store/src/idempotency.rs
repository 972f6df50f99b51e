//! Stored responses of POSTs sent with an `Idempotency-Key` (see migrations/0022).

use uuid::Uuid;

use crate::{Db, StoreResult, TenantTx};

/// How a key stands when a request arrives with it.
#[derive(Debug)]
pub enum Claim {
    /// New (or expired): this request owns the key and runs.
    Claimed,
    /// Another request with this key is still running.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
    /// The key's request finished: answer with its response.
    Done(StoredResponse),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    fingerprint: Vec<u8>,
    state: String,
    status: Option<i16>,
    content_type: Option<String>,
    location: Option<String>,
    body: Option<Vec<u8>>,
}

/// Claims `key` for `principal`, or reports how it stands. Run in its own transaction and commit
/// it, so a concurrent request with the same key sees the claim.
pub async fn claim(tx: &mut TenantTx, principal: Uuid, key: &str, fingerprint: &[u8]) -> StoreResult<Claim> {
    let org = tx.org_uuid();
    // An expired row is taken over as if it were new.
    let claimed: Option<bool> = sqlx::query_scalar(
        "insert into idempotency_keys (organization_id, principal, key, fingerprint, state)
         values ($1, $2, $3, $4, 'in_flight')
         on conflict (organization_id, principal, key) do update
             set fingerprint = excluded.fingerprint, state = 'in_flight', status = null,
                 content_type = null, location = null, body = null, created_at = now()
             where idempotency_keys.created_at < now() - interval '24 hours'
         returning true",
    )
    .bind(org)
    .bind(principal)
    .bind(key)
    .bind(fingerprint)
    .fetch_optional(tx.conn())
    .await?;
    if claimed.is_some() {
        return Ok(Claim::Claimed);
    }
    let row: KeyRow = sqlx::query_as(
        "select fingerprint, state, status, content_type, location, body from idempotency_keys
         where organization_id = $1 and principal = $2 and key = $3",
    )
    .bind(org)
    .bind(principal)
    .bind(key)
    .fetch_one(tx.conn())
    .await?;
    let KeyRow { fingerprint: stored_fingerprint, state, status, content_type, location, body } = row;
    Ok(if stored_fingerprint != fingerprint {
        Claim::Mismatch
    } else if state == "in_flight" {
        Claim::InFlight
    } else {
        Claim::Done(StoredResponse {
            status: status.and_then(|s| u16::try_from(s).ok()).unwrap_or(200),
            content_type,
            location,
            body: body.unwrap_or_default(),
        })
    })
}

/// Keeps the response of the request that claimed `key`.
pub async fn complete(
    tx: &mut TenantTx,
    principal: Uuid,
    key: &str,
    response: &StoredResponse,
) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "update idempotency_keys set state = 'done', status = $4, content_type = $5, location = $6, body = $7
         where organization_id = $1 and principal = $2 and key = $3",
    )
    .bind(org)
    .bind(principal)
    .bind(key)
    .bind(i16::try_from(response.status).unwrap_or(500))
    .bind(&response.content_type)
    .bind(&response.location)
    .bind(&response.body)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Gives `key` back (the request failed in a way worth retrying).
pub async fn release(tx: &mut TenantTx, principal: Uuid, key: &str) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query("delete from idempotency_keys where organization_id = $1 and principal = $2 and key = $3")
        .bind(org)
        .bind(principal)
        .bind(key)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Deletes keys older than 24 hours, across organizations; returns how many.
pub async fn expire(db: &Db) -> StoreResult<i64> {
    Ok(sqlx::query_scalar("select expire_idempotency_keys()").fetch_one(db.pool()).await?)
}

/// What identifies a request: method, path and query, content type and body.
pub fn fingerprint(method: &str, path_and_query: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [method.as_bytes(), path_and_query.as_bytes(), content_type.as_bytes()] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.update(body);
    h.finalize().to_vec()
}
