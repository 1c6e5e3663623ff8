//! Printing: permits as PDF with their barcodes, pure functions of a print model.

pub mod booking;
pub mod card;
pub mod codes;
pub mod font;
pub mod layout;
pub mod notice;
pub mod permit;
pub mod photo_sheet;

pub use permit::{PermitPrint, permit_pdf};

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("font: {0}")]
    Font(String),
    #[error("barcode: {0}")]
    Barcode(String),
}
