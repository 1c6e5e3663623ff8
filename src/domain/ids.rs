//! Identity-document number rules: GB 11643-1999 resident IDs, Vietnamese CCCD, passports.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    CnResidentId,
    VnCitizenId,
    Passport,
}

impl IdType {
    pub const ALL: [IdType; 3] = [IdType::CnResidentId, IdType::VnCitizenId, IdType::Passport];

    pub fn as_str(self) -> &'static str {
        match self {
            IdType::CnResidentId => "cn_resident_id",
            IdType::VnCitizenId => "vn_citizen_id",
            IdType::Passport => "passport",
        }
    }

    pub fn parse(s: &str) -> Option<IdType> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// A rule an identity number broke; `rule` names it for API clients, `message` explains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdRule {
    pub rule: &'static str,
    pub message: &'static str,
}

const fn broke(rule: &'static str, message: &'static str) -> IdRule {
    IdRule { rule, message }
}

const GB11643_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const GB11643_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The GB 11643-1999 check character for the first 17 digits, or None if they are not digits.
pub fn gb11643_check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in first17.chars().zip(GB11643_WEIGHTS) {
        sum += c.to_digit(10)? * w;
    }
    GB11643_CHECK.get((sum % 11) as usize).copied()
}

/// What an 18-character resident ID number says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CnResidentId {
    pub birth_date: NaiveDate,
    pub male: bool,
}

/// Checks format, embedded birth date and check character. Input is uppercased by the caller.
pub fn parse_cn_resident_id(id: &str) -> Result<CnResidentId, IdRule> {
    if id.chars().count() != 18 {
        return Err(broke(
            "length",
            "居民身份证号码应为18位 / a resident ID number has 18 characters",
        ));
    }
    if !id.is_ascii() {
        return Err(broke(
            "format",
            "前17位应为数字，末位为数字或X / 17 digits then a digit or X",
        ));
    }
    let (first17, last) = id.split_at(17);
    if !first17.chars().all(|c| c.is_ascii_digit()) || !last.chars().all(|c| c.is_ascii_digit() || c == 'X') {
        return Err(broke(
            "format",
            "前17位应为数字，末位为数字或X / 17 digits then a digit or X",
        ));
    }
    let birth_date = NaiveDate::parse_from_str(&first17[6..14], "%Y%m%d").map_err(|_| {
        broke(
            "birth_date",
            "号码中的出生日期无效 / the birth date inside the number is not a date",
        )
    })?;
    let expected = gb11643_check_char(first17);
    if expected.map(String::from).as_deref() != Some(last) {
        return Err(broke(
            "check_character",
            "校验码不符 / the check character does not match (GB 11643-1999)",
        ));
    }
    let sequence_last = first17[16..17].parse::<u32>().unwrap_or(0);
    Ok(CnResidentId {
        birth_date,
        male: sequence_last % 2 == 1,
    })
}

/// What a Vietnamese CCCD number (12 digits) encodes: province of birth (3), century and sex
/// (1: 0/1 = 1900s male/female, 2/3 = 2000s, 4/5 = 2100s ...), the last two digits of the
/// birth year (2), then a random sequence (6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VnCitizenId {
    pub birth_year: i32,
    pub male: bool,
}

pub fn parse_vn_citizen_id(id: &str) -> Result<VnCitizenId, IdRule> {
    if id.len() != 12 || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(broke(
            "format",
            "越南公民身份证号应为12位数字 / a Vietnamese citizen ID has 12 digits",
        ));
    }
    let digit = |i: usize| id.as_bytes()[i] - b'0';
    let code = i32::from(digit(3));
    let century = 1900 + (code / 2) * 100;
    let year = century + i32::from(digit(4)) * 10 + i32::from(digit(5));
    Ok(VnCitizenId {
        birth_year: year,
        male: code % 2 == 0,
    })
}

/// ICAO 9303 document numbers: up to 9 characters of A–Z and 0–9; national passports use 8–9.
pub fn check_passport_number(id: &str) -> Result<(), IdRule> {
    if !(5..=9).contains(&id.len()) || !id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
        return Err(broke(
            "format",
            "护照号码应为5至9位字母或数字 / a passport number has 5 to 9 letters or digits",
        ));
    }
    Ok(())
}

/// Checks an ID number against the traveller's own birth date and sex where the number encodes
/// them. Returns every rule broken.
pub fn check_document(id_type: IdType, id: &str, birth_date: Option<NaiveDate>, male: Option<bool>) -> Vec<IdRule> {
    let mut broken = Vec::new();
    match id_type {
        IdType::CnResidentId => {
            match parse_cn_resident_id(id) {
                Ok(parsed) => {
                    if birth_date.is_some_and(|b| b != parsed.birth_date) {
                        broken.push(broke("birth_date_mismatch", "号码中的出生日期与填写的出生日期不符 / the birth date in the number differs from birth_date"));
                    }
                    if male.is_some_and(|m| m != parsed.male) {
                        broken.push(broke(
                            "sex_mismatch",
                            "号码中的性别与填写的性别不符 / the sex encoded in the number differs from sex",
                        ));
                    }
                }
                Err(rule) => broken.push(rule),
            }
        }
        IdType::VnCitizenId => match parse_vn_citizen_id(id) {
            Ok(parsed) => {
                if birth_date.is_some_and(|b| b.year() != parsed.birth_year) {
                    broken.push(broke(
                        "birth_year_mismatch",
                        "号码中的出生年份与出生日期不符 / the birth year in the number differs from birth_date",
                    ));
                }
                if male.is_some_and(|m| m != parsed.male) {
                    broken.push(broke(
                        "sex_mismatch",
                        "号码中的性别与填写的性别不符 / the sex encoded in the number differs from sex",
                    ));
                }
            }
            Err(rule) => broken.push(rule),
        },
        IdType::Passport => {
            if let Err(rule) = check_passport_number(id) {
                broken.push(rule);
            }
        }
    }
    broken
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a valid resident ID for a birth date and sequence, so tests do not rely on real people.
    pub fn make_cn_id(area: &str, birth: &str, seq: &str) -> String {
        let first17 = format!("{area}{birth}{seq}");
        let check = gb11643_check_char(&first17).unwrap();
        format!("{first17}{check}")
    }

    #[test]
    fn standard_example_has_x_check_character() {
        // The worked example from GB 11643-1999 Annex: 11010519491231002X.
        assert_eq!(gb11643_check_char("11010519491231002"), Some('X'));
        let parsed = parse_cn_resident_id("11010519491231002X").unwrap();
        assert_eq!(parsed.birth_date, NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert!(!parsed.male);
    }

    #[test]
    fn rejects_each_broken_rule() {
        let good = make_cn_id("450681", "19900307", "123");
        assert!(parse_cn_resident_id(&good).is_ok());
        let mut wrong_check = good.clone();
        wrong_check.replace_range(17..18, if good.ends_with('0') { "1" } else { "0" });
        assert_eq!(parse_cn_resident_id(&wrong_check).unwrap_err().rule, "check_character");
        assert_eq!(parse_cn_resident_id("45068119900307123").unwrap_err().rule, "length");
        assert_eq!(parse_cn_resident_id("4506811990030712AX").unwrap_err().rule, "format");
        assert_eq!(parse_cn_resident_id("４5068119900307123X").unwrap_err().rule, "format");
        let bad_date = make_cn_id("450681", "19900230", "123");
        assert_eq!(parse_cn_resident_id(&bad_date).unwrap_err().rule, "birth_date");
    }

    #[test]
    fn checks_birth_date_and_sex_against_the_form() {
        let id = make_cn_id("450681", "19900307", "123"); // odd sequence: male
        let born = NaiveDate::from_ymd_opt(1990, 3, 7);
        assert!(check_document(IdType::CnResidentId, &id, born, Some(true)).is_empty());
        let rules: Vec<_> = check_document(
            IdType::CnResidentId,
            &id,
            NaiveDate::from_ymd_opt(1990, 3, 8),
            Some(false),
        )
        .into_iter()
        .map(|r| r.rule)
        .collect();
        assert_eq!(rules, vec!["birth_date_mismatch", "sex_mismatch"]);
    }

    #[test]
    fn vietnamese_cccd_encodes_century_sex_and_year() {
        let female_2001 = parse_vn_citizen_id("020301000123").unwrap();
        assert_eq!(
            female_2001,
            VnCitizenId {
                birth_year: 2001,
                male: false
            }
        );
        let male_1985 = parse_vn_citizen_id("020085000123").unwrap();
        assert_eq!(
            male_1985,
            VnCitizenId {
                birth_year: 1985,
                male: true
            }
        );
        assert!(parse_vn_citizen_id("02008500012").is_err());
        assert!(parse_vn_citizen_id("02008500012a").is_err());
        assert!(parse_vn_citizen_id("０２００８５０００１２３").is_err());
    }

    #[test]
    fn passport_numbers() {
        assert!(check_passport_number("E12345678").is_ok());
        assert!(check_passport_number("C1234").is_ok());
        assert!(check_passport_number("e1234567").is_err());
        assert!(check_passport_number("E1234567890").is_err());
        assert!(check_passport_number("E12-4567").is_err());
    }
}
