//! Text from the medical reports patients send: the PDF text layer where
//! there is one, Tesseract OCR for photos and scanned pages.
//!
//! Empty until the document-ingestion issue; the crate exists so the
//! workspace layout matches the architecture from the first commit.
