//! Signup, sessions, members, invitations, API keys, MFA and organization settings.

use chrono::{DateTime, Utc};
use domain::{ApiKeyId, InvitationId, PasswordResetId, Permission, Role, UserId, UserStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// The firm's name, e.g. "Acme CPA LLP".
    pub organization_name: String,
    /// The short name typed at sign-in: 3–63 lower-case letters, digits and hyphens.
    pub slug: String,
    /// The owner's name.
    pub name: String,
    pub email: String,
    /// At least 10 characters; a passphrase is best.
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The organization's slug.
    pub organization: String,
    pub email: String,
    pub password: String,
    /// The authenticator code, or a recovery code, when the account has multi-factor sign-in.
    #[serde(default)]
    pub mfa_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionResponse {
    /// The bearer token: send as `Authorization: Bearer <token>`. Shown only here.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// The organization requires multi-factor sign-in and this account has none: until it enrols
    /// (POST /v1/me/mfa/enrolment), only /v1/me and the MFA routes answer.
    pub mfa_enrolment_required: bool,
    pub user: MemberResponse,
    pub organization: OrganizationResponse,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberResponse {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub status: UserStatus,
    pub mfa_enabled: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrganizationResponse {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub mfa_required_for_staff: bool,
    pub mfa_required_for_clients: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MeResponse {
    pub user: MemberResponse,
    pub organization: OrganizationResponse,
    /// What this caller may do (for a session, the role's grant; for an API key, its scopes).
    pub permissions: Vec<Permission>,
    /// `session` or `api_key`.
    pub authenticated_by: String,
    pub mfa_enrolment_required: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationRequest {
    pub name: Option<String>,
    /// Staff must sign in with a second factor.
    pub mfa_required_for_staff: Option<bool>,
    /// Client (portal) users must sign in with a second factor.
    pub mfa_required_for_clients: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MemberListParams {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMemberRequest {
    pub role: Option<Role>,
    /// `disabled` signs the member out everywhere and blocks sign-in.
    pub status: Option<UserStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitationRequest {
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvitationResponse {
    pub id: InvitationId,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub invited_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedInvitationResponse {
    pub invitation: InvitationResponse,
    /// The single-use token; shown only here. Send it to the invitee, who accepts with
    /// `POST /v1/invitations/accept` (the console's acceptance page is still to come, so no link
    /// is offered that would not open).
    pub token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InvitationListParams {
    /// Only invitations that can still be accepted (default true).
    pub open: Option<bool>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitationRequest {
    pub token: String,
    /// Defaults to the name on the invitation, else the part of the email address before `@`.
    pub name: Option<String>,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// The organization's slug, as typed at sign-in.
    pub organization: String,
    pub email: String,
}

/// The answer to a reset request: the same whether or not the account exists.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasswordResetAccepted {
    /// What happens next, for people (a link is mailed if the address is an active member's).
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletePasswordResetRequest {
    /// The `token` of the mailed link (`/reset-password?token=…`).
    pub token: String,
    /// The new password (the same rules as at signup).
    pub password: String,
}

/// A reset link a member admin created for a member; it was mailed to them too.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedPasswordResetResponse {
    pub id: PasswordResetId,
    pub user_id: UserId,
    pub email: String,
    /// The console's reset page with the single-use token: shown only here.
    pub link: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    pub name: String,
    /// Permissions the key may use; at most the maker's own.
    pub scopes: Vec<Permission>,
    /// Omit for a key that does not expire.
    pub expires_in_days: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyResponse {
    pub id: ApiKeyId,
    pub name: String,
    /// The start of the key, to tell keys apart.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKeyResponse {
    pub api_key: ApiKeyResponse,
    /// The key: send as `Authorization: Bearer <key>`. Shown only here.
    pub secret: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MfaEnrolmentResponse {
    /// Scan as a QR code in an authenticator app.
    pub otpauth_uri: String,
    /// Or type this secret.
    pub secret: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaCodeRequest {
    /// A current authenticator code (or, where accepted, a recovery code).
    pub code: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecoveryCodesResponse {
    /// Single-use codes for when the authenticator is lost. Shown only here; store them safely.
    pub recovery_codes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PermissionInfo {
    pub name: Permission,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RoleGrant {
    pub role: Role,
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PermissionCatalogue {
    pub permissions: Vec<PermissionInfo>,
    pub roles: Vec<RoleGrant>,
}
