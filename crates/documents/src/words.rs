//! Words on a page with their boxes: what OCR engines and the PDF text layer (`pdftotext
//! -bbox-layout`) both produce. Below `ocr` and `poppler`, so each can use them without the two
//! importing each other.

use serde::{Deserialize, Serialize};

/// A word's box in page units (pixels for images, whatever the engine reports otherwise), top-left
/// origin.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BBox {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl BBox {
    pub fn width(&self) -> f32 {
        self.x1 - self.x0
    }
    pub fn height(&self) -> f32 {
        self.y1 - self.y0
    }
    pub fn center_x(&self) -> f32 {
        (self.x0 + self.x1) / 2.0
    }
    pub fn center_y(&self) -> f32 {
        (self.y0 + self.y1) / 2.0
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OcrWord {
    pub text: String,
    pub bbox: BBox,
    /// 0–1.
    pub confidence: f32,
    /// The engine's text line (words of one line share it), used to measure skew.
    pub line: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OcrPage {
    /// 1-based page number in the document.
    pub number: u32,
    pub width: f32,
    pub height: f32,
    pub words: Vec<OcrWord>,
}
