//! The Azure response parser and mapping on the service's recorded real responses
//! (tests/fixtures/azure, copied from the Azure SDK's test recordings; see its README for
//! source and license). Error bodies are served by a one-route stand-in so they reach the
//! client's own status mapping.

// A failed unwrap in a helper is a failed test, with its location.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::str::FromStr;

use chrono::{NaiveDate, NaiveTime};
use documents::fields::{DocType, FieldValue};
use documents::ocr::ProviderExtraction;
use documents::ocr::azure::mapping;
use documents::ocr::azure::model::{OperationState, OperationStatus};
use documents::ocr::azure::{
    AnalyzeOptions, ApiVersion, AzureClient, AzureConfig, AzureError, AzureGate, GateLimits,
};
use rust_decimal::Decimal;
use secrecy::SecretString;

fn fixture(path: &str) -> serde_json::Value {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/azure").join(path);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// The recorded final poll body, parsed as the client parses it.
fn operation(path: &str) -> OperationStatus {
    serde_json::from_value(fixture(path)["body"].clone()).expect("recorded body parses")
}

fn succeeded(path: &str) -> documents::ocr::azure::model::AnalyzeResult {
    let status = operation(path);
    assert_eq!(status.status, OperationState::Succeeded);
    status.analyze_result.expect("succeeded with analyzeResult")
}

fn value<'a>(extraction: &'a ProviderExtraction, key: &str) -> &'a FieldValue {
    &extraction.fields.iter().find(|f| f.key == key).unwrap_or_else(|| panic!("no field {key}")).value
}

fn money(s: &str) -> FieldValue {
    FieldValue::Money(Decimal::from_str(s).unwrap())
}

fn text(s: &str) -> FieldValue {
    FieldValue::Text(s.into())
}

fn date(y: i32, m: u32, d: u32) -> FieldValue {
    FieldValue::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

#[test]
fn every_recorded_running_poll_parses_as_running() {
    for path in [
        "2023-07-31/prebuilt-w2-png/02-GET-200.json",
        "2023-07-31/prebuilt-w2-png/03-GET-200.json",
        "2023-07-31/prebuilt-invoice-tiff/02-GET-200.json",
        "2023-07-31/prebuilt-receipt-png/02-GET-200.json",
        "2023-07-31/prebuilt-receipt-multipage-pdf/02-GET-200.json",
        "2024-11-30/layout-url-barcodes-polling/02-GET-200.json",
        "2024-11-30/layout-url-barcodes-polling/03-GET-200.json",
        "2024-11-30/layout-url-barcodes-polling/04-GET-200.json",
        "2023-02-28-preview/prebuilt-invoice-jpg/02-GET-200.json",
        "2023-02-28-preview/prebuilt-receipt-blank-page/02-GET-200.json",
    ] {
        let status = operation(path);
        assert_eq!(status.status, OperationState::Running, "{path}");
        assert!(status.analyze_result.is_none(), "{path}");
    }
}

#[test]
fn w2_2023_07_31_maps_its_boxes_and_parties() {
    let result = succeeded("2023-07-31/prebuilt-w2-png/04-GET-200.json");
    assert_eq!(result.api_version, "2023-07-31");
    assert_eq!(result.model_id, "prebuilt-tax.us.w2");
    let pages = mapping::pages(&result);
    assert_eq!(pages.len(), 1);
    assert_eq!((pages[0].number, pages[0].width, pages[0].height), (1, 2391.0, 2325.0));
    assert_eq!(pages[0].words.len(), 209);
    assert!(pages[0].words.iter().all(|w| w.line.is_some() && w.bbox.x1 > w.bbox.x0));

    let x = mapping::provider_extraction(&result).expect("a W-2 was recognised");
    assert_eq!(x.doc_type, DocType::W2);
    assert_eq!(x.model, "prebuilt-tax.us.w2");
    assert_eq!(value(&x, "tax_year"), &text("2018"));
    assert_eq!(value(&x, "box1_wages"), &money("37160.56"));
    assert_eq!(value(&x, "box2_federal_tax"), &money("3894.54"));
    assert_eq!(value(&x, "box3_ss_wages"), &money("37160.56"));
    assert_eq!(value(&x, "box4_ss_tax"), &money("2303.95"));
    assert_eq!(value(&x, "box5_medicare_wages"), &money("37160.56"));
    assert_eq!(value(&x, "box6_medicare_tax"), &money("538.83"));
    let doc = &result.documents[0];
    let party =
        |who: &str, part: &str| doc.fields[who].object(part).and_then(|f| f.text()).map(str::to_string);
    for (key, who, part) in [
        ("employer_name", "Employer", "Name"),
        ("employer_ein", "Employer", "IdNumber"),
        ("employee_name", "Employee", "Name"),
        ("employee_ssn", "Employee", "SocialSecurityNumber"),
    ] {
        let recorded = party(who, part).unwrap_or_else(|| panic!("{who}.{part} recorded"));
        assert_eq!(value(&x, key), &text(recorded.trim()), "{key}");
    }
    let state = &doc.fields["StateTaxInfos"].array()[0];
    let recorded_state = state.object("State").and_then(|f| f.text()).unwrap();
    assert_eq!(value(&x, "state"), &text(recorded_state.trim()));
    let recorded_wages = state.object("StateWagesTipsEtc").and_then(|f| f.amount()).unwrap();
    assert_eq!(value(&x, "state_wages"), &FieldValue::Money(recorded_wages));
    // Every field points at the words it was read from, on page 1.
    assert!(x.fields.iter().all(|f| !f.words.is_empty() && f.words.iter().all(|w| w.0 == 1)));
}

#[test]
fn invoice_2023_07_31_maps_total_dates_and_parties() {
    let result = succeeded("2023-07-31/prebuilt-invoice-tiff/03-GET-200.json");
    let pages = mapping::pages(&result);
    assert_eq!((pages.len(), pages[0].words.len()), (1, 34));
    let x = mapping::provider_extraction(&result).expect("an invoice was recognised");
    assert_eq!(x.doc_type, DocType::Invoice);
    assert_eq!(value(&x, "total"), &money("56651.49"));
    assert_eq!(value(&x, "invoice_number"), &text("34278587"));
    assert_eq!(value(&x, "invoice_date"), &date(2017, 6, 18));
    assert_eq!(value(&x, "due_date"), &date(2017, 6, 24));
    assert_eq!(value(&x, "vendor_name"), &text("Contoso"));
    assert_eq!(value(&x, "customer_name"), &text("Microsoft"));
    assert_eq!(value(&x, "line_items[0].amount"), &money("56651.49"));
    // `Items[0].Tax` is a currency field without a value ("PT"): the parser accepts it and
    // the mapping has no amount to give.
    let item = &result.documents[0].fields["Items"].array()[0];
    let tax = item.object("Tax").expect("Tax recorded");
    assert_eq!((tax.kind.as_str(), tax.content.as_deref(), tax.amount()), ("currency", Some("PT"), None));
}

#[test]
fn receipt_2023_07_31_maps_merchant_amounts_and_time() {
    let result = succeeded("2023-07-31/prebuilt-receipt-png/03-GET-200.json");
    let x = mapping::provider_extraction(&result).expect("a receipt was recognised");
    assert_eq!(x.doc_type, DocType::Receipt);
    assert_eq!(value(&x, "merchant_name"), &text("Contoso"));
    assert_eq!(value(&x, "subtotal"), &money("1098.99"));
    assert_eq!(value(&x, "tax"), &money("104.40"));
    assert_eq!(value(&x, "total"), &money("1203.39"));
    assert_eq!(value(&x, "date"), &date(2019, 6, 10));
    assert_eq!(value(&x, "time"), &FieldValue::Time(NaiveTime::from_hms_opt(13, 59, 0).unwrap()));
    assert!(x.fields.iter().all(|f| f.key != "tip"), "this receipt has no tip");
    let page = &result.pages[0];
    assert!(page.angle.is_some_and(|a| a != 0.0));
    assert_eq!(mapping::pages(&result)[0].words.len(), 41);
}

#[test]
fn multipage_receipt_2023_07_31_keeps_both_pages_in_inches_and_maps_the_first_document() {
    let result = succeeded("2023-07-31/prebuilt-receipt-multipage-pdf/03-GET-200.json");
    assert_eq!(result.documents.len(), 2);
    let pages = mapping::pages(&result);
    assert_eq!(pages.iter().map(|p| (p.number, p.words.len())).collect::<Vec<_>>(), [(1, 33), (2, 41)]);
    assert!(pages.iter().all(|p| (p.width, p.height) == (8.5, 11.0)));
    assert!(pages[0].words.iter().all(|w| w.bbox.x1 <= 8.5 && w.bbox.y1 <= 11.0));
    assert!(pages[0].words.iter().any(|w| w.text == "&"), "BACON & EGGS keeps its ampersand");
    let x = mapping::provider_extraction(&result).expect("the first receipt");
    assert_eq!(value(&x, "tip"), &money("1.63"));
    assert_eq!(value(&x, "total"), &money("14.50"));
    assert_eq!(value(&x, "subtotal"), &money("11.70"));
    assert!(x.fields.iter().flat_map(|f| &f.words).all(|w| w.0 == 1), "first document is on page 1");
    assert!((x.confidence - 0.989).abs() < 1e-6);
}

#[test]
fn layout_2024_11_30_parses_text_elements_tables_and_barcodes_without_fields() {
    let result = succeeded("2024-11-30/layout-url-barcodes-polling/05-GET-200.json");
    assert_eq!(result.api_version, "2024-11-30");
    assert_eq!(result.model_id, "prebuilt-layout");
    assert_eq!(result.string_index_type.as_deref(), Some("textElements"));
    assert_eq!(result.tables.len(), 3);
    assert!(result.tables.iter().flat_map(|t| &t.cells).any(|c| c.kind.as_deref() == Some("columnHeader")));
    let pages = mapping::pages(&result);
    assert_eq!((pages.len(), pages[0].width, pages[0].height), (1, 2552.0, 3300.0));
    assert_eq!(pages[0].words.len(), 240);
    let recorded =
        &fixture("2024-11-30/layout-url-barcodes-polling/05-GET-200.json")["body"]["analyzeResult"];
    let first_word = recorded["pages"][0]["words"][0]["content"].as_str().unwrap();
    assert_eq!(pages[0].words[0].text, first_word);
    assert!(mapping::provider_extraction(&result).is_none(), "layout recognises no document type");
}

/// The preview API is not one the client speaks ([`ApiVersion`] has only the two GA versions),
/// but its result bodies share the shape, so the parser reads them too.
#[test]
fn preview_2023_02_28_results_parse_though_the_client_does_not_call_that_version() {
    let invoice = succeeded("2023-02-28-preview/prebuilt-invoice-jpg/03-GET-200.json");
    let x = mapping::provider_extraction(&invoice).expect("an invoice");
    assert_eq!(value(&x, "total"), &money("110.00"));
    assert_eq!(value(&x, "subtotal"), &money("100.00"));
    assert_eq!(value(&x, "tax"), &money("10.00"));
    assert_eq!(value(&x, "amount_due"), &money("610.00"));
    assert_eq!(value(&x, "invoice_number"), &text("INV-100"));
    assert_eq!(value(&x, "vendor_name"), &text("CONTOSO LTD."));
    assert_eq!(value(&x, "customer_name"), &text("MICROSOFT CORPORATION"));
    assert_eq!(value(&x, "line_items[0].unit_price"), &money("1.00"), "a currency without a symbol");

    let blank = succeeded("2023-02-28-preview/prebuilt-receipt-blank-page/03-GET-200.json");
    assert_eq!(blank.content, "");
    let pages = mapping::pages(&blank);
    assert_eq!(pages.len(), 1);
    assert!(pages[0].words.is_empty());
    assert!(mapping::provider_extraction(&blank).is_none());
}

/// Answers every request with one recorded response.
async fn replay_error(path: &str) -> String {
    let recorded = fixture(path);
    let status = axum::http::StatusCode::from_u16(recorded["status"].as_u64().unwrap() as u16).unwrap();
    let body = recorded["body"].to_string();
    let app = axum::Router::new().fallback(move || {
        let body = body.clone();
        async move { (status, [(axum::http::header::CONTENT_TYPE, "application/json")], body) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

async fn analyze_against(path: &str, version: ApiVersion) -> AzureError {
    let endpoint = replay_error(path).await;
    let gate = AzureGate::in_process(&endpoint, GateLimits::default());
    let config = AzureConfig::new(endpoint, SecretString::from("not-a-key"), version);
    let client = AzureClient::new(config, gate).unwrap();
    client.analyze("prebuilt-layout", b"%PDF", &AnalyzeOptions::default()).await.expect_err("recorded error")
}

#[tokio::test]
async fn recorded_error_bodies_map_to_their_error_variants() {
    match analyze_against(
        "2023-02-28-preview/authentication-bad-key-401/01-POST-401.json",
        ApiVersion::V2023_07_31,
    )
    .await
    {
        AzureError::Unauthorized { code, message } => {
            assert_eq!(code, "401");
            assert!(message.starts_with("Access denied due to invalid subscription key"), "{message}");
        }
        other => panic!("401 gave {other:?}"),
    }
    match analyze_against(
        "2023-02-28-preview/damaged-file-bytes-404/01-POST-404.json",
        ApiVersion::V2023_07_31,
    )
    .await
    {
        AzureError::NotFound { message } => assert_eq!(message, "Resource not found"),
        other => panic!("404 gave {other:?}"),
    }
    match analyze_against(
        "2023-07-31/layout-url-invalid-managed-identity-400/01-POST-400.json",
        ApiVersion::V2023_07_31,
    )
    .await
    {
        AzureError::InvalidRequest { status, code, inner, message } => {
            assert_eq!(
                (status, code.as_str(), inner.as_deref()),
                (400, "InvalidRequest", Some("InvalidManagedIdentity"))
            );
            assert!(message.starts_with("The managed identity configuration is invalid"), "{message}");
        }
        other => panic!("400 gave {other:?}"),
    }
    let error =
        analyze_against("2024-11-30/layout-invalid-content-400/01-POST-400.json", ApiVersion::V2024_11_30)
            .await;
    match &error {
        AzureError::InvalidRequest { status: 400, code, inner, message } => {
            assert_eq!((code.as_str(), inner.as_deref()), ("InvalidRequest", Some("InvalidContent")));
            assert!(message.starts_with("The file is corrupted or format is unsupported."), "{message}");
        }
        other => panic!("400 gave {other:?}"),
    }
    assert!(!error.is_transient(), "bad content is not retried later");
}
