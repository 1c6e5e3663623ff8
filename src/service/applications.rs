//! Applications: taken at the window, then moved along their kind's workflow (accept with
//! deferred materials, approve, reject, withdraw, collect, supply, external review).

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::calendar;
use crate::db::models::{ApplicationRow, MaterialRow, TravellerRow};
use crate::db::schema::{application_materials, applications, permits, serial_counters, travellers};
use crate::db::{DbConnection, audit, new_id, ts, utc, write_tx};
use crate::domain::auth::{Action, ActionOn, Actor, authorize, authorize_role, on};
use crate::domain::calendar::OfficeHours;
use crate::domain::ids::IdType;
use crate::domain::mask::mask_id;
use crate::domain::permit::{ApplicationStatus, PermitKind};
use crate::domain::policy::{KindPolicy, Policy, Workflow};
use crate::domain::trade::{check_credit_code, check_plate};
use crate::domain::traveller::{self, TravellerInput};
use crate::domain::validation::{FieldErrors, clean, plausible_key};
use crate::domain::workflow::{self, Step};
use crate::domain::{DomainError, local};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct EnterpriseInput {
    pub name: Option<String>,
    /// Unified social credit code (GB 32100-2015), 18 characters.
    pub credit_code: Option<String>,
}

/// Body of `POST /api/v1/applications`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct NewApplication {
    /// border_tourism, border_trade or passport.
    // Optional in Rust so that a missing kind is one of the 422's errors, not a parse failure;
    // the server requires it all the same.
    #[schema(required = true, nullable = false, value_type = crate::domain::permit::PermitKind)]
    pub kind: Option<String>,
    #[schema(required = true, nullable = false)]
    pub traveller: Option<TravellerInput>,
    /// Border trade: the enterprise the applicant acts for (absent for an individual trader).
    pub enterprise: Option<EnterpriseInput>,
    /// Border trade: plates of the vehicles a freight driver drives (Chinese or Vietnamese).
    pub plates: Option<Vec<String>>,
    /// Border trade: a validity option code from the policy (default: the kind's default).
    pub validity_option: Option<String>,
    /// Passport: whether the fee is waived.
    pub fee_waived: Option<bool>,
    /// Passport: reference of the portrait taken at the hall.
    pub photo_ref: Option<String>,
    /// Take it although an open application exists for the same identity document (without
    /// this, such a request is answered 409 naming the open application).
    pub confirm_duplicate: Option<bool>,
}

/// An application still open (not yet decided, issued or closed) for the same document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenForDocument {
    pub id: String,
    pub number: Option<String>,
    pub status: ApplicationStatus,
}

impl OpenForDocument {
    fn conflict(&self) -> Error {
        let number = self.number.as_deref().unwrap_or(&self.id);
        DomainError::Conflict {
            message: format!(
                "该证件已有在办申请{number}，如确需再次申请请确认 / an open application {number} exists for this identity document; send confirm_duplicate: true to take another"
            ),
            current_state: self.status.as_str().into(),
        }
        .into()
    }
}

/// What taking an application came to: taken, or held back because the same document has an
/// open application (a warning the window may override).
#[derive(Debug)]
pub enum Taken {
    New(Box<ApplicationOut>),
    OpenExists(OpenForDocument),
}

/// A traveller as shown to officers: the identity number masked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TravellerOut {
    pub name_zh: Option<String>,
    pub name_latin: String,
    pub nationality: String,
    pub sex: String,
    pub birth_date: NaiveDate,
    pub id_type: String,
    /// Masked: only the last four characters are readable.
    pub id_number: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl From<&TravellerRow> for TravellerOut {
    fn from(t: &TravellerRow) -> Self {
        TravellerOut {
            name_zh: t.name_zh.clone(),
            name_latin: t.name_latin.clone(),
            nationality: t.nationality.clone(),
            sex: t.sex.as_str().to_string(),
            birth_date: t.birth_date,
            id_type: t.id_type.as_str().to_string(),
            id_number: mask_id(&t.id_number),
            phone: t.phone.clone(),
            email: t.email.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MaterialOut {
    pub item: String,
    pub name_zh: String,
    pub name_en: String,
    pub name_vi: String,
    pub provided: bool,
    /// When a deferred (容缺) item is due.
    pub due_date: Option<NaiveDate>,
    pub overdue: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApplicationOut {
    pub id: String,
    /// The number the applicant uses to ask for progress, e.g. YYG202611260001.
    pub number: Option<String>,
    pub kind: PermitKind,
    pub status: ApplicationStatus,
    pub office: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<FixedOffset>,
    pub traveller: TravellerOut,
    pub enterprise_name: Option<String>,
    pub credit_code: Option<String>,
    pub plates: Vec<String>,
    pub validity_option: Option<String>,
    pub fee_waived: Option<bool>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub accepted_at: Option<DateTime<FixedOffset>>,
    /// The accepting officer's id: pages need it for four eyes; the API does not show it.
    #[serde(skip)]
    pub accepted_by: Option<String>,
    /// The working-day deadline in force (decision, or review result for passports).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<DateTime<FixedOffset>>,
    /// Open and past its deadline.
    pub overdue: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<DateTime<FixedOffset>>,
    /// Rejection or review reason.
    pub reason: Option<String>,
    /// Why it is back in the officers' queue.
    pub attention: Option<String>,
    pub materials: Vec<MaterialOut>,
    /// The permit, once issued.
    pub permit_number: Option<String>,
    /// When the holder's portrait was taken (GET …/portrait returns it).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub portrait_at: Option<DateTime<FixedOffset>>,
}

pub fn kind_policy(policy: &Policy, kind: PermitKind) -> Result<&KindPolicy> {
    policy.kind(kind).ok_or_else(|| {
        let mut errs = FieldErrors::new();
        errs.add(
            "kind",
            "offered",
            format!("本窗口暂不办理{0} / {0} is not offered here", kind.as_str()),
        );
        errs.into()
    })
}

struct TradeFields {
    enterprise_name: Option<String>,
    credit_code: Option<String>,
    plates: Option<String>,
    validity_option: Option<String>,
}

fn check_trade(input: &NewApplication, kp: &KindPolicy, errs: &mut FieldErrors) -> TradeFields {
    let mut out = TradeFields {
        enterprise_name: None,
        credit_code: None,
        plates: None,
        validity_option: None,
    };
    if let Some(e) = &input.enterprise {
        let name = clean(e.name.as_deref());
        match &name {
            None => errs.add(
                "enterprise.name",
                "required",
                "请填写企业名称 / the enterprise name is required",
            ),
            Some(n) if n.chars().count() > 100 || n.chars().any(char::is_control) => {
                errs.add("enterprise.name", "max_length", "最多100字 / at most 100 characters")
            }
            Some(_) => {}
        }
        let code = clean(e.credit_code.as_deref()).map(|c| c.to_uppercase());
        match &code {
            None => errs.add(
                "enterprise.credit_code",
                "required",
                "请填写统一社会信用代码 / the unified social credit code is required",
            ),
            Some(c) => {
                if let Err((rule, message)) = check_credit_code(c) {
                    errs.add("enterprise.credit_code", rule, message);
                }
            }
        }
        out.enterprise_name = name;
        out.credit_code = code;
    }
    if let Some(plates) = &input.plates {
        if plates.len() > 5 {
            errs.add("plates", "max_items", "最多5个车牌 / at most 5 plates");
        }
        let mut clean_plates = Vec::new();
        for (i, p) in plates.iter().enumerate() {
            match check_plate(p) {
                Ok(n) => {
                    if !clean_plates.contains(&n) {
                        clean_plates.push(n);
                    }
                }
                Err((rule, message)) => errs.add(format!("plates[{i}]"), rule, message),
            }
        }
        if !clean_plates.is_empty() {
            out.plates = Some(clean_plates.join(","));
        }
    }
    if let Some(option) = clean(input.validity_option.as_deref()) {
        if kp.validity(Some(&option)).is_none() {
            let codes: Vec<&str> = kp.validity_options.iter().map(|o| o.code.as_str()).collect();
            errs.add(
                "validity_option",
                "one_of",
                format!("有效期选项应为 / one of: {}", codes.join(", ")),
            );
        }
        out.validity_option = Some(option);
    }
    out
}

/// The next number of a per-day series, from the same counter table as permit serials.
pub(crate) fn next_serial(c: &mut DbConnection, series: &str) -> Result<i64> {
    let seed = (serial_counters::series.eq(series), serial_counters::last_value.eq(0i64));
    crate::native!(c, c => diesel::insert_into(serial_counters::table)
        .values(seed)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(
        crate::native!(c, c => diesel::update(serial_counters::table.find(series))
        .set(serial_counters::last_value.eq(serial_counters::last_value + 1))
        .returning(serial_counters::last_value)
        .get_result(c))?,
    )
}

/// Takes an application at the window. Authorisation first (403), then every field (422),
/// then a second open application for the same document (409 unless confirmed).
pub fn create_application(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    policy: &Policy,
    input: &NewApplication,
) -> Result<ApplicationOut> {
    match take_application(conn, now, actor, policy, input)? {
        Taken::New(app) => Ok(*app),
        Taken::OpenExists(open) => Err(open.conflict()),
    }
}

/// The open applications' states: those an officer still has to act on.
const OPEN_STATES: [ApplicationStatus; 4] = [
    ApplicationStatus::Submitted,
    ApplicationStatus::Accepted,
    ApplicationStatus::Approved,
    ApplicationStatus::Uploaded,
];

fn open_for_document(c: &mut DbConnection, id_type: IdType, id_number: &str) -> Result<Option<OpenForDocument>> {
    let row: Option<(String, Option<String>, ApplicationStatus)> = applications::table
        .inner_join(travellers::table)
        .filter(travellers::id_type.eq(id_type))
        .filter(travellers::id_number.eq(id_number))
        .filter(applications::status.eq_any(OPEN_STATES))
        .order(applications::created_at.asc())
        .select((applications::id, applications::number, applications::status))
        .first(c)
        .optional()?;
    Ok(row.map(|(id, number, status)| OpenForDocument { id, number, status }))
}

/// Takes an application, or says which open application the same document already has (the
/// page shows it as a warning with a link and asks to confirm).
pub fn take_application(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    policy: &Policy,
    input: &NewApplication,
) -> Result<Taken> {
    let mut errs = FieldErrors::new();
    let kind = match input.kind.as_deref().map(str::trim) {
        None | Some("") => {
            errs.add("kind", "required", "请选择业务类型 / kind is required");
            None
        }
        Some(k) => {
            let parsed = PermitKind::parse(k);
            if parsed.is_none() {
                errs.add("kind", "one_of", "业务类型应为border_tourism、border_trade或passport / one of border_tourism, border_trade, passport");
            }
            parsed
        }
    };
    let mut kp = None;
    if let Some(kind) = kind {
        authorize(actor, Action::CreateApplication(kind))?;
        match kind_policy(policy, kind) {
            Ok(k) => kp = Some(k),
            Err(Error::Domain(DomainError::Validation(e))) => errs.0.extend(e.0),
            Err(e) => return Err(e),
        }
    }
    let today = local(now).date_naive();
    let traveller = match &input.traveller {
        None => {
            errs.add("traveller", "required", "请填写申请人信息 / traveller is required");
            None
        }
        Some(t) => match traveller::validate(t, today, "traveller.") {
            Ok(t) => Some(t),
            Err(e) => {
                errs.0.extend(e.0);
                None
            }
        },
    };
    if let (Some(kp), Some(t)) = (kp, &traveller)
        && !kp.eligible_id_types.contains(&t.id_type)
    {
        let allowed: Vec<&str> = kp.eligible_id_types.iter().map(|t: &IdType| t.as_str()).collect();
        errs.add(
            "traveller.id_type",
            "eligible",
            format!(
                "{}须凭以下证件办理 / {} requires one of: {}",
                kp.title_zh,
                kp.title_en,
                allowed.join(", ")
            ),
        );
    }
    let trade = match (kind, kp) {
        (Some(PermitKind::BorderTrade), Some(kp)) => check_trade(input, kp, &mut errs),
        _ => TradeFields {
            enterprise_name: None,
            credit_code: None,
            plates: None,
            validity_option: None,
        },
    };
    let photo_ref = clean(input.photo_ref.as_deref());
    if photo_ref.as_deref().is_some_and(|p| !plausible_key(p)) {
        errs.add(
            "photo_ref",
            "format",
            "照片编号只能包含字母、数字和连字符 / letters, digits and hyphens only",
        );
    }
    let (kind, kp, t) = match (kind, kp, traveller) {
        (Some(k), Some(kp), Some(t)) if errs.is_empty() => (k, kp, t),
        _ => return Err(errs.into()),
    };

    if input.confirm_duplicate != Some(true)
        && let Some(open) = open_for_document(conn, t.id_type, &t.id_number)?
    {
        return Ok(Taken::OpenExists(open));
    }

    let trow = TravellerRow {
        id: new_id(),
        name_zh: t.name_zh,
        name_latin: t.name_latin,
        nationality: t.nationality,
        sex: t.sex,
        birth_date: t.birth_date,
        id_type: t.id_type,
        id_number: t.id_number,
        phone: t.phone,
        email: t.email,
        created_at: ts(now),
    };
    let is_passport = kp.workflow == Workflow::ExternalReview;
    let mut arow = ApplicationRow {
        id: new_id(),
        kind,
        traveller_id: trow.id.clone(),
        office: actor.office.clone(),
        status: ApplicationStatus::Submitted,
        created_by: actor.id.clone(),
        created_at: ts(now),
        updated_at: ts(now),
        number: None,
        enterprise_name: trade.enterprise_name,
        credit_code: trade.credit_code,
        plates: trade.plates,
        validity_option: trade.validity_option,
        fee_waived: if is_passport {
            Some(input.fee_waived.unwrap_or(false))
        } else {
            None
        },
        photo_ref,
        accepted_at: None,
        accepted_by: None,
        due_at: None,
        decided_at: None,
        decided_by: None,
        reason: None,
        attention: None,
        export_batch: None,
        portrait_at: None,
    };
    write_tx(conn, |c| {
        let seq = next_serial(c, &crate::domain::permit::application_series(&arow.office, now))?;
        arow.number = Some(crate::domain::permit::application_number(&arow.office, now, seq));
        diesel::insert_into(travellers::table).values(&trow).execute(c)?;
        diesel::insert_into(applications::table).values(&arow).execute(c)?;
        let after = serde_json::json!({"number": arow.number, "kind": arow.kind, "status": arow.status, "holder_id": mask_id(&trow.id_number), "enterprise": arow.credit_code, "plates": arow.plates, "confirmed_duplicate": input.confirm_duplicate == Some(true)});
        audit::entry(now, Some(&actor.id), "application.create", "application", &arow.id)
            .after(&after)
            .write(c)
    })?;
    get_application(conn, &arow.id, now, policy).map(|a| Taken::New(Box::new(a)))
}

pub(crate) fn load(conn: &mut DbConnection, id: &str) -> Result<(ApplicationRow, TravellerRow)> {
    if !plausible_key(id) {
        return Err(DomainError::NotFound { what: "application" }.into());
    }
    applications::table
        .inner_join(travellers::table)
        .filter(applications::id.eq(id))
        .select((ApplicationRow::as_select(), TravellerRow::as_select()))
        .first(conn)
        .optional()?
        .ok_or_else(|| DomainError::NotFound { what: "application" }.into())
}

/// Loads an application for `action`: a role refused outright is told so before the lookup
/// (the same answer whether the application exists or not), and another office's application
/// answers as a missing one.
pub(crate) fn load_for(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    action: ActionOn,
) -> Result<(ApplicationRow, TravellerRow)> {
    // The role's answer does not depend on the kind; any kind will do before the lookup.
    authorize_role(actor, action(PermitKind::BorderTourism, &actor.office))?;
    let (a, t) = load(conn, id)?;
    authorize(actor, action(a.kind, &a.office))?;
    Ok((a, t))
}

pub fn materials(conn: &mut DbConnection, id: &str) -> Result<Vec<MaterialRow>> {
    Ok(application_materials::table
        .filter(application_materials::application_id.eq(id))
        .select(MaterialRow::as_select())
        .load(conn)?)
}

/// The application as officers see it (ID masked), with its materials and deadline.
pub fn view(
    a: ApplicationRow,
    t: &TravellerRow,
    mats: &[MaterialRow],
    permit_number: Option<String>,
    now: DateTime<Utc>,
    policy: &Policy,
) -> Result<ApplicationOut> {
    let (kind, status) = (a.kind, a.status);
    let kp = policy.kind(kind);
    let today = local(now).date_naive();
    let fixed = |t: chrono::NaiveDateTime| local(utc(t)).fixed_offset();
    // In checklist order, as the applicant was told them.
    let order = |item: &str| {
        kp.and_then(|k| k.materials.iter().position(|m| m.code == item))
            .unwrap_or(usize::MAX)
    };
    let mut mats: Vec<&MaterialRow> = mats.iter().collect();
    mats.sort_by_key(|m| order(&m.item));
    let materials = mats
        .iter()
        .map(|m| {
            let item = kp.and_then(|k| k.material(&m.item));
            MaterialOut {
                item: m.item.clone(),
                name_zh: item.map(|i| i.name_zh.clone()).unwrap_or_else(|| m.item.clone()),
                name_en: item.map(|i| i.name_en.clone()).unwrap_or_else(|| m.item.clone()),
                name_vi: item.map(|i| i.name_vi.clone()).unwrap_or_else(|| m.item.clone()),
                provided: m.provided,
                due_date: m.due_date,
                overdue: !m.provided && m.due_date.is_some_and(|d| today > d),
            }
        })
        .collect();
    Ok(ApplicationOut {
        overdue: status.is_open() && a.due_at.is_some_and(|d| now > utc(d)),
        id: a.id,
        number: a.number,
        kind,
        status,
        office: a.office,
        created_at: fixed(a.created_at),
        traveller: TravellerOut::from(t),
        enterprise_name: a.enterprise_name,
        credit_code: a.credit_code,
        plates: a
            .plates
            .map(|p| p.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
        validity_option: a.validity_option,
        fee_waived: a.fee_waived,
        accepted_at: a.accepted_at.map(fixed),
        accepted_by: a.accepted_by,
        due_at: a.due_at.map(fixed),
        decided_at: a.decided_at.map(fixed),
        reason: a.reason,
        attention: a.attention,
        materials,
        permit_number,
        portrait_at: a.portrait_at.map(fixed),
    })
}

/// An application as the actor may read it: window staff of its office only.
pub fn read(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    now: DateTime<Utc>,
    policy: &Policy,
) -> Result<ApplicationOut> {
    let (a, t) = load_for(conn, actor, id, on::view_application)?;
    with_details(conn, a, &t, now, policy)
}

/// The application after the caller has authorised reading it.
pub(crate) fn get_application(
    conn: &mut DbConnection,
    id: &str,
    now: DateTime<Utc>,
    policy: &Policy,
) -> Result<ApplicationOut> {
    let (a, t) = load(conn, id)?;
    with_details(conn, a, &t, now, policy)
}

fn with_details(
    conn: &mut DbConnection,
    a: ApplicationRow,
    t: &TravellerRow,
    now: DateTime<Utc>,
    policy: &Policy,
) -> Result<ApplicationOut> {
    let mats = materials(conn, &a.id)?;
    let permit_number = permits::table
        .filter(permits::application_id.eq(&a.id))
        .select(permits::number)
        .first(conn)
        .optional()?;
    view(a, t, &mats, permit_number, now, policy)
}

/// Finds an application by its public number (for the progress query).
pub fn by_number(conn: &mut DbConnection, number: &str) -> Result<Option<(ApplicationRow, TravellerRow)>> {
    if !plausible_key(number) {
        return Ok(None);
    }
    Ok(applications::table
        .inner_join(travellers::table)
        .filter(applications::number.eq(number))
        .select((ApplicationRow::as_select(), TravellerRow::as_select()))
        .first(conn)
        .optional()?)
}

/// Applications waiting for an officer at this office, oldest first: open ones, approved ones
/// waiting to be printed, and any sent back to the queue (e.g. a missing item was supplied).
pub fn queue(conn: &mut DbConnection, office: &str, limit: i64) -> Result<Vec<(ApplicationRow, TravellerRow)>> {
    let waiting = [
        ApplicationStatus::Submitted,
        ApplicationStatus::Accepted,
        ApplicationStatus::Approved,
    ];
    Ok(applications::table
        .inner_join(travellers::table)
        .filter(applications::office.eq(office))
        .filter(
            applications::status
                .eq_any(waiting)
                .or(applications::attention.is_not_null()),
        )
        .order(applications::created_at.asc())
        .limit(limit)
        .select((ApplicationRow::as_select(), TravellerRow::as_select()))
        .load(conn)?)
}

/// The desk's two lists: the queue, and the latest permits.
pub type Desk = (Vec<(ApplicationRow, TravellerRow)>, Vec<super::permits::PermitRecord>);

/// The desk: the actor's office's queue and its latest permits, filtered by office in the
/// queries (another office's work is not fetched at all).
pub fn desk(conn: &mut DbConnection, actor: &Actor, queue_limit: i64, recent_limit: i64) -> Result<Desk> {
    authorize(actor, Action::ViewApplication { office: &actor.office })?;
    Ok((
        queue(conn, &actor.office, queue_limit)?,
        super::permits::recent_permits(conn, &actor.office, recent_limit)?,
    ))
}

/// Moves an application one step with a conditional update on its current state, so of two
/// concurrent steps only one applies. Returns the row as it was.
fn step(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    policy: &Policy,
    id: &str,
    step: Step,
    action: ActionOn,
) -> Result<(ApplicationRow, ApplicationStatus)> {
    let (a, _) = load_for(c, actor, id, action)?;
    let kp = kind_policy(policy, a.kind)?;
    let from = a.status;
    let to = workflow::next(kp.workflow, from, step)?;
    let n = diesel::update(applications::table.find(&a.id).filter(applications::status.eq(from)))
        .set((applications::status.eq(to), applications::updated_at.eq(ts(now))))
        .execute(c)?;
    if n == 0 {
        return Err(DomainError::Conflict {
            message: "申请状态已变化 / the application changed meanwhile".into(),
            current_state: from.as_str().into(),
        }
        .into());
    }
    Ok((a, to))
}

/// One workflow step in one transaction: the conditional move out of the current state, what
/// the step itself changes (`change`, which returns what the audit row records beside the new
/// state), and the audit row; then the application as it is now.
fn transition(
    conn: &mut DbConnection,
    m: &Mover<'_>,
    wanted: Step,
    action: ActionOn,
    change: impl FnOnce(&mut DbConnection, &ApplicationRow) -> Result<serde_json::Value>,
) -> Result<ApplicationOut> {
    let Mover { now, actor, policy, id } = *m;
    write_tx(conn, |c| {
        let (a, to) = step(c, now, actor, policy, id, wanted, action)?;
        let mut after = change(c, &a)?;
        after["status"] = to.as_str().into();
        let before = serde_json::json!({"status": a.status});
        let name = format!("application.{}", wanted.as_str());
        audit::entry(now, Some(&actor.id), &name, "application", &a.id)
            .before(&before)
            .after(&after)
            .write(c)
    })?;
    get_application(conn, id, now, policy)
}

/// 受理: checks the materials presented; deferrable ones may be missing (each gets a due date in
/// working days), others may not. Starts the SLA clock.
fn accept(conn: &mut DbConnection, m: &Mover<'_>, hours: &OfficeHours, provided: &[String]) -> Result<ApplicationOut> {
    let Mover { now, actor, policy, .. } = *m;
    let cal = calendar::load(conn)?;
    transition(conn, m, Step::Accept, on::handle, |c, a| {
        let kp = kind_policy(policy, a.kind)?;
        let deferred = workflow::check_acceptance(kp, provided, now, &cal, hours)?;
        for item in &kp.materials {
            let missing = deferred.iter().find(|d| d.item == item.code);
            let row = MaterialRow {
                application_id: a.id.clone(),
                item: item.code.clone(),
                provided: missing.is_none(),
                due_date: missing.map(|d| d.due),
                provided_at: if missing.is_none() { Some(ts(now)) } else { None },
                provided_by: if missing.is_none() {
                    Some(actor.id.clone())
                } else {
                    None
                },
            };
            diesel::insert_into(application_materials::table)
                .values(&row)
                .execute(c)?;
        }
        // Passports: the review clock starts at upload, not here.
        let due = (kp.workflow == Workflow::Approval && kp.sla_working_days > 0)
            .then(|| cal.deadline(now, kp.sla_working_days, hours));
        diesel::update(applications::table.find(&a.id))
            .set((
                applications::accepted_at.eq(Some(ts(now))),
                applications::accepted_by.eq(Some(&actor.id)),
                applications::due_at.eq(due.map(ts)),
            ))
            .execute(c)?;
        let missing: Vec<String> = deferred.iter().map(|d| format!("{} due {}", d.item, d.due)).collect();
        let mut after = serde_json::json!({"deferred": missing, "due_at": due});
        // The notice by mail commits with the acceptance, or neither happens.
        if let Some(mail) = mail_missing_items(c, now, policy, a, &deferred)? {
            after["mail"] = mail.into();
        }
        Ok(after)
    })
}

/// Queues the notice of missing items for the traveller, in their language, when anything was
/// deferred and they gave an e-mail address; returns the outbox row's id.
fn mail_missing_items(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &Policy,
    a: &ApplicationRow,
    deferred: &[workflow::Deferred],
) -> Result<Option<String>> {
    use crate::mail::{Lang, MissingItem, MissingItems};
    if deferred.is_empty() {
        return Ok(None);
    }
    let t: TravellerRow = travellers::table
        .find(&a.traveller_id)
        .select(TravellerRow::as_select())
        .first(c)?;
    let Some(email) = t.email.as_deref().map(str::trim).filter(|e| crate::mail::is_address(e)) else {
        return Ok(None);
    };
    let lang = Lang::for_nationality(&t.nationality);
    let kp = kind_policy(policy, a.kind)?;
    let items: Vec<MissingItem> = deferred
        .iter()
        .map(|d| MissingItem {
            name: kp
                .materials
                .iter()
                .find(|m| m.code == d.item)
                .map(|m| match lang {
                    Lang::Zh => m.name_zh.clone(),
                    Lang::Vi => m.name_vi.clone(),
                    Lang::En => m.name_en.clone(),
                })
                .unwrap_or_else(|| d.item.clone()),
            due: d.due,
        })
        .collect();
    let office = policy
        .office(&a.office)
        .map(|o| {
            if lang == Lang::Zh {
                o.name_zh.clone()
            } else {
                o.name_en.clone()
            }
        })
        .unwrap_or_else(|| a.office.clone());
    let holder = match (lang, &t.name_zh) {
        (Lang::Zh, Some(zh)) => zh.clone(),
        _ => t.name_latin.clone(),
    };
    let number = a.number.clone().unwrap_or_else(|| a.id.clone());
    let message = MissingItems {
        lang,
        holder: &holder,
        application_number: &number,
        office: &office,
        items: &items,
    }
    .render()?;
    super::outbox::enqueue(c, now, "missing_items", Some(&a.id), email, lang, message).map(Some)
}

fn approve(conn: &mut DbConnection, m: &Mover<'_>) -> Result<ApplicationOut> {
    let Mover { now, actor, policy, .. } = *m;
    transition(conn, m, Step::Approve, on::issue, |c, a| {
        let outstanding = materials(c, &a.id)?.iter().filter(|m| !m.provided).count();
        workflow::check_approval(
            kind_policy(policy, a.kind)?,
            &actor.id,
            a.accepted_by.as_deref(),
            outstanding,
        )?;
        diesel::update(applications::table.find(&a.id))
            .set((
                applications::decided_at.eq(Some(ts(now))),
                applications::decided_by.eq(Some(&actor.id)),
            ))
            .execute(c)?;
        Ok(serde_json::json!({"outstanding_items": outstanding}))
    })
}

/// A reason is a sentence or two for the applicant and the audit, not a document.
const REASON_MAX_CHARS: usize = 500;

fn reason_required(reason: Option<&str>) -> Result<String> {
    let reason = reason.map(str::trim).unwrap_or("");
    let mut errs = FieldErrors::new();
    if reason.is_empty() {
        errs.add("reason", "required", "请注明原因 / a reason is required");
    } else if let Some((rule, message)) = crate::domain::validation::text_problem(reason, REASON_MAX_CHARS) {
        errs.add("reason", rule, message);
    }
    errs.finish(crate::domain::validation::nfc(reason).into_owned())
        .map_err(Error::from)
}

fn reject(conn: &mut DbConnection, m: &Mover<'_>, reason: Option<&str>) -> Result<ApplicationOut> {
    let Mover { now, actor, .. } = *m;
    let reason = reason_required(reason)?;
    transition(conn, m, Step::Reject, on::issue, |c, a| {
        diesel::update(applications::table.find(&a.id))
            .set((
                applications::decided_at.eq(Some(ts(now))),
                applications::decided_by.eq(Some(&actor.id)),
                applications::reason.eq(Some(&reason)),
                applications::attention.eq(None::<String>),
            ))
            .execute(c)?;
        Ok(serde_json::json!({"reason": reason}))
    })
}

fn withdraw(conn: &mut DbConnection, m: &Mover<'_>) -> Result<ApplicationOut> {
    transition(conn, m, Step::Withdraw, on::handle, |c, a| {
        diesel::update(applications::table.find(&a.id))
            .set(applications::attention.eq(None::<String>))
            .execute(c)?;
        Ok(serde_json::json!({}))
    })
}

/// The holder collected the printed permit.
fn collect(conn: &mut DbConnection, m: &Mover<'_>) -> Result<ApplicationOut> {
    transition(conn, m, Step::Collect, on::print, |_, _| Ok(serde_json::json!({})))
}

/// A deferred item arrives: recorded, and the application goes back to the officers' queue.
/// When it was the last one, the permit (if printed) is no longer pending.
fn supply(conn: &mut DbConnection, m: &Mover<'_>, item: &str) -> Result<ApplicationOut> {
    let Mover { now, actor, policy, id } = *m;
    write_tx(conn, |c| {
        let a = open_for_supply(c, actor, id)?;
        if !plausible_key(item) {
            return Err(DomainError::NotFound {
                what: "outstanding material",
            }
            .into());
        }
        if !supplied(c, now, actor, &a.id, item)? {
            let exists: i64 = application_materials::table.find((&a.id, item)).count().get_result(c)?;
            return Err(if exists == 0 {
                DomainError::NotFound {
                    what: "outstanding material",
                }
                .into()
            } else {
                DomainError::Conflict {
                    message: "该材料已提交 / this item was already supplied".into(),
                    current_state: "provided".into(),
                }
                .into()
            });
        }
        Ok(())
    })?;
    get_application(conn, id, now, policy)
}

/// The application something is supplied to (a deferred item, the portrait): it exists, the
/// actor handles its kind, and it is not closed (rejected or withdrawn).
pub(crate) fn open_for_supply(c: &mut DbConnection, actor: &Actor, id: &str) -> Result<ApplicationRow> {
    let (a, _) = load_for(c, actor, id, on::handle)?;
    let status = a.status;
    if matches!(status, ApplicationStatus::Rejected | ApplicationStatus::Withdrawn) {
        return Err(DomainError::Conflict {
            message: format!("申请已{0} / the application is {0}", status.as_str()),
            current_state: status.as_str().into(),
        }
        .into());
    }
    Ok(a)
}

/// Marks an outstanding item supplied inside the caller's transaction: the application returns
/// to the officers' queue with the reason, offline verifiers learn of it, the change is audited.
/// False when the item was not outstanding (nothing changed).
pub(crate) fn supplied(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    app_id: &str,
    item: &str,
) -> Result<bool> {
    let n = diesel::update(
        application_materials::table
            .find((app_id, item))
            .filter(application_materials::provided.eq(false)),
    )
    .set((
        application_materials::provided.eq(true),
        application_materials::provided_at.eq(Some(ts(now))),
        application_materials::provided_by.eq(Some(&actor.id)),
    ))
    .execute(c)?;
    if n == 0 {
        return Ok(false);
    }
    let remaining: i64 = application_materials::table
        .filter(application_materials::application_id.eq(app_id))
        .filter(application_materials::provided.eq(false))
        .count()
        .get_result(c)?;
    super::trust::touch_application(c, app_id)?;
    let attention = if remaining == 0 {
        format!("材料已补齐 all materials supplied ({item})")
    } else {
        format!("已补交 supplied: {item}; 尚缺 {remaining} outstanding")
    };
    diesel::update(applications::table.find(app_id))
        .set((
            applications::attention.eq(Some(&attention)),
            applications::updated_at.eq(ts(now)),
        ))
        .execute(c)?;
    let after = serde_json::json!({"item": item, "remaining": remaining});
    audit::entry(now, Some(&actor.id), "application.supply", "application", app_id)
        .after(&after)
        .write(c)?;
    Ok(true)
}

/// An officer has seen why the application came back; it leaves the queue.
fn acknowledge(conn: &mut DbConnection, m: &Mover<'_>) -> Result<ApplicationOut> {
    let Mover { now, actor, policy, id } = *m;
    write_tx(conn, |c| {
        let (a, _) = load_for(c, actor, id, on::handle)?;
        diesel::update(applications::table.find(&a.id))
            .set(applications::attention.eq(None::<String>))
            .execute(c)?;
        let before = serde_json::json!({"attention": a.attention});
        audit::entry(now, Some(&actor.id), "application.acknowledge", "application", &a.id)
            .before(&before)
            .write(c)
    })?;
    get_application(conn, id, now, policy)
}

/// The external review system's result for an uploaded passport application.
fn review(
    conn: &mut DbConnection,
    m: &Mover<'_>,
    result: Option<&str>,
    reason: Option<&str>,
) -> Result<ApplicationOut> {
    let Mover { now, actor, .. } = *m;
    let approved = match result.map(str::trim) {
        Some("approved") => true,
        Some("rejected") => false,
        _ => {
            let mut errs = FieldErrors::new();
            errs.add(
                "result",
                "one_of",
                "审核结果应为approved或rejected / approved or rejected",
            );
            return Err(errs.into());
        }
    };
    let reason = if approved {
        let mut errs = FieldErrors::new();
        let reason = crate::domain::validation::optional_text(&mut errs, "reason", reason, REASON_MAX_CHARS);
        errs.finish(reason)?
    } else {
        Some(reason_required(reason)?)
    };
    transition(conn, m, Step::Review(approved), on::handle, |c, a| {
        diesel::update(applications::table.find(&a.id))
            .set((
                applications::decided_at.eq(Some(ts(now))),
                applications::decided_by.eq(Some(&actor.id)),
                applications::reason.eq(&reason),
            ))
            .execute(c)?;
        Ok(serde_json::json!({"reason": reason}))
    })
}

/// Who moves which application, when, under which policy: what every workflow step takes.
#[derive(Clone, Copy)]
struct Mover<'a> {
    now: DateTime<Utc>,
    actor: &'a Actor,
    policy: &'a Policy,
    id: &'a str,
}

/// One workflow step an officer asks for, from an API route or the application page's form.
#[derive(Debug, Clone)]
pub enum Move {
    /// The checklist items presented at the window; the rest are deferred where policy allows.
    Accept {
        provided: Vec<String>,
    },
    Approve,
    Reject {
        reason: Option<String>,
    },
    Withdraw,
    Collect,
    /// A deferred item brought in.
    Supply {
        item: String,
    },
    Acknowledge,
    /// The external review's result (approved or rejected) and, when rejected, why.
    Review {
        result: Option<String>,
        reason: Option<String>,
    },
}

impl Move {
    /// The application page's `step` field and the fields that go with it; None for a step
    /// the page does not have.
    pub fn from_form(step: &str, field: impl Fn(&str) -> Option<String>, provided: Vec<String>) -> Option<Move> {
        Some(match step {
            "accept" => Move::Accept { provided },
            "approve" => Move::Approve,
            "reject" => Move::Reject {
                reason: field("reason"),
            },
            "withdraw" => Move::Withdraw,
            "collect" => Move::Collect,
            "supply" => Move::Supply {
                item: field("item").unwrap_or_default(),
            },
            "acknowledge" => Move::Acknowledge,
            "review" => Move::Review {
                result: field("result"),
                reason: field("reason"),
            },
            _ => return None,
        })
    }
}

impl super::Ctx {
    /// Takes an application at the window (the API: an open one for the same document is a 409
    /// unless the request confirms the duplicate).
    pub async fn create_application(&self, actor: Actor, input: NewApplication) -> Result<ApplicationOut> {
        self.write(move |c, ctx, now| create_application(c, now, &actor, &ctx.policy, &input))
            .await
    }

    /// Takes an application at the window (the desk page: an open one for the same document is
    /// shown to the officer instead of refused).
    pub async fn take_application(&self, actor: Actor, input: NewApplication) -> Result<Taken> {
        self.write(move |c, ctx, now| take_application(c, now, &actor, &ctx.policy, &input))
            .await
    }

    /// One application, for staff of its office.
    pub async fn application(&self, actor: Actor, id: String) -> Result<ApplicationOut> {
        self.tx(move |c, ctx, now| read(c, &actor, &id, now, &ctx.policy)).await
    }

    /// One application with the state of its progress lookup (the desk's application page).
    pub async fn application_with_lookup(
        &self,
        actor: Actor,
        id: String,
    ) -> Result<(ApplicationOut, Option<super::progress::LookupState>)> {
        self.tx(move |c, ctx, now| {
            let app = read(c, &actor, &id, now, &ctx.policy)?;
            Ok((app, super::progress::state(c, now, &id)?))
        })
        .await
    }

    /// The officer's desk: the office's queue (up to 50) and its latest 20 permits.
    pub async fn desk(&self, actor: Actor) -> Result<Desk> {
        self.tx(move |c, _, _| desk(c, &actor, 50, 20)).await
    }

    /// Moves an application one workflow step.
    pub async fn step(&self, actor: Actor, id: String, step: Move) -> Result<ApplicationOut> {
        self.tx(move |c, ctx, now| {
            let m = &Mover {
                now,
                actor: &actor,
                policy: &ctx.policy,
                id: &id,
            };
            match step {
                Move::Accept { provided } => accept(c, m, &ctx.hours, &provided),
                Move::Approve => approve(c, m),
                Move::Reject { reason } => reject(c, m, reason.as_deref()),
                Move::Withdraw => withdraw(c, m),
                Move::Collect => collect(c, m),
                Move::Supply { item } => supply(c, m, &item),
                Move::Acknowledge => acknowledge(c, m),
                Move::Review { result, reason } => review(c, m, result.as_deref(), reason.as_deref()),
            }
        })
        .await
    }
}
