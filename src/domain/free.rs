//! The free services (证件照相、打印"双免费"): what is given free at the window, the market price
//! each is valued at (per office, from a date), and the periods the savings are reported by.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::freight::Words;

/// A service the office gives free of charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FreeService {
    /// An ID photo taken at the window (one sitting).
    IdPhoto,
    /// A sheet of ID photos printed for the traveller to take away.
    PhotoSheet,
    /// A page copied: an ID card, a passport page.
    IdCopy,
    /// A page of an application form printed.
    FormPrint,
    /// A page of the notice of missing items printed.
    NoticePrint,
    /// A permit card printed.
    PermitPrint,
}

impl FreeService {
    pub const ALL: [FreeService; 6] = [
        FreeService::IdPhoto,
        FreeService::PhotoSheet,
        FreeService::IdCopy,
        FreeService::FormPrint,
        FreeService::NoticePrint,
        FreeService::PermitPrint,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FreeService::IdPhoto => "id_photo",
            FreeService::PhotoSheet => "photo_sheet",
            FreeService::IdCopy => "id_copy",
            FreeService::FormPrint => "form_print",
            FreeService::NoticePrint => "notice_print",
            FreeService::PermitPrint => "permit_print",
        }
    }

    pub fn parse(s: &str) -> Option<FreeService> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn words(self) -> Words {
        match self {
            FreeService::IdPhoto => Words::new("证件照拍摄", "Chụp ảnh thẻ", "ID photo taken"),
            FreeService::PhotoSheet => Words::new("证件照冲印", "In ảnh thẻ", "photo sheet printed"),
            FreeService::IdCopy => Words::new("证件复印", "Photo giấy tờ", "ID copy"),
            FreeService::FormPrint => Words::new("申请表打印", "In tờ khai", "application form printed"),
            FreeService::NoticePrint => Words::new("告知书打印", "In giấy thông báo", "notice printed"),
            FreeService::PermitPrint => Words::new("证件制作打印", "In giấy thông hành", "permit card printed"),
        }
    }

    /// What one unit is, in Chinese.
    pub fn unit_zh(self) -> &'static str {
        match self {
            FreeService::IdPhoto => "次",
            FreeService::PhotoSheet | FreeService::PermitPrint => "张",
            FreeService::IdCopy | FreeService::FormPrint | FreeService::NoticePrint => "页",
        }
    }

    /// Recorded by an officer at the window; the others record themselves where the service
    /// does the work (a photo stored, a permit printed).
    pub fn recorded_by_hand(self) -> bool {
        !matches!(self, FreeService::IdPhoto | FreeService::PermitPrint)
    }
}

/// One market price: for a service, at one office or every office (none), from a date on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub service: FreeService,
    #[serde(default)]
    pub office: Option<String>,
    pub from: NaiveDate,
    /// Yuan as written in the price list: "25", "0.50".
    pub yuan: String,
}

/// The price list as configured (`free_services.prices` in the policy).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FreePolicy {
    #[serde(default)]
    pub prices: Vec<Price>,
}

/// Yuan as written ("12", "12.5", "12.50") in fen; a negative, malformed or absurd price is refused.
pub fn fen_of(yuan: &str) -> Result<i64, String> {
    let t = yuan.trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, "0"));
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if !digits(whole) || !digits(frac) || frac.len() > 2 || whole.len() > 7 {
        return Err(format!(
            "price {yuan:?}: yuan as a non-negative number with at most two decimals, below 10 million"
        ));
    }
    let whole: i64 = whole.parse().map_err(|_| format!("price {yuan:?}"))?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| format!("price {yuan:?}"))?;
    Ok(whole * 100 + frac)
}

impl FreePolicy {
    /// Every price readable, no two for one service, office and date.
    pub fn check(&self, offices: &[&str]) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for p in &self.prices {
            fen_of(&p.yuan).map_err(|e| format!("policy: free_services: {} {e}", p.service.as_str()))?;
            if let Some(o) = &p.office
                && !offices.contains(&o.as_str())
            {
                return Err(format!("policy: free_services: unknown office {o:?}"));
            }
            if !seen.insert((p.service, p.office.clone(), p.from)) {
                return Err(format!(
                    "policy: free_services: two prices for {} at {:?} from {}",
                    p.service.as_str(),
                    p.office,
                    p.from
                ));
            }
        }
        Ok(())
    }

    /// The price in force for `service` at `office` on `day`: the latest from that day or before,
    /// the office's own over one for every office of the same date or earlier. With the date
    /// it took effect, kept with the record (a later price change does not rewrite history).
    pub fn price_on(&self, service: FreeService, office: &str, day: NaiveDate) -> Option<(i64, NaiveDate)> {
        self.prices
            .iter()
            .filter(|p| p.service == service && p.from <= day)
            .filter(|p| p.office.as_deref().is_none_or(|o| o == office))
            .max_by_key(|p| (p.from, p.office.is_some()))
            .and_then(|p| fen_of(&p.yuan).ok().map(|f| (f, p.from)))
    }
}

/// The periods a report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    Month,
    Year,
}

impl Period {
    pub const ALL: [Period; 4] = [Period::Day, Period::Week, Period::Month, Period::Year];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
            Period::Year => "year",
        }
    }

    pub fn parse(s: &str) -> Option<Period> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn words(self) -> Words {
        match self {
            Period::Day => Words::new("按日", "Theo ngày", "by day"),
            Period::Week => Words::new("按周", "Theo tuần", "by week"),
            Period::Month => Words::new("按月", "Theo tháng", "by month"),
            Period::Year => Words::new("按年", "Theo năm", "by year"),
        }
    }

    /// The period a day falls in, as its first day and its label (`2026-11-30`, `2026-W49`,
    /// `2026-11`, `2026`); weeks are ISO weeks, Monday first.
    pub fn of(self, day: NaiveDate) -> (NaiveDate, String) {
        match self {
            Period::Day => (day, day.to_string()),
            Period::Week => {
                let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
                let w = day.iso_week();
                (monday, format!("{}-W{:02}", w.year(), w.week()))
            }
            Period::Month => (
                day.with_day(1).unwrap_or(day),
                format!("{}-{:02}", day.year(), day.month()),
            ),
            Period::Year => (
                NaiveDate::from_ymd_opt(day.year(), 1, 1).unwrap_or(day),
                day.year().to_string(),
            ),
        }
    }
}

/// Fen as yuan for reading: `12,345.50`.
pub fn yuan_text(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    let whole = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{:02}", fen % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn prices_are_read_in_fen_and_refused_when_negative_or_malformed() {
        assert_eq!(fen_of("25"), Ok(2500));
        assert_eq!(fen_of("0.5"), Ok(50));
        assert_eq!(fen_of("12.05"), Ok(1205));
        for bad in ["-1", "1.234", "abc", "", "1.", ".5", "1e3", "99999999"] {
            assert!(fen_of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_price_in_force_is_the_latest_and_the_offices_own_wins() {
        let p = |office: Option<&str>, from, yuan: &str| Price {
            service: FreeService::IdCopy,
            office: office.map(str::to_string),
            from,
            yuan: yuan.into(),
        };
        let policy = FreePolicy {
            prices: vec![
                p(None, d(2024, 1, 1), "1"),
                p(Some("PXH"), d(2024, 1, 1), "0.8"),
                p(None, d(2026, 12, 1), "1.5"),
            ],
        };
        assert_eq!(
            policy.price_on(FreeService::IdCopy, "YYG", d(2026, 11, 30)),
            Some((100, d(2024, 1, 1)))
        );
        assert_eq!(
            policy.price_on(FreeService::IdCopy, "YYG", d(2026, 12, 1)),
            Some((150, d(2026, 12, 1)))
        );
        assert_eq!(
            policy.price_on(FreeService::IdCopy, "PXH", d(2025, 6, 1)),
            Some((80, d(2024, 1, 1)))
        );
        // A newer price for every office replaces an office's older one.
        assert_eq!(
            policy.price_on(FreeService::IdCopy, "PXH", d(2026, 12, 2)),
            Some((150, d(2026, 12, 1)))
        );
        assert_eq!(policy.price_on(FreeService::IdCopy, "YYG", d(2023, 1, 1)), None);
        assert_eq!(policy.price_on(FreeService::IdPhoto, "YYG", d(2026, 1, 1)), None);
        assert!(policy.check(&["YYG", "PXH"]).is_ok());
        assert!(policy.check(&["YYG"]).is_err(), "an unknown office");
        let twice = FreePolicy {
            prices: vec![p(None, d(2024, 1, 1), "1"), p(None, d(2024, 1, 1), "2")],
        };
        assert!(twice.check(&["YYG"]).is_err());
        let negative = FreePolicy {
            prices: vec![p(None, d(2024, 1, 1), "-1")],
        };
        assert!(negative.check(&["YYG"]).is_err());
    }

    #[test]
    fn days_fall_in_their_periods() {
        let day = d(2026, 11, 30); // a Monday
        assert_eq!(Period::Day.of(day), (day, "2026-11-30".into()));
        assert_eq!(Period::Week.of(d(2026, 12, 6)), (day, "2026-W49".into()));
        assert_eq!(Period::Month.of(day), (d(2026, 11, 1), "2026-11".into()));
        assert_eq!(Period::Year.of(day), (d(2026, 1, 1), "2026".into()));
        assert_eq!(yuan_text(123_456_789), "1,234,567.89");
        assert_eq!(yuan_text(5), "0.05");
    }
}
