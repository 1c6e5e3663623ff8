//! The register of official seals (业务用章) and digital certificates (the permit-signing keys):
//! what an entry is, which printed document bears it, and the rules for entries, grants to a
//! holder and their withdrawal (授权登记). Pure; the records are kept by `service::seals`.

use serde::{Deserialize, Serialize};

use super::freight::Words;
use super::validation::{FieldErrors, optional_text, required_text};

/// A seal's name as engraved, or a certificate's description.
pub const MAX_NAME: usize = 100;
/// A seal's number, or a certificate's key id.
pub const MAX_REFERENCE: usize = 40;
pub const MAX_NOTE: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SealKind {
    /// A physical official seal (业务用章), kept by one holder at a time.
    Seal,
    /// A digital certificate: a permit-signing key the service holds, with its custodian.
    Certificate,
}

impl SealKind {
    pub const ALL: [SealKind; 2] = [SealKind::Seal, SealKind::Certificate];

    pub fn as_str(self) -> &'static str {
        match self {
            SealKind::Seal => "seal",
            SealKind::Certificate => "certificate",
        }
    }

    pub fn parse(s: &str) -> Option<SealKind> {
        SealKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn words(self) -> Words {
        match self {
            SealKind::Seal => Words {
                zh: "业务用章",
                vi: "Con dấu nghiệp vụ",
                en: "Official seal",
            },
            SealKind::Certificate => Words {
                zh: "数字证书",
                vi: "Chứng thư số",
                en: "Digital certificate",
            },
        }
    }
}

/// A document the service prints that bears a seal: each print records the seal's use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SealDocument {
    /// The permit card, printed on a blank.
    Permit,
    /// The notice of missing items (一次性告知书), printed for the applicant.
    Notice,
}

impl SealDocument {
    pub const ALL: [SealDocument; 2] = [SealDocument::Permit, SealDocument::Notice];

    pub fn as_str(self) -> &'static str {
        match self {
            SealDocument::Permit => "permit",
            SealDocument::Notice => "notice",
        }
    }

    pub fn parse(s: &str) -> Option<SealDocument> {
        SealDocument::ALL.into_iter().find(|d| d.as_str() == s)
    }

    pub fn words(self) -> Words {
        match self {
            SealDocument::Permit => Words {
                zh: "通行证证卡",
                vi: "Thẻ giấy thông hành",
                en: "Permit card",
            },
            SealDocument::Notice => Words {
                zh: "一次性告知书",
                vi: "Giấy thông báo bổ sung hồ sơ",
                en: "Notice of missing items",
            },
        }
    }
}

/// A new register entry as sent (JSON and the page's form).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealIn {
    /// `seal` or `certificate`.
    #[schema(pattern = "^[ \\t\\r\\n]*(seal|certificate)[ \\t\\r\\n]*$")]
    pub kind: String,
    /// The name as engraved (a seal), or what the certificate is for.
    #[schema(max_length = 100)]
    pub name: String,
    /// The seal's number; for a certificate, the key id `keys list` shows.
    #[schema(pattern = "^[ \\t\\r\\n]*[A-Za-z0-9-]{1,40}[ \\t\\r\\n]*$")]
    pub reference: String,
    /// The printed document that bears this seal (`permit` or `notice`), if any.
    #[schema(pattern = "^[ \\t\\r\\n]*(permit|notice)?[ \\t\\r\\n]*$")]
    pub applies_to: Option<String>,
}

/// An entry that passed its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSeal {
    pub kind: SealKind,
    pub name: String,
    pub reference: String,
    pub applies_to: Option<SealDocument>,
}

impl SealIn {
    /// Every rule the entry breaks, or the entry. A certificate is the service's own signature,
    /// not stamped on paper, so it applies to no printed document.
    pub fn validate(&self) -> Result<ValidSeal, FieldErrors> {
        let mut errs = FieldErrors::new();
        let kind = SealKind::parse(self.kind.trim());
        if kind.is_none() {
            errs.add(
                "kind",
                "one_of",
                "类别应为 seal（业务用章）或 certificate（数字证书）/ the kind must be seal or certificate",
            );
        }
        let name = required_text(&mut errs, "name", &self.name, MAX_NAME);
        let reference = self.reference.trim();
        if reference.is_empty() {
            errs.add("reference", "required", "必填 / required");
        } else if reference.len() > MAX_REFERENCE || !reference.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            errs.add(
                "reference",
                "format",
                "编号为1–40位字母、数字或连字符 / the reference is 1 to 40 letters, digits or hyphens",
            );
        }
        let applies_to = match self.applies_to.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => match SealDocument::parse(d) {
                Some(d) => Some(d),
                None => {
                    errs.add(
                        "applies_to",
                        "one_of",
                        "用于 permit（证卡）或 notice（告知书），或不填 / permit, notice or nothing",
                    );
                    None
                }
            },
        };
        if kind == Some(SealKind::Certificate) && applies_to.is_some() {
            errs.add(
                "applies_to",
                "certificate_not_stamped",
                "数字证书不盖在纸面文书上 / a digital certificate is not stamped on a printed document",
            );
        }
        let (Some(kind), Some(name)) = (kind, name) else {
            return Err(errs);
        };
        // Seal numbers are engraved in capitals; key ids are written in lower-case hex.
        let reference = match kind {
            SealKind::Seal => reference.to_ascii_uppercase(),
            SealKind::Certificate => reference.to_ascii_lowercase(),
        };
        errs.finish(ValidSeal {
            kind,
            name,
            reference,
            applies_to,
        })
    }
}

/// A seal handed to its holder, or a certificate put in a custodian's charge.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantIn {
    /// The holder's username (an officer of the office).
    #[schema(max_length = 64)]
    pub holder: String,
    #[schema(max_length = 200)]
    pub note: Option<String>,
}

/// Why a grant ends (a transfer, leave, the seal retired).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawIn {
    #[schema(max_length = 200)]
    pub reason: String,
}

/// The holder's username as it is looked up, or the rule it breaks.
pub fn holder(errs: &mut FieldErrors, s: &str) -> Option<String> {
    let h = s.trim().to_lowercase();
    if h.is_empty() || h.len() > 64 {
        errs.add(
            "holder",
            "required",
            "请填写持有人的用户名 / give the holder's username",
        );
        return None;
    }
    Some(h)
}

/// A reason or note: required text of at most `MAX_NOTE` characters.
pub fn reason(errs: &mut FieldErrors, field: &str, s: &str) -> Option<String> {
    required_text(errs, field, s, MAX_NOTE)
}

pub fn note(errs: &mut FieldErrors, s: Option<&str>) -> Option<String> {
    optional_text(errs, "note", s, MAX_NOTE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, reference: &str, applies_to: Option<&str>) -> SealIn {
        SealIn {
            kind: kind.into(),
            name: "凭祥市公安局出入境管理大队业务专用章".into(),
            reference: reference.into(),
            applies_to: applies_to.map(str::to_string),
        }
    }

    #[test]
    fn a_seal_for_the_permit_card_is_a_valid_entry() {
        let v = entry(" seal ", " pxh-2024-01 ", Some("permit")).validate().unwrap();
        assert_eq!(v.kind, SealKind::Seal);
        assert_eq!(v.reference, "PXH-2024-01");
        assert_eq!(v.applies_to, Some(SealDocument::Permit));
        let v = entry("certificate", "A1B2C3D4", None).validate().unwrap();
        assert_eq!((v.kind, v.applies_to), (SealKind::Certificate, None));
        assert_eq!(v.reference, "a1b2c3d4");
        assert_eq!(entry("seal", "X1", Some(" ")).validate().unwrap().applies_to, None);
    }

    #[test]
    fn every_broken_rule_is_named() {
        let e = SealIn::default().validate().unwrap_err();
        assert!(e.has("kind") && e.has("name") && e.has("reference"), "{e:?}");
        let e = entry("stamp", "a b", Some("passport")).validate().unwrap_err();
        assert!(e.has("kind") && e.has("reference") && e.has("applies_to"), "{e:?}");
        let e = entry("certificate", "a1b2c3d4", Some("permit")).validate().unwrap_err();
        assert_eq!(e.0[0].rule, "certificate_not_stamped");
        let long = "9".repeat(MAX_REFERENCE + 1);
        assert!(entry("seal", &long, None).validate().unwrap_err().has("reference"));
        let mut errs = FieldErrors::new();
        assert_eq!(holder(&mut errs, " Li "), Some("li".into()));
        assert_eq!(holder(&mut errs, "  "), None);
        assert!(errs.has("holder"));
    }

    #[test]
    fn kinds_and_documents_read_back_from_their_codes() {
        for k in SealKind::ALL {
            assert_eq!(SealKind::parse(k.as_str()), Some(k));
        }
        for d in SealDocument::ALL {
            assert_eq!(SealDocument::parse(d.as_str()), Some(d));
        }
    }
}
