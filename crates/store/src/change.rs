//! What an update returns: the row before and after it, so the use case that made the change can
//! record it (in the audit log, say) without reading the row again.

/// A row before and after a change. `B` differs from `T` where there may have been no row before
/// (a field set for the first time).
#[derive(Debug, Clone)]
pub struct Change<T, B = T> {
    pub before: B,
    pub after: T,
}
