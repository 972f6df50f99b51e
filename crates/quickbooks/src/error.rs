//! The client's error: what failed, and what the caller (a sync job) should do about it.

use chrono::{DateTime, Utc};

use crate::entity::DecodeError;
use crate::fault::{Fault, FaultKind};
use crate::limiter::LimiterError;
use crate::tokens::TokenError;

#[derive(Debug, thiserror::Error)]
pub enum QboError {
    /// QuickBooks answered with a fault that retrying will not fix (validation, not found,
    /// authorization, unsupported …).
    #[error("QuickBooks fault (HTTP {status}): {}", fault.summary())]
    Fault { status: u16, fault: Fault, intuit_tid: Option<String> },
    /// Still throttled after the retries or the deadline the policy allows; try again later.
    #[error("throttled by QuickBooks {attempts} times; giving up for now")]
    Throttled { attempts: u32 },
    /// 5xx or a broken connection, still failing after the policy's retries.
    #[error("QuickBooks unavailable after {attempts} attempts: {last}")]
    Unavailable { attempts: u32, last: String },
    /// The access token was refused again right after a refresh: the connection needs the
    /// user to reconnect.
    #[error("QuickBooks refused the access token after a refresh{}", fault.as_ref().map(|f| format!(": {}", f.summary())).unwrap_or_default())]
    Unauthorized { fault: Option<Fault> },
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The call's deadline passed (waiting for the limiter, a retry, or the response).
    #[error("deadline exceeded")]
    DeadlineExceeded,
    #[error(transparent)]
    Limiter(#[from] LimiterError),
    /// The realm's circuit breaker is open (Intuit kept failing for it, in this or another
    /// worker): not called; calls are allowed again after `retry_after`.
    #[error("QuickBooks keeps failing for this company; not calling it for {} s", retry_after.as_secs())]
    CircuitOpen { retry_after: std::time::Duration },
    /// A non-fault answer the client does not understand (unexpected status or body).
    #[error("unexpected QuickBooks response (HTTP {status}): {detail}")]
    Unexpected { status: u16, detail: String },
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// CDC cannot look back more than 30 days: re-read the affected entities by query.
    #[error("CDC cannot look back to {changed_since}: QuickBooks keeps 30 days of changes")]
    CdcLookbackExceeded { changed_since: DateTime<Utc> },
}

impl QboError {
    /// Worth running again later (a job retry), as opposed to needing a fix or a reconnect.
    pub fn is_transient(&self) -> bool {
        match self {
            QboError::Throttled { .. }
            | QboError::Unavailable { .. }
            | QboError::DeadlineExceeded
            | QboError::CircuitOpen { .. } => true,
            QboError::Limiter(e) => matches!(e, LimiterError::Deadline),
            QboError::Token(e) => !e.needs_reconnect(),
            QboError::Fault { fault, .. } => fault.kind() == FaultKind::System,
            _ => false,
        }
    }

    /// The connection is unusable until the user connects again: `invalid_grant`, a token
    /// refused right after refreshing (401), or the company refusing the app (403
    /// `AuthorizationFault`: the tokens are not, or no longer, for this realm).
    pub fn needs_reconnect(&self) -> bool {
        match self {
            QboError::Unauthorized { .. } => true,
            QboError::Token(e) => e.needs_reconnect(),
            QboError::Fault { fault, .. } => fault.kind() == FaultKind::Authorization,
            _ => false,
        }
    }

    pub fn fault(&self) -> Option<&Fault> {
        match self {
            QboError::Fault { fault, .. } => Some(fault),
            QboError::Unauthorized { fault } => fault.as_ref(),
            _ => None,
        }
    }
}
