//! PDF work through poppler-utils subprocesses: `pdfinfo` (pages, encryption), `pdftotext
//! -layout` (the text layer, columns kept as runs of spaces) and `pdftoppm` (rasterising).
//!
//! Subprocesses rather than a PDF library: poppler is exact on our tests, costs nothing to
//! compile, is GPL only as a separate program, and a malformed upload can at worst crash a
//! child. Input goes through stdin (`fd://0`), output through stdout: no temporary files.
//! Rasterising for OCR always writes PGM (`-gray`): PNG encoding would cost 10× the rendering.

use std::process::Stdio;
use std::time::Duration;

use image::GrayImage;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// How long one poppler call may take before it is killed.
const TOOL_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum PopplerError {
    #[error("the PDF is encrypted and needs a password to open")]
    Encrypted,
    #[error("the PDF is damaged and cannot be read: {0}")]
    Corrupt(String),
    #[error("could not run {tool} (is poppler-utils installed?): {source}")]
    Spawn { tool: &'static str, source: std::io::Error },
    #[error("{tool} took longer than {0:?}", TOOL_TIMEOUT)]
    Timeout { tool: &'static str },
    #[error("{tool} produced output we cannot read: {detail}")]
    BadOutput { tool: &'static str, detail: String },
}

/// What `pdfinfo` says about a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PdfInfo {
    pub pages: u32,
    /// Encrypted but openable without a password (an owner password restricting permissions).
    pub permissions_restricted: bool,
}

struct ToolOutput {
    success: bool,
    stdout: Vec<u8>,
    stderr: String,
}

async fn run(tool: &'static str, args: &[&str], input: &[u8]) -> Result<ToolOutput, PopplerError> {
    let mut child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| PopplerError::Spawn { tool, source })?;
    let (mut stdin, mut stdout, mut stderr) =
        match (child.stdin.take(), child.stdout.take(), child.stderr.take()) {
            (Some(i), Some(o), Some(e)) => (i, o, e),
            _ => return Err(PopplerError::BadOutput { tool, detail: "pipes not available".into() }),
        };
    let work = async {
        let write = async {
            // The tool may stop reading early (e.g. on a broken file); that is not our error.
            let _ = stdin.write_all(input).await;
            drop(stdin);
        };
        let mut out = Vec::new();
        let mut err = Vec::new();
        let (_, out_res, err_res) =
            tokio::join!(write, stdout.read_to_end(&mut out), stderr.read_to_end(&mut err));
        out_res.and(err_res).map_err(|source| PopplerError::Spawn { tool, source })?;
        let status = child.wait().await.map_err(|source| PopplerError::Spawn { tool, source })?;
        Ok(ToolOutput {
            success: status.success(),
            stdout: out,
            stderr: String::from_utf8_lossy(&err).into_owned(),
        })
    };
    tokio::time::timeout(TOOL_TIMEOUT, work).await.map_err(|_| PopplerError::Timeout { tool })?
}

fn failure(out: &ToolOutput) -> PopplerError {
    if out.stderr.contains("Incorrect password") {
        return PopplerError::Encrypted;
    }
    let first = out.stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("unreadable");
    PopplerError::Corrupt(first.trim().to_string())
}

/// Page count and encryption, or why the PDF cannot be opened.
pub async fn pdf_info(pdf: &[u8]) -> Result<PdfInfo, PopplerError> {
    let out = run("pdfinfo", &["fd://0"], pdf).await?;
    if !out.success {
        return Err(failure(&out));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| {
        text.lines().find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(':')).map(str::trim))
    };
    let pages = field("Pages")
        .and_then(|p| p.parse::<u32>().ok())
        .ok_or_else(|| PopplerError::BadOutput { tool: "pdfinfo", detail: "no page count".into() })?;
    if pages == 0 {
        return Err(PopplerError::Corrupt("the PDF has no pages".into()));
    }
    let permissions_restricted = field("Encrypted").is_some_and(|v| v.starts_with("yes"));
    Ok(PdfInfo { pages, permissions_restricted })
}

/// The text layer, one string per page, laid out with `-layout` (columns as runs of spaces).
pub async fn pdf_text_pages(pdf: &[u8]) -> Result<Vec<String>, PopplerError> {
    let out = run("pdftotext", &["-layout", "-enc", "UTF-8", "fd://0", "-"], pdf).await?;
    if !out.success {
        return Err(failure(&out));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    // pdftotext ends every page with a form feed.
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_string).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    Ok(pages)
}

/// Renders one page (1-based) to 8-bit gray at `dpi`, through PGM.
pub async fn rasterize_page(pdf: &[u8], page: u32, dpi: u32) -> Result<GrayImage, PopplerError> {
    let (page, dpi) = (page.to_string(), dpi.to_string());
    let out = run("pdftoppm", &["-r", &dpi, "-gray", "-f", &page, "-l", &page, "fd://0"], pdf).await?;
    if !out.success || out.stdout.is_empty() {
        return Err(failure(&out));
    }
    image::load_from_memory_with_format(&out.stdout, image::ImageFormat::Pnm)
        .map(|img| img.into_luma8())
        .map_err(|e| PopplerError::BadOutput { tool: "pdftoppm", detail: e.to_string() })
}

/// The first page as a JPEG whose longer side is `max_side` pixels.
pub async fn first_page_jpeg(pdf: &[u8], max_side: u32) -> Result<Vec<u8>, PopplerError> {
    let side = max_side.to_string();
    let out = run("pdftoppm", &["-scale-to", &side, "-jpeg", "-f", "1", "-l", "1", "fd://0"], pdf).await?;
    if !out.success || out.stdout.is_empty() {
        return Err(failure(&out));
    }
    Ok(out.stdout)
}
