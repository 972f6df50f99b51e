//! The accounting API under `/v3/company/{realm}`: query (GET `query=` and POST `application/text`),
//! CDC, reads by id and `companyinfo`. `minorversion` and `format` are accepted on all of them.
//!
//! Each request first passes the gate, in the order Intuit's edge would apply it: the realm's
//! limits (429), injected throttles and 5xx, injected latency, then the bearer token (401/403).
//! Data always comes back as JSON; faults come as JSON when the client accepts JSON and as XML
//! otherwise, except throttles, which are XML always, as on the real service.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Duration as TimeSpan;
use rand::Rng;

use crate::eval::{self, Outcome, parse_time};
use crate::grants::AccessError;
use crate::meter::{self, Admission, InFlight};
use crate::model::EntityType;
use crate::query::{self, QueryError};
use crate::render::{self, CdcSection, FaultError};
use crate::state::AppState;

/// CDC looks back at most this far.
const CDC_LOOKBACK_DAYS: i64 = 30;
/// CDC answers with at most this many objects, all entity types together.
const CDC_MAX_OBJECTS: usize = 1_000;

type Params = Query<HashMap<String, String>>;

fn with_headers(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(tid) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert("intuit_tid", tid);
    }
    headers.insert("QBO-Version", HeaderValue::from_static("1951.123 (sandbox)"));
    response
}

fn json(body: Vec<u8>) -> Response {
    with_headers(StatusCode::OK, "application/json;charset=UTF-8", body)
}

/// An admitted request: holds the realm's in-flight slot until the response is built.
struct Gate {
    state: AppState,
    realm: String,
    wants_json: bool,
    _in_flight: InFlight,
}

impl Gate {
    fn fault(&self, status: StatusCode, fault_type: &str, error: FaultError) -> Response {
        self.state.meter.record(&self.realm, meter::Outcome::OtherError);
        let time = self.state.clock.now();
        if self.wants_json {
            with_headers(
                status,
                "application/json;charset=UTF-8",
                render::fault_json(fault_type, &error, time),
            )
        } else {
            with_headers(status, "application/xml;charset=UTF-8", render::fault_xml(fault_type, &error, time))
        }
    }

    fn ok(&self, body: Vec<u8>) -> Response {
        self.state.meter.record(&self.realm, meter::Outcome::Succeeded);
        json(body)
    }

    fn validation(&self, code: &str, message: &str, detail: impl Into<String>) -> Response {
        self.fault(StatusCode::BAD_REQUEST, "ValidationFault", FaultError::new(code, message, detail))
    }
}

fn throttled(state: &AppState) -> Response {
    with_headers(
        StatusCode::TOO_MANY_REQUESTS,
        "application/xml;charset=UTF-8",
        render::throttle_xml(state.clock.now()),
    )
}

/// A realistic server failure: a JSON SystemFault, a bare 502 page, or a 503.
fn server_error(state: &AppState) -> Response {
    let time = state.clock.now();
    match state.rng().random_range(0..3) {
        0 => {
            let error = FaultError::new(
                "10000",
                "An application error has occurred while processing your request",
                "System Failure Error: An unexpected error occurred while accessing or saving your data.",
            );
            with_headers(
                StatusCode::INTERNAL_SERVER_ERROR,
                "application/json;charset=UTF-8",
                render::fault_json("SystemFault", &error, time),
            )
        }
        1 => with_headers(
            StatusCode::BAD_GATEWAY,
            "text/html",
            b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
        ),
        _ => with_headers(StatusCode::SERVICE_UNAVAILABLE, "text/plain", b"Service Unavailable".to_vec()),
    }
}

async fn admit(
    state: AppState,
    realm: &str,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<Gate, Response> {
    let in_flight = match state.meter.arrive(realm, state.limits) {
        Admission::Admitted(slot) => slot,
        Admission::Throttled => return Err(throttled(&state)),
    };
    let faults = state.faults();
    if state.roll(faults.throttle_rate) {
        state.meter.record(realm, meter::Outcome::ThrottledInjected);
        return Err(throttled(&state));
    }
    if state.roll(faults.server_error_rate) {
        state.meter.record(realm, meter::Outcome::ServerErrorInjected);
        return Err(server_error(&state));
    }
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let wants_json =
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("json"))
            || params.get("format").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let gate = Gate { state: state.clone(), realm: realm.to_owned(), wants_json, _in_flight: in_flight };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let checked = match token {
        Some(token) => state.tokens().check_access(token, realm),
        None => Err(AccessError::Unknown),
    };
    let time = state.clock.now();
    match checked {
        Ok(()) if state.company(realm).is_some() => Ok(gate),
        Ok(()) | Err(AccessError::OtherRealm) => Err(gate.fault(
            StatusCode::FORBIDDEN,
            "AuthorizationFault",
            FaultError::new(
                "3100",
                "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                format!("The application is not authorized to access company {realm}"),
            ),
        )),
        Err(AccessError::Expired | AccessError::Revoked) => {
            state.meter.record(realm, meter::Outcome::Unauthorized);
            let error = FaultError::new(
                "3200",
                "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                "Token expired: the access token is no longer valid",
            );
            Err(with_headers(
                StatusCode::UNAUTHORIZED,
                "application/json;charset=UTF-8",
                render::fault_json_lowercase("AUTHENTICATION", &error, time),
            ))
        }
        Err(AccessError::Unknown) => {
            state.meter.record(realm, meter::Outcome::Unauthorized);
            let error = FaultError::new(
                "100",
                "General Authentication Error",
                "AuthenticationErrorGeneral: SRV-110-Authentication Failure , statusCode: 401",
            );
            Err(with_headers(
                StatusCode::UNAUTHORIZED,
                "application/xml;charset=UTF-8",
                render::fault_xml("AuthenticationFault", &error, time),
            ))
        }
    }
}

fn run_query(gate: &Gate, text: &str) -> Response {
    let parsed = match query::parse(text) {
        Ok(parsed) => parsed,
        Err(error @ QueryError::Parse(_)) => {
            return gate.validation("4000", "Error parsing query", error.to_string());
        }
        Err(error @ QueryError::Invalid(_)) => {
            return gate.validation("4001", "Invalid query", error.to_string());
        }
    };
    let Some(company) = gate.state.company(&gate.realm) else {
        return gate.validation("4001", "Invalid query", "no company");
    };
    let company = company.read().unwrap_or_else(|e| e.into_inner());
    // The response `time` is read while the company is locked: every change it shows is older,
    // every change it misses will be newer (see `clock`).
    let outcome = eval::run(&company, &parsed);
    let time = gate.state.clock.now();
    match outcome {
        Ok(Outcome::Count(n)) => gate.ok(render::count(n, time)),
        Ok(Outcome::Page(records)) => {
            gate.ok(render::query_page(parsed.entity, &records, parsed.start_position, time))
        }
        Err(error) => gate.validation("4001", "Invalid query", error.to_string()),
    }
}

pub async fn query_get(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
) -> Response {
    let gate = match admit(state, &realm, &headers, &params).await {
        Ok(gate) => gate,
        Err(response) => return response,
    };
    match params.get("query") {
        Some(text) => run_query(&gate, text),
        None => {
            gate.validation("4000", "Error parsing query", "QueryParserError: the query parameter is missing")
        }
    }
}

pub async fn query_post(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
    body: String,
) -> Response {
    let gate = match admit(state, &realm, &headers, &params).await {
        Ok(gate) => gate,
        Err(response) => return response,
    };
    let text = if body.trim().is_empty() { params.get("query").cloned().unwrap_or_default() } else { body };
    run_query(&gate, &text)
}

pub async fn cdc(
    State(state): State<AppState>,
    Path(realm): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
) -> Response {
    let gate = match admit(state, &realm, &headers, &params).await {
        Ok(gate) => gate,
        Err(response) => return response,
    };
    let (Some(entities), Some(changed_since)) = (params.get("entities"), params.get("changedSince")) else {
        return gate.validation(
            "2020",
            "Required param missing, need to supply the required value for the API",
            "Required parameter entities and changedSince are missing in the request",
        );
    };
    let mut requested = Vec::new();
    for name in entities.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match EntityType::parse(name) {
            Some(EntityType::CompanyInfo) | None => {
                return gate.validation(
                    "4001",
                    "Invalid Request",
                    format!("Operation cdc is not supported for entity {name}"),
                );
            }
            Some(entity) => requested.push(entity),
        }
    }
    let Some(since) = parse_time(changed_since) else {
        return gate.validation(
            "2010",
            "Request has invalid or unsupported property",
            format!("Invalid changedSince {changed_since}"),
        );
    };
    if since < gate.state.clock.now() - TimeSpan::days(CDC_LOOKBACK_DAYS) {
        return gate.validation(
            "4001",
            "Invalid Request",
            format!("Operation cdc with changedSince date {changed_since} which is older than fixed days is not supported."),
        );
    }
    let Some(company) = gate.state.company(&gate.realm) else {
        return gate.validation("4001", "Invalid Request", "no company");
    };
    let company = company.read().unwrap_or_else(|e| e.into_inner());
    let mut budget = CDC_MAX_OBJECTS;
    let mut sections = Vec::new();
    for entity in requested {
        let (mut changed, mut deleted) = company.changed_since(entity, since);
        changed.truncate(budget);
        budget -= changed.len();
        deleted.truncate(budget);
        budget -= deleted.len();
        sections.push(CdcSection { entity, changed, deleted });
    }
    let time = gate.state.clock.now();
    gate.ok(render::cdc(&sections, time))
}

fn not_found(gate: &Gate, entity: &str, id: &str) -> Response {
    gate.validation(
        "610",
        "Object Not Found",
        format!("Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees. ({entity} {id})"),
    )
}

pub async fn company_info(
    State(state): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    Query(params): Params,
    headers: HeaderMap,
) -> Response {
    let gate = match admit(state, &realm, &headers, &params).await {
        Ok(gate) => gate,
        Err(response) => return response,
    };
    if id != realm && id != "1" {
        return not_found(&gate, "CompanyInfo", &id);
    }
    let Some(company) = gate.state.company(&gate.realm) else { return not_found(&gate, "CompanyInfo", &id) };
    let company = company.read().unwrap_or_else(|e| e.into_inner());
    let time = gate.state.clock.now();
    gate.ok(render::single(company.info(), time))
}

pub async fn read(
    State(state): State<AppState>,
    Path((realm, entity, id)): Path<(String, String, String)>,
    Query(params): Params,
    headers: HeaderMap,
) -> Response {
    let gate = match admit(state, &realm, &headers, &params).await {
        Ok(gate) => gate,
        Err(response) => return response,
    };
    let Some(entity_type) = EntityType::parse(&entity).filter(|t| *t != EntityType::CompanyInfo) else {
        return gate.fault(
            StatusCode::BAD_REQUEST,
            "ValidationFault",
            FaultError::new(
                "500",
                "Unsupported Operation",
                format!("Operation No resource method found for GET /{entity} is not supported."),
            ),
        );
    };
    let Some(company) = gate.state.company(&gate.realm) else { return not_found(&gate, &entity, &id) };
    let company = company.read().unwrap_or_else(|e| e.into_inner());
    let Some(record) = id.parse().ok().and_then(|n| company.get(entity_type, n)) else {
        drop(company);
        return not_found(&gate, entity_type.name(), &id);
    };
    let time = gate.state.clock.now();
    gate.ok(render::single(record, time))
}
