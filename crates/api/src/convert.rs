//! Store rows and use-case results to API shapes (a local trait, since both sides live in other
//! crates), and the few queries that become a lower crate's filter.

mod admin;
mod documents;
mod quickbooks;

use api_types::audit::{AuditBreak, AuditEntryResponse, AuditVerifyResponse};
use api_types::auth::{
    ApiKeyResponse, CreatedPasswordResetResponse, InvitationResponse, MemberResponse, OrganizationResponse,
};
use store::api_keys::ApiKey;
use store::audit::{AuditEntry, ChainBreakView, ChainReport};
use store::invitations::Invitation;
use store::organizations::Organization;
use store::users::Member;

pub(crate) use admin::job_filter;
pub(crate) use documents::document_filter;

impl_into_api!(Member => MemberResponse { id, email, name, role, status, mfa_enabled, last_login_at, created_at });
impl_into_api!(Invitation => InvitationResponse {
    id, email, name, role, invited_by, created_at, expires_at, accepted_at, revoked_at
});
impl_into_api!(ApiKey => ApiKeyResponse {
    id, name, prefix, scopes, created_by, created_at, last_used_at, expires_at, revoked_at
});
impl_into_api!(AuditEntry => AuditEntryResponse {
    lane, seq, id, occurred_at, actor_kind, actor_id, action, entity_type, entity_id, before, after, request_id, ip
});

impl_into_api!(ChainBreakView => AuditBreak { lane, seq, reason });

impl IntoApi<CreatedPasswordResetResponse> for identity::CreatedPasswordReset {
    fn into_api(self) -> CreatedPasswordResetResponse {
        CreatedPasswordResetResponse {
            id: self.reset.id,
            user_id: self.reset.user_id,
            email: self.email,
            link: self.link,
            expires_at: self.reset.expires_at,
        }
    }
}

impl IntoApi<AuditVerifyResponse> for ChainReport {
    fn into_api(self) -> AuditVerifyResponse {
        let first = self.first_break().cloned();
        AuditVerifyResponse {
            entries: self.entries,
            intact: first.is_none(),
            first_break_lane: first.as_ref().map(|b| b.lane),
            first_break_seq: first.as_ref().map(|b| b.seq),
            reason: first.map(|b| b.reason),
            breaks: self.breaks.into_iter().map(IntoApi::into_api).collect(),
        }
    }
}

/// Converts a store row into its API shape.
pub trait IntoApi<T> {
    fn into_api(self) -> T;
}

impl IntoApi<OrganizationResponse> for Organization {
    fn into_api(self) -> OrganizationResponse {
        let o = self;
        OrganizationResponse {
            id: o.id.as_uuid(),
            name: o.name,
            slug: o.slug,
            mfa_required_for_staff: o.mfa_required_for_staff,
            mfa_required_for_clients: o.mfa_required_for_clients,
            created_at: o.created_at,
        }
    }
}

impl<T: IntoApi<U>, U> IntoApi<api_types::Page<U>> for store::cursor::Page<T> {
    fn into_api(self) -> api_types::Page<U> {
        api_types::Page {
            items: self.items.into_iter().map(IntoApi::into_api).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

impl<T: IntoApi<U>, U> IntoApi<Vec<U>> for Vec<T> {
    fn into_api(self) -> Vec<U> {
        self.into_iter().map(IntoApi::into_api).collect()
    }
}
