//! Words for stored codes (states, document types, kinds, validity options, offices): officers
//! read 已受理, not `accepted`. One place, so every page says the same thing.

use crate::domain::ids::IdType;
use crate::domain::permit::{ApplicationStatus, PermitKind, PermitStatus};
use crate::domain::policy::Policy;

/// A code in words: Chinese first, English beside it (rendered with `lang="en"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub zh: String,
    pub en: String,
}

fn label(zh: &str, en: &str) -> Label {
    Label {
        zh: zh.into(),
        en: en.into(),
    }
}

/// An unknown code is shown as it is rather than hidden: someone must notice it.
fn unknown(code: &str) -> Label {
    label(code, "")
}

pub fn application_status(s: ApplicationStatus) -> Label {
    use ApplicationStatus::*;
    match s {
        Submitted => label("已登记，待办理", "Taken, awaiting processing"),
        Accepted => label("已受理，待审批", "Accepted, awaiting decision"),
        Approved => label("已批准，待制证", "Approved, awaiting print"),
        Issued => label("已制证", "Issued"),
        Collected => label("已领取", "Collected"),
        Uploaded => label("已上报审核", "Sent for review"),
        Rejected => label("不予办理", "Rejected"),
        Withdrawn => label("已撤回", "Withdrawn"),
    }
}

pub fn permit_status(s: PermitStatus) -> Label {
    use PermitStatus::*;
    match s {
        Issued => label("有效", "Valid"),
        Pending => label("已制证，待补材料后生效", "Printed, not valid until items arrive"),
        Suspended => label("已中止（逾期未补材料）", "Suspended (items overdue)"),
        Used => label("已使用", "Used"),
        Expired => label("已过期", "Expired"),
        Revoked => label("已吊销", "Revoked"),
    }
}

pub fn id_type(t: IdType) -> Label {
    match t {
        IdType::CnResidentId => label("居民身份证", "Resident ID card"),
        IdType::VnCitizenId => label("越南公民身份证", "Vietnamese citizen ID (CCCD)"),
        IdType::Passport => label("护照", "Passport"),
    }
}

pub fn id_type_code(code: &str) -> Label {
    IdType::parse(code).map_or_else(|| unknown(code), id_type)
}

pub fn sex_code(code: &str) -> Label {
    match code {
        "M" => label("男", "Male"),
        "F" => label("女", "Female"),
        "X" => label("未指明", "Unspecified"),
        other => unknown(other),
    }
}

pub fn kind(policy: &Policy, k: PermitKind) -> Label {
    policy
        .kind(k)
        .map_or_else(|| unknown(k.as_str()), |p| label(&p.title_zh, &p.title_en))
}

/// A trade pass's validity option; None is the kind's default.
pub fn validity_option(policy: &Policy, k: PermitKind, code: Option<&str>) -> Label {
    let Some(kp) = policy.kind(k) else {
        return unknown(code.unwrap_or(""));
    };
    match code {
        None => {
            let entries = if kp.entries_allowed == 0 {
                label("多次", "multiple entries")
            } else {
                label(
                    &format!("{}次", kp.entries_allowed),
                    &format!("{} entry", kp.entries_allowed),
                )
            };
            label(
                &format!("{}个月{}", kp.validity_months, entries.zh),
                &format!("{} months, {}", kp.validity_months, entries.en),
            )
        }
        Some(c) => kp
            .validity_options
            .iter()
            .find(|o| o.code == c)
            .map_or_else(|| unknown(c), |o| label(&o.label_zh, &o.label_en)),
    }
}

pub fn office(policy: &Policy, code: &str) -> Label {
    policy
        .office(code)
        .map_or_else(|| unknown(code), |o| label(&o.name_zh, &o.name_en))
}

/// A material item of a kind's checklist by its code.
pub fn material(policy: &Policy, k: PermitKind, code: &str) -> Label {
    policy
        .kind(k)
        .and_then(|kp| kp.material(code))
        .map_or_else(|| unknown(code), |m| label(&m.name_zh, &m.name_en))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::DEFAULT_POLICY;

    fn policy() -> Policy {
        Policy::from_json(DEFAULT_POLICY).unwrap()
    }

    #[test]
    fn codes_become_words() {
        let p = policy();
        assert_eq!(application_status(ApplicationStatus::Submitted).zh, "已登记，待办理");
        assert_eq!(id_type_code("cn_resident_id").zh, "居民身份证");
        assert_eq!(kind(&p, PermitKind::BorderTourism).zh, "边境旅游通行证");
        let trade = PermitKind::BorderTrade;
        assert_eq!(validity_option(&p, trade, Some("multi_1y")).zh, "一年多次");
        assert_eq!(validity_option(&p, trade, None).en, "12 months, multiple entries");
        assert!(office(&p, "YYG").zh.contains("友谊关"));
        assert_eq!(material(&p, trade, "portrait").zh, "证件照片");
        assert_eq!(
            permit_status(PermitStatus::Pending).en,
            "Printed, not valid until items arrive"
        );
        assert_eq!(sex_code("F").zh, "女");
    }

    #[test]
    fn every_state_has_words_and_unknown_offices_stay_visible() {
        for s in ApplicationStatus::ALL {
            let l = application_status(s);
            assert!(!l.zh.is_empty() && !l.en.is_empty() && l.en != s.as_str(), "{s:?}");
        }
        assert_eq!(office(&policy(), "XXX").zh, "XXX");
    }
}
