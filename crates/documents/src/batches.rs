//! When an upload batch is finished, and who hears of it.
//!
//! [`settle`] runs in the transaction that settles one document of a batch (the pipeline's
//! final save, its give-up, or a deletion), after that change. It locks the batch row, then
//! counts what is still pending: of two workers settling a batch's last two documents at once,
//! the second to take the lock counts after the first committed, so exactly one of them sees
//! nothing pending. A batch already finished stays as it was, so a retried job or a re-processed
//! document never finishes it twice (and the notification's dedupe key would refuse a second one
//! anyway). Finishing writes, in that transaction: `finished_at`, a `batch_finished` event in the
//! documents' event stream, and a notification to the uploader.

use domain::{DocumentBatchId, DocumentEventKind, NotificationKind};
use store::document_batches::{self, BatchCounts, BatchProgress};
use store::documents as rows;
use store::notifications::{self, NewNotification};
use store::{StoreResult, TenantTx};

/// Finishes `batch` if none of its documents is pending any more; returns it when this call
/// finished it. `None` for a document without a batch.
pub async fn settle(tx: &mut TenantTx, batch: Option<DocumentBatchId>) -> StoreResult<Option<BatchProgress>> {
    let Some(id) = batch else { return Ok(None) };
    let Some(mut locked) = document_batches::lock(tx, id).await? else { return Ok(None) };
    if locked.finished_at.is_some() {
        return Ok(None);
    }
    let counts = document_batches::counts(tx, id).await?;
    if counts.pending > 0 {
        return Ok(None);
    }
    locked.finished_at = Some(document_batches::mark_finished(tx, id).await?);
    let progress = BatchProgress { batch: locked, counts };
    let payload = serde_json::json!({
        "batch_id": id,
        "client_id": progress.batch.client_id,
        "accepted": progress.batch.accepted,
        "rejected": progress.batch.rejected,
        "counts": counts,
        "link": format!("/v1/document-batches/{id}"),
    });
    rows::add_batch_event(tx, id, DocumentEventKind::BatchFinished, payload.clone()).await?;
    if let Some(uploader) = progress.batch.uploaded_by {
        let title = format!(
            "Upload of {} for {} is done",
            plural(i64::from(progress.batch.accepted), "document"),
            progress.batch.client_name
        );
        let body = summary(&counts, progress.batch.rejected);
        notifications::insert(
            tx,
            NewNotification {
                user_id: uploader,
                kind: NotificationKind::DocumentBatchFinished,
                title: &title.chars().take(300).collect::<String>(),
                body: &body,
                payload,
                dedupe_key: &format!("document_batch:{id}"),
            },
        )
        .await?;
    }
    Ok(Some(progress))
}

fn plural(n: i64, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// "2 approved, 1 needs review; 1 file refused at upload." (zero counts left out).
fn summary(c: &BatchCounts, rejected: i32) -> String {
    let parts: Vec<String> = [
        (c.approved, "approved", "approved"),
        (c.needs_review, "needs review", "need review"),
        (c.stored, "stored (not read)", "stored (not read)"),
        (c.duplicates, "duplicate (already on file)", "duplicates (already on file)"),
        (c.failed, "failed", "failed"),
        (c.deleted, "deleted", "deleted"),
    ]
    .into_iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
    .collect();
    let mut text = parts.join(", ");
    if rejected > 0 {
        text.push_str(&format!("; {} refused at upload", plural(i64::from(rejected), "file")));
    }
    text.push('.');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_each_nonzero_count_in_the_right_number() {
        let c = BatchCounts {
            processed: 3,
            approved: 2,
            needs_review: 1,
            duplicates: 2,
            ..BatchCounts::default()
        };
        assert_eq!(summary(&c, 0), "2 approved, 1 needs review, 2 duplicates (already on file).");
        let c = BatchCounts { failed: 1, ..BatchCounts::default() };
        assert_eq!(summary(&c, 1), "1 failed; 1 file refused at upload.");
        assert_eq!(plural(3, "document"), "3 documents");
    }
}
