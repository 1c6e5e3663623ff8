//! The free services ledger: each photo, copy and print given free, valued at the market price in
//! force that day (kept with the record); recorded by hand at the window, or by the service
//! where it does the work (a permit printed, a first photo stored), in that transaction; and the
//! savings report by period, service and enterprise, as JSON, CSV and the page's chart.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::db::models::FreeServiceRow;
use crate::db::schema::{applications, free_services, travellers};
use crate::db::{DbConnection, audit, new_id, ts, utc, write_tx};
use crate::domain::auth::{Action, Actor, authorize};
use crate::domain::free::{FreePolicy, FreeService, Period, yuan_text};
use crate::domain::local;
use crate::domain::mask::mask_id;
use crate::domain::validation::{FieldErrors, optional_text, plausible_key};
use crate::error::{Error, Result};

/// Units in one record at most: a page count typed with an extra digit is refused.
const MAX_QUANTITY: i64 = 500;
/// Today's records a window's page lists.
const LISTED: i64 = 50;

/// What a service given is, for whom and on what (recorded by the service itself or by hand).
pub struct Given<'a> {
    pub office: &'a str,
    pub service: FreeService,
    pub quantity: i32,
    pub recipient: Option<String>,
    pub enterprise: Option<String>,
    pub application_id: Option<String>,
    pub permit_number: Option<String>,
    pub note: Option<String>,
}

/// Records a free service in the caller's transaction, at the price in force today at the
/// office (none configured: valued at nothing, still counted).
pub fn record(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    prices: &FreePolicy,
    actor: &Actor,
    g: Given<'_>,
) -> Result<FreeServiceRow> {
    let day = local(now).date_naive();
    let (fen, from) = prices.price_on(g.service, g.office, day).unwrap_or((0, day));
    let row = FreeServiceRow {
        id: new_id(),
        office: g.office.to_string(),
        service: g.service,
        quantity: g.quantity,
        unit_price_fen: fen,
        price_from: from,
        day,
        recipient: g.recipient,
        enterprise: g.enterprise,
        application_id: g.application_id,
        permit_number: g.permit_number,
        note: g.note,
        given_by: actor.id.clone(),
        given_at: ts(now),
    };
    diesel::insert_into(free_services::table).values(&row).execute(c)?;
    audit::entry(now, Some(&actor.id), "free_service.record", "free_service", &row.id)
        .after(&serde_json::json!({
            "service": row.service.as_str(),
            "quantity": row.quantity,
            "unit_price_fen": row.unit_price_fen,
            "application_id": row.application_id,
            "permit_number": row.permit_number,
        }))
        .write(c)?;
    Ok(row)
}

/// The holder as a record of a free service shows them: name and masked document number.
pub fn recipient_of(name_zh: Option<&str>, name_latin: &str, id_number: &str) -> String {
    let name = name_zh.map_or_else(|| name_latin.to_string(), |zh| format!("{zh} {name_latin}"));
    format!("{name} {}", mask_id(id_number))
}

/// A free service an officer gives at the window.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct GivenIn {
    /// `photo_sheet`, `id_copy`, `form_print` or `notice_print` (photos and permit prints record
    /// themselves).
    #[schema(pattern = "^[ \\t\\r\\n]*(photo_sheet|id_copy|form_print|notice_print)[ \\t\\r\\n]*$")]
    pub service: String,
    /// Pages, sheets or sittings: 1 to 500.
    #[schema(minimum = 1, maximum = 500)]
    pub quantity: i64,
    /// The application it was for, if there is one: its holder and enterprise are taken from it.
    pub application_id: Option<String>,
    /// Whom it was for, without an application: a name.
    #[schema(max_length = 100)]
    pub recipient_name: Option<String>,
    /// Their document number: stored masked only.
    #[schema(max_length = 40)]
    pub recipient_id_number: Option<String>,
    #[schema(max_length = 200)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FreeServiceOut {
    pub id: String,
    pub office: String,
    pub service: FreeService,
    pub quantity: i32,
    /// The market price in force that day, per unit, in fen, and the date it took effect.
    pub unit_price_fen: i64,
    pub price_from: NaiveDate,
    /// quantity × unit price, in fen.
    pub value_fen: i64,
    pub day: NaiveDate,
    pub recipient: Option<String>,
    pub enterprise: Option<String>,
    pub application_id: Option<String>,
    pub permit_number: Option<String>,
    pub note: Option<String>,
    pub given_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub given_at: DateTime<Utc>,
}

fn out(r: FreeServiceRow, names: &std::collections::HashMap<String, String>) -> FreeServiceOut {
    FreeServiceOut {
        value_fen: i64::from(r.quantity) * r.unit_price_fen,
        given_by: names.get(&r.given_by).cloned().unwrap_or(r.given_by),
        id: r.id,
        office: r.office,
        service: r.service,
        quantity: r.quantity,
        unit_price_fen: r.unit_price_fen,
        price_from: r.price_from,
        day: r.day,
        recipient: r.recipient,
        enterprise: r.enterprise,
        application_id: r.application_id,
        permit_number: r.permit_number,
        note: r.note,
        given_at: utc(r.given_at),
    }
}

fn outs(c: &mut DbConnection, rows: Vec<FreeServiceRow>) -> Result<Vec<FreeServiceOut>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.given_by.as_str()).collect();
    let names = super::accounts::display_names(c, &ids)?;
    Ok(rows.into_iter().map(|r| out(r, &names)).collect())
}

/// Records a free service given by hand at the actor's window.
pub fn give(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    prices: &FreePolicy,
    actor: &Actor,
    input: &GivenIn,
) -> Result<FreeServiceOut> {
    authorize(actor, Action::RecordFreeService { office: &actor.office })?;
    let mut errs = FieldErrors::new();
    let service = match FreeService::parse(input.service.trim()) {
        Some(s) if s.recorded_by_hand() => Some(s),
        Some(_) => {
            errs.add(
                "service",
                "recorded_by_itself",
                "证件照和证件打印由系统自动登记 / photos and permit prints record themselves",
            );
            None
        }
        None => {
            errs.add(
                "service",
                "unknown",
                "请选择服务：照片冲印、证件复印、申请表或告知书打印 / choose a photo sheet, an ID copy, a form or a notice printed",
            );
            None
        }
    };
    if !(1..=MAX_QUANTITY).contains(&input.quantity) {
        errs.add("quantity", "range", "数量应为1至500 / 1 to 500");
    }
    let name = optional_text(&mut errs, "recipient_name", input.recipient_name.as_deref(), 100);
    let id_number = optional_text(
        &mut errs,
        "recipient_id_number",
        input.recipient_id_number.as_deref(),
        40,
    );
    let note = optional_text(&mut errs, "note", input.note.as_deref(), 200);
    let application_id = crate::domain::validation::clean(input.application_id.as_deref());
    if application_id.as_deref().is_some_and(|id| !plausible_key(id)) {
        errs.add("application_id", "unknown", "没有该申请 / no such application");
    }
    let (Some(service), true) = (service, errs.is_empty()) else {
        return Err(errs.into());
    };
    write_tx(c, |c| {
        let (recipient, enterprise) = match &application_id {
            Some(id) => {
                let found: Option<HolderOf> = applications::table
                    .inner_join(travellers::table)
                    .filter(applications::id.eq(id))
                    .select((
                        applications::office,
                        applications::enterprise_name,
                        travellers::name_zh,
                        travellers::name_latin,
                        travellers::id_number,
                    ))
                    .first(c)
                    .optional()?;
                // Another office's application answers as a missing one.
                let Some((_, enterprise, zh, latin, number)) = found.filter(|f| f.0 == actor.office) else {
                    let mut errs = FieldErrors::new();
                    errs.add("application_id", "unknown", "没有该申请 / no such application");
                    return Err(errs.into());
                };
                (Some(recipient_of(zh.as_deref(), &latin, &number)), enterprise)
            }
            None => {
                let who = match (&name, &id_number) {
                    (Some(n), Some(i)) => Some(format!("{n} {}", mask_id(i))),
                    (Some(n), None) => Some(n.clone()),
                    (None, Some(i)) => Some(mask_id(i)),
                    (None, None) => None,
                };
                (who, None)
            }
        };
        let quantity = i32::try_from(input.quantity).map_err(Error::internal)?;
        let row = record(
            c,
            now,
            prices,
            actor,
            Given {
                office: &actor.office,
                service,
                quantity,
                recipient,
                enterprise,
                application_id: application_id.clone(),
                permit_number: None,
                note: note.clone(),
            },
        )?;
        outs(c, vec![row])?
            .pop()
            .ok_or_else(|| Error::Internal("record vanished".into()))
    })
}

/// The office's records of today, newest first (the window's list).
pub fn today(c: &mut DbConnection, now: DateTime<Utc>, actor: &Actor) -> Result<Vec<FreeServiceOut>> {
    authorize(actor, Action::RecordFreeService { office: &actor.office })?;
    let rows = free_services::table
        .filter(free_services::office.eq(&actor.office))
        .filter(free_services::day.eq(local(now).date_naive()))
        .order(free_services::given_at.desc())
        .limit(LISTED)
        .select(FreeServiceRow::as_select())
        .load(c)?;
    outs(c, rows)
}

/// Services given and yuan saved in one group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Tally {
    /// Services recorded.
    pub services: i64,
    /// Units given (pages, sheets, sittings).
    pub units: i64,
    /// Value at market prices, in fen.
    pub saved_fen: i64,
    /// The same in yuan, for reading: `12,345.50`.
    pub saved_yuan: String,
}

impl Tally {
    fn add(&mut self, r: &FreeServiceRow) {
        self.services += 1;
        self.units += i64::from(r.quantity);
        self.saved_fen += i64::from(r.quantity) * r.unit_price_fen;
        self.saved_yuan = yuan_text(self.saved_fen);
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Group {
    /// The period's label (`2026-11`), the service's code, or the enterprise's name.
    pub key: String,
    /// The same in words, where it is a code.
    pub label: String,
    #[serde(flatten)]
    pub tally: Tally,
}

/// The savings of the actor's office over a year, grouped.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SavingsOut {
    pub office: String,
    pub year: i32,
    pub period: Period,
    /// The year's figure (the one the annual report quotes).
    pub total: Tally,
    pub by_period: Vec<Group>,
    pub by_service: Vec<Group>,
    /// Trade passes carry their enterprise; services for individuals are grouped as such.
    pub by_enterprise: Vec<Group>,
}

fn year_rows(c: &mut DbConnection, office: &str, year: i32) -> Result<Vec<FreeServiceRow>> {
    let (Some(first), Some(last)) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    ) else {
        return Ok(Vec::new());
    };
    Ok(free_services::table
        .filter(free_services::office.eq(office))
        .filter(free_services::day.between(first, last))
        .order((free_services::day, free_services::given_at))
        .select(FreeServiceRow::as_select())
        .load(c)?)
}

/// An application's office, enterprise and holder (Chinese name, Latin name, document number).
type HolderOf = (String, Option<String>, Option<String>, String, String);

const INDIVIDUALS: &str = "个人 individuals";

fn groups(map: BTreeMap<String, (String, Tally)>) -> Vec<Group> {
    map.into_iter()
        .map(|(key, (label, tally))| Group { key, label, tally })
        .collect()
}

fn check_year(year: Option<i32>, now: DateTime<Utc>) -> Result<i32> {
    let year = year.unwrap_or_else(|| local(now).year());
    if (2000..=2100).contains(&year) {
        Ok(year)
    } else {
        let mut errs = FieldErrors::new();
        errs.add("year", "range", "年份应在2000至2100之间 / a year from 2000 to 2100");
        Err(errs.into())
    }
}

fn check_period(period: Option<&str>) -> Result<Period> {
    match period.map(str::trim).filter(|p| !p.is_empty()) {
        None => Ok(Period::Month),
        Some(p) => Period::parse(p).ok_or_else(|| {
            let mut errs = FieldErrors::new();
            errs.add(
                "period",
                "unknown",
                "周期为 day、week、month 或 year / day, week, month or year",
            );
            errs.into()
        }),
    }
}

/// What both forms of the report read: authorised (supervision of the actor's office), the year
/// and period checked, the year's records.
fn supervised_year(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    year: Option<i32>,
    period: Option<&str>,
) -> Result<(i32, Period, Vec<FreeServiceRow>)> {
    authorize(actor, Action::Supervise)?;
    let year = check_year(year, now)?;
    let period = check_period(period)?;
    Ok((year, period, year_rows(c, &actor.office, year)?))
}

/// The year's savings of the actor's office, by `period`, service and enterprise.
pub fn savings(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    year: Option<i32>,
    period: Option<&str>,
) -> Result<SavingsOut> {
    let (year, period, rows) = supervised_year(c, now, actor, year, period)?;
    let mut total = Tally {
        saved_yuan: yuan_text(0),
        ..Tally::default()
    };
    let (mut by_period, mut by_service, mut by_enterprise) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for r in &rows {
        total.add(r);
        let (_, label) = period.of(r.day);
        by_period
            .entry(label.clone())
            .or_insert_with(|| (label, Tally::default()))
            .1
            .add(r);
        let w = r.service.words();
        by_service
            .entry(r.service.as_str().to_string())
            .or_insert_with(|| (format!("{} {}", w.zh, w.en), Tally::default()))
            .1
            .add(r);
        let e = r.enterprise.clone().unwrap_or_else(|| INDIVIDUALS.into());
        by_enterprise
            .entry(e.clone())
            .or_insert_with(|| (e, Tally::default()))
            .1
            .add(r);
    }
    Ok(SavingsOut {
        office: actor.office.clone(),
        year,
        period,
        total,
        by_period: groups(by_period),
        by_service: groups(by_service),
        by_enterprise: groups(by_enterprise),
    })
}

/// The same year as CSV: one line per period, service and enterprise, with the office.
pub fn savings_csv(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    year: Option<i32>,
    period: Option<&str>,
) -> Result<(String, Vec<u8>)> {
    let (year, period, rows) = supervised_year(c, now, actor, year, period)?;
    let mut lines: BTreeMap<(String, &'static str, String), Tally> = BTreeMap::new();
    for r in &rows {
        let e = r.enterprise.clone().unwrap_or_else(|| INDIVIDUALS.into());
        lines
            .entry((period.of(r.day).1, r.service.as_str(), e))
            .or_default()
            .add(r);
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Error::Internal(format!("csv: {e}"));
    w.write_record([
        "period",
        "office",
        "service",
        "service_zh",
        "enterprise",
        "services",
        "units",
        "saved_yuan",
    ])
    .map_err(fail)?;
    for ((label, service, enterprise), t) in lines {
        let zh = FreeService::parse(service).map_or("", |s| s.words().zh);
        let yuan = format!("{}.{:02}", t.saved_fen / 100, t.saved_fen % 100);
        w.write_record([
            label.as_str(),
            actor.office.as_str(),
            service,
            zh,
            enterprise.as_str(),
            &t.services.to_string(),
            &t.units.to_string(),
            &yuan,
        ])
        .map_err(fail)?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Internal(format!("csv: {e}")))?;
    Ok((
        format!("savings-{}-{year}-{}.csv", actor.office, period.as_str()),
        bytes,
    ))
}

impl Ctx {
    pub async fn give_free_service(&self, actor: Actor, input: GivenIn) -> Result<FreeServiceOut> {
        self.tx(move |c, ctx, now| give(c, now, &ctx.policy.free_services, &actor, &input))
            .await
    }

    pub async fn free_services_today(&self, actor: Actor) -> Result<Vec<FreeServiceOut>> {
        self.tx(move |c, _, now| today(c, now, &actor)).await
    }

    pub async fn savings(&self, actor: Actor, year: Option<i32>, period: Option<String>) -> Result<SavingsOut> {
        self.tx(move |c, _, now| savings(c, now, &actor, year, period.as_deref()))
            .await
    }

    pub async fn savings_csv(
        &self,
        actor: Actor,
        year: Option<i32>,
        period: Option<String>,
    ) -> Result<(String, Vec<u8>)> {
        self.tx(move |c, _, now| savings_csv(c, now, &actor, year, period.as_deref()))
            .await
    }
}

/// A photo sheet asked for at the window.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct PhotoSheetIn {
    /// `33x48` (default), `35x45` or `2inch`.
    #[schema(pattern = "^[ \\t\\r\\n]*(33x48|35x45|2inch)?[ \\t\\r\\n]*$")]
    pub size: Option<String>,
    /// `six_inch` (default) or `a4`.
    #[schema(pattern = "^[ \\t\\r\\n]*(six_inch|a4)?[ \\t\\r\\n]*$")]
    pub paper: Option<String>,
}

/// The application's photo as a sheet of copies, recorded as a free service given in the same
/// transaction: the model to render.
pub fn photo_sheet(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    prices: &FreePolicy,
    actor: &Actor,
    application_id: &str,
    input: &PhotoSheetIn,
) -> Result<crate::print::photo_sheet::PhotoSheet> {
    use crate::print::photo_sheet::{Paper, PhotoSheet, PhotoSize};
    let mut errs = FieldErrors::new();
    let size = match input.size.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(PhotoSize::Permit),
        Some(s) => PhotoSize::parse(s),
    };
    if size.is_none() {
        errs.add(
            "size",
            "unknown",
            "尺寸为 33x48、35x45 或 2inch / 33x48, 35x45 or 2inch",
        );
    }
    let paper = match input.paper.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(Paper::SixInch),
        Some(s) => Paper::parse(s),
    };
    if paper.is_none() {
        errs.add("paper", "unknown", "纸张为 six_inch 或 a4 / six_inch or a4");
    }
    let (Some(size), Some(paper)) = (size, paper) else {
        return Err(errs.into());
    };
    write_tx(c, |c| {
        let jpeg = super::portraits::for_application(c, actor, application_id)?;
        let (office, number, enterprise): (String, Option<String>, Option<String>) = applications::table
            .find(application_id)
            .select((
                applications::office,
                applications::number,
                applications::enterprise_name,
            ))
            .first(c)?;
        record(
            c,
            now,
            prices,
            actor,
            Given {
                office: &office,
                service: FreeService::PhotoSheet,
                quantity: 1,
                recipient: None,
                enterprise,
                application_id: Some(application_id.to_string()),
                permit_number: None,
                note: Some(format!("{} {}", size.as_str(), paper.as_str())),
            },
        )?;
        Ok(PhotoSheet {
            photo: crate::print::permit::Photo {
                jpeg,
                width: super::portraits::WIDTH,
                height: super::portraits::HEIGHT,
            },
            size,
            paper,
            caption: number.unwrap_or_else(|| application_id.to_string()),
        })
    })
}

impl Ctx {
    /// The photo sheet as PDF (recorded as a free service when asked for).
    pub async fn photo_sheet(
        &self,
        actor: Actor,
        application_id: String,
        input: PhotoSheetIn,
    ) -> Result<super::printing::Document> {
        let model = self
            .tx(move |c, ctx, now| photo_sheet(c, now, &ctx.policy.free_services, &actor, &application_id, &input))
            .await?;
        let filename = format!("photos-{}-{}.pdf", model.caption, model.size.as_str());
        let pdf = tokio::task::spawn_blocking(move || crate::print::photo_sheet::photo_sheet_pdf(&model))
            .await
            .map_err(Error::internal)?
            .map_err(Error::internal)?;
        Ok(super::printing::Document { filename, pdf })
    }
}
