//! The OpenAPI document: its frame (info, tags, the bearer scheme) here, paths and schemas from the
//! handlers' `#[utoipa::path]` annotations, and [`finish`], which adds what every operation shares
//! so no annotation has to repeat it (or can forget it): errors as `application/problem+json`, the
//! refusals the framework makes before a handler runs (400, 401, 403, 404, 413, 414, 415, 422, 500,
//! 503 — each where the operation's shape makes it possible), and `limit` bounds.

use serde_json::{Map, Value, json};
use utoipa::Modify;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use api_types::PageParams;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Countinghouse API",
        description = "The operating system of a CPA firm. Errors are RFC 9457 problem+json; lists use \
                       keyset cursors (`limit`, `cursor`); authenticate with `Authorization: Bearer <token>` \
                       (a session token from POST /v1/sessions or an API key). Amounts are decimal strings \
                       (`\"1250.00\"`), never JSON numbers; dates are ISO dates in the years 1900 to 2199.",
        version = "1"
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Signup, sessions, the current user and MFA"),
        (name = "organization", description = "Organization settings and members"),
        (name = "invitations", description = "Inviting staff and client users"),
        (name = "api-keys", description = "Keys for integrations"),
        (name = "audit", description = "The tamper-evident audit log"),
        (name = "clients", description = "The firm's clients: lists, search, import/export, bulk actions"),
        (name = "engagements", description = "Work for a client: tax returns, books, advisory"),
        (name = "notes", description = "Internal notes on clients and engagements"),
        (name = "workflows", description = "Workflow templates, runs for a client, their steps and each member's work"),
        (name = "tasks", description = "Ad-hoc tasks; checklists, comments and attachments of steps and tasks; open-work lists and bulk reassignment"),
        (name = "time", description = "Time entries on workflow steps and engagements: your timer, your week, an engagement's hours"),
        (name = "documents", description = "Document intake, extracted fields, review, signed downloads"),
        (name = "notifications", description = "Your notifications: an upload batch finished, …"),
        (name = "invoices", description = "Invoices, payments and AR aging"),
        (name = "portal", description = "Client portal access"),
        (name = "marketplace", description = "Fractional-CFO advisors: public search, profiles, matching, reviews"),
        (name = "admin", description = "Platform operations: the job queue, health and circuit breakers"),
        (name = "quickbooks", description = "QuickBooks Online: connect a client's company, sync, history, summary, webhooks"),
        (name = "health", description = "Liveness, readiness and metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

const PROBLEM: &str = "application/problem+json";
const PROBLEM_REF: &str = "#/components/schemas/Problem";
const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// Completes the annotated document; see the module doc. (As JSON: utoipa's types do not read back
/// every document they write, so the finished document stays a value.)
pub fn finish(doc: utoipa::openapi::OpenApi) -> Value {
    let mut v = serde_json::to_value(&doc).expect("the OpenAPI document serializes");
    if let Some(paths) = v.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            for method in METHODS {
                if let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) {
                    finish_operation(op);
                }
            }
        }
    }
    v
}

fn finish_operation(op: &mut Map<String, Value>) {
    let params = op.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
    let has = |place: &str| params.iter().any(|p| p["in"] == place);
    let (in_path, in_query) = (has("path"), has("query"));
    let body = op.get("requestBody").is_some();
    let secured = op.get("security").and_then(Value::as_array).is_some_and(|s| !s.is_empty());
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params.iter_mut().filter(|p| p["in"] == "query" && p["name"] == "limit") {
            p["schema"]["minimum"] = json!(1);
            p["schema"]["maximum"] = json!(PageParams::MAX_LIMIT);
        }
    }
    let responses = op.entry("responses").or_insert_with(|| json!({}));
    let Some(responses) = responses.as_object_mut() else { return };
    for response in responses.values_mut() {
        if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut)
            && content.get("application/json").is_some_and(|c| c["schema"]["$ref"] == PROBLEM_REF)
        {
            let problem = content.remove("application/json").expect("just checked");
            content.insert(PROBLEM.to_owned(), problem);
        }
    }
    let standard: [(&str, bool, &str); 10] = [
        ("400", in_path || in_query || body, "A parameter or the body cannot be read"),
        ("401", secured, "Authentication is required or not valid"),
        ("403", secured, "A permission is missing"),
        ("404", in_path, "Not found (or not visible to the caller)"),
        ("413", body, "The request body is too large"),
        ("414", true, "The request URI is too long"),
        ("415", body, "The request body's media type is not accepted"),
        ("422", body || in_query, "The request is not valid"),
        ("500", true, "Internal error"),
        ("503", true, "Temporarily unavailable, or the request took too long"),
    ];
    for (status, applies, description) in standard {
        if applies && !responses.contains_key(status) {
            responses.insert(
                status.to_owned(),
                json!({"description": description, "content": {PROBLEM: {"schema": {"$ref": PROBLEM_REF}}}}),
            );
        }
    }
}
