//! Upload validation and batch (zip) expansion.
//!
//! Every check looks at content: the type is sniffed from the bytes, the extension only has to
//! agree with it. An upload is refused with an [`UploadRejection`] that names the problem (each
//! has a stable [`UploadRejection::code`] for the API's problem type; all are client errors).
//! A PDF is opened with `pdfinfo` (pages, password, the size of each page), an image is decoded under allocation limits
//! (dimensions are checked from the header first, so a decompression bomb never allocates), and
//! a zip entry is inflated through a counting reader, so a lying header cannot make us expand
//! more than the limits allow.

use std::io::{Cursor, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::hash::ContentHash;
use crate::kind::{FileKind, Sniffed, sniff};
use crate::poppler::{self, PopplerError};

/// Upload limits (configurable; the defaults follow the issue and Azure's input limits).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UploadLimits {
    /// Largest accepted file, in bytes (25 MiB).
    pub max_bytes: u64,
    /// Most pages in a PDF or multi-page TIFF.
    pub max_pages: u32,
    /// Longest side of a PDF page, in points (1/72 in). Rendering a page costs memory with its
    /// area; 3,600 pt (50 in) admits every paper size up to ARCH E and A0.
    pub max_page_side_pt: u32,
    /// Largest image side in pixels (Azure accepts up to 10,000).
    pub max_image_side: u32,
    /// Smallest image side in pixels (Azure needs at least 50).
    pub min_image_side: u32,
    /// Most pixels in one image (bounds decoding memory: 1 byte per pixel for gray).
    pub max_image_pixels: u64,
    /// Most files in a batch zip (or entries in an Office file).
    pub max_zip_entries: usize,
    /// Most bytes a batch zip may expand to in total.
    pub max_zip_total_bytes: u64,
    /// Largest expansion ratio (uncompressed / compressed) of any entry or the whole archive.
    pub max_zip_ratio: u64,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            max_bytes: 25 * 1024 * 1024,
            max_pages: 200,
            max_page_side_pt: 3600,
            max_image_side: 10_000,
            min_image_side: 50,
            max_image_pixels: 60_000_000,
            max_zip_entries: 500,
            max_zip_total_bytes: 1024 * 1024 * 1024,
            max_zip_ratio: 100,
        }
    }
}

/// Why an upload was refused. Every variant is the client's problem (a 4xx).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum UploadRejection {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size} bytes; the limit is {limit}")]
    TooLarge { size: u64, limit: u64 },
    #[error("unsupported file type: {detail}")]
    UnsupportedType { detail: String },
    #[error("the name says .{extension} but the content is {detected}")]
    MismatchedExtension { extension: String, detected: String },
    #[error("the {what} is encrypted or password-protected")]
    Encrypted { what: String },
    #[error("the {kind} file is damaged: {detail}")]
    Corrupt { kind: String, detail: String },
    #[error("the document has {pages} pages; the limit is {limit}")]
    TooManyPages { pages: u32, limit: u32 },
    #[error(
        "page {page} is {width_pt}×{height_pt} pt; a page may be at most {limit_pt} pt ({} in) on a side",
        limit_pt / 72
    )]
    PageTooLarge { page: u32, width_pt: u32, height_pt: u32, limit_pt: u32 },
    #[error("the image is {width}×{height} pixels; {detail}")]
    BadImageDimensions { width: u32, height: u32, detail: String },
    #[error("the archive expands too much (a zip bomb?): {detail}")]
    ZipBomb { detail: String },
    #[error("the archive has {entries} entries; the limit is {limit}")]
    TooManyEntries { entries: usize, limit: usize },
    #[error("archives inside a batch are not expanded")]
    NestedArchive,
    #[error("the entry name {name:?} is not a safe relative path")]
    UnsafeEntryName { name: String },
    #[error("a batch upload must be a zip archive")]
    NotABatch,
}

impl UploadRejection {
    /// A stable machine-readable code (the API's problem `type` suffix).
    pub fn code(&self) -> &'static str {
        match self {
            UploadRejection::Empty => "empty",
            UploadRejection::TooLarge { .. } => "too_large",
            UploadRejection::UnsupportedType { .. } => "unsupported_type",
            UploadRejection::MismatchedExtension { .. } => "mismatched_extension",
            UploadRejection::Encrypted { .. } => "encrypted",
            UploadRejection::Corrupt { .. } => "corrupt",
            UploadRejection::TooManyPages { .. } => "too_many_pages",
            UploadRejection::PageTooLarge { .. } => "page_too_large",
            UploadRejection::BadImageDimensions { .. } => "bad_image_dimensions",
            UploadRejection::ZipBomb { .. } => "zip_bomb",
            UploadRejection::TooManyEntries { .. } => "too_many_entries",
            UploadRejection::NestedArchive => "nested_archive",
            UploadRejection::UnsafeEntryName { .. } => "unsafe_entry_name",
            UploadRejection::NotABatch => "not_a_batch",
        }
    }

    /// Whether the whole upload is too big to accept (HTTP 413) rather than malformed (422).
    pub fn is_too_large(&self) -> bool {
        matches!(self, UploadRejection::TooLarge { .. } | UploadRejection::TooManyEntries { .. })
    }
}

/// Validation failed: the upload is bad, or a tool we need is not working (a 5xx).
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Rejected(#[from] UploadRejection),
    #[error("document tools unavailable: {0}")]
    Unavailable(PopplerError),
}

/// A validated upload: what it is, its content address, and its size in pages and pixels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedUpload {
    pub kind: FileKind,
    pub hash: ContentHash,
    pub size: u64,
    /// PDF and TIFF page count; 1 for other images; 0 for files that are stored only.
    pub pages: u32,
    /// Width and height of an image (of its first page for TIFF).
    pub image_dimensions: Option<(u32, u32)>,
    /// The name the client gave, if any (display only; never used to decide anything).
    pub file_name: Option<String>,
}

/// Validates one uploaded file.
pub async fn validate_upload(
    bytes: &[u8],
    file_name: Option<&str>,
    limits: &UploadLimits,
) -> Result<AcceptedUpload, UploadError> {
    let size = bytes.len() as u64;
    if bytes.is_empty() {
        return Err(UploadRejection::Empty.into());
    }
    if size > limits.max_bytes {
        return Err(UploadRejection::TooLarge { size, limit: limits.max_bytes }.into());
    }
    let kind = match sniff(bytes) {
        Sniffed::Kind(kind) => kind,
        Sniffed::Zip => {
            return Err(UploadRejection::UnsupportedType {
                detail: "a zip archive; send it to the batch endpoint (`/v1/clients/{id}/documents/batch`)"
                    .into(),
            }
            .into());
        }
        Sniffed::OleCompound => return Err(ole_rejection(bytes).into()),
        Sniffed::Unknown => {
            return Err(UploadRejection::UnsupportedType {
                detail: "not a PDF, PNG, JPEG, TIFF, DOCX, XLSX, CSV or e-invoice XML file".into(),
            }
            .into());
        }
    };
    check_extension(file_name, kind)?;
    let (pages, image_dimensions) = match kind {
        FileKind::Pdf => (check_pdf(bytes, limits).await?, None),
        FileKind::Png | FileKind::Jpeg => {
            let (w, h) = check_image(bytes, kind, limits)?;
            (1, Some((w, h)))
        }
        FileKind::Tiff => {
            let (pages, dims) = check_tiff(bytes, limits)?;
            (pages, Some(dims))
        }
        FileKind::Docx | FileKind::Xlsx => {
            check_office_zip(bytes, kind, limits)?;
            (0, None)
        }
        FileKind::Csv => (0, None),
        FileKind::Xml => {
            check_e_invoice(bytes)?;
            (0, None)
        }
    };
    Ok(AcceptedUpload {
        kind,
        hash: ContentHash::of(bytes),
        size,
        pages,
        image_dimensions,
        file_name: file_name.map(str::to_string),
    })
}

/// The name to keep and show for a file the client named `raw`: its last path segment (either
/// slash), without control characters, at most 255 characters; `None` when nothing is left.
/// Names are display only, but they end up in `Content-Disposition` and in saved files' names.
pub fn display_name(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let clean: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    let clean = clean.trim();
    (!clean.is_empty() && clean.chars().any(|c| c != '.')).then(|| clean.to_owned())
}

/// An encrypted OOXML package is an OLE file holding an `EncryptedPackage` stream; any other
/// OLE file is a legacy Office format.
fn ole_rejection(bytes: &[u8]) -> UploadRejection {
    let marker: Vec<u8> = "EncryptedPackage".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    if bytes.windows(marker.len()).any(|w| w == marker.as_slice()) {
        UploadRejection::Encrypted { what: "Office document".into() }
    } else {
        UploadRejection::UnsupportedType {
            detail: "a legacy Office file (.doc/.xls); save it as PDF, DOCX or XLSX".into(),
        }
    }
}

fn check_extension(file_name: Option<&str>, detected: FileKind) -> Result<(), UploadRejection> {
    let Some(ext) = file_name.and_then(|n| Path::new(n).extension()).and_then(|e| e.to_str()) else {
        return Ok(());
    };
    let agrees = match FileKind::from_extension(ext) {
        Some(claimed) => claimed == detected,
        // Plain-text names are fine for delimited text.
        None => detected == FileKind::Csv && matches!(ext.to_ascii_lowercase().as_str(), "txt" | "tsv"),
    };
    if agrees {
        Ok(())
    } else {
        Err(UploadRejection::MismatchedExtension {
            extension: ext.to_string(),
            detected: detected.to_string(),
        })
    }
}

async fn check_pdf(bytes: &[u8], limits: &UploadLimits) -> Result<u32, UploadError> {
    let info = poppler::pdf_info(bytes, limits.max_pages).await.map_err(|e| match e {
        PopplerError::Encrypted => UploadError::Rejected(UploadRejection::Encrypted { what: "PDF".into() }),
        PopplerError::Corrupt(detail) => {
            UploadError::Rejected(UploadRejection::Corrupt { kind: "PDF".into(), detail })
        }
        PopplerError::OutOfMemory { .. } => {
            UploadError::Rejected(UploadRejection::Corrupt { kind: "PDF".into(), detail: e.to_string() })
        }
        other => UploadError::Unavailable(other),
    })?;
    if info.pages > limits.max_pages {
        return Err(UploadRejection::TooManyPages { pages: info.pages, limit: limits.max_pages }.into());
    }
    let limit = f64::from(limits.max_page_side_pt);
    for (page, size) in (1..).zip(&info.page_sizes) {
        if size.width > limit || size.height > limit {
            return Err(UploadRejection::PageTooLarge {
                page,
                width_pt: size.width.round() as u32,
                height_pt: size.height.round() as u32,
                limit_pt: limits.max_page_side_pt,
            }
            .into());
        }
    }
    Ok(info.pages)
}

/// An XML upload must be an e-invoice we can read (CII or UBL): other XML is refused as a type
/// we do not take, a broken e-invoice as a damaged file, each with what is wrong.
fn check_e_invoice(bytes: &[u8]) -> Result<(), UploadRejection> {
    use einvoice::EInvoiceError as E;
    match einvoice::parse(bytes) {
        Ok(_) => Ok(()),
        Err(e @ E::NotAnInvoice { .. }) => Err(UploadRejection::UnsupportedType {
            detail: format!("an XML file that is not an e-invoice: {e}"),
        }),
        Err(e @ (E::NotUtf8 | E::Xml(_))) => {
            Err(UploadRejection::Corrupt { kind: "XML".into(), detail: e.to_string() })
        }
        Err(e @ (E::Missing { .. } | E::BadAmount { .. } | E::BadDate { .. })) => {
            Err(UploadRejection::Corrupt { kind: "e-invoice".into(), detail: e.to_string() })
        }
    }
}

fn check_dimensions(width: u32, height: u32, limits: &UploadLimits) -> Result<(), UploadRejection> {
    let bad = |detail: String| Err(UploadRejection::BadImageDimensions { width, height, detail });
    if width.max(height) > limits.max_image_side {
        return bad(format!("the largest side allowed is {}", limits.max_image_side));
    }
    if width.min(height) < limits.min_image_side {
        return bad(format!("the smallest side allowed is {}", limits.min_image_side));
    }
    if u64::from(width) * u64::from(height) > limits.max_image_pixels {
        return bad(format!("at most {} pixels are allowed", limits.max_image_pixels));
    }
    Ok(())
}

fn image_limits(limits: &UploadLimits) -> image::Limits {
    let mut l = image::Limits::default();
    l.max_image_width = Some(limits.max_image_side);
    l.max_image_height = Some(limits.max_image_side);
    // RGBA at 4 bytes per pixel plus decoder scratch.
    l.max_alloc = Some(limits.max_image_pixels.saturating_mul(5));
    l
}

/// Reads the header for the dimensions, then decodes the whole image under allocation limits
/// (a truncated or garbled image fails here, not in the pipeline).
fn check_image(bytes: &[u8], kind: FileKind, limits: &UploadLimits) -> Result<(u32, u32), UploadRejection> {
    let format = match kind {
        FileKind::Png => image::ImageFormat::Png,
        _ => image::ImageFormat::Jpeg,
    };
    let corrupt =
        |e: image::ImageError| UploadRejection::Corrupt { kind: kind.to_string(), detail: e.to_string() };
    let (w, h) =
        image::ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(corrupt)?;
    check_dimensions(w, h, limits)?;
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(image_limits(limits));
    reader.decode().map_err(corrupt)?;
    Ok((w, h))
}

/// Counts TIFF pages and checks each page's dimensions; decodes the first page.
fn check_tiff(bytes: &[u8], limits: &UploadLimits) -> Result<(u32, (u32, u32)), UploadRejection> {
    let corrupt =
        |e: tiff::TiffError| UploadRejection::Corrupt { kind: "tiff".into(), detail: e.to_string() };
    let mut decoder = tiff::decoder::Decoder::new(Cursor::new(bytes)).map_err(corrupt)?;
    let first = decoder.dimensions().map_err(corrupt)?;
    check_dimensions(first.0, first.1, limits)?;
    let mut tiff_limits = tiff::decoder::Limits::default();
    tiff_limits.decoding_buffer_size =
        usize::try_from(limits.max_image_pixels.saturating_mul(8)).unwrap_or(usize::MAX);
    decoder = decoder.with_limits(tiff_limits);
    decoder.read_image().map_err(corrupt)?;
    let mut pages = 1u32;
    while decoder.more_images() {
        decoder.next_image().map_err(corrupt)?;
        pages += 1;
        if pages > limits.max_pages {
            return Err(UploadRejection::TooManyPages { pages, limit: limits.max_pages });
        }
        let (w, h) = decoder.dimensions().map_err(corrupt)?;
        check_dimensions(w, h, limits)?;
    }
    Ok((pages, first))
}

/// DOCX/XLSX are stored, not parsed: check the archive's declared shape so that whoever opens
/// it later is not handed a bomb.
fn check_office_zip(bytes: &[u8], kind: FileKind, limits: &UploadLimits) -> Result<(), UploadRejection> {
    let corrupt =
        |e: zip::result::ZipError| UploadRejection::Corrupt { kind: kind.to_string(), detail: e.to_string() };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(corrupt)?;
    if archive.len() > limits.max_zip_entries {
        return Err(UploadRejection::TooManyEntries {
            entries: archive.len(),
            limit: limits.max_zip_entries,
        });
    }
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(corrupt)?;
        if entry.encrypted() {
            return Err(UploadRejection::Encrypted { what: format!("{kind} document") });
        }
        check_ratio(entry.size(), entry.compressed_size(), limits)?;
        total = total.saturating_add(entry.size());
    }
    check_total(total, bytes.len() as u64, limits)
}

fn check_ratio(size: u64, compressed: u64, limits: &UploadLimits) -> Result<(), UploadRejection> {
    // Tiny entries compress arbitrarily well without being dangerous.
    if size > 1024 * 1024 && size / compressed.max(1) > limits.max_zip_ratio {
        return Err(UploadRejection::ZipBomb {
            detail: format!(
                "an entry expands {}× (limit {}×)",
                size / compressed.max(1),
                limits.max_zip_ratio
            ),
        });
    }
    Ok(())
}

fn check_total(total: u64, archive_size: u64, limits: &UploadLimits) -> Result<(), UploadRejection> {
    if total > limits.max_zip_total_bytes {
        return Err(UploadRejection::ZipBomb {
            detail: format!("it expands to {total} bytes (limit {})", limits.max_zip_total_bytes),
        });
    }
    if total > 1024 * 1024 && total / archive_size.max(1) > limits.max_zip_ratio {
        return Err(UploadRejection::ZipBomb {
            detail: format!("it expands {}× (limit {}×)", total / archive_size.max(1), limits.max_zip_ratio),
        });
    }
    Ok(())
}

/// One file of a batch: its name in the archive and either the accepted file or why not.
#[derive(Debug)]
pub struct BatchEntry {
    pub name: String,
    pub outcome: Result<BatchFile, UploadRejection>,
}

/// An accepted file from a batch, with its bytes (to be stored like a single upload).
#[derive(Debug)]
pub struct BatchFile {
    pub upload: AcceptedUpload,
    pub bytes: Vec<u8>,
}

/// Expands a batch zip into per-file results. Problems with the archive itself (not a zip,
/// damaged directory, too many entries, too big in total) refuse the whole batch; problems with
/// one file refuse only that file. Directories, `__MACOSX/` resource forks and hidden files are
/// skipped.
pub async fn expand_batch(zip_bytes: &[u8], limits: &UploadLimits) -> Result<Vec<BatchEntry>, UploadError> {
    if zip_bytes.is_empty() {
        return Err(UploadRejection::Empty.into());
    }
    if zip_bytes.len() as u64 > limits.max_bytes.saturating_mul(4) {
        return Err(
            UploadRejection::TooLarge { size: zip_bytes.len() as u64, limit: limits.max_bytes * 4 }.into()
        );
    }
    if sniff(zip_bytes) != Sniffed::Zip {
        return Err(UploadRejection::NotABatch.into());
    }
    let corrupt =
        |e: zip::result::ZipError| UploadRejection::Corrupt { kind: "zip".into(), detail: e.to_string() };
    let mut archive = zip::ZipArchive::new(Cursor::new(zip_bytes)).map_err(corrupt)?;
    if archive.len() > limits.max_zip_entries {
        return Err(UploadRejection::TooManyEntries {
            entries: archive.len(),
            limit: limits.max_zip_entries,
        }
        .into());
    }
    let mut declared_total = 0u64;
    for i in 0..archive.len() {
        declared_total = declared_total.saturating_add(archive.by_index_raw(i).map_err(corrupt)?.size());
    }
    check_total(declared_total, zip_bytes.len() as u64, limits)?;

    let mut entries = Vec::new();
    let mut inflated_total = 0u64;
    for i in 0..archive.len() {
        let (name, skip, encrypted, safe) = {
            let raw = archive.by_index_raw(i).map_err(corrupt)?;
            let name = String::from_utf8_lossy(raw.name_raw()).into_owned();
            let hidden =
                name.starts_with("__MACOSX/") || name.rsplit('/').next().is_some_and(|b| b.starts_with('.'));
            (name, raw.is_dir() || hidden, raw.encrypted(), raw.enclosed_name().is_some())
        };
        if skip {
            continue;
        }
        let outcome = if !safe {
            Err(UploadRejection::UnsafeEntryName { name: name.clone() })
        } else if encrypted {
            Err(UploadRejection::Encrypted { what: "zip entry".into() })
        } else {
            match inflate_entry(&mut archive, i, limits, &mut inflated_total)? {
                Err(rejection) => Err(rejection),
                Ok(bytes) if sniff(&bytes) == Sniffed::Zip => Err(UploadRejection::NestedArchive),
                Ok(bytes) => {
                    let base = name.rsplit('/').next().unwrap_or(&name).to_string();
                    match validate_upload(&bytes, Some(&base), limits).await {
                        Ok(upload) => Ok(BatchFile { upload, bytes }),
                        Err(UploadError::Rejected(r)) => Err(r),
                        Err(unavailable) => return Err(unavailable),
                    }
                }
            }
        };
        entries.push(BatchEntry { name, outcome });
    }
    Ok(entries)
}

/// Inflates one entry, never more than the per-file limit (+1 byte to notice the excess),
/// whatever its header claims. The outer error refuses the whole batch (total limit).
fn inflate_entry(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    index: usize,
    limits: &UploadLimits,
    inflated_total: &mut u64,
) -> Result<Result<Vec<u8>, UploadRejection>, UploadRejection> {
    let corrupt = |detail: String| UploadRejection::Corrupt { kind: "zip entry".into(), detail };
    let mut entry = match archive.by_index(index) {
        Ok(entry) => entry,
        Err(e) => return Ok(Err(corrupt(e.to_string()))),
    };
    let compressed = entry.compressed_size();
    let mut bytes = Vec::new();
    if let Err(e) = (&mut entry).take(limits.max_bytes + 1).read_to_end(&mut bytes) {
        return Ok(Err(corrupt(e.to_string())));
    }
    let size = bytes.len() as u64;
    *inflated_total += size;
    if *inflated_total > limits.max_zip_total_bytes {
        return Err(UploadRejection::ZipBomb {
            detail: format!("it expands past {} bytes", limits.max_zip_total_bytes),
        });
    }
    if size > limits.max_bytes {
        return Ok(Err(UploadRejection::TooLarge { size, limit: limits.max_bytes }));
    }
    if let Err(bomb) = check_ratio(size, compressed, limits) {
        return Ok(Err(bomb));
    }
    Ok(Ok(bytes))
}

#[cfg(test)]
mod tests {
    use doc_corpus::render::{Page, write_pdf};

    use super::*;

    #[test]
    fn display_names_are_base_names_without_control_characters() {
        assert_eq!(display_name("../../etc/passwd.pdf").as_deref(), Some("passwd.pdf"));
        assert_eq!(display_name("C:\\Users\\me\\scan.pdf").as_deref(), Some("scan.pdf"));
        assert_eq!(display_name(" bank\r\nstatement\u{7}.pdf ").as_deref(), Some("bankstatement.pdf"));
        assert_eq!(display_name("Résumé.pdf").as_deref(), Some("Résumé.pdf"));
        assert_eq!(display_name("a/b/.."), None);
        assert_eq!(display_name("dir/"), None);
        assert_eq!(display_name(&"x".repeat(300)).map(|n| n.chars().count()), Some(255));
    }

    #[tokio::test]
    async fn a_page_over_the_side_limit_is_refused_naming_the_limit() {
        let limits = UploadLimits::default();
        let pdf = write_pdf(&[Page::letter(), Page::new(7200.0, 7200.0)]);
        let refused = validate_upload(&pdf, Some("poster.pdf"), &limits).await.unwrap_err();
        let UploadError::Rejected(rejection) = refused else { panic!("{refused}") };
        assert_eq!(
            rejection,
            UploadRejection::PageTooLarge { page: 2, width_pt: 7200, height_pt: 7200, limit_pt: 3600 }
        );
        assert_eq!(
            rejection.to_string(),
            "page 2 is 7200×7200 pt; a page may be at most 3600 pt (50 in) on a side"
        );
        let a0 = write_pdf(&[Page::new(2384.0, 3370.0)]);
        assert_eq!(validate_upload(&a0, Some("a0.pdf"), &limits).await.unwrap().pages, 1);
    }

    #[tokio::test]
    async fn xml_is_taken_only_as_an_e_invoice() {
        let limits = UploadLimits::default();
        let ubl = "<Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2' \
            xmlns:cac='urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2' \
            xmlns:cbc='urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2'>\
            <cbc:ID>1</cbc:ID><cbc:IssueDate>2026-01-02</cbc:IssueDate>\
            <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>\
            <cac:AccountingSupplierParty><cac:Party><cac:PartyLegalEntity>\
            <cbc:RegistrationName>S</cbc:RegistrationName></cac:PartyLegalEntity></cac:Party></cac:AccountingSupplierParty>\
            <cac:LegalMonetaryTotal><cbc:TaxInclusiveAmount currencyID='EUR'>1.00</cbc:TaxInclusiveAmount>\
            </cac:LegalMonetaryTotal></Invoice>";
        let accepted = validate_upload(ubl.as_bytes(), Some("invoice.xml"), &limits).await.unwrap();
        assert_eq!((accepted.kind, accepted.pages), (FileKind::Xml, 0));
        let limits = &limits;
        let refused = |bytes: &'static [u8]| async move {
            match validate_upload(bytes, Some("a.xml"), limits).await {
                Err(UploadError::Rejected(r)) => r,
                other => panic!("{other:?}"),
            }
        };
        let svg = refused(b"<svg xmlns='http://www.w3.org/2000/svg'/>").await;
        assert!(
            matches!(&svg, UploadRejection::UnsupportedType { detail } if detail.contains("not an e-invoice")),
            "{svg}"
        );
        let broken = refused(b"<?xml version='1.0'?><Invoice><ID>1</Invoice>").await;
        assert!(matches!(&broken, UploadRejection::Corrupt { kind, .. } if kind == "XML"), "{broken}");
        let no_total =
            ubl.replace("<cbc:TaxInclusiveAmount currencyID='EUR'>1.00</cbc:TaxInclusiveAmount>", "");
        let r = validate_upload(no_total.as_bytes(), None, limits).await.unwrap_err();
        assert!(
            matches!(&r, UploadError::Rejected(UploadRejection::Corrupt { detail, .. }) if detail.contains("grand total")),
            "{r}"
        );
    }

    #[tokio::test]
    async fn a_zip_is_never_one_document_whatever_its_name() {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored =
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        zip.start_file("receipt.pdf", stored).unwrap();
        zip.write_all(&write_pdf(&[Page::letter()])).unwrap();
        let zip = zip.finish().unwrap().into_inner();
        let limits = UploadLimits::default();
        for name in ["bundle.pdf", "bundle.zip"] {
            let refused = validate_upload(&zip, Some(name), &limits).await.unwrap_err();
            assert!(
                matches!(&refused, UploadError::Rejected(UploadRejection::UnsupportedType { detail })
                    if detail.contains("/documents/batch")),
                "{name}: {refused}"
            );
        }
        let entries = expand_batch(&zip, &limits).await.unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].outcome.as_ref().unwrap().upload.kind, FileKind::Pdf);
    }
}
