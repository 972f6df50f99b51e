//! QuickBooks faults, in every shape they come in:
//!
//! - JSON `{"Fault": {"Error": [{"Message", "Detail", "code", "element"}], "type": "ValidationFault"}}`,
//!   possibly with HTTP 200;
//! - JSON with lowercase keys (`fault.error[].message`, `type: "AUTHENTICATION"`) on some 401s;
//! - XML `<IntuitResponse><Fault type="..."><Error code="..."><Message/><Detail/></Error></Fault>`,
//!   which is how throttles (error 3001, `ThrottleExceeded`) arrive even to JSON clients.
//!
//! [`Fault::kind`] classifies by the fault type first and the code ranges second (1–499
//! authentication, 500–599 unsupported, 600–1999 general with 610 = not found, 2000–4999
//! validation, ≥ 10000 system).

use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use serde_json::Value;

/// One error inside a fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultError {
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
    pub element: Option<String>,
}

/// A parsed fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// `ValidationFault`, `SystemFault`, `AuthenticationFault`, `AuthorizationFault`, `SERVICE`, …
    pub fault_type: String,
    pub errors: Vec<FaultError>,
}

/// What a fault means for the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Rate limit reached: wait (60 s, says Intuit) and retry.
    Throttle,
    /// The access token was refused: refresh once, then reconnect.
    Authentication,
    /// The app may not do this in this company (403).
    Authorization,
    /// Object not found (610), including deleted or inactive references.
    NotFound,
    /// The request was wrong (2000–4999, bad query, …).
    Validation,
    /// Unsupported operation (500–599): a bad URL or entity name.
    Unsupported,
    /// Intuit's side failed (≥ 10000, `SystemFault`).
    System,
    Other,
}

impl Fault {
    pub fn first(&self) -> Option<&FaultError> {
        self.errors.first()
    }

    pub fn code(&self) -> Option<&str> {
        self.first().map(|e| e.code.as_str())
    }

    fn mentions(&self, needle: &str) -> bool {
        self.errors
            .iter()
            .any(|e| e.message.contains(needle) || e.detail.as_deref().is_some_and(|d| d.contains(needle)))
    }

    pub fn is_throttle(&self) -> bool {
        self.errors.iter().any(|e| e.code == "3001" || e.code == "003001")
            || self.mentions("ThrottleExceeded")
            || self.mentions("errorCode=003001")
    }

    pub fn kind(&self) -> FaultKind {
        if self.is_throttle() {
            return FaultKind::Throttle;
        }
        let fault_type = self.fault_type.to_ascii_lowercase();
        if fault_type.starts_with("authentication") {
            return FaultKind::Authentication;
        }
        if fault_type.starts_with("authorization") {
            return FaultKind::Authorization;
        }
        let code: Option<u32> = self.code().and_then(|c| c.trim().parse().ok());
        match code {
            Some(610) => FaultKind::NotFound,
            Some(1..=499) => FaultKind::Authentication,
            Some(500..=599) => FaultKind::Unsupported,
            Some(2000..=4999) => FaultKind::Validation,
            Some(10_000..) => FaultKind::System,
            _ if fault_type == "systemfault" => FaultKind::System,
            _ if fault_type == "validationfault" => FaultKind::Validation,
            _ => FaultKind::Other,
        }
    }

    /// A one-line summary for logs and sync history: `ValidationFault 610: Object Not Found (detail)`.
    pub fn summary(&self) -> String {
        match self.first() {
            Some(e) => match &e.detail {
                Some(detail) => format!("{} {}: {} ({detail})", self.fault_type, e.code, e.message),
                None => format!("{} {}: {}", self.fault_type, e.code, e.message),
            },
            None => self.fault_type.clone(),
        }
    }
}

/// Finds a fault in a response body of either format; `None` if the body holds none.
pub fn parse(body: &[u8]) -> Option<Fault> {
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    match body[start] {
        b'<' => parse_xml(&body[start..]),
        b'{' => serde_json::from_slice::<Value>(body).ok().and_then(|v| from_json(&v)),
        _ => None,
    }
}

fn get<'v>(object: &'v Value, key: &str) -> Option<&'v Value> {
    object.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads `Fault`/`fault` from a parsed JSON body.
pub fn from_json(body: &Value) -> Option<Fault> {
    let fault = get(body, "Fault")?;
    if fault.is_null() {
        return None;
    }
    let errors = match get(fault, "Error") {
        Some(Value::Array(errors)) => errors
            .iter()
            .map(|e| FaultError {
                code: text(get(e, "code")).unwrap_or_default(),
                message: text(get(e, "Message")).unwrap_or_default(),
                detail: text(get(e, "Detail")),
                element: text(get(e, "element")).filter(|s| !s.is_empty()),
            })
            .collect(),
        _ => Vec::new(),
    };
    Some(Fault { fault_type: text(get(fault, "type")).unwrap_or_default(), errors })
}

fn parse_xml(body: &[u8]) -> Option<Fault> {
    let mut reader = Reader::from_reader(body);
    let mut fault: Option<Fault> = None;
    let mut field: Option<&'static str> = None;
    // Appends text (or a resolved entity) to the message or detail being read.
    let append = |fault: &mut Option<Fault>, field: Option<&'static str>, text: &str| {
        let (Some(which), Some(error)) = (field, fault.as_mut().and_then(|f| f.errors.last_mut())) else {
            return;
        };
        match which {
            "message" => error.message.push_str(text),
            _ => error.detail.get_or_insert_with(String::new).push_str(text),
        }
    };
    loop {
        match reader.read_event().ok()? {
            Event::Start(tag) | Event::Empty(tag) => {
                let attribute = |name: &str| {
                    tag.attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == name)
                        .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok())
                        .map(|v| v.into_owned())
                };
                match tag.local_name().as_ref() {
                    "Fault" => {
                        fault = Some(Fault {
                            fault_type: attribute("type").unwrap_or_default(),
                            errors: Vec::new(),
                        })
                    }
                    "Error" => {
                        if let Some(fault) = fault.as_mut() {
                            fault.errors.push(FaultError {
                                code: attribute("code").unwrap_or_default(),
                                message: String::new(),
                                detail: None,
                                element: attribute("element"),
                            });
                        }
                    }
                    "Message" => field = Some("message"),
                    "Detail" => field = Some("detail"),
                    _ => field = None,
                }
            }
            Event::Text(content) => append(&mut fault, field, &content.xml10_content()),
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().ok()? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&reference.xml10_content())
                        .unwrap_or_default()
                        .to_owned(),
                };
                append(&mut fault, field, &resolved);
            }
            Event::End(_) => field = None,
            Event::Eof => break,
            _ => {}
        }
    }
    fault
}

#[cfg(test)]
mod tests;
