//! Freight clearance rules, pure: lane types, slot capacity from measured check times, the
//! booking window, arrival and call deadlines, no-shows and strikes.

use chrono::{DateTime, Duration, TimeZone, Timelike, Utc};
use serde::{Deserialize, Serialize};

use super::verdict::Direction;
use super::{OFFICE_TZ, local};

/// Words in the three languages a driver may read; the service picks the driver's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    pub zh: &'static str,
    pub vi: &'static str,
    pub en: &'static str,
}

impl Words {
    pub const fn new(zh: &'static str, vi: &'static str, en: &'static str) -> Words {
        Words { zh, vi, en }
    }

    /// The text for a language code (`zh`, `vi`, `en`); Chinese for anything else.
    pub fn pick(&self, lang: &str) -> &'static str {
        match lang {
            "vi" => self.vi,
            "en" => self.en,
            _ => self.zh,
        }
    }
}

/// A broken rule: the field, a stable rule code and the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Broken {
    pub field: &'static str,
    pub rule: &'static str,
    pub words: Words,
}

macro_rules! text_kind {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal => $zh:literal, $vi:literal, $en:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v,)+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s,)+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($s => Some($name::$v),)+ _ => None }
            }

            /// What a driver or an officer reads for it.
            pub fn words(self) -> Words {
                match self { $($name::$v => Words::new($zh, $vi, $en),)+ }
            }
        }
    };
}

text_kind!(
    /// The kinds of freight lane a port runs.
    LaneType {
        General = "general" => "普通货运通道", "Làn hàng hóa thông thường", "General freight lane";
        /// The green lane for fresh produce (fruit, vegetables): cleared first.
        Fresh = "fresh" => "鲜活农产品绿色通道", "Làn xanh nông sản tươi", "Fresh-produce green lane";
        Empty = "empty" => "空车返程通道", "Làn xe không hàng", "Empty-return lane";
    }
);

text_kind!(
    /// Where a booking is in its life. `Booked`, `Waiting` and `Called` are active: a plate and a
    /// driver have at most one active booking (a unique index holds it).
    BookingStatus {
        Booked = "booked" => "已预约", "Đã đặt chỗ", "Booked";
        /// Checked in at the waiting area, in the queue of its lane type.
        Waiting = "waiting" => "候检中", "Đang chờ", "Waiting";
        /// Called to the border; must report by the deadline.
        Called = "called" => "已叫号，请前往口岸", "Đã gọi, mời vào cửa khẩu", "Called to the border";
        Cleared = "cleared" => "已通关", "Đã thông quan", "Cleared";
        Cancelled = "cancelled" => "已取消", "Đã hủy", "Cancelled";
        NoShow = "no_show" => "未按时到达（爽约）", "Không đến đúng giờ", "No-show";
        /// Its slot was closed or reduced (a lane down) and it was among the latest booked.
        Bumped = "bumped" => "时段取消（通道关闭）", "Khung giờ bị hủy (làn đóng)", "Slot withdrawn (lane closed)";
    }
);

text_kind!(
    CargoCategory {
        FreshProduce = "fresh_produce" => "鲜活农产品（水果、蔬菜）", "Nông sản tươi (trái cây, rau)", "Fresh produce (fruit, vegetables)";
        General = "general" => "普通货物", "Hàng hóa thông thường", "General goods";
        Machinery = "machinery" => "机械设备", "Máy móc thiết bị", "Machinery";
        Bulk = "bulk" => "散装货物", "Hàng rời", "Bulk goods";
        Dangerous = "dangerous" => "危险品", "Hàng nguy hiểm", "Dangerous goods";
        Empty = "empty" => "空车", "Xe không hàng", "Empty (no cargo)";
    }
);

text_kind!(
    VehicleType {
        Truck = "truck" => "厢式/栏板货车", "Xe tải", "Truck";
        Tractor = "tractor" => "半挂牵引车", "Đầu kéo", "Tractor unit (semi-trailer)";
        Refrigerated = "refrigerated" => "冷藏车", "Xe đông lạnh", "Refrigerated truck";
        Tanker = "tanker" => "罐车", "Xe bồn", "Tanker";
        Van = "van" => "厢式小货车", "Xe tải nhỏ", "Van";
    }
);

impl BookingStatus {
    /// Holds a place in a slot and counts toward the one-active-booking rule.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            BookingStatus::Booked | BookingStatus::Waiting | BookingStatus::Called
        )
    }
}

impl CargoCategory {
    /// The lane a declaration goes to: fresh produce to the green lane, no cargo to the empty
    /// return lane, everything else to the general lanes.
    pub fn lane_type(self) -> LaneType {
        match self {
            CargoCategory::FreshProduce => LaneType::Fresh,
            CargoCategory::Empty => LaneType::Empty,
            _ => LaneType::General,
        }
    }
}

/// One physical freight lane: its code is what the checkpoint device sends as `lane`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Lane {
    pub id: String,
    pub direction: Direction,
    pub lane_type: LaneType,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Port {
    pub code: String,
    pub name_zh: String,
    pub name_vi: String,
    pub name_en: String,
    pub lanes: Vec<Lane>,
}

/// The freight rules an office runs by, from the policy file (`freight`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FreightPolicy {
    pub ports: Vec<Port>,
    /// The mean check time a lane is assumed to take until it has `min_checks` measured checks.
    pub fallback_check_seconds: u32,
    pub min_checks: u32,
    /// How far back the measured check times are averaged.
    pub stats_window_hours: u32,
    /// Slots open for booking this many days ahead.
    pub horizon_days: u32,
    /// A slot must start at least this long after the booking is made.
    pub min_lead_minutes: u32,
    /// A called vehicle must report at the border within this; later, it goes to the back.
    pub report_minutes: u32,
    /// Arrival at the waiting area is accepted this long before the slot and after its end;
    /// a vehicle not checked in by then is a no-show.
    pub grace_minutes: u32,
    /// This many no-shows within `strike_window_days` restrict booking for `restrict_days`.
    pub strike_limit: u32,
    pub strike_window_days: u32,
    pub restrict_days: u32,
    /// Whether a freight lane admits only a vehicle with a called booking.
    pub require_booking: bool,
}

impl Default for FreightPolicy {
    fn default() -> Self {
        FreightPolicy {
            ports: Vec::new(),
            fallback_check_seconds: 120,
            min_checks: 20,
            stats_window_hours: 24 * 7,
            horizon_days: 7,
            min_lead_minutes: 30,
            report_minutes: 20,
            grace_minutes: 30,
            strike_limit: 2,
            strike_window_days: 30,
            restrict_days: 7,
            require_booking: true,
        }
    }
}

/// A slot with free places, offered when the one asked for is full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SlotOffer {
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<Utc>,
    /// Local start, `2026-12-01 09:00`.
    pub label: String,
    pub free: i32,
}

/// The measured check times of one lane (from the checkpoint's recorded scans).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    pub checks: u32,
    pub mean_seconds: f64,
}

impl FreightPolicy {
    pub fn port(&self, code: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.code == code)
    }

    /// The freight lane a checkpoint lane code names, with its port.
    pub fn lane(&self, lane_id: &str) -> Option<(&Port, &Lane)> {
        self.ports
            .iter()
            .find_map(|p| p.lanes.iter().find(|l| l.id == lane_id).map(|l| (p, l)))
    }

    /// The lanes of a port serving one direction and lane type.
    pub fn lanes<'a>(
        &'a self,
        port: &'a Port,
        direction: Direction,
        lane_type: LaneType,
    ) -> impl Iterator<Item = &'a Lane> {
        port.lanes
            .iter()
            .filter(move |l| l.direction == direction && l.lane_type == lane_type)
    }

    /// The mean check seconds of a group of lanes: measured when they have enough checks
    /// together, the configured fallback otherwise (a new lane, a quiet week).
    pub fn mean_check_seconds(&self, measured: &[Measured]) -> f64 {
        let checks: u32 = measured.iter().map(|m| m.checks).sum();
        let total: f64 = measured.iter().map(|m| m.mean_seconds * f64::from(m.checks)).sum();
        if checks >= self.min_checks.max(1) && total > 0.0 {
            total / f64::from(checks)
        } else {
            f64::from(self.fallback_check_seconds.max(1))
        }
    }

    /// Vehicles one hour of `open_lanes` lanes clears: open lanes × 3600 ÷ mean check seconds.
    pub fn hourly_capacity(&self, open_lanes: usize, measured: &[Measured]) -> i32 {
        let per_lane = 3600.0 / self.mean_check_seconds(measured).max(1.0);
        let lanes = u32::try_from(open_lanes).unwrap_or(u32::MAX);
        (f64::from(lanes) * per_lane).floor().min(f64::from(i32::MAX)) as i32
    }

    /// Whether a slot may be booked at `now`: it starts on a whole local hour, no sooner than
    /// the lead time and no later than the horizon.
    pub fn check_slot_time(&self, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Broken> {
        if slot_start(starts_at) != starts_at {
            return Err(Broken {
                field: "starts_at",
                rule: "whole_hour",
                words: Words::new(
                    "时段应从整点开始",
                    "Khung giờ phải bắt đầu vào đầu giờ",
                    "a slot starts on the hour",
                ),
            });
        }
        if starts_at < now + Duration::minutes(i64::from(self.min_lead_minutes)) {
            return Err(Broken {
                field: "starts_at",
                rule: "too_soon",
                words: Words::new(
                    "该时段已过或即将开始，请选择稍后的时段",
                    "Khung giờ này đã qua hoặc sắp bắt đầu, hãy chọn khung giờ sau",
                    "this slot has passed or starts too soon; choose a later one",
                ),
            });
        }
        if starts_at > now + Duration::days(i64::from(self.horizon_days)) {
            return Err(Broken {
                field: "starts_at",
                rule: "beyond_horizon",
                words: Words::new(
                    "超出可预约的天数",
                    "Quá số ngày được phép đặt trước",
                    "beyond the days open for booking",
                ),
            });
        }
        Ok(())
    }

    /// When the place of a slot starting at `starts_at` is lost if nobody has checked in.
    pub fn no_show_after(&self, starts_at: DateTime<Utc>) -> DateTime<Utc> {
        starts_at + Duration::hours(1) + Duration::minutes(i64::from(self.grace_minutes))
    }

    /// Whether a vehicle may check in now for its slot: not earlier than the grace before it.
    pub fn check_in(&self, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Broken> {
        if now < starts_at - Duration::minutes(i64::from(self.grace_minutes)) {
            return Err(Broken {
                field: "booking",
                rule: "too_early",
                words: Words::new(
                    "来早了：请临近预约时段再签到",
                    "Đến quá sớm: hãy đăng ký khi gần đến khung giờ đã đặt",
                    "too early: check in within the grace window before the slot",
                ),
            });
        }
        if now > self.no_show_after(starts_at) {
            return Err(Broken {
                field: "booking",
                rule: "too_late",
                words: Words::new(
                    "已超过预约时段，请重新预约或走现场排队",
                    "Đã quá khung giờ đặt, hãy đặt lại hoặc xếp hàng tại chỗ",
                    "the slot is over: book again or join as a walk-up",
                ),
            });
        }
        Ok(())
    }

    pub fn report_by(&self, called_at: DateTime<Utc>) -> DateTime<Utc> {
        called_at + Duration::minutes(i64::from(self.report_minutes))
    }

    /// Until when a driver with these (unlifted) strikes may not book, if they may not now.
    pub fn restricted_until(&self, strikes: &[DateTime<Utc>], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let since = now - Duration::days(i64::from(self.strike_window_days));
        let recent: Vec<DateTime<Utc>> = strikes.iter().copied().filter(|s| *s > since && *s <= now).collect();
        if self.strike_limit == 0 || recent.len() < self.strike_limit as usize {
            return None;
        }
        let until = recent.iter().max()?.to_owned() + Duration::days(i64::from(self.restrict_days));
        (until > now).then_some(until)
    }

    /// Minutes a vehicle joining the back of a queue of `ahead` vehicles may expect to wait.
    pub fn expected_wait_minutes(&self, ahead: usize, open_lanes: usize, measured: &[Measured]) -> u32 {
        if open_lanes == 0 {
            return 0;
        }
        let seconds = self.mean_check_seconds(measured) * ahead as f64 / open_lanes as f64;
        (seconds / 60.0).ceil().min(f64::from(u32::MAX)) as u32
    }
}

/// What the checkpoint knows of a vehicle's booking when it scans at a freight lane.
#[derive(Debug, Clone, Copy)]
pub struct BookingFacts<'a> {
    pub status: BookingStatus,
    pub plate: &'a str,
    pub direction: Direction,
    pub lane_type: LaneType,
}

/// Why a booking does not let a vehicle through this lane: the words name what differs.
pub fn booking_mismatch(b: Option<BookingFacts<'_>>, lane: &Lane, plates: &[String]) -> Option<Words> {
    let Some(b) = b else {
        return Some(Words::new(
            "预约不符：没有预约（请到候检区签到或现场排队）",
            "Không có lượt đặt chỗ (hãy đăng ký ở khu chờ)",
            "booking mismatch: no booking (send the vehicle to the waiting area)",
        ));
    };
    if b.direction != lane.direction {
        return Some(Words::new(
            "预约不符：方向不同",
            "Lượt đặt chỗ sai hướng",
            "booking mismatch: the booking is for the other direction",
        ));
    }
    if b.lane_type != lane.lane_type {
        return Some(Words::new(
            "预约不符：通道类型不同",
            "Lượt đặt chỗ cho loại làn khác",
            "booking mismatch: the booking is for another lane type",
        ));
    }
    if !plates.is_empty() && !plates.iter().any(|p| p == b.plate) {
        return Some(Words::new(
            "预约不符：车牌不在通行证上",
            "Biển số xe đặt chỗ không có trên giấy thông hành",
            "booking mismatch: the booked plate is not on the pass",
        ));
    }
    match b.status {
        BookingStatus::Called => None,
        BookingStatus::Booked | BookingStatus::Waiting => Some(Words::new(
            "预约不符：尚未叫号",
            "Chưa được gọi vào cửa khẩu",
            "booking mismatch: not called yet",
        )),
        _ => Some(Words::new(
            "预约不符：预约已不在有效状态",
            "Lượt đặt chỗ không còn hiệu lực",
            "booking mismatch: the booking is no longer active",
        )),
    }
}

/// The slot (local whole hour) a moment falls in, as UTC.
pub fn slot_start(at: DateTime<Utc>) -> DateTime<Utc> {
    let l = local(at);
    let hour = l
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(l);
    hour.with_timezone(&Utc)
}

/// The local start of a slot: `2026-12-01 09:00`, as the pages show it.
pub fn slot_label(starts_at: DateTime<Utc>) -> String {
    local(starts_at).format("%Y-%m-%d %H:00").to_string()
}

/// The UTC moment of a local date and hour (`2026-12-01`, 9), if it exists.
pub fn slot_at(date: chrono::NaiveDate, hour: u32) -> Option<DateTime<Utc>> {
    let naive = date.and_hms_opt(hour, 0, 0)?;
    OFFICE_TZ
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// Characters of booking numbers: Crockford's base 32 (no I, L, O, U), easy to read out.
const NUMBER_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A booking number from 40 random bits: `YYG-7K3M-9Q2X`. Random, not sequential, so a number
/// says nothing about other bookings.
pub fn booking_number(port: &str, random: [u8; 5]) -> String {
    let mut bits = random.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let mut chars = [0u8; 8];
    for c in chars.iter_mut().rev() {
        *c = NUMBER_ALPHABET[(bits & 31) as usize];
        bits >>= 5;
    }
    let text = String::from_utf8_lossy(&chars).into_owned();
    format!("{port}-{}-{}", &text[..4], &text[4..])
}

/// A plate shown on the public board: the last two characters only.
pub fn mask_plate(plate: &str) -> String {
    let chars: Vec<char> = plate.chars().filter(|c| c.is_alphanumeric()).collect();
    let keep = chars.len().min(2);
    let hidden = chars.len() - keep;
    let mut out: String = "•".repeat(hidden.min(5));
    out.extend(&chars[hidden..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn policy() -> FreightPolicy {
        FreightPolicy::default()
    }

    #[test]
    fn capacity_follows_the_measured_check_time_once_there_are_enough_checks() {
        let p = policy();
        // Too few checks: the fallback (120 s) gives 30 an hour per lane.
        let few = [Measured {
            checks: 5,
            mean_seconds: 10.0,
        }];
        assert_eq!(p.hourly_capacity(2, &few), 60);
        // Enough: 2 lanes × 3600 ÷ 12 s.
        let many = [
            Measured {
                checks: 15,
                mean_seconds: 10.0,
            },
            Measured {
                checks: 15,
                mean_seconds: 14.0,
            },
        ];
        assert_eq!(p.hourly_capacity(2, &many), 600);
        assert_eq!(p.hourly_capacity(0, &many), 0);
    }

    #[test]
    fn a_slot_must_be_on_the_hour_after_the_lead_time_and_within_the_horizon() {
        let p = policy();
        let now = at("2026-12-01T01:10:00Z"); // 09:10 in China
        assert_eq!(p.check_slot_time(at("2026-12-01T02:00:00Z"), now), Ok(()));
        assert_eq!(
            p.check_slot_time(at("2026-12-01T02:30:00Z"), now).map_err(|b| b.rule),
            Err("whole_hour")
        );
        assert_eq!(
            p.check_slot_time(at("2026-12-01T01:00:00Z"), now).map_err(|b| b.rule),
            Err("too_soon")
        );
        // 09:30 lead: the 10:00 slot is fine, but at 09:40 it is too soon.
        assert_eq!(
            p.check_slot_time(at("2026-12-01T02:00:00Z"), at("2026-12-01T01:40:00Z"))
                .map_err(|b| b.rule),
            Err("too_soon")
        );
        assert_eq!(
            p.check_slot_time(at("2026-12-08T02:00:00Z"), now).map_err(|b| b.rule),
            Err("beyond_horizon")
        );
    }

    #[test]
    fn slots_are_local_hours() {
        assert_eq!(slot_start(at("2026-12-01T01:59:59Z")), at("2026-12-01T01:00:00Z"));
        assert_eq!(slot_label(at("2026-12-01T01:00:00Z")), "2026-12-01 09:00");
        let d = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default();
        assert_eq!(slot_at(d, 9), Some(at("2026-12-01T01:00:00Z")));
        assert_eq!(slot_at(d, 24), None);
    }

    #[test]
    fn check_in_is_open_from_the_grace_before_to_the_grace_after_the_slot() {
        let p = policy();
        let slot = at("2026-12-01T02:00:00Z");
        assert_eq!(
            p.check_in(slot, at("2026-12-01T01:29:00Z")).map_err(|b| b.rule),
            Err("too_early")
        );
        assert_eq!(p.check_in(slot, at("2026-12-01T01:30:00Z")), Ok(()));
        assert_eq!(p.check_in(slot, at("2026-12-01T03:30:00Z")), Ok(()));
        assert_eq!(
            p.check_in(slot, at("2026-12-01T03:30:01Z")).map_err(|b| b.rule),
            Err("too_late")
        );
        assert_eq!(p.no_show_after(slot), at("2026-12-01T03:30:00Z"));
        assert_eq!(p.report_by(slot), at("2026-12-01T02:20:00Z"));
    }

    #[test]
    fn two_recent_strikes_restrict_booking_for_a_week_from_the_last() {
        let p = policy();
        let now = at("2026-12-10T00:00:00Z");
        let one = [at("2026-12-09T00:00:00Z")];
        assert_eq!(p.restricted_until(&one, now), None);
        let two = [at("2026-12-01T00:00:00Z"), at("2026-12-09T00:00:00Z")];
        assert_eq!(p.restricted_until(&two, now), Some(at("2026-12-16T00:00:00Z")));
        // An old strike has aged out of the window.
        let old = [at("2026-10-01T00:00:00Z"), at("2026-12-09T00:00:00Z")];
        assert_eq!(p.restricted_until(&old, now), None);
        // The restriction ends a week after the last strike.
        assert_eq!(p.restricted_until(&two, at("2026-12-16T00:00:01Z")), None);
    }

    #[test]
    fn booking_numbers_are_readable_and_differ_with_the_random_bits() {
        assert_eq!(booking_number("YYG", [0; 5]), "YYG-0000-0000");
        assert_eq!(booking_number("YYG", [0xff; 5]), "YYG-ZZZZ-ZZZZ");
        assert_ne!(
            booking_number("YYG", [1, 2, 3, 4, 5]),
            booking_number("YYG", [1, 2, 3, 4, 6])
        );
    }

    #[test]
    fn the_board_shows_only_the_last_two_plate_characters() {
        assert_eq!(mask_plate("12C-123.45"), "•••••45");
        assert_eq!(mask_plate("桂F12345"), "•••••45");
        assert_eq!(mask_plate("A"), "A");
    }

    #[test]
    fn cargo_chooses_its_lane_and_words_exist_in_three_languages() {
        assert_eq!(CargoCategory::FreshProduce.lane_type(), LaneType::Fresh);
        assert_eq!(CargoCategory::Empty.lane_type(), LaneType::Empty);
        assert_eq!(CargoCategory::Machinery.lane_type(), LaneType::General);
        for s in BookingStatus::ALL {
            assert_eq!(BookingStatus::parse(s.as_str()), Some(*s));
            assert!(!s.words().vi.is_empty());
        }
        assert_eq!(LaneType::Fresh.words().pick("vi"), "Làn xanh nông sản tươi");
        assert!(BookingStatus::Called.is_active() && !BookingStatus::NoShow.is_active());
    }

    #[test]
    fn a_freight_lane_admits_only_a_called_booking_for_this_plate_direction_and_lane_type() {
        let lane = Lane {
            id: "F-OUT-1".into(),
            direction: Direction::Exit,
            lane_type: LaneType::General,
        };
        let ok = BookingFacts {
            status: BookingStatus::Called,
            plate: "桂F12345",
            direction: Direction::Exit,
            lane_type: LaneType::General,
        };
        let plates = vec!["桂F12345".to_string()];
        assert_eq!(booking_mismatch(Some(ok), &lane, &plates), None);
        assert_eq!(booking_mismatch(Some(ok), &lane, &[]), None);
        let why = |b: Option<BookingFacts<'_>>, plates: &[String]| booking_mismatch(b, &lane, plates).map(|w| w.en);
        assert!(why(None, &plates).is_some_and(|m| m.contains("no booking")));
        let other_way = BookingFacts {
            direction: Direction::Entry,
            ..ok
        };
        assert!(why(Some(other_way), &plates).is_some_and(|m| m.contains("direction")));
        let green = BookingFacts {
            lane_type: LaneType::Fresh,
            ..ok
        };
        assert!(why(Some(green), &plates).is_some_and(|m| m.contains("lane type")));
        assert!(why(Some(ok), &["桂F99999".to_string()]).is_some_and(|m| m.contains("plate")));
        let waiting = BookingFacts {
            status: BookingStatus::Waiting,
            ..ok
        };
        assert!(why(Some(waiting), &plates).is_some_and(|m| m.contains("not called")));
        let cleared = BookingFacts {
            status: BookingStatus::Cleared,
            ..ok
        };
        assert!(why(Some(cleared), &plates).is_some_and(|m| m.contains("no longer")));
    }

    #[test]
    fn expected_wait_divides_the_queue_over_the_open_lanes() {
        let p = policy();
        assert_eq!(p.expected_wait_minutes(10, 2, &[]), 10);
        assert_eq!(p.expected_wait_minutes(10, 0, &[]), 0);
    }
}
