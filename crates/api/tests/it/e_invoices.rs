//! Structured e-invoices over HTTP: a UBL XML uploaded as it is is read from its XML (every
//! field with source `e_invoice`, confidence 1, approved), and XML that is not a readable
//! e-invoice is refused with a problem naming why, storing nothing.

use std::time::Duration;

use serde_json::json;
use store::sqlx;
use testkit::TestApp;

use crate::documents::{blob_files, client, fields as by_key, processed, upload_one, upload_to, worker};

/// A Peppol BIS UBL invoice (written for the `einvoice` crate's tests).
fn ubl_invoice() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../einvoice/tests/fixtures/ubl_invoice.xml");
    std::fs::read(path).unwrap()
}

async fn put(app: &TestApp, token: &str, id: &str, key: &str, value: &str) -> testkit::TestResponse {
    let body = json!({ "value": value });
    app.request(reqwest::Method::PUT, &format!("/v1/documents/{id}/fields/{key}"), Some(token), Some(&body))
        .await
}

#[tokio::test]
async fn a_ubl_upload_is_read_from_its_xml_with_each_fields_source() {
    let app = TestApp::spawn().await;
    let t = app.tenant("e-invoice-ubl").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Peppol Client").await;
    let uploaded = upload_one(&app, token, &c, "PEP-1001.xml", &ubl_invoice()).await;
    assert_eq!((uploaded["kind"].as_str(), uploaded["pages"].as_i64()), (Some("xml"), Some(0)));
    let id = uploaded["id"].as_str().unwrap().to_owned();
    let work = worker(&app);
    let detail = processed(&app, token, &id).await;
    let d = &detail["document"];
    assert_eq!(d["doc_type"], "invoice", "{detail}");
    assert_eq!(d["type_confidence"], 1.0);
    assert_eq!(d["status"], "approved", "{}", d["review_reasons"]);
    assert_eq!(d["step_timings"]["e_invoice"], "Peppol BIS Billing (UBL)");
    assert_eq!(d["step_timings"]["ocr_pages"], 0);

    let fields = by_key(&detail);
    let display = |key: &str| fields.get(key).map(|f| f["display"].as_str().unwrap().to_owned());
    assert_eq!(display("invoice_number").as_deref(), Some("PEP-1001"));
    assert_eq!(display("invoice_date").as_deref(), Some("2026-04-01"));
    assert_eq!(display("due_date").as_deref(), Some("2026-05-01"));
    assert_eq!(display("vendor_name").as_deref(), Some("Leverancier B.V."));
    assert_eq!(display("vendor_tax_id").as_deref(), Some("NL123456789B01"));
    assert_eq!(display("customer_name").as_deref(), Some("Klant N.V."));
    assert_eq!(display("currency").as_deref(), Some("EUR"));
    assert_eq!(display("subtotal").as_deref(), Some("1000.00"));
    assert_eq!(display("tax").as_deref(), Some("210.00"), "the EUR total, not the SEK one");
    assert_eq!(display("total").as_deref(), Some("1210.00"));
    assert_eq!(fields["total"]["value"], json!({"type": "money", "value": "1210.00"}));
    // Two lines and the document-level discount as a line of its own: they add up to the subtotal.
    assert_eq!(display("line_items[0].description").as_deref(), Some("Laptop stand"));
    assert_eq!(display("line_items[0].quantity").as_deref(), Some("5"));
    assert_eq!(display("line_items[2].description").as_deref(), Some("Allowance: Korting"));
    assert_eq!(display("line_items[2].amount").as_deref(), Some("-25.00"));
    for f in fields.values() {
        assert_eq!(f["source"], "e_invoice", "{f}");
        assert_eq!(f["confidence"], 1.0, "{f}");
        assert!(f["region"].is_null(), "an XML has no page: {f}");
    }

    // No page to show; the original downloads as XML.
    let thumb = app.get(&format!("/v1/documents/{id}/thumbnail"), token).await;
    assert_eq!(thumb.status, 404, "{}", thumb.body);

    // A reviewer's correction keeps the source and says who changed it; a field added in review
    // is the reviewer's.
    let corrected = put(&app, token, &id, "customer_name", "Klant NV").await;
    assert_eq!(corrected.status, 200, "{}", corrected.body);
    let corrected = corrected.value();
    assert_eq!(
        (corrected["source"].as_str(), corrected["corrected_by"].is_string()),
        (Some("e_invoice"), true)
    );
    let added = put(&app, token, &id, "line_items[3].description", "Gift wrap").await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(added.value()["source"], "reviewer");
    work.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn xml_that_is_not_a_readable_e_invoice_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let t = app.tenant("e-invoice-bad").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Bad XML Client").await;
    let path = format!("/v1/clients/{c}/documents");
    let ubl = String::from_utf8(ubl_invoice()).unwrap();
    let no_total =
        ubl.replace(r#"<cbc:TaxInclusiveAmount currencyID="EUR">1210.00</cbc:TaxInclusiveAmount>"#, "");
    let cases: Vec<(&str, Vec<u8>, u16, &str, &str)> = vec![
        ("broken.xml", b"<?xml version=\"1.0\"?><Invoice><ID>1</Invoice>".to_vec(), 422, "file-corrupt", "not well-formed"),
        ("drawing.xml", b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(), 415, "unsupported-file-type", "not an e-invoice"),
        ("no-total.xml", no_total.into_bytes(), 422, "file-corrupt", "no grand total"),
        (
            "bomb.xml",
            b"<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><r>&b;</r>".to_vec(),
            422,
            "file-corrupt",
            "DTD",
        ),
    ];
    for (name, bytes, status, slug, says) in &cases {
        let r = upload_to(&app, token, &path, &[(name, bytes)], &[]).await;
        assert_eq!(r.status, *status, "{name}: {}", r.body);
        assert_eq!(r.problem_slug(), *slug, "{name}: {}", r.body);
        let problem = r.problem();
        assert_eq!(problem.errors[0].field, *name, "the problem names the file: {}", r.body);
        assert!(problem.detail.contains(says), "{name}: {}", problem.detail);
    }
    let mut owner = app.test_db.owner_conn().await;
    let documents: i64 =
        sqlx::query_scalar("select count(*) from documents").fetch_one(&mut owner).await.unwrap();
    assert_eq!((documents, blob_files(&app)), (0, 0));
}
