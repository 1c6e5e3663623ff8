//! Border-trade applicants: enterprises by unified social credit code (GB 32100-2015) and the
//! vehicles freight drivers drive (Chinese and Vietnamese plates).

const USCC_CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// The GB 32100-2015 check character for the first 17 characters, or None if any is outside
/// the code's 31-character set (no I, O, S, V, Z).
pub fn uscc_check_char(first17: &str) -> Option<char> {
    if first17.chars().count() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.chars().zip(USCC_WEIGHTS) {
        sum += u32::try_from(USCC_CHARSET.find(c)?).ok()? * w;
    }
    let check = (31 - sum % 31) % 31;
    USCC_CHARSET.chars().nth(check as usize)
}

/// Checks a unified social credit code; the rule broken, if any.
pub fn check_credit_code(code: &str) -> Result<(), (&'static str, &'static str)> {
    if code.chars().count() != 18 || !code.is_ascii() {
        return Err((
            "length",
            "统一社会信用代码应为18位 / a unified social credit code has 18 characters",
        ));
    }
    let (first17, last) = code.split_at(17);
    match uscc_check_char(first17) {
        None => Err((
            "charset",
            "含有无效字符（不使用I、O、S、V、Z） / contains characters outside the code's set (no I, O, S, V, Z)",
        )),
        Some(c) if last.starts_with(c) => Ok(()),
        Some(_) => Err((
            "check_character",
            "校验码不符 / the check character does not match (GB 32100-2015)",
        )),
    }
}

const CN_PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

/// A plate as entered, normalised: NFC, upper case, without spaces, '·' or '•'. A Vietnamese
/// plate typed without separators, or with spaces, dashes or dots anywhere, comes out in its
/// canonical form (`12C-123.45`, `12C-1234`); anything else is returned for the checks to refuse.
pub fn normalise_plate(s: &str) -> String {
    let compact: String = super::validation::nfc(s)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '·' && *c != '•')
        .flat_map(char::to_uppercase)
        .collect();
    canonical_vn_plate(&compact).unwrap_or(compact)
}

/// Rules for Vietnamese plates, kept as data. Sources: Circular 58/2020/TT-BCA art. 25 and its
/// annexes, replaced by Circular 24/2023/TT-BCA (in force 15 Aug 2023), which keeps the scheme.
/// Verified (lawnet.vn's summary of art. 25; the Wikipedia article on Vietnamese plates): the
/// series of domestic vehicles use, in turn, the 20 letters A B C D E F G H K L M N P S T U V X
/// Y Z (never I, J, O, Q, W); R is the series of trailers and semi-trailers; LD marks vehicles of
/// foreign-invested enterprises, NG diplomatic missions, QT international organisations.
/// Assumed, not verified against the annex text: KT (army-run enterprises) and NN (foreign
/// residents) as two-letter series; every code 11–99 as a province code (12 = Lạng Sơn) even
/// though a few are unallocated; motorbike series with a digit (29B1) are not vehicles a trade
/// pass names and are refused.
pub mod vn_plate_rules {
    pub const PROVINCES: std::ops::RangeInclusive<u8> = 11..=99;
    pub const SERIES_LETTERS: &str = "ABCDEFGHKLMNPSTUVXYZR";
    pub const TWO_LETTER_SERIES: [&str; 5] = ["LD", "KT", "NG", "NN", "QT"];
    /// Four-digit serials are the older plates still on the road, five digits the current ones.
    pub const SERIAL_DIGITS: [usize; 2] = [4, 5];
}

/// Splits `12C12345` (separators already removed) into province, series and serial when the
/// shape is that of a Vietnamese plate.
fn split_vn(compact: &str) -> Option<(&str, &str, &str)> {
    let b = compact.as_bytes();
    if b.len() < 7 || !b.is_ascii() || !b[..2].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let letters = b[2..].iter().take_while(|c| c.is_ascii_uppercase()).count();
    let (province, rest) = compact.split_at(2);
    let (series, serial) = rest.split_at(letters);
    let shape_ok = (1..=2).contains(&letters)
        && vn_plate_rules::SERIAL_DIGITS.contains(&serial.len())
        && serial.bytes().all(|c| c.is_ascii_digit());
    shape_ok.then_some((province, series, serial))
}

/// The canonical form of a Vietnamese plate in any spelling (`12c 12345`, `12C-123-45`), if it
/// has the shape of one.
fn canonical_vn_plate(s: &str) -> Option<String> {
    let compact: String = s.chars().filter(|c| !matches!(c, '-' | '.')).collect();
    let (province, series, serial) = split_vn(&compact)?;
    Some(if serial.len() == 5 {
        format!("{province}{series}-{}.{}", &serial[..3], &serial[3..])
    } else {
        format!("{province}{series}-{serial}")
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VnPlateProblem {
    Format,
    Province,
    Series,
    Serial,
}

/// Why a canonical Vietnamese plate cannot exist, if it cannot.
fn vn_plate_problem(p: &str) -> Option<VnPlateProblem> {
    let compact: String = p.chars().filter(|c| !matches!(c, '-' | '.')).collect();
    let Some((province, series, serial)) = split_vn(&compact) else {
        return Some(VnPlateProblem::Format);
    };
    if canonical_vn_plate(p).as_deref() != Some(p) {
        return Some(VnPlateProblem::Format);
    }
    if !province
        .parse::<u8>()
        .is_ok_and(|n| vn_plate_rules::PROVINCES.contains(&n))
    {
        return Some(VnPlateProblem::Province);
    }
    let series_ok = match series.len() {
        1 => vn_plate_rules::SERIES_LETTERS.contains(series),
        _ => vn_plate_rules::TWO_LETTER_SERIES.contains(&series),
    };
    if !series_ok {
        return Some(VnPlateProblem::Series);
    }
    if serial.bytes().all(|b| b == b'0') {
        return Some(VnPlateProblem::Serial);
    }
    None
}

/// A plate as entered → its normal form, or the rule it breaks with a message for the driver.
pub fn check_plate(raw: &str) -> Result<String, (&'static str, String)> {
    let n = normalise_plate(raw);
    if is_cn_plate(&n) {
        return Ok(n);
    }
    let looks_vn = n.as_bytes().first().is_some_and(u8::is_ascii_digit);
    match (looks_vn, vn_plate_problem(&n)) {
        (true, None) => Ok(n),
        (true, Some(VnPlateProblem::Province)) => Err((
            "vn_province",
            format!("{n}：越南车牌的省份代码应为11–99 / Vietnamese province codes run from 11 to 99"),
        )),
        (true, Some(VnPlateProblem::Series)) => Err((
            "vn_series",
            format!(
                "{n}：越南不使用该系列字母（不用I、J、O、Q、W） / this series is not in use in Vietnam (no I, J, O, Q, W)"
            ),
        )),
        (true, Some(VnPlateProblem::Serial)) => Err((
            "vn_serial",
            format!("{n}：号码不能全为0 / the serial cannot be all zeros"),
        )),
        _ => Err((
            "plate_format",
            format!(
                "{raw:?}不是有效的中国或越南车牌，如桂A12345、12C-123.45 / not a Chinese or Vietnamese plate such as 桂A12345 or 12C-123.45"
            ),
        )),
    }
}

fn plate_letter(c: char) -> bool {
    c.is_ascii_uppercase() && c != 'I' && c != 'O'
}

/// Chinese plates: province character, a letter, then five letters/digits; new-energy plates
/// have six, starting or ending with D or F; trailers have four and end in 挂.
pub fn is_cn_plate(p: &str) -> bool {
    let chars: Vec<char> = p.chars().collect();
    if chars.len() < 7 || !CN_PROVINCES.contains(chars[0]) || !plate_letter(chars[1]) {
        return false;
    }
    let rest = &chars[2..];
    let alnum = |c: &char| plate_letter(*c) || c.is_ascii_digit();
    match rest.len() {
        5 if rest.last() == Some(&'挂') => rest[..4].iter().all(alnum),
        5 => rest.iter().all(alnum),
        6 => {
            let small = matches!(rest[0], 'D' | 'F') && rest[1..].iter().all(alnum);
            let large = matches!(rest[5], 'D' | 'F') && rest[..5].iter().all(|c| c.is_ascii_digit());
            small || large
        }
        _ => false,
    }
}

/// Vietnamese plates in canonical form (see `normalise_plate`) that can exist under the
/// rules in `vn_plate_rules`: `12C-123.45`, `12C-1234`, `29LD-123.45`.
pub fn is_vn_plate(p: &str) -> bool {
    vn_plate_problem(p).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_codes_of_real_enterprises_verify() {
        for code in [
            "914403001922038216",
            "9144030071526726XG",
            "91350100M000100Y43",
            "91110000802100433B",
        ] {
            assert_eq!(check_credit_code(code), Ok(()), "{code}");
        }
        assert_eq!(
            check_credit_code("914403001922038217").unwrap_err().0,
            "check_character"
        );
        assert_eq!(check_credit_code("91440300192203821").unwrap_err().0, "length");
        assert_eq!(check_credit_code("9144030019220382I6").unwrap_err().0, "charset");
    }

    #[test]
    fn chinese_plates() {
        for ok in ["桂A12345", "桂F1234挂", "桂AD12345", "桂A12345D", "粤B8X88L"] {
            assert!(is_cn_plate(&normalise_plate(ok)), "{ok}");
        }
        assert!(is_cn_plate(&normalise_plate("桂a·123 45")));
        for bad in ["A12345", "X桂12345", "桂A1234", "桂AI2345", "桂A123456", "桂AX12345"] {
            assert!(!is_cn_plate(bad), "{bad}");
        }
    }

    #[test]
    fn vietnamese_plates() {
        for ok in ["12C-123.45", "12C-1234", "29LD-123.45", "12R-012.34", "99Z-0001"] {
            assert!(is_vn_plate(ok), "{ok}");
        }
        for bad in [
            "12C12345",
            "1C-123.45",
            "10C-1234",
            "12-1234",
            "12C-12.345",
            "12CDE-1234",
            "12c-1234",
            "12C1-123.45",
        ] {
            assert!(!is_vn_plate(bad), "{bad}");
        }
    }

    #[test]
    fn vietnamese_plates_in_any_spelling_normalise() {
        for typed in [
            "12C12345",
            "12c 123 45",
            "12C-12345",
            "12C 123.45",
            "12-C-123-45",
            " 12C.123.45 ",
        ] {
            assert_eq!(normalise_plate(typed), "12C-123.45", "{typed}");
            assert_eq!(check_plate(typed), Ok("12C-123.45".to_string()), "{typed}");
        }
        assert_eq!(normalise_plate("12c1234"), "12C-1234");
        assert_eq!(normalise_plate("29ld12345"), "29LD-123.45");
        // Chinese plates keep their own normal form.
        assert_eq!(check_plate("桂a·123 45"), Ok("桂A12345".to_string()));
    }

    #[test]
    fn impossible_vietnamese_plates_are_refused_with_the_rule() {
        let rule = |p: &str| check_plate(p).unwrap_err().0;
        assert_eq!(rule("12C-000.00"), "vn_serial");
        assert_eq!(rule("12C0000"), "vn_serial");
        for unused in [
            "12I-123.45",
            "12J12345",
            "12O-1234",
            "12Q-1234",
            "12W-1234",
            "12XY-123.45",
        ] {
            assert_eq!(rule(unused), "vn_series", "{unused}");
        }
        assert_eq!(rule("10C-123.45"), "vn_province");
        assert_eq!(rule("12C-123"), "plate_format");
        assert_eq!(rule("12C-1234567"), "plate_format");
        assert_eq!(rule("ABC"), "plate_format");
        assert_eq!(rule(""), "plate_format");
        // Nothing on these paths panics on arbitrary input.
        for junk in ["\u{0}", "１２Ｃ１２３４５", "12Ć-123.45", "12C-١٢٣٤٥", "桂", "12"] {
            let _ = check_plate(junk);
        }
    }
}
