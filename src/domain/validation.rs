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
    fn keys_are_short_ascii() {
        assert!(plausible_key("BT-YYG-2026-000001"));
        assert!(plausible_key("01a2185a-7040-7000-a766-65dc81945c63"));
        assert!(!plausible_key(""));
        assert!(!plausible_key("a\0b"));
        assert!(!plausible_key("张伟"));
        assert!(!plausible_key(&"a".repeat(65)));
    }
}
