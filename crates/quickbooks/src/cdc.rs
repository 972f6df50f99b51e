//! Change Data Capture: one call returns the entities of the listed kinds changed since a time,
//! in full, and the hard-deleted ones as tombstones (`{"Id", "status": "Deleted", "MetaData":
//! {"LastUpdatedTime"}}`). The response's top-level `time` is the server's clock: store it as the
//! next `changedSince`, in the same transaction as the applied changes.
//!
//! Limits: at most 30 days back (older → [`crate::QboError::CdcLookbackExceeded`]) and at most
//! 1,000 objects per response with no paging. [`CdcResponse::is_truncated`] says when the cap was
//! reached: some changes may be missing, so re-read the kinds by a `MetaData.LastUpdatedTime`
//! window (see [`crate::EntityPager::over`]) or ask CDC again for fewer kinds.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::entity::{EntityKind, Record};
use crate::error::QboError;
use crate::fault::Fault;
use crate::response::{Payload, unexpected};
use crate::time::parse_datetime;

pub const LOOKBACK_DAYS: i64 = 30;
/// The most objects one CDC response holds.
pub const MAX_OBJECTS: usize = 1_000;

/// A hard-deleted entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tombstone {
    pub kind: EntityKind,
    pub id: String,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// The changes of one kind, oldest first.
#[derive(Debug, Default)]
pub struct EntityChanges {
    pub upserts: Vec<Record>,
    pub deletes: Vec<Tombstone>,
}

#[derive(Debug)]
pub struct CdcResponse {
    /// The server's clock at the answer: the next `changedSince`.
    pub time: DateTime<Utc>,
    pub changes: BTreeMap<EntityKind, EntityChanges>,
}

#[derive(Deserialize)]
struct Element {
    #[serde(rename = "QueryResponse", default)]
    query_response: Vec<BTreeMap<String, Box<RawValue>>>,
}

#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "Id")]
    id: String,
    status: Option<String>,
    #[serde(rename = "MetaData")]
    meta_data: Option<ProbeMeta>,
}

#[derive(Deserialize)]
struct ProbeMeta {
    #[serde(rename = "LastUpdatedTime")]
    last_updated_time: Option<String>,
}

/// The fault QuickBooks answers a `changedSince` beyond the look-back with ("Operation cdc with
/// changedSince date … which is older than fixed days is not supported").
pub fn is_lookback_fault(fault: &Fault) -> bool {
    fault.errors.iter().any(|e| {
        let text = format!("{} {}", e.message, e.detail.as_deref().unwrap_or_default());
        text.contains("changedSince") && text.contains("older than")
    })
}

impl CdcResponse {
    pub(crate) fn from_payload(kinds: &[EntityKind], mut payload: Payload) -> Result<CdcResponse, QboError> {
        let time = payload.time.ok_or_else(|| unexpected("CDC answer without `time`"))?;
        let elements = payload.fields.remove("CDCResponse").ok_or_else(|| unexpected("no CDCResponse"))?;
        let elements: Vec<Element> =
            serde_json::from_str(elements.get()).map_err(|e| unexpected(format!("CDCResponse: {e}")))?;
        let mut changes: BTreeMap<EntityKind, EntityChanges> = BTreeMap::new();
        for section in elements.into_iter().flat_map(|e| e.query_response) {
            for (key, list) in section {
                let Some(kind) = EntityKind::from_name(&key).filter(|k| kinds.contains(k)) else { continue };
                let items: Vec<Box<RawValue>> =
                    serde_json::from_str(list.get()).map_err(|e| unexpected(format!("CDC {key}: {e}")))?;
                let entry = changes.entry(kind).or_default();
                for raw in items {
                    let probe: Probe = serde_json::from_str(raw.get())
                        .map_err(|e| unexpected(format!("CDC {key} item: {e}")))?;
                    if probe.status.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("deleted")) {
                        let deleted_at = probe
                            .meta_data
                            .and_then(|m| m.last_updated_time)
                            .as_deref()
                            .and_then(parse_datetime);
                        entry.deletes.push(Tombstone { kind, id: probe.id, deleted_at });
                    } else {
                        entry.upserts.push(Record::parse(kind, raw)?);
                    }
                }
            }
        }
        Ok(CdcResponse { time, changes })
    }

    /// Objects in the response, changed and deleted.
    pub fn object_count(&self) -> usize {
        self.changes.values().map(|c| c.upserts.len() + c.deletes.len()).sum()
    }

    /// True when the response reached the 1,000-object cap, so changes may be missing.
    pub fn is_truncated(&self) -> bool {
        self.object_count() >= MAX_OBJECTS
    }

    pub fn changes_for(&self, kind: EntityKind) -> Option<&EntityChanges> {
        self.changes.get(&kind)
    }
}
