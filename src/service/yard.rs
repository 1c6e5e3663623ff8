//! The freight waiting area: check-in by booking code or plate, walk-ups, the live queue per
//! lane type, calling vehicles to the border (by staff, or when a lane clears one), late and
//! no-show handling with strikes, and the public board.

use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::bookings::{BookingOut, BookingRow, SlotKey, SlotRow, release_place, tell, write_audit};
use crate::db::schema::{bookings, driver_strikes, slots};
use crate::db::{DbConnection, audit, new_id, ts, utc, write_tx};
use crate::domain::auth::{Action, Actor, authorize};
use crate::domain::freight::{self, BookingStatus, CargoCategory, FreightPolicy, LaneType, Words};
use crate::domain::trade::{check_plate, normalise_plate};
use crate::domain::validation::FieldErrors;
use crate::domain::verdict::Direction;
use crate::domain::{DomainError, local};
use crate::error::Result;
use crate::mail::BookingEvent;

/// Vehicles listed per queue on the staff page; the count is always exact.
const QUEUE_LISTED: i64 = 50;
/// Last calls shown on the public board per lane type.
const BOARD_CALLS: i64 = 5;

/// Check-in at the waiting area: the booking number (or its scanned code) or the plate.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInIn {
    #[schema(max_length = 600, pattern = "\\S")]
    pub code: String,
}

/// A vehicle without a booking, placed in the next free slot by staff.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WalkUpIn {
    #[schema(max_length = 16)]
    pub plate: String,
    #[schema(max_length = 16)]
    pub trailer_plate: Option<String>,
    #[schema(max_length = 16)]
    pub port: String,
    #[schema(pattern = "^(exit|entry)$")]
    pub direction: String,
    pub cargo_category: CargoCategory,
    #[schema(minimum = 0, maximum = 100000)]
    pub cargo_weight_kg: i64,
    /// The Chinese driver's border-trade pass number, when there is one.
    #[schema(max_length = 32)]
    pub trade_pass: Option<String>,
}

/// Which queue to call from.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallIn {
    #[schema(max_length = 16)]
    pub port: String,
    #[schema(pattern = "^(exit|entry)$")]
    pub direction: String,
    pub lane_type: LaneType,
    /// A particular waiting booking; the head of the queue when absent.
    #[schema(max_length = 64)]
    pub booking_id: Option<String>,
}

/// One vehicle in a queue, as the waiting-area staff see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueLine {
    pub booking_id: String,
    pub number: String,
    pub plate: String,
    pub status: BookingStatus,
    pub cargo_category: CargoCategory,
    pub walk_up: bool,
    pub slot_label: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub queued_at: Option<DateTime<FixedOffset>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub report_by: Option<DateTime<FixedOffset>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Queue {
    pub port: String,
    pub direction: Direction,
    pub lane_type: LaneType,
    pub waiting: i64,
    pub called: Vec<QueueLine>,
    /// In call order (first checked in first).
    pub queue: Vec<QueueLine>,
    /// Minutes the last in the queue may expect to wait.
    pub expected_wait_minutes: u32,
}

/// The public board: counts, waits and masked plates only.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BoardLine {
    pub direction: Direction,
    pub lane_type: LaneType,
    pub waiting: i64,
    pub expected_wait_minutes: u32,
    /// The last plates called, newest first, masked to their last two characters.
    pub last_called: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Board {
    pub port: String,
    pub port_name_zh: String,
    pub port_name_vi: String,
    pub port_name_en: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<FixedOffset>,
    pub lines: Vec<BoardLine>,
}

/// What the sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Swept {
    /// Called vehicles that did not report in time, sent to the back of their queue.
    pub requeued: usize,
    /// Bookings nobody checked in for, their places released and a strike counted.
    pub no_shows: usize,
}

fn zh(words: Words) -> String {
    format!("{} / {}", words.zh, words.en)
}

fn line(b: &BookingRow) -> QueueLine {
    QueueLine {
        booking_id: b.id.clone(),
        number: b.number.clone(),
        plate: b.plate.clone(),
        status: b.status,
        cargo_category: b.cargo_category,
        walk_up: b.walk_up,
        slot_label: freight::slot_label(utc(b.starts_at)),
        queued_at: b.queued_at.map(|t| local(utc(t)).fixed_offset()),
        report_by: b.report_by.map(|t| local(utc(t)).fixed_offset()),
    }
}

fn update_status(c: &mut DbConnection, before: &BookingRow, after: &BookingRow) -> Result<bool> {
    let n = diesel::update(
        bookings::table
            .find(&before.id)
            .filter(bookings::status.eq(before.status)),
    )
    .set((
        bookings::status.eq(after.status),
        bookings::queued_at.eq(after.queued_at),
        bookings::called_at.eq(after.called_at),
        bookings::report_by.eq(after.report_by),
        bookings::cleared_at.eq(after.cleared_at),
        bookings::crossing_id.eq(&after.crossing_id),
        bookings::updated_at.eq(after.updated_at),
    ))
    .execute(c)?;
    Ok(n == 1)
}

/// Called vehicles past their report-by time go to the back of the queue; booked vehicles
/// nobody checked in for by the end of the grace window become no-shows, release their place
/// and count a strike. Run before every queue operation and by a periodic task, so the rules
/// hold whether or not anyone is looking.
pub fn sweep(c: &mut DbConnection, now: DateTime<Utc>, policy: &FreightPolicy) -> Result<Swept> {
    write_tx(c, |c| {
        let mut out = Swept::default();
        let late: Vec<BookingRow> = bookings::table
            .filter(bookings::status.eq(BookingStatus::Called))
            .filter(bookings::report_by.lt(ts(now)))
            .select(BookingRow::as_select())
            .load(c)?;
        for before in late {
            let after = BookingRow {
                status: BookingStatus::Waiting,
                queued_at: Some(ts(now)),
                called_at: None,
                report_by: None,
                updated_at: ts(now),
                ..before.clone()
            };
            if update_status(c, &before, &after)? {
                write_audit(c, now, None, "booking.late", Some(&before), &after)?;
                out.requeued += 1;
            }
        }
        // Lapsed: a slot starting before this had its no-show time pass by now.
        let cutoff = now - (policy.no_show_after(now) - now);
        let lapsed: Vec<BookingRow> = bookings::table
            .filter(bookings::status.eq(BookingStatus::Booked))
            .filter(bookings::starts_at.lt(ts(cutoff)))
            .select(BookingRow::as_select())
            .load(c)?;
        for before in lapsed {
            let after = BookingRow {
                status: BookingStatus::NoShow,
                updated_at: ts(now),
                ..before.clone()
            };
            if !update_status(c, &before, &after)? {
                continue;
            }
            release_place(c, now, &before.slot_id)?;
            if let Some(driver) = &before.driver_id {
                diesel::insert_into(driver_strikes::table)
                    .values((
                        driver_strikes::id.eq(new_id()),
                        driver_strikes::driver_id.eq(driver),
                        driver_strikes::booking_id.eq(&before.id),
                        driver_strikes::at.eq(ts(now)),
                    ))
                    .execute(c)?;
            }
            write_audit(c, now, None, "booking.no_show", Some(&before), &after)?;
            tell(c, now, policy, &after, BookingEvent::NoShow, false)?;
            out.no_shows += 1;
        }
        Ok(out)
    })
}

/// The active booking a check-in code names: a booking number, a signed booking code, or a
/// plate.
fn find_active(c: &mut DbConnection, keys: &crate::keys::KeyRing, code: &str) -> Result<Option<BookingRow>> {
    let code = code.trim();
    let number = super::checkpoint::booking_number_of(code, keys).unwrap_or_else(|| code.to_uppercase());
    let by_number = bookings::table
        .filter(bookings::number.eq(&number))
        .filter(super::bookings::active())
        .select(BookingRow::as_select())
        .first(c)
        .optional()?;
    if by_number.is_some() {
        return Ok(by_number);
    }
    let plate = normalise_plate(code);
    Ok(bookings::table
        .filter(bookings::plate.eq(&plate))
        .filter(super::bookings::active())
        .select(BookingRow::as_select())
        .first(c)
        .optional()?)
}

/// Checks a booked vehicle in: it joins the queue of its lane type.
pub fn check_in(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &FreightPolicy,
    keys: &crate::keys::KeyRing,
    actor: &Actor,
    input: &CheckInIn,
) -> Result<BookingRow> {
    authorize(actor, Action::Yard)?;
    if input.code.trim().is_empty() || input.code.len() > 600 {
        let mut errs = FieldErrors::new();
        errs.add(
            "code",
            "required",
            "请扫描预约码或输入车牌 / scan the booking code or type the plate",
        );
        return Err(errs.into());
    }
    sweep(c, now, policy)?;
    write_tx(c, |c| {
        let Some(before) = find_active(c, keys, &input.code)? else {
            return Err(DomainError::NotFound { what: "booking" }.into());
        };
        if before.status != BookingStatus::Booked {
            return Err(DomainError::Conflict {
                message: format!("已签到 / already checked in ({})", before.status.words().en),
                current_state: before.status.as_str().into(),
            }
            .into());
        }
        if let Err(b) = policy.check_in(utc(before.starts_at), now) {
            let mut errs = FieldErrors::new();
            errs.add("code", b.rule, zh(b.words));
            return Err(errs.into());
        }
        let after = BookingRow {
            status: BookingStatus::Waiting,
            queued_at: Some(ts(now)),
            updated_at: ts(now),
            ..before.clone()
        };
        if !update_status(c, &before, &after)? {
            return Err(DomainError::Conflict {
                message: "预约状态已变化 / the booking changed meanwhile".into(),
                current_state: before.status.as_str().into(),
            }
            .into());
        }
        write_audit(c, now, Some(&actor.id), "booking.check_in", Some(&before), &after)?;
        Ok(after)
    })
}

/// A vehicle without a booking gets the next free place from the current hour on, and joins
/// the queue at once.
pub fn walk_up(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &FreightPolicy,
    actor: &Actor,
    input: &WalkUpIn,
) -> Result<BookingRow> {
    authorize(actor, Action::Yard)?;
    let mut errs = FieldErrors::new();
    let plate = match check_plate(&input.plate) {
        Ok(p) => Some(p),
        Err((rule, message)) => {
            errs.add("plate", rule, message);
            None
        }
    };
    let trailer = match input.trailer_plate.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => match check_plate(t) {
            Ok(p) => Some(p),
            Err((rule, message)) => {
                errs.add("trailer_plate", rule, message);
                None
            }
        },
    };
    let lane = super::bookings::read_lane(policy, &mut errs, "zh", Some(&input.port), Some(&input.direction));
    if !(0..=100_000).contains(&input.cargo_weight_kg) {
        errs.add("cargo_weight_kg", "range", "0至100000千克 / 0 to 100000 kg");
    }
    let trade_pass = input
        .trade_pass
        .as_deref()
        .map(|t| t.trim().to_uppercase())
        .filter(|t| !t.is_empty());
    if trade_pass
        .as_deref()
        .is_some_and(|t| !crate::domain::validation::plausible_key(t))
    {
        errs.add("trade_pass", "format", "通行证号码格式不对 / not a pass number");
    }
    let (Some(plate), Some((port, direction)), true) = (plate, lane, errs.is_empty()) else {
        return Err(errs.into());
    };
    sweep(c, now, policy)?;
    write_tx(c, |c| {
        if bookings::table
            .filter(bookings::plate.eq(&plate))
            .filter(super::bookings::active())
            .count()
            .get_result::<i64>(c)?
            > 0
        {
            let mut errs = FieldErrors::new();
            errs.add(
                "plate",
                "one_active_booking",
                "该车已有有效预约，请用预约签到 / this vehicle has an active booking: check it in instead",
            );
            return Err(errs.into());
        }
        let lane_type = input.cargo_category.lane_type();
        let mut at = freight::slot_start(now);
        let last = now + Duration::days(i64::from(policy.horizon_days));
        let slot = loop {
            if at > last {
                return Err(DomainError::Full {
                    message: "预约期内已无空位 / no free place within the booking horizon".into(),
                    offers: Vec::new(),
                }
                .into());
            }
            let key = SlotKey {
                port,
                direction,
                lane_type,
                starts_at: at,
            };
            if let Some(id) = super::bookings::take_place_at(c, now, policy, &key)? {
                break (id, at);
            }
            at += Duration::hours(1);
        };
        let row = BookingRow {
            id: crate::db::new_id(),
            number: super::bookings::fresh_number(c, &port.code)?,
            driver_id: None,
            vehicle_id: None,
            plate,
            trailer_plate: trailer,
            slot_id: slot.0,
            port: port.code.clone(),
            direction,
            lane_type,
            starts_at: ts(slot.1),
            trade_pass,
            cargo_category: input.cargo_category,
            cargo_weight_kg: i32::try_from(input.cargo_weight_kg).unwrap_or(0),
            customs_ref: None,
            status: BookingStatus::Waiting,
            walk_up: true,
            moves: 0,
            queued_at: Some(ts(now)),
            called_at: None,
            report_by: None,
            cleared_at: None,
            crossing_id: None,
            created_at: ts(now),
            updated_at: ts(now),
        };
        diesel::insert_into(bookings::table).values(&row).execute(c)?;
        write_audit(c, now, Some(&actor.id), "booking.walk_up", None, &row)?;
        Ok(row)
    })
}

/// Calls a waiting vehicle (the head of its queue unless one is named) to the border, with a
/// report-by deadline and a mail. None when nobody is waiting.
pub(crate) fn call_in_tx(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &FreightPolicy,
    actor: &str,
    queue: (&str, Direction, LaneType),
    booking_id: Option<&str>,
) -> Result<Option<BookingRow>> {
    let (port, direction, lane_type) = queue;
    let mut q = bookings::table
        .filter(bookings::port.eq(port))
        .filter(bookings::direction.eq(direction))
        .filter(bookings::lane_type.eq(lane_type))
        .filter(bookings::status.eq(BookingStatus::Waiting))
        .into_boxed();
    if let Some(id) = booking_id {
        q = q.filter(bookings::id.eq(id));
    }
    let Some(before) = q
        .order((bookings::queued_at.asc(), bookings::id.asc()))
        .select(BookingRow::as_select())
        .first(c)
        .optional()?
    else {
        return Ok(None);
    };
    let after = BookingRow {
        status: BookingStatus::Called,
        called_at: Some(ts(now)),
        report_by: Some(ts(policy.report_by(now))),
        updated_at: ts(now),
        ..before.clone()
    };
    if !update_status(c, &before, &after)? {
        return Ok(None);
    }
    write_audit(c, now, Some(actor), "booking.call", Some(&before), &after)?;
    tell(c, now, policy, &after, BookingEvent::Called, false)?;
    Ok(Some(after))
}

pub fn call(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &FreightPolicy,
    actor: &Actor,
    input: &CallIn,
) -> Result<BookingRow> {
    authorize(actor, Action::Yard)?;
    let mut errs = FieldErrors::new();
    let lane = super::bookings::read_lane(policy, &mut errs, "zh", Some(&input.port), Some(&input.direction));
    let Some((port, direction)) = lane else {
        return Err(errs.into());
    };
    sweep(c, now, policy)?;
    write_tx(c, |c| {
        call_in_tx(
            c,
            now,
            policy,
            &actor.id,
            (&port.code, direction, input.lane_type),
            input.booking_id.as_deref(),
        )?
        .ok_or_else(|| {
            DomainError::NotFound {
                what: "waiting vehicle",
            }
            .into()
        })
    })
}

/// The queues of a port: every direction and lane type it has lanes for.
pub fn queues(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &FreightPolicy,
    actor: &Actor,
    port: &str,
) -> Result<Vec<Queue>> {
    authorize(actor, Action::Yard)?;
    let port = policy.port(port).ok_or(DomainError::NotFound { what: "port" })?;
    sweep(c, now, policy)?;
    let stats = super::bookings::lane_stats(c, now, policy)?;
    let mut out = Vec::new();
    for direction in Direction::ALL {
        for lane_type in LaneType::ALL.iter().copied() {
            if policy.lanes(port, direction, lane_type).next().is_none() {
                continue;
            }
            let of = |s: BookingStatus| {
                bookings::table
                    .filter(bookings::port.eq(&port.code))
                    .filter(bookings::direction.eq(direction))
                    .filter(bookings::lane_type.eq(lane_type))
                    .filter(bookings::status.eq(s))
            };
            let waiting: i64 = of(BookingStatus::Waiting).count().get_result(c)?;
            let queue: Vec<BookingRow> = of(BookingStatus::Waiting)
                .order((bookings::queued_at.asc(), bookings::id.asc()))
                .limit(QUEUE_LISTED)
                .select(BookingRow::as_select())
                .load(c)?;
            let called: Vec<BookingRow> = of(BookingStatus::Called)
                .order(bookings::called_at.asc())
                .limit(QUEUE_LISTED)
                .select(BookingRow::as_select())
                .load(c)?;
            let (lanes, m) = super::bookings::lane_measures(&stats, policy, port, direction, lane_type);
            out.push(Queue {
                port: port.code.clone(),
                direction,
                lane_type,
                waiting,
                called: called.iter().map(line).collect(),
                queue: queue.iter().map(line).collect(),
                expected_wait_minutes: policy.expected_wait_minutes(usize::try_from(waiting).unwrap_or(0), lanes, &m),
            });
        }
    }
    Ok(out)
}

/// The public board of a port: no names, no numbers, plates masked.
pub fn board(c: &mut DbConnection, now: DateTime<Utc>, policy: &FreightPolicy, port: &str) -> Result<Board> {
    let port = policy.port(port).ok_or(DomainError::NotFound { what: "port" })?;
    let stats = super::bookings::lane_stats(c, now, policy)?;
    let mut lines = Vec::new();
    for direction in Direction::ALL {
        for lane_type in LaneType::ALL.iter().copied() {
            if policy.lanes(port, direction, lane_type).next().is_none() {
                continue;
            }
            let of = bookings::table
                .filter(bookings::port.eq(&port.code))
                .filter(bookings::direction.eq(direction))
                .filter(bookings::lane_type.eq(lane_type));
            let waiting: i64 = of
                .filter(bookings::status.eq(BookingStatus::Waiting))
                .count()
                .get_result(c)?;
            let called: Vec<String> = of
                .filter(bookings::called_at.is_not_null())
                .order(bookings::called_at.desc())
                .limit(BOARD_CALLS)
                .select(bookings::plate)
                .load(c)?;
            let (lanes, m) = super::bookings::lane_measures(&stats, policy, port, direction, lane_type);
            lines.push(BoardLine {
                direction,
                lane_type,
                waiting,
                expected_wait_minutes: policy.expected_wait_minutes(usize::try_from(waiting).unwrap_or(0), lanes, &m),
                last_called: called.iter().map(|p| freight::mask_plate(p)).collect(),
            });
        }
    }
    Ok(Board {
        port: port.code.clone(),
        port_name_zh: port.name_zh.clone(),
        port_name_vi: port.name_vi.clone(),
        port_name_en: port.name_en.clone(),
        at: local(now).fixed_offset(),
        lines,
    })
}

/// A supervisor lifts a driver's strikes: booking is open again at once.
pub fn lift_strikes(c: &mut DbConnection, now: DateTime<Utc>, actor: &Actor, driver_id: &str) -> Result<usize> {
    authorize(actor, Action::ManageSlots)?;
    write_tx(c, |c| {
        let n = diesel::update(
            driver_strikes::table
                .filter(driver_strikes::driver_id.eq(driver_id))
                .filter(driver_strikes::lifted_at.is_null()),
        )
        .set((
            driver_strikes::lifted_at.eq(Some(ts(now))),
            driver_strikes::lifted_by.eq(Some(&actor.id)),
        ))
        .execute(c)?;
        if n == 0 {
            return Err(DomainError::NotFound { what: "strike" }.into());
        }
        audit::entry(now, Some(&actor.id), "driver.lift_strikes", "driver", driver_id)
            .after(&serde_json::json!({"lifted": n}))
            .write(c)?;
        Ok(n)
    })
}

/// Drivers restricted now or with unlifted strikes, for the supervisor's page: no identity
/// numbers, only what lifting needs.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StruckDriver {
    pub driver_id: String,
    pub name: String,
    pub strikes: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_strike: Option<DateTime<FixedOffset>>,
}

pub fn struck(c: &mut DbConnection, actor: &Actor) -> Result<Vec<StruckDriver>> {
    use crate::db::schema::drivers;
    authorize(actor, Action::ManageSlots)?;
    let rows: Vec<(String, Option<String>, Option<String>, NaiveDateTime)> = driver_strikes::table
        .inner_join(drivers::table)
        .filter(driver_strikes::lifted_at.is_null())
        .order(driver_strikes::at.desc())
        .limit(500)
        .select((drivers::id, drivers::name_zh, drivers::name_latin, driver_strikes::at))
        .load(c)?;
    let mut out: Vec<StruckDriver> = Vec::new();
    for (id, zh, latin, at) in rows {
        match out.iter_mut().find(|d| d.driver_id == id) {
            Some(d) => d.strikes += 1,
            None => out.push(StruckDriver {
                driver_id: id,
                name: latin.or(zh).unwrap_or_default(),
                strikes: 1,
                last_strike: Some(local(utc(at)).fixed_offset()),
            }),
        }
    }
    Ok(out)
}

/// An upcoming slot a supervisor closed or reduced.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangedSlot {
    pub label: String,
    pub direction: Direction,
    pub lane_type: LaneType,
    pub capacity: i32,
    pub booked: i32,
    pub note: Option<String>,
}

/// Slots of a port that a supervisor changed, upcoming: what is closed or reduced.
pub fn changed_slots(c: &mut DbConnection, now: DateTime<Utc>, port: &str) -> Result<Vec<ChangedSlot>> {
    let rows: Vec<SlotRow> = slots::table
        .filter(slots::port.eq(port))
        .filter(slots::note.is_not_null())
        .filter(slots::starts_at.ge(ts(freight::slot_start(now))))
        .order(slots::starts_at.asc())
        .limit(100)
        .select(SlotRow::as_select())
        .load(c)?;
    Ok(rows
        .into_iter()
        .map(|r| ChangedSlot {
            label: freight::slot_label(utc(r.starts_at)),
            direction: r.direction,
            lane_type: r.lane_type,
            capacity: r.capacity,
            booked: r.booked,
            note: r.note,
        })
        .collect())
}

/// Staff and the API read a booking they act on in the staff language.
pub fn staff_view(b: &BookingRow) -> BookingOut {
    BookingOut::of(b, "zh")
}

/// Runs the sweep every `every` on this instance (each instance may: the sweep's updates are
/// conditional on the state they read, so two at once do each change once).
pub fn start_sweeper(ctx: super::Ctx, every: std::time::Duration) {
    super::every(every, move || {
        let ctx = ctx.clone();
        async move {
            if let Err(e) = ctx.sweep().await {
                tracing::warn!(error = %e, "freight sweep");
            }
        }
    });
}

impl super::Ctx {
    pub async fn sweep(&self) -> Result<Swept> {
        self.tx(|c, ctx, now| sweep(c, now, &ctx.policy.freight)).await
    }

    pub async fn check_in(&self, actor: Actor, input: CheckInIn) -> Result<BookingRow> {
        self.tx(move |c, ctx, now| {
            let ring = ctx.keys.ring(c)?;
            check_in(c, now, &ctx.policy.freight, &ring, &actor, &input)
        })
        .await
    }

    pub async fn walk_up(&self, actor: Actor, input: WalkUpIn) -> Result<BookingRow> {
        self.tx(move |c, ctx, now| walk_up(c, now, &ctx.policy.freight, &actor, &input))
            .await
    }

    pub async fn call(&self, actor: Actor, input: CallIn) -> Result<BookingRow> {
        self.tx(move |c, ctx, now| call(c, now, &ctx.policy.freight, &actor, &input))
            .await
    }

    pub async fn queues(&self, actor: Actor, port: String) -> Result<Vec<Queue>> {
        self.tx(move |c, ctx, now| queues(c, now, &ctx.policy.freight, &actor, &port))
            .await
    }

    pub async fn board(&self, port: String) -> Result<Board> {
        self.tx(move |c, ctx, now| board(c, now, &ctx.policy.freight, &port))
            .await
    }

    pub async fn lift_strikes(&self, actor: Actor, driver_id: String) -> Result<usize> {
        self.tx(move |c, _, now| lift_strikes(c, now, &actor, &driver_id)).await
    }

    /// The supervisor's slots page: changed slots ahead and drivers with strikes.
    pub async fn slots_overview(&self, actor: Actor, port: String) -> Result<(Vec<ChangedSlot>, Vec<StruckDriver>)> {
        self.tx(move |c, _, now| {
            let struck = struck(c, &actor)?;
            Ok((changed_slots(c, now, &port)?, struck))
        })
        .await
    }

    pub async fn struck_drivers(&self, actor: Actor) -> Result<Vec<StruckDriver>> {
        self.tx(move |c, _, _| struck(c, &actor)).await
    }
}
