//! Applications and permits: take an application, issue the permit once, look it up, revoke it.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::models::{ApplicationRow, IdempotencyRow, PermitRow, TravellerRow};
use crate::db::schema::{applications, idempotency_keys, officers, permits, serial_counters, travellers};
use crate::db::{DbConnection, audit, new_id, ts, utc, write_tx};
use crate::domain::auth::{Action, Actor, authorize};
use crate::domain::ids::IdType;
use crate::domain::mask::mask_id;
use crate::domain::permit::{self, ApplicationStatus, PermitKind, PermitStatus};
use crate::domain::policy::{KindPolicy, Policy};
use crate::domain::seal::{self, SealInput};
use crate::domain::traveller::{self, TravellerInput};
use crate::domain::validation::{FieldErrors, plausible_key};
use crate::domain::{DomainError, local};
use crate::error::{Error, Result};
use crate::keys::KeyRing;

/// Body of `POST /api/v1/applications`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct NewApplication {
    /// border_tourism (border_trade and passport follow in later releases).
    pub kind: Option<String>,
    pub traveller: Option<TravellerInput>,
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
            sex: t.sex.clone(),
            birth_date: t.birth_date,
            id_type: t.id_type.clone(),
            id_number: mask_id(&t.id_number),
            phone: t.phone.clone(),
            email: t.email.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApplicationOut {
    pub id: String,
    pub kind: PermitKind,
    pub status: ApplicationStatus,
    pub office: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<FixedOffset>,
    pub traveller: TravellerOut,
    /// The permit, once issued.
    pub permit_number: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PermitOut {
    pub number: String,
    pub kind: PermitKind,
    /// issued, used, expired or revoked, as of now.
    pub status: PermitStatus,
    #[schema(value_type = String, format = DateTime)]
    pub valid_from: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub valid_until: DateTime<FixedOffset>,
    pub entries_allowed: i32,
    pub entries_used: i32,
    pub office: String,
    pub application_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub issued_at: DateTime<FixedOffset>,
    pub issued_by: String,
    pub holder: TravellerOut,
    /// The signed payload printed as the permit's 2D code.
    pub code: String,
    pub key_id: String,
    pub revoke_reason: Option<String>,
}

/// A permit with everything needed to show or print it.
#[derive(Debug, Clone)]
pub struct PermitRecord {
    pub permit: PermitRow,
    pub traveller: TravellerRow,
    pub issued_by_name: String,
}

impl PermitRecord {
    pub fn kind(&self) -> Option<PermitKind> {
        PermitKind::parse(&self.permit.kind)
    }

    pub fn status(&self, now: DateTime<Utc>) -> PermitStatus {
        let stored = PermitStatus::parse(&self.permit.status).unwrap_or(PermitStatus::Revoked);
        permit::effective_status(stored, utc(self.permit.valid_until), now)
    }

    pub fn out(&self, now: DateTime<Utc>) -> Result<PermitOut> {
        let p = &self.permit;
        Ok(PermitOut {
            number: p.number.clone(),
            kind: self
                .kind()
                .ok_or_else(|| Error::Internal(format!("stored kind {}", p.kind)))?,
            status: self.status(now),
            valid_from: local(utc(p.valid_from)).fixed_offset(),
            valid_until: local(utc(p.valid_until)).fixed_offset(),
            entries_allowed: p.entries_allowed,
            entries_used: p.entries_used,
            office: p.office.clone(),
            application_id: p.application_id.clone(),
            issued_at: local(utc(p.issued_at)).fixed_offset(),
            issued_by: self.issued_by_name.clone(),
            holder: TravellerOut::from(&self.traveller),
            code: p.signed_code.clone(),
            key_id: p.key_id.clone(),
            revoke_reason: p.revoke_reason.clone(),
        })
    }
}

fn kind_policy(policy: &Policy, kind: PermitKind) -> Result<&KindPolicy> {
    policy.kind(kind).ok_or_else(|| {
        let mut errs = FieldErrors::new();
        errs.add(
            "kind",
            "offered",
            format!("本窗口暂不办理{0} / {0} is not offered here yet", kind.as_str()),
        );
        errs.into()
    })
}

/// Takes an application at the window. Authorisation first (403), then every field (422).
pub fn create_application(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    policy: &Policy,
    input: &NewApplication,
) -> Result<ApplicationOut> {
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
    if let Some(kind) = kind {
        authorize(actor, Action::CreateApplication(kind))?;
        if let Err(Error::Domain(DomainError::Validation(e))) = kind_policy(policy, kind) {
            errs.0.extend(e.0);
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
    if let (Some(kind), Some(t)) = (kind, &traveller)
        && let Some(kp) = policy.kind(kind)
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
    let (kind, t) = match (kind, traveller) {
        (Some(k), Some(t)) if errs.is_empty() => (k, t),
        _ => return Err(errs.into()),
    };

    let trow = TravellerRow {
        id: new_id(),
        name_zh: t.name_zh,
        name_latin: t.name_latin,
        nationality: t.nationality,
        sex: t.sex.as_str().to_string(),
        birth_date: t.birth_date,
        id_type: t.id_type.as_str().to_string(),
        id_number: t.id_number,
        phone: t.phone,
        email: t.email,
        created_at: ts(now),
    };
    let arow = ApplicationRow {
        id: new_id(),
        kind: kind.as_str().to_string(),
        traveller_id: trow.id.clone(),
        office: actor.office.clone(),
        status: ApplicationStatus::Submitted.as_str().to_string(),
        created_by: actor.id.clone(),
        created_at: ts(now),
        updated_at: ts(now),
    };
    let out = ApplicationOut {
        id: arow.id.clone(),
        kind,
        status: ApplicationStatus::Submitted,
        office: arow.office.clone(),
        created_at: local(now).fixed_offset(),
        traveller: TravellerOut::from(&trow),
        permit_number: None,
    };
    write_tx(conn, |c| {
        diesel::insert_into(travellers::table).values(&trow).execute(c)?;
        diesel::insert_into(applications::table).values(&arow).execute(c)?;
        audit::record::<(), _>(
            c,
            audit::Change {
                at: now,
                actor: Some(&actor.id),
                action: "application.create",
                entity: "application",
                entity_id: &arow.id,
                before: None,
                after: Some(&out),
            },
        )
    })?;
    Ok(out)
}

pub fn get_application(conn: &mut DbConnection, id: &str) -> Result<ApplicationOut> {
    if !plausible_key(id) {
        return Err(DomainError::NotFound { what: "application" }.into());
    }
    let found: Option<(ApplicationRow, TravellerRow)> = applications::table
        .inner_join(travellers::table)
        .filter(applications::id.eq(id))
        .select((ApplicationRow::as_select(), TravellerRow::as_select()))
        .first(conn)
        .optional()?;
    let (a, t) = found.ok_or(DomainError::NotFound { what: "application" })?;
    let permit_number = permits::table
        .filter(permits::application_id.eq(&a.id))
        .select(permits::number)
        .first(conn)
        .optional()?;
    Ok(ApplicationOut {
        id: a.id,
        kind: PermitKind::parse(&a.kind).ok_or_else(|| Error::Internal(format!("stored kind {}", a.kind)))?,
        status: ApplicationStatus::parse(&a.status)
            .ok_or_else(|| Error::Internal(format!("stored status {}", a.status)))?,
        office: a.office,
        created_at: local(utc(a.created_at)).fixed_offset(),
        traveller: TravellerOut::from(&t),
        permit_number,
    })
}

/// An `Idempotency-Key` and the fingerprint of the request it came with.
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

impl Idempotency {
    pub fn new(key: &str, application_id: &str, body: &[u8]) -> Result<Idempotency> {
        let key = key.trim();
        if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
            let mut errs = FieldErrors::new();
            errs.add("Idempotency-Key", "format", "1–255 visible ASCII characters");
            return Err(errs.into());
        }
        let mut h = Sha256::new();
        h.update(b"issue\0");
        h.update(application_id.as_bytes());
        h.update(b"\0");
        h.update(body);
        Ok(Idempotency {
            key: key.to_string(),
            request_hash: hex::encode(h.finalize()),
        })
    }
}

/// The permit an earlier request with this key produced, if any; a different request under the
/// same key is refused.
fn replay(conn: &mut DbConnection, actor: &Actor, idem: &Idempotency) -> Result<Option<String>> {
    let row: Option<IdempotencyRow> = idempotency_keys::table
        .find((&actor.id, &idem.key))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .optional()?;
    match row {
        Some(r) if r.request_hash == idem.request_hash => Ok(Some(r.permit_number)),
        Some(_) => Err(DomainError::IdempotencyMismatch.into()),
        None => Ok(None),
    }
}

/// Issues the permit for a submitted application, once. Returns the permit and whether this
/// was a replay of an earlier request with the same idempotency key.
pub fn issue(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    policy: &Policy,
    keys: &KeyRing,
    application_id: &str,
    idem: Option<&Idempotency>,
) -> Result<(PermitRecord, bool)> {
    if let Some(idem) = idem
        && let Some(number) = replay(conn, actor, idem)?
    {
        return Ok((get_permit(conn, &number)?, true));
    }
    match write_tx(conn, |c| issue_in_tx(c, now, actor, policy, keys, application_id, idem)) {
        Ok(number) => Ok((get_permit(conn, &number)?, false)),
        // A concurrent request with the same key won the race (it holds the application, or
        // the key's row): answer with what it produced.
        Err(e) => match idem {
            Some(idem) => match replay(conn, actor, idem)? {
                Some(number) => Ok((get_permit(conn, &number)?, true)),
                None => Err(e),
            },
            None => Err(e),
        },
    }
}

fn issue_in_tx(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    policy: &Policy,
    keys: &KeyRing,
    application_id: &str,
    idem: Option<&Idempotency>,
) -> Result<String> {
    if !plausible_key(application_id) {
        return Err(DomainError::NotFound { what: "application" }.into());
    }
    let (app, trav): (ApplicationRow, TravellerRow) = applications::table
        .inner_join(travellers::table)
        .filter(applications::id.eq(application_id))
        .select((ApplicationRow::as_select(), TravellerRow::as_select()))
        .first(c)
        .optional()?
        .ok_or(DomainError::NotFound { what: "application" })?;
    let kind = PermitKind::parse(&app.kind).ok_or_else(|| Error::Internal(format!("stored kind {}", app.kind)))?;
    authorize(actor, Action::IssuePermit(kind))?;
    let status = ApplicationStatus::parse(&app.status)
        .ok_or_else(|| Error::Internal(format!("stored status {}", app.status)))?;
    permit::check_issue(status)?;
    let kp = kind_policy(policy, kind)?;

    // The conditional update is the guard: of two concurrent issuers only one changes the row.
    let claimed = diesel::update(
        applications::table
            .find(&app.id)
            .filter(applications::status.eq(ApplicationStatus::Submitted.as_str())),
    )
    .set((
        applications::status.eq(ApplicationStatus::Issued.as_str()),
        applications::updated_at.eq(ts(now)),
    ))
    .execute(c)?;
    if claimed == 0 {
        return Err(DomainError::Conflict {
            message: "申请已签发 / the application was issued meanwhile".into(),
            current_state: ApplicationStatus::Issued.as_str().into(),
        }
        .into());
    }

    let series = permit::series(&kp.series_prefix, &app.office, now);
    let serial = next_serial(c, &series)?;
    let number = permit::permit_number(&series, serial);
    let (valid_from, valid_until) =
        permit::validity(now, kp.validity_months).ok_or_else(|| Error::Internal("validity out of range".into()))?;
    let signed_code = seal::sign(
        keys.active(),
        &SealInput {
            kind,
            number: &number,
            holder: &trav.name_latin,
            nationality: &trav.nationality,
            valid_from: local(valid_from).date_naive(),
            valid_until: local(valid_until).date_naive(),
            entries: kp.entries_allowed,
        },
    );
    let row = PermitRow {
        number: number.clone(),
        series,
        serial,
        application_id: app.id.clone(),
        kind: kind.as_str().to_string(),
        status: PermitStatus::Issued.as_str().to_string(),
        traveller_id: trav.id.clone(),
        office: app.office.clone(),
        valid_from: ts(valid_from),
        valid_until: ts(valid_until),
        entries_allowed: i32::try_from(kp.entries_allowed).unwrap_or(1),
        entries_used: 0,
        key_id: keys.active_id(),
        signed_code,
        issued_by: actor.id.clone(),
        issued_at: ts(now),
        revoked_at: None,
        revoked_by: None,
        revoke_reason: None,
    };
    diesel::insert_into(permits::table).values(&row).execute(c)?;
    if let Some(idem) = idem {
        let key_row = IdempotencyRow {
            officer_id: actor.id.clone(),
            idem_key: idem.key.clone(),
            request_hash: idem.request_hash.clone(),
            permit_number: number.clone(),
            created_at: ts(now),
        };
        diesel::insert_into(idempotency_keys::table)
            .values(&key_row)
            .execute(c)?;
    }
    let before = serde_json::json!({"status": app.status});
    let after = serde_json::json!({"status": ApplicationStatus::Issued.as_str(), "permit": number});
    audit::record(
        c,
        audit::Change {
            at: now,
            actor: Some(&actor.id),
            action: "application.issue",
            entity: "application",
            entity_id: &app.id,
            before: Some(&before),
            after: Some(&after),
        },
    )?;
    let permit_after = serde_json::json!({"number": number, "kind": row.kind, "status": row.status, "holder_id": mask_id(&trav.id_number), "valid_from": row.valid_from, "valid_until": row.valid_until, "entries_allowed": row.entries_allowed, "key_id": row.key_id});
    audit::record::<(), _>(
        c,
        audit::Change {
            at: now,
            actor: Some(&actor.id),
            action: "permit.issue",
            entity: "permit",
            entity_id: &number,
            before: None,
            after: Some(&permit_after),
        },
    )?;
    Ok(number)
}

/// The next serial of a series, gapless: a counter row updated inside the issuing transaction,
/// so a rolled-back issue gives its number back and concurrent issuers queue on the row lock.
fn next_serial(c: &mut DbConnection, series: &str) -> Result<i64> {
    let seed = (serial_counters::series.eq(series), serial_counters::last_value.eq(0i64));
    // Upserts do not go through diesel's multi-connection; the statement is the same on both.
    match c {
        DbConnection::Sqlite(s) => diesel::insert_into(serial_counters::table)
            .values(seed)
            .on_conflict_do_nothing()
            .execute(s)?,
        DbConnection::Postgresql(p) => diesel::insert_into(serial_counters::table)
            .values(seed)
            .on_conflict_do_nothing()
            .execute(p)?,
    };
    Ok(diesel::update(serial_counters::table.find(series))
        .set(serial_counters::last_value.eq(serial_counters::last_value + 1))
        .returning(serial_counters::last_value)
        .get_result(c)?)
}

pub fn get_permit(conn: &mut DbConnection, number: &str) -> Result<PermitRecord> {
    if !plausible_key(number) {
        return Err(DomainError::NotFound { what: "permit" }.into());
    }
    let found: Option<(PermitRow, TravellerRow, String)> = permits::table
        .inner_join(travellers::table)
        .inner_join(officers::table.on(officers::id.eq(permits::issued_by)))
        .filter(permits::number.eq(number))
        .select((
            PermitRow::as_select(),
            TravellerRow::as_select(),
            officers::display_name,
        ))
        .first(conn)
        .optional()?;
    let (permit, traveller, issued_by_name) = found.ok_or(DomainError::NotFound { what: "permit" })?;
    Ok(PermitRecord {
        permit,
        traveller,
        issued_by_name,
    })
}

/// The most recent permits, newest first, for the officer's desk.
pub fn recent_permits(conn: &mut DbConnection, limit: i64) -> Result<Vec<PermitRecord>> {
    let rows: Vec<(PermitRow, TravellerRow, String)> = permits::table
        .inner_join(travellers::table)
        .inner_join(officers::table.on(officers::id.eq(permits::issued_by)))
        .order(permits::issued_at.desc())
        .limit(limit)
        .select((
            PermitRow::as_select(),
            TravellerRow::as_select(),
            officers::display_name,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(permit, traveller, issued_by_name)| PermitRecord {
            permit,
            traveller,
            issued_by_name,
        })
        .collect())
}

/// Applications taken but not yet issued, oldest first.
pub fn open_applications(
    conn: &mut DbConnection,
    office: &str,
    limit: i64,
) -> Result<Vec<(ApplicationRow, TravellerRow)>> {
    Ok(applications::table
        .inner_join(travellers::table)
        .filter(applications::status.eq(ApplicationStatus::Submitted.as_str()))
        .filter(applications::office.eq(office))
        .order(applications::created_at.asc())
        .limit(limit)
        .select((ApplicationRow::as_select(), TravellerRow::as_select()))
        .load(conn)?)
}

pub fn revoke(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    number: &str,
    reason: Option<&str>,
) -> Result<PermitRecord> {
    authorize(actor, Action::RevokePermit)?;
    write_tx(conn, |c| {
        let rec = get_permit(c, number)?;
        let reason = permit::check_revoke(rec.status(now), reason)?;
        let n = diesel::update(
            permits::table
                .find(number)
                .filter(permits::status.eq(PermitStatus::Issued.as_str())),
        )
        .set((
            permits::status.eq(PermitStatus::Revoked.as_str()),
            permits::revoked_at.eq(Some(ts(now))),
            permits::revoked_by.eq(Some(&actor.id)),
            permits::revoke_reason.eq(Some(&reason)),
        ))
        .execute(c)?;
        if n == 0 {
            return Err(DomainError::Conflict {
                message: "通行证状态已变化 / the permit changed meanwhile".into(),
                current_state: rec.permit.status.clone(),
            }
            .into());
        }
        let before = serde_json::json!({"status": rec.permit.status});
        let after = serde_json::json!({"status": PermitStatus::Revoked.as_str(), "reason": reason});
        audit::record(
            c,
            audit::Change {
                at: now,
                actor: Some(&actor.id),
                action: "permit.revoke",
                entity: "permit",
                entity_id: number,
                before: Some(&before),
                after: Some(&after),
            },
        )
    })?;
    get_permit(conn, number)
}
