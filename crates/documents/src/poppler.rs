//! PDF work through poppler-utils subprocesses: `pdfinfo` (pages, encryption, page boxes),
//! `pdftotext -layout` (the text layer, columns kept as runs of spaces), `pdftotext
//! -bbox-layout` (the text layer's words and their boxes), `pdftoppm` (rasterising) and
//! `pdfdetach` (embedded files: the XML of a Factur-X/ZUGFeRD e-invoice).
//!
//! Subprocesses rather than a PDF library: poppler is exact on our tests, costs nothing to
//! compile, is GPL only as a separate program, and a malformed upload can at worst crash a
//! child. Input goes through stdin (`fd://0`), output through stdout: no temporary files.
//! Rasterising for OCR always writes PGM (`-gray`): PNG encoding would cost 10× the rendering.
//!
//! A hostile PDF can ask for anything (a 463-byte file with a 7,200 pt page rendered at 300 dpi
//! is a 900-megapixel bitmap), so every render is bounded three ways: the resolution is lowered
//! until the page fits in [`MAX_RENDER_PIXELS`], every child runs under `prlimit --as`
//! ([`CHILD_ADDRESS_SPACE`]; util-linux, as `setrlimit` in `pre_exec` would need `unsafe`), and
//! at most [`CONCURRENT_RENDERS`] `pdftoppm` run at once in this process.

use std::process::Stdio;
use std::time::Duration;

use image::GrayImage;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::Semaphore;

use crate::words::{BBox, OcrPage, OcrWord};

/// How long one poppler call may take before it is killed.
const TOOL_TIMEOUT: Duration = Duration::from_secs(120);

/// Most pixels one rendered page may have (an A3 page at 300 dpi is 17.4 million); larger pages
/// are rendered at a lower resolution.
pub const MAX_RENDER_PIXELS: u64 = 25_000_000;

/// Address space each poppler child may use (rendering a letter page at 300 dpi fits in 64 MiB;
/// the rest is room for embedded images and fonts).
pub const CHILD_ADDRESS_SPACE: u64 = 512 * 1024 * 1024;

/// `pdftoppm` children running at once in this process (with [`CHILD_ADDRESS_SPACE`], at most
/// 2 GiB for rendering).
pub const CONCURRENT_RENDERS: usize = 4;

static RENDERS: Semaphore = Semaphore::const_new(CONCURRENT_RENDERS);

/// Largest embedded file we extract: an e-invoice's XML is tens of KiB (a thousand lines about
/// 1 MiB), and a compressed stream could otherwise inflate without bound.
pub const MAX_EMBEDDED_FILE: usize = 16 * 1024 * 1024;

/// Output we read from any other tool (a 200-page text layer, a 25 Mpx page).
const MAX_TOOL_OUTPUT: usize = 512 * 1024 * 1024;

/// `prlimit` exits with this when it cannot start the tool.
const EXEC_FAILED: i32 = 127;

#[derive(Debug, thiserror::Error)]
pub enum PopplerError {
    #[error("the PDF is encrypted and needs a password to open")]
    Encrypted,
    #[error("the PDF is damaged and cannot be read: {0}")]
    Corrupt(String),
    #[error("could not run {tool} (are poppler-utils and prlimit, of util-linux, installed?): {source}")]
    Spawn { tool: &'static str, source: std::io::Error },
    #[error("{tool} took longer than {0:?}", TOOL_TIMEOUT)]
    Timeout { tool: &'static str },
    #[error("{tool} produced output we cannot read: {detail}")]
    BadOutput { tool: &'static str, detail: String },
    /// The child hit its memory limit: the document asks for more than we give one page.
    #[error("{tool} ran out of its {} MiB of memory on this document", CHILD_ADDRESS_SPACE >> 20)]
    OutOfMemory { tool: &'static str },
    #[error("{tool} wrote more than {limit} bytes")]
    OutputTooLarge { tool: &'static str, limit: usize },
}

/// What `pdfinfo` says about a document.
#[derive(Clone, Debug, PartialEq)]
pub struct PdfInfo {
    pub pages: u32,
    /// Encrypted but openable without a password (an owner password restricting permissions).
    pub permissions_restricted: bool,
    /// The media box (what `pdftoppm` renders) of each page asked for, in order.
    pub page_sizes: Vec<PageSize>,
}

/// A page's media box in points (1/72 in).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PageSize {
    pub width: f64,
    pub height: f64,
}

impl PageSize {
    /// The highest resolution, up to `dpi`, at which the page fits in [`MAX_RENDER_PIXELS`].
    pub fn render_dpi(self, dpi: u32) -> u32 {
        let square_inches = (self.width / 72.0) * (self.height / 72.0);
        if square_inches <= 0.0 {
            return dpi;
        }
        // pdftoppm rounds each side up: keep a pixel of slack per side.
        let fitting = ((MAX_RENDER_PIXELS as f64) / square_inches).sqrt() * 0.99;
        dpi.min(fitting.floor().max(1.0) as u32)
    }
}

struct ToolOutput {
    success: bool,
    stdout: Vec<u8>,
    stderr: String,
}

/// Runs `tool` under the address-space limit, feeding it `input`.
async fn run(tool: &'static str, args: &[&str], input: &[u8]) -> Result<ToolOutput, PopplerError> {
    run_capped(tool, args, input, MAX_TOOL_OUTPUT).await
}

/// [`run`], reading at most `max_output` bytes of output: past that the pipe is closed (the
/// child dies of SIGPIPE) and the call fails.
async fn run_capped(
    tool: &'static str,
    args: &[&str],
    input: &[u8],
    max_output: usize,
) -> Result<ToolOutput, PopplerError> {
    let mut child = Command::new("prlimit")
        .arg(format!("--as={CHILD_ADDRESS_SPACE}"))
        .arg("--")
        .arg(tool)
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
        let read_out = async {
            let read = (&mut stdout).take(max_output as u64 + 1).read_to_end(&mut out).await;
            drop(stdout);
            read
        };
        let (_, out_res, err_res) = tokio::join!(write, read_out, stderr.read_to_end(&mut err));
        out_res.and(err_res).map_err(|source| PopplerError::Spawn { tool, source })?;
        if out.len() > max_output {
            return Err(PopplerError::OutputTooLarge { tool, limit: max_output });
        }
        let status = child.wait().await.map_err(|source| PopplerError::Spawn { tool, source })?;
        if status.code() == Some(EXEC_FAILED) {
            let detail = String::from_utf8_lossy(&err).trim().to_string();
            return Err(PopplerError::Spawn { tool, source: std::io::Error::other(detail) });
        }
        let stderr = String::from_utf8_lossy(&err).into_owned();
        // poppler's allocator reports a refused allocation (pdftoppm then exits 0 with a
        // truncated image); C++ allocations abort with `bad_alloc`.
        if stderr.contains("Out of memory") || stderr.contains("bad_alloc") {
            return Err(PopplerError::OutOfMemory { tool });
        }
        Ok(ToolOutput { success: status.success(), stdout: out, stderr })
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

/// Page count, encryption and the media boxes of pages 1 to `measure` (at most), or why the PDF
/// cannot be opened.
pub async fn pdf_info(pdf: &[u8], measure: u32) -> Result<PdfInfo, PopplerError> {
    info(pdf, 1, measure.max(1)).await
}

/// The media box of one page (1-based).
pub async fn page_size(pdf: &[u8], page: u32) -> Result<PageSize, PopplerError> {
    info(pdf, page, page).await?.page_sizes.first().copied().ok_or_else(|| PopplerError::BadOutput {
        tool: "pdfinfo",
        detail: format!("no media box for page {page}"),
    })
}

async fn info(pdf: &[u8], first: u32, last: u32) -> Result<PdfInfo, PopplerError> {
    let (first, last) = (first.to_string(), last.to_string());
    let out = run("pdfinfo", &["-box", "-f", &first, "-l", &last, "fd://0"], pdf).await?;
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
    let page_sizes = text.lines().filter_map(media_box).collect();
    Ok(PdfInfo { pages, permissions_restricted, page_sizes })
}

/// `Page    1 MediaBox:      0.00     0.00   612.00   792.00` → 612 × 792.
fn media_box(line: &str) -> Option<PageSize> {
    let rest = line.strip_prefix("Page")?;
    let (_, coords) = rest.split_once("MediaBox:")?;
    let c: Vec<f64> = coords.split_whitespace().map(str::parse).collect::<Result<_, _>>().ok()?;
    let [x1, y1, x2, y2] = c[..] else { return None };
    Some(PageSize { width: (x2 - x1).abs(), height: (y2 - y1).abs() })
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

/// The text layer's words with their boxes (points, top-left origin), one [`OcrPage`] per page,
/// from `pdftotext -bbox-layout` (confidence 1: the text is exact).
pub async fn pdf_text_words(pdf: &[u8]) -> Result<Vec<OcrPage>, PopplerError> {
    let out = run("pdftotext", &["-bbox-layout", "-enc", "UTF-8", "fd://0", "-"], pdf).await?;
    if !out.success {
        return Err(failure(&out));
    }
    Ok(parse_bbox_layout(&String::from_utf8_lossy(&out.stdout)))
}

/// Reads `<page width=… height=…>` and `<word xMin=… yMin=… xMax=… yMax=…>text</word>` elements
/// (pdftotext writes one element a line).
fn parse_bbox_layout(xhtml: &str) -> Vec<OcrPage> {
    let attr = |tag: &str, name: &str| -> Option<f32> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let end = tag[at..].find('"')? + at;
        tag[at..end].parse().ok()
    };
    let mut pages: Vec<OcrPage> = Vec::new();
    for line in xhtml.lines().map(str::trim) {
        if line.starts_with("<page ") {
            pages.push(OcrPage {
                number: pages.len() as u32 + 1,
                width: attr(line, "width").unwrap_or(0.0),
                height: attr(line, "height").unwrap_or(0.0),
                words: Vec::new(),
            });
        } else if line.starts_with("<word ")
            && let (Some(page), Some(open_end), Some(close)) =
                (pages.last_mut(), line.find('>'), line.rfind("</word>"))
            && let (Some(x0), Some(y0), Some(x1), Some(y1)) =
                (attr(line, "xMin"), attr(line, "yMin"), attr(line, "xMax"), attr(line, "yMax"))
            && open_end < close
        {
            page.words.push(OcrWord {
                text: unescape_xml(&line[open_end + 1..close]),
                bbox: BBox { x0, y0, x1, y1 },
                confidence: 1.0,
                line: None,
            });
        }
    }
    pages
}

/// The five XML entities and numeric references pdftotext escapes with.
fn unescape_xml(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The files embedded in a PDF (its `EmbeddedFiles` name tree and file attachment
/// annotations), as `pdfdetach -list` numbers and names them.
pub async fn pdf_embedded_files(pdf: &[u8]) -> Result<Vec<(u32, String)>, PopplerError> {
    let out = run("pdfdetach", &["-list", "-enc", "UTF-8", "fd://0"], pdf).await?;
    if !out.success {
        return Err(failure(&out));
    }
    Ok(parse_embedded_list(&String::from_utf8_lossy(&out.stdout)))
}

/// `2 embedded files` then `1: Bon_de_livraison.pdf`, `2: factur-x.xml`.
fn parse_embedded_list(listing: &str) -> Vec<(u32, String)> {
    listing
        .lines()
        .filter_map(|line| {
            let (number, name) = line.split_once(": ")?;
            Some((number.trim().parse().ok()?, name.trim().to_string()))
        })
        .collect()
}

/// The content of embedded file `number` (as [`pdf_embedded_files`] numbers them), at most
/// [`MAX_EMBEDDED_FILE`] bytes.
pub async fn pdf_embedded_file(pdf: &[u8], number: u32) -> Result<Vec<u8>, PopplerError> {
    let number = number.to_string();
    let args = ["-save", &number, "-o", "/dev/stdout", "fd://0"];
    let out = run_capped("pdfdetach", &args, pdf, MAX_EMBEDDED_FILE).await?;
    if !out.success {
        return Err(failure(&out));
    }
    Ok(out.stdout)
}

/// Renders one page (1-based) to 8-bit gray at `dpi`, or lower when the page would not fit in
/// [`MAX_RENDER_PIXELS`]; returns the image and the resolution used.
pub async fn rasterize_page(pdf: &[u8], page: u32, dpi: u32) -> Result<(GrayImage, u32), PopplerError> {
    let dpi = page_size(pdf, page).await?.render_dpi(dpi);
    let (page, dpi_arg) = (page.to_string(), dpi.to_string());
    let out = render(&["-r", &dpi_arg, "-gray", "-f", &page, "-l", &page, "fd://0"], pdf).await?;
    if !out.success || out.stdout.is_empty() {
        return Err(failure(&out));
    }
    let image = image::load_from_memory_with_format(&out.stdout, image::ImageFormat::Pnm)
        .map(|img| img.into_luma8())
        .map_err(|e| PopplerError::BadOutput { tool: "pdftoppm", detail: e.to_string() })?;
    Ok((image, dpi))
}

/// The first page as a JPEG whose longer side is `max_side` pixels.
pub async fn first_page_jpeg(pdf: &[u8], max_side: u32) -> Result<Vec<u8>, PopplerError> {
    let side = max_side.to_string();
    let out = render(&["-scale-to", &side, "-jpeg", "-f", "1", "-l", "1", "fd://0"], pdf).await?;
    if !out.success || out.stdout.is_empty() {
        return Err(failure(&out));
    }
    Ok(out.stdout)
}

/// Runs `pdftoppm` once a render slot is free.
async fn render(args: &[&str], pdf: &[u8]) -> Result<ToolOutput, PopplerError> {
    // The semaphore is never closed.
    let _slot = RENDERS.acquire().await.map_err(|e| PopplerError::Spawn {
        tool: "pdftoppm",
        source: std::io::Error::other(e.to_string()),
    })?;
    run("pdftoppm", args, pdf).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-page PDF with an empty page of `width` × `height` points.
    fn blank_pdf(width: u32, height: u32) -> Vec<u8> {
        doc_corpus::render::write_pdf(&[doc_corpus::render::Page::new(width as f32, height as f32)])
    }

    #[test]
    fn embedded_file_listings_are_numbered_names() {
        let listing = "2 embedded files\n1: Bon_de_livraison.pdf\n2: factur-x.xml\n";
        assert_eq!(
            parse_embedded_list(listing),
            [(1, "Bon_de_livraison.pdf".to_string()), (2, "factur-x.xml".to_string())]
        );
        assert!(parse_embedded_list("0 embedded files\n").is_empty());
    }

    #[tokio::test]
    async fn a_pdf_without_attachments_lists_none() {
        assert!(pdf_embedded_files(&blank_pdf(612, 792)).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn pdfinfo_reports_each_pages_media_box() {
        let info = pdf_info(&blank_pdf(7200, 7200), 200).await.unwrap();
        assert_eq!(info.pages, 1);
        assert_eq!(info.page_sizes, [PageSize { width: 7200.0, height: 7200.0 }]);
        assert_eq!(
            page_size(&blank_pdf(612, 792), 1).await.unwrap(),
            PageSize { width: 612.0, height: 792.0 }
        );
    }

    #[tokio::test]
    async fn a_huge_page_renders_within_the_pixel_budget() {
        // 2,000 pt square at 300 dpi would be 69 million pixels.
        let (image, dpi) = rasterize_page(&blank_pdf(2000, 2000), 1, 300).await.unwrap();
        let pixels = u64::from(image.width()) * u64::from(image.height());
        assert!(pixels <= MAX_RENDER_PIXELS, "{}×{} at {dpi} dpi", image.width(), image.height());
        assert!(dpi < 300 && dpi > 150, "{dpi}");
        // A letter page keeps the resolution asked for.
        let (image, dpi) = rasterize_page(&blank_pdf(612, 792), 1, 300).await.unwrap();
        assert_eq!((image.width(), image.height(), dpi), (2550, 3300, 300));
    }

    #[tokio::test]
    async fn a_render_past_the_memory_limit_fails_instead_of_taking_the_memory() {
        // 7,200 pt at 300 dpi: a 900-megapixel bitmap, refused by the address-space limit.
        let out = run("pdftoppm", &["-r", "300", "-gray", "fd://0"], &blank_pdf(7200, 7200)).await;
        assert!(matches!(out, Err(PopplerError::OutOfMemory { tool: "pdftoppm" })), "{:?}", out.err());
    }

    #[tokio::test]
    async fn the_text_layers_words_come_with_their_boxes() {
        use doc_corpus::render::{Font, Page};
        let mut page = Page::new(300.0, 400.0);
        page.text(20.0, 100.0, 10.0, Font::Courier, "Total: 12.50 & <tax>");
        let pages =
            pdf_text_words(&doc_corpus::render::write_pdf(&[page, Page::new(200.0, 100.0)])).await.unwrap();
        assert_eq!(pages.len(), 2);
        assert_eq!((pages[0].width, pages[0].height, pages[1].width), (300.0, 400.0, 200.0));
        let words: Vec<&str> = pages[0].words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(words, ["Total:", "12.50", "&", "<tax>"]);
        // Courier: 6 pt a character at 10 pt; "12.50" starts after "Total: " (7 characters).
        let b = pages[0].words[1].bbox;
        assert!((b.x0 - 62.0).abs() < 0.5 && (b.x1 - 92.0).abs() < 0.5, "{b:?}");
        assert!(b.y0 < 100.0 && b.y1 > 98.0 && b.y0 > 88.0, "baseline 100 lies in the box: {b:?}");
        assert!(pages[1].words.is_empty());
    }

    #[test]
    fn xml_entities_are_read_back() {
        assert_eq!(unescape_xml("a&amp;b&lt;&gt;&quot;&apos;&#233;&#x41;&bogus"), "a&b<>\"'éA&bogus");
    }

    #[test]
    fn the_render_resolution_fits_the_page_in_the_budget() {
        let letter = PageSize { width: 612.0, height: 792.0 };
        assert_eq!(letter.render_dpi(300), 300);
        let huge = PageSize { width: 7200.0, height: 7200.0 };
        let dpi = huge.render_dpi(300);
        let side = (100.0 * f64::from(dpi)).ceil() as u64;
        assert!(side * side <= MAX_RENDER_PIXELS, "{dpi}");
    }
}
