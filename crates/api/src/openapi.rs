//! The OpenAPI document's frame: info, tags and the bearer security scheme. Paths and schemas
//! come from the handlers' `#[utoipa::path]` annotations.

use utoipa::Modify;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Countinghouse API",
        description = "The operating system of a CPA firm. Errors are RFC 9457 problem+json; lists use \
                       keyset cursors (`limit`, `cursor`); authenticate with `Authorization: Bearer <token>` \
                       (a session token from POST /v1/sessions or an API key).",
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
