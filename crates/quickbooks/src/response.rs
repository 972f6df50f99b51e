//! What a successful answer holds, decoded only as far as every call needs: its top-level
//! fields and the server's clock ([`Payload`]), and a query's page of records ([`QueryPage`]).
//! The client produces these; paging and CDC read them, so neither needs the client's internals.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;

use crate::entity::{EntityKind, Record};
use crate::error::QboError;
use crate::query::Query;
use crate::time::parse_datetime;

/// A successful answer: its top-level fields (unparsed) and server time.
pub(crate) struct Payload {
    pub fields: BTreeMap<String, Box<RawValue>>,
    pub time: Option<DateTime<Utc>>,
    /// Body size in bytes.
    pub size: usize,
}

impl Payload {
    /// The answer of `size` bytes whose top-level fields are `fields`.
    pub fn new(fields: BTreeMap<String, Box<RawValue>>, size: usize) -> Payload {
        let time = server_time(&fields);
        Payload { fields, time, size }
    }
}

fn server_time(fields: &BTreeMap<String, Box<RawValue>>) -> Option<DateTime<Utc>> {
    let raw = fields.get("time")?;
    match serde_json::from_str::<serde_json::Value>(raw.get()).ok()? {
        serde_json::Value::String(text) => parse_datetime(&text),
        serde_json::Value::Number(millis) => DateTime::from_timestamp_millis(millis.as_i64()?),
        _ => None,
    }
}

/// One page of a query.
#[derive(Debug)]
pub struct QueryPage {
    pub kind: EntityKind,
    pub records: Vec<Record>,
    /// The (1-based) position asked for.
    pub start_position: u64,
    /// How many were asked for; a shorter page is the last.
    pub requested: u32,
    /// The server's clock when it answered.
    pub time: Option<chrono::DateTime<chrono::Utc>>,
}

/// A 200 answer whose body is not what the call expects.
pub(crate) fn unexpected(detail: impl Into<String>) -> QboError {
    QboError::Unexpected { status: 200, detail: detail.into() }
}

impl QueryPage {
    pub fn is_last(&self) -> bool {
        self.records.len() < self.requested as usize
    }

    pub(crate) fn from_payload(query: &Query, mut payload: Payload) -> Result<QueryPage, QboError> {
        let kind = query.kind();
        let response =
            payload.fields.remove("QueryResponse").ok_or_else(|| unexpected("no QueryResponse"))?;
        let mut sections: std::collections::BTreeMap<String, Box<serde_json::value::RawValue>> =
            serde_json::from_str(response.get()).map_err(|e| unexpected(format!("QueryResponse: {e}")))?;
        let key = sections.keys().find(|k| k.eq_ignore_ascii_case(kind.name())).cloned();
        let raws: Vec<Box<serde_json::value::RawValue>> = match key.and_then(|k| sections.remove(&k)) {
            Some(list) => {
                serde_json::from_str(list.get()).map_err(|e| unexpected(format!("{}: {e}", kind.name())))?
            }
            None => Vec::new(),
        };
        let records = raws.into_iter().map(|raw| Record::parse(kind, raw)).collect::<Result<Vec<_>, _>>()?;
        Ok(QueryPage {
            kind,
            records,
            start_position: query.requested_start(),
            requested: query.requested_max(),
            time: payload.time,
        })
    }

    pub(crate) fn count_from_payload(mut payload: Payload) -> Result<u64, QboError> {
        #[derive(serde::Deserialize)]
        struct Count {
            #[serde(rename = "totalCount")]
            total_count: Option<u64>,
        }
        let response =
            payload.fields.remove("QueryResponse").ok_or_else(|| unexpected("no QueryResponse"))?;
        let count: Count =
            serde_json::from_str(response.get()).map_err(|e| unexpected(format!("totalCount: {e}")))?;
        Ok(count.total_count.unwrap_or(0))
    }
}
