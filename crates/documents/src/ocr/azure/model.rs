//! The service's JSON: operation status, `analyzeResult` and error bodies, for API versions
//! 2022-08-31, 2023-07-31 and 2024-11-30 (later versions add members; unknown ones are
//! ignored, and every member that some version lacks is optional).
//!
//! Numbers that may be money (`valueNumber`, `valueCurrency.amount`) are kept as raw JSON and
//! read as `Decimal`, never through `f64`. Geometry and confidences are plain floats.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatus {
    pub status: OperationState,
    pub created_date_time: Option<String>,
    pub last_updated_date_time: Option<String>,
    pub error: Option<ErrorDetail>,
    pub analyze_result: Option<AnalyzeResult>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OperationState {
    NotStarted,
    Running,
    Succeeded,
    Failed,
    Canceled,
    Skipped,
    #[serde(other)]
    Unknown,
}

/// `{"error": {...}}`, the body of every 4xx/5xx.
#[derive(Debug, Deserialize)]
pub struct ErrorResponse {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ErrorDetail {
    /// A word (`InvalidRequest`) from the service, or the status as a string (`"401"`) from
    /// the gateway.
    pub code: String,
    pub message: String,
    pub target: Option<String>,
    pub innererror: Option<InnerError>,
    #[serde(default)]
    pub details: Vec<ErrorDetail>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct InnerError {
    pub code: Option<String>,
    pub message: Option<String>,
    pub innererror: Option<Box<InnerError>>,
}

impl ErrorDetail {
    /// The innermost error code (the specific reason, e.g. `InvalidContent`).
    pub fn inner_code(&self) -> Option<&str> {
        let mut inner = self.innererror.as_ref()?;
        while let Some(next) = inner.innererror.as_deref() {
            if next.code.is_none() {
                break;
            }
            inner = next;
        }
        inner.code.as_deref()
    }

    /// The most specific message.
    pub fn inner_message(&self) -> &str {
        self.innererror.as_ref().and_then(|i| i.message.as_deref()).unwrap_or(&self.message)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct Span {
    pub offset: usize,
    pub length: usize,
}

impl Span {
    pub fn contains(&self, other: &Span) -> bool {
        other.offset >= self.offset && other.offset + other.length <= self.offset + self.length
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzeResult {
    pub api_version: String,
    pub model_id: String,
    pub string_index_type: Option<String>,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub pages: Vec<Page>,
    #[serde(default)]
    pub tables: Vec<Table>,
    #[serde(default)]
    pub documents: Vec<AnalyzedDocument>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    pub page_number: u32,
    pub angle: Option<f64>,
    pub width: Option<f64>,
    pub height: Option<f64>,
    pub unit: Option<String>,
    #[serde(default)]
    pub words: Vec<Word>,
    #[serde(default)]
    pub lines: Vec<Line>,
    #[serde(default)]
    pub spans: Vec<Span>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Word {
    pub content: String,
    /// GA versions: `[x1, y1, …, x4, y4]`.
    pub polygon: Option<Vec<f64>>,
    /// Preview versions before 2022-08-31.
    pub bounding_box: Option<Vec<f64>>,
    pub span: Span,
    pub confidence: Option<f64>,
}

impl Word {
    /// The word's axis-aligned box `(x0, y0, x1, y1)`.
    pub fn bounds(&self) -> Option<(f64, f64, f64, f64)> {
        let points = self.polygon.as_ref().or(self.bounding_box.as_ref())?;
        if points.len() < 4 || points.len() % 2 != 0 {
            return None;
        }
        let xs = points.iter().step_by(2);
        let ys = points.iter().skip(1).step_by(2);
        let (x0, x1) = xs.fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        let (y0, y1) = ys.fold((f64::MAX, f64::MIN), |(lo, hi), &y| (lo.min(y), hi.max(y)));
        Some((x0, y0, x1, y1))
    }
}

#[derive(Debug, Deserialize)]
pub struct Line {
    pub content: String,
    #[serde(default)]
    pub spans: Vec<Span>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    pub row_count: u32,
    pub column_count: u32,
    #[serde(default)]
    pub cells: Vec<TableCell>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableCell {
    pub kind: Option<String>,
    pub row_index: u32,
    pub column_index: u32,
    pub row_span: Option<u32>,
    pub column_span: Option<u32>,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub spans: Vec<Span>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzedDocument {
    pub doc_type: String,
    pub confidence: Option<f64>,
    #[serde(default)]
    pub fields: BTreeMap<String, DocumentField>,
    #[serde(default)]
    pub spans: Vec<Span>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyValue {
    pub amount: Box<RawValue>,
    pub currency_symbol: Option<String>,
    pub currency_code: Option<String>,
}

/// A typed field. Every `value*` is optional: the service returns `content` without a value
/// when it could not normalise it (a `currency` field reading "PT").
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentField {
    #[serde(rename = "type")]
    pub kind: String,
    pub content: Option<String>,
    pub confidence: Option<f64>,
    #[serde(default)]
    pub spans: Vec<Span>,
    pub value_string: Option<String>,
    pub value_date: Option<String>,
    pub value_time: Option<String>,
    pub value_phone_number: Option<String>,
    pub value_number: Option<Box<RawValue>>,
    pub value_integer: Option<Box<RawValue>>,
    pub value_currency: Option<CurrencyValue>,
    pub value_address: Option<serde_json::Value>,
    pub value_boolean: Option<bool>,
    pub value_selection_mark: Option<String>,
    pub value_signature: Option<String>,
    pub value_country_region: Option<String>,
    pub value_selection_group: Option<Vec<String>>,
    pub value_array: Option<Vec<DocumentField>>,
    pub value_object: Option<BTreeMap<String, DocumentField>>,
}

/// A JSON number as an exact decimal (`5432`, `610.0`, `1.5e3`).
pub fn decimal(raw: &RawValue) -> Option<Decimal> {
    let s = raw.get().trim();
    Decimal::from_str(s).ok().or_else(|| Decimal::from_scientific(s).ok())
}

impl DocumentField {
    /// The amount of a money field, typed `currency` (3.0+) or `number` (W-2, older receipts).
    pub fn amount(&self) -> Option<Decimal> {
        let raw = self.value_currency.as_ref().map(|c| &c.amount).or(self.value_number.as_ref())?;
        decimal(raw).map(|d| d.round_dp(2))
    }

    /// A plain number (quantities).
    pub fn number(&self) -> Option<Decimal> {
        self.value_number.as_ref().or(self.value_integer.as_ref()).and_then(|r| decimal(r))
    }

    /// The text of a string-like field: the normalised value, else the content read.
    pub fn text(&self) -> Option<&str> {
        self.value_string.as_deref().or(self.value_phone_number.as_deref()).or(self.content.as_deref())
    }

    pub fn object(&self, name: &str) -> Option<&DocumentField> {
        self.value_object.as_ref()?.get(name)
    }

    pub fn array(&self) -> &[DocumentField] {
        self.value_array.as_deref().unwrap_or(&[])
    }
}
