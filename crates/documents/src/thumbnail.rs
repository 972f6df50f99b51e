//! Thumbnails: a small JPEG (fitting in [`THUMBNAIL_SIDE`]² pixels) of an image or of a PDF's
//! first page, for list views; and previews, the same at [`PREVIEW_SIDE`], for reading the page
//! beside its extracted fields. Made on request from the decrypted original and never written
//! to disk (a derived image kept as a blob would go through [`crate::blobs::Blobs`], encrypted
//! like the original).

use std::io::Cursor;

use crate::kind::FileKind;
use crate::poppler::{self, PopplerError};

/// The longer side of a thumbnail, in pixels (the seed's 200×200 "inside" fit).
pub const THUMBNAIL_SIDE: u32 = 200;
/// The longer side of a preview: a letter page's small print stays legible.
pub const PREVIEW_SIDE: u32 = 1400;
const JPEG_QUALITY: u8 = 80;

#[derive(Debug, thiserror::Error)]
pub enum ThumbnailError {
    #[error("no thumbnail for {0} files")]
    NotVisual(FileKind),
    #[error("image decoding failed: {0}")]
    Image(#[from] image::ImageError),
    #[error(transparent)]
    Pdf(#[from] PopplerError),
}

/// A JPEG of an accepted image or PDF's first page, fitting in `side`² pixels ([`THUMBNAIL_SIDE`]
/// or [`PREVIEW_SIDE`]).
pub async fn first_page_jpeg(bytes: &[u8], kind: FileKind, side: u32) -> Result<Vec<u8>, ThumbnailError> {
    match kind {
        FileKind::Pdf => Ok(poppler::first_page_jpeg(bytes, side).await?),
        FileKind::Png | FileKind::Jpeg | FileKind::Tiff => {
            let image = image::load_from_memory(bytes)?;
            let small = image.thumbnail(side, side).into_rgb8();
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut out), JPEG_QUALITY)
                .encode_image(&small)?;
            Ok(out)
        }
        other => Err(ThumbnailError::NotVisual(other)),
    }
}
