//! Thumbnails: a small JPEG (fitting in [`THUMBNAIL_SIDE`]² pixels) of an image or of a PDF's
//! first page, for list views. Made on request from the decrypted original and never written
//! to disk (a derived image kept as a blob would go through [`crate::blobs::Blobs`], encrypted
//! like the original).

use std::io::Cursor;

use crate::kind::FileKind;
use crate::poppler::{self, PopplerError};

/// The longer side of a thumbnail, in pixels (the seed's 200×200 "inside" fit).
pub const THUMBNAIL_SIDE: u32 = 200;
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

/// A JPEG thumbnail of an accepted image or PDF.
pub async fn make_thumbnail(bytes: &[u8], kind: FileKind) -> Result<Vec<u8>, ThumbnailError> {
    match kind {
        FileKind::Pdf => Ok(poppler::first_page_jpeg(bytes, THUMBNAIL_SIDE).await?),
        FileKind::Png | FileKind::Jpeg | FileKind::Tiff => {
            let image = image::load_from_memory(bytes)?;
            let small = image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE).into_rgb8();
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut out), JPEG_QUALITY)
                .encode_image(&small)?;
            Ok(out)
        }
        other => Err(ThumbnailError::NotVisual(other)),
    }
}
