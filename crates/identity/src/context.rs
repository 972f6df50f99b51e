//! `AuthContext`: who is calling, for which organization, allowed to do what.

use std::net::IpAddr;
use std::ops::Deref;

use domain::{
    ApiKeyId, ClientId, ClientScope, OrganizationId, Permission, PermissionSet, Role, SessionId, UserId,
};
use serde::{Deserialize, Serialize};
use store::{Actor, ActorKind, Db, StoreResult, TenantTx};

use crate::{IdentityError, IdentityResult, RequestMeta};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Principal {
    Session {
        session_id: SessionId,
        user_id: UserId,
    },
    /// An API key acts for the member who created it, within the key's scopes.
    ApiKey {
        key_id: ApiKeyId,
        created_by: UserId,
    },
}

/// Serializable because it is cached, in process and in Redis when there is one ([`crate::Identity`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthContext {
    pub organization_id: OrganizationId,
    pub principal: Principal,
    pub role: Role,
    pub permissions: PermissionSet,
    /// The organization requires MFA and this user has none: only enrolment is allowed.
    pub mfa_enrolment_required: bool,
    /// For portal users (role `client`): the clients they were granted. Empty for staff.
    pub portal: Vec<PortalGrant>,
}

/// A portal user's reach into one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalGrant {
    pub client_id: ClientId,
    pub can_view_financials: bool,
    pub can_upload_documents: bool,
}

impl AuthContext {
    /// The member acting (for an API key, its creator).
    pub fn user_id(&self) -> UserId {
        match self.principal {
            Principal::Session { user_id, .. } => user_id,
            Principal::ApiKey { created_by, .. } => created_by,
        }
    }

    pub fn session_id(&self) -> Option<SessionId> {
        match self.principal {
            Principal::Session { session_id, .. } => Some(session_id),
            Principal::ApiKey { .. } => None,
        }
    }

    /// Checks one permission of the catalogue.
    pub fn require(&self, permission: Permission) -> IdentityResult<()> {
        if self.permissions.contains(permission) { Ok(()) } else { Err(IdentityError::Forbidden(permission)) }
    }

    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(permission)
    }

    /// The clients this caller may see: all for staff, the granted ones for portal users.
    pub fn client_scope(&self) -> ClientScope {
        if self.role.is_staff() {
            ClientScope::All
        } else {
            ClientScope::Only(self.portal.iter().map(|g| g.client_id).collect())
        }
    }

    /// The clients whose money this caller may see (invoices, AR): portal users need the grant's
    /// `can_view_financials`.
    pub fn financial_scope(&self) -> ClientScope {
        if self.role.is_staff() {
            ClientScope::All
        } else {
            ClientScope::Only(
                self.portal.iter().filter(|g| g.can_view_financials).map(|g| g.client_id).collect(),
            )
        }
    }

    /// The actor to record in the audit log for this caller's writes.
    pub fn actor(&self, request_id: Option<String>, ip: Option<IpAddr>) -> Actor {
        let (kind, id) = match self.principal {
            Principal::Session { user_id, .. } => (ActorKind::User, user_id.as_uuid()),
            Principal::ApiKey { key_id, .. } => (ActorKind::ApiKey, key_id.as_uuid()),
        };
        Actor { kind, id: Some(id), request_id, ip }
    }
}

/// The one argument every use case takes: who is calling ([`AuthContext`]) and where the
/// request came from ([`RequestMeta`]). It derefs to the context, so a use case reads
/// `caller.require(Permission::ClientsCreate)?` and opens its transaction with
/// [`Caller::begin`]; handlers (JSON and console) get it from the request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub ctx: AuthContext,
    pub meta: RequestMeta,
}

impl Caller {
    pub fn new(ctx: AuthContext, meta: RequestMeta) -> Self {
        Caller { ctx, meta }
    }

    /// The actor this caller's audit entries name, with the request id and address.
    pub fn audit_actor(&self) -> Actor {
        self.ctx.actor(self.meta.request_id.clone(), self.meta.ip)
    }

    /// Opens a transaction in the caller's organization, acting as the caller.
    pub async fn begin(&self, db: &Db) -> StoreResult<TenantTx> {
        TenantTx::begin(db, self.ctx.organization_id, self.audit_actor()).await
    }
}

impl Deref for Caller {
    type Target = AuthContext;
    fn deref(&self) -> &AuthContext {
        &self.ctx
    }
}
