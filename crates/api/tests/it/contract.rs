//! The OpenAPI document describes exactly what the server does. Every operation in the served
//! document is called — without credentials, with unreadable input, with ids that do not exist,
//! and with the real ids of a seeded firm — and every answer's status must be documented for that
//! operation, its content type must be the documented one, and its body must validate against the
//! documented schema. A change to a handler that the annotations do not follow fails here.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};
use testkit::TestApp;

/// One call's outcome, checked against the operation's documented responses.
struct Checker {
    doc: Value,
    checked: usize,
    statuses: BTreeMap<u16, usize>,
}

impl Checker {
    fn schema_validator(&self, schema: &Value) -> jsonschema::Validator {
        // Resolve `#/components/...` references against the document itself.
        let root = json!({"allOf": [schema], "components": self.doc["components"]});
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&root)
            .unwrap_or_else(|e| panic!("a documented schema compiles: {e}: {schema}"))
    }

    fn check(&mut self, call: &str, op: &Value, status: u16, content_type: Option<&str>, body: &[u8]) {
        let documented = &op["responses"][status.to_string()];
        assert!(
            documented.is_object(),
            "{call}: answered {status}, which the document does not list ({}); body: {}",
            op["responses"].as_object().unwrap().keys().cloned().collect::<Vec<_>>().join(", "),
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
        let content = documented["content"].as_object();
        match content.filter(|c| !c.is_empty()) {
            None => assert!(body.is_empty(), "{call}: {status} is documented without a body but has one"),
            Some(content) => {
                let ct = content_type.unwrap_or("").split(';').next().unwrap_or("").trim();
                let media = content.get(ct).unwrap_or_else(|| {
                    panic!(
                        "{call}: {status} answered `{ct}`, documented as {:?}",
                        content.keys().collect::<Vec<_>>()
                    )
                });
                if ct.ends_with("json") {
                    let value: Value = serde_json::from_slice(body)
                        .unwrap_or_else(|e| panic!("{call}: {status} body is not JSON ({e})"));
                    let schema =
                        media.get("schema").unwrap_or_else(|| panic!("{call}: {status} has no schema"));
                    let validator = self.schema_validator(schema);
                    let errors: Vec<String> = validator
                        .iter_errors(&value)
                        .map(|e| format!("{e} at {}", e.instance_path))
                        .collect();
                    assert!(
                        errors.is_empty(),
                        "{call}: {status} body does not match its schema: {errors:?}\n{value}"
                    );
                }
                if status >= 400 {
                    assert_eq!(ct, "application/problem+json", "{call}: errors are problem+json");
                }
            }
        }
        self.checked += 1;
        *self.statuses.entry(status).or_default() += 1;
    }
}

async fn call(
    app: &TestApp,
    method: &Method,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
) -> (u16, Option<String>, Vec<u8>) {
    let mut req = app.http.request(method.clone(), app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some((ct, bytes)) = body {
        req = req.header("content-type", ct).body(bytes);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    (status, ct, resp.bytes().await.unwrap().to_vec())
}

/// The path with its parameters filled: by `ids` where the segment before names a seeded entity,
/// else with a fresh id (or a word, for parameters that are not ids).
fn fill(path: &str, op: &Value, ids: &BTreeMap<&str, String>, real: bool) -> String {
    let mut out = Vec::new();
    let mut previous = "";
    for segment in path.split('/') {
        let filled = match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            None => segment.to_owned(),
            Some(name) => {
                let param = op["parameters"].as_array().into_iter().flatten().find(|p| p["name"] == name);
                let is_id =
                    param.is_some_and(|p| p["schema"]["format"] == "uuid" || p["schema"]["$ref"].is_string());
                match ids.get(previous) {
                    Some(id) if real => id.clone(),
                    _ if is_id => uuid::Uuid::new_v4().to_string(),
                    _ => "contract".to_owned(),
                }
            }
        };
        previous = segment;
        out.push(filled);
    }
    out.join("/")
}

#[tokio::test]
async fn every_operation_answers_as_documented() {
    let app = TestApp::spawn().await;
    let t = app.tenant("acme").await;
    let token = t.owner.token.clone();
    let platform = app.tenant(testkit::PLATFORM_SLUG).await.owner.token;
    let doc = app.get("/openapi.json", &token).await.value();

    // A firm with one of each thing, so real ids reach the success paths.
    let client = app.post("/v1/clients", Some(&token), &json!({"business_name": "Birch LLC"})).await.value();
    let c = client["id"].as_str().unwrap().to_owned();
    let engagement = app
        .post(
            "/v1/engagements",
            Some(&token),
            &json!({"client_id": c, "name": "2026 return", "engagement_type": "tax_preparation"}),
        )
        .await;
    assert_eq!(engagement.status, 201, "{}", engagement.body);
    let lines = json!([{"description": "Books", "quantity": "1", "unit_price": "100.00"}]);
    let invoice =
        app.post("/v1/invoices", Some(&token), &json!({"client_id": c, "lines": lines})).await.value();
    let note = app
        .post(&format!("/v1/clients/{c}/notes"), Some(&token), &json!({"body": "Called about the K-1"}))
        .await;
    assert_eq!(note.status, 201, "{}", note.body);
    let entry = app
        .post(
            "/v1/time-entries",
            Some(&token),
            &json!({"engagement_id": engagement.value()["id"], "minutes": 30,
                    "started_at": (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339()}),
        )
        .await;
    assert_eq!(entry.status, 201, "{}", entry.body);
    let member = app.get("/v1/members", &token).await.value()["items"][0]["id"].as_str().unwrap().to_owned();
    // An upload with one accepted and one refused file; its answer is checked like any other.
    let upload_op = &doc["paths"]["/v1/clients/{id}/documents"]["post"];
    let files: [(&str, &[u8]); 2] = [("page.png", &crate::documents::small_png()), ("empty.pdf", b"")];
    let upload =
        crate::documents::upload_to(&app, &token, &format!("/v1/clients/{c}/documents"), &files, &[]).await;
    let content_type = upload.headers.get("content-type").map(|v| v.to_str().unwrap());
    let mut checker = Checker { doc: doc.clone(), checked: 0, statuses: BTreeMap::new() };
    checker.check(
        "POST /v1/clients/{id}/documents (seeding)",
        upload_op,
        upload.status,
        content_type,
        upload.body.as_bytes(),
    );
    assert_eq!(upload.status, 201, "{}", upload.body);
    let uploaded = upload.value();
    assert_eq!(uploaded["files"][1]["outcome"], "rejected", "{uploaded}");
    let document = uploaded["files"][0]["document"]["id"].as_str().unwrap().to_owned();
    let ids: BTreeMap<&str, String> = BTreeMap::from([
        ("clients", c.clone()),
        ("engagements", engagement.value()["id"].as_str().unwrap().to_owned()),
        ("invoices", invoice["id"].as_str().unwrap().to_owned()),
        ("notes", note.value()["id"].as_str().unwrap().to_owned()),
        ("members", member),
        ("time-entries", entry.value()["id"].as_str().unwrap().to_owned()),
        ("documents", uploaded["files"][0]["document"]["id"].as_str().unwrap().to_owned()),
        ("document-batches", uploaded["batch_id"].as_str().unwrap().to_owned()),
        ("vendor-memories", crate::tenancy::insert_vendor_memory(&app, &t, &document).await),
    ]);

    let mut operations: Vec<(String, Method, Value)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Ok(m) = Method::from_bytes(method.to_uppercase().as_bytes())
                && op.get("responses").is_some()
            {
                operations.push((path.clone(), m, op.clone()));
            }
        }
    }
    // Deleting removes what later calls read, and signing out ends the session they use: last.
    operations
        .sort_by_key(|(path, m, _)| (path == "/v1/sessions/current", m == Method::DELETE, path.clone()));
    assert!(operations.len() >= 100, "the document lists every operation ({})", operations.len());

    for (path, method, op) in &operations {
        let token = if path.starts_with("/v1/admin") || path.starts_with("/v1/marketplace/admin") {
            &platform
        } else {
            &token
        };
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        let body_types: Vec<String> =
            op["requestBody"]["content"].as_object().map(|c| c.keys().cloned().collect()).unwrap_or_default();
        let json_body = body_types.iter().any(|t| t == "application/json");
        let empty_body = || -> Option<(&str, Vec<u8>)> {
            if json_body { Some(("application/json", b"{}".to_vec())) } else { None }
        };
        let name = |kind: &str| format!("{method} {path} ({kind})");

        if secured {
            let (s, ct, b) = call(&app, method, &fill(path, op, &ids, false), None, empty_body()).await;
            assert_eq!(s, 401, "{}", name("no credentials"));
            checker.check(&name("no credentials"), op, s, ct.as_deref(), &b);
        }
        if !body_types.is_empty() {
            let unreadable = if json_body {
                ("application/json", b"{,".to_vec())
            } else {
                ("application/json", b"{}".to_vec())
            };
            let (s, ct, b) =
                call(&app, method, &fill(path, op, &ids, true), Some(token), Some(unreadable)).await;
            checker.check(&name("unreadable body"), op, s, ct.as_deref(), &b);
            let (s, ct, b) = call(
                &app,
                method,
                &fill(path, op, &ids, true),
                Some(token),
                Some(("text/plain", b"x".to_vec())),
            )
            .await;
            checker.check(&name("wrong media type"), op, s, ct.as_deref(), &b);
        }
        if path.contains('{') {
            let (s, ct, b) =
                call(&app, method, &fill(path, op, &ids, false), Some(token), empty_body()).await;
            checker.check(&name("unknown ids"), op, s, ct.as_deref(), &b);
        }
        if path.contains("{") || *method == Method::GET || json_body {
            let (s, ct, b) = call(&app, method, &fill(path, op, &ids, true), Some(token), empty_body()).await;
            checker.check(&name("seeded firm"), op, s, ct.as_deref(), &b);
        }
        if op["parameters"].as_array().is_some_and(|ps| ps.iter().any(|p| p["name"] == "limit")) {
            let limited = format!("{}?limit=0", fill(path, op, &ids, true));
            let (s, ct, b) = call(&app, method, &limited, Some(token), None).await;
            let other_required = op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["in"] == "query" && p["required"] == true);
            assert!(s == 422 || s == 403 || other_required, "{}: {s}", name("limit=0"));
            checker.check(&name("limit=0"), op, s, ct.as_deref(), &b);
        }
    }
    // The calls reached both the success and the refusal paths of the document.
    let successes: usize = checker.statuses.range(200..300).map(|(_, n)| n).sum();
    assert!(successes >= 40, "success paths were reached: {:?}", checker.statuses);
    for status in [400, 401, 404, 415, 422] {
        assert!(checker.statuses.contains_key(&status), "{status} was exercised: {:?}", checker.statuses);
    }
    eprintln!("{} answers checked: {:?}", checker.checked, checker.statuses);
}

/// What the document itself promises: every reference resolves, every error is problem+json,
/// and bodies and multipart forms are typed.
#[tokio::test]
async fn the_document_is_complete() {
    let doc = api::openapi();
    let text = doc.to_string();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &r[..r.find('"').unwrap()];
        assert!(schemas.contains_key(name), "dangling reference to {name}");
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().into_iter().flatten() {
                for (ct, media) in response["content"].as_object().into_iter().flatten() {
                    let here = format!("{method} {path} {status} {ct}");
                    if status.starts_with('4') || status.starts_with('5') {
                        assert_eq!(ct, "application/problem+json", "{here}");
                    }
                    if ct.contains("json") {
                        let schema = &media["schema"];
                        assert!(
                            schema.get("$ref").is_some()
                                || schema.get("type").is_some()
                                || schema.get("oneOf").is_some(),
                            "{here}: an untyped body: {schema}"
                        );
                    }
                }
            }
            if let Some(form) = op["requestBody"]["content"].get("multipart/form-data") {
                assert_eq!(
                    form["schema"]["type"], "object",
                    "{method} {path}: the form's parts are described"
                );
            }
        }
    }
}
