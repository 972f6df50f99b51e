//! Vendor memory over HTTP against the real pipeline: a reviewer corrects a vendor's first
//! document, the firm remembers (listed, audited), the vendor's next documents are read with it
//! (their fields right, with source `vendor_memory`), and once forgotten (audited) it is no
//! longer applied. Staff only; another firm never sees it (tenancy.rs).

use std::collections::BTreeMap;

use documents::fields::FieldValue;
use domain::Role;
use serde_json::{Value, json};
use testkit::TestApp;

use crate::documents::{client, fields as by_key, processed, upload_one, worker};

/// The vendor drawn (Atelier Moreau: French, values under a row of labels, day-first dates with
/// slashes, `1 234,56 EUR`), and the seed of its documents.
const VENDOR: usize = 1;
const SEED: u64 = 16;

/// The expected fields the stored document has wrong or lacks.
fn wrong(detail: &Value, expected: &BTreeMap<String, FieldValue>) -> Vec<String> {
    let got = by_key(detail);
    expected
        .iter()
        .filter(|(key, want)| {
            got.get(*key)
                .and_then(|f| serde_json::from_value::<FieldValue>(f["value"].clone()).ok())
                .is_none_or(|v| !want.matches(&v))
        })
        .map(|(key, _)| key.clone())
        .collect()
}

/// A correction as a reviewer types it.
fn typed(value: &FieldValue) -> String {
    match value {
        FieldValue::Date(d) => d.to_string(),
        other => other.display(),
    }
}

async fn read(app: &TestApp, token: &str, client: &str, n: u64) -> (Value, BTreeMap<String, FieldValue>) {
    let (_, pdf, expected) = doc_corpus::vendors::vendor_document(VENDOR, n, SEED).unwrap();
    let id = upload_one(app, token, client, &format!("moreau-{n}.pdf"), &pdf).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (processed(app, token, &id).await, expected)
}

async fn audit_actions(app: &TestApp, token: &str, action: &str) -> usize {
    let r = app.get(&format!("/v1/audit-log?action={action}"), token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.value()["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn one_correction_teaches_the_vendors_next_documents_until_forgotten() {
    let app = TestApp::spawn().await;
    let t = app.tenant("vendor-memory").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Memory Client").await;
    let _work = worker(&app);

    // Document 1, read without memory: a reviewer corrects what is wrong.
    let (first, expected) = read(&app, token, &c, 0).await;
    let id = first["document"]["id"].as_str().unwrap().to_owned();
    assert!(first["document"]["step_timings"]["vendor_memory"].is_null(), "{}", first["document"]);
    let corrected = wrong(&first, &expected);
    assert!(!corrected.is_empty(), "the pipeline read this vendor right without help: nothing to learn");
    for key in &corrected {
        let body = json!({ "value": typed(&expected[key]) });
        let r = app
            .request(
                reqwest::Method::PUT,
                &format!("/v1/documents/{id}/fields/{key}"),
                Some(token),
                Some(&body),
            )
            .await;
        assert_eq!(r.status, 200, "{key}: {}", r.body);
    }
    let memories = app.get("/v1/vendor-memories", token).await;
    assert_eq!(memories.status, 200, "{}", memories.body);
    let items = memories.value()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "one vendor, one memory: {items:?}");
    let memory = &items[0];
    assert_eq!(memory["vendor_name"], "Atelier Moreau SARL", "{memory}");
    assert_eq!(memory["learned_from"], id.as_str());
    assert_eq!(memory["corrections"].as_i64(), Some(corrected.len() as i64));
    let memory_id = memory["id"].as_str().unwrap().to_owned();
    let one = app.get(&format!("/v1/vendor-memories/{memory_id}"), token).await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(audit_actions(&app, token, "vendor_memory.learn").await, corrected.len());

    // Documents 2 and 3: every expected field right, the corrected ones from the memory.
    for n in [1, 2] {
        let (detail, expected) = read(&app, token, &c, n).await;
        assert_eq!(wrong(&detail, &expected), Vec::<String>::new(), "document {}: {detail}", n + 1);
        let fields = by_key(&detail);
        for key in &corrected {
            assert_eq!(fields[key]["source"], "vendor_memory", "document {}: {key}", n + 1);
        }
        let used = &detail["document"]["step_timings"]["vendor_memory"];
        assert_eq!(used["id"], memory_id.as_str(), "{used}");
    }
    let memory = app.get(&format!("/v1/vendor-memories/{memory_id}"), token).await.value();
    assert_eq!(memory["times_applied"], 2);

    // A member without `documents:update` may read the memories but not forget them.
    let viewer = app.member(&t, Role::Intern).await;
    let r = app.get("/v1/vendor-memories", &viewer.token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .request(
            reqwest::Method::DELETE,
            &format!("/v1/vendor-memories/{memory_id}"),
            Some(&viewer.token),
            None,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // Forgotten: gone from the list, audited, and the next document is read without it.
    let r = app
        .request(reqwest::Method::DELETE, &format!("/v1/vendor-memories/{memory_id}"), Some(token), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = app
        .request(reqwest::Method::DELETE, &format!("/v1/vendor-memories/{memory_id}"), Some(token), None)
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(app.get("/v1/vendor-memories", token).await.value()["items"], json!([]));
    assert_eq!(audit_actions(&app, token, "vendor_memory.forget").await, 1);
    let (after, _) = read(&app, token, &c, 3).await;
    assert!(after["document"]["step_timings"]["vendor_memory"].is_null(), "{}", after["document"]);
    assert!(by_key(&after).values().all(|f| f["source"] != "vendor_memory"), "{after}");
}
