//! Errors: [`JobError`] is what a handler returns (and decides retry vs dead letter);
//! [`JobsError`] is what the queue's own functions return.

use std::fmt::Display;
use std::time::Duration;

use crate::JobId;

/// How an attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Try again: after `after` if given (a server's `Retry-After`), else after the kind's backoff.
    /// Dead once the attempts are used up.
    #[error("{message}")]
    Retry { message: String, after: Option<Duration> },
    /// Retrying cannot help (bad payload, permanent refusal): dead letter now.
    #[error("{0}")]
    Fatal(String),
    /// The job's lease was taken over, or it was cancelled: stop; nothing is recorded.
    #[error("the job's lease was lost (rescued, cancelled or re-leased)")]
    LeaseLost,
}

impl JobError {
    pub fn retry(error: impl Display) -> JobError {
        JobError::Retry { message: error.to_string(), after: None }
    }

    pub fn retry_after(after: Duration, error: impl Display) -> JobError {
        JobError::Retry { message: error.to_string(), after: Some(after) }
    }

    pub fn fatal(error: impl Display) -> JobError {
        JobError::Fatal(error.to_string())
    }
}

/// Database errors are transient as far as a job can tell.
impl From<sqlx::Error> for JobError {
    fn from(e: sqlx::Error) -> Self {
        JobError::retry(e)
    }
}

/// Marks any error as retryable or fatal: `client.fetch().await.retryable()?`.
pub trait ResultExt<T> {
    fn retryable(self) -> Result<T, JobError>;
    fn fatal(self) -> Result<T, JobError>;
}

impl<T, E: Display> ResultExt<T> for Result<T, E> {
    fn retryable(self) -> Result<T, JobError> {
        self.map_err(JobError::retry)
    }

    fn fatal(self) -> Result<T, JobError> {
        self.map_err(JobError::fatal)
    }
}

/// Errors of enqueueing, operator functions and the scheduler.
#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Opening or committing the platform transaction of an operator's audited change.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("payload does not serialize: {0}")]
    Payload(#[from] serde_json::Error),
    #[error("invalid cron expression `{expression}`: {reason}")]
    InvalidCron { expression: String, reason: String },
    #[error("job {0} not found")]
    NotFound(JobId),
    #[error("job {id} cannot be {action} in state {state}")]
    WrongState { id: JobId, action: &'static str, state: String },
    #[error("job {0} cannot be retried: another unfinished job has its unique key")]
    UniqueKeyTaken(JobId),
}
