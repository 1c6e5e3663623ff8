//! Clearance slots and drivers' bookings: what is free, booking, moving and cancelling a
//! place, and supervisors closing or reducing a slot. A place is taken by a conditional update
//! of the slot's count, and the database refuses a count past capacity and a second active
//! booking per plate or driver, so no race can overbook.

use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, Utc};
use diesel::dsl;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::checkpoint::LaneStat;
use super::printing::Document;
use crate::db::schema::{bookings, driver_strikes, drivers, slots, vehicles};
use crate::db::{DbConnection, audit, ts, utc, write_tx};
use crate::domain::DomainError;
use crate::domain::auth::{Action, Actor, authorize};
use crate::domain::freight::{
    self, BookingStatus, Broken, CargoCategory, FreightPolicy, LaneType, Measured, Port, SlotOffer, Words,
};
use crate::domain::local;
use crate::domain::seal;
use crate::domain::validation::{FieldErrors, plausible_key, text_problem};
use crate::domain::verdict::Direction;
use crate::error::{Error, Result};
use crate::keys::KeyRing;
use crate::mail::{BookingEvent, BookingLetter, Lang};
use crate::native;

/// Slots shown or offered at most: a week of hours.
const MAX_SLOTS_LISTED: usize = 24 * 8;
/// Free slots offered when the chosen one is full.
const OFFERS: usize = 3;
/// The heaviest declared load accepted, in kilograms (a road train is well under this).
const MAX_WEIGHT_KG: i64 = 100_000;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = slots, treat_none_as_default_value = false)]
pub struct SlotRow {
    pub id: String,
    pub port: String,
    pub direction: Direction,
    pub lane_type: LaneType,
    pub starts_at: NaiveDateTime,
    pub capacity: i32,
    pub booked: i32,
    pub note: Option<String>,
    pub updated_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = bookings, treat_none_as_default_value = false)]
pub struct BookingRow {
    pub id: String,
    pub number: String,
    pub driver_id: Option<String>,
    pub vehicle_id: Option<String>,
    pub plate: String,
    pub trailer_plate: Option<String>,
    pub slot_id: String,
    pub port: String,
    pub direction: Direction,
    pub lane_type: LaneType,
    pub starts_at: NaiveDateTime,
    pub trade_pass: Option<String>,
    pub cargo_category: CargoCategory,
    pub cargo_weight_kg: i32,
    pub customs_ref: Option<String>,
    pub status: BookingStatus,
    pub walk_up: bool,
    pub moves: i32,
    pub queued_at: Option<NaiveDateTime>,
    pub called_at: Option<NaiveDateTime>,
    pub report_by: Option<NaiveDateTime>,
    pub cleared_at: Option<NaiveDateTime>,
    pub crossing_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The slot a booking is for.
#[derive(Debug, Clone, Copy)]
pub struct SlotKey<'a> {
    pub port: &'a Port,
    pub direction: Direction,
    pub lane_type: LaneType,
    pub starts_at: DateTime<Utc>,
}

/// One hour of one lane type, as drivers and supervisors see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SlotOut {
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<FixedOffset>,
    /// Local start, `2026-12-01 09:00`.
    pub label: String,
    pub port: String,
    pub direction: Direction,
    pub lane_type: LaneType,
    pub capacity: i32,
    pub booked: i32,
    pub free: i32,
    /// A supervisor's reason for closing or reducing it.
    pub note: Option<String>,
}

/// A booking as its driver (and staff) see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BookingOut {
    pub id: String,
    pub number: String,
    pub status: BookingStatus,
    /// The status in the reader's language.
    pub status_text: String,
    pub port: String,
    pub direction: Direction,
    pub lane_type: LaneType,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<FixedOffset>,
    pub slot_label: String,
    pub plate: String,
    pub trailer_plate: Option<String>,
    pub trade_pass: Option<String>,
    pub cargo_category: CargoCategory,
    pub cargo_weight_kg: i32,
    pub customs_ref: Option<String>,
    pub walk_up: bool,
    /// Whether the free move is still available.
    pub may_move: bool,
    pub may_cancel: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub report_by: Option<DateTime<FixedOffset>>,
}

impl BookingOut {
    pub fn of(b: &BookingRow, lang: &str) -> BookingOut {
        BookingOut {
            id: b.id.clone(),
            number: b.number.clone(),
            status: b.status,
            status_text: b.status.words().pick(lang).into(),
            port: b.port.clone(),
            direction: b.direction,
            lane_type: b.lane_type,
            starts_at: local(utc(b.starts_at)).fixed_offset(),
            slot_label: freight::slot_label(utc(b.starts_at)),
            plate: b.plate.clone(),
            trailer_plate: b.trailer_plate.clone(),
            trade_pass: b.trade_pass.clone(),
            cargo_category: b.cargo_category,
            cargo_weight_kg: b.cargo_weight_kg,
            customs_ref: b.customs_ref.clone(),
            walk_up: b.walk_up,
            may_move: b.status == BookingStatus::Booked && b.moves == 0 && !b.walk_up,
            may_cancel: b.status.is_active(),
            report_by: b.report_by.map(|t| local(utc(t)).fixed_offset()),
        }
    }
}

/// A driver's booking request.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingIn {
    /// One of the driver's vehicles.
    #[schema(max_length = 64)]
    pub vehicle_id: String,
    /// The port's code (`YYG`).
    #[schema(max_length = 16)]
    pub port: String,
    /// `exit` (to Vietnam) or `entry` (to China).
    #[schema(pattern = "^(exit|entry)$")]
    pub direction: String,
    /// The slot's start (RFC 3339), on a whole hour.
    #[schema(format = DateTime, max_length = 40)]
    pub starts_at: String,
    pub cargo_category: CargoCategory,
    #[schema(minimum = 0, maximum = 100000)]
    pub cargo_weight_kg: i64,
    /// The customs declaration reference, if there is one yet.
    #[schema(max_length = 40)]
    pub customs_ref: Option<String>,
}

/// Moving a booking to another hour (once, free of charge).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveIn {
    #[schema(format = DateTime, max_length = 40)]
    pub starts_at: String,
}

/// What a slot query asks for.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SlotQuery {
    /// The port's code; the first port when absent.
    #[param(pattern = "^[A-Z]{2,8}$")]
    pub port: Option<String>,
    /// `exit` or `entry`; `exit` when absent.
    #[param(pattern = "^(exit|entry)$")]
    pub direction: Option<String>,
    /// The lane type; `general` when absent.
    pub lane_type: Option<LaneType>,
}

/// A supervisor's change to a slot: close it (capacity 0) or reduce it, with the reason.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotChangeIn {
    #[schema(max_length = 16)]
    pub port: String,
    #[schema(pattern = "^(exit|entry)$")]
    pub direction: String,
    pub lane_type: LaneType,
    #[schema(format = DateTime, max_length = 40)]
    pub starts_at: String,
    /// The new capacity; 0 closes the slot.
    #[schema(minimum = 0, maximum = 10000)]
    pub capacity: i64,
    /// Why (a lane down, works): shown to staff.
    #[schema(max_length = 200)]
    pub note: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SlotChangeOut {
    pub slot: SlotOut,
    /// Bookings beyond the new capacity, latest first, told by mail.
    pub bumped: Vec<String>,
}

fn broken(errs: &mut FieldErrors, b: Broken, lang: &str) {
    errs.add(b.field, b.rule, b.words.pick(lang));
}

fn refuse<T>(field: &str, rule: &str, words: Words, lang: &str) -> Result<T> {
    let mut errs = FieldErrors::new();
    errs.add(field, rule, words.pick(lang));
    Err(errs.into())
}

/// A port code, direction and lane type read from a request, each refused by field.
pub fn read_lane<'p>(
    policy: &'p FreightPolicy,
    errs: &mut FieldErrors,
    lang: &str,
    port: Option<&str>,
    direction: Option<&str>,
) -> Option<(&'p Port, Direction)> {
    let port = match port {
        None => policy.ports.first(),
        Some(code) => policy.port(code.trim()),
    };
    if port.is_none() {
        errs.add(
            "port",
            "unknown",
            Words::new("没有这个口岸", "Không có cửa khẩu này", "no such port").pick(lang),
        );
    }
    let direction = match direction {
        None => Some(Direction::Exit),
        Some(d) => Direction::parse(d.trim()),
    };
    if direction.is_none() {
        errs.add(
            "direction",
            "one_of",
            Words::new("方向应为出境或入境", "Hướng phải là xuất hoặc nhập", "exit or entry").pick(lang),
        );
    }
    Some((port?, direction?))
}

fn read_time(errs: &mut FieldErrors, field: &'static str, text: &str, lang: &str) -> Option<DateTime<Utc>> {
    match DateTime::parse_from_rfc3339(text.trim()) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            errs.add(
                field,
                "date_time",
                Words::new(
                    "时间格式应为RFC 3339，如2026-12-01T09:00:00+08:00",
                    "Thời gian theo RFC 3339, ví dụ 2026-12-01T09:00:00+08:00",
                    "an RFC 3339 time, e.g. 2026-12-01T09:00:00+08:00",
                )
                .pick(lang),
            );
            None
        }
    }
}

/// Every lane's measured check times over the policy's window (see `checkpoint::measure`):
/// read once per slot computed or view shown, then split by lane type.
pub(crate) fn lane_stats(c: &mut DbConnection, now: DateTime<Utc>, policy: &FreightPolicy) -> Result<Vec<LaneStat>> {
    super::checkpoint::measure(c, now - Duration::hours(i64::from(policy.stats_window_hours.max(1))))
}

/// How many lanes of one direction and type the port has, and their measured check times.
pub(crate) fn lane_measures(
    stats: &[LaneStat],
    policy: &FreightPolicy,
    port: &Port,
    direction: Direction,
    lane_type: LaneType,
) -> (usize, Vec<Measured>) {
    let lanes: Vec<&str> = policy
        .lanes(port, direction, lane_type)
        .map(|l| l.id.as_str())
        .collect();
    let m = stats
        .iter()
        .filter(|s| lanes.contains(&s.lane.as_str()))
        .map(|s| Measured {
            checks: s.checks,
            mean_seconds: s.mean_seconds,
        })
        .collect();
    (lanes.len(), m)
}

/// The capacity a slot gets when it is first booked: open lanes × 3600 ÷ mean check seconds.
pub fn computed_capacity(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &FreightPolicy,
    key: &SlotKey<'_>,
) -> Result<i32> {
    let stats = lane_stats(c, now, policy)?;
    let (lanes, m) = lane_measures(&stats, policy, key.port, key.direction, key.lane_type);
    Ok(policy.hourly_capacity(lanes, &m))
}

fn find_slot(c: &mut DbConnection, key: &SlotKey<'_>) -> Result<Option<SlotRow>> {
    Ok(native!(c, c => slots::table
        .filter(slots::port.eq(&key.port.code))
        .filter(slots::direction.eq(key.direction))
        .filter(slots::lane_type.eq(key.lane_type))
        .filter(slots::starts_at.eq(ts(key.starts_at)))
        .select(SlotRow::as_select())
        .first(c))
    .optional()?)
}

/// The slot's row, created with the computed capacity if nobody has booked or changed it yet.
fn materialise(c: &mut DbConnection, now: DateTime<Utc>, policy: &FreightPolicy, key: &SlotKey<'_>) -> Result<SlotRow> {
    if let Some(row) = find_slot(c, key)? {
        return Ok(row);
    }
    let capacity = computed_capacity(c, now, policy, key)?;
    let row = SlotRow {
        id: crate::db::new_id(),
        port: key.port.code.clone(),
        direction: key.direction,
        lane_type: key.lane_type,
        starts_at: ts(key.starts_at),
        capacity,
        booked: 0,
        note: None,
        updated_by: None,
        created_at: ts(now),
        updated_at: ts(now),
    };
    // Two first bookings of one hour race to create it: the loser's insert does nothing and
    // both go on with the one row.
    native!(c, c => diesel::insert_into(slots::table)
        .values(&row)
        .on_conflict_do_nothing()
        .execute(c))?;
    find_slot(c, key)?.ok_or_else(|| Error::internal("slot row vanished after insert"))
}

/// Takes one place in the slot if one is free; the slot's id, or None when it is full.
pub(crate) fn take_place_at(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &FreightPolicy,
    key: &SlotKey<'_>,
) -> Result<Option<String>> {
    let slot = materialise(c, now, policy, key)?;
    let n = PlaceCount::<true>::new(&slot.id, now).run(c)?;
    Ok((n == 1).then_some(slot.id))
}

/// Gives a place back (a cancellation, a move, a no-show).
pub(crate) fn release_place(c: &mut DbConnection, now: DateTime<Utc>, slot_id: &str) -> Result<()> {
    PlaceCount::<false>::new(slot_id, now).run(c)?;
    Ok(())
}

/// A slot's count taken (`TAKE`: one more, while under capacity) or given back (one less, while
/// above zero), as one fixed statement per direction that diesel keeps prepared: its
/// `update(..).set(..)` builder is never cached, so every booking compiled the statement again
/// (6 % of the group-commit thread's samples in a bookings storm).
#[derive(Clone, Copy)]
struct PlaceCount<'a, const TAKE: bool> {
    slot_id: &'a str,
    now: NaiveDateTime,
}

struct PlaceCountId<const TAKE: bool>;

impl<'a, const TAKE: bool> PlaceCount<'a, TAKE> {
    fn new(slot_id: &'a str, now: DateTime<Utc>) -> Self {
        PlaceCount { slot_id, now: ts(now) }
    }

    fn run(self, c: &mut DbConnection) -> Result<usize> {
        Ok(native!(c, c => self.execute(c))?)
    }
}

impl<const TAKE: bool> diesel::query_builder::QueryId for PlaceCount<'_, TAKE> {
    type QueryId = PlaceCountId<TAKE>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB, const TAKE: bool> diesel::query_builder::QueryFragment<DB> for PlaceCount<'_, TAKE>
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<diesel::sql_types::Text>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Timestamp>,
    str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
    NaiveDateTime: diesel::serialize::ToSql<diesel::sql_types::Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(if TAKE {
            "UPDATE slots SET booked = booked + 1, updated_at = "
        } else {
            "UPDATE slots SET booked = booked - 1, updated_at = "
        });
        out.push_bind_param::<diesel::sql_types::Timestamp, _>(&self.now)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<diesel::sql_types::Text, _>(self.slot_id)?;
        out.push_sql(if TAKE {
            " AND booked < capacity"
        } else {
            " AND booked > 0"
        });
        Ok(())
    }
}

impl<Conn, const TAKE: bool> RunQueryDsl<Conn> for PlaceCount<'_, TAKE> {}

/// The hours of one lane type from `from` to the horizon, with what is free in each.
pub fn availability(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &FreightPolicy,
    port: &Port,
    direction: Direction,
    lane_type: LaneType,
    from: DateTime<Utc>,
) -> Result<Vec<SlotOut>> {
    let first = freight::slot_start(from.max(now + Duration::minutes(i64::from(policy.min_lead_minutes))));
    let first = if first < from.max(now) {
        first + Duration::hours(1)
    } else {
        first
    };
    let last = now + Duration::days(i64::from(policy.horizon_days));
    let rows: Vec<SlotRow> = slots::table
        .filter(slots::port.eq(&port.code))
        .filter(slots::direction.eq(direction))
        .filter(slots::lane_type.eq(lane_type))
        .filter(slots::starts_at.ge(ts(first)))
        .filter(slots::starts_at.le(ts(last)))
        .select(SlotRow::as_select())
        .load(c)?;
    let probe = SlotKey {
        port,
        direction,
        lane_type,
        starts_at: first,
    };
    let fresh = computed_capacity(c, now, policy, &probe)?;
    let mut out = Vec::new();
    let mut at = first;
    while at <= last && out.len() < MAX_SLOTS_LISTED {
        if policy.check_slot_time(at, now).is_ok() {
            let row = rows.iter().find(|r| utc(r.starts_at) == at);
            let (capacity, booked, note) = row.map_or((fresh, 0, None), |r| (r.capacity, r.booked, r.note.clone()));
            out.push(SlotOut {
                starts_at: local(at).fixed_offset(),
                label: freight::slot_label(at),
                port: port.code.clone(),
                direction,
                lane_type,
                capacity,
                booked,
                free: (capacity - booked).max(0),
                note,
            });
        }
        at += Duration::hours(1);
    }
    Ok(out)
}

/// The next few slots with a free place after `after`: what a full slot's answer offers.
fn offers(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &FreightPolicy,
    key: &SlotKey<'_>,
) -> Result<Vec<SlotOffer>> {
    let free = availability(c, now, policy, key.port, key.direction, key.lane_type, key.starts_at)?;
    Ok(free
        .into_iter()
        .filter(|s| s.free > 0 && s.starts_at.with_timezone(&Utc) != key.starts_at)
        .take(OFFERS)
        .map(|s| SlotOffer {
            starts_at: s.starts_at.with_timezone(&Utc),
            label: s.label,
            free: s.free,
        })
        .collect())
}

fn full(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &FreightPolicy,
    key: &SlotKey<'_>,
    lang: &str,
) -> Result<Error> {
    let offers = offers(c, now, policy, key)?;
    Ok(Error::Domain(DomainError::Full {
        message: Words::new(
            "该时段已约满，请选择下列有空位的时段",
            "Khung giờ này đã hết chỗ, hãy chọn một khung giờ còn chỗ dưới đây",
            "this slot is full; choose one of the free slots offered",
        )
        .pick(lang)
        .into(),
        offers,
    }))
}

/// Whether the driver's no-shows restrict booking now, and until when.
pub fn restricted_until(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &FreightPolicy,
    driver_id: &str,
) -> Result<Option<DateTime<Utc>>> {
    let since = now - Duration::days(i64::from(policy.strike_window_days));
    let strikes: Vec<NaiveDateTime> = native!(c, c => driver_strikes::table
        .filter(driver_strikes::driver_id.eq(driver_id))
        .filter(driver_strikes::lifted_at.is_null())
        .filter(driver_strikes::at.gt(ts(since)))
        .select(driver_strikes::at)
        .load(c))?;
    let strikes: Vec<DateTime<Utc>> = strikes.into_iter().map(utc).collect();
    Ok(policy.restricted_until(&strikes, now))
}

/// The booking is booked, waiting or called: three equalities rather than `IN (…)`, because
/// diesel keeps a prepared statement only when its parameters are fixed in number, which an
/// `eq_any` list is not (the statement was compiled again for every booking).
#[allow(clippy::type_complexity)]
pub(crate) fn active() -> dsl::Or<
    dsl::Or<dsl::Eq<bookings::status, BookingStatus>, dsl::Eq<bookings::status, BookingStatus>>,
    dsl::Eq<bookings::status, BookingStatus>,
> {
    bookings::status
        .eq(BookingStatus::Booked)
        .or(bookings::status.eq(BookingStatus::Waiting))
        .or(bookings::status.eq(BookingStatus::Called))
}

/// The driver's active booking, if any.
fn active_of_driver(c: &mut DbConnection, driver_id: &str) -> Result<Option<BookingRow>> {
    Ok(native!(c, c => bookings::table
        .filter(bookings::driver_id.eq(driver_id))
        .filter(active())
        .select(BookingRow::as_select())
        .first(c))
    .optional()?)
}

fn active_of_plate(c: &mut DbConnection, plate: &str) -> Result<Option<BookingRow>> {
    Ok(native!(c, c => bookings::table
        .filter(bookings::plate.eq(plate))
        .filter(active())
        .select(BookingRow::as_select())
        .first(c))
    .optional()?)
}

fn one_active(lang: &str, field: &str) -> Error {
    let mut errs = FieldErrors::new();
    errs.add(
        field,
        "one_active_booking",
        Words::new(
            "已有一个有效预约：请先取消或改约该预约",
            "Đã có một lượt đặt chỗ đang hiệu lực: hãy hủy hoặc đổi lượt đó trước",
            "there is already an active booking: cancel or move it first",
        )
        .pick(lang),
    );
    errs.into()
}

/// A random booking number, unique among bookings.
pub(crate) fn fresh_number(c: &mut DbConnection, port: &str) -> Result<String> {
    for _ in 0..8 {
        let mut bits = [0u8; 5];
        getrandom::fill(&mut bits).map_err(Error::internal)?;
        let number = freight::booking_number(port, bits);
        let taken: i64 = native!(c, c => bookings::table
            .filter(bookings::number.eq(&number))
            .count()
            .get_result(c))?;
        if taken == 0 {
            return Ok(number);
        }
    }
    Err(Error::internal("no free booking number after 8 draws"))
}

fn booking_lang(c: &mut DbConnection, b: &BookingRow) -> Result<Option<(String, String)>> {
    let Some(id) = &b.driver_id else { return Ok(None) };
    Ok(native!(c, c => drivers::table
        .find(id)
        .select((drivers::email, drivers::lang))
        .first(c))
    .optional()?)
}

/// Queues the mail that tells a booking's driver what happened to it (walk-ups have none).
pub(crate) fn tell(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &FreightPolicy,
    b: &BookingRow,
    event: BookingEvent,
    with_slip: bool,
) -> Result<()> {
    let Some((email, lang)) = booking_lang(c, b)? else {
        return Ok(());
    };
    let lang = Lang::from_code(&lang).unwrap_or(Lang::Zh);
    let letter = BookingLetter {
        lang,
        event,
        number: &b.number,
        plate: &b.plate,
        slot: &freight::slot_label(utc(b.starts_at)),
        lane: b.lane_type.words().pick(lang.code()),
        direction: direction_words(b.direction).pick(lang.code()),
        report_by: b.report_by.map(|t| local(utc(t)).format("%H:%M").to_string()),
        slip: with_slip.then(|| format!("{}.pdf", b.number)),
        grace: policy.grace_minutes,
    };
    super::outbox::enqueue(c, now, event.kind(), Some(&b.id), &email, lang, letter.render()?)?;
    Ok(())
}

/// The slip of the booking with this id, if there is one (what a mail attaches as it leaves).
pub fn slip_of(c: &mut DbConnection, keys: &KeyRing, policy: &FreightPolicy, id: &str) -> Result<Option<Document>> {
    let row = bookings::table
        .find(id)
        .select(BookingRow::as_select())
        .first(c)
        .optional()?;
    row.map(|b| slip(c, keys, policy, &b)).transpose()
}

/// The booking's slip: what it says in three languages, the Code128 of its number and its
/// signed 2D code (the permits' keys, the booking kind).
pub fn slip(c: &mut DbConnection, keys: &KeyRing, policy: &FreightPolicy, b: &BookingRow) -> Result<Document> {
    let tri = |w: Words| format!("{} {} {}", w.zh, w.vi, w.en);
    let port = policy
        .port(&b.port)
        .map_or_else(|| b.port.clone(), |p| format!("{} {}", p.name_zh, p.name_vi));
    let driver = match &b.driver_id {
        Some(id) => {
            let d = super::drivers::load_driver(c, id)?;
            d.name_latin.or(d.name_zh).unwrap_or_default()
        }
        None => "—".into(),
    };
    let starts = utc(b.starts_at);
    let code = seal::sign_booking(
        keys.active(),
        &b.number,
        &b.plate,
        b.direction.as_str(),
        local(starts).date_naive(),
    );
    let pdf = crate::print::booking::booking_pdf(&crate::print::booking::BookingPrint {
        number: b.number.clone(),
        code,
        port,
        slot: freight::slot_label(starts),
        direction: tri(direction_words(b.direction)),
        lane: format!("{} {}", b.lane_type.words().zh, b.lane_type.words().vi),
        plate: b.plate.clone(),
        trailer_plate: b.trailer_plate.clone(),
        driver,
        trade_pass: b.trade_pass.clone(),
        cargo: format!("{} {}", b.cargo_category.words().zh, b.cargo_category.words().vi),
        weight_kg: b.cargo_weight_kg,
        customs_ref: b.customs_ref.clone(),
        grace_minutes: policy.grace_minutes,
    })
    .map_err(Error::internal)?;
    Ok(Document {
        filename: format!("{}.pdf", b.number),
        pdf,
    })
}

pub fn direction_words(d: Direction) -> Words {
    match d {
        Direction::Exit => Words::new("出境（往越南）", "Xuất cảnh (sang Việt Nam)", "Exit (to Vietnam)"),
        Direction::Entry => Words::new("入境（往中国）", "Nhập cảnh (sang Trung Quốc)", "Entry (to China)"),
    }
}

/// What the audit keeps of a booking: no identity numbers are in it; the plate is a vehicle's.
fn audit_view(b: &BookingRow) -> serde_json::Value {
    serde_json::json!({
        "number": b.number,
        "status": b.status.as_str(),
        "plate": b.plate,
        "port": b.port,
        "direction": b.direction.as_str(),
        "lane_type": b.lane_type.as_str(),
        "starts_at": b.starts_at.and_utc().to_rfc3339(),
        "cargo_category": b.cargo_category.as_str(),
        "walk_up": b.walk_up,
        "moves": b.moves,
    })
}

pub(crate) fn write_audit(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    actor: Option<&str>,
    action: &str,
    before: Option<&BookingRow>,
    after: &BookingRow,
) -> Result<()> {
    audit::entry(now, actor, action, "booking", &after.id)
        .before_if(before.map(audit_view).as_ref())
        .after(&audit_view(after))
        .write(c)
}

/// Books a place for one of the driver's vehicles.
pub fn book(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &FreightPolicy,
    driver_id: &str,
    input: &BookingIn,
) -> Result<BookingRow> {
    write_tx(c, |c| {
        let driver = super::drivers::load_driver(c, driver_id)?;
        let lang = driver.lang.as_str();
        let mut errs = FieldErrors::new();
        if (driver.name_zh.is_none() && driver.name_latin.is_none()) || driver.id_number.is_none() {
            errs.add(
                "profile",
                "incomplete",
                Words::new(
                    "请先填写姓名和证件信息",
                    "Hãy điền họ tên và giấy tờ tùy thân trước",
                    "fill in your name and identity document first",
                )
                .pick(lang),
            );
        }
        if driver.nationality.as_deref() == Some("CHN") && driver.trade_pass.is_none() {
            errs.add(
                "trade_pass",
                "required",
                Words::new(
                    "中国籍驾驶员请先在资料中填写边贸通行证号码",
                    "Lái xe Trung Quốc cần điền số giấy thông hành thương mại biên giới",
                    "Chinese drivers add their border-trade pass number to the profile first",
                )
                .pick(lang),
            );
        }
        // A pass checked when the profile was saved may have expired or been revoked since.
        if let (Some(pass), Some(id_type), Some(id_number)) = (
            &driver.trade_pass,
            driver.id_type.as_deref().and_then(crate::domain::ids::IdType::parse),
            &driver.id_number,
        ) && let Err((rule, words)) = super::drivers::check_trade_pass(c, now, pass, id_type, id_number)?
        {
            errs.add("trade_pass", rule, words.pick(lang));
        }
        let lane = read_lane(policy, &mut errs, lang, Some(&input.port), Some(&input.direction));
        let starts_at = read_time(&mut errs, "starts_at", &input.starts_at, lang);
        if let Some(t) = starts_at
            && let Err(b) = policy.check_slot_time(t, now)
        {
            broken(&mut errs, b, lang);
        }
        if !(0..=MAX_WEIGHT_KG).contains(&input.cargo_weight_kg) {
            errs.add(
                "cargo_weight_kg",
                "range",
                Words::new(
                    "货物重量应在0至100000千克之间",
                    "Khối lượng hàng từ 0 đến 100000 kg",
                    "0 to 100000 kg",
                )
                .pick(lang),
            );
        }
        let customs_ref = customs_ref(&mut errs, input.customs_ref.as_deref(), lang);
        let vehicle: Option<(String, Option<String>)> = if plausible_key(&input.vehicle_id) {
            native!(c, c => vehicles::table
                .filter(vehicles::id.eq(&input.vehicle_id))
                .filter(vehicles::driver_id.eq(&driver.id))
                .filter(vehicles::removed_at.is_null())
                .select((vehicles::plate, vehicles::trailer_plate))
                .first(c))
            .optional()?
        } else {
            None
        };
        if vehicle.is_none() {
            errs.add(
                "vehicle_id",
                "unknown",
                Words::new(
                    "请选择您的一辆车",
                    "Hãy chọn một xe của bạn",
                    "choose one of your vehicles",
                )
                .pick(lang),
            );
        }
        if let Some(until) = restricted_until(c, now, policy, &driver.id)? {
            errs.add(
                "driver",
                "restricted",
                format!(
                    "{} {}",
                    Words::new(
                        "因多次未按时到达，暂停预约至",
                        "Do nhiều lần không đến, tạm ngừng đặt chỗ đến",
                        "after repeated no-shows, booking is paused until",
                    )
                    .pick(lang),
                    local(until).format("%Y-%m-%d %H:%M")
                ),
            );
        }
        let (Some((port, direction)), Some(starts_at), Some((plate, trailer)), true) =
            (lane, starts_at, vehicle, errs.is_empty())
        else {
            return Err(errs.into());
        };
        if active_of_driver(c, &driver.id)?.is_some() {
            return Err(one_active(lang, "driver"));
        }
        if active_of_plate(c, &plate)?.is_some() {
            return Err(one_active(lang, "vehicle_id"));
        }
        let lane_type = input.cargo_category.lane_type();
        let key = SlotKey {
            port,
            direction,
            lane_type,
            starts_at,
        };
        let Some(slot_id) = take_place_at(c, now, policy, &key)? else {
            return Err(full(c, now, policy, &key, lang)?);
        };
        let row = BookingRow {
            // Time-ordered (UUIDv7) like every other id: a random one put each booking on a
            // random page of the bookings' key and of the audit log's entity index, two more
            // pages for the booking's commit to write (ops/bench/bookings.sh).
            id: crate::db::new_id(),
            number: fresh_number(c, &port.code)?,
            driver_id: Some(driver.id.clone()),
            vehicle_id: Some(input.vehicle_id.clone()),
            plate,
            trailer_plate: trailer,
            slot_id,
            port: port.code.clone(),
            direction,
            lane_type,
            starts_at: ts(starts_at),
            trade_pass: driver.trade_pass.clone(),
            cargo_category: input.cargo_category,
            cargo_weight_kg: i32::try_from(input.cargo_weight_kg).unwrap_or(0),
            customs_ref,
            status: BookingStatus::Booked,
            walk_up: false,
            moves: 0,
            queued_at: None,
            called_at: None,
            report_by: None,
            cleared_at: None,
            crossing_id: None,
            created_at: ts(now),
            updated_at: ts(now),
        };
        // The unique indexes decide a race the reads above could not see: the loser is told
        // as if it had seen the other booking.
        native!(c, c => diesel::insert_into(bookings::table).values(&row).execute(c))
            .map_err(|e| Error::from(e).unique_as(|| one_active(lang, "driver")))?;
        write_audit(
            c,
            now,
            Some(&format!("driver:{}", driver.id)),
            "booking.create",
            None,
            &row,
        )?;
        tell(c, now, policy, &row, BookingEvent::Confirmed, true)?;
        Ok(row)
    })
}

fn customs_ref(errs: &mut FieldErrors, text: Option<&str>, lang: &str) -> Option<String> {
    let cleaned = crate::domain::validation::clean(text)?;
    let bad = text_problem(&cleaned, 40).is_some()
        || !cleaned
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | '_'));
    if bad {
        errs.add(
            "customs_ref",
            "format",
            Words::new(
                "报关单号：最多40位字母、数字、-、/",
                "Số tờ khai hải quan: tối đa 40 chữ cái, chữ số, -, /",
                "customs reference: up to 40 letters, digits, '-' or '/'",
            )
            .pick(lang),
        );
        return None;
    }
    Some(cleaned.to_uppercase())
}

/// A driver's own booking; someone else's answers exactly like a missing one.
pub fn own(c: &mut DbConnection, driver_id: &str, booking_id: &str) -> Result<BookingRow> {
    let row = if plausible_key(booking_id) {
        bookings::table
            .find(booking_id)
            .filter(bookings::driver_id.eq(driver_id))
            .select(BookingRow::as_select())
            .first(c)
            .optional()?
    } else {
        None
    };
    row.ok_or_else(|| DomainError::NotFound { what: "booking" }.into())
}

pub fn mine(c: &mut DbConnection, driver_id: &str) -> Result<Vec<BookingRow>> {
    Ok(bookings::table
        .filter(bookings::driver_id.eq(driver_id))
        .order(bookings::created_at.desc())
        .limit(20)
        .select(BookingRow::as_select())
        .load(c)?)
}

fn not_now(lang: &str, status: BookingStatus, what: Words) -> Error {
    DomainError::Conflict {
        message: format!("{} ({})", what.pick(lang), status.words().pick(lang)),
        current_state: status.as_str().into(),
    }
    .into()
}

/// Cancels a driver's active booking: the place goes back to the slot.
pub fn cancel(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &FreightPolicy,
    driver_id: &str,
    booking_id: &str,
) -> Result<BookingRow> {
    write_tx(c, |c| {
        let driver = super::drivers::load_driver(c, driver_id)?;
        let before = own(c, driver_id, booking_id)?;
        if !before.status.is_active() {
            return Err(not_now(
                &driver.lang,
                before.status,
                Words::new(
                    "此预约已不能取消",
                    "Không thể hủy lượt đặt này nữa",
                    "this booking can no longer be cancelled",
                ),
            ));
        }
        let n = diesel::update(
            bookings::table
                .find(&before.id)
                .filter(bookings::status.eq(before.status)),
        )
        .set((
            bookings::status.eq(BookingStatus::Cancelled),
            bookings::updated_at.eq(ts(now)),
        ))
        .execute(c)?;
        if n != 1 {
            return Err(not_now(
                &driver.lang,
                before.status,
                Words::new(
                    "预约状态已变化",
                    "Trạng thái đã thay đổi",
                    "the booking changed meanwhile",
                ),
            ));
        }
        release_place(c, now, &before.slot_id)?;
        let after = BookingRow {
            status: BookingStatus::Cancelled,
            updated_at: ts(now),
            ..before.clone()
        };
        write_audit(
            c,
            now,
            Some(&format!("driver:{driver_id}")),
            "booking.cancel",
            Some(&before),
            &after,
        )?;
        tell(c, now, policy, &after, BookingEvent::Cancelled, false)?;
        Ok(after)
    })
}

/// Moves a booking to another hour of the same lane, once: the new place is taken before the
/// old one is given back, so a full hour leaves the booking as it was.
pub fn move_to(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &FreightPolicy,
    driver_id: &str,
    booking_id: &str,
    input: &MoveIn,
) -> Result<BookingRow> {
    write_tx(c, |c| {
        let driver = super::drivers::load_driver(c, driver_id)?;
        let lang = driver.lang.as_str();
        let before = own(c, driver_id, booking_id)?;
        if before.status != BookingStatus::Booked {
            return Err(not_now(
                lang,
                before.status,
                Words::new(
                    "只有尚未签到的预约可以改约",
                    "Chỉ đổi được lượt chưa đăng ký đến",
                    "only a booking not yet checked in can be moved",
                ),
            ));
        }
        if before.moves > 0 {
            return refuse(
                "starts_at",
                "moved_once",
                Words::new(
                    "每个预约只能免费改约一次",
                    "Mỗi lượt đặt chỉ được đổi miễn phí một lần",
                    "a booking can be moved once",
                ),
                lang,
            );
        }
        let mut errs = FieldErrors::new();
        let starts_at = read_time(&mut errs, "starts_at", &input.starts_at, lang);
        if let Some(t) = starts_at
            && let Err(b) = policy.check_slot_time(t, now)
        {
            broken(&mut errs, b, lang);
        }
        if starts_at == Some(utc(before.starts_at)) {
            errs.add(
                "starts_at",
                "same_slot",
                Words::new(
                    "这就是当前时段",
                    "Đây là khung giờ hiện tại",
                    "that is the current slot",
                )
                .pick(lang),
            );
        }
        let (Some(starts_at), true) = (starts_at, errs.is_empty()) else {
            return Err(errs.into());
        };
        let port = policy
            .port(&before.port)
            .ok_or(DomainError::NotFound { what: "port" })?;
        let key = SlotKey {
            port,
            direction: before.direction,
            lane_type: before.lane_type,
            starts_at,
        };
        let Some(slot_id) = take_place_at(c, now, policy, &key)? else {
            return Err(full(c, now, policy, &key, lang)?);
        };
        release_place(c, now, &before.slot_id)?;
        diesel::update(bookings::table.find(&before.id))
            .set((
                bookings::slot_id.eq(&slot_id),
                bookings::starts_at.eq(ts(starts_at)),
                bookings::moves.eq(before.moves + 1),
                bookings::updated_at.eq(ts(now)),
            ))
            .execute(c)?;
        let after = BookingRow {
            slot_id,
            starts_at: ts(starts_at),
            moves: before.moves + 1,
            updated_at: ts(now),
            ..before.clone()
        };
        write_audit(
            c,
            now,
            Some(&format!("driver:{driver_id}")),
            "booking.move",
            Some(&before),
            &after,
        )?;
        tell(c, now, policy, &after, BookingEvent::Moved, true)?;
        Ok(after)
    })
}

/// A supervisor closes or reduces a slot (a lane down). Bookings beyond the new capacity that
/// have not checked in yet are withdrawn, latest booked first, and told by mail.
pub fn change_slot(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &FreightPolicy,
    actor: &Actor,
    input: &SlotChangeIn,
) -> Result<SlotChangeOut> {
    authorize(actor, Action::ManageSlots)?;
    let lang = "zh";
    let mut errs = FieldErrors::new();
    let lane = read_lane(policy, &mut errs, lang, Some(&input.port), Some(&input.direction));
    let starts_at = read_time(&mut errs, "starts_at", &input.starts_at, lang);
    if let Some(t) = starts_at
        && freight::slot_start(t) != t
    {
        errs.add(
            "starts_at",
            "whole_hour",
            "时段应从整点开始 / a slot starts on the hour",
        );
    }
    if !(0..=10_000).contains(&input.capacity) {
        errs.add("capacity", "range", "容量应在0至10000之间 / 0 to 10000");
    }
    let note = input.note.trim();
    if note.is_empty() {
        errs.add("note", "required", "请写明原因（如通道故障） / say why (a lane down)");
    } else if let Some((rule, message)) = text_problem(note, 200) {
        errs.add("note", rule, message);
    }
    let (Some((port, direction)), Some(starts_at), true) = (lane, starts_at, errs.is_empty()) else {
        return Err(errs.into());
    };
    let capacity = i32::try_from(input.capacity).unwrap_or(0);
    write_tx(c, |c| {
        let key = SlotKey {
            port,
            direction,
            lane_type: input.lane_type,
            starts_at,
        };
        let slot = materialise(c, now, policy, &key)?;
        // Checked-in and called vehicles are at the border already: they keep their places.
        let mut withdrawable: Vec<BookingRow> = bookings::table
            .filter(bookings::slot_id.eq(&slot.id))
            .filter(bookings::status.eq(BookingStatus::Booked))
            .order((bookings::created_at.desc(), bookings::id.desc()))
            .select(BookingRow::as_select())
            .load(c)?;
        let over = usize::try_from(slot.booked - capacity)
            .unwrap_or(0)
            .min(withdrawable.len());
        let mut bumped = Vec::new();
        for before in withdrawable.drain(..over) {
            diesel::update(bookings::table.find(&before.id))
                .set((
                    bookings::status.eq(BookingStatus::Bumped),
                    bookings::updated_at.eq(ts(now)),
                ))
                .execute(c)?;
            let after = BookingRow {
                status: BookingStatus::Bumped,
                updated_at: ts(now),
                ..before.clone()
            };
            write_audit(c, now, Some(&actor.id), "booking.bump", Some(&before), &after)?;
            tell(c, now, policy, &after, BookingEvent::Bumped, false)?;
            bumped.push(after.number);
        }
        let booked = slot.booked - i32::try_from(bumped.len()).unwrap_or(0);
        // Places already taken by vehicles at the border stay counted; the capacity never falls
        // below them, so the database's booked <= capacity holds.
        let capacity = capacity.max(booked);
        diesel::update(slots::table.find(&slot.id))
            .set((
                slots::capacity.eq(capacity),
                slots::booked.eq(booked),
                slots::note.eq(Some(note)),
                slots::updated_by.eq(Some(&actor.id)),
                slots::updated_at.eq(ts(now)),
            ))
            .execute(c)?;
        audit::entry(now, Some(&actor.id), "slot.change", "slot", &slot.id)
            .before(&serde_json::json!({"capacity": slot.capacity, "booked": slot.booked, "note": slot.note}))
            .after(&serde_json::json!({"capacity": capacity, "booked": booked, "note": note, "bumped": bumped}))
            .write(c)?;
        Ok(SlotChangeOut {
            slot: SlotOut {
                starts_at: local(starts_at).fixed_offset(),
                label: freight::slot_label(starts_at),
                port: port.code.clone(),
                direction,
                lane_type: input.lane_type,
                capacity,
                booked,
                free: capacity - booked,
                note: Some(note.into()),
            },
            bumped,
        })
    })
}

/// What the driver's booking page shows.
pub struct BookingPage {
    pub complete: bool,
    pub vehicles: Vec<super::drivers::Vehicle>,
    /// Free places for the chosen direction and lane type.
    pub slots: Vec<SlotOut>,
    /// Free places in the lane of the driver's movable booking.
    pub move_slots: Vec<SlotOut>,
    pub mine: Vec<BookingRow>,
}

impl super::Ctx {
    /// The driver's booking page: profile state, vehicles, their bookings, and the free slots
    /// for the lane asked about (and for moving the active booking).
    pub async fn booking_page(
        &self,
        driver: super::drivers::Driver,
        lane: Option<(Direction, LaneType)>,
    ) -> Result<BookingPage> {
        self.tx(move |c, ctx, now| {
            let policy = &ctx.policy.freight;
            let complete = super::drivers::profile(c, &driver)?.complete;
            let vehicles = super::drivers::vehicles(c, &driver)?;
            let mine = mine(c, &driver.id)?;
            let port = policy.ports.first();
            let slots = match (lane, port) {
                (Some((direction, lane_type)), Some(port)) => {
                    availability(c, now, policy, port, direction, lane_type, now)?
                }
                _ => Vec::new(),
            };
            let movable = mine
                .iter()
                .find(|b| b.status == BookingStatus::Booked && b.moves == 0 && !b.walk_up);
            let move_slots = match (movable, port) {
                (Some(b), Some(port)) => availability(c, now, policy, port, b.direction, b.lane_type, now)?
                    .into_iter()
                    .filter(|s| s.starts_at.with_timezone(&Utc) != utc(b.starts_at))
                    .collect(),
                _ => Vec::new(),
            };
            Ok(BookingPage {
                complete,
                vehicles,
                slots,
                move_slots,
                mine,
            })
        })
        .await
    }

    /// The free places of one lane type from the earliest bookable hour to the horizon.
    pub async fn slots(&self, lang: String, q: SlotQuery) -> Result<Vec<SlotOut>> {
        self.tx(move |c, ctx, now| {
            let policy = &ctx.policy.freight;
            let mut errs = FieldErrors::new();
            let lane = read_lane(policy, &mut errs, &lang, q.port.as_deref(), q.direction.as_deref());
            let Some((port, direction)) = lane else {
                return Err(errs.into());
            };
            availability(
                c,
                now,
                policy,
                port,
                direction,
                q.lane_type.unwrap_or(LaneType::General),
                now,
            )
        })
        .await
    }

    /// Counts one booking change against the driver's and the address's limits.
    fn booking_allowed(&self, driver_id: &str, client: std::net::IpAddr, lang: &str) -> Result<()> {
        let wait = |n: governor::NotUntil<governor::clock::QuantaInstant>| {
            let seconds = n.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
            u32::try_from(seconds.as_secs()).unwrap_or(60).max(1)
        };
        let refused = |retry_after_seconds| {
            Error::Domain(DomainError::TooMany {
                field: "driver",
                rule: "rate_limited",
                message: Words::new(
                    "操作过于频繁，请稍后再试",
                    "Thao tác quá nhiều lần, hãy thử lại sau",
                    "too many booking changes; try again shortly",
                )
                .pick(lang)
                .into(),
                retry_after_seconds,
            })
        };
        self.limits
            .bookings_per_client
            .check_key(&client)
            .map_err(|n| refused(wait(n)))?;
        self.limits
            .bookings_per_driver
            .check_key(&driver_id.to_string())
            .map_err(|n| refused(wait(n)))
    }

    pub async fn book(
        &self,
        driver: (String, String),
        client: std::net::IpAddr,
        input: BookingIn,
    ) -> Result<BookingRow> {
        let (driver_id, lang) = driver;
        self.booking_allowed(&driver_id, client, &lang)?;
        self.write(move |c, ctx, now| book(c, now, &ctx.policy.freight, &driver_id, &input))
            .await
    }

    pub async fn my_bookings(&self, driver_id: String) -> Result<Vec<BookingRow>> {
        self.tx(move |c, _, _| mine(c, &driver_id)).await
    }

    pub async fn my_booking(&self, driver_id: String, booking_id: String) -> Result<BookingRow> {
        self.tx(move |c, _, _| own(c, &driver_id, &booking_id)).await
    }

    pub async fn cancel_booking(
        &self,
        driver: (String, String),
        client: std::net::IpAddr,
        booking_id: String,
    ) -> Result<BookingRow> {
        let (driver_id, lang) = driver;
        self.booking_allowed(&driver_id, client, &lang)?;
        self.tx(move |c, ctx, now| cancel(c, now, &ctx.policy.freight, &driver_id, &booking_id))
            .await
    }

    pub async fn move_booking(
        &self,
        driver: (String, String),
        client: std::net::IpAddr,
        booking_id: String,
        input: MoveIn,
    ) -> Result<BookingRow> {
        let (driver_id, lang) = driver;
        self.booking_allowed(&driver_id, client, &lang)?;
        self.tx(move |c, ctx, now| move_to(c, now, &ctx.policy.freight, &driver_id, &booking_id, &input))
            .await
    }

    /// The driver's own booking slip (PDF).
    pub async fn my_booking_slip(&self, driver_id: String, booking_id: String) -> Result<Document> {
        self.tx(move |c, ctx, _| {
            let b = own(c, &driver_id, &booking_id)?;
            let ring = ctx.keys.ring(c)?;
            slip(c, &ring, &ctx.policy.freight, &b)
        })
        .await
    }

    pub async fn change_slot(&self, actor: Actor, input: SlotChangeIn) -> Result<SlotChangeOut> {
        self.tx(move |c, ctx, now| change_slot(c, now, &ctx.policy.freight, &actor, &input))
            .await
    }
}
