//! What a member's account can be.

/// Whether an account may sign in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "text", rename_all = "snake_case"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum UserStatus {
    Active,
    /// Signed out everywhere and unable to sign in; kept for the audit trail.
    Disabled,
}

/// Consecutive failed sign-ins after which an account is locked.
pub const LOCKOUT_THRESHOLD: i32 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT_DURATION: chrono::TimeDelta = chrono::TimeDelta::minutes(30);
