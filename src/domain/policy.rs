//! Policy data (offices, validity, entries, eligibility per kind), loaded from `fixtures/`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::ids::IdType;
use super::permit::PermitKind;

#[derive(Debug, Clone, Deserialize)]
pub struct Office {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// What the office prints permits on: A6 paper (the default) or its card printer's blanks.
    #[serde(default)]
    pub permit_media: PermitMedia,
}

/// The blank a permit is printed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PermitMedia {
    /// A6 landscape paper, folded for the pocket.
    #[default]
    A6,
    /// An ID-1 card (CR80, 85.6 × 54 mm) in a card printer, printed on both sides.
    Cr80,
}

/// How an application of a kind moves from the window to a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Workflow {
    /// Issued on the spot at the window (border-tourism pass).
    #[default]
    OnTheSpot,
    /// Accepted (受理), then approved, then issued (border-trade pass).
    Approval,
    /// Accepted, then handed to an external review system (ordinary passports).
    ExternalReview,
}

/// One item of a kind's materials checklist.
#[derive(Debug, Clone, Deserialize)]
pub struct MaterialItem {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub name_vi: String,
    /// 容缺: may be missing at acceptance and supplied later.
    pub deferrable: bool,
    /// Working days the applicant has to supply it when it was missing at acceptance.
    #[serde(default)]
    pub supply_days: u32,
}

/// A validity the applicant may choose (e.g. one year multiple entries, three months single).
#[derive(Debug, Clone, Deserialize)]
pub struct ValidityOption {
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    pub validity_months: u32,
    /// 0 = multiple entries.
    pub entries_allowed: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KindPolicy {
    pub title_zh: String,
    pub title_en: String,
    pub title_vi: String,
    /// Prefix of permit numbers, e.g. `BT`; also of application numbers.
    pub series_prefix: String,
    /// Default validity and entries (0 = multiple entries).
    pub validity_months: u32,
    pub entries_allowed: u32,
    /// Which identity documents may hold this kind of permit.
    pub eligible_id_types: Vec<IdType>,
    #[serde(default)]
    pub workflow: Workflow,
    /// Working days from acceptance to decision (Approval) or from upload to review result
    /// (ExternalReview).
    #[serde(default)]
    pub sla_working_days: u32,
    #[serde(default)]
    pub materials: Vec<MaterialItem>,
    /// The approving officer must not be the one who accepted.
    #[serde(default)]
    pub four_eyes: bool,
    /// 制证先行: the permit may be approved and printed while deferred items are outstanding.
    #[serde(default)]
    pub print_before_complete: bool,
    #[serde(default)]
    pub validity_options: Vec<ValidityOption>,
}

impl KindPolicy {
    pub fn material(&self, code: &str) -> Option<&MaterialItem> {
        self.materials.iter().find(|m| m.code == code)
    }

    /// Validity months and entries for an option code (None = the default).
    pub fn validity(&self, option: Option<&str>) -> Option<(u32, u32)> {
        match option {
            None => Some((self.validity_months, self.entries_allowed)),
            Some(code) => self
                .validity_options
                .iter()
                .find(|o| o.code == code)
                .map(|o| (o.validity_months, o.entries_allowed)),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Policy {
    pub offices: Vec<Office>,
    pub kinds: BTreeMap<PermitKind, KindPolicy>,
    /// Freight ports, lanes and the booking rules; none: no freight booking.
    #[serde(default)]
    pub freight: super::freight::FreightPolicy,
    /// The market prices the free services are valued at.
    #[serde(default)]
    pub free_services: super::free::FreePolicy,
}

/// The policy shipped with the project; deployments may point `BORDERDESK_POLICY_FILE` elsewhere.
pub const DEFAULT_POLICY: &str = include_str!("../../fixtures/policy.json");

impl Policy {
    pub fn from_json(text: &str) -> Result<Policy, String> {
        let policy: Policy = serde_json::from_str(text).map_err(|e| format!("policy: {e}"))?;
        if policy.offices.is_empty() {
            return Err("policy: at least one office is required".into());
        }
        for o in &policy.offices {
            if o.code.is_empty() || !o.code.chars().all(|c| c.is_ascii_uppercase()) {
                return Err(format!("policy: office code {:?} must be uppercase letters", o.code));
            }
        }
        let codes: Vec<&str> = policy.offices.iter().map(|o| o.code.as_str()).collect();
        policy.free_services.check(&codes)?;
        for (kind, k) in &policy.kinds {
            let options = k
                .validity_options
                .iter()
                .map(|o| (o.validity_months, o.entries_allowed));
            for (months, entries) in std::iter::once((k.validity_months, k.entries_allowed)).chain(options) {
                if months == 0 || months > 120 || entries > 255 {
                    return Err(format!(
                        "policy: {}: validity 1..=120 months and entries 0..=255 (0 = multiple)",
                        kind.as_str()
                    ));
                }
            }
            let mut codes: Vec<&str> = k.materials.iter().map(|m| m.code.as_str()).collect();
            codes.sort_unstable();
            if codes.windows(2).any(|w| w[0] == w[1]) || codes.iter().any(|c| !super::validation::plausible_key(c)) {
                return Err(format!(
                    "policy: {}: material codes must be unique letters, digits and hyphens",
                    kind.as_str()
                ));
            }
            if k.series_prefix.is_empty() || !k.series_prefix.chars().all(|c| c.is_ascii_uppercase()) {
                return Err(format!(
                    "policy: {}: series_prefix must be uppercase letters",
                    kind.as_str()
                ));
            }
        }
        Ok(policy)
    }

    pub fn office(&self, code: &str) -> Option<&Office> {
        self.offices.iter().find(|o| o.code == code)
    }

    pub fn kind(&self, kind: PermitKind) -> Option<&KindPolicy> {
        self.kinds.get(&kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_policy_parses_and_tourism_is_three_months_single_entry() {
        let p = Policy::from_json(DEFAULT_POLICY).unwrap();
        let t = p.kind(PermitKind::BorderTourism).unwrap();
        assert_eq!((t.validity_months, t.entries_allowed), (3, 1));
        assert!(p.office("YYG").is_some());
    }

    #[test]
    fn trade_is_one_working_day_with_deferrable_items() {
        let p = Policy::from_json(DEFAULT_POLICY).unwrap();
        let t = p.kind(PermitKind::BorderTrade).unwrap();
        assert_eq!(t.workflow, Workflow::Approval);
        assert_eq!(t.sla_working_days, 1);
        assert_eq!(t.validity(None), Some((12, 0)));
        assert_eq!(t.validity(Some("single_3m")), Some((3, 1)));
        assert!(t.materials.iter().any(|m| m.deferrable) && t.materials.iter().any(|m| !m.deferrable));
        assert_eq!(p.kind(PermitKind::Passport).unwrap().workflow, Workflow::ExternalReview);
    }

    #[test]
    fn rejects_nonsense() {
        assert!(Policy::from_json("{").is_err());
        assert!(Policy::from_json(r#"{"offices":[],"kinds":{}}"#).is_err());
        let zero = r#"{"offices":[{"code":"YYG","name_zh":"x","name_en":"x"}],
            "kinds":{"border_tourism":{"title_zh":"x","title_en":"x","title_vi":"x","series_prefix":"BT","validity_months":0,"entries_allowed":1,"eligible_id_types":[]}}}"#;
        assert!(Policy::from_json(zero).is_err());
    }
}
