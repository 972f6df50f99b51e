//! Why a file is not an e-invoice we can read.

/// Every variant names what is wrong in words a person sending the file can act on.
#[derive(Debug, thiserror::Error)]
pub enum EInvoiceError {
    #[error("the file is not UTF-8 text (e-invoices are UTF-8 XML)")]
    NotUtf8,
    #[error("the XML is not well-formed: {0}")]
    Xml(#[from] roxmltree::Error),
    #[error(
        "the XML is a <{root}> in namespace {namespace:?}, not a CII invoice (Factur-X, ZUGFeRD, XRechnung) or a UBL Invoice or CreditNote"
    )]
    NotAnInvoice { root: String, namespace: Option<String> },
    #[error("the invoice has no {what} ({path})")]
    Missing { what: &'static str, path: &'static str },
    #[error("{path} holds {value:?}, which is not an amount")]
    BadAmount { path: &'static str, value: String },
    #[error("{path} holds {value:?}, which is not a date")]
    BadDate { path: &'static str, value: String },
}
