//! Client portal access: which client a portal user sees, at what level, with which abilities.

use api_types::invoices::{GrantPortalAccessRequest, PortalAccessResponse};
use domain::{AccessLevel, ClientId, Permission, PortalAccessId};
use identity::Caller;
use store::AuditRecord;
use store::portal::{self, Capabilities, PortalAccess};

use crate::error::NotFoundAs;
use crate::{Practice, PracticeResult};

fn response(a: PortalAccess) -> PortalAccessResponse {
    PortalAccessResponse {
        id: a.id,
        user_id: a.user_id,
        client_id: a.client_id,
        access_level: a.access_level,
        can_view_financials: a.can_view_financials,
        can_upload_documents: a.can_upload_documents,
        can_message: a.can_message,
        can_approve_invoices: a.can_approve_invoices,
        can_manage_team: a.can_manage_team,
        can_export_data: a.can_export_data,
        created_at: a.created_at,
        expires_at: a.expires_at,
        revoked_at: a.revoked_at,
    }
}

impl Practice {
    /// Grants a portal user (a member with the `client` role) access to a client.
    pub async fn grant_portal_access(
        &self,
        caller: &Caller,
        client: ClientId,
        req: GrantPortalAccessRequest,
    ) -> PracticeResult<PortalAccessResponse> {
        caller.require(Permission::UsersInvite)?;
        let caps = Capabilities {
            access_level: req.access_level.unwrap_or(AccessLevel::View),
            can_view_financials: req.can_view_financials.unwrap_or(true),
            can_upload_documents: req.can_upload_documents.unwrap_or(true),
            can_message: req.can_message.unwrap_or(true),
            can_approve_invoices: req.can_approve_invoices.unwrap_or(false),
            can_manage_team: req.can_manage_team.unwrap_or(false),
            can_export_data: req.can_export_data.unwrap_or(false),
            expires_at: req.expires_at,
        };
        let mut tx = self.tx(caller).await?;
        let access = portal::grant(&mut tx, req.user_id, client, &caps)
            .await
            .or_not_found("client, or portal user (a member with the client role)")?;
        tx.audit(AuditRecord::new("portal_access.grant", "portal_access", access.id).after(&access));
        tx.commit().await?;
        Ok(response(access))
    }

    pub async fn list_portal_access(
        &self,
        caller: &Caller,
        client: ClientId,
    ) -> PracticeResult<Vec<PortalAccessResponse>> {
        caller.require(Permission::UsersInvite)?;
        let mut tx = self.tx(caller).await?;
        store::clients::get(&mut tx, client, &domain::ClientScope::All).await.or_not_found("client")?;
        let list = portal::list(&mut tx, Some(client), None).await?;
        tx.commit().await?;
        Ok(list.into_iter().map(response).collect())
    }

    pub async fn revoke_portal_access(
        &self,
        caller: &Caller,
        id: PortalAccessId,
    ) -> PracticeResult<PortalAccessResponse> {
        caller.require(Permission::UsersInvite)?;
        let mut tx = self.tx(caller).await?;
        let access = portal::revoke(&mut tx, id).await.or_not_found("portal access")?;
        tx.audit(AuditRecord::new("portal_access.revoke", "portal_access", id).after(&access));
        tx.commit().await?;
        Ok(response(access))
    }
}
