//! Vendor memory over storage: learning from a correction (called by the correction use case in
//! its transaction, audited), and the memories as the firm sees them (listed and forgotten by the
//! use cases in `service`). What is learnt and how it is applied is
//! [`crate::vendor_memory`] (no I/O); the pipeline recalls memories in its `vendor_memory` step
//! ([`recall`]).

use domain::{DocType, DocumentId, VendorMemoryId};
use identity::Caller;
use store::vendor_memories::{self as rows, LearntMemory, VendorMemoryRow};
use store::{AuditRecord, StoreError, TenantTx};

use crate::fields::{Extraction, FieldValue};
use crate::text::DocumentText;
use crate::vendor_memory::{self, MatchedBy, VendorMemory};

/// How many memories of one document type the pipeline compares a document with.
pub const RECALL_LIMIT: i64 = 2000;

/// A memory as the firm sees it.
#[derive(Debug, Clone)]
pub struct VendorMemoryView {
    pub row: VendorMemoryRow,
    pub memory: VendorMemory,
}

impl VendorMemoryView {
    pub fn of(row: VendorMemoryRow) -> VendorMemoryView {
        let memory = serde_json::from_value(row.memory.clone()).unwrap_or_default();
        VendorMemoryView { row, memory }
    }
}

/// What the pipeline applied to a document: which memory, recognised how, and the fields it set.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Recalled {
    pub id: VendorMemoryId,
    pub matched_by: MatchedBy,
    pub fields: Vec<String>,
}

/// The pipeline's step: the memory this document's vendor has in its firm, applied to its
/// extraction. `tx` is the firm's.
pub async fn recall(
    tx: &mut TenantTx,
    text: &DocumentText,
    extraction: &mut Extraction,
) -> Result<Option<Recalled>, StoreError> {
    let rows = rows::list(tx, Some(extraction.doc_type), RECALL_LIMIT).await?;
    let memories: Vec<(VendorMemoryId, VendorMemory)> = rows
        .into_iter()
        .filter_map(|r| Some((r.id, serde_json::from_value::<VendorMemory>(r.memory).ok()?)))
        .collect();
    let Some((id, memory, matched_by)) = vendor_memory::identify(&memories, &text.text, extraction) else {
        return Ok(None);
    };
    let fields = vendor_memory::apply(memory, text, extraction);
    Ok(Some(Recalled { id, matched_by, fields }))
}

/// Learns from a document a person just corrected (in the correction's transaction): its fields
/// as they now stand, where the corrected ones sit in its text. Returns the memory learnt, if
/// anything could be (a document not read yet, or with nothing to recognise its vendor by,
/// teaches nothing).
pub(crate) async fn learn(
    tx: &mut TenantTx,
    caller: &Caller,
    id: DocumentId,
    doc_type: DocType,
) -> Result<Option<VendorMemoryRow>, StoreError> {
    if doc_type == DocType::General {
        return Ok(None);
    }
    let Some(text) = store::documents::extracted_text(tx, id).await? else { return Ok(None) };
    let stored = store::documents::fields(tx, id).await?;
    let fields: Vec<(String, FieldValue)> = stored
        .iter()
        .filter(|f| !f.masked)
        .filter_map(|f| Some((f.key.clone(), serde_json::from_value(f.value.clone()?).ok()?)))
        .collect();
    let corrected: Vec<String> =
        stored.iter().filter(|f| f.corrected_by.is_some()).map(|f| f.key.clone()).collect();
    let learnt = vendor_memory::learn(doc_type, &text, &fields, &corrected);
    let Some((kind, value)) = learnt.key() else { return Ok(None) };
    let keyed = rows::by_key(tx, kind.as_str(), &value).await?;
    let from_document = rows::by_document(tx, id).await?;
    // A memory is plain data (no maps with other keys than strings): it always serialises.
    let json = |m: &VendorMemory| serde_json::to_value(m).unwrap_or_default();
    let by = caller.user_id();
    let record = |memory, name| LearntMemory {
        key_kind: kind.as_str(),
        key_value: &value,
        vendor_name: name,
        doc_type,
        memory,
        learned_from: id,
        by,
    };
    let row = match (keyed, from_document) {
        (Some(keyed), earlier) => {
            // Known vendor: this document's lessons on top of what was known. An earlier memory
            // of this same document under a weaker key is folded in.
            let mut known: VendorMemory = serde_json::from_value(keyed.memory.clone()).unwrap_or_default();
            if let Some(earlier) = earlier.filter(|e| e.id != keyed.id) {
                let folded: VendorMemory = serde_json::from_value(earlier.memory.clone()).unwrap_or_default();
                known = known.merged(&folded);
                let gone = rows::delete(tx, earlier.id).await?;
                tx.audit(
                    AuditRecord::new("vendor_memory.forget", "vendor_memory", gone.id)
                        .before(&gone)
                        .after(serde_json::json!({ "folded_into": keyed.id, "document_id": id })),
                );
            }
            let merged = known.merged(&learnt);
            let memory = json(&merged);
            rows::update(tx, keyed, record(&memory, merged.vendor_name.as_deref())).await?
        }
        (None, Some(earlier)) => {
            // A later correction of the same document: what it teaches now replaces it.
            let memory = json(&learnt);
            rows::update(tx, earlier, record(&memory, learnt.vendor_name.as_deref())).await?
        }
        (None, None) => {
            let memory = json(&learnt);
            let after = rows::insert(tx, record(&memory, learnt.vendor_name.as_deref())).await?;
            tx.audit(
                AuditRecord::new("vendor_memory.learn", "vendor_memory", after.id)
                    .after(serde_json::json!({ "memory": after, "document_id": id })),
            );
            return Ok(Some(after));
        }
    };
    tx.audit(
        AuditRecord::new("vendor_memory.learn", "vendor_memory", row.after.id)
            .before(&row.before)
            .after(serde_json::json!({ "memory": row.after, "document_id": id })),
    );
    Ok(Some(row.after))
}
