//! Working days: Monday–Friday, minus public holidays, plus 调休 make-up working days, kept as
//! dated exceptions per year. Every SLA is counted on this calendar. A year whose State Council
//! schedule is not loaded is provisional: its statutory holidays are computed (see `statutory`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

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
    pub const ALL: [DayKind; 2] = [DayKind::Holiday, DayKind::Workday];

    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    pub fn parse(s: &str) -> Option<DayKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
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

impl DayKind {
    /// The kind in words for the pages.
    pub fn zh(self) -> &'static str {
        match self {
            DayKind::Holiday => "放假",
            DayKind::Workday => "调休上班",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "make-up working day",
        }
    }
}

/// 星期一 … 星期日.
pub fn weekday_zh(d: NaiveDate) -> &'static str {
    match d.weekday() {
        Weekday::Mon => "星期一",
        Weekday::Tue => "星期二",
        Weekday::Wed => "星期三",
        Weekday::Thu => "星期四",
        Weekday::Fri => "星期五",
        Weekday::Sat => "星期六",
        Weekday::Sun => "星期日",
    }
}

pub fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The statutory holidays of the 全国年节及纪念日放假办法 (art. 2 as revised by the State
/// Council's decision of 10 November 2024, its fourth revision, in force 1 January 2025), as data: 元旦 1 day; 春节 4 days, New Year's Eve (除夕)
/// to the third day; 清明节 1 day; 劳动节 2 days (1–2 May); 端午节 1 day; 中秋节 1 day; 国庆节
/// 3 days (1–3 October). Art. 6: a holiday for all citizens that falls on a Saturday or Sunday
/// is made up on a working day (补假). The 2025 and 2026 schedules in fixtures/calendar contain
/// exactly these days plus the State Council's 调休 swaps, which cannot be computed. Regional
/// holidays under art. 4 (Guangxi's 三月三) are not in the published fixtures either, so not here.
pub mod statutory {
    use super::*;
    use chinese_lunisolar_calendar::LunisolarDate;

    #[derive(Debug, Clone, Copy)]
    pub enum FirstDay {
        Solar { month: u32, day: u32 },
        Lunar { month: u8, day: u8 },
        LunarNewYearsEve,
        Qingming,
    }

    pub struct Holiday {
        pub name: &'static str,
        pub first: FirstDay,
        pub days: u64,
    }

    pub const HOLIDAYS: [Holiday; 7] = [
        holiday("元旦 New Year's Day", FirstDay::Solar { month: 1, day: 1 }, 1),
        holiday("春节 Spring Festival", FirstDay::LunarNewYearsEve, 4),
        holiday("清明节 Qingming", FirstDay::Qingming, 1),
        holiday("劳动节 Labour Day", FirstDay::Solar { month: 5, day: 1 }, 2),
        holiday("端午节 Dragon Boat Festival", FirstDay::Lunar { month: 5, day: 5 }, 1),
        holiday("中秋节 Mid-Autumn", FirstDay::Lunar { month: 8, day: 15 }, 1),
        holiday("国庆节 National Day", FirstDay::Solar { month: 10, day: 1 }, 3),
    ];

    const fn holiday(name: &'static str, first: FirstDay, days: u64) -> Holiday {
        Holiday { name, first, days }
    }

    /// Years the computation covers: the Qingming formula below holds for 2000–2099.
    pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2099;

    /// 清明 (the sun at 15° ecliptic longitude) by the common "寿星" formula for the 21st
    /// century: day of April = ⌊Y·0.2422 + 4.81⌋ − ⌊Y/4⌋ with Y the year's last two digits.
    pub fn qingming(year: i32) -> Option<NaiveDate> {
        if !YEARS.contains(&year) {
            return None;
        }
        let y = f64::from(year % 100);
        let day = (y * 0.2422 + 4.81).floor() as u32 - (year % 100 / 4) as u32;
        NaiveDate::from_ymd_opt(year, 4, day)
    }

    /// A lunar month and day in the lunar year that begins in `year`, as a Gregorian date
    /// (chinese-lunisolar-calendar's tables, 1901–2100).
    fn lunar(year: i32, month: u8, day: u8) -> Option<NaiveDate> {
        let y = u16::try_from(year).ok()?;
        LunisolarDate::from_ymd(y, month, false, day)
            .ok()
            .map(LunisolarDate::to_naive_date)
    }

    pub fn first_day(year: i32, first: FirstDay) -> Option<NaiveDate> {
        match first {
            FirstDay::Solar { month, day } => NaiveDate::from_ymd_opt(year, month, day),
            FirstDay::Lunar { month, day } => lunar(year, month, day),
            FirstDay::LunarNewYearsEve => lunar(year, 1, 1)?.pred_opt(),
            FirstDay::Qingming => qingming(year),
        }
    }

    /// The holidays of `year` by statute alone, with the days in lieu of those falling on a
    /// weekend (or on another holiday, as 中秋 on 1–3 October does): each owed day is the
    /// first weekday after its holiday that is not already off. No make-up working days.
    pub fn year(year: i32) -> Vec<Exception> {
        if !YEARS.contains(&year) {
            return Vec::new();
        }
        let mut firsts: Vec<(NaiveDate, &Holiday)> = HOLIDAYS
            .iter()
            .filter_map(|h| first_day(year, h.first).map(|d| (d, h)))
            .collect();
        firsts.sort_by_key(|(d, _)| *d);
        let mut off: BTreeMap<NaiveDate, String> = BTreeMap::new();
        for (first, h) in firsts {
            let mut owed = 0;
            let mut last = first;
            for i in 0..h.days {
                let Some(d) = first.checked_add_days(Days::new(i)) else {
                    continue;
                };
                last = d;
                if is_weekend(d) || off.contains_key(&d) {
                    owed += 1;
                }
                off.entry(d).or_insert_with(|| h.name.to_string());
            }
            let mut d = last;
            while owed > 0 {
                let Some(next) = d.succ_opt() else { break };
                d = next;
                if !is_weekend(d) && !off.contains_key(&d) {
                    off.insert(d, format!("{}（补假 day in lieu）", h.name));
                    owed -= 1;
                }
            }
        }
        off.into_iter()
            .map(|(date, name)| Exception {
                date,
                kind: DayKind::Holiday,
                name,
            })
            .collect()
    }
}

/// The computed holidays of every year `statutory` covers, worked out once.
static PROVISIONAL: LazyLock<BTreeMap<NaiveDate, DayKind>> = LazyLock::new(|| {
    statutory::YEARS
        .flat_map(statutory::year)
        .map(|e| (e.date, e.kind))
        .collect()
});

/// A year as the calendar page and API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct YearView {
    pub year: i32,
    /// True while the State Council has not published (or we have not loaded) the year's
    /// schedule: its holidays are the statutory ones computed, without make-up working days.
    pub provisional: bool,
    pub days: Vec<DayView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DayView {
    pub date: NaiveDate,
    pub kind: DayKind,
    pub name: String,
    /// Computed for a provisional year, not stored: it cannot be removed, only overridden.
    pub computed: bool,
}

impl DayView {
    pub fn weekday_zh(&self) -> &'static str {
        weekday_zh(self.date)
    }
}

/// The days of a year: the stored ones, and for a provisional year the computed statutory
/// holidays on dates without a stored one.
pub fn year_view(year: i32, provisional: bool, stored: Vec<Exception>) -> YearView {
    let mut days: BTreeMap<NaiveDate, DayView> = BTreeMap::new();
    // Computed days first, so a stored day for the same date replaces its computed one.
    let computed = if provisional { statutory::year(year) } else { Vec::new() };
    for (e, computed) in computed
        .into_iter()
        .map(|e| (e, true))
        .chain(stored.into_iter().map(|e| (e, false)))
    {
        days.insert(
            e.date,
            DayView {
                date: e.date,
                kind: e.kind,
                name: e.name,
                computed,
            },
        );
    }
    YearView {
        year,
        provisional,
        days: days.into_values().collect(),
    }
}

/// Why saving `kind` on `date` makes no sense or needs the admin's confirmation, given what
/// the calendar already says about that date (`current`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetProblem {
    /// A make-up working day is a weekend day worked; Monday–Friday already are working days.
    WorkdayOnWeekday,
    /// The date is already a holiday.
    AlreadyHoliday { name: String },
    /// The date has a published (or computed) arrangement that this would replace.
    Replaces { kind: DayKind, name: String },
}

pub fn check_set(date: NaiveDate, kind: DayKind, current: Option<&DayView>, confirmed: bool) -> Option<SetProblem> {
    if kind == DayKind::Workday && !is_weekend(date) {
        return Some(SetProblem::WorkdayOnWeekday);
    }
    match current {
        Some(c) if c.kind == DayKind::Holiday && kind == DayKind::Holiday => {
            Some(SetProblem::AlreadyHoliday { name: c.name.clone() })
        }
        Some(c) if !confirmed => Some(SetProblem::Replaces {
            kind: c.kind,
            name: c.name.clone(),
        }),
        _ => None,
    }
}

#[derive(Debug, Clone, Default)]
pub struct Calendar {
    /// Stored days: the published schedules and the admins' edits.
    exceptions: BTreeMap<NaiveDate, DayKind>,
    /// Years whose State Council schedule is loaded.
    published: BTreeSet<i32>,
    /// Whether the other years count the statutory holidays computed (the real calendar), or
    /// only the exceptions given (a calendar built for a test or an example).
    statutory: bool,
}

/// Far enough for any SLA; stops a loop over a calendar that (wrongly) has no working days.
const MAX_SCAN_DAYS: u32 = 3660;

impl Calendar {
    /// Exactly these exceptions over Monday–Friday, nothing computed: every year with one
    /// counts as published.
    pub fn new(exceptions: impl IntoIterator<Item = (NaiveDate, DayKind)>) -> Calendar {
        let exceptions: BTreeMap<NaiveDate, DayKind> = exceptions.into_iter().collect();
        let published = exceptions.keys().map(|d| d.year()).collect();
        Calendar {
            exceptions,
            published,
            statutory: false,
        }
    }

    /// Stored days and the years whose schedule is loaded; other years are provisional, and
    /// days stored in them (an admin's edits) take precedence over the computed ones.
    pub fn with_published(
        exceptions: impl IntoIterator<Item = (NaiveDate, DayKind)>,
        published: impl IntoIterator<Item = i32>,
    ) -> Calendar {
        Calendar {
            exceptions: exceptions.into_iter().collect(),
            published: published.into_iter().collect(),
            statutory: true,
        }
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        let computed = || {
            if !self.statutory || self.published.contains(&d.year()) {
                None
            } else {
                PROVISIONAL.get(&d).copied()
            }
        };
        match self.exceptions.get(&d).copied().or_else(computed) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !is_weekend(d),
        }
    }

    /// Whether the State Council schedule of `year` is loaded.
    pub fn covers(&self, year: i32) -> bool {
        self.published.contains(&year)
    }

    /// Whether `year` is counted on computed statutory holidays (not yet published).
    pub fn is_provisional(&self, year: i32) -> bool {
        self.statutory && !self.covers(year)
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

    /// The published years as the service loads them: other years provisional.
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
        Calendar::with_published(all, [2025, 2026])
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
    fn qingming_by_formula_matches_the_published_dates() {
        for (y, day) in [
            (2019, 5),
            (2020, 4),
            (2021, 4),
            (2022, 5),
            (2023, 5),
            (2024, 4),
            (2025, 4),
            (2026, 5),
        ] {
            assert_eq!(statutory::qingming(y), Some(d(y, 4, day)), "{y}");
        }
        assert_eq!(statutory::qingming(2100), None);
    }

    #[test]
    fn statutory_holidays_are_within_the_published_ones() {
        // Every day the statute gives (with its days in lieu) must be off in the State
        // Council's published schedule, which only adds 调休 swaps around them.
        let c = shipped();
        for y in [2025, 2026] {
            for e in statutory::year(y) {
                assert!(
                    !c.is_working_day(e.date),
                    "{} {} is off in the published {y}",
                    e.date,
                    e.name
                );
            }
        }
        // The lunar dates: 除夕 2025 was 28 Jan, 端午 31 May, 中秋 6 Oct; 除夕 2026 16 Feb.
        let y25: Vec<NaiveDate> = statutory::year(2025).into_iter().map(|e| e.date).collect();
        for day in [d(2025, 1, 28), d(2025, 1, 31), d(2025, 5, 31), d(2025, 10, 6)] {
            assert!(y25.contains(&day), "{day}");
        }
        assert!(!y25.contains(&d(2025, 1, 27)));
        let y26: Vec<NaiveDate> = statutory::year(2026).into_iter().map(|e| e.date).collect();
        assert!(y26.contains(&d(2026, 2, 16)) && y26.contains(&d(2026, 2, 19)));
        assert!(y26.contains(&d(2026, 6, 19)) && y26.contains(&d(2026, 9, 25)));
    }

    #[test]
    fn the_provisional_year_2027() {
        let c = shipped();
        assert!(c.is_provisional(2027) && !c.is_provisional(2026));
        // New Year's Day, a Friday.
        assert!(!c.is_working_day(d(2027, 1, 1)));
        // Spring Festival: 除夕 Fri 5 Feb, New Year's Day Sat 6 Feb, to the third day Mon 8 Feb;
        // the Saturday and Sunday owe two days in lieu: Tue 9 and Wed 10 Feb.
        for day in 5..=10 {
            assert!(!c.is_working_day(d(2027, 2, day)), "{day} Feb 2027");
        }
        assert!(c.is_working_day(d(2027, 2, 4)) && c.is_working_day(d(2027, 2, 11)));
        // Labour Day on Sat–Sun: Mon 3 and Tue 4 May off. National Day Fri 1 Oct: Sat and Sun
        // owe Mon 4 and Tue 5 Oct.
        assert!(!c.is_working_day(d(2027, 5, 3)) && !c.is_working_day(d(2027, 5, 4)));
        assert!(c.is_working_day(d(2027, 5, 5)));
        assert!(!c.is_working_day(d(2027, 10, 4)) && !c.is_working_day(d(2027, 10, 5)));
        assert!(c.is_working_day(d(2027, 10, 6)));
        // Qingming Mon 5 Apr; 端午 Wed 9 Jun; 中秋 Wed 15 Sep.
        for day in [d(2027, 4, 5), d(2027, 6, 9), d(2027, 9, 15)] {
            assert!(!c.is_working_day(day), "{day}");
        }
        // A deadline taken on Thu 31 Dec 2026 after closing no longer falls on 1 Jan 2027.
        let due = c.deadline(at(2026, 12, 31, 18, 0), 1, &OfficeHours::default());
        assert_eq!(local(due).date_naive(), d(2027, 1, 5));
    }

    #[test]
    fn a_calendar_of_given_exceptions_computes_nothing() {
        let c = Calendar::new([]);
        assert!(c.is_working_day(d(2027, 1, 1)) && !c.is_provisional(2027));
        let c = Calendar::with_published([], []);
        assert!(!c.is_working_day(d(2027, 1, 1)) && c.is_provisional(2027));
    }

    #[test]
    fn an_edit_in_a_provisional_year_overrides_only_its_day() {
        let c = Calendar::with_published([(d(2027, 2, 10), DayKind::Workday)], [2025, 2026]);
        assert!(c.is_working_day(d(2027, 2, 10)));
        assert!(!c.is_working_day(d(2027, 2, 9)));
        assert!(c.is_provisional(2027));
        // A published year uses its stored days only.
        let p = Calendar::with_published([], [2027]);
        assert!(p.is_working_day(d(2027, 1, 1)));
    }

    #[test]
    fn the_year_view_merges_computed_and_stored_days() {
        let stored = vec![Exception {
            date: d(2027, 2, 20),
            kind: DayKind::Workday,
            name: "调休".into(),
        }];
        let v = year_view(2027, true, stored.clone());
        assert!(v.provisional);
        assert!(v.days.iter().any(|x| x.date == d(2027, 1, 1) && x.computed));
        assert!(v.days.iter().any(|x| x.date == d(2027, 2, 20) && !x.computed));
        assert!(v.days.windows(2).all(|w| w[0].date < w[1].date));
        let p = year_view(2027, false, stored);
        assert_eq!(p.days.len(), 1);
    }

    #[test]
    fn senseless_or_overriding_edits_are_caught() {
        let fri = d(2026, 11, 27);
        let sat = d(2026, 11, 28);
        assert_eq!(
            check_set(fri, DayKind::Workday, None, true),
            Some(SetProblem::WorkdayOnWeekday)
        );
        assert_eq!(check_set(sat, DayKind::Workday, None, false), None);
        let edited = |kind, name: &str| DayView {
            date: sat,
            kind,
            name: name.into(),
            computed: false,
        };
        let holiday = edited(DayKind::Holiday, "春节");
        assert!(matches!(
            check_set(sat, DayKind::Holiday, Some(&holiday), true),
            Some(SetProblem::AlreadyHoliday { .. })
        ));
        let workday = edited(DayKind::Workday, "调休");
        assert!(matches!(
            check_set(sat, DayKind::Holiday, Some(&workday), false),
            Some(SetProblem::Replaces {
                kind: DayKind::Workday,
                ..
            })
        ));
        assert_eq!(check_set(sat, DayKind::Holiday, Some(&workday), true), None);
        assert_eq!(weekday_zh(fri), "星期五");
        assert_eq!(DayKind::Workday.zh(), "调休上班");
    }

    #[test]
    fn a_calendar_without_working_days_does_not_hang() {
        let all_off = (0..4000).map(|i| (d(2026, 1, 1) + chrono::Duration::days(i), DayKind::Holiday));
        let c = Calendar::new(all_off);
        let _ = c.add_working_days(d(2026, 1, 1), 3);
    }
}
