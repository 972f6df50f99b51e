//! Tesseract in process (leptess over Debian's libtesseract 5): the default OCR engine.
//!
//! A [`TesseractPool`] owns one OS thread per core, each with its own Tesseract engine (the
//! handle is not `Sync`; initialisation costs ~0.1 s, so engines are created once and reused).
//! Pages are queued to the pool and recognised in parallel, one page per engine at a time.
//!
//! Tesseract's OpenMP parallelism must be off (`OMP_THREAD_LIMIT=1`): with it on, 2 cores run
//! 8–10× slower per page (deps.md §3). libgomp reads the variable when it is loaded, at process
//! start, so it has to be in the environment before the program runs; safe Rust cannot set it
//! later anyway. [`ensure_single_threaded_openmp`] re-executes the current program with it set
//! when it is missing; call it first thing in `main` (and in tests that use Tesseract).
//!
//! Languages: every page is read with English first. When the words read say the page is in
//! another of our languages ([`crate::language`]) whose Tesseract data is installed
//! (`tesseract-ocr-fra`, `-deu`, `-nld`, `-spa`), the page is read again with that language first
//! (and English after it): accents, `ß` and the language's words then come out right. English
//! pages cost nothing more; others cost a second recognition.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::future::{BoxFuture, join_all};
use image::GrayImage;
use leptess::tesseract::TessApi;
use tokio::sync::{Semaphore, oneshot};

use crate::kind::FileKind;
use crate::language::{self, Language};
use crate::ocr::preprocess;
use crate::ocr::{BBox, EngineId, OcrEngine, OcrError, OcrOutput, OcrPage, OcrRequest, OcrTimings, OcrWord};
use crate::poppler;

/// The variable and value that keep Tesseract single-threaded.
pub const OMP_THREAD_LIMIT: (&str, &str) = ("OMP_THREAD_LIMIT", "1");

/// Resolution at which PDF pages are rasterised for OCR.
pub const RASTER_DPI: u32 = 300;

/// Makes sure this process runs with `OMP_THREAD_LIMIT=1`: if it does not, replaces the process
/// with a fresh run of the same program and arguments with the variable set (Unix `exec`; this
/// function then never returns). Returns `Ok` when the variable was already set.
pub fn ensure_single_threaded_openmp() -> std::io::Result<()> {
    if std::env::var(OMP_THREAD_LIMIT.0).as_deref() == Ok(OMP_THREAD_LIMIT.1) {
        return Ok(());
    }
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe()?;
    let error = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(OMP_THREAD_LIMIT.0, OMP_THREAD_LIMIT.1)
        .exec();
    Err(error)
}

/// Whether the process runs with OpenMP limited to one thread.
pub fn openmp_is_single_threaded() -> bool {
    std::env::var(OMP_THREAD_LIMIT.0).as_deref() == Ok(OMP_THREAD_LIMIT.1)
}

/// The Tesseract library version (e.g. `5.3.0`).
pub fn tesseract_version() -> String {
    tesseract_plumbing::version().to_string_lossy().into_owned()
}

/// One page's recognised words and the time Tesseract spent on it.
struct Recognised {
    words: Vec<OcrWord>,
    millis: f64,
}

struct Job {
    image: GrayImage,
    dpi: Option<u32>,
    /// Tesseract's language string (`deu+eng`).
    languages: String,
    reply: oneshot::Sender<Result<Recognised, OcrError>>,
}

/// A fixed set of Tesseract engines on their own threads.
pub struct TesseractPool {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    threads: Vec<std::thread::JoinHandle<()>>,
    size: usize,
}

impl TesseractPool {
    /// A pool of `size` engines (use the number of cores). Engines start on their threads; an
    /// engine that cannot start (no `eng` language data) fails every page it is given.
    pub fn new(size: usize) -> TesseractPool {
        if !openmp_is_single_threaded() {
            tracing::warn!(
                "OMP_THREAD_LIMIT is not 1: Tesseract will run several times slower; call \
                 ensure_single_threaded_openmp() at start-up"
            );
        }
        let size = size.max(1);
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let threads = (0..size)
            .filter_map(|i| {
                let rx = Arc::clone(&rx);
                std::thread::Builder::new()
                    .name(format!("tesseract-{i}"))
                    .spawn(move || engine_thread(&rx))
                    .ok()
            })
            .collect();
        TesseractPool { jobs: Mutex::new(Some(tx)), threads, size }
    }

    /// A pool with one engine per available core.
    pub fn per_core() -> TesseractPool {
        TesseractPool::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    pub fn size(&self) -> usize {
        self.size
    }

    async fn recognise(
        &self,
        image: GrayImage,
        dpi: Option<u32>,
        languages: String,
    ) -> Result<Recognised, OcrError> {
        let (reply, answer) = oneshot::channel();
        let sent = {
            let jobs = self.jobs.lock().map_err(|_| OcrError::Engine("pool lock poisoned".into()))?;
            jobs.as_ref().map(|tx| tx.send(Job { image, dpi, languages, reply }).is_ok()).unwrap_or(false)
        };
        if !sent {
            return Err(OcrError::Engine("the Tesseract pool is shut down".into()));
        }
        answer.await.map_err(|_| OcrError::Engine("a Tesseract thread stopped".into()))?
    }
}

impl Drop for TesseractPool {
    fn drop(&mut self) {
        // Closing the channel ends every engine thread after its current page.
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn engine_thread(rx: &Mutex<mpsc::Receiver<Job>>) {
    // One engine per language string, started when first asked for and reused.
    let mut engines: HashMap<String, Result<TessApi, String>> = HashMap::new();
    loop {
        let job = match rx.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let engine = engines.entry(job.languages.clone()).or_insert_with(|| {
            TessApi::new(None, &job.languages).map_err(|e| {
                format!(
                    "Tesseract did not start with {} (is its language data installed?): {e:?}",
                    job.languages
                )
            })
        });
        let result = match engine {
            Ok(api) => recognise_page(api, &job.image, job.dpi),
            Err(message) => Err(OcrError::Engine(message.clone())),
        };
        let _ = job.reply.send(result);
    }
}

fn recognise_page(api: &mut TessApi, image: &GrayImage, dpi: Option<u32>) -> Result<Recognised, OcrError> {
    let (w, h) = image.dimensions();
    let (wi, hi) = (i32::try_from(w), i32::try_from(h));
    let (Ok(wi), Ok(hi)) = (wi, hi) else { return Err(OcrError::Image("image too large".into())) };
    let started = Instant::now();
    api.raw.set_image(image.as_raw(), wi, hi, 1, wi).map_err(|e| OcrError::Image(format!("{e:?}")))?;
    if let Some(dpi) = dpi {
        api.set_source_resolution(i32::try_from(dpi).unwrap_or(300));
    }
    let tsv = api.get_tsv_text(0).map_err(|e| OcrError::Engine(format!("TSV output is not UTF-8: {e}")))?;
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    Ok(Recognised { words: parse_tsv(&tsv), millis })
}

/// Words from Tesseract's TSV (`level page block par line word left top width height conf text`).
fn parse_tsv(tsv: &str) -> Vec<OcrWord> {
    tsv.lines()
        .filter_map(|line| {
            let cols: Vec<&str> = line.splitn(12, '\t').collect();
            if cols.len() < 12 || cols[0] != "5" {
                return None;
            }
            let n = |i: usize| cols[i].trim().parse::<f32>().ok();
            let (block, par, line_no) = (n(2)? as u32, n(3)? as u32, n(4)? as u32);
            let (left, top, width, height, conf) = (n(6)?, n(7)?, n(8)?, n(9)?, n(10)?);
            let text = cols[11].trim();
            if text.is_empty() || conf < 0.0 {
                return None;
            }
            Some(OcrWord {
                text: text.to_string(),
                bbox: BBox { x0: left, y0: top, x1: left + width, y1: top + height },
                confidence: (conf / 100.0).clamp(0.0, 1.0),
                line: Some((block << 20) | (par << 10) | line_no),
            })
        })
        .collect()
}

/// Page `page` (1-based) of a TIFF as 8-bit gray.
fn tiff_page(bytes: &[u8], page: u32) -> Result<GrayImage, OcrError> {
    use tiff::ColorType;
    use tiff::decoder::{Decoder, DecodingResult};
    let err = |e: tiff::TiffError| OcrError::Image(e.to_string());
    let mut decoder = Decoder::new(std::io::Cursor::new(bytes)).map_err(err)?;
    decoder.seek_to_image(page.saturating_sub(1) as usize).map_err(err)?;
    let (w, h) = decoder.dimensions().map_err(err)?;
    let color = decoder.colortype().map_err(err)?;
    let data = decoder.read_image().map_err(err)?;
    let pixels = (w as usize) * (h as usize);
    let gray: Vec<u8> = match (color, data) {
        (ColorType::Gray(8), DecodingResult::U8(v)) => v,
        (ColorType::Gray(16), DecodingResult::U16(v)) => v.iter().map(|p| (p >> 8) as u8).collect(),
        (ColorType::Gray(1), DecodingResult::U8(v)) => {
            let stride = (w as usize).div_ceil(8);
            (0..pixels)
                .map(|i| {
                    let (y, x) = (i / w as usize, i % w as usize);
                    let bit = (v.get(y * stride + x / 8).copied().unwrap_or(0) >> (7 - x % 8)) & 1;
                    // TIFF bilevel scans are usually WhiteIsZero-inverted; 1 = black is the common case.
                    if bit == 1 { 0 } else { 255 }
                })
                .collect()
        }
        (ColorType::RGB(8), DecodingResult::U8(v)) => v.chunks_exact(3).map(luma).collect(),
        (ColorType::RGBA(8), DecodingResult::U8(v)) => v.chunks_exact(4).map(luma).collect(),
        (other, _) => return Err(OcrError::Image(format!("unsupported TIFF pixel format {other:?}"))),
    };
    GrayImage::from_raw(w, h, gray).ok_or_else(|| OcrError::Image("TIFF page size mismatch".into()))
}

fn luma(rgb: &[u8]) -> u8 {
    ((u32::from(rgb[0]) * 299 + u32::from(rgb[1]) * 587 + u32::from(rgb[2]) * 114) / 1000) as u8
}

/// The page image to recognise, and its resolution.
///
/// Image files' resolution metadata is often missing or wrong, so for them none is given and
/// Tesseract estimates it from the text size.
async fn page_image(bytes: &[u8], kind: FileKind, page: u32) -> Result<(GrayImage, Option<u32>), OcrError> {
    let (mut image, dpi) = match kind {
        FileKind::Pdf => {
            // A page too big for the pixel budget comes back at a lower resolution.
            let (image, dpi) = poppler::rasterize_page(bytes, page, RASTER_DPI).await?;
            (image, Some(dpi))
        }
        FileKind::Png | FileKind::Jpeg => {
            (image::load_from_memory(bytes).map_err(|e| OcrError::Image(e.to_string()))?.into_luma8(), None)
        }
        FileKind::Tiff => (tiff_page(bytes, page)?, None),
        other => return Err(OcrError::NotOcrInput(other)),
    };
    let skew = preprocess::estimate_skew(&image);
    preprocess::remove_rules(&mut image, skew);
    Ok((image, dpi))
}

/// Where Tesseract looks for language data: `TESSDATA_PREFIX`, else Debian's
/// `/usr/share/tesseract-ocr/<version>/tessdata`.
fn tessdata_dirs() -> Vec<PathBuf> {
    if let Some(prefix) = std::env::var_os("TESSDATA_PREFIX") {
        return vec![PathBuf::from(prefix)];
    }
    std::fs::read_dir("/usr/share/tesseract-ocr")
        .map(|dirs| dirs.flatten().map(|d| d.path().join("tessdata")).collect())
        .unwrap_or_default()
}

/// Our languages besides English whose Tesseract data is installed.
pub fn installed_languages() -> Vec<Language> {
    let dirs = tessdata_dirs();
    Language::all()
        .filter(|l| *l != Language::En)
        .filter(|l| dirs.iter().any(|d| d.join(format!("{}.traineddata", l.tesseract())).is_file()))
        .collect()
}

/// The language to read a page again in: the language its English reading is in, when that is
/// another of ours and installed.
fn second_language(words: &[OcrWord], installed: &[Language]) -> Option<Language> {
    let text: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
    language::detect(&text.join(" ")).filter(|l| installed.contains(l))
}

/// The Tesseract [`OcrEngine`]: rasterises or decodes each page and recognises it in the pool.
pub struct TesseractEngine {
    pool: Arc<TesseractPool>,
    /// Languages besides English a page may be read again in.
    languages: Vec<Language>,
    /// Bounds pages being prepared at once (rasterising is CPU work too).
    preparing: Semaphore,
    id: EngineId,
}

impl TesseractEngine {
    pub fn new(pool: Arc<TesseractPool>) -> TesseractEngine {
        let permits = pool.size() + 1;
        let languages = installed_languages();
        let names: String = languages.iter().map(|l| format!(",{}", l.tesseract())).collect();
        TesseractEngine {
            pool,
            preparing: Semaphore::new(permits),
            id: EngineId {
                name: "tesseract".into(),
                version: format!("{}+eng{names}+psm3+r{RASTER_DPI}+layout1", tesseract_version()),
            },
            languages,
        }
    }

    async fn page(&self, request: OcrRequest<'_>, page: u32) -> Result<(OcrPage, f64, f64), OcrError> {
        let (image, dpi, prepare_ms) = {
            let _permit =
                self.preparing.acquire().await.map_err(|_| OcrError::Engine("engine closed".into()))?;
            // Timed once the slot is ours: waiting for it is queueing, not preparing.
            let started = Instant::now();
            let (image, dpi) = page_image(request.bytes, request.kind, page).await?;
            (image, dpi, started.elapsed().as_secs_f64() * 1000.0)
        };
        let (width, height) = image.dimensions();
        let second = (!self.languages.is_empty()).then(|| image.clone());
        let mut recognised = self.pool.recognise(image, dpi, "eng".into()).await?;
        if let Some(image) = second
            && let Some(language) = second_language(&recognised.words, &self.languages)
        {
            let again = self.pool.recognise(image, dpi, format!("{}+eng", language.tesseract())).await?;
            recognised = Recognised { words: again.words, millis: recognised.millis + again.millis };
        }
        Ok((
            OcrPage { number: page, width: width as f32, height: height as f32, words: recognised.words },
            prepare_ms,
            recognised.millis,
        ))
    }
}

impl OcrEngine for TesseractEngine {
    fn id(&self) -> EngineId {
        self.id.clone()
    }

    fn recognize<'a>(&'a self, request: OcrRequest<'a>) -> BoxFuture<'a, Result<OcrOutput, OcrError>> {
        Box::pin(async move {
            if !request.kind.is_ocr_input() {
                return Err(OcrError::NotOcrInput(request.kind));
            }
            let results = join_all(request.pages.iter().map(|&p| self.page(request, p))).await;
            let mut timings = OcrTimings::default();
            let mut pages = Vec::with_capacity(results.len());
            for result in results {
                let (page, prepare, recognise) = result?;
                timings.prepare_ms += prepare;
                timings.recognize_ms += recognise;
                pages.push(page);
            }
            Ok(OcrOutput { engine: self.id.clone(), pages, provider: None, timings })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tesseract_tsv_words() {
        let tsv = "1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n5\t1\t1\t1\t1\t1\t10\t20\t30\t12\t96.5\tTotal\n5\t1\t1\t1\t1\t2\t50\t20\t40\t12\t91\t$12.00\n5\t1\t1\t1\t2\t1\t10\t40\t5\t12\t-1\t \n";
        let words = parse_tsv(tsv);
        assert_eq!(words.len(), 2);
        assert_eq!(words[1].text, "$12.00");
        assert_eq!(words[1].bbox, BBox { x0: 50.0, y0: 20.0, x1: 90.0, y1: 32.0 });
        assert!((words[0].confidence - 0.965).abs() < 1e-6);
        assert_eq!(words[0].line, words[1].line);
    }

    #[test]
    fn a_page_is_read_again_in_its_language_when_its_data_is_installed() {
        let words: Vec<OcrWord> =
            "Rechnung gemäß Bestellung vom 01.03.2018. Zahlbar innerhalb 30 Tagen netto und ohne Abzug."
                .split(' ')
                .map(|w| OcrWord {
                    text: w.into(),
                    bbox: BBox { x0: 0.0, y0: 0.0, x1: 1.0, y1: 1.0 },
                    confidence: 0.9,
                    line: None,
                })
                .collect();
        assert_eq!(second_language(&words, &[Language::De, Language::Fr]), Some(Language::De));
        assert_eq!(second_language(&words, &[Language::Fr]), None, "no German data: English only");
    }
}
