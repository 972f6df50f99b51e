//! Drawing pages and writing them as PDFs with a real text layer (base-14 fonts, WinAnsi text),
//! and wrapping a scan (a JPEG) as an image-only PDF.
//!
//! Coordinates are points from the top-left corner; text is placed by its baseline.

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};

/// The base-14 fonts we use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Font {
    Helvetica,
    HelveticaBold,
    Times,
    TimesBold,
    Courier,
    CourierBold,
}

impl Font {
    const ALL: [Font; 6] = [
        Font::Helvetica,
        Font::HelveticaBold,
        Font::Times,
        Font::TimesBold,
        Font::Courier,
        Font::CourierBold,
    ];

    fn base_name(self) -> &'static [u8] {
        match self {
            Font::Helvetica => b"Helvetica",
            Font::HelveticaBold => b"Helvetica-Bold",
            Font::Times => b"Times-Roman",
            Font::TimesBold => b"Times-Bold",
            Font::Courier => b"Courier",
            Font::CourierBold => b"Courier-Bold",
        }
    }

    fn resource_name(self) -> Vec<u8> {
        format!("F{}", Font::ALL.iter().position(|f| *f == self).unwrap_or(0)).into_bytes()
    }

    /// Advance width of a character in thousandths of the font size (AFM metrics; Times is
    /// approximated outside digits and punctuation, which is all we right-align).
    fn width(self, c: char) -> f32 {
        match self {
            Font::Courier | Font::CourierBold => 600.0,
            Font::Helvetica => helvetica(c, false),
            Font::HelveticaBold => helvetica(c, true),
            Font::Times | Font::TimesBold => match c {
                '0'..='9' | '$' => 500.0,
                '.' | ',' | ' ' => 250.0,
                '-' | '(' | ')' => 333.0,
                'A'..='Z' => 700.0,
                _ => 460.0,
            },
        }
    }

    /// Width of `text` at `size` points.
    pub fn text_width(self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.width(c)).sum::<f32>() * size / 1000.0
    }
}

/// Helvetica and Helvetica-Bold AFM widths for printable ASCII.
fn helvetica(c: char, bold: bool) -> f32 {
    const REGULAR: [u16; 95] = [
        278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556,
        556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778,
        722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278,
        278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
        556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
    ];
    const BOLD: [u16; 95] = [
        278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556,
        556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778,
        722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333,
        278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
        611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
    ];
    let table = if bold { &BOLD } else { &REGULAR };
    let i = c as usize;
    if (32..127).contains(&i) { f32::from(table[i - 32]) } else { 556.0 }
}

#[derive(Clone, Debug)]
enum Item {
    Text { x: f32, y: f32, size: f32, font: Font, text: String },
    Rect { x: f32, y: f32, w: f32, h: f32 },
    Line { x1: f32, y1: f32, x2: f32, y2: f32 },
}

/// One page being drawn.
#[derive(Clone, Debug)]
pub struct Page {
    pub width: f32,
    pub height: f32,
    items: Vec<Item>,
}

impl Page {
    /// US letter.
    pub fn letter() -> Page {
        Page::new(612.0, 792.0)
    }

    pub fn new(width: f32, height: f32) -> Page {
        Page { width, height, items: Vec::new() }
    }

    /// Left-aligned text with its baseline at `y`.
    pub fn text(&mut self, x: f32, y: f32, size: f32, font: Font, text: impl Into<String>) {
        self.items.push(Item::Text { x, y, size, font, text: text.into() });
    }

    /// Right-aligned text ending at `right`.
    pub fn text_right(&mut self, right: f32, y: f32, size: f32, font: Font, text: impl Into<String>) {
        let text = text.into();
        let x = right - font.text_width(&text, size);
        self.items.push(Item::Text { x, y, size, font, text });
    }

    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32) {
        self.items.push(Item::Rect { x, y, w, h });
    }

    pub fn hline(&mut self, x1: f32, x2: f32, y: f32) {
        self.items.push(Item::Line { x1, y1: y, x2, y2: y });
    }

    pub fn vline(&mut self, x: f32, y1: f32, y2: f32) {
        self.items.push(Item::Line { x1: x, y1, x2: x, y2 });
    }

    /// Where `needle` was drawn on this page: the box `(x0, y0, x1, y1)` in points from the
    /// top-left corner of every occurrence inside a text item (the advance widths of its
    /// characters; from the ascender to the descender, approximately 0.8 and 0.25 of the size
    /// around the baseline). What the corpus printed, to check what was read back against.
    pub fn text_boxes(&self, needle: &str) -> Vec<(f32, f32, f32, f32)> {
        let mut out = Vec::new();
        if needle.is_empty() {
            return out;
        }
        for item in &self.items {
            let Item::Text { x, y, size, font, text } = item else { continue };
            for (at, _) in text.match_indices(needle) {
                let x0 = x + font.text_width(&text[..at], *size);
                let x1 = x0 + font.text_width(needle, *size);
                out.push((x0, y - 0.8 * size, x1, y + 0.25 * size));
            }
        }
        out
    }
}

/// Text as WinAnsi bytes (our generated text is ASCII; anything else becomes `?`).
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars().map(|c| if c.is_ascii() && !c.is_ascii_control() { c as u8 } else { b'?' }).collect()
}

/// Writes pages as a PDF whose text is real text (a text layer `pdftotext` reads exactly).
pub fn write_pdf(pages: &[Page]) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font_base = 3;
    let font_ref = |f: Font| Ref::new(font_base + Font::ALL.iter().position(|x| *x == f).unwrap_or(0) as i32);
    let first_page = font_base + Font::ALL.len() as i32;
    let page_refs: Vec<Ref> = (0..pages.len()).map(|i| Ref::new(first_page + 2 * i as i32)).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_refs.iter().copied()).count(pages.len() as i32);
    for font in Font::ALL {
        pdf.type1_font(font_ref(font))
            .base_font(Name(font.base_name()))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    for (i, page) in pages.iter().enumerate() {
        let page_ref = page_refs[i];
        let content_ref = Ref::new(page_ref.get() + 1);
        let mut p = pdf.page(page_ref);
        p.media_box(Rect::new(0.0, 0.0, page.width, page.height)).parent(tree).contents(content_ref);
        let mut resources = p.resources();
        let mut fonts = resources.fonts();
        for font in Font::ALL {
            fonts.pair(Name(&font.resource_name()), font_ref(font));
        }
        fonts.finish();
        resources.finish();
        p.finish();

        let mut content = Content::new();
        content.set_line_width(0.6);
        for item in &page.items {
            match item {
                Item::Text { x, y, size, font, text } => {
                    content.begin_text();
                    content.set_font(Name(&font.resource_name()), *size);
                    content.next_line(*x, page.height - *y);
                    content.show(Str(&win_ansi(text)));
                    content.end_text();
                }
                Item::Rect { x, y, w, h } => {
                    content.rect(*x, page.height - *y - *h, *w, *h);
                    content.stroke();
                }
                Item::Line { x1, y1, x2, y2 } => {
                    content.move_to(*x1, page.height - *y1);
                    content.line_to(*x2, page.height - *y2);
                    content.stroke();
                }
            }
        }
        pdf.stream(content_ref, &content.finish());
    }
    pdf.finish()
}

/// An image-only PDF (what a scanner makes): one page per JPEG, gray, no text layer.
pub fn write_image_pdf(jpeg: &[u8], width_px: u32, height_px: u32, dpi: f32) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let (catalog, tree, page_ref, content_ref, image_ref) =
        (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5));
    let (w, h) = (width_px as f32 * 72.0 / dpi, height_px as f32 * 72.0 / dpi);
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_ref]).count(1);
    let mut page = pdf.page(page_ref);
    page.media_box(Rect::new(0.0, 0.0, w, h)).parent(tree).contents(content_ref);
    page.resources().x_objects().pair(Name(b"Im1"), image_ref);
    page.finish();
    let mut image = pdf.image_xobject(image_ref, jpeg);
    image.filter(Filter::DctDecode);
    image.width(width_px as i32).height(height_px as i32).bits_per_component(8);
    image.color_space().device_gray();
    image.finish();
    let mut content = Content::new();
    content.save_state();
    content.transform([w, 0.0, 0.0, h, 0.0, 0.0]);
    content.x_object(Name(b"Im1"));
    content.restore_state();
    pdf.stream(content_ref, &content.finish());
    pdf.finish()
}
