//! Making a digital PDF look scanned: rasterise it (poppler's `pdftoppm`, gray PGM), then
//! rotate slightly, blur, add sensor noise, and save as JPEG, PNG, TIFF or an image-only PDF.
//! Rotation is the OCR pre-processing's own; noise is hand-written (a few lines); blur is the
//! `image` crate's.

use std::io::{Cursor, Write};
use std::process::{Command, Stdio};

use documents::ocr::preprocess::rotate;
use image::GrayImage;
use rand::Rng;

use crate::render::write_image_pdf;
use crate::values::Rand;

/// The file a scan is saved as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanFormat {
    Jpeg,
    Png,
    Tiff,
    /// An image-only PDF holding a JPEG (no text layer).
    Pdf,
}

impl ScanFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ScanFormat::Jpeg => "jpg",
            ScanFormat::Png => "png",
            ScanFormat::Tiff => "tif",
            ScanFormat::Pdf => "pdf",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("pdftoppm: {0}")]
    Rasterise(String),
    #[error("image: {0}")]
    Image(#[from] image::ImageError),
}

/// Renders page 1 of a PDF to gray at `dpi`.
pub fn rasterise(pdf: &[u8], dpi: u32) -> Result<GrayImage, ScanError> {
    let mut child = Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-gray", "-f", "1", "-l", "1", "fd://0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ScanError::Rasterise(format!("cannot run (is poppler-utils installed?): {e}")))?;
    let mut stdin = child.stdin.take().ok_or_else(|| ScanError::Rasterise("no stdin".into()))?;
    let input = pdf.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().map_err(|e| ScanError::Rasterise(e.to_string()))?;
    let _ = writer.join();
    if !out.status.success() {
        return Err(ScanError::Rasterise(String::from_utf8_lossy(&out.stderr).into_owned()));
    }
    Ok(image::load_from_memory_with_format(&out.stdout, image::ImageFormat::Pnm)?.into_luma8())
}

/// Adds Gaussian noise with standard deviation `sigma` (Box–Muller).
pub fn add_noise(img: &mut GrayImage, sigma: f32, rng: &mut Rand) {
    for p in img.pixels_mut() {
        let (u1, u2): (f32, f32) = (rng.random_range(f32::EPSILON..1.0), rng.random());
        let n = (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos() * sigma;
        p.0[0] = (f32::from(p.0[0]) + n).round().clamp(0.0, 255.0) as u8;
    }
}

/// How one scan was degraded (kept in the truth file's layout name for reading results).
#[derive(Clone, Copy, Debug)]
pub struct Degradation {
    pub dpi: u32,
    pub degrees: f32,
    pub blur: f32,
    pub noise: f32,
    pub jpeg_quality: u8,
}

impl Degradation {
    pub fn random(rng: &mut Rand) -> Degradation {
        Degradation {
            dpi: [200, 200, 240][rng.random_range(0..3)],
            degrees: rng.random_range(-1.5..1.5),
            blur: rng.random_range(0.3..0.9),
            noise: rng.random_range(4.0..14.0),
            jpeg_quality: rng.random_range(55..=85),
        }
    }
}

/// Makes a scan-like file of page 1 of `pdf`.
pub fn scan(pdf: &[u8], format: ScanFormat, d: Degradation, rng: &mut Rand) -> Result<Vec<u8>, ScanError> {
    let page = rasterise(pdf, d.dpi)?;
    let rotated = rotate(&page, d.degrees);
    let mut img = image::imageops::fast_blur(&rotated, d.blur);
    add_noise(&mut img, d.noise, rng);
    let jpeg = |img: &GrayImage| -> Result<Vec<u8>, ScanError> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut out), d.jpeg_quality)
            .encode_image(img)?;
        Ok(out)
    };
    Ok(match format {
        ScanFormat::Jpeg => jpeg(&img)?,
        ScanFormat::Pdf => write_image_pdf(&jpeg(&img)?, img.width(), img.height(), d.dpi as f32),
        ScanFormat::Png => {
            let mut out = Vec::new();
            img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)?;
            out
        }
        ScanFormat::Tiff => {
            let mut out = Vec::new();
            img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Tiff)?;
            out
        }
    })
}
