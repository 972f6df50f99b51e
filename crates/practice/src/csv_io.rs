//! The client CSV format, shared by import and export so a file exported can be imported.
//!
//! Columns (header row required; names are case-insensitive, spaces or hyphens allowed for
//! underscores; any order; only `business_name` required): business_name, legal_name, tax_id,
//! tax_id_kind, primary_contact_name, primary_contact_email, primary_contact_phone, business_type,
//! industry, website, status, risk_level, annual_revenue, tags (separated by `;`),
//! business_address, assigned_to_email. Export adds `id` and `created_at` first and `assigned_to`
//! (a member id) last; import ignores those three.

use api_types::clients::{ClientResponse, CreateClientRequest};

use crate::{PracticeError, PracticeResult};

const IMPORT_COLUMNS: &[&str] = &[
    "business_name",
    "legal_name",
    "tax_id",
    "tax_id_kind",
    "primary_contact_name",
    "primary_contact_email",
    "primary_contact_phone",
    "business_type",
    "industry",
    "website",
    "status",
    "risk_level",
    "annual_revenue",
    "tags",
    "business_address",
    "assigned_to_email",
];

/// Read-only columns of an export, accepted and ignored on import.
const EXPORT_ONLY: &[&str] = &["id", "created_at", "assigned_to"];

/// One data row, parsed but not yet validated as a client.
pub(crate) struct ImportRow {
    /// 1-based line in the file (the header is line 1).
    pub line: usize,
    pub request: CreateClientRequest,
    pub assigned_to_email: Option<String>,
    /// Values that did not even parse (an unknown status, a malformed amount).
    pub problems: Vec<(String, String)>,
}

pub(crate) fn parse_import(body: &[u8], max_rows: usize) -> PracticeResult<Vec<ImportRow>> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body); // Excel's BOM
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(body);
    let headers = reader
        .headers()
        .map_err(|e| PracticeError::Unreadable(format!("the first line must be a CSV header: {e}")))?
        .clone();
    let names: Vec<String> =
        headers.iter().map(|h| h.trim().to_lowercase().replace([' ', '-'], "_")).collect();
    let unknown: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !IMPORT_COLUMNS.contains(n) && !EXPORT_ONLY.contains(n))
        .collect();
    if !unknown.is_empty() {
        return Err(PracticeError::Unreadable(format!(
            "unknown column(s) {}; expected some of {}",
            unknown.join(", "),
            IMPORT_COLUMNS.join(", ")
        )));
    }
    if !names.iter().any(|n| n == "business_name") {
        return Err(PracticeError::Unreadable("the header must name a business_name column".into()));
    }
    let col = |name: &str| names.iter().position(|n| n == name);
    let idx: Vec<Option<usize>> = IMPORT_COLUMNS.iter().map(|c| col(c)).collect();

    let mut rows = Vec::new();
    let (mut counted_lines, mut counted_upto) = (0usize, 0usize);
    for record in reader.records() {
        if rows.len() >= max_rows {
            return Err(PracticeError::Unreadable(format!(
                "at most {max_rows} rows per import; split the file"
            )));
        }
        let record = record.map_err(|e| PracticeError::Unreadable(format!("unreadable CSV: {e}")))?;
        // Count lines ourselves from the byte offset: the reader does not count skipped blank lines.
        let mut offset = record.position().map_or(0, |p| p.byte() as usize).min(body.len());
        // The recorded position can sit on blank lines skipped before the record.
        while offset < body.len() && matches!(body[offset], b'\n' | b'\r') {
            offset += 1;
        }
        counted_lines += body[counted_upto..offset].iter().filter(|b| **b == b'\n').count();
        counted_upto = offset;
        let line = counted_lines + 1;
        if record.iter().all(|v| v.is_empty()) {
            continue;
        }
        if record.len() != names.len() {
            rows.push(ImportRow {
                line,
                request: CreateClientRequest::default(),
                assigned_to_email: None,
                problems: vec![(
                    "row".into(),
                    format!("has {} fields; the header has {}", record.len(), names.len()),
                )],
            });
            continue;
        }
        let get = |c: usize| idx[c].map(|i| undefused(&record[i]).to_owned()).filter(|v| !v.is_empty());
        let mut problems = Vec::new();
        let req = CreateClientRequest {
            business_name: get(0).unwrap_or_default(),
            legal_name: get(1),
            tax_id: get(2),
            tax_id_kind: enum_value(&mut problems, "tax_id_kind", get(3)),
            primary_contact_name: get(4),
            primary_contact_email: get(5),
            primary_contact_phone: get(6),
            business_type: enum_value(&mut problems, "business_type", get(7)),
            industry: get(8),
            website: get(9),
            status: enum_value(&mut problems, "status", get(10)),
            risk_level: enum_value(&mut problems, "risk_level", get(11)),
            annual_revenue: get(12).and_then(|v| {
                let cleaned = v.replace([',', '$'], "");
                match cleaned.parse() {
                    Ok(d) => Some(d),
                    Err(_) => {
                        problems.push(("annual_revenue".into(), format!("`{v}` is not an amount")));
                        None
                    }
                }
            }),
            assigned_to: None,
            tags: get(13)
                .map(|t| t.split(';').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default(),
            business_address: get(14),
        };
        rows.push(ImportRow { line, request: req, assigned_to_email: get(15), problems });
    }
    Ok(rows)
}

fn enum_value<T: serde::de::DeserializeOwned>(
    problems: &mut Vec<(String, String)>,
    field: &str,
    v: Option<String>,
) -> Option<T> {
    let v = v?;
    let normalized = v.trim().to_lowercase().replace([' ', '-'], "_");
    match serde_json::from_value::<T>(serde_json::Value::String(normalized)) {
        Ok(t) => Some(t),
        Err(_) => {
            problems.push((field.into(), format!("`{v}` is not a valid {field}")));
            None
        }
    }
}

pub(crate) fn export_header() -> String {
    let mut cols: Vec<&str> = vec!["id", "created_at"];
    cols.extend(IMPORT_COLUMNS.iter().filter(|c| **c != "assigned_to_email"));
    cols.push("assigned_to");
    format!("{}\n", cols.join(","))
}

pub(crate) fn export_rows(rows: &[ClientResponse]) -> Vec<u8> {
    let mut w =
        csv::WriterBuilder::new().has_headers(false).from_writer(Vec::with_capacity(rows.len() * 200));
    for c in rows {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        let e = |v: Option<&str>| v.unwrap_or("").to_owned();
        let record = [
            c.id.to_string(),
            c.created_at.to_rfc3339(),
            c.business_name.clone(),
            s(&c.legal_name),
            s(&c.tax_id),
            e(c.tax_id_kind.map(|k| match k {
                domain::TaxIdKind::Ein => "ein",
                domain::TaxIdKind::Ssn => "ssn",
            })),
            s(&c.primary_contact_name),
            s(&c.primary_contact_email),
            s(&c.primary_contact_phone),
            e(c.business_type.map(|b| b.as_str())),
            s(&c.industry),
            s(&c.website),
            c.status.as_str().to_owned(),
            c.risk_level.as_str().to_owned(),
            c.annual_revenue.map(|d| d.to_string()).unwrap_or_default(),
            c.tags.join(";"),
            s(&c.business_address),
            c.assigned_to.map(|u| u.to_string()).unwrap_or_default(),
        ];
        // Writing to a Vec cannot fail.
        let _ = w.write_record(record.iter().map(|cell| defused(cell).into_owned()));
    }
    w.into_inner().unwrap_or_default()
}

/// Characters that make a spreadsheet read a cell as a formula (OWASP's CSV injection list).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell a spreadsheet will show as text: a leading formula character gets an apostrophe before it.
fn defused(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) { format!("'{cell}").into() } else { cell.into() }
}

/// The cell as written before [`defused`] (so an export imports back unchanged).
fn undefused(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_exported_as_text_and_import_back_unchanged() {
        for (cell, exported) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1 415 555 0100", "'+1 415 555 0100"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("Acme = good", "Acme = good"),
            ("'quoted", "'quoted"),
        ] {
            assert_eq!(defused(cell), exported);
            assert_eq!(undefused(&defused(cell)), cell);
        }
    }

    #[test]
    fn parses_headers_loosely_and_flags_bad_values_per_row() {
        let csv = "\u{feff}Business Name,Tax-ID,Status,Annual Revenue,Tags\n\
                   Acme LLC,12-3456789,active,\"$1,200.50\",a; b\n\
                   ,,bogus,abc,\n\
                   \n\
                   Beta,,prospect,,\n";
        let rows = parse_import(csv.as_bytes(), 10).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].request.business_name, "Acme LLC");
        assert_eq!(rows[0].request.annual_revenue.unwrap().to_string(), "1200.50");
        assert_eq!(rows[0].request.tags, vec!["a", "b"]);
        let fields: Vec<&str> = rows[1].problems.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, vec!["status", "annual_revenue"]);
        assert_eq!(rows[2].line, 5);
    }

    #[test]
    fn refuses_files_it_cannot_read() {
        assert!(matches!(parse_import(b"name,whatever\nx,y\n", 10), Err(PracticeError::Unreadable(_))));
        assert!(matches!(parse_import(b"legal_name\nx\n", 10), Err(PracticeError::Unreadable(_))));
        assert!(matches!(parse_import(b"business_name\na\nb\nc\n", 2), Err(PracticeError::Unreadable(_))));
        let ragged = parse_import(b"business_name,industry\na\n", 10).unwrap();
        assert_eq!(ragged[0].problems[0].0, "row");
    }
}
