//! Response bodies in QuickBooks' shapes: query pages, counts, single reads, CDC, and faults in
//! the JSON (`Fault` or lowercase `fault`) and XML (`IntuitResponse`) forms the real service uses.
//!
//! Envelopes are written by hand around records serialised by serde, so a page of 1,000 entities
//! is one buffer with no intermediate JSON tree.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::company::Tombstone;
use crate::model::{EntityType, Stored, wire_time, wire_time_millis};

fn push_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
}

fn push_time(out: &mut Vec<u8>, time: DateTime<Utc>) {
    push_str(out, &format!(",\"time\":\"{}\"}}", wire_time_millis(time)));
}

fn push_records(out: &mut Vec<u8>, entity: EntityType, records: &[&Stored], tombstones: &[&Tombstone]) {
    push_str(out, &format!("\"{}\":[", entity.name()));
    let mut first = true;
    for record in records {
        if !first {
            out.push(b',');
        }
        first = false;
        record.write_json(out);
    }
    for tombstone in tombstones {
        if !first {
            out.push(b',');
        }
        first = false;
        let value = json!({
            "Id": tombstone.id.to_string(),
            "status": "Deleted",
            "domain": "QBO",
            "MetaData": { "LastUpdatedTime": wire_time(tombstone.deleted_at) },
        });
        serde_json::to_writer(&mut *out, &value).expect("a JSON value serialises");
    }
    out.push(b']');
}

/// `{"QueryResponse": {"<Entity>": [...], "startPosition": n, "maxResults": count}, "time": ...}`,
/// or `{"QueryResponse": {}, ...}` when the page is empty.
pub fn query_page(
    entity: EntityType,
    records: &[&Stored],
    start_position: usize,
    time: DateTime<Utc>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + records.len() * 1_200);
    push_str(&mut out, "{\"QueryResponse\":{");
    if !records.is_empty() {
        push_records(&mut out, entity, records, &[]);
        push_str(&mut out, &format!(",\"startPosition\":{start_position},\"maxResults\":{}", records.len()));
    }
    out.push(b'}');
    push_time(&mut out, time);
    out
}

pub fn count(total: usize, time: DateTime<Utc>) -> Vec<u8> {
    let mut out = Vec::new();
    push_str(&mut out, &format!("{{\"QueryResponse\":{{\"totalCount\":{total}}}"));
    push_time(&mut out, time);
    out
}

/// `{"<Entity>": {...}, "time": ...}`.
pub fn single(record: &Stored, time: DateTime<Utc>) -> Vec<u8> {
    let mut out = Vec::with_capacity(2_048);
    push_str(&mut out, &format!("{{\"{}\":", record.body.entity_type().name()));
    record.write_json(&mut out);
    push_time(&mut out, time);
    out
}

/// One CDC section: changed records (oldest first) then tombstones.
pub struct CdcSection<'c> {
    pub entity: EntityType,
    pub changed: Vec<&'c Stored>,
    pub deleted: Vec<&'c Tombstone>,
}

/// `{"CDCResponse": [{"QueryResponse": [{"<Entity>": [...], "startPosition", "maxResults",
/// "totalCount"}, ...]}], "time": ...}`; with nothing changed the list holds one empty object,
/// the shape python-quickbooks' tests use.
pub fn cdc(sections: &[CdcSection<'_>], time: DateTime<Utc>) -> Vec<u8> {
    let mut out = Vec::with_capacity(4_096);
    push_str(&mut out, "{\"CDCResponse\":[{\"QueryResponse\":[");
    let mut first = true;
    for section in sections.iter().filter(|s| !s.changed.is_empty() || !s.deleted.is_empty()) {
        if !first {
            out.push(b',');
        }
        first = false;
        out.push(b'{');
        push_records(&mut out, section.entity, &section.changed, &section.deleted);
        let n = section.changed.len() + section.deleted.len();
        push_str(&mut out, &format!(",\"startPosition\":1,\"maxResults\":{n},\"totalCount\":{n}}}"));
    }
    if first {
        push_str(&mut out, "{}");
    }
    push_str(&mut out, "]}]");
    push_time(&mut out, time);
    out
}

/// One error inside a fault.
#[derive(Clone, Debug)]
pub struct FaultError {
    pub code: String,
    pub message: String,
    pub detail: String,
}

impl FaultError {
    pub fn new(code: impl Into<String>, message: impl Into<String>, detail: impl Into<String>) -> FaultError {
        FaultError { code: code.into(), message: message.into(), detail: detail.into() }
    }
}

/// `{"Fault": {"Error": [{"Message", "Detail", "code", "element"}], "type": ...}, "time": ...}`.
pub fn fault_json(fault_type: &str, error: &FaultError, time: DateTime<Utc>) -> Vec<u8> {
    let value = json!({
        "Fault": {
            "Error": [{ "Message": error.message, "Detail": error.detail, "code": error.code, "element": "" }],
            "type": fault_type,
        },
        "time": wire_time_millis(time),
    });
    serde_json::to_vec(&value).expect("a JSON value serialises")
}

/// The lowercase shape some 401s come in (`fault.error[].message`, `type: "AUTHENTICATION"`).
pub fn fault_json_lowercase(fault_type: &str, error: &FaultError, time: DateTime<Utc>) -> Vec<u8> {
    let value = json!({
        "warnings": null,
        "intuitObject": null,
        "fault": {
            "error": [{ "message": error.message, "detail": error.detail, "code": error.code, "element": null }],
            "type": fault_type,
        },
        "report": null,
        "queryResponse": null,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": null,
        "requestId": null,
        "time": time.timestamp_millis(),
        "status": null,
        "cdcresponse": [],
    });
    serde_json::to_vec(&value).expect("a JSON value serialises")
}

fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// `<IntuitResponse time=...><Fault type=...><Error code=...><Message/><Detail/></Error></Fault></IntuitResponse>`.
pub fn fault_xml(fault_type: &str, error: &FaultError, time: DateTime<Utc>) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
         <IntuitResponse xmlns=\"http://schema.intuit.com/finance/v3\" time=\"{}\">\
         <Fault type=\"{}\"><Error code=\"{}\"><Message>{}</Message><Detail>{}</Detail></Error></Fault>\
         </IntuitResponse>",
        wire_time_millis(time),
        escape_xml(fault_type),
        escape_xml(&error.code),
        escape_xml(&error.message),
        escape_xml(&error.detail),
    )
    .into_bytes()
}

/// The throttle answer: error 3001 `ThrottleExceeded`, in XML whatever the client accepts.
pub fn throttle_xml(time: DateTime<Utc>) -> Vec<u8> {
    let error = FaultError::new(
        "3001",
        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "The request limit was reached.  Try again later",
    );
    fault_xml("SERVICE", &error, time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_shapes_parse_and_escape() {
        let time = DateTime::from_timestamp(1_780_000_000, 0).expect("valid");
        let error = FaultError::new("610", "Object Not Found", "Something <missing> & gone");
        let json: serde_json::Value =
            serde_json::from_slice(&fault_json("ValidationFault", &error, time)).expect("json");
        assert_eq!(json["Fault"]["Error"][0]["code"], "610");
        let lower: serde_json::Value =
            serde_json::from_slice(&fault_json_lowercase("AUTHENTICATION", &error, time)).expect("json");
        assert_eq!(lower["fault"]["error"][0]["detail"], "Something <missing> & gone");
        let xml = String::from_utf8(fault_xml("ValidationFault", &error, time)).expect("utf-8");
        assert!(xml.contains("<Detail>Something &lt;missing&gt; &amp; gone</Detail>"));
        let throttle = String::from_utf8(throttle_xml(time)).expect("utf-8");
        assert!(throttle.contains("ThrottleExceeded") && throttle.contains("code=\"3001\""));
    }

    #[test]
    fn empty_results_keep_the_documented_shapes() {
        let time = DateTime::from_timestamp(1_780_000_000, 0).expect("valid");
        let page: serde_json::Value =
            serde_json::from_slice(&query_page(EntityType::Bill, &[], 1, time)).expect("json");
        assert_eq!(page["QueryResponse"], json!({}));
        let cdc: serde_json::Value = serde_json::from_slice(&cdc(&[], time)).expect("json");
        assert_eq!(cdc["CDCResponse"][0]["QueryResponse"], json!([{}]));
    }
}
