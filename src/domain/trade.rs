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

/// A plate as entered, normalised: upper case, without spaces, dots-as-separators or '·'.
pub fn normalise_plate(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '·' && *c != '•')
        .flat_map(char::to_uppercase)
        .collect()
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

/// Vietnamese plates: two-digit province (11–99; 12 = Lạng Sơn), a series of one or two letters
/// with an optional digit, a hyphen, then four digits or three, a dot and two: `12C-123.45`.
pub fn is_vn_plate(p: &str) -> bool {
    let Some((head, tail)) = p.split_once('-') else {
        return false;
    };
    let hb = head.as_bytes();
    if hb.len() < 3 || hb.len() > 5 || !hb[..2].iter().all(u8::is_ascii_digit) || &head[..2] < "11" {
        return false;
    }
    let series = &head[2..];
    let letters = series.bytes().take_while(u8::is_ascii_uppercase).count();
    let series_ok = (1..=2).contains(&letters)
        && series[letters..].bytes().all(|b| b.is_ascii_digit())
        && series.len() - letters <= 1;
    let tail_ok = match tail.len() {
        4 => tail.bytes().all(|b| b.is_ascii_digit()),
        6 => tail.as_bytes()[3] == b'.' && tail.bytes().enumerate().all(|(i, b)| i == 3 || b.is_ascii_digit()),
        _ => false,
    };
    series_ok && tail_ok
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
        for ok in ["12C-123.45", "12C-1234", "29LD-123.45", "12C1-123.45"] {
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
        ] {
            assert!(!is_vn_plate(bad), "{bad}");
        }
    }
}
