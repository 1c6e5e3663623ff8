//! Barcode symbols as module grids, ready to draw as vector rectangles.

use barcoders::sym::code128::Code128;
use qrcode::{EcLevel, QrCode};

use super::PrintError;

/// Code128 bars (true = dark) for `text`, in code set B: permit numbers are upper-case letters,
/// digits and hyphens, all in set B.
pub fn code128(text: &str) -> Result<Vec<bool>, PrintError> {
    // barcoders selects the starting character set by a prefix character (Ɓ = set B).
    let symbol = Code128::new(format!("\u{0181}{text}")).map_err(|e| PrintError::Barcode(e.to_string()))?;
    Ok(symbol.encode().into_iter().map(|b| b == 1).collect())
}

/// A QR code's modules (row-major, true = dark) and its width in modules.
pub fn qr(text: &str) -> Result<(Vec<bool>, usize), PrintError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| PrintError::Barcode(e.to_string()))?;
    let width = code.width();
    let modules = code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
    Ok((modules, width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code128_has_start_and_stop() {
        let bars = code128("BT-YYG-2026-000001").unwrap();
        // 18 data characters + start + check + stop, 11 modules each, + 2 termination modules.
        assert_eq!(bars.len(), (18 + 3) * 11 + 2);
        assert!(bars[0] && *bars.last().unwrap());
    }

    #[test]
    fn qr_of_a_signed_code_is_small() {
        let text = format!("BD1:{}", "A".repeat(190));
        let (modules, width) = qr(&text).unwrap();
        assert_eq!(modules.len(), width * width);
        assert!(width <= 53, "version too large: {width} modules");
    }
}
