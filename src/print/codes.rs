//! Barcode symbols as module grids, ready to draw as vector rectangles.

use barcoders::sym::code128::Code128;
use qrcode::{EcLevel, QrCode};

use super::PrintError;

/// barcoders' in-band markers that switch the Code128 character set.
const SET_B: char = '\u{0181}';
const SET_C: char = '\u{0106}';

/// Code128 bars (true = dark) for `text`: code set B, with code set C (two digits per symbol)
/// for runs of digits long enough to pay for the switch. The field trial found the all-set-B
/// symbol too long to be both tall and clear of the card's centre fold.
pub fn code128(text: &str) -> Result<Vec<bool>, PrintError> {
    let symbol = Code128::new(with_code_sets(text)).map_err(|e| PrintError::Barcode(e.to_string()))?;
    Ok(symbol.encode().into_iter().map(|b| b == 1).collect())
}

/// `text` prefixed and interleaved with barcoders' set markers. A run of digits goes into set C
/// when that makes the symbol shorter: four or more digits at either end, six or more inside
/// (each switch costs one symbol). Set C takes digit pairs, so an odd run leaves its first digit
/// in set B.
fn with_code_sets(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 4);
    let mut current: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let at_edge = i == 0 || i + run == chars.len();
        if run >= 4 && (at_edge || run >= 6) {
            if run % 2 == 1 {
                if current != Some(SET_B) {
                    out.push(SET_B);
                }
                out.push(chars[i]);
                i += 1;
            }
            let even = run - run % 2;
            out.push(SET_C);
            current = Some(SET_C);
            out.extend(&chars[i..i + even]);
            i += even;
        } else {
            if current != Some(SET_B) {
                out.push(SET_B);
                current = Some(SET_B);
            }
            // A short digit run stays in set B, as does what follows until the next long run.
            let n = run.max(1);
            out.extend(&chars[i..i + n]);
            i += n;
        }
    }
    if out.is_empty() {
        out.push(SET_B);
    }
    out
}

/// A QR code's modules (row-major, true = dark) and its width in modules, at error correction
/// level Q: a quarter of the symbol may be lost to a crease or a shadow.
pub fn qr(text: &str) -> Result<(Vec<bool>, usize), PrintError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q)
        .map_err(|e| PrintError::Barcode(e.to_string()))?;
    let width = code.width();
    let modules = code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
    Ok((modules, width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permit_number_ends_in_set_c() {
        assert_eq!(
            with_code_sets("BT-YYG-2026-000001"),
            "\u{0181}BT-YYG-2026-\u{0106}000001"
        );
        assert_eq!(with_code_sets("20261126"), "\u{0106}20261126");
        // Odd run at the end: one digit in B, then pairs in C.
        assert_eq!(with_code_sets("A-12345"), "\u{0181}A-1\u{0106}2345");
        // A long run inside switches to C and back.
        assert_eq!(with_code_sets("X123456Y"), "\u{0181}X\u{0106}123456\u{0181}Y");
        assert_eq!(with_code_sets("X1234Y"), "\u{0181}X1234Y");
        assert_eq!(with_code_sets(""), "\u{0181}");
    }

    #[test]
    fn code128_of_a_permit_number_is_shorter_than_set_b() {
        let bars = code128("BT-YYG-2026-000001").unwrap();
        // 12 characters in B, a switch, 3 digit pairs in C; + start, check, stop; 11 modules
        // each, + 2 termination modules (all set B would be (18 + 3) * 11 + 2 = 233).
        assert_eq!(bars.len(), (12 + 1 + 3 + 3) * 11 + 2);
        assert!(bars[0] && *bars.last().unwrap());
    }

    #[test]
    fn code128_refuses_what_it_cannot_encode() {
        assert!(code128("许可证").is_err());
    }

    #[test]
    fn qr_of_a_signed_code_is_level_q_and_small() {
        let text = format!("BD1:{}", "A".repeat(190));
        let (modules, width) = qr(&text).unwrap();
        assert_eq!(modules.len(), width * width);
        assert!(width <= 61, "version too large: {width} modules");
        let q = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q).unwrap();
        assert_eq!(q.error_correction_level(), EcLevel::Q);
    }
}
