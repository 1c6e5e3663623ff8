//! Field errors collected over a whole request, so one answer names every problem at once.

use std::borrow::Cow;

use serde::Serialize;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Dotted path of the offending field, e.g. `traveller.id_number`.
    pub field: String,
    /// Machine-readable rule name, e.g. `check_character`.
    pub rule: String,
    /// Human-readable explanation (中文 / English).
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    pub fn add(&mut self, field: impl Into<String>, rule: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            rule: rule.to_string(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    pub fn for_field(&self, field: &str) -> Vec<&FieldError> {
        self.0.iter().filter(|e| e.field == field).collect()
    }

    /// Ok(value) if nothing was recorded, otherwise every error collected so far.
    pub fn finish<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.0.is_empty() { Ok(value) } else { Err(self) }
    }
}

/// Text in Unicode normal form C. Some keyboards and copy-paste give Vietnamese in decomposed
/// form (NFD: "e" + U+0302 + U+0303 for "ễ"); a name must compare, validate, store and print the
/// same however it was typed. Cheap when the text is already NFC, as almost all of it is.
pub fn nfc(s: &str) -> Cow<'_, str> {
    match is_nfc_quick(s.chars()) {
        IsNormalized::Yes => Cow::Borrowed(s),
        _ => Cow::Owned(s.nfc().collect()),
    }
}

/// Trims, treats an empty string as absent, and brings the text to NFC.
pub fn clean(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(|s| nfc(s).into_owned())
}

/// The longest text any field takes. Fields with a tighter rule (names, reasons) check their
/// own limit; this one bounds everything else a client can send, at the door.
pub const MAX_TEXT_CHARS: usize = 1000;

/// Why `s` may not be stored as text of at most `max` characters: (rule, message), or None.
/// Control characters are refused because a NUL is a driver error on PostgreSQL but stored on
/// SQLite, and the others corrupt pages, logs and the printed document; line breaks and tabs
/// are what a textarea sends, so they pass.
pub fn text_problem(s: &str, max: usize) -> Option<(&'static str, String)> {
    if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Some((
            "printable",
            "不能包含控制字符 / control characters are not allowed".to_string(),
        ));
    }
    if s.chars().count() > max {
        return Some(("max_length", format!("最多{max}字 / at most {max} characters")));
    }
    None
}

/// An optional free-text field: cleaned as by [`clean`], then held to [`text_problem`]; a
/// problem is recorded against `field`.
pub fn optional_text(errs: &mut FieldErrors, field: &str, s: Option<&str>, max: usize) -> Option<String> {
    let cleaned = clean(s)?;
    match text_problem(&cleaned, max) {
        Some((rule, message)) => {
            errs.add(field, rule, message);
            None
        }
        None => Some(cleaned),
    }
}

/// A required free-text field: as [`optional_text`], and absent or blank is `required`.
pub fn required_text(errs: &mut FieldErrors, field: &str, s: &str, max: usize) -> Option<String> {
    if clean(Some(s)).is_none() {
        errs.add(field, "required", "必填 / required");
        return None;
    }
    optional_text(errs, field, Some(s), max)
}

/// Permit numbers, record ids and item codes are short ASCII (letters, digits, '-', '_'). Anything else
/// cannot name a record, and is answered as "not found" without reaching the database (where
/// a NUL byte, say, would be a driver error rather than a miss).
pub fn plausible_key(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposed_text_is_composed() {
        let nfd = "Nguye\u{302}\u{303}n Thi\u{323} A\u{301}nh";
        assert_eq!(nfc(nfd), "Nguyễn Thị Ánh");
        assert_eq!(nfc(nfd).chars().count(), "Nguyễn Thị Ánh".chars().count());
        assert!(matches!(nfc("Nguyễn Thị Ánh"), Cow::Borrowed(_)));
        assert_eq!(clean(Some(&format!("  {nfd} "))).as_deref(), Some("Nguyễn Thị Ánh"));
        assert_eq!(clean(Some("   ")), None);
    }

    #[test]
    fn text_is_bounded_and_free_of_control_characters() {
        assert_eq!(text_problem("原因：材料不全\n请补交", 500), None);
        assert_eq!(text_problem("a\0b", 500).map(|p| p.0), Some("printable"));
        assert_eq!(text_problem("a\u{1b}[31m", 500).map(|p| p.0), Some("printable"));
        assert_eq!(text_problem(&"字".repeat(500), 500), None);
        assert_eq!(text_problem(&"字".repeat(501), 500).map(|p| p.0), Some("max_length"));

        let mut errs = FieldErrors::new();
        assert_eq!(
            optional_text(&mut errs, "reason", Some("  ok "), 10).as_deref(),
            Some("ok")
        );
        assert_eq!(optional_text(&mut errs, "reason", Some("   "), 10), None);
        assert!(errs.is_empty());
        assert_eq!(optional_text(&mut errs, "reason", Some("x\0"), 10), None);
        assert_eq!(errs.for_field("reason")[0].rule, "printable");
    }

    #[test]
    fn keys_are_short_ascii() {
        assert!(plausible_key("BT-YYG-2026-000001"));
        assert!(plausible_key("01a2185a-7040-7000-a766-65dc81945c63"));
        assert!(!plausible_key(""));
        assert!(!plausible_key("a\0b"));
        assert!(!plausible_key("张伟"));
        assert!(!plausible_key(&"a".repeat(65)));
    }
}
