//! Checkpoint scans: read the code (Code128 number or signed QR), decide, record the attempt and
//! — for an admitted crossing — the trip, as the crossing's step, all in one transaction.

use chrono::{DateTime, FixedOffset, SubsecRound, Utc};
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::bookings::BookingRow;
use super::permits::{PermitRecord, get_permit};
use super::scan_index::{ScanFacts, ScanIndex};
use super::scan_sql::{AuditInsert, CrossingsInsert, TripUpdate, TripsUpdate};
use crate::db::models::CrossingRow;
use crate::db::schema::bookings;
use crate::db::schema::crossings;
use crate::db::{DbConnection, audit, new_id, ts, utc, write_tx};
use crate::domain::auth::{Action, Actor, authorize};
use crate::domain::freight::{self, BookingStatus, FreightPolicy, LaneType};
use crate::domain::permit::{PermitKind, PermitStatus};
use crate::domain::seal::{self, SealError};
use crate::domain::validation::{FieldErrors, plausible_key};
use crate::domain::verdict::{self, Direction, Effect, Facts, Reason, Verdict, Warning};
use crate::domain::{DomainError, local};
use crate::error::{Error, Result};
use crate::keys::KeyRing;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScannedPermit {
    pub number: String,
    pub kind: PermitKind,
    #[schema(value_type = String, format = DateTime)]
    pub valid_until: DateTime<FixedOffset>,
    /// 0 = multiple.
    pub entries_allowed: i32,
    pub entries_used: i32,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Holder {
    pub name_zh: Option<String>,
    pub name_latin: String,
    pub nationality: String,
    /// Link to the holder's portrait, when one was captured (authorised users only).
    pub photo: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Vehicle {
    pub plates: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScannedBooking {
    pub number: String,
    pub plate: String,
    pub slot_label: String,
    pub lane_type: LaneType,
    pub status: BookingStatus,
}

/// The answer to a scan. `verdict`, `reason`, `warning` and `message` are the stable contract.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScanOut {
    /// admit or reject.
    pub verdict: &'static str,
    pub reason: Reason,
    /// On an admit only, something to follow up: `overstay` when a pass expired while its
    /// holder was abroad (the return is admitted with reason `ok`; the warning is recorded with
    /// the crossing's audit entry). Null otherwise.
    pub warning: Option<Warning>,
    /// 中文 / English.
    pub message: String,
    pub message_zh: &'static str,
    pub message_en: &'static str,
    pub permit: Option<ScannedPermit>,
    pub holder: Option<Holder>,
    pub vehicle: Option<Vehicle>,
    /// At a freight lane: the booking checked (cleared when admitted).
    pub booking: Option<ScannedBooking>,
    pub crossing_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub scanned_at: DateTime<FixedOffset>,
}

/// Validated scan request fields.
pub struct ScanInput {
    pub code: String,
    pub lane: String,
    pub direction: Direction,
}

pub fn validate(code: Option<&str>, lane: Option<&str>, direction: Option<&str>) -> Result<ScanInput> {
    let mut errs = FieldErrors::new();
    let code = code.unwrap_or("");
    if code.trim().is_empty() {
        errs.add("code", "required", "请扫描证件条码 / code is required");
    }
    let lane = lane.map(str::trim).unwrap_or("");
    if !plausible_key(lane) || lane.len() > 32 {
        errs.add(
            "lane",
            "format",
            "通道编号：1–32位字母、数字、-、_ / lane: 1–32 letters, digits, '-' or '_'",
        );
    }
    let dir = direction.and_then(Direction::parse);
    if dir.is_none() {
        errs.add("direction", "one_of", "方向应为exit或entry / exit or entry");
    }
    match dir {
        Some(direction) if errs.is_empty() => Ok(ScanInput {
            code: code.trim().to_string(),
            lane: lane.to_string(),
            direction,
        }),
        _ => Err(errs.into()),
    }
}

/// What the scanned text names: a permit number, or a reason to reject before any lookup.
fn read_code(code: &str, keys: &KeyRing) -> std::result::Result<String, Reason> {
    if code.len() > seal::MAX_CODE_LEN {
        return Err(Reason::Malformed);
    }
    if code.starts_with(seal::PREFIX) {
        return match seal::verify(code, |id| keys.lookup(id)) {
            Ok(body) if body.kind == seal::BOOKING_KIND => {
                if booking_key_covers(keys, &body) {
                    Ok(body.number)
                } else {
                    Err(Reason::KeyNotAllowed)
                }
            }
            Ok(body) => {
                // A code valid past its key's end was not signed within the key's rules.
                let allowed = keys.get(&seal::key_id_hex(body.key_id)).is_some_and(|k| {
                    PermitKind::from_code(body.kind).is_some_and(|kind| k.kinds.contains(&kind))
                        && seal::days_to_date(body.valid_until).is_some_and(|until| k.covers(until))
                });
                if allowed {
                    Ok(body.number)
                } else {
                    Err(Reason::KeyNotAllowed)
                }
            }
            Err(SealError::Malformed) => Err(Reason::Malformed),
            Err(SealError::UnknownKey) => Err(Reason::UnknownKey),
            Err(SealError::BadSignature) => Err(Reason::BadSignature),
        };
    }
    let number = code.to_uppercase();
    if plausible_key(&number) {
        Ok(number)
    } else {
        Err(Reason::Malformed)
    }
}

fn facts(r: &PermitRecord, now: DateTime<Utc>) -> Facts {
    Facts {
        status: r.status(now),
        valid_from: utc(r.permit.valid_from),
        entries_allowed: r.permit.entries_allowed,
        entries_used: r.permit.entries_used,
        last_direction: r.permit.last_direction,
    }
}

/// Counts an admitted crossing's trip: the step its crossing carries (the permit's movement
/// count after it, unique per permit), and for the last allowed trip the permit marked used.
/// None if the permit is no longer issued (the caller records the crossing without a trip).
/// `version` is the trust version of the caller's transaction (see `trust::next_version`).
fn count_trip(
    c: &mut DbConnection,
    number: &str,
    entries_used: i32,
    effect: Effect,
    version: i64,
) -> Result<Option<i32>> {
    let (used, _, status) = effect.after(entries_used);
    if status == PermitStatus::Used && used_up(c, number, used, version)? == 0 {
        return Ok(None);
    }
    Ok(Some(effect.step(entries_used)))
}

/// Marks the permit used with its last trip: the one trip state written on the permit's row,
/// since the status is what every other reader of a permit goes by.
fn used_up(c: &mut DbConnection, number: &str, used: i32, version: i64) -> Result<usize> {
    TripUpdate {
        number,
        used,
        direction: Direction::Entry.as_str(),
        status: PermitStatus::Used.as_str(),
        version,
    }
    .run(c)
}

/// Decisions tried on a permit that keeps changing under the scan before it is answered
/// `contended`.
const CONTENDED_AFTER: usize = 5;

/// What a scanned text names, worked out before any database access: signature checks are CPU
/// work for the request's own thread, not for the single writer.
pub struct ReadCode {
    named: std::result::Result<String, Reason>,
    code_hash: String,
}

pub fn read(input: &ScanInput, keys: &KeyRing) -> ReadCode {
    ReadCode {
        named: read_code(&input.code, keys),
        code_hash: hex::encode(Sha256::digest(input.code.as_bytes())),
    }
}

/// The booking number a signed booking code carries, if `code` is one that verifies.
pub fn booking_number_of(code: &str, keys: &KeyRing) -> Option<String> {
    if !code.starts_with(seal::PREFIX) {
        return None;
    }
    let body = seal::verify(code, |id| keys.lookup(id)).ok()?;
    (body.kind == seal::BOOKING_KIND && booking_key_covers(keys, &body)).then_some(body.number)
}

/// Whether a booking code's key is still on the ring and its end covers the booking's day.
fn booking_key_covers(keys: &KeyRing, body: &seal::SealBody) -> bool {
    keys.get(&seal::key_id_hex(body.key_id))
        .is_some_and(|k| seal::days_to_date(body.valid_until).is_some_and(|until| k.covers(until)))
}

/// The booking a freight-lane scan is about: the booking whose number was scanned, or the
/// active booking travelling on the scanned pass. Its row and the pass number to check, if any.
fn freight_booking(c: &mut DbConnection, named: &str) -> Result<(Option<BookingRow>, Option<String>)> {
    let by_number: Option<BookingRow> = bookings::table
        .filter(bookings::number.eq(named))
        .select(BookingRow::as_select())
        .first(c)
        .optional()?;
    if let Some(b) = by_number {
        let pass = b.trade_pass.clone();
        return Ok((Some(b), pass));
    }
    let by_pass: Option<BookingRow> = bookings::table
        .filter(bookings::trade_pass.eq(named))
        .filter(super::bookings::active())
        .select(BookingRow::as_select())
        .first(c)
        .optional()?;
    Ok((by_pass, Some(named.to_string())))
}

/// An admitted vehicle's booking is cleared, and the lane's queue calls its next vehicle.
fn clear_booking(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    freight: &FreightPolicy,
    actor: &Actor,
    b: &BookingRow,
    crossing: &str,
) -> Result<()> {
    let n = diesel::update(
        bookings::table
            .find(&b.id)
            .filter(bookings::status.eq(BookingStatus::Called)),
    )
    .set((
        bookings::status.eq(BookingStatus::Cleared),
        bookings::cleared_at.eq(Some(ts(now))),
        bookings::crossing_id.eq(Some(crossing)),
        bookings::updated_at.eq(ts(now)),
    ))
    .execute(c)?;
    if n != 1 {
        return Ok(());
    }
    let after = BookingRow {
        status: BookingStatus::Cleared,
        cleared_at: Some(ts(now)),
        crossing_id: Some(crossing.to_string()),
        updated_at: ts(now),
        ..b.clone()
    };
    super::bookings::write_audit(c, now, Some(&actor.id), "booking.clear", Some(b), &after)?;
    super::yard::call_in_tx(c, now, freight, &actor.id, (&b.port, b.direction, b.lane_type), None)?;
    Ok(())
}

/// What a scan is decided by besides the database: the signing keys and the freight rules.
#[derive(Clone, Copy)]
pub(crate) struct Rules<'a> {
    pub keys: &'a KeyRing,
    pub freight: &'a FreightPolicy,
}

/// The rows a batch of scans writes, inserted together (one statement per table) when the batch
/// is grouped, or at once when each scan has its own transaction.
pub(crate) struct Pending {
    grouped: bool,
    /// The batch's trust version, stamped on every permit it changes.
    version: i64,
    crossings: Vec<CrossingRow>,
    audit: Vec<crate::db::models::AuditRow>,
    /// Permits used up by this batch's trips, waiting to be written (PostgreSQL, grouped).
    used_up: Vec<(String, i32)>,
}

impl Pending {
    /// `grouped`: rows wait for `flush`; otherwise each is written at once.
    pub fn new(grouped: bool, version: i64) -> Pending {
        Pending {
            grouped,
            version,
            crossings: Vec::new(),
            audit: Vec::new(),
            used_up: Vec::new(),
        }
    }

    /// Records an admitted crossing that moves the permit, `row` taking the step after the
    /// effect on the permit's trips (`entries_used` before it).
    /// Grouped, the row waits for `flush` like any other: the scan index is exact under the
    /// batch's trust version, so its step is free; should it not be, the unique index fails the
    /// whole batch and its scans are recorded one by one. Alone, the row goes in at once unless
    /// its step is taken (false: a concurrent decider moved the permit; the caller decides again
    /// on the new state).
    fn trip(&mut self, c: &mut DbConnection, mut row: CrossingRow, entries_used: i32, effect: Effect) -> Result<bool> {
        let (used, _, status) = effect.after(entries_used);
        row.step = Some(effect.step(entries_used));
        // Kept only for the last allowed trip, which also writes the permit's row.
        let used_up_number = (status == PermitStatus::Used).then(|| row.permit_number.clone().unwrap_or_default());
        if self.grouped {
            self.crossings.push(row);
        } else if crate::native!(c, c => diesel::insert_into(crossings::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(c))?
            == 0
        {
            return Ok(false);
        }
        if let Some(number) = used_up_number {
            if self.grouped && matches!(c, DbConnection::Postgresql(_)) {
                self.used_up.push((number, used));
            } else if used_up(c, &number, used, self.version)? == 0 {
                return Err(Error::Internal(format!(
                    "permit {number} was not issued as the scan index held it"
                )));
            }
        }
        Ok(true)
    }

    fn crossing(&mut self, c: &mut DbConnection, row: CrossingRow) -> Result<()> {
        self.crossings.push(row);
        if self.grouped { Ok(()) } else { self.flush(c) }
    }

    fn audit(&mut self, c: &mut DbConnection, entry: audit::Entry<'_>) -> Result<()> {
        self.audit.push(entry.into_row());
        if self.grouped { Ok(()) } else { self.flush(c) }
    }

    /// Writes what is waiting. Crossings go first: a cleared booking refers to its crossing.
    pub fn flush(&mut self, c: &mut DbConnection) -> Result<()> {
        use crate::db::schema::audit_log;
        if !self.used_up.is_empty() {
            self.flush_used_up(c)?;
        }
        match c {
            // Row by row on SQLite, where a statement costs no round trip and a one-row insert
            // stays prepared (a multi-row one of each new length is compiled again).
            DbConnection::Sqlite(c) => {
                for row in &self.crossings {
                    diesel::insert_into(crossings::table).values(row).execute(c)?;
                }
                for row in &self.audit {
                    diesel::insert_into(audit_log::table).values(row).execute(c)?;
                }
            }
            // One statement per table on PostgreSQL, the same text for every batch.
            DbConnection::Postgresql(c) => {
                if !self.crossings.is_empty() {
                    CrossingsInsert::new(&self.crossings).execute(c)?;
                }
                if !self.audit.is_empty() {
                    AuditInsert::new(&self.audit).execute(c)?;
                }
            }
        }
        self.crossings.clear();
        self.audit.clear();
        Ok(())
    }

    /// One UPDATE … FROM unnest(arrays) for the permits the batch used up (PostgreSQL only, see
    /// `trip`): one statement text whatever the batch's size, planned once per connection.
    fn flush_used_up(&mut self, c: &mut DbConnection) -> Result<()> {
        let DbConnection::Postgresql(pg) = c else {
            return Err(Error::Internal("deferred trips on SQLite".into()));
        };
        let update = TripsUpdate {
            numbers: self.used_up.iter().map(|(n, _)| n.as_str()).collect(),
            used: self.used_up.iter().map(|&(_, u)| u).collect(),
            version: self.version,
        };
        let n = update.execute(pg)?;
        if n != self.used_up.len() {
            return Err(Error::Internal(format!(
                "{} of {} permits were not issued as the scan index held them",
                self.used_up.len() - n,
                self.used_up.len()
            )));
        }
        self.used_up.clear();
        Ok(())
    }
}

/// Decides and records one scan inside the caller's transaction (see `scan_writer`), reading
/// the permit from the scan index. A rejection is an answer, not an error: only a request that is
/// itself malformed (lane, direction) is refused, before it gets here.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    rules: Rules<'_>,
    input: &ScanInput,
    code: &ReadCode,
    index: &mut ScanIndex,
    pending: &mut Pending,
) -> Result<ScanOut> {
    let Rules { keys, freight } = rules;
    let mut named = code.named.clone();
    let code_hash = &code.code_hash;
    // A freight lane that requires bookings checks the booking before the permit, so a
    // mismatch changes nothing on the permit. The pass it reads is the one decided on below.
    let mut booking: Option<BookingRow> = None;
    let mut decided: Option<Verdict> = None;
    if let (Some((_, lane)), Ok(number), true) = (freight.lane(&input.lane), &named, freight.require_booking) {
        let (found, pass) = freight_booking(c, number)?;
        let plates = match &pass {
            Some(p) => index.get(c, p)?.as_ref().map(ScanFacts::plates).unwrap_or_default(),
            None => Vec::new(),
        };
        let facts = found.as_ref().map(|b| freight::BookingFacts {
            status: b.status,
            plate: &b.plate,
            direction: b.direction,
            lane_type: b.lane_type,
        });
        decided = match (freight::booking_mismatch(facts, lane, &plates), &pass) {
            (Some(words), _) => Some(verdict::booking_mismatch(words.zh, words.en)),
            // A driver crossing on a foreign document: the booking is what this service checks.
            (None, None) => Some(verdict::admit()),
            (None, Some(p)) => {
                named = Ok(p.clone());
                None
            }
        };
        booking = found;
    }
    let crossing_id = new_id();
    let crossing = |v: &Verdict, permit: Option<&str>| CrossingRow {
        id: crossing_id.clone(),
        client_id: None,
        permit_number: permit.map(str::to_string),
        code_hash: code_hash.to_string(),
        lane: input.lane.clone(),
        direction: input.direction,
        device: actor.id.clone(),
        at: ts(now),
        verdict: if v.admit { "admit" } else { "reject" }.into(),
        reason: v.reason,
        cleared_at: None,
        step: None,
    };
    // Set once the trip's crossing is recorded (by `Pending::trip`).
    let mut recorded = false;
    let mut record: Option<(String, ScanFacts)> = None;
    let verdict: Verdict = match (decided, &named) {
        (Some(v), _) => v,
        (None, Err(reason)) => verdict::reject(*reason),
        (None, Ok(number)) => match index.get(c, number)? {
            None => verdict::reject(Reason::UnknownPermit),
            // A permit whose signing key was removed (compromised) fails by number too.
            Some(first) if keys.get(&first.key_id).is_none() => {
                record = Some((number.clone(), first));
                verdict::reject(Reason::UnknownKey)
            }
            Some(first) => {
                let mut r = first;
                // The index is exact, so the trip's step is free the first time; should it not
                // be, the permit is read again from the database and decided again, and a
                // permit that keeps moving is answered as such, never with another reason.
                let mut v = verdict::reject(Reason::Contended);
                for _ in 0..CONTENDED_AFTER {
                    let (decided, effect) = verdict::crossing(&r.verdict_facts(now), input.direction, now);
                    match effect {
                        None => {
                            v = decided;
                            break;
                        }
                        Some(effect)
                            if pending.trip(c, crossing(&decided, Some(number)), r.entries_used, effect)? =>
                        {
                            recorded = true;
                            v = decided;
                            let (used, direction, status) = effect.after(r.entries_used);
                            (r.entries_used, r.last_direction, r.stored) = (used, Some(direction), status);
                            r.version = pending.version;
                            index.moved(number, &r);
                            break;
                        }
                        Some(_) => match index.reload(c, number)? {
                            Some(again) => r = again,
                            None => return Err(DomainError::NotFound { what: "permit" }.into()),
                        },
                    }
                }
                record = Some((number.clone(), r));
                v
            }
        },
    };
    let word = if verdict.admit { "admit" } else { "reject" };
    if !recorded {
        pending.crossing(c, crossing(&verdict, record.as_ref().map(|(n, _)| n.as_str())))?;
    }
    if verdict.admit
        && let Some(b) = &booking
    {
        pending.flush(c)?;
        clear_booking(c, now, freight, actor, b, &crossing_id)?;
    }
    if verdict.admit
        && let Some((number, _)) = &record
    {
        let mut after = serde_json::json!({"permit": number, "direction": input.direction, "lane": input.lane});
        if let Some(w) = verdict.warning {
            after["warning"] = w.as_str().into();
        }
        // Entered under the crossing it created (its time-ordered id), not the permit: the entry
        // then lands at the end of the audit log's entity index rather than on a random page of
        // it, one page less to write per scan. `audit::for_entity` finds it for the permit.
        pending.audit(
            c,
            audit::entry(now, Some(&actor.id), "permit.cross", "crossing", &crossing_id).after(&after),
        )?;
    }
    Ok(ScanOut {
        verdict: word,
        reason: verdict.reason,
        warning: verdict.warning,
        message: format!("{} / {}", verdict.message_zh, verdict.message_en),
        message_zh: verdict.message_zh,
        message_en: verdict.message_en,
        permit: record.as_ref().map(|(number, r)| ScannedPermit {
            number: number.clone(),
            kind: r.kind,
            valid_until: local(utc(r.valid_until)).fixed_offset(),
            entries_allowed: r.entries_allowed,
            entries_used: r.entries_used,
        }),
        holder: record.as_ref().map(|(number, r)| Holder {
            name_zh: r.name_zh.as_deref().map(str::to_string),
            name_latin: r.name_latin.to_string(),
            nationality: r.nationality.to_string(),
            photo: r.portrait.then(|| format!("/api/v1/permits/{number}/photo")),
        }),
        vehicle: record
            .as_ref()
            .map(|(_, r)| r.plates())
            .filter(|p| !p.is_empty())
            .or_else(|| booking.as_ref().map(|b| vec![b.plate.clone()]))
            .map(|plates| Vehicle { plates }),
        booking: booking.as_ref().map(|b| ScannedBooking {
            number: b.number.clone(),
            plate: b.plate.clone(),
            slot_label: freight::slot_label(utc(b.starts_at)),
            lane_type: b.lane_type,
            status: if verdict.admit {
                BookingStatus::Cleared
            } else {
                b.status
            },
        }),
        crossing_id,
        scanned_at: local(now).fixed_offset(),
    })
}

/// How far back the scan page's list of a lane's last scans looks: a day, longer than a shift.
const RECENT_WINDOW_HOURS: i64 = 24;

/// The last scans at a lane, newest recorded first, for the scan page: those of the day up to the
/// newest crossing anywhere. Read by walking the crossings' id index (ids are minted in time
/// order) back from the newest, keeping the lane's: a (lane, at) index would answer it directly,
/// but every batch of scans wrote a page of it for each lane in the batch
/// (migrations/*/2026-12-13-000001_scan_write_indexes). The window is counted from the newest
/// id rather than the clock, whose time ids do not carry, and bounds the walk for a lane that has
/// been idle while others scanned.
pub fn recent(conn: &mut DbConnection, lane: &str, limit: i64) -> Result<Vec<CrossingRow>> {
    let newest: Option<String> = crossings::table
        .select(crossings::id)
        .order(crossings::id.desc())
        .first(conn)
        .optional()?;
    let Some(newest) = newest else {
        return Ok(Vec::new());
    };
    // An id not minted by `new_id` (none is, but a row written by hand) leaves the walk unbounded.
    let floor = crate::db::id_time(&newest)
        .map(|t| crate::db::id_floor(t - chrono::Duration::hours(RECENT_WINDOW_HOURS)))
        .unwrap_or_default();
    Ok(crossings::table
        .filter(crossings::id.ge(floor))
        .filter(crossings::lane.eq(lane))
        .order(crossings::id.desc())
        .limit(limit)
        .select(CrossingRow::as_select())
        .load(conn)?)
}

/// The officer marks the vehicle of a scan cleared: the check's time ends here rather than at
/// the lane's next scan.
pub fn clear(conn: &mut DbConnection, now: DateTime<Utc>, actor: &Actor, crossing_id: &str) -> Result<()> {
    authorize(actor, Action::Scan)?;
    if !plausible_key(crossing_id) {
        return Err(DomainError::NotFound { what: "crossing" }.into());
    }
    write_tx(conn, |c| {
        let n = diesel::update(
            crossings::table
                .find(crossing_id)
                .filter(crossings::cleared_at.is_null())
                .filter(crossings::device.eq(&actor.id)),
        )
        .set(crossings::cleared_at.eq(Some(ts(now))))
        .execute(c)?;
        if n == 0 {
            return Err(DomainError::NotFound {
                what: "uncleared crossing of this device",
            }
            .into());
        }
        audit::entry(now, Some(&actor.id), "crossing.clear", "crossing", crossing_id)
            .after(&serde_json::json!({"cleared_at": local(now).fixed_offset()}))
            .write(c)?;
        Ok(())
    })
}

/// A check that runs longer than this without a "cleared" mark means the lane stood idle; it is
/// left out of the mean rather than counted as one slow vehicle.
pub const IDLE_GAP_SECONDS: i64 = 300;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LaneStat {
    pub lane: String,
    /// Checks with a measured time in the window.
    pub checks: u32,
    /// Mean seconds from a scan to the vehicle cleared (or the lane's next scan).
    pub mean_seconds: f64,
}

/// Mean check time per lane over the last `window_minutes`; slot capacity is computed from it.
pub fn lane_stats(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    window_minutes: i64,
) -> Result<Vec<LaneStat>> {
    authorize(actor, Action::Scan).or_else(|_| authorize(actor, Action::Supervise))?;
    measure(
        conn,
        now - chrono::Duration::minutes(window_minutes.clamp(1, 7 * 24 * 60)),
    )
}

/// Mean check time per lane since `since`, for anyone's use (slot capacity is computed from it).
pub fn measure(conn: &mut DbConnection, since: DateTime<Utc>) -> Result<Vec<LaneStat>> {
    // Read inside bookings' transactions (a new slot's capacity, every availability view), where
    // a filter on `at` alone read every crossing ever recorded (the (lane, at) index serves one
    // lane at a time). A crossing's id is minted as its row is written, never before its `at`
    // but for an offline device whose clock runs ahead: a day's margin keeps those. Sorted here,
    // not by the query: ordered by lane, SQLite chose to walk the (lane, at) index whole again.
    let mut rows: Vec<(String, chrono::NaiveDateTime, Option<chrono::NaiveDateTime>)> = crossings::table
        .filter(crossings::id.ge(crate::db::id_floor(since - chrono::Duration::days(1))))
        .filter(crossings::at.ge(ts(since)))
        .select((crossings::lane, crossings::at, crossings::cleared_at))
        .load(conn)?;
    rows.sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut out: Vec<LaneStat> = Vec::new();
    let mut sums: Vec<i64> = Vec::new();
    for (i, (lane, at, cleared)) in rows.iter().enumerate() {
        let next = rows.get(i + 1).filter(|(l, _, _)| l == lane).map(|(_, t, _)| *t);
        let end = cleared.or(next);
        let Some(end) = end else { continue };
        let micros = (end - *at).num_microseconds().unwrap_or(i64::MAX);
        if micros < 0 || (cleared.is_none() && micros > IDLE_GAP_SECONDS * 1_000_000) {
            continue;
        }
        match out.last_mut() {
            Some(s) if s.lane == *lane => {
                s.checks += 1;
                if let Some(sum) = sums.last_mut() {
                    *sum += micros;
                }
            }
            _ => {
                out.push(LaneStat {
                    lane: lane.clone(),
                    checks: 1,
                    mean_seconds: 0.0,
                });
                sums.push(micros);
            }
        }
    }
    for (s, sum) in out.iter_mut().zip(sums) {
        s.mean_seconds = sum as f64 / 1_000_000.0 / f64::from(s.checks.max(1));
    }
    Ok(out)
}

/// How far ahead of the hall's clock a handheld's may run: drift between two synchronisations.
const OFFLINE_CLOCK_AHEAD: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// A crossing decided offline by a handheld, uploaded when the link is back.
#[derive(Debug, Clone, serde::Deserialize, Serialize, utoipa::ToSchema)]
pub struct OfflineCrossing {
    /// Unique per crossing on the device: a batch sent twice is recorded once.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub client_id: String,
    pub code: String,
    /// The lane: 1–32 letters, digits, '-' or '_' (surrounding spaces are trimmed).
    #[schema(pattern = "^[ \\t\\r\\n]*[A-Za-z0-9_-]+[ \\t\\r\\n]*$", max_length = 32)]
    pub lane: String,
    #[schema(pattern = "^(exit|entry)$")]
    pub direction: String,
    /// When the device decided (RFC 3339). More than 5 minutes after the hall's clock, the
    /// crossing is recorded at the hall's time and counted in `redated`.
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    /// admit or reject, as the device decided.
    #[schema(pattern = "^(admit|reject)$")]
    pub verdict: String,
    pub reason: Reason,
    /// The device's warning on an admit (`overstay`); the hall also works it out itself.
    #[serde(default)]
    pub warning: Option<Warning>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UploadOut {
    pub recorded: usize,
    /// Already recorded from an earlier upload.
    pub already: usize,
    /// Of those recorded, dated more than 5 minutes after the hall's clock by the device and
    /// recorded at the hall's time instead: the device's clock needs setting.
    pub redated: usize,
}

/// Records offline crossings. What the device decided stands (the vehicle has crossed); an
/// admitted trip is also counted on the permit where its state allows, so a single-entry pass
/// used offline is used online too.
pub fn upload(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    keys: &KeyRing,
    items: &[OfflineCrossing],
) -> Result<UploadOut> {
    authorize(actor, Action::Scan)?;
    let mut errs = FieldErrors::new();
    if items.len() > 1000 {
        errs.add(
            "crossings",
            "max_items",
            "每批最多1000条 / at most 1000 crossings per upload",
        );
    }
    let directions: Vec<Option<Direction>> = items.iter().map(|x| Direction::parse(&x.direction)).collect();
    for (i, x) in items.iter().enumerate() {
        if !plausible_key(&x.client_id) {
            errs.add(
                format!("crossings[{i}].client_id"),
                "format",
                "1–64 letters, digits, '-' or '_'",
            );
        }
        if !plausible_key(x.lane.trim()) || x.lane.len() > 32 {
            errs.add(
                format!("crossings[{i}].lane"),
                "format",
                "1–32 letters, digits, '-' or '_'",
            );
        }
        if directions[i].is_none() {
            errs.add(format!("crossings[{i}].direction"), "one_of", "exit or entry");
        }
        if x.verdict != "admit" && x.verdict != "reject" {
            errs.add(format!("crossings[{i}].verdict"), "one_of", "admit or reject");
        }
    }
    if !errs.is_empty() {
        return Err(errs.into());
    }
    // Every direction parsed (else the upload was refused above), so these stay in step with items.
    let directions: Vec<Direction> = directions.into_iter().flatten().collect();
    write_tx(conn, |c| {
        let version = super::trust::next_version(c)?;
        let mut out = UploadOut {
            recorded: 0,
            already: 0,
            redated: 0,
        };
        for (x, &direction) in items.iter().zip(&directions) {
            let seen: i64 = crossings::table
                .filter(crossings::client_id.eq(&x.client_id))
                .count()
                .get_result(c)?;
            if seen > 0 {
                out.already += 1;
                continue;
            }
            // A crossing cannot have happened after its upload. A device whose clock ran ahead
            // would date the trip in the future, and the permit's next scans would be judged
            // against it. Refusing would strand the crossing: the device cannot re-date what it
            // queued. So it is recorded at the hall's time, and the device's time kept with it.
            let claimed = x.at.trunc_subsecs(6);
            let ahead = claimed > now + OFFLINE_CLOCK_AHEAD;
            let at = if ahead { now.trunc_subsecs(6) } else { claimed };
            // A number that names no permit is recorded as such; a database failure is not
            // mistaken for one: it fails the upload, which the device sends again.
            let record = match read_code(x.code.trim(), keys) {
                Ok(number) => match get_permit(c, &number) {
                    Ok(r) => Some(r),
                    Err(Error::Domain(DomainError::NotFound { .. })) => None,
                    Err(e) => return Err(e),
                },
                Err(_) => None,
            };
            let saved = c.transaction(|c| {
                let mut moved = None;
                let mut step = None;
                let mut warning = if x.verdict == "admit" { x.warning } else { None };
                if x.verdict == "admit"
                    && let Some(r) = &record
                    && let (decided, Some(effect)) = verdict::crossing(&facts(r, at), direction, at)
                    && let Some(s) = count_trip(c, &r.permit.number, r.permit.entries_used, effect, version)?
                {
                    moved = Some(r.permit.number.as_str());
                    step = Some(s);
                    warning = warning.or(decided.warning);
                }
                let row = CrossingRow {
                    id: new_id(),
                    client_id: Some(x.client_id.clone()),
                    permit_number: record.as_ref().map(|r| r.permit.number.clone()),
                    code_hash: hex::encode(Sha256::digest(x.code.trim().as_bytes())),
                    lane: x.lane.trim().to_string(),
                    direction,
                    device: actor.id.clone(),
                    at: ts(at),
                    verdict: x.verdict.clone(),
                    reason: x.reason,
                    cleared_at: None,
                    step,
                };
                diesel::insert_into(crossings::table).values(&row).execute(c)?;
                // An overstay the device admitted is put on record even where the trip could not
                // be counted on the permit (its exit was never recorded), so it is followed up.
                let noted = moved
                    .map(|n| (Some(n), "permit.cross"))
                    .or_else(|| {
                        warning
                            .and(record.as_ref())
                            .map(|r| (Some(r.permit.number.as_str()), "permit.overstay"))
                    })
                    .or_else(|| ahead.then(|| (record.as_ref().map(|r| r.permit.number.as_str()), "crossing.redated")));
                if let Some((number, action)) = noted {
                    let mut after = serde_json::json!({"permit": number, "direction": row.direction, "lane": row.lane, "offline": true});
                    if let Some(w) = warning {
                        after["warning"] = w.as_str().into();
                    }
                    if ahead {
                        after["device_at"] = local(claimed).fixed_offset().to_rfc3339().into();
                    }
                    // Under the crossing, as a scan's entry is (see `record`).
                    audit::entry(at, Some(&actor.id), action, "crossing", &row.id).after(&after).write(c)?;
                }
                Ok::<_, Error>(())
            });
            match saved {
                Ok(()) => {
                    out.recorded += 1;
                    out.redated += usize::from(ahead);
                }
                // The same batch arriving twice at once: the other upload recorded it.
                Err(e) if e.is_unique_violation() => out.already += 1,
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    })
}

impl super::Ctx {
    /// One online scan, as the API and the scan page both take it: the request is checked, the
    /// actor authorised, the code read on the caller's thread, and the verdict decided and
    /// recorded by the scan writer; answered once the record is durable.
    pub async fn scan(
        &self,
        actor: Actor,
        code: Option<&str>,
        lane: Option<&str>,
        direction: Option<&str>,
    ) -> Result<ScanOut> {
        self.submit_scan(actor, None, (code, lane, direction))
            .await?
            .ok_or_else(|| Error::Internal("a scan without a token was refused its token".into()))
    }

    /// The same for a device's API token, without a query per scan: the token's account is taken
    /// from the auth cache (or the database the first time) and checked again inside the
    /// batch's transaction. None: the token names no active account.
    pub async fn scan_with_token(
        &self,
        token: String,
        code: Option<&str>,
        lane: Option<&str>,
        direction: Option<&str>,
    ) -> Result<Option<ScanOut>> {
        let hash = super::accounts::secret_hash(&token);
        // A guess from the auth cache whatever its epoch: the batch checks the token anyway, so
        // the scan spends no read of the epoch.
        let actor = match self.auth.guess::<Actor>(&hash, self.clock.now()) {
            Some(actor) => actor,
            None => match self.token_actor(token).await? {
                Some(actor) => actor,
                None => return Ok(None),
            },
        };
        self.submit_scan(actor, Some(hash), (code, lane, direction)).await
    }

    /// Checks the request, authorises, reads the code on the caller's thread and has the scan
    /// writer decide and record it (`token`: the hash it checks again in the batch).
    async fn submit_scan(
        &self,
        actor: Actor,
        token: Option<String>,
        (code, lane, direction): (Option<&str>, Option<&str>, Option<&str>),
    ) -> Result<Option<ScanOut>> {
        let input = validate(code, lane, direction)?;
        authorize(&actor, Action::Scan)?;
        let now = self.clock.now();
        let mut code = read(&input, &self.keys.cached());
        if code.named == Err(Reason::UnknownKey) {
            // Perhaps a key another instance made since this one last read the ring.
            let ring = self.tx(|c, ctx, _| ctx.keys.ring(c)).await?;
            code = read(&input, &ring);
        }
        self.scans.submit(now, actor, token, input, code).await
    }

    /// The vehicle of a scan is cleared: the check's time ends now.
    pub async fn clear_crossing(&self, actor: Actor, crossing_id: String) -> Result<()> {
        self.tx(move |c, _, now| clear(c, now, &actor, &crossing_id)).await
    }

    /// Mean check time per lane over the last `window_minutes` (default 60).
    pub async fn lane_stats(&self, actor: Actor, window_minutes: Option<i64>) -> Result<Vec<LaneStat>> {
        self.tx(move |c, _, now| lane_stats(c, now, &actor, window_minutes.unwrap_or(60)))
            .await
    }

    /// The lane's last ten scans, for the scan page (nothing for a lane name that cannot be one).
    pub async fn recent_scans(&self, actor: Actor, lane: String) -> Result<Vec<CrossingRow>> {
        authorize(&actor, Action::Scan)?;
        if !plausible_key(&lane) {
            return Ok(Vec::new());
        }
        self.tx(move |c, _, _| recent(c, &lane, 10)).await
    }

    /// Records crossings decided offline, each once.
    pub async fn upload_crossings(&self, actor: Actor, items: Vec<OfflineCrossing>) -> Result<UploadOut> {
        self.tx(move |c, ctx, now| {
            let ring = ctx.keys.ring(c)?;
            upload(c, now, &actor, &ring, &items)
        })
        .await
    }
}
