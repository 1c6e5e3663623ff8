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
}

#[derive(Debug, Clone, Deserialize)]
pub struct KindPolicy {
    pub title_zh: String,
    pub title_en: String,
    /// Prefix of permit numbers, e.g. `BT`.
    pub series_prefix: String,
    pub validity_months: u32,
    pub entries_allowed: u32,
    /// Which identity documents may hold this kind of permit.
    pub eligible_id_types: Vec<IdType>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Policy {
    pub offices: Vec<Office>,
    pub kinds: BTreeMap<PermitKind, KindPolicy>,
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
        for (kind, k) in &policy.kinds {
            if k.validity_months == 0 || k.validity_months > 120 {
                return Err(format!("policy: {}: validity_months must be 1..=120", kind.as_str()));
            }
            if k.entries_allowed == 0 || k.entries_allowed > 255 {
                return Err(format!("policy: {}: entries_allowed must be 1..=255", kind.as_str()));
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
    fn rejects_nonsense() {
        assert!(Policy::from_json("{").is_err());
        assert!(Policy::from_json(r#"{"offices":[],"kinds":{}}"#).is_err());
        let zero = r#"{"offices":[{"code":"YYG","name_zh":"x","name_en":"x"}],
            "kinds":{"border_tourism":{"title_zh":"x","title_en":"x","series_prefix":"BT","validity_months":0,"entries_allowed":1,"eligible_id_types":[]}}}"#;
        assert!(Policy::from_json(zero).is_err());
    }
}
