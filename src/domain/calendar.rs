//! Working days: Monday–Friday, minus public holidays, plus 调休 make-up working days, kept as
//! dated exceptions per year. Every SLA is counted on this calendar.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use super::{OFFICE_TZ, local};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A public holiday (or a weekday off in a 调休 arrangement).
    Holiday,
    /// A weekend day that is a working day (调休上班).
    Workday,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    pub fn parse(s: &str) -> Option<DayKind> {
        [DayKind::Holiday, DayKind::Workday]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Exception {
    pub date: NaiveDate,
    pub kind: DayKind,
    /// e.g. 春节 Spring Festival.
    pub name: String,
}

/// A year as published by the State Council: its exceptions over the Monday–Friday default.
#[derive(Debug, Clone, Deserialize)]
pub struct PublishedYear {
    pub year: i32,
    pub source: String,
    pub days: Vec<Exception>,
}

/// Office opening hours: work taken after closing counts from the next working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfficeHours {
    pub open: NaiveTime,
    pub close: NaiveTime,
}

impl Default for OfficeHours {
    fn default() -> Self {
        OfficeHours {
            open: NaiveTime::from_hms_opt(8, 30, 0).unwrap_or_default(),
            close: NaiveTime::from_hms_opt(17, 30, 0).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Calendar {
    exceptions: BTreeMap<NaiveDate, DayKind>,
}

/// Far enough for any SLA; stops a loop over a calendar that (wrongly) has no working days.
const MAX_SCAN_DAYS: u32 = 3660;

impl Calendar {
    pub fn new(exceptions: impl IntoIterator<Item = (NaiveDate, DayKind)>) -> Calendar {
        Calendar {
            exceptions: exceptions.into_iter().collect(),
        }
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        match self.exceptions.get(&d) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !matches!(d.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// Whether any exception of `year` is known (a year without data falls back to Mon–Fri).
    pub fn covers(&self, year: i32) -> bool {
        self.exceptions.keys().any(|d| d.year() == year)
    }

    /// The first working day strictly after `d`.
    pub fn next_working_day(&self, d: NaiveDate) -> NaiveDate {
        let mut day = d;
        for _ in 0..MAX_SCAN_DAYS {
            day = day.checked_add_days(Days::new(1)).unwrap_or(day);
            if self.is_working_day(day) {
                return day;
            }
        }
        day
    }

    /// The working day `n` working days after `d` (n = 0: `d` itself if it is a working day,
    /// else the next one).
    pub fn add_working_days(&self, d: NaiveDate, n: u32) -> NaiveDate {
        let mut day = if self.is_working_day(d) {
            d
        } else {
            self.next_working_day(d)
        };
        for _ in 0..n {
            day = self.next_working_day(day);
        }
        day
    }

    /// The working day an act at `at` counts from: its own day if that is a working day and
    /// the office has not closed, otherwise the next working day.
    pub fn counting_day(&self, at: DateTime<Utc>, hours: &OfficeHours) -> NaiveDate {
        let t = local(at);
        let day = t.date_naive();
        if self.is_working_day(day) && t.time() < hours.close {
            day
        } else {
            self.next_working_day(day)
        }
    }

    /// Deadline of an SLA of `n` working days from `at`: closing time on the n-th working day
    /// after the counting day. One working day from Monday 10:00 is Tuesday at closing.
    pub fn deadline(&self, at: DateTime<Utc>, n: u32, hours: &OfficeHours) -> DateTime<Utc> {
        let day = self.add_working_days(self.counting_day(at, hours), n);
        day.and_time(hours.close)
            .and_local_timezone(OFFICE_TZ)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(at)
    }

    /// A date `n` working days after `from` (for due dates of missing materials).
    pub fn due_date(&self, from: DateTime<Utc>, n: u32, hours: &OfficeHours) -> NaiveDate {
        self.add_working_days(self.counting_day(from, hours), n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn shipped() -> Calendar {
        let mut all = Vec::new();
        for text in [
            include_str!("../../fixtures/calendar/2025.json"),
            include_str!("../../fixtures/calendar/2026.json"),
        ] {
            let year: PublishedYear = serde_json::from_str(text).unwrap();
            assert!(year.days.iter().all(|e| e.date.year() == year.year));
            all.extend(year.days.into_iter().map(|e| (e.date, e.kind)));
        }
        Calendar::new(all)
    }

    fn at(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
        OFFICE_TZ
            .with_ymd_and_hms(y, m, day, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn plain_weeks() {
        let c = Calendar::default();
        assert!(c.is_working_day(d(2026, 11, 27))); // Friday
        assert!(!c.is_working_day(d(2026, 11, 28))); // Saturday
        assert_eq!(c.next_working_day(d(2026, 11, 27)), d(2026, 11, 30));
        assert_eq!(c.add_working_days(d(2026, 11, 28), 0), d(2026, 11, 30));
    }

    #[test]
    fn golden_week_2025_with_its_make_up_saturday() {
        let c = shipped();
        // 1–8 Oct 2025 off; Sat 11 Oct is a working day.
        for day in 1..=8 {
            assert!(!c.is_working_day(d(2025, 10, day)), "{day} Oct");
        }
        assert!(c.is_working_day(d(2025, 9, 28))); // Sunday make-up day
        assert!(c.is_working_day(d(2025, 10, 11))); // Saturday make-up day
        // Accepted Tue 30 Sep 10:00, one working day: due Thu 9 Oct at closing.
        let due = c.deadline(at(2025, 9, 30, 10, 0), 1, &OfficeHours::default());
        assert_eq!(local(due).to_rfc3339(), "2025-10-09T17:30:00+08:00");
        // Accepted Thu 9 Oct after closing: counts from Fri 10 Oct; due Sat 11 Oct (make-up day).
        let due = c.deadline(at(2025, 10, 9, 18, 0), 1, &OfficeHours::default());
        assert_eq!(local(due).date_naive(), d(2025, 10, 11));
    }

    #[test]
    fn spring_festival_2026_with_make_up_saturdays() {
        let c = shipped();
        assert!(c.is_working_day(d(2026, 2, 14))); // Saturday before: working
        for day in 15..=23 {
            assert!(!c.is_working_day(d(2026, 2, day)), "{day} Feb");
        }
        assert!(c.is_working_day(d(2026, 2, 28))); // Saturday after: working
        // Accepted Sat 14 Feb (a make-up working day) at 11:00: one working day later is Tue 24 Feb.
        let due = c.deadline(at(2026, 2, 14, 11, 0), 1, &OfficeHours::default());
        assert_eq!(local(due).date_naive(), d(2026, 2, 24));
        // Accepted Fri 13 Feb after closing: counts from Sat 14 Feb, due Tue 24 Feb.
        assert_eq!(
            local(c.deadline(at(2026, 2, 13, 19, 0), 1, &OfficeHours::default())).date_naive(),
            d(2026, 2, 24)
        );
        // From Fri 20 Feb (a holiday) the count starts on Tue 24 Feb; eight more working days:
        // 25, 26, 27, 28 (Saturday, make-up), 2, 3, 4, 5 March.
        assert_eq!(c.add_working_days(d(2026, 2, 20), 8), d(2026, 3, 5));
    }

    #[test]
    fn across_the_year_boundary() {
        let c = shipped();
        // 2025-12-31 (Wed) after closing → counts from... 1 Jan 2026 is a holiday, 2 and 3 Jan too;
        // Sun 4 Jan 2026 is a make-up working day.
        assert!(c.is_working_day(d(2026, 1, 4)));
        assert_eq!(
            c.counting_day(at(2025, 12, 31, 18, 0), &OfficeHours::default()),
            d(2026, 1, 4)
        );
        assert_eq!(
            local(c.deadline(at(2025, 12, 31, 18, 0), 1, &OfficeHours::default())).date_naive(),
            d(2026, 1, 5)
        );
        assert!(c.covers(2025) && c.covers(2026) && !c.covers(2027));
    }

    #[test]
    fn a_calendar_without_working_days_does_not_hang() {
        let all_off = (0..4000).map(|i| (d(2026, 1, 1) + chrono::Duration::days(i), DayKind::Holiday));
        let c = Calendar::new(all_off);
        let _ = c.add_working_days(d(2026, 1, 1), 3);
    }
}
