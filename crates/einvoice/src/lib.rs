//! Structured e-invoices read into a typed [`Invoice`], exactly as their XML says: no I/O, no
//! guessing. E-invoicing between businesses is mandatory in Germany from 2025 and in France from
//! 2026; the XML (alone, or embedded in a Factur-X/ZUGFeRD PDF) is the legal invoice, so every
//! field is read from it rather than from the PDF's text.
//!
//! # Layout
//! - [`parse`]: the one entry point; the root element's namespace picks the syntax.
//! - [`cii`]: UN/CEFACT CII — Factur-X/ZUGFeRD 2 (MINIMUM … EXTENDED), XRechnung CII, and
//!   ZUGFeRD 1.0's `CrossIndustryDocument`.
//! - [`ubl`]: OASIS UBL 2.1 `Invoice`/`CreditNote` — Peppol BIS Billing 3, XRechnung UBL.
//! - [`model`]: the typed invoice (EN 16931's business terms), [`error`]: why a file is refused.
//! - `xml`: paths of local names over a `roxmltree` tree (DTDs refused, nodes bounded).
//!
//! [`EMBEDDED_FILE_NAMES`] lists the names the XML has inside a PDF.

pub mod cii;
pub mod error;
pub mod model;
pub mod ubl;
mod xml;

pub use error::EInvoiceError;
pub use model::{AllowanceCharge, DocumentKind, Invoice, Line, Party, Profile, Syntax, Totals};

/// The names the standards give the invoice XML attached to a PDF (Factur-X and ZUGFeRD 2.1+,
/// ZUGFeRD 1.0 and 2.0, XRechnung in a ZUGFeRD container), compared without case.
pub const EMBEDDED_FILE_NAMES: &[&str] =
    &["factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml", "zugferd_invoice.xml"];

/// Reads an e-invoice from its XML bytes (UTF-8, a byte-order mark allowed).
pub fn parse(xml: &[u8]) -> Result<Invoice, EInvoiceError> {
    let doc = xml::parse(xml)?;
    let root = doc.root_element();
    let namespace = root.tag_name().namespace();
    match (namespace, root.tag_name().name()) {
        (Some(cii::NS_D16B), "CrossIndustryInvoice") => cii::read(root, Syntax::Cii),
        (Some(cii::NS_ZUGFERD1), "CrossIndustryDocument") => cii::read(root, Syntax::Zugferd1),
        (Some(ubl::NS_INVOICE), "Invoice") => ubl::read(root, DocumentKind::Invoice),
        (Some(ubl::NS_CREDIT_NOTE), "CreditNote") => ubl::read(root, DocumentKind::CreditNote),
        (namespace, name) => Err(EInvoiceError::NotAnInvoice {
            root: name.to_string(),
            namespace: namespace.map(str::to_string),
        }),
    }
}

/// Whether an embedded file's name is one the standards give the invoice XML.
pub fn is_invoice_file_name(name: &str) -> bool {
    let name = name.trim();
    EMBEDDED_FILE_NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
}
