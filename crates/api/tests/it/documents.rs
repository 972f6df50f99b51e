//! Documents over HTTP against the real pipeline: uploads (multipart and zip), the
//! `documents.process` job run by an in-process worker with real poppler and Tesseract, review,
//! corrections, duplicates, refusals, portal scoping and signed links.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use chrono::Datelike;
use doc_corpus::{CorpusSpec, ScanFormat, generate};
use documents::eval::LabeledDocument;
use documents::fields::{DocType, FieldValue};
use documents::jobs::PipelineDeps;
use domain::Role;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use store::sqlx;
use testkit::{TestApp, TestConfig, TestResponse};

/// A multipart body of `file` parts (name, bytes) plus plain fields; returns its content type.
fn multipart(files: &[(&str, &[u8])], fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    multipart_with("countinghouse-test-boundary-7d1e", files, fields)
}

/// [`multipart`] with the given boundary.
pub(crate) fn multipart_with(
    boundary: &str,
    files: &[(&str, &[u8])],
    fields: &[(&str, &str)],
) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for (name, value) in fields {
        write!(body, "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
            .unwrap();
    }
    for (name, bytes) in files {
        write!(
            body,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .unwrap();
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    write!(body, "--{boundary}--\r\n").unwrap();
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub(crate) async fn upload_to(
    app: &TestApp,
    token: &str,
    path: &str,
    files: &[(&str, &[u8])],
    fields: &[(&str, &str)],
) -> TestResponse {
    let (content_type, body) = multipart(files, fields);
    post_multipart(app, token, path, &content_type, body, &[]).await
}

/// POSTs a multipart body as it is, with any extra headers.
pub(crate) async fn post_multipart(
    app: &TestApp,
    token: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> TestResponse {
    let mut request = app.http.post(app.url(path)).bearer_auth(token).header("content-type", content_type);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let r = request.body(body).send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    TestResponse { status, headers, body: r.text().await.unwrap() }
}

/// Uploads one file to a client, asserting it was accepted; returns the document.
pub(crate) async fn upload_one(app: &TestApp, token: &str, client: &str, name: &str, bytes: &[u8]) -> Value {
    let r = upload_to(app, token, &format!("/v1/clients/{client}/documents"), &[(name, bytes)], &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let file = &r.value()["files"][0];
    assert_eq!(file["outcome"], "accepted", "{file}");
    file["document"].clone()
}

pub(crate) fn worker(app: &TestApp) -> jobs::WorkerHandle {
    let mut registry = jobs::Registry::new();
    documents::jobs::register(&mut registry, PipelineDeps::local(app.db.clone(), app.blobs.clone()));
    let config = jobs::WorkerConfig {
        queues: vec![jobs::QueueConfig::new(documents::jobs::QUEUE).concurrency(2)],
        poll_interval: Duration::from_millis(50),
        ..jobs::WorkerConfig::default()
    };
    jobs::Worker::new(app.db.pool().clone(), registry, config).start()
}

/// The document once the pipeline is done with it (or gives up waiting after two minutes).
pub(crate) async fn processed(app: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..1200 {
        let detail = app.get(&format!("/v1/documents/{id}"), token).await;
        assert_eq!(detail.status, 200, "{}", detail.body);
        let detail = detail.value();
        if !matches!(detail["document"]["status"].as_str(), Some("uploaded" | "processing")) {
            return detail;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("document {id} was not processed");
}

pub(crate) async fn client(app: &TestApp, token: &str, name: &str) -> String {
    let r = app.post("/v1/clients", Some(token), &json!({"business_name": name})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.value()["id"].as_str().unwrap().to_owned()
}

fn corpus(dir: &Path, types: Vec<DocType>, digital: bool, scans: Option<ScanFormat>) -> Vec<LabeledDocument> {
    let spec = CorpusSpec {
        types,
        digital,
        scans: scans.is_some(),
        scan_formats: scans.into_iter().collect(),
        ..CorpusSpec::small(7)
    };
    generate(dir, &spec).unwrap()
}

/// The stored fields by key (values of the masked ones are absent).
pub(crate) fn fields(detail: &Value) -> BTreeMap<String, Value> {
    detail["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["key"].as_str().unwrap().to_owned(), f.clone()))
        .collect()
}

/// Truth fields the stored document got wrong or missed (masked ones are compared by their last four).
fn misses(detail: &Value, truth: &BTreeMap<String, FieldValue>) -> Vec<String> {
    let got = fields(detail);
    truth
        .iter()
        .filter(|(key, want)| match got.get(*key) {
            None => true,
            Some(f) if f["masked"] == true => {
                let FieldValue::Text(t) = want else { return true };
                let last4: String = t.chars().filter(char::is_ascii_digit).rev().take(4).collect();
                let shown: String = f["display"].as_str().unwrap().chars().rev().take(4).collect();
                last4 != shown
            }
            Some(f) => {
                serde_json::from_value::<FieldValue>(f["value"].clone()).map_or(true, |v| !want.matches(&v))
            }
        })
        .map(|(key, want)| format!("{key}: want {want:?}, got {:?}", got.get(key).map(|f| &f["display"])))
        .collect()
}

pub(crate) async fn document_jobs(app: &TestApp) -> i64 {
    let mut owner = app.test_db.owner_conn().await;
    sqlx::query_scalar("select count(*) from jobs where kind = 'documents.process'")
        .fetch_one(&mut owner)
        .await
        .unwrap()
}

pub(crate) fn blob_files(app: &TestApp) -> usize {
    fn walk(dir: &Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum()
        })
    }
    walk(app.blobs.store().root())
}

#[tokio::test]
async fn a_digital_invoice_is_extracted_auto_approved_searchable_and_reprocessable() {
    let app = TestApp::spawn().await;
    let t = app.tenant("docs-digital").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Digital Client").await;
    let dir = tempfile::tempdir().unwrap();
    let doc = corpus(dir.path(), vec![DocType::Invoice], true, None).remove(0);
    let bytes = std::fs::read(&doc.path).unwrap();
    let uploaded = upload_one(&app, token, &c, "invoice.pdf", &bytes).await;
    assert_eq!(uploaded["status"], "uploaded");
    assert_eq!(uploaded["kind"], "pdf");
    let id = uploaded["id"].as_str().unwrap().to_owned();
    let work = worker(&app);

    let detail = processed(&app, token, &id).await;
    let d = &detail["document"];
    assert_eq!(d["doc_type"], "invoice", "{detail}");
    assert_eq!(misses(&detail, &doc.truth.fields), Vec::<String>::new(), "{detail}");
    assert_eq!(d["status"], "approved", "auto-approval refused: {}", d["review_reasons"]);
    assert_eq!(d["needs_review"], false);
    // Every field carries its confidence and the span of text it came from.
    for f in detail["fields"].as_array().unwrap() {
        assert!(f["confidence"].as_f64().unwrap() > 0.0, "{f}");
    }
    assert!(detail["fields"].as_array().unwrap().iter().any(|f| f["span_start"].is_i64()));
    // ... and where on the page it was read: a box on page 1 in fractions of the page.
    for f in detail["fields"].as_array().unwrap().iter().filter(|f| f["span_start"].is_i64()) {
        let r = &f["region"];
        assert_eq!(r["page"], 1, "{f}");
        let n = |k: &str| r[k].as_f64().unwrap_or(-1.0);
        assert!((0.0..=1.0).contains(&n("x")) && (0.0..=1.0).contains(&n("y")), "{f}");
        assert!(n("width") > 0.0 && n("height") > 0.0 && n("x") + n("width") <= 1.0 + 1e-4, "{f}");
    }
    assert!(d["step_timings"]["detect_ms"].is_number(), "{}", d["step_timings"]);
    let events: Vec<&str> =
        detail["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["uploaded", "processed"]);

    // Found by full text (its invoice number) and by filters; not in the review queue.
    let FieldValue::Text(number) = &doc.truth.fields["invoice_number"] else { panic!("invoice number") };
    let found = app.get(&format!("/v1/documents?q={number}&type=invoice&client_id={c}"), token).await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.value()["items"][0]["id"], id.as_str());
    let none = app.get("/v1/documents?q=nosuchwordanywhere", token).await.value();
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    // The year is the invoice's own (its date), not the upload's.
    let FieldValue::Date(issued) = &doc.truth.fields["invoice_date"] else { panic!("invoice date") };
    let year = issued.year();
    let filtered =
        app.get(&format!("/v1/documents?year={year}&status=approved&needs_review=false"), token).await;
    assert_eq!(filtered.value()["items"][0]["id"], id.as_str(), "{}", filtered.body);
    let upload_year = chrono::Utc::now().year();
    assert_ne!(upload_year, year, "the corpus dates its invoices in 2025");
    let by_upload = app.get(&format!("/v1/documents?year={upload_year}&type=invoice"), token).await.value();
    assert!(by_upload["items"].as_array().unwrap().iter().all(|d| d["id"] != id.as_str()), "{by_upload}");
    let other_year = app.get("/v1/documents?year=1999", token).await.value();
    assert_eq!(other_year["items"].as_array().unwrap().len(), 0);
    let bad_type = app.get("/v1/documents?type=novel", token).await;
    assert_eq!(bad_type.status, 422, "{}", bad_type.body);
    let queue = app.get("/v1/documents/review-queue", token).await.value();
    assert_eq!(queue["items"].as_array().unwrap().len(), 0);

    // A thumbnail of the first page.
    let thumb = app
        .http
        .get(app.url(&format!("/v1/documents/{id}/thumbnail")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(thumb.status(), 200);
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    assert!(thumb.bytes().await.unwrap().starts_with(b"\xff\xd8\xff"));

    // Re-processing runs the pipeline again to the same result.
    let r = app.post(&format!("/v1/documents/{id}/reprocess"), Some(token), &json!({})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let again = processed(&app, token, &id).await;
    assert_eq!(again["document"]["status"], "approved");
    assert_eq!(fields(&again), fields(&detail));
    work.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_scanned_receipt_is_read_by_tesseract() {
    let app = TestApp::spawn().await;
    let t = app.tenant("docs-scan").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Scan Client").await;
    let dir = tempfile::tempdir().unwrap();
    let doc = corpus(dir.path(), vec![DocType::Receipt], false, Some(ScanFormat::Png)).remove(0);
    let bytes = std::fs::read(&doc.path).unwrap();
    let id = upload_one(&app, token, &c, "receipt.png", &bytes).await["id"].as_str().unwrap().to_owned();
    let work = worker(&app);
    let detail = processed(&app, token, &id).await;
    let d = &detail["document"];
    assert_eq!(d["kind"], "png");
    assert_eq!(d["doc_type"], "receipt", "{detail}");
    assert!(d["step_timings"]["ocr_pages"] == 1, "{}", d["step_timings"]);
    assert!(d["step_timings"]["engine"].as_str().unwrap().starts_with("tesseract"));
    let got = fields(&detail);
    let FieldValue::Money(total) = doc.truth.fields["total"] else { panic!("total") };
    assert_eq!(got["total"]["value"], json!(FieldValue::Money(total)), "{detail}");
    work.shutdown(Duration::from_secs(5)).await;
}

/// A small valid PNG (a white page with a dark bar).
pub(crate) fn small_png() -> Vec<u8> {
    let mut img = image::GrayImage::from_pixel(120, 160, image::Luma([255]));
    for x in 10..110 {
        img.put_pixel(x, 40, image::Luma([0]));
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A receipt whose total is not subtotal + tax: a PDF with a text layer made here.
fn bad_arithmetic_receipt() -> Vec<u8> {
    receipt_pdf("30.00")
}

/// A one-page receipt (subtotal 20.00, tax 1.65) with the given total.
pub(crate) fn receipt_pdf(total: &str) -> Vec<u8> {
    use doc_corpus::render::{Font, Page};
    let mut page = Page::new(300.0, 500.0);
    let lines = [
        "CORNER MARKET".to_owned(),
        "12 Main Street, Springfield IL 62701".to_owned(),
        "Date: 03/14/2025   Time: 10:42".to_owned(),
        "Bread                      4.50".to_owned(),
        "Coffee                    15.50".to_owned(),
        "Subtotal                  20.00".to_owned(),
        "Tax                        1.65".to_owned(),
        format!("TOTAL                     {total}"),
        "VISA ****1234".to_owned(),
        "Thank you for shopping with us".to_owned(),
    ];
    for (i, line) in lines.iter().enumerate() {
        page.text(20.0, 470.0 - 20.0 * i as f32, 9.0, Font::Courier, line.as_str());
    }
    doc_corpus::render::write_pdf(&[page])
}

#[tokio::test]
async fn a_doubtful_document_waits_for_review_then_is_corrected_and_approved() {
    let app = TestApp::spawn().await;
    let t = app.tenant("docs-review").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Review Client").await;
    let id = upload_one(&app, token, &c, "receipt.pdf", &bad_arithmetic_receipt()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let work = worker(&app);
    let detail = processed(&app, token, &id).await;
    let d = &detail["document"];
    assert_eq!(d["status"], "needs_review", "{detail}");
    assert_eq!(d["needs_review"], true);
    let reasons = d["review_reasons"].as_array().unwrap();
    assert!(!reasons.is_empty());
    assert!(reasons.iter().all(|r| r["message"].as_str().is_some_and(|m| !m.is_empty())), "{reasons:?}");

    // The total's box is where it was printed: "30.00" at column 26 of a 9-pt Courier line
    // (5.4 pt a character) starting at x = 20, baseline y = 330, on a 300 × 500 pt page.
    let field = |detail: &serde_json::Value, key: &str| {
        detail["fields"].as_array().unwrap().iter().find(|f| f["key"] == key).cloned().unwrap()
    };
    let region = field(&detail, "total")["region"].clone();
    let n = |k: &str| region[k].as_f64().unwrap();
    assert_eq!(region["page"], 1, "{region}");
    assert!((n("x") - (20.0 + 26.0 * 5.4) / 300.0).abs() < 0.005, "{region}");
    assert!((n("width") - 5.0 * 5.4 / 300.0).abs() < 0.005, "{region}");
    let middle = n("y") + n("height") / 2.0;
    assert!(n("y") < 330.0 / 500.0 && (middle - 326.0 / 500.0).abs() < 0.01, "{region}");

    // In the review queue; the reviewer corrects the total (audited, an event), then approves.
    let queue = app.get("/v1/documents/review-queue", token).await.value();
    assert_eq!(queue["items"][0]["id"], id.as_str());
    let bad = app
        .request(
            reqwest::Method::PUT,
            &format!("/v1/documents/{id}/fields/total"),
            Some(token),
            Some(&json!({"value": "thirty"})),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let unknown = app
        .request(
            reqwest::Method::PUT,
            &format!("/v1/documents/{id}/fields/box1_wages"),
            Some(token),
            Some(&json!({"value": "1.00"})),
        )
        .await;
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    let fixed = app
        .request(
            reqwest::Method::PUT,
            &format!("/v1/documents/{id}/fields/total"),
            Some(token),
            Some(&json!({"value": "21.65"})),
        )
        .await;
    assert_eq!(fixed.status, 200, "{}", fixed.body);
    assert_eq!(fixed.value()["display"], "21.65");
    assert_eq!(fixed.value()["confidence"], 1.0);
    assert_eq!(fixed.value()["corrected_by"], t.owner.user_id.as_str());
    assert_eq!(fixed.value()["region"], region, "a corrected field keeps its box");
    let approved = app.post(&format!("/v1/documents/{id}/approve"), Some(token), &json!({})).await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert_eq!(approved.value()["status"], "approved");
    assert_eq!(approved.value()["approved_by"], t.owner.user_id.as_str());
    let detail = app.get(&format!("/v1/documents/{id}"), token).await.value();
    let events: Vec<&str> =
        detail["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["uploaded", "processed", "field_corrected", "approved"]);
    let queue = app.get("/v1/documents/review-queue", token).await.value();
    assert_eq!(queue["items"].as_array().unwrap().len(), 0);

    let mut owner = app.test_db.owner_conn().await;
    let actions: Vec<String> =
        sqlx::query_scalar("select action from audit_log where entity_id = $1 order by id")
            .bind(&id)
            .fetch_all(&mut owner)
            .await
            .unwrap();
    for action in ["document.upload", "document.field.correct", "document.approve"] {
        assert!(actions.iter().any(|a| a == action), "{action} not audited: {actions:?}");
    }
    work.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_duplicate_upload_is_linked_not_processed_again() {
    let app = TestApp::spawn().await;
    let t = app.tenant("docs-dup").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Dup Client").await;
    let pdf = bad_arithmetic_receipt();
    let first = upload_one(&app, token, &c, "a.pdf", &pdf).await;
    let second = upload_one(&app, token, &c, "copy-of-a.pdf", &pdf).await;
    assert_eq!(second["status"], "duplicate");
    assert_eq!(second["duplicate_of"], first["id"]);
    assert_eq!(document_jobs(&app).await, 1, "the duplicate got a pipeline job");
    assert_eq!(blob_files(&app), 1, "the same content is stored once");
}

#[tokio::test]
async fn bad_files_are_refused_by_name_and_nothing_is_stored() {
    let limits = documents::UploadLimits { max_bytes: 64 * 1024, ..documents::UploadLimits::default() };
    let app = TestApp::spawn_with(TestConfig { upload_limits: limits, ..TestConfig::default() }).await;
    let t = app.tenant("docs-bad").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Bad Files Client").await;
    let path = format!("/v1/clients/{c}/documents");
    let png = small_png();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage".to_vec(), 422, "file-corrupt"),
        ("scan.pdf", png.clone(), 422, "file-type-mismatch"),
        (
            "animation.gif",
            b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!".to_vec(),
            415,
            "unsupported-file-type",
        ),
        ("big.pdf", [b"%PDF-1.7\n".as_slice(), &vec![b' '; 100 * 1024]].concat(), 413, "file-too-large"),
        ("empty.pdf", Vec::new(), 422, "file-corrupt"),
    ];
    for (name, bytes, status, slug) in &cases {
        let r = upload_to(&app, token, &path, &[(name, bytes)], &[]).await;
        assert_eq!(r.status, *status, "{name}: {}", r.body);
        assert_eq!(r.problem_slug(), *slug, "{name}: {}", r.body);
        let problem = r.problem();
        assert_eq!(problem.errors[0].field, *name, "the problem names the file: {}", r.body);
    }

    // A zip bomb: 50 MB of zeros deflate to ~50 KB.
    let mut bomb = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    bomb.start_file("zeros.pdf", options).unwrap();
    for _ in 0..50 {
        bomb.write_all(&vec![0u8; 1024 * 1024]).unwrap();
    }
    let bomb = bomb.finish().unwrap().into_inner();
    let r = upload_to(&app, token, &format!("{path}/batch"), &[("bomb.zip", &bomb)], &[]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.problem_slug(), "zip-bomb");
    let r = upload_to(&app, token, &format!("{path}/batch"), &[("not.zip", &bad_arithmetic_receipt())], &[])
        .await;
    assert_eq!(r.problem_slug(), "bad-archive", "{}", r.body);
    // Not multipart at all.
    let r = app.post(&path, Some(token), &json!({"file": "x"})).await;
    assert_eq!(r.status, 415, "{}", r.body);

    let list = app.get("/v1/documents", token).await.value();
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    assert_eq!(document_jobs(&app).await, 0);
    assert_eq!(blob_files(&app), 0, "a refused file reached the blob store");
    let mut owner = app.test_db.owner_conn().await;
    let batches: i64 =
        sqlx::query_scalar("select count(*) from document_batches").fetch_one(&mut owner).await.unwrap();
    assert_eq!(batches, 0, "a request whose every file was refused left a batch");

    // In a mixed upload or zip, each file has its own result and only the good ones are kept.
    let good = bad_arithmetic_receipt();
    let r = upload_to(&app, token, &path, &[("good.pdf", &good), ("bad.gif", b"GIF89a......")], &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let files = r.value()["files"].clone();
    assert_eq!(files[0]["outcome"], "accepted");
    assert_eq!(files[1]["outcome"], "rejected");
    assert_eq!(files[1]["rejection"]["code"], "unsupported_type");
    // The request is one batch: the accepted file and the refused one are both counted.
    let batch = r.value()["batch_id"].as_str().unwrap().to_owned();
    assert_eq!(files[0]["document"]["batch_id"], batch.as_str());
    let progress = app.get(&format!("/v1/document-batches/{batch}"), token).await;
    assert_eq!(progress.status, 200, "{}", progress.body);
    let progress = progress.value();
    assert_eq!((progress["accepted"].as_i64(), progress["rejected"].as_i64()), (Some(1), Some(1)));
    assert_eq!(progress["counts"]["pending"], 1, "{progress}");
    assert!(progress["finished_at"].is_null(), "{progress}");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("receipt.png", options).unwrap();
    zip.write_all(&png).unwrap();
    zip.start_file("notes.gif", options).unwrap();
    zip.write_all(b"GIF89a......").unwrap();
    let zip = zip.finish().unwrap().into_inner();
    let r = upload_to(&app, token, &format!("{path}/batch"), &[("batch.zip", &zip)], &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let files = r.value()["files"].clone();
    assert_eq!(files.as_array().unwrap().len(), 2, "{files}");
    assert_eq!(files[1]["outcome"], "rejected", "{files}");
    assert_eq!(files[0]["outcome"], "accepted", "{files}");
    assert_eq!(app.get("/v1/documents", token).await.value()["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn portal_users_upload_to_and_see_only_their_own_client() {
    let app = TestApp::spawn().await;
    let t = app.tenant("docs-portal").await;
    let token = t.owner.token.as_str();
    let mine = client(&app, token, "Portal Client").await;
    let other = client(&app, token, "Other Client").await;
    let portal = app.member(&t, Role::Client).await;
    let r = app
        .post(&format!("/v1/clients/{mine}/portal-access"), Some(token), &json!({"user_id": portal.user_id}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let pdf = bad_arithmetic_receipt();
    let own = upload_one(&app, &portal.token, &mine, "mine.pdf", &pdf).await;
    assert_eq!(own["client_id"], mine.as_str());
    let r =
        upload_to(&app, &portal.token, &format!("/v1/clients/{other}/documents"), &[("x.pdf", &pdf)], &[])
            .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let theirs = upload_one(&app, token, &other, "theirs.pdf", &receipt_pdf("21.65")).await;
    let theirs = theirs["id"].as_str().unwrap();

    let seen = app.get("/v1/documents", &portal.token).await.value();
    let ids: Vec<&str> =
        seen["items"].as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [own["id"].as_str().unwrap()]);
    let filtered = app.get(&format!("/v1/documents?client_id={other}"), &portal.token).await.value();
    assert_eq!(filtered["items"].as_array().unwrap().len(), 0);
    let r = app.get(&format!("/v1/documents/{theirs}"), &portal.token).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = app.get(&format!("/v1/documents/{theirs}/thumbnail"), &portal.token).await;
    assert_eq!(r.status, 404, "{}", r.body);
    // Staff see both.
    assert_eq!(app.get("/v1/documents", token).await.value()["items"].as_array().unwrap().len(), 2);
}

fn sign(app: &TestApp, org: &str, id: &str, expires: i64) -> String {
    let key = app.keys.blind_index("documents.links", b"");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{org}:{id}:{expires}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn signed_links_open_the_file_until_they_expire_and_not_when_altered() {
    let app = TestApp::spawn().await;
    let t = app.tenant("docs-links").await;
    let token = t.owner.token.as_str();
    let c = client(&app, token, "Link Client").await;
    let pdf = receipt_pdf("21.65");
    let id = upload_one(&app, token, &c, "receipt.pdf", &pdf).await["id"].as_str().unwrap().to_owned();
    let link = app.post(&format!("/v1/documents/{id}/download-link"), Some(token), &json!({})).await;
    assert_eq!(link.status, 200, "{}", link.body);
    let url = link.value()["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&app.url("/v1/document-files/")), "{url}");

    // No credentials needed: the link is one.
    let r = app.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.bytes().await.unwrap().as_ref(), pdf.as_slice());

    let open = |path: String| {
        let app = &app;
        async move { app.request(reqwest::Method::GET, &path, None, None).await }
    };
    let tampered = format!("{}0", &url[..url.len() - 1]);
    let tampered = if tampered == url { format!("{}1", &url[..url.len() - 1]) } else { tampered };
    let r = open(tampered.trim_start_matches(&app.url("")).to_owned()).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.problem_slug(), "invalid-link");
    // A link signed with the right key: valid until its time, refused after.
    let org = &t.organization_id;
    let future = chrono::Utc::now().timestamp() + 60;
    let r = open(format!(
        "/v1/document-files/{id}?org={org}&expires={future}&sig={}",
        sign(&app, org, &id, future)
    ))
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let past = chrono::Utc::now().timestamp() - 1;
    let r =
        open(format!("/v1/document-files/{id}?org={org}&expires={past}&sig={}", sign(&app, org, &id, past)))
            .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.problem_slug(), "invalid-link");
    // Another document's id under this signature.
    let other = uuid::Uuid::now_v7();
    let r = open(format!(
        "/v1/document-files/{other}?org={org}&expires={future}&sig={}",
        sign(&app, org, &id, future)
    ))
    .await;
    assert_eq!(r.status, 403, "{}", r.body);
}

/// A client (portal) user sees their document's status and fields, never the firm's internal
/// review data: not the review queue, not why it was flagged, not the pipeline's timings or events.
#[tokio::test]
async fn portal_users_never_see_the_firms_review_data() {
    let app = TestApp::spawn().await;
    let t = app.tenant("docs-portal-review").await;
    let token = t.owner.token.as_str();
    let mine = client(&app, token, "Portal Client").await;
    let portal = app.member(&t, Role::Client).await;
    let r = app
        .post(&format!("/v1/clients/{mine}/portal-access"), Some(token), &json!({"user_id": portal.user_id}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = upload_one(&app, &portal.token, &mine, "mine.pdf", &bad_arithmetic_receipt()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let _work = worker(&app);
    let staff_view = processed(&app, token, &id).await;
    assert_eq!(staff_view["document"]["needs_review"], true, "{staff_view}");
    assert!(!staff_view["document"]["review_reasons"].as_array().unwrap().is_empty());
    assert!(!staff_view["events"].as_array().unwrap().is_empty());

    let queue = app.get("/v1/documents/review-queue", &portal.token).await;
    assert_eq!(queue.status, 403, "{}", queue.body);
    let theirs = app.get(&format!("/v1/documents/{id}"), &portal.token).await.value();
    let listed = app.get("/v1/documents", &portal.token).await.value();
    for d in [&theirs["document"], &listed["items"][0]] {
        assert_eq!(d["id"], id.as_str());
        assert_eq!(d["review_reasons"], json!([]), "{d}");
        assert_eq!(d["step_timings"], json!({}), "{d}");
        assert!(d["error"].is_null());
    }
    assert_eq!(theirs["events"], json!([]));
    assert!(!theirs["fields"].as_array().unwrap().is_empty(), "their fields are theirs to see");
}
