//! Blank permit cards as controlled stock (空白证卡): serial ranges received, the reasons a blank
//! or a print is set aside, the day's reconciliation and its arithmetic.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::freight::Words;
use super::validation::FieldErrors;

/// Blanks in one received batch at most: a supplier's box is 500 or 1000 cards; a typo of an
/// extra digit in the last serial must not create a million rows.
pub const MAX_BATCH: i64 = 5000;
/// Serials are the supplier's numbers printed on the card: positive, at most 12 digits.
pub const MAX_SERIAL: i64 = 999_999_999_999;

/// How a serial is printed on pages and records: the supplier's eight-digit form.
pub fn serial_text(serial: i64) -> String {
    format!("{serial:08}")
}

/// Checks a received range and says what is wrong with each end, in the field's own words.
pub fn check_range(errs: &mut FieldErrors, first: i64, last: i64) {
    for (field, v) in [("first_serial", first), ("last_serial", last)] {
        if !(1..=MAX_SERIAL).contains(&v) {
            errs.add(
                field,
                "range",
                "证卡序号应为1至999999999999的整数 / a serial is a whole number from 1 to 999999999999",
            );
        }
    }
    if errs.is_empty() {
        if last < first {
            errs.add(
                "last_serial",
                "order",
                "末号不能小于首号 / the last serial cannot be below the first",
            );
        } else if last - first + 1 > MAX_BATCH {
            errs.add(
                "last_serial",
                "batch_size",
                format!("一批最多{MAX_BATCH}张 / at most {MAX_BATCH} blanks in one batch"),
            );
        }
    }
}

/// Where a blank is: in the drawer, printed on, or set aside (never to be handed out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BlankStatus {
    Unused,
    Used,
    Void,
}

impl BlankStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BlankStatus::Unused => "unused",
            BlankStatus::Used => "used",
            BlankStatus::Void => "void",
        }
    }

    pub fn parse(s: &str) -> Option<BlankStatus> {
        [BlankStatus::Unused, BlankStatus::Used, BlankStatus::Void]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    pub fn words(self) -> Words {
        match self {
            BlankStatus::Unused => Words::new("未使用", "Chưa dùng", "unused"),
            BlankStatus::Used => Words::new("已打印", "Đã in", "printed"),
            BlankStatus::Void => Words::new("已作废", "Đã hủy", "void"),
        }
    }
}

/// Why a blank is set aside unprinted, or a print replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoidReason {
    /// Jammed or spoiled in the printer.
    Spoiled,
    /// Printed wrongly (misaligned, wrong data): the card cannot be handed out.
    Misprinted,
    /// Damaged after printing, at the window.
    Damaged,
    /// Lost at the desk before it was handed over.
    LostAtDesk,
}

impl VoidReason {
    pub const ALL: [VoidReason; 4] = [
        VoidReason::Spoiled,
        VoidReason::Misprinted,
        VoidReason::Damaged,
        VoidReason::LostAtDesk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VoidReason::Spoiled => "spoiled",
            VoidReason::Misprinted => "misprinted",
            VoidReason::Damaged => "damaged",
            VoidReason::LostAtDesk => "lost_at_desk",
        }
    }

    pub fn parse(s: &str) -> Option<VoidReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn words(self) -> Words {
        match self {
            VoidReason::Spoiled => Words::new("卡纸或打印机损坏", "Kẹt giấy, hỏng khi in", "spoiled in the printer"),
            VoidReason::Misprinted => Words::new("打印错误", "In sai", "misprinted"),
            VoidReason::Damaged => Words::new("打印后损坏", "Hư hỏng sau khi in", "damaged after printing"),
            VoidReason::LostAtDesk => Words::new("窗口遗失", "Thất lạc tại quầy", "lost at the desk"),
        }
    }

    /// A reprint replaces a card that was printed: not one that was never printed on.
    pub fn fits_reprint(self) -> bool {
        self != VoidReason::Spoiled
    }
}

/// One office's blanks over one day: what it started with, took in, used and set aside, and
/// what it should hold at the end. `closing` is counted from the records, not computed from the
/// others, so a record the formula does not explain shows as a difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    pub opening: i64,
    pub received: i64,
    pub used: i64,
    pub voided: i64,
    pub closing: i64,
}

impl Figures {
    /// opening + received − used − voided − closing: zero when every blank is accounted for.
    pub fn difference(&self) -> i64 {
        self.opening + self.received - self.used - self.voided - self.closing
    }
}

/// When a blank came in and left the drawer (printed on, or voided unprinted).
#[derive(Debug, Clone, Copy)]
pub struct BlankTimes {
    pub serial: i64,
    pub received_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
}

impl BlankTimes {
    /// A printed card leaves the drawer when printed, whatever happens to it later.
    fn left_at(&self) -> Option<DateTime<Utc>> {
        self.used_at.or(self.voided_at)
    }

    fn in_drawer_at(&self, t: DateTime<Utc>) -> bool {
        self.received_at < t && self.left_at().is_none_or(|l| l >= t)
    }
}

/// The serials behind each figure of a day `[start, end)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaySets {
    pub opening: Vec<i64>,
    pub received: Vec<i64>,
    pub used: Vec<i64>,
    /// Voided unprinted.
    pub voided: Vec<i64>,
    /// Printed cards voided that day by a reprint (not in the drawer's arithmetic).
    pub replaced: Vec<i64>,
    pub closing: Vec<i64>,
}

impl DaySets {
    pub fn figures(&self) -> Figures {
        let n = |v: &Vec<i64>| i64::try_from(v.len()).unwrap_or(i64::MAX);
        Figures {
            opening: n(&self.opening),
            received: n(&self.received),
            used: n(&self.used),
            voided: n(&self.voided),
            closing: n(&self.closing),
        }
    }
}

/// Sorts each blank into the day's figures; the opening and closing are who was in the drawer
/// at the day's start and end, each counted on its own.
pub fn day_sets(blanks: &[BlankTimes], start: DateTime<Utc>, end: DateTime<Utc>) -> DaySets {
    let within = |t: Option<DateTime<Utc>>| t.is_some_and(|t| start <= t && t < end);
    let mut out = DaySets::default();
    for b in blanks {
        if b.in_drawer_at(start) {
            out.opening.push(b.serial);
        }
        if within(Some(b.received_at)) {
            out.received.push(b.serial);
        }
        if within(b.used_at) {
            out.used.push(b.serial);
        }
        if within(b.voided_at) {
            if b.used_at.is_none() {
                out.voided.push(b.serial);
            } else {
                out.replaced.push(b.serial);
            }
        }
        if b.in_drawer_at(end) {
            out.closing.push(b.serial);
        }
    }
    out
}

/// Serials folded into runs, `[(first, last)]`, for a reader who checks them against the cards.
pub fn runs(serials: &[i64]) -> Vec<(i64, i64)> {
    let mut sorted = serials.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for s in sorted {
        match out.last_mut() {
            Some((_, last)) if *last + 1 == s => *last = s,
            _ => out.push((s, s)),
        }
    }
    out
}

/// The runs as text: `00000101–00000150, 00000152`.
pub fn runs_text(serials: &[i64]) -> String {
    runs(serials)
        .into_iter()
        .map(|(a, b)| {
            if a == b {
                serial_text(a)
            } else {
                format!("{}–{}", serial_text(a), serial_text(b))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range_errors(first: i64, last: i64) -> Vec<(String, String)> {
        let mut errs = FieldErrors::new();
        check_range(&mut errs, first, last);
        errs.0.into_iter().map(|e| (e.field, e.rule)).collect()
    }

    #[test]
    fn a_range_is_positive_ordered_and_one_box_at_most() {
        assert!(range_errors(1, 500).is_empty());
        assert!(range_errors(1001, 1001).is_empty());
        assert_eq!(range_errors(0, 10), vec![("first_serial".into(), "range".into())]);
        assert_eq!(range_errors(10, 9), vec![("last_serial".into(), "order".into())]);
        assert_eq!(
            range_errors(1, MAX_BATCH + 1),
            vec![("last_serial".into(), "batch_size".into())]
        );
        assert!(range_errors(1, MAX_BATCH).is_empty());
        assert_eq!(
            range_errors(-5, MAX_SERIAL + 1),
            vec![
                ("first_serial".into(), "range".into()),
                ("last_serial".into(), "range".into())
            ]
        );
    }

    #[test]
    fn serials_fold_into_runs() {
        assert_eq!(runs(&[5, 3, 4, 9, 10, 12, 4]), vec![(3, 5), (9, 10), (12, 12)]);
        assert!(runs(&[]).is_empty());
        assert_eq!(runs_text(&[101, 102, 103, 105]), "00000101–00000103, 00000105");
    }

    #[test]
    fn the_difference_is_what_the_records_do_not_explain() {
        let f = Figures {
            opening: 100,
            received: 500,
            used: 40,
            voided: 2,
            closing: 558,
        };
        assert_eq!(f.difference(), 0);
        assert_eq!(Figures { closing: 557, ..f }.difference(), 1);
    }

    #[test]
    fn a_day_balances_with_receipts_prints_voids_and_reprints() {
        use chrono::TimeZone;
        let t = |h: u32| Utc.with_ymd_and_hms(2026, 11, 30, h, 0, 0).single().expect("time");
        let (start, end) = (t(2), t(20));
        let b = |serial, received_at, used_at, voided_at| BlankTimes {
            serial,
            received_at,
            used_at,
            voided_at,
        };
        let blanks = [
            b(1, t(0), Some(t(1)), None),       // printed yesterday: not in today's figures
            b(2, t(0), Some(t(3)), None),       // in the drawer this morning, printed today
            b(3, t(0), None, Some(t(4))),       // spoiled today
            b(4, t(0), None, None),             // still there
            b(5, t(5), Some(t(6)), Some(t(7))), // received, printed, replaced by a reprint
            b(6, t(5), Some(t(7)), None),       // the reprint
            b(7, t(5), None, None),             // still there
            b(8, t(0), Some(t(1)), Some(t(9))), // printed yesterday, replaced today
            b(9, t(21), None, None),            // received after the day
        ];
        let s = day_sets(&blanks, start, end);
        assert_eq!(s.opening, vec![2, 3, 4]);
        assert_eq!(s.received, vec![5, 6, 7]);
        assert_eq!(s.used, vec![2, 5, 6]);
        assert_eq!(s.voided, vec![3]);
        assert_eq!(s.replaced, vec![5, 8]);
        assert_eq!(s.closing, vec![4, 7]);
        assert_eq!(s.figures().difference(), 0);
    }

    #[test]
    fn reasons_round_trip_and_a_reprint_never_calls_a_card_unprinted() {
        for r in VoidReason::ALL {
            assert_eq!(VoidReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(VoidReason::parse("bogus"), None);
        assert!(!VoidReason::Spoiled.fits_reprint());
        assert!(VoidReason::Damaged.fits_reprint());
    }
}
