//! The step-result cache: an automation whose inputs did not change reuses the result of the last
//! identical run while it is fresh, keyed by (step type, SHA-256 of the inputs) in the tenant's
//! `workflow_step_cache`, with the reference's TTL for the step's task type.

use chrono::{DateTime, Duration, Utc};
use domain::workflow::{Automation, TaskType};
use sha2::{Digest, Sha256};
use store::{StoreResult, TenantTx};

pub const HITS: &str = "workflow_step_cache_hits_total";
pub const MISSES: &str = "workflow_step_cache_misses_total";

/// How long a result stays valid, by the step's task type (the reference's "step-result cache
/// TTLs by taskType"); `None`: never cached. A client meeting is never the same twice, and a
/// custom step has no stated TTL, so neither is cached.
pub fn ttl(task_type: TaskType) -> Option<Duration> {
    match task_type {
        TaskType::DocumentReview => Some(Duration::minutes(15)),
        TaskType::DataEntry => Some(Duration::minutes(5)),
        TaskType::Preparation => Some(Duration::minutes(30)),
        TaskType::Review => Some(Duration::minutes(10)),
        TaskType::ClientMeeting | TaskType::Custom => None,
    }
}

/// Whether repeating the action is the same fact as having done it once. Only a QuickBooks sync
/// is: a second sync of an unchanged connection minutes later reads the same books. A mail is an
/// event for the person who gets it, so an email or a document request always acts.
pub fn cacheable(automation: Automation) -> bool {
    matches!(automation, Automation::StartQuickbooksSync)
}

/// Where one step's result is cached, if anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    /// The automation and the task type (whose TTL the entry was written with).
    pub step_type: String,
    pub input_hash: String,
    pub ttl: Duration,
}

/// The key of an automation over `inputs` (each a value the result depends on), or `None` when
/// the automation or the task type is not cached.
pub fn key(automation: Automation, task_type: TaskType, inputs: &[&str]) -> Option<CacheKey> {
    let ttl = ttl(task_type).filter(|_| cacheable(automation))?;
    let mut hash = Sha256::new();
    // Length-prefixed, so no two different input lists hash alike.
    for input in inputs {
        hash.update((input.len() as u64).to_be_bytes());
        hash.update(input.as_bytes());
    }
    Some(CacheKey {
        step_type: format!("{automation}:{task_type}"),
        input_hash: hex::encode(hash.finalize()),
        ttl,
    })
}

/// A live result for `key` at `now`, counting the hit or the miss.
pub async fn lookup(
    tx: &mut TenantTx,
    key: &CacheKey,
    now: DateTime<Utc>,
) -> StoreResult<Option<serde_json::Value>> {
    let found = store::workflow_automation::cached(tx, &key.step_type, &key.input_hash, now).await?;
    let counter = if found.is_some() { HITS } else { MISSES };
    metrics::counter!(counter, "step_type" => key.step_type.clone()).increment(1);
    Ok(found)
}

/// Keeps `result` for `key`'s TTL from `now`.
pub async fn remember(
    tx: &mut TenantTx,
    key: &CacheKey,
    result: &serde_json::Value,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    store::workflow_automation::cache(tx, &key.step_type, &key.input_hash, result, now + key.ttl).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_syncs_of_task_types_with_a_ttl_are_cached() {
        assert!(key(Automation::SendEmail, TaskType::DataEntry, &["c"]).is_none());
        assert!(key(Automation::RequestDocuments, TaskType::Review, &["c"]).is_none());
        assert!(key(Automation::StartQuickbooksSync, TaskType::ClientMeeting, &["c"]).is_none());
        let k = key(Automation::StartQuickbooksSync, TaskType::DataEntry, &["c", "r"]).unwrap();
        assert_eq!(k.ttl, Duration::minutes(5));
        assert_eq!(k.step_type, "start_quickbooks_sync:data_entry");
        assert_eq!(k.input_hash.len(), 64);
    }

    #[test]
    fn the_hash_follows_the_inputs_and_their_boundaries() {
        let k = |i: &[&str]| key(Automation::StartQuickbooksSync, TaskType::Review, i).unwrap().input_hash;
        assert_eq!(k(&["a", "b"]), k(&["a", "b"]));
        assert_ne!(k(&["a", "b"]), k(&["a", "c"]));
        assert_ne!(k(&["ab", ""]), k(&["a", "b"]));
    }
}
