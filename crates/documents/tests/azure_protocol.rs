//! The Azure analyze protocol against a local stand-in (tests/support): an HTTP server on
//! 127.0.0.1 that replays recorded exchanges (tests/fixtures/azure) or scripted failures, checks
//! what the client sends and logs every request, driven through the [`OcrEngine`] trait.

// A failed unwrap in a helper is a failed test, with its location.
#![allow(clippy::unwrap_used)]

mod support;

use std::str::FromStr;
use std::time::Duration;

use axum::http::Method;
use documents::fields::{DocType, FieldValue};
use documents::kind::FileKind;
use documents::ocr::azure::{
    ApiVersion, AzureClient, AzureConfig, AzureEngine, AzureError, AzureGate, GateLimits,
};
use documents::ocr::{OcrEngine, OcrError, OcrOutput, OcrRequest};
use rust_decimal::Decimal;
use secrecy::SecretString;
use support::{DOCUMENT, KEY, SUCCEEDED_LAYOUT, StandIn, accepted, reply};

async fn recognize(engine: &AzureEngine, hint: Option<DocType>) -> Result<OcrOutput, OcrError> {
    let engine: &dyn OcrEngine = engine;
    engine.recognize(OcrRequest { bytes: DOCUMENT, kind: FileKind::Png, pages: &[], hint }).await
}

fn azure(result: Result<OcrOutput, OcrError>) -> AzureError {
    match result {
        Err(OcrError::Azure(e)) => e,
        other => panic!("expected an Azure error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_w2_takes_one_analyze_call_and_the_recorded_polls_and_gives_the_recorded_fields() {
    let stand_in = StandIn::start().await;
    stand_in.replay("2023-07-31/prebuilt-w2-png");
    let engine = stand_in.engine(ApiVersion::V2023_07_31, |_| {});

    let output = recognize(&engine, Some(DocType::W2)).await.expect("analysis succeeds");

    let posts = stand_in.seen(Method::POST);
    assert_eq!(posts.len(), 1, "one provider call per document");
    let post = &posts[0];
    assert_eq!(post.path, "/formrecognizer/documentModels/prebuilt-tax.us.w2:analyze");
    assert!(post.query.split('&').any(|p| p == "api-version=2023-07-31"), "{}", post.query);
    assert_eq!(post.key.as_deref(), Some(KEY));
    assert_eq!(post.body, DOCUMENT);
    let gets = stand_in.seen(Method::GET);
    assert_eq!(gets.len(), 3, "two running polls, then succeeded");
    for get in &gets {
        assert_eq!(
            get.path,
            "/formrecognizer/documentModels/prebuilt-tax.us.w2/analyzeResults/b656421e-b07a-4cc7-ab3d-bb99670911a4"
        );
        assert_eq!(get.query, "api-version=2023-07-31");
        assert_eq!(get.key.as_deref(), Some(KEY));
    }

    assert_eq!(
        (output.engine.name.as_str(), output.engine.version.as_str()),
        ("azure-docintel", "2023-07-31/prebuilt-tax.us.w2")
    );
    assert_eq!(output.pages.len(), 1);
    assert_eq!(output.pages[0].words.len(), 209);
    let provider = output.provider.expect("the W-2 model's fields");
    assert_eq!(provider.doc_type, DocType::W2);
    let wages = provider.fields.iter().find(|f| f.key == "box1_wages").expect("box 1");
    assert_eq!(wages.value, FieldValue::Money(Decimal::from_str("37160.56").unwrap()));
}

#[tokio::test]
async fn each_poll_waits_at_least_the_retry_after_the_service_asked_for() {
    let stand_in = StandIn::start().await;
    stand_in.replay("2024-11-30/layout-url-barcodes-polling");
    let engine = stand_in.engine(ApiVersion::V2024_11_30, |_| {});

    let output = recognize(&engine, None).await.expect("analysis succeeds");

    assert_eq!(stand_in.seen(Method::POST).len(), 1);
    assert_eq!(
        stand_in.seen(Method::POST)[0].path,
        "/documentintelligence/documentModels/prebuilt-layout:analyze"
    );
    let gets = stand_in.seen(Method::GET);
    assert_eq!(gets.len(), 4, "three running polls, then succeeded");
    // The three running answers each said `Retry-After: 1`; without it the client would poll
    // every 5 ms. A sleep never ends early, so this lower bound cannot flake.
    for pair in gets.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_secs(1), "polled again after {gap:?}");
    }
    assert_eq!(output.engine.version, "2024-11-30/prebuilt-layout");
    assert_eq!(output.pages[0].words.len(), 240);
    assert!(output.provider.is_none());
}

#[tokio::test]
async fn a_429_is_retried_after_its_wait_and_then_succeeds() {
    let stand_in = StandIn::start().await;
    let throttled = r#"{"error":{"code":"429","message":"Requests to the Analyze Document operation have exceeded rate limit."}}"#;
    // 2 s: longer than the client's own backoff (1 s), so only a honoured header explains the gap.
    stand_in.push("POST", reply(429, &[("Retry-After", "2")], Some(throttled)));
    stand_in.push("POST", accepted(&stand_in));
    stand_in.push("GET", reply(200, &[], Some(SUCCEEDED_LAYOUT)));
    let engine = stand_in.engine(ApiVersion::V2023_07_31, |_| {});

    let output = recognize(&engine, None).await.expect("succeeds after the 429");

    let posts = stand_in.seen(Method::POST);
    assert_eq!(posts.len(), 2);
    assert!(posts[1].at - posts[0].at >= Duration::from_secs(2), "the 429's Retry-After was honoured");
    assert_eq!(stand_in.seen(Method::GET).len(), 1);
    assert_eq!(output.pages[0].words[0].text, "Total");
}

#[tokio::test]
async fn server_errors_beyond_max_attempts_fail_as_a_server_error() {
    let stand_in = StandIn::start().await;
    let body = r#"{"error":{"code":"InternalServerError","message":"An unexpected error occurred."}}"#;
    stand_in.push("POST", reply(503, &[("retry-after-ms", "10")], Some(body)));
    let engine = stand_in.engine(ApiVersion::V2023_07_31, |c| c.max_attempts = 3);

    let error = azure(recognize(&engine, None).await);

    match &error {
        AzureError::Server { status: 503, message } => assert_eq!(message, "An unexpected error occurred."),
        other => panic!("expected a 503 server error, got {other:?}"),
    }
    assert!(error.is_transient(), "the job queue may try the document again later");
    assert_eq!(stand_in.seen(Method::POST).len(), 3, "max_attempts submits, no more");
    assert!(stand_in.seen(Method::GET).is_empty());
}

#[tokio::test]
async fn a_failed_analysis_maps_to_analysis_failed() {
    let stand_in = StandIn::start().await;
    stand_in.push("POST", accepted(&stand_in));
    stand_in.push("GET", reply(200, &[], Some(r#"{"status":"running"}"#)));
    // The error of a failed operation, as the service reports a corrupt file (the body of
    // 2024-11-30/layout-invalid-content-400).
    let failed = r#"{"status":"failed","error":{"code":"InvalidRequest","message":"Invalid request.","innererror":{"code":"InvalidContent","message":"The file is corrupted or format is unsupported. Refer to documentation for the list of supported formats."}}}"#;
    stand_in.push("GET", reply(200, &[], Some(failed)));
    let engine = stand_in.engine(ApiVersion::V2023_07_31, |_| {});

    let error = azure(recognize(&engine, None).await);

    match &error {
        AzureError::AnalysisFailed { code, inner, message } => {
            assert_eq!((code.as_str(), inner.as_deref()), ("InvalidRequest", Some("InvalidContent")));
            assert!(message.starts_with("The file is corrupted"), "{message}");
        }
        other => panic!("expected AnalysisFailed, got {other:?}"),
    }
    assert!(!error.is_transient());
    assert_eq!((stand_in.seen(Method::POST).len(), stand_in.seen(Method::GET).len()), (1, 2));
}

#[tokio::test]
async fn a_wrong_key_is_not_retried() {
    let stand_in = StandIn::start().await;
    stand_in.replay("2023-02-28-preview/authentication-bad-key-401");
    let engine = stand_in.engine(ApiVersion::V2023_07_31, |c| c.max_attempts = 6);

    let error = azure(recognize(&engine, Some(DocType::Receipt)).await);

    assert!(matches!(&error, AzureError::Unauthorized { code, .. } if code == "401"), "{error:?}");
    assert!(!error.is_transient());
    assert_eq!(stand_in.seen(Method::POST).len(), 1, "a bad key is not tried again");
    assert!(stand_in.seen(Method::GET).is_empty());
}

/// Azure's answer when the resource's call volume quota is used up (the F0 tier's monthly
/// pages; azure-sdk-for-python#20042 and its tests): a 403, or sometimes a 429, with a
/// `Retry-After` of days.
fn out_of_quota(status: u16) -> support::Reply {
    let body = format!(
        r#"{{"error":{{"code":"{status}","message":"Out of call volume quota for FormRecognizer F0 pricing tier. Please retry after 1 day. To increase your call volume switch to a paid tier."}}}}"#
    );
    reply(status, &[("Retry-After", "186688")], Some(&body))
}

#[tokio::test]
async fn an_exhausted_quota_fails_at_once_with_its_wait_and_does_not_open_the_breaker() {
    let stand_in = StandIn::start().await;
    stand_in.push("POST", out_of_quota(403));
    let engine = stand_in.engine(ApiVersion::V2023_07_31, |c| c.max_attempts = 6);

    // More calls than the breaker's minimum (5): were quota errors failures, the last would be
    // refused without reaching the server.
    for call in 1..=6 {
        let error = azure(recognize(&engine, None).await);
        match &error {
            AzureError::QuotaExhausted { message, retry_after } => {
                assert!(message.starts_with("Out of call volume quota"), "{message}");
                assert_eq!(*retry_after, Some(Duration::from_secs(186_688)), "the wait is reported");
            }
            other => panic!("expected QuotaExhausted, got {other:?}"),
        }
        assert!(!error.is_transient(), "waiting days is not a retry: the document's job fails");
        assert_eq!(stand_in.seen(Method::POST).len(), call, "one submit per call, never retried");
    }
    assert!(stand_in.seen(Method::GET).is_empty());
}

#[tokio::test]
async fn a_429_that_says_the_quota_is_used_up_is_not_retried_like_a_rate_limit() {
    let stand_in = StandIn::start().await;
    stand_in.push("POST", out_of_quota(429));
    let engine = stand_in.engine(ApiVersion::V2024_11_30, |c| c.max_attempts = 6);

    let error = azure(recognize(&engine, None).await);

    assert!(matches!(error, AzureError::QuotaExhausted { .. }), "{error:?}");
    assert_eq!(stand_in.seen(Method::POST).len(), 1, "not slept on, not resubmitted");
}

#[test]
fn an_https_endpoint_is_refused_at_construction_when_tls_is_not_built_in() {
    let endpoint = "https://example.cognitiveservices.azure.com";
    let gate = AzureGate::in_process(endpoint, GateLimits::default());
    let config = AzureConfig::new(endpoint, SecretString::from(KEY), ApiVersion::V2024_11_30);
    // `cargo test -p documents` builds without TLS; a workspace build has it through the
    // countinghouse binary's default `tls` feature.
    match (AzureClient::new(config, gate), documents::ocr::azure::TLS) {
        (Ok(_), true) => {}
        (Err(error @ AzureError::TlsNotBuilt { .. }), false) => {
            let message = error.to_string();
            assert!(message.contains(endpoint) && message.contains("`tls` feature"), "{message}");
        }
        (other, tls) => panic!("with TLS built in: {tls}, got {:?}", other.err()),
    }
}
