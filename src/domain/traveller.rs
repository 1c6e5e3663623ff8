//! A traveller as entered at the window: every field checked, every problem reported at once.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::ids::{IdType, check_document, parse_cn_resident_id};
use super::validation::{FieldErrors, clean};

/// What a client sends; strings throughout so that one bad field does not hide the others.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct TravellerInput {
    /// Chinese name (required for Chinese nationals), e.g. 张伟.
    pub name_zh: Option<String>,
    /// Name in Latin script as in the travel document; Vietnamese diacritics allowed.
    pub name_latin: Option<String>,
    /// ISO 3166-1 alpha-3, e.g. CHN, VNM.
    pub nationality: Option<String>,
    /// M, F or X. May be left out for a resident ID: the number states it.
    pub sex: Option<String>,
    /// YYYY-MM-DD. May be left out for a resident ID: the number states it.
    pub birth_date: Option<String>,
    /// cn_resident_id, vn_citizen_id or passport.
    pub id_type: Option<String>,
    pub id_number: Option<String>,
    /// International format, e.g. +8613800000000.
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sex {
    M,
    F,
    X,
}

impl Sex {
    pub const ALL: [Sex; 3] = [Sex::M, Sex::F, Sex::X];

    pub fn as_str(self) -> &'static str {
        match self {
            Sex::M => "M",
            Sex::F => "F",
            Sex::X => "X",
        }
    }

    pub fn parse(s: &str) -> Option<Sex> {
        match s {
            "M" => Some(Sex::M),
            "F" => Some(Sex::F),
            "X" => Some(Sex::X),
            _ => None,
        }
    }
}

/// A traveller whose every field has passed its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traveller {
    pub name_zh: Option<String>,
    pub name_latin: String,
    pub nationality: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub id_type: IdType,
    pub id_number: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
}

/// Sex and birth date as a valid resident ID number states them: the window need not type
/// what the card already holds. None for other documents or a number that does not parse (its
/// own error is reported on id_number).
pub fn from_resident_id(input: &TravellerInput) -> Option<(Sex, NaiveDate)> {
    if clean(input.id_type.as_deref()).as_deref() != Some(IdType::CnResidentId.as_str()) {
        return None;
    }
    let number = clean(input.id_number.as_deref())?.to_uppercase();
    let parsed = parse_cn_resident_id(&number).ok()?;
    Some((if parsed.male { Sex::M } else { Sex::F }, parsed.birth_date))
}

/// Validates a traveller. `today` bounds the birth date; `prefix` is the field path prefix
/// (e.g. `traveller.`) so messages name the field as the client sent it.
pub fn validate(input: &TravellerInput, today: NaiveDate, prefix: &str) -> Result<Traveller, FieldErrors> {
    let mut errs = FieldErrors::new();
    let f = |name: &str| format!("{prefix}{name}");

    // Control characters (NUL above all, which PostgreSQL refuses in text) are never part of a
    // name, number or address; refusing them here keeps every later rule simple.
    let all = [
        ("name_zh", &input.name_zh),
        ("name_latin", &input.name_latin),
        ("nationality", &input.nationality),
        ("sex", &input.sex),
        ("birth_date", &input.birth_date),
        ("id_type", &input.id_type),
        ("id_number", &input.id_number),
        ("phone", &input.phone),
        ("email", &input.email),
    ];
    let mut bad = FieldErrors::new();
    for (name, value) in all {
        if value.as_deref().is_some_and(|v| v.chars().any(char::is_control)) {
            bad.add(
                f(name),
                "printable",
                "不能包含控制字符 / control characters are not allowed",
            );
        }
    }
    if !bad.is_empty() {
        return Err(bad);
    }

    let name_zh = clean(input.name_zh.as_deref());
    if let Some(n) = &name_zh {
        if n.chars().count() > 32 {
            errs.add(f("name_zh"), "max_length", "中文姓名最多32个字 / at most 32 characters");
        } else if !n.chars().all(|c| is_cjk(c) || c == '·') {
            errs.add(
                f("name_zh"),
                "chinese_characters",
                "中文姓名只能包含汉字和“·” / Chinese characters and · only",
            );
        }
    }

    let name_latin =
        clean(input.name_latin.as_deref()).map(|n| n.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase());
    match &name_latin {
        None => errs.add(
            f("name_latin"),
            "required",
            "请填写拼音或拉丁字母姓名 / name in Latin script is required",
        ),
        Some(n) if n.chars().count() > 64 => {
            errs.add(f("name_latin"), "max_length", "最多64个字符 / at most 64 characters")
        }
        Some(n)
            if !n
                .chars()
                .all(|c| (c.is_alphabetic() && !is_cjk(c) && (c as u32) < 0x2E80) || " -'.".contains(c)) =>
        {
            errs.add(
                f("name_latin"),
                "latin_letters",
                "只能包含拉丁字母、空格、连字符和撇号 / Latin letters, spaces, hyphens and apostrophes only",
            )
        }
        Some(_) => {}
    }

    let nationality = clean(input.nationality.as_deref()).map(|n| n.to_uppercase());
    match &nationality {
        None => errs.add(f("nationality"), "required", "请填写国籍 / nationality is required"),
        Some(n) if isocountry::CountryCode::for_alpha3(n).is_err() => errs.add(
            f("nationality"),
            "iso3166_alpha3",
            "国籍应为ISO 3166三字母代码，如CHN、VNM / an ISO 3166-1 alpha-3 code such as CHN or VNM",
        ),
        Some(_) => {}
    }
    if nationality.as_deref() == Some("CHN") && name_zh.is_none() {
        errs.add(
            f("name_zh"),
            "required",
            "中国公民须填写中文姓名 / a Chinese name is required for CHN nationals",
        );
    }

    let from_id = from_resident_id(input);
    let sex = clean(input.sex.as_deref()).map(|s| s.to_uppercase());
    let sex = match sex.as_deref() {
        None if from_id.is_some() => from_id.as_ref().map(|d| d.0),
        None => {
            errs.add(f("sex"), "required", "请填写性别 / sex is required");
            None
        }
        Some(s) => {
            let parsed = Sex::parse(s);
            if parsed.is_none() {
                errs.add(f("sex"), "one_of", "性别应为M、F或X / one of M, F, X");
            }
            parsed
        }
    };

    let birth_date = match clean(input.birth_date.as_deref()) {
        None if from_id.is_some() => from_id.as_ref().map(|d| d.1),
        None => {
            errs.add(f("birth_date"), "required", "请填写出生日期 / birth date is required");
            None
        }
        Some(s) => match NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
            Err(_) => {
                errs.add(f("birth_date"), "date", "日期格式应为YYYY-MM-DD / a date as YYYY-MM-DD");
                None
            }
            Ok(d) if d > today => {
                errs.add(
                    f("birth_date"),
                    "not_in_future",
                    "出生日期不能晚于今天 / cannot be in the future",
                );
                None
            }
            Ok(d) if d < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(d) => {
                errs.add(f("birth_date"), "plausible", "出生日期早于1900年 / before 1900");
                None
            }
            Ok(d) => Some(d),
        },
    };

    let id_type = match clean(input.id_type.as_deref()) {
        None => {
            errs.add(f("id_type"), "required", "请选择证件类型 / id_type is required");
            None
        }
        Some(s) => {
            let t = IdType::parse(&s);
            if t.is_none() {
                errs.add(f("id_type"), "one_of", "证件类型应为cn_resident_id、vn_citizen_id或passport / one of cn_resident_id, vn_citizen_id, passport");
            }
            t
        }
    };

    let id_number = clean(input.id_number.as_deref()).map(|s| s.to_uppercase());
    match (&id_number, id_type) {
        (None, _) => errs.add(f("id_number"), "required", "请填写证件号码 / id_number is required"),
        (Some(n), Some(t)) => {
            let male = match sex {
                Some(Sex::M) => Some(true),
                Some(Sex::F) => Some(false),
                _ => None,
            };
            for rule in check_document(t, n, birth_date, male) {
                errs.add(f("id_number"), rule.rule, rule.message);
            }
            let nat_required = match t {
                IdType::CnResidentId => Some("CHN"),
                IdType::VnCitizenId => Some("VNM"),
                IdType::Passport => None,
            };
            if let (Some(req), Some(n)) = (nat_required, nationality.as_deref())
                && n != req
            {
                errs.add(
                    f("nationality"),
                    "matches_id_type",
                    format!("该证件类型的持有人国籍应为{req} / this id_type is held by {req} nationals"),
                );
            }
        }
        (Some(_), None) => {}
    }

    let phone = clean(input.phone.as_deref()).map(|p| p.replace([' ', '-'], ""));
    if let Some(p) = &phone {
        let digits = p.strip_prefix('+').unwrap_or("");
        if !(7..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
            errs.add(
                f("phone"),
                "e164",
                "电话应为国际格式，如+8613800000000 / international format, e.g. +8613800000000",
            );
        }
    }

    let email = clean(input.email.as_deref());
    if let Some(e) = &email {
        let ok = e.len() <= 254
            && !e.contains(char::is_whitespace)
            && e.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            });
        if !ok {
            errs.add(f("email"), "email", "电子邮箱格式不正确 / not an e-mail address");
        }
    }

    match (name_latin, nationality, sex, birth_date, id_type, id_number) {
        (Some(name_latin), Some(nationality), Some(sex), Some(birth_date), Some(id_type), Some(id_number))
            if errs.is_empty() =>
        {
            Ok(Traveller {
                name_zh,
                name_latin,
                nationality,
                sex,
                birth_date,
                id_type,
                id_number,
                phone,
                email,
            })
        }
        _ => Err(errs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::tests::make_cn_id;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn zhang() -> TravellerInput {
        TravellerInput {
            name_zh: Some("张伟".into()),
            name_latin: Some("zhang  wei".into()),
            nationality: Some("chn".into()),
            sex: Some("M".into()),
            birth_date: Some("1990-03-07".into()),
            id_type: Some("cn_resident_id".into()),
            id_number: Some(make_cn_id("450681", "19900307", "123")),
            phone: Some("+86 138 0000 0000".into()),
            email: None,
        }
    }

    #[test]
    fn accepts_and_normalises_a_valid_traveller() {
        let t = validate(&zhang(), today(), "").unwrap();
        assert_eq!(t.name_latin, "ZHANG WEI");
        assert_eq!(t.nationality, "CHN");
        assert_eq!(t.phone.as_deref(), Some("+8613800000000"));
    }

    /// A Vietnamese traveller with a citizen ID, named `name`.
    fn nguyen(name: &str) -> TravellerInput {
        TravellerInput {
            name_latin: Some(name.into()),
            nationality: Some("VNM".into()),
            sex: Some("F".into()),
            birth_date: Some("2001-05-02".into()),
            id_type: Some("vn_citizen_id".into()),
            id_number: Some("020301000123".into()),
            ..Default::default()
        }
    }

    #[test]
    fn vietnamese_diacritics_are_latin_letters() {
        let t = validate(&nguyen("Nguyễn Thị Ánh"), today(), "").unwrap();
        assert_eq!(t.name_latin, "NGUYỄN THỊ ÁNH");
    }

    #[test]
    fn a_decomposed_vietnamese_name_is_accepted_and_kept_composed() {
        let nfd = "Nguye\u{302}\u{303}n Thi\u{323} A\u{301}nh";
        let t = validate(&nguyen(nfd), today(), "").unwrap();
        assert_eq!(t.name_latin, "NGUYỄN THỊ ÁNH");
        assert!(!t.name_latin.chars().any(|c| ('\u{300}'..='\u{36f}').contains(&c)));
    }

    #[test]
    fn reports_every_broken_field_at_once() {
        let input = TravellerInput {
            name_zh: Some("Zhang".into()),
            name_latin: Some("张伟".into()),
            nationality: Some("XXX".into()),
            sex: Some("male".into()),
            birth_date: Some("2030-01-01".into()),
            id_type: Some("cn_resident_id".into()),
            id_number: Some("123".into()),
            phone: Some("12345".into()),
            email: Some("not-an-email".into()),
        };
        let errs = validate(&input, today(), "traveller.").unwrap_err();
        for field in [
            "name_zh",
            "name_latin",
            "nationality",
            "sex",
            "birth_date",
            "id_number",
            "phone",
            "email",
        ] {
            assert!(
                errs.has(&format!("traveller.{field}")),
                "missing error for {field}: {errs:?}"
            );
        }
    }

    #[test]
    fn missing_fields_are_required() {
        let errs = validate(&TravellerInput::default(), today(), "").unwrap_err();
        for field in ["name_latin", "nationality", "sex", "birth_date", "id_type", "id_number"] {
            assert_eq!(errs.for_field(field)[0].rule, "required", "{field}");
        }
    }

    #[test]
    fn control_characters_are_refused() {
        let mut input = zhang();
        input.name_latin = Some("ZHANG\u{0}WEI".into());
        let errs = validate(&input, today(), "").unwrap_err();
        assert_eq!(errs.for_field("name_latin")[0].rule, "printable");
    }

    #[test]
    fn birth_date_and_sex_come_from_the_resident_id_when_not_typed() {
        let mut input = zhang();
        input.id_number = Some(make_cn_id("450681", "19851224", "122"));
        input.birth_date = Some("  ".into());
        input.sex = None;
        let t = validate(&input, today(), "").unwrap();
        assert_eq!(t.birth_date, NaiveDate::from_ymd_opt(1985, 12, 24).unwrap());
        assert_eq!(t.sex, Sex::F, "even sequence digit");
        // Typed and different: still refused.
        input.sex = Some("M".into());
        input.birth_date = Some("1985-12-25".into());
        let errs = validate(&input, today(), "").unwrap_err();
        let rules: Vec<&str> = errs.for_field("id_number").iter().map(|e| e.rule.as_str()).collect();
        assert_eq!(rules, ["birth_date_mismatch", "sex_mismatch"]);
        // Other documents carry no date: still required.
        let vn = TravellerInput {
            sex: None,
            birth_date: None,
            ..nguyen("NGUYEN AN")
        };
        let errs = validate(&vn, today(), "").unwrap_err();
        assert!(errs.has("sex") && errs.has("birth_date"));
        // A broken number derives nothing and says so once, on the number.
        input.id_number = Some("123".into());
        input.sex = None;
        input.birth_date = None;
        let errs = validate(&input, today(), "").unwrap_err();
        assert!(errs.has("id_number") && errs.has("sex") && errs.has("birth_date"));
    }

    #[test]
    fn id_type_must_match_nationality() {
        let mut input = zhang();
        input.nationality = Some("VNM".into());
        let errs = validate(&input, today(), "").unwrap_err();
        assert_eq!(errs.for_field("nationality")[0].rule, "matches_id_type");
    }
}
