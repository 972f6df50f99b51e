//! What a file is, decided from its bytes (never its name).
//!
//! Hand-written rather than the `infer` crate: the four OCR formats have fixed magic bytes, and
//! the Office formats are zip archives whose entries we must open anyway (to tell DOCX from XLSX
//! and to guard against zip bombs), which `infer` does not do under our limits.

use std::io::Cursor;

pub use domain::FileKind;

/// What the bytes look like, including formats we recognise only to refuse them clearly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniffed {
    Kind(FileKind),
    /// A zip archive that is not an Office document: a batch upload.
    Zip,
    /// An OLE compound file: an encrypted OOXML package or a legacy .doc/.xls.
    OleCompound,
    Unknown,
}

const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Sniffs the type from content. For zip archives, looks at the entry names (not their data).
/// Magic bytes at the start decide first: a PDF header found further in (within the first KiB,
/// as readers allow) counts only when nothing else starts the file, so a zip whose first entry
/// is a stored PDF is a zip, not a PDF.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    if bytes.starts_with(b"%PDF-") {
        return Sniffed::Kind(FileKind::Pdf);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Sniffed::Kind(FileKind::Png);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Sniffed::Kind(FileKind::Jpeg);
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return Sniffed::Kind(FileKind::Tiff);
    }
    if bytes.starts_with(OLE_MAGIC) {
        return Sniffed::OleCompound;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return sniff_zip(bytes);
    }
    if pdf_header_offset(bytes).is_some() {
        return Sniffed::Kind(FileKind::Pdf);
    }
    // Before CSV: an XML line may well hold commas.
    if looks_like_xml(bytes) {
        return Sniffed::Kind(FileKind::Xml);
    }
    if looks_like_csv(bytes) {
        return Sniffed::Kind(FileKind::Csv);
    }
    Sniffed::Unknown
}

/// PDF readers accept `%PDF-` within the first KiB (some producers prepend junk).
pub(crate) fn pdf_header_offset(bytes: &[u8]) -> Option<usize> {
    let head = &bytes[..bytes.len().min(1024)];
    head.windows(5).position(|w| w == b"%PDF-")
}

fn sniff_zip(bytes: &[u8]) -> Sniffed {
    let Ok(archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Sniffed::Zip;
    };
    let names: Vec<String> = archive.file_names().filter_map(|n| n.ok().map(|n| n.into_owned())).collect();
    let has = |name: &str| names.iter().any(|n| n == name);
    if has("[Content_Types].xml") {
        if has("word/document.xml") {
            return Sniffed::Kind(FileKind::Docx);
        }
        if has("xl/workbook.xml") {
            return Sniffed::Kind(FileKind::Xlsx);
        }
    }
    Sniffed::Zip
}

/// Markup: after a byte-order mark and blanks, an XML declaration, a comment or an element.
/// Whether it is an e-invoice is for intake to decide (it parses it).
fn looks_like_xml(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let rest = &bytes[start..];
    rest.starts_with(b"<?xml")
        || rest.starts_with(b"<!--")
        || (rest.len() > 1 && rest[0] == b'<' && rest[1].is_ascii_alphabetic())
}

/// Text that is valid UTF-8, has no control bytes but tabs and line ends, and whose first lines
/// split into the same number (≥ 2) of comma, semicolon or tab separated fields.
fn looks_like_csv(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    // A cut in the middle of a multi-byte character at the sample's end is fine.
    let text = match std::str::from_utf8(sample) {
        Ok(t) => t,
        Err(e) if e.valid_up_to() + 4 > sample.len() && e.error_len().is_none() => {
            std::str::from_utf8(&sample[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() || text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n')) {
        return false;
    }
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).take(20).collect();
    // The sample may end mid-line: ignore a last partial line when the file is longer.
    let lines =
        if bytes.len() > sample.len() && lines.len() > 1 { &lines[..lines.len() - 1] } else { &lines[..] };
    [',', ';', '\t'].iter().any(|&sep| {
        let count = |l: &str| split_fields(l, sep);
        let first = count(lines[0]);
        first >= 2 && lines.iter().all(|l| count(l) == first)
    })
}

/// Field count of one CSV line, honouring double quotes.
fn split_fields(line: &str, sep: char) -> usize {
    let mut fields = 1;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c == sep && !quoted => fields += 1,
            _ => {}
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_decide_the_kind() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Sniffed::Kind(FileKind::Pdf));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0"), Sniffed::Kind(FileKind::Png));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Sniffed::Kind(FileKind::Jpeg));
        assert_eq!(sniff(b"II*\0\x08\0\0\0"), Sniffed::Kind(FileKind::Tiff));
        assert_eq!(sniff(b"MM\0*\0\0\0\x08"), Sniffed::Kind(FileKind::Tiff));
        assert_eq!(sniff(OLE_MAGIC), Sniffed::OleCompound);
        assert_eq!(sniff(b"date,description,amount\n2024-01-02,Coffee,3.50\n"), Sniffed::Kind(FileKind::Csv));
        assert_eq!(sniff(b"a;b;c\r\n1;\"x;y\";3\r\n"), Sniffed::Kind(FileKind::Csv));
        assert_eq!(sniff(b"just a sentence, nothing else\nand another line"), Sniffed::Unknown);
        assert_eq!(sniff(b"MZ\x90\0binary"), Sniffed::Unknown);
        assert_eq!(sniff(b""), Sniffed::Unknown);
        assert_eq!(sniff(b"junk before the header\n%PDF-1.4\n"), Sniffed::Kind(FileKind::Pdf));
        assert_eq!(sniff(b"\xEF\xBB\xBF<?xml version='1.0'?><a>1,2</a>"), Sniffed::Kind(FileKind::Xml));
        assert_eq!(sniff(b"\n  <Invoice xmlns='urn:x'>a,b\nc,d</Invoice>"), Sniffed::Kind(FileKind::Xml));
        assert_eq!(sniff(b"<3,love\n<3,more\n"), Sniffed::Kind(FileKind::Csv));
    }

    #[test]
    fn a_zip_whose_first_entry_is_a_stored_pdf_is_a_zip() {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored =
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        zip.start_file("invoice.pdf", stored).unwrap();
        zip.write_all(b"%PDF-1.4\n%%EOF\n").unwrap();
        let zip = zip.finish().unwrap().into_inner();
        assert_eq!(sniff(&zip), Sniffed::Zip);
    }
}
