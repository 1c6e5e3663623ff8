//! Blank permit cards as controlled stock: batches received, each print of a permit on the next
//! blank (in the printing transaction), reprints that void the card they replace, unused blanks
//! voided with a supervisor's approval, the day's reconciliation and the drawer's count.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::db::models::{BlankBatchRow, BlankCountRow, BlankRow, PermitPrintRow};
use crate::db::schema::{blank_batches, blank_counts, blanks, permit_prints};
use crate::db::{DbConnection, audit, new_id, ts, utc, write_tx};
use crate::domain::auth::{Action, Actor, authorize, authorize_role, on};
use crate::domain::permit::PermitStatus;
use crate::domain::stock::{self, BlankStatus, Figures, VoidReason, serial_text};
use crate::domain::validation::FieldErrors;
use crate::domain::{DomainError, OFFICE_TZ, local};
use crate::error::{Error, Result};

/// Rows per insert when a batch's blanks are stored (five binds each, well under SQLite's limit).
const ROWS_PER_INSERT: usize = 500;
/// Tries at taking the next blank when another window took it first (PostgreSQL: both read the
/// same lowest serial; the second's conditional update finds it used and reads again).
const TAKE_TRIES: usize = 32;
/// Recent batches a stock page lists.
const BATCHES_LISTED: i64 = 20;

/// A batch of blanks received (JSON and the page's form).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct BatchIn {
    /// The first serial printed on the cards of the batch.
    #[schema(minimum = 1, maximum = 999_999_999_999_i64)]
    pub first_serial: i64,
    /// The last serial (inclusive); at most 5000 blanks in one batch.
    #[schema(minimum = 1, maximum = 999_999_999_999_i64)]
    pub last_serial: i64,
    /// Who handed the batch over (the supplier or the issuing authority).
    #[schema(max_length = 100)]
    pub received_from: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchOut {
    pub id: String,
    pub office: String,
    pub first_serial: i64,
    pub last_serial: i64,
    pub count: i64,
    pub received_from: String,
    pub received_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: DateTime<Utc>,
}

/// Why an unused blank is set aside.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct VoidIn {
    /// `spoiled`, `misprinted`, `damaged` or `lost_at_desk`.
    #[schema(pattern = "^[ \\t\\r\\n]*(spoiled|misprinted|damaged|lost_at_desk)[ \\t\\r\\n]*$")]
    pub reason: String,
    #[schema(max_length = 200)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BlankOut {
    pub serial: i64,
    pub office: String,
    pub status: BlankStatus,
    pub void_reason: Option<VoidReason>,
    pub void_note: Option<String>,
}

/// A print of a permit: the first, or a reprint that replaces the card printed before.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct PrintIn {
    /// For a reprint: why the card printed before is replaced (`misprinted`, `damaged` or
    /// `lost_at_desk`); its blank is voided with this reason. Absent for the first print.
    #[schema(pattern = "^[ \\t\\r\\n]*(misprinted|damaged|lost_at_desk)[ \\t\\r\\n]*$")]
    pub reprint_reason: Option<String>,
    #[schema(max_length = 200)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PrintOut {
    pub id: String,
    pub permit_number: String,
    /// The blank to load in the printer (its serial as on the card).
    pub blank_serial: i64,
    pub blank: String,
    pub printed_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub printed_at: DateTime<Utc>,
    /// The print this one replaces, and why; its blank is void.
    pub replaces: Option<String>,
    pub replace_reason: Option<VoidReason>,
    pub replace_note: Option<String>,
    /// Whether a later reprint replaced this card.
    pub replaced: bool,
    /// The seal this print bears and who holds it (the answer to a print; the register keeps
    /// every use). Absent when the office has entered no seal for permit cards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seal: Option<super::seals::SealUsed>,
}

/// The drawer counted by an officer, beside what the records say.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CountIn {
    /// Blanks counted in the office's drawer now.
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub counted: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ExplainIn {
    #[schema(max_length = 500)]
    pub explanation: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CountOut {
    pub day: NaiveDate,
    pub counted: i64,
    /// Unused blanks by the records when the count was made.
    pub expected: i64,
    /// counted − expected: not zero is flagged to the supervisors until explained.
    pub difference: i64,
    pub counted_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub counted_at: DateTime<Utc>,
    pub explanation: Option<String>,
    pub explained_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub explained_at: Option<DateTime<Utc>>,
    /// A difference not yet explained.
    pub open: bool,
}

/// One office's blanks over one day, with the serials behind each figure (as runs).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReconciliationOut {
    pub office: String,
    pub day: NaiveDate,
    pub figures: Figures,
    /// opening + received − used − voided − closing: zero when the records balance.
    pub difference: i64,
    pub opening_serials: String,
    pub received_serials: String,
    pub used_serials: String,
    pub voided_serials: String,
    pub closing_serials: String,
    /// Cards printed (on an earlier day or this one) and voided this day by a reprint: they left
    /// the drawer when printed, so they are not in `voided`.
    pub replaced_serials: String,
    /// The drawer's count that day, if one was made.
    pub count: Option<CountOut>,
}

/// What the stock page shows: the day, the office's unused blanks now, recent batches and the
/// counts whose difference is still open.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StockOut {
    /// Today in the office's time zone (a count is made for today only).
    pub today: NaiveDate,
    pub reconciliation: ReconciliationOut,
    pub unused_now: i64,
    /// The blank the next print takes.
    pub next_blank: Option<String>,
    pub batches: Vec<BatchOut>,
    pub open_differences: Vec<CountOut>,
}

fn conflict(message: impl Into<String>, state: &str) -> Error {
    DomainError::Conflict {
        message: message.into(),
        current_state: state.into(),
    }
    .into()
}

fn batch_out(b: BlankBatchRow, names: &std::collections::HashMap<String, String>) -> BatchOut {
    BatchOut {
        count: b.last_serial - b.first_serial + 1,
        received_by: names.get(&b.received_by).cloned().unwrap_or(b.received_by),
        id: b.id,
        office: b.office,
        first_serial: b.first_serial,
        last_serial: b.last_serial,
        received_from: b.received_from,
        received_at: utc(b.received_at),
    }
}

fn optional_note(errs: &mut FieldErrors, note: Option<&str>) -> Option<String> {
    crate::domain::validation::optional_text(errs, "note", note, 200)
}

fn reason(errs: &mut FieldErrors, field: &str, text: &str) -> Option<VoidReason> {
    let r = VoidReason::parse(text.trim());
    if r.is_none() {
        errs.add(
            field,
            "unknown",
            "请选择原因：卡纸、打印错误、损坏或遗失 / choose a reason: spoiled, misprinted, damaged or lost at the desk",
        );
    }
    r
}

/// Receives a batch of blanks for the actor's office.
pub fn receive(c: &mut DbConnection, now: DateTime<Utc>, actor: &Actor, input: &BatchIn) -> Result<BatchOut> {
    authorize(actor, Action::ManageStock { office: &actor.office })?;
    let mut errs = FieldErrors::new();
    stock::check_range(&mut errs, input.first_serial, input.last_serial);
    let from = crate::domain::validation::required_text(&mut errs, "received_from", &input.received_from, 100);
    let Some(from) = from.filter(|_| errs.is_empty()) else {
        return Err(errs.into());
    };
    let overlap = |at: i64| -> Error {
        let mut errs = FieldErrors::new();
        errs.add(
            "first_serial",
            "overlap",
            format!(
                "证卡{0}已入库，不能重复登记 / blank {0} was received before: a serial is received once",
                serial_text(at)
            ),
        );
        errs.into()
    };
    let row = BlankBatchRow {
        id: new_id(),
        office: actor.office.clone(),
        first_serial: input.first_serial,
        last_serial: input.last_serial,
        received_from: from,
        received_by: actor.id.clone(),
        received_at: ts(now),
    };
    write_tx(c, |c| {
        let known: Option<i64> = blanks::table
            .filter(blanks::serial.between(input.first_serial, input.last_serial))
            .select(blanks::serial)
            .order(blanks::serial)
            .first(c)
            .optional()?;
        if let Some(at) = known {
            return Err(overlap(at));
        }
        diesel::insert_into(blank_batches::table).values(&row).execute(c)?;
        let serials: Vec<i64> = (input.first_serial..=input.last_serial).collect();
        for chunk in serials.chunks(ROWS_PER_INSERT) {
            let rows: Vec<BlankRow> = chunk
                .iter()
                .map(|&serial| BlankRow {
                    serial,
                    office: row.office.clone(),
                    batch_id: row.id.clone(),
                    received_at: row.received_at,
                    status: BlankStatus::Unused,
                    used_at: None,
                    voided_at: None,
                    void_reason: None,
                    void_note: None,
                    voided_by: None,
                })
                .collect();
            // Multi-row inserts do not go through the multi-connection enum: row by row on
            // SQLite (no round trips), a chunk per statement on PostgreSQL.
            let stored = match c {
                DbConnection::Sqlite(c) => rows
                    .iter()
                    .try_for_each(|r| diesel::insert_into(blanks::table).values(r).execute(c).map(drop)),
                DbConnection::Postgresql(c) => diesel::insert_into(blanks::table).values(rows).execute(c).map(drop),
            };
            // A batch received at the same moment elsewhere: the primary key decides.
            stored.map_err(|e| Error::from(e).unique_as(|| overlap(chunk[0])))?;
        }
        audit::entry(now, Some(&actor.id), "blank_batch.receive", "blank_batch", &row.id)
            .after(&serde_json::json!({
                "office": row.office,
                "first_serial": row.first_serial,
                "last_serial": row.last_serial,
                "received_from": row.received_from,
            }))
            .write(c)
    })?;
    let names = super::accounts::display_names(c, &[&actor.id])?;
    Ok(batch_out(row, &names))
}

/// Sets an unused blank aside (spoiled in the printer, say): the supervisor's act.
pub fn void_blank(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    serial: i64,
    input: &VoidIn,
) -> Result<BlankOut> {
    authorize_role(actor, Action::ManageStock { office: &actor.office })?;
    write_tx(c, |c| {
        let blank: BlankRow = blanks::table
            .find(serial)
            .select(BlankRow::as_select())
            .first(c)
            .optional()?
            .ok_or(DomainError::NotFound { what: "blank" })?;
        authorize(actor, Action::ManageStock { office: &blank.office })?;
        let mut errs = FieldErrors::new();
        let why = reason(&mut errs, "reason", &input.reason);
        let note = optional_note(&mut errs, input.note.as_deref());
        let Some(why) = why.filter(|_| errs.is_empty()) else {
            return Err(errs.into());
        };
        match blank.status {
            BlankStatus::Unused => {}
            BlankStatus::Used => {
                return Err(conflict(
                    format!(
                        "证卡{0}已打印，作废请在该证件上重新打印 / blank {0} was printed on: a printed card is set aside by reprinting its permit",
                        serial_text(serial)
                    ),
                    "used",
                ));
            }
            BlankStatus::Void => {
                return Err(conflict(
                    format!("证卡{0}已作废 / blank {0} is void already", serial_text(serial)),
                    "void",
                ));
            }
        }
        if void(c, now, actor, serial, BlankStatus::Unused, why, note.as_deref())? == 0 {
            return Err(conflict("证卡刚被使用 / the blank was taken meanwhile", "used"));
        }
        audit::entry(now, Some(&actor.id), "blank.void", "blank", &serial.to_string())
            .before(&serde_json::json!({"status": "unused"}))
            .after(&serde_json::json!({"status": "void", "reason": why.as_str(), "note": note}))
            .write(c)?;
        Ok(BlankOut {
            serial,
            office: blank.office,
            status: BlankStatus::Void,
            void_reason: Some(why),
            void_note: note,
        })
    })
}

/// The office's lowest unused blank: the one the next print takes.
fn next_unused(c: &mut DbConnection, office: &str) -> Result<Option<i64>> {
    Ok(blanks::table
        .filter(blanks::office.eq(office))
        .filter(blanks::status.eq(BlankStatus::Unused))
        .select(blanks::serial)
        .order(blanks::serial)
        .first(c)
        .optional()?)
}

/// Sets a blank aside with its reason: `from` is the state it must still be in (unused when a
/// supervisor voids it, used when a reprint replaces its card). Whether it was is the count.
fn void(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    serial: i64,
    from: BlankStatus,
    why: VoidReason,
    note: Option<&str>,
) -> Result<usize> {
    Ok(
        diesel::update(blanks::table.find(serial).filter(blanks::status.eq(from)))
            .set((
                blanks::status.eq(BlankStatus::Void),
                blanks::voided_at.eq(Some(ts(now))),
                blanks::void_reason.eq(Some(why)),
                blanks::void_note.eq(note),
                blanks::voided_by.eq(Some(&actor.id)),
            ))
            .execute(c)?,
    )
}

/// Takes the office's lowest unused blank for a print, in the caller's transaction.
fn take_blank(c: &mut DbConnection, now: DateTime<Utc>, office: &str) -> Result<i64> {
    for _ in 0..TAKE_TRIES {
        let Some(serial) = next_unused(c, office)? else {
            return Err(conflict(
                "没有空白证卡了：请主管登记新到的证卡 / no blank left: a supervisor receives the next batch first",
                "no_blank",
            ));
        };
        let n = diesel::update(
            blanks::table
                .find(serial)
                .filter(blanks::status.eq(BlankStatus::Unused)),
        )
        .set((blanks::status.eq(BlankStatus::Used), blanks::used_at.eq(Some(ts(now)))))
        .execute(c)?;
        if n == 1 {
            return Ok(serial);
        }
    }
    Err(Error::Busy("every blank read was taken by another window; try again"))
}

/// The permit's card in force: its latest print no reprint replaced.
fn current_print(c: &mut DbConnection, number: &str) -> Result<Option<PermitPrintRow>> {
    let all = prints_rows(c, number)?;
    let replaced: std::collections::HashSet<&str> = all.iter().filter_map(|p| p.replaces.as_deref()).collect();
    Ok(all.iter().find(|p| !replaced.contains(p.id.as_str())).cloned())
}

fn prints_rows(c: &mut DbConnection, number: &str) -> Result<Vec<PermitPrintRow>> {
    Ok(permit_prints::table
        .filter(permit_prints::permit_number.eq(number))
        .order((permit_prints::printed_at.desc(), permit_prints::id.desc()))
        .select(PermitPrintRow::as_select())
        .load(c)?)
}

fn print_outs(c: &mut DbConnection, rows: Vec<PermitPrintRow>) -> Result<Vec<PrintOut>> {
    let ids: Vec<&str> = rows.iter().map(|p| p.printed_by.as_str()).collect();
    let names = super::accounts::display_names(c, &ids)?;
    let replaced: std::collections::HashSet<String> = rows.iter().filter_map(|p| p.replaces.clone()).collect();
    Ok(rows
        .into_iter()
        .map(|p| PrintOut {
            replaced: replaced.contains(&p.id),
            blank: serial_text(p.blank_serial),
            printed_by: names.get(&p.printed_by).cloned().unwrap_or(p.printed_by),
            id: p.id,
            permit_number: p.permit_number,
            blank_serial: p.blank_serial,
            printed_at: utc(p.printed_at),
            replaces: p.replaces,
            replace_reason: p.replace_reason,
            replace_note: p.replace_note,
            seal: None,
        })
        .collect())
}

/// Prints a permit on the office's next blank; a reprint also voids the card it replaces.
pub fn print(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    prices: &crate::domain::free::FreePolicy,
    actor: &Actor,
    number: &str,
    input: &PrintIn,
) -> Result<PrintOut> {
    write_tx(c, |c| {
        let rec = super::permits::read(c, actor, number, on::print)?;
        let status = rec.status(now);
        // 制证先行: a pending permit is printed as it will be; a card of a permit no longer in
        // force would be a valid-looking document that is not.
        if !matches!(status, PermitStatus::Issued | PermitStatus::Pending) {
            return Err(conflict(
                "只打印有效的证件 / only a permit in force is printed on a blank",
                status.as_str(),
            ));
        }
        let mut errs = FieldErrors::new();
        let why = input
            .reprint_reason
            .as_deref()
            .and_then(|r| reason(&mut errs, "reprint_reason", r));
        let note = optional_note(&mut errs, input.note.as_deref());
        if let Some(r) = why
            && !r.fits_reprint()
        {
            errs.add(
                "reprint_reason",
                "not_for_reprint",
                "重印的原因应为打印错误、损坏或遗失 / a reprint replaces a card misprinted, damaged or lost at the desk",
            );
        }
        if !errs.is_empty() {
            return Err(errs.into());
        }
        let current = current_print(c, number)?;
        match (&current, why) {
            (Some(p), None) => {
                return Err(conflict(
                    format!(
                        "已打印在证卡{0}上；再次打印请选择重印原因 / printed on blank {0} already: a reprint needs its reason",
                        serial_text(p.blank_serial)
                    ),
                    "printed",
                ));
            }
            (None, Some(_)) => {
                return Err(conflict(
                    "该证件尚未打印，无需重印 / the permit was not printed yet: print it first",
                    "not_printed",
                ));
            }
            _ => {}
        }
        let serial = take_blank(c, now, &rec.permit.office)?;
        let row = PermitPrintRow {
            id: new_id(),
            permit_number: rec.permit.number.clone(),
            office: rec.permit.office.clone(),
            blank_serial: serial,
            printed_by: actor.id.clone(),
            printed_at: ts(now),
            replaces: current.as_ref().map(|p| p.id.clone()),
            replace_reason: why,
            replace_note: note.clone(),
        };
        diesel::insert_into(permit_prints::table)
            .values(&row)
            .execute(c)
            .map_err(|e| {
                Error::from(e).unique_as(|| {
                    conflict(
                        "另一窗口刚打印了该证件 / another window printed this permit just now",
                        "printed",
                    )
                })
            })?;
        // The card a reprint replaces is void with the reprint's reason.
        if let (Some(prev), Some(why)) = (&current, why)
            && void(
                c,
                now,
                actor,
                prev.blank_serial,
                BlankStatus::Used,
                why,
                note.as_deref(),
            )? != 1
        {
            return Err(Error::Internal(format!(
                "the card replaced, blank {}, was not a used blank",
                prev.blank_serial
            )));
        }
        // Printing is one of the free services: recorded with its value in this transaction. A
        // reprint for the office's own mistake (misprinted, lost at the desk) gives the holder
        // nothing new; one for a card the holder damaged does.
        if current.is_none() || why == Some(VoidReason::Damaged) {
            super::free::record(
                c,
                now,
                prices,
                actor,
                super::free::Given {
                    office: &rec.permit.office,
                    service: crate::domain::free::FreeService::PermitPrint,
                    quantity: 1,
                    recipient: Some(super::free::recipient_of(
                        rec.traveller.name_zh.as_deref(),
                        &rec.traveller.name_latin,
                        &rec.traveller.id_number,
                    )),
                    enterprise: rec.application.enterprise_name.clone(),
                    application_id: Some(rec.application.id.clone()),
                    permit_number: Some(rec.permit.number.clone()),
                    note: None,
                },
            )?;
        }
        let action = if current.is_some() {
            "permit.reprint"
        } else {
            "permit.print"
        };
        audit::entry(now, Some(&actor.id), action, "permit", number)
            .after(&serde_json::json!({
                "blank": serial,
                "replaces_blank": current.as_ref().map(|p| p.blank_serial),
                "reason": why.map(VoidReason::as_str),
                "note": note,
            }))
            .write(c)?;
        // The card bears the office's seal for permit cards: its use is recorded with the print.
        let seal = super::seals::record_use(
            c,
            now,
            actor,
            &rec.permit.office,
            crate::domain::seals::SealDocument::Permit,
            &rec.permit.number,
        )?;
        let mut out = print_outs(c, vec![row])?
            .pop()
            .ok_or_else(|| Error::Internal("print vanished".into()))?;
        out.seal = seal;
        Ok(out)
    })
}

/// The permit's prints, newest first.
pub fn prints(c: &mut DbConnection, actor: &Actor, number: &str) -> Result<Vec<PrintOut>> {
    let rec = super::permits::read(c, actor, number, on::view_permit)?;
    let rows = prints_rows(c, &rec.permit.number)?;
    print_outs(c, rows)
}

/// A day as typed (`YYYY-MM-DD`), from a query or a path.
pub fn parse_day(field: &str, text: Option<&str>) -> Result<Option<NaiveDate>> {
    // Absent is today; present, it must be a date (a blank one too: the API says so).
    let Some(text) = text.map(str::trim) else {
        return Ok(None);
    };
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(d) => Ok(Some(d)),
        Err(_) => {
            let mut errs = FieldErrors::new();
            errs.add(field, "format", "日期格式为YYYY-MM-DD / a date as YYYY-MM-DD");
            Err(errs.into())
        }
    }
}

/// The office's day as a UTC half-open range.
fn day_range(day: NaiveDate) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let start = OFFICE_TZ
        .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .single()
        .ok_or_else(|| Error::Internal(format!("no local midnight on {day}")))?
        .with_timezone(&Utc);
    Ok((start, start + Duration::days(1)))
}

fn count_out(row: BlankCountRow, names: &std::collections::HashMap<String, String>) -> CountOut {
    let difference = row.counted - row.expected;
    CountOut {
        day: row.day,
        counted: row.counted,
        expected: row.expected,
        difference,
        counted_by: names.get(&row.counted_by).cloned().unwrap_or(row.counted_by),
        counted_at: utc(row.counted_at),
        open: difference != 0 && row.explanation.is_none(),
        explanation: row.explanation,
        explained_by: row.explained_by.map(|id| names.get(&id).cloned().unwrap_or(id)),
        explained_at: row.explained_at.map(utc),
    }
}

fn counts_out(c: &mut DbConnection, rows: Vec<BlankCountRow>) -> Result<Vec<CountOut>> {
    let ids: Vec<&str> = rows
        .iter()
        .flat_map(|r| std::iter::once(r.counted_by.as_str()).chain(r.explained_by.as_deref()))
        .collect();
    let names = super::accounts::display_names(c, &ids)?;
    Ok(rows.into_iter().map(|r| count_out(r, &names)).collect())
}

/// One office's blanks over one local day (today when none is given).
pub fn reconciliation(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    day: Option<NaiveDate>,
) -> Result<ReconciliationOut> {
    authorize(actor, Action::ViewStock { office: &actor.office })?;
    let day = day.unwrap_or_else(|| local(now).date_naive());
    let (start, end) = day_range(day)?;
    // Every blank in the drawer at some moment of the day, or leaving it that day.
    let rows: Vec<(
        i64,
        chrono::NaiveDateTime,
        Option<chrono::NaiveDateTime>,
        Option<chrono::NaiveDateTime>,
    )> = blanks::table
        .filter(blanks::office.eq(&actor.office))
        .filter(blanks::received_at.lt(ts(end)))
        .filter(
            blanks::used_at
                .is_null()
                .and(blanks::voided_at.is_null())
                .or(blanks::used_at.ge(ts(start)))
                .or(blanks::voided_at.ge(ts(start))),
        )
        .select((blanks::serial, blanks::received_at, blanks::used_at, blanks::voided_at))
        .load(c)?;
    let times: Vec<stock::BlankTimes> = rows
        .into_iter()
        .map(|(serial, received, used, voided)| stock::BlankTimes {
            serial,
            received_at: utc(received),
            used_at: used.map(utc),
            voided_at: voided.map(utc),
        })
        .collect();
    let sets = stock::day_sets(&times, start, end);
    let figures = sets.figures();
    let count = blank_counts::table
        .find((&actor.office, day))
        .select(BlankCountRow::as_select())
        .first(c)
        .optional()?;
    let count = counts_out(c, count.into_iter().collect())?.pop();
    Ok(ReconciliationOut {
        office: actor.office.clone(),
        day,
        difference: figures.difference(),
        figures,
        opening_serials: stock::runs_text(&sets.opening),
        received_serials: stock::runs_text(&sets.received),
        used_serials: stock::runs_text(&sets.used),
        voided_serials: stock::runs_text(&sets.voided),
        closing_serials: stock::runs_text(&sets.closing),
        replaced_serials: stock::runs_text(&sets.replaced),
        count,
    })
}

fn unused_now(c: &mut DbConnection, office: &str) -> Result<i64> {
    Ok(blanks::table
        .filter(blanks::office.eq(office))
        .filter(blanks::status.eq(BlankStatus::Unused))
        .count()
        .get_result(c)?)
}

/// The stock page's model.
pub fn overview(c: &mut DbConnection, now: DateTime<Utc>, actor: &Actor, day: Option<NaiveDate>) -> Result<StockOut> {
    let reconciliation = reconciliation(c, now, actor, day)?;
    let office = &actor.office;
    let next = next_unused(c, office)?;
    let rows: Vec<BlankBatchRow> = blank_batches::table
        .filter(blank_batches::office.eq(office))
        .order(blank_batches::received_at.desc())
        .limit(BATCHES_LISTED)
        .select(BlankBatchRow::as_select())
        .load(c)?;
    let ids: Vec<&str> = rows.iter().map(|b| b.received_by.as_str()).collect();
    let names = super::accounts::display_names(c, &ids)?;
    let batches = rows.into_iter().map(|b| batch_out(b, &names)).collect();
    let open: Vec<BlankCountRow> = blank_counts::table
        .filter(blank_counts::office.eq(office))
        .filter(blank_counts::explanation.is_null())
        .filter(blank_counts::counted.ne(blank_counts::expected))
        .order(blank_counts::day.desc())
        .select(BlankCountRow::as_select())
        .load(c)?;
    Ok(StockOut {
        today: local(now).date_naive(),
        reconciliation,
        unused_now: unused_now(c, office)?,
        next_blank: next.map(serial_text),
        batches,
        open_differences: counts_out(c, open)?,
    })
}

/// Records the drawer counted now, beside the unused blanks the records hold: once a day.
pub fn count(c: &mut DbConnection, now: DateTime<Utc>, actor: &Actor, input: &CountIn) -> Result<CountOut> {
    authorize(actor, Action::ViewStock { office: &actor.office })?;
    if !(0..=1_000_000).contains(&input.counted) {
        let mut errs = FieldErrors::new();
        errs.add("counted", "range", "清点数应为0至1000000 / a count from 0 to 1000000");
        return Err(errs.into());
    }
    let day = local(now).date_naive();
    let row = write_tx(c, |c| {
        let row = BlankCountRow {
            office: actor.office.clone(),
            day,
            counted: input.counted,
            expected: unused_now(c, &actor.office)?,
            counted_by: actor.id.clone(),
            counted_at: ts(now),
            explanation: None,
            explained_by: None,
            explained_at: None,
        };
        diesel::insert_into(blank_counts::table)
            .values(&row)
            .execute(c)
            .map_err(|e| {
                Error::from(e).unique_as(|| {
                    conflict(
                        "今天已清点过；差异由主管说明 / the drawer was counted today already: a supervisor explains any difference",
                        "counted",
                    )
                })
            })?;
        audit::entry(
            now,
            Some(&actor.id),
            "blank.count",
            "blank_count",
            &format!("{}/{day}", actor.office),
        )
        .after(&serde_json::json!({"counted": row.counted, "expected": row.expected}))
        .write(c)?;
        Ok(row)
    })?;
    counts_out(c, vec![row])?
        .pop()
        .ok_or_else(|| Error::Internal("count vanished".into()))
}

/// A supervisor's explanation of a count's difference, which closes it.
pub fn explain(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    day: NaiveDate,
    input: &ExplainIn,
) -> Result<CountOut> {
    authorize(actor, Action::ManageStock { office: &actor.office })?;
    let mut errs = FieldErrors::new();
    let Some(text) = crate::domain::validation::required_text(&mut errs, "explanation", &input.explanation, 500) else {
        return Err(errs.into());
    };
    let row = write_tx(c, |c| {
        let row: BlankCountRow = blank_counts::table
            .find((&actor.office, day))
            .select(BlankCountRow::as_select())
            .first(c)
            .optional()?
            .ok_or(DomainError::NotFound { what: "count" })?;
        if row.counted == row.expected {
            return Err(conflict(
                "该日清点无差异 / that day's count has no difference",
                "balanced",
            ));
        }
        let n = diesel::update(
            blank_counts::table
                .find((&actor.office, day))
                .filter(blank_counts::explanation.is_null()),
        )
        .set((
            blank_counts::explanation.eq(Some(&text)),
            blank_counts::explained_by.eq(Some(&actor.id)),
            blank_counts::explained_at.eq(Some(ts(now))),
        ))
        .execute(c)?;
        if n == 0 {
            return Err(conflict(
                "该差异已说明 / the difference was explained already",
                "explained",
            ));
        }
        audit::entry(
            now,
            Some(&actor.id),
            "blank.count_explain",
            "blank_count",
            &format!("{}/{day}", actor.office),
        )
        .after(&serde_json::json!({"explanation": text}))
        .write(c)?;
        Ok(BlankCountRow {
            explanation: Some(text.clone()),
            explained_by: Some(actor.id.clone()),
            explained_at: Some(ts(now)),
            ..row
        })
    })?;
    counts_out(c, vec![row])?
        .pop()
        .ok_or_else(|| Error::Internal("count vanished".into()))
}

impl Ctx {
    pub async fn stock(&self, actor: Actor, day: Option<String>) -> Result<StockOut> {
        let day = parse_day("day", day.as_deref())?;
        self.tx(move |c, _, now| overview(c, now, &actor, day)).await
    }

    pub async fn stock_reconciliation(&self, actor: Actor, day: Option<String>) -> Result<ReconciliationOut> {
        let day = parse_day("day", day.as_deref())?;
        self.tx(move |c, _, now| reconciliation(c, now, &actor, day)).await
    }

    pub async fn receive_blanks(&self, actor: Actor, input: BatchIn) -> Result<BatchOut> {
        self.tx(move |c, _, now| receive(c, now, &actor, &input)).await
    }

    pub async fn void_blank(&self, actor: Actor, serial: i64, input: VoidIn) -> Result<BlankOut> {
        self.tx(move |c, _, now| void_blank(c, now, &actor, serial, &input))
            .await
    }

    pub async fn print_permit(&self, actor: Actor, number: String, input: PrintIn) -> Result<PrintOut> {
        self.tx(move |c, ctx, now| print(c, now, &ctx.policy.free_services, &actor, &number, &input))
            .await
    }

    pub async fn permit_prints(&self, actor: Actor, number: String) -> Result<Vec<PrintOut>> {
        self.tx(move |c, _, _| prints(c, &actor, &number)).await
    }

    pub async fn count_blanks(&self, actor: Actor, input: CountIn) -> Result<CountOut> {
        self.tx(move |c, _, now| count(c, now, &actor, &input)).await
    }

    pub async fn explain_count(&self, actor: Actor, day: String, input: ExplainIn) -> Result<CountOut> {
        // A day that is no date has no count.
        let day = parse_day("day", Some(&day))
            .ok()
            .flatten()
            .ok_or(DomainError::NotFound { what: "count" })?;
        self.tx(move |c, _, now| explain(c, now, &actor, day, &input)).await
    }
}
