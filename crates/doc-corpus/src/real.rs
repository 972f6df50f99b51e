//! The real-world set: invoices we did not generate (public, redistributable samples from other
//! projects), listed with their expected fields, language and split in `real/manifest.toml`
//! beside this crate's sources. Loaded as [`LabeledDocument`]s so the same evaluation
//! ([`documents::eval::evaluate`]) scores them, per split and language.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use documents::eval::{GroundTruth, LabeledDocument, Variant};
use documents::fields::{DocType, FieldValue, ValueKind, spec_of};
use rust_decimal::Decimal;
use serde::Deserialize;

/// Where the set lives in the repository.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("real")
}

#[derive(Debug, thiserror::Error)]
pub enum RealSetError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Manifest { path: PathBuf, source: Box<toml::de::Error> },
    #[error("{file}: field {key} = {value:?} is not a valid {kind:?}")]
    Value { file: String, key: String, value: String, kind: ValueKind },
    #[error("{file}: split must be dev or held_out, not {split:?}")]
    Split { file: String, split: String },
}

#[derive(Deserialize)]
struct Manifest {
    document: Vec<Entry>,
}

/// One `[[document]]` of the manifest (`source`, `license` and `truth` are for people).
#[derive(Deserialize)]
#[allow(dead_code)]
struct Entry {
    file: String,
    split: String,
    language: String,
    variant: Variant,
    doc_type: DocType,
    pages: u32,
    source: String,
    license: String,
    truth: String,
    fields: BTreeMap<String, String>,
}

/// Reads `dir/manifest.toml`; the documents are in `dir/files`.
pub fn load(dir: &Path) -> Result<Vec<LabeledDocument>, RealSetError> {
    let path = dir.join("manifest.toml");
    let text =
        std::fs::read_to_string(&path).map_err(|source| RealSetError::Io { path: path.clone(), source })?;
    let manifest: Manifest =
        toml::from_str(&text).map_err(|source| RealSetError::Manifest { path, source: Box::new(source) })?;
    manifest
        .document
        .into_iter()
        .map(|entry| {
            if entry.split != "dev" && entry.split != "held_out" {
                return Err(RealSetError::Split { file: entry.file, split: entry.split });
            }
            let fields = entry
                .fields
                .iter()
                .map(|(key, value)| Ok((key.clone(), typed(&entry.file, entry.doc_type, key, value)?)))
                .collect::<Result<_, RealSetError>>()?;
            let path = dir.join("files").join(&entry.file);
            Ok(LabeledDocument {
                path,
                truth: GroundTruth {
                    doc_type: entry.doc_type,
                    variant: entry.variant,
                    layout: entry.language.clone(),
                    file: entry.file,
                    pages: entry.pages,
                    fields,
                    language: Some(entry.language),
                    split: Some(entry.split),
                },
            })
        })
        .collect()
}

/// A manifest value as the type's schema says (text for keys it does not have, like `currency`).
fn typed(file: &str, doc_type: DocType, key: &str, value: &str) -> Result<FieldValue, RealSetError> {
    let kind = spec_of(doc_type, key).map_or(ValueKind::Text, |s| s.kind);
    let bad = || RealSetError::Value { file: file.into(), key: key.into(), value: value.into(), kind };
    Ok(match kind {
        ValueKind::Money => FieldValue::Money(Decimal::from_str(value).map_err(|_| bad())?),
        ValueKind::Number => FieldValue::Number(Decimal::from_str(value).map_err(|_| bad())?),
        ValueKind::Date => FieldValue::Date(value.parse().map_err(|_| bad())?),
        ValueKind::Time => FieldValue::Time(value.parse().map_err(|_| bad())?),
        ValueKind::Text | ValueKind::TaxId => FieldValue::Text(value.to_string()),
    })
}
