//! The store's error: what callers branch on (not found, conflict, unavailable) kept apart from
//! everything else, which is a bug or an outage and is logged at the edge.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique or exclusion constraint refused the write; carries the constraint's name.
    #[error("conflicts with existing data ({0})")]
    Conflict(String),
    /// A foreign key or check constraint refused the write.
    #[error("refused by constraint {0}")]
    Constraint(String),
    /// The pool is exhausted or the server cannot be reached: retryable, 503 at the edge.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error(transparent)]
    Database(sqlx::Error),
    /// A value the database cannot hold (NUL in text, a number out of range, an impossible date):
    /// the caller's input, so 422 at the edge.
    #[error("a value cannot be stored: {0}")]
    InvalidValue(String),
    /// A list cursor that did not come from us (or from this list): 400 at the edge.
    #[error(transparent)]
    InvalidCursor(#[from] crate::cursor::InvalidCursor),
    #[error("invalid data in the database: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e)
            }
            sqlx::Error::Database(db) => {
                let name = db.constraint().unwrap_or("unknown").to_owned();
                match db.code().as_deref() {
                    Some("23505") | Some("23P01") => StoreError::Conflict(name),
                    Some("23503") | Some("23514") | Some("23502") => StoreError::Constraint(name),
                    // Class 22, data exceptions: the value itself is unacceptable.
                    Some(code) if code.starts_with("22") => StoreError::InvalidValue(db.message().to_owned()),
                    // admin_shutdown, cannot_connect_now, too_many_connections
                    Some("57P01") | Some("57P03") | Some("53300") => StoreError::Unavailable(e),
                    _ => StoreError::Database(e),
                }
            }
            _ => StoreError::Database(e),
        }
    }
}

impl StoreError {
    pub fn is_conflict_on(&self, constraint: &str) -> bool {
        matches!(self, StoreError::Conflict(name) if name == constraint)
    }
}
