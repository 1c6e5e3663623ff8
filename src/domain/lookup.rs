//! The applicant's lookup code for the public progress page, and how many wrong tries lock it.
//!
//! Four characters of an ID number are no secret (at most ~11,000 combinations, often known to
//! others), so the receipt also carries a random code: 8 characters of Crockford's base32
//! (no I, L, O or U, read back forgivingly), 40 bits, stored only as a hash.

use chrono::{DateTime, Duration, Utc};

/// Crockford's base32: digits and capitals without I, L, O and U, which are misread.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters in a code; 5 bits each.
pub const CODE_LEN: usize = 8;

/// A code from 5 random bytes (40 bits, 5 to a character), e.g. `7K3MQ9TX`.
pub fn code_from_bytes(bytes: [u8; 5]) -> String {
    let bits = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    (0..CODE_LEN)
        .rev()
        .map(|i| char::from(ALPHABET[((bits >> (i * 5)) & 31) as usize]))
        .collect()
}

/// As printed: two groups of four, `7K3M-Q9TX`, easy to read out and to type.
pub fn display(code: &str) -> String {
    if code.len() == CODE_LEN && code.is_ascii() {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code.to_string()
    }
}

/// What the applicant typed, in canonical form: case, spaces and hyphens ignored, O read as 0
/// and I or L as 1 (Crockford's rule). None when it cannot be a code at all.
pub fn normalise(typed: &str) -> Option<String> {
    let mut out = String::with_capacity(CODE_LEN);
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' | '\u{3000}' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
            _ => return None,
        };
        out.push(c);
        if out.len() > CODE_LEN {
            return None;
        }
    }
    (out.len() == CODE_LEN).then_some(out)
}

/// How many wrong tries lock an application's lookup, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockPolicy {
    pub max_failures: i32,
    pub lock: Duration,
}

impl Default for LockPolicy {
    /// Five tries cover typing slips; half an hour makes guessing hopeless (at most 240 tries
    /// a day against 2^40 codes) and is short enough for an applicant to wait out.
    fn default() -> Self {
        LockPolicy {
            max_failures: 5,
            lock: Duration::minutes(30),
        }
    }
}

/// Whether a lookup is locked at `now`.
pub fn is_locked(locked_until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    locked_until.is_some_and(|until| until > now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_40_bits_in_eight_unambiguous_characters() {
        assert_eq!(code_from_bytes([0; 5]), "00000000");
        assert_eq!(code_from_bytes([0xff; 5]), "ZZZZZZZZ");
        assert_eq!(code_from_bytes([0, 0, 0, 0, 32]), "00000010");
        let code = code_from_bytes([0x12, 0x34, 0x56, 0x78, 0x9a]);
        assert_eq!(code.len(), CODE_LEN);
        assert!(!code.contains(['I', 'L', 'O', 'U']), "{code}");
        // Every value maps to a distinct code: 32^8 = 2^40.
        assert_eq!(32u64.pow(CODE_LEN as u32), 1u64 << 40);
    }

    #[test]
    fn typed_codes_forgive_case_spaces_hyphens_and_look_alikes() {
        assert_eq!(normalise("7k3m-q9tx").as_deref(), Some("7K3MQ9TX"));
        assert_eq!(normalise(" 7K3M Q9TX ").as_deref(), Some("7K3MQ9TX"));
        assert_eq!(normalise("O1LI-0000").as_deref(), Some("01110000"));
        assert_eq!(normalise("7K3MQ9T"), None, "too short");
        assert_eq!(normalise("7K3MQ9TXX"), None, "too long");
        assert_eq!(normalise("7K3MQ9TU"), None, "U is not in the alphabet");
        assert_eq!(normalise("7K3MQ9T张"), None);
        assert_eq!(normalise(""), None);
        assert_eq!(display("7K3MQ9TX"), "7K3M-Q9TX");
    }

    #[test]
    fn a_lock_lasts_until_its_time() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert!(!is_locked(None, now));
        assert!(is_locked(Some(now + Duration::seconds(1)), now));
        assert!(!is_locked(Some(now), now));
    }
}
