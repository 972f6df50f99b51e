use super::*;

fn fixture(name: &str) -> &'static [u8] {
    match name {
        "throttle.xml" => include_bytes!("../../tests/fixtures/faults/throttle.xml"),
        "validation.json" => include_bytes!("../../tests/fixtures/faults/validation.json"),
        "auth_lowercase.json" => include_bytes!("../../tests/fixtures/faults/auth_lowercase.json"),
        "auth.xml" => include_bytes!("../../tests/fixtures/faults/auth.xml"),
        "system.xml" => include_bytes!("../../tests/fixtures/faults/system.xml"),
        other => panic!("no fixture {other}"),
    }
}

#[test]
fn throttle_in_xml_is_a_throttle() {
    let fault = parse(fixture("throttle.xml")).expect("a fault");
    assert_eq!(fault.fault_type, "SERVICE");
    assert_eq!(fault.code(), Some("3001"));
    assert_eq!(
        fault.first().map(|e| e.message.as_str()),
        Some("message=ThrottleExceeded; errorCode=003001; statusCode=429")
    );
    assert_eq!(
        fault.first().and_then(|e| e.detail.as_deref()),
        Some("The request limit was reached.  Try again later")
    );
    assert_eq!(fault.kind(), FaultKind::Throttle);
}

#[test]
fn documented_json_fault_is_a_validation_fault() {
    let fault = parse(fixture("validation.json")).expect("a fault");
    assert_eq!(fault.fault_type, "ValidationFault");
    assert_eq!(fault.code(), Some("6000"));
    assert_eq!(fault.first().and_then(|e| e.element.clone()), None, "empty element is no element");
    assert_eq!(fault.kind(), FaultKind::Validation);
    assert!(fault.summary().starts_with("ValidationFault 6000: A business validation error"));
}

#[test]
fn lowercase_and_xml_authentication_faults() {
    let lower = parse(fixture("auth_lowercase.json")).expect("a fault");
    assert_eq!(lower.fault_type, "AUTHENTICATION");
    assert_eq!(lower.code(), Some("3200"));
    assert_eq!(lower.first().and_then(|e| e.detail.as_deref()), Some("Token expired: eyJ..."));
    assert_eq!(lower.kind(), FaultKind::Authentication);

    let xml = parse(fixture("auth.xml")).expect("a fault");
    assert_eq!(xml.fault_type, "AuthenticationFault");
    assert_eq!(xml.code(), Some("100"));
    assert_eq!(xml.first().map(|e| e.message.as_str()), Some("General Authentication Error"));
    assert_eq!(xml.kind(), FaultKind::Authentication);
}

#[test]
fn system_fault_keeps_its_escaped_detail() {
    let fault = parse(fixture("system.xml")).expect("a fault");
    assert_eq!(fault.kind(), FaultKind::System);
    let detail = fault.first().and_then(|e| e.detail.clone()).expect("a detail");
    assert!(detail.starts_with("System Failure Error: Something you're trying"), "{detail}");
}

#[test]
fn codes_classify_when_the_type_does_not() {
    let with = |code: &str, fault_type: &str| Fault {
        fault_type: fault_type.into(),
        errors: vec![FaultError { code: code.into(), message: "m".into(), detail: None, element: None }],
    };
    assert_eq!(with("610", "ValidationFault").kind(), FaultKind::NotFound);
    assert_eq!(with("500", "ValidationFault").kind(), FaultKind::Unsupported);
    assert_eq!(with("120", "").kind(), FaultKind::Authentication);
    assert_eq!(with("10000", "").kind(), FaultKind::System);
    assert_eq!(with("3100", "AuthorizationFault").kind(), FaultKind::Authorization);
    assert_eq!(with("003001", "").kind(), FaultKind::Throttle);
}

#[test]
fn bodies_without_faults_are_not_faults() {
    assert_eq!(parse(br#"{"QueryResponse":{},"time":"2024-03-05T10:11:12.345-08:00"}"#), None);
    assert_eq!(parse(b"<html><body>502 Bad Gateway</body></html>"), None);
    assert_eq!(parse(b"Service Unavailable"), None);
    assert_eq!(parse(b""), None);
    assert_eq!(parse(br#"{"Fault":null}"#), None);
}
