//! Permits: issued once per application (idempotently, with gapless serials), looked up with
//! their effective status, revoked.

use chrono::{DateTime, FixedOffset, Utc};
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::applications::{TravellerOut, kind_policy, materials, next_serial};
use crate::db::models::{ApplicationRow, IdempotencyRow, MaterialRow, PermitRow, TravellerRow};
use crate::db::schema::{application_materials, applications, idempotency_keys, officers, permits, travellers};
use crate::db::{DbConnection, audit, ts, utc, write_tx};
use crate::domain::auth::{Action, Actor, authorize, authorize_role};
use crate::domain::mask::mask_id;
use crate::domain::permit::{self, ApplicationStatus, PermitKind, PermitStatus};
use crate::domain::policy::Policy;
use crate::domain::seal::{self, SealInput};
use crate::domain::validation::{FieldErrors, plausible_key};
use crate::domain::verdict;
use crate::domain::workflow::{self, Step};
use crate::domain::{DomainError, local};
use crate::error::{Error, Result};
use crate::keys::KeyRing;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PermitOut {
    pub number: String,
    pub kind: PermitKind,
    /// issued, pending, suspended, used, expired or revoked, as of now.
    pub status: PermitStatus,
    #[schema(value_type = String, format = DateTime)]
    pub valid_from: DateTime<FixedOffset>,
    #[schema(value_type = String, format = DateTime)]
    pub valid_until: DateTime<FixedOffset>,
    /// 0 = multiple entries.
    pub entries_allowed: i32,
    pub entries_used: i32,
    pub office: String,
    pub application_id: String,
    pub enterprise_name: Option<String>,
    pub plates: Vec<String>,
    /// Materials (or the portrait) still outstanding, with due dates: the permit is pending.
    pub outstanding: Vec<String>,
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
    pub application: ApplicationRow,
    pub issued_by_name: String,
    /// Items of the application not yet supplied.
    pub outstanding: Vec<MaterialRow>,
}

impl PermitRecord {
    pub fn kind(&self) -> PermitKind {
        self.permit.kind
    }

    pub fn status(&self, now: DateTime<Utc>) -> PermitStatus {
        let stored = self.permit.status;
        let due: Vec<chrono::NaiveDate> = self
            .outstanding
            .iter()
            .map(|m| m.due_date.unwrap_or(chrono::NaiveDate::MIN))
            .collect();
        permit::effective_status(stored, utc(self.permit.valid_until), &due, now)
    }

    /// What a checkpoint would decide about this permit now.
    pub fn verdict(&self, now: DateTime<Utc>) -> crate::domain::verdict::Verdict {
        crate::domain::verdict::decide(self.status(now), utc(self.permit.valid_from), now)
    }

    pub fn plates(&self) -> Vec<String> {
        self.application
            .plates
            .as_deref()
            .map(|p| p.split(',').map(str::to_string).collect())
            .unwrap_or_default()
    }

    pub fn out(&self, now: DateTime<Utc>) -> Result<PermitOut> {
        let p = &self.permit;
        Ok(PermitOut {
            number: p.number.clone(),
            kind: p.kind,
            status: self.status(now),
            valid_from: local(utc(p.valid_from)).fixed_offset(),
            valid_until: local(utc(p.valid_until)).fixed_offset(),
            entries_allowed: p.entries_allowed,
            entries_used: p.entries_used,
            office: p.office.clone(),
            application_id: p.application_id.clone(),
            enterprise_name: self.application.enterprise_name.clone(),
            plates: self.plates(),
            outstanding: self
                .outstanding
                .iter()
                .map(|m| {
                    format!(
                        "{} (due {})",
                        m.item,
                        m.due_date.map(|d| d.to_string()).unwrap_or_default()
                    )
                })
                .collect(),
            issued_at: local(utc(p.issued_at)).fixed_offset(),
            issued_by: self.issued_by_name.clone(),
            holder: TravellerOut::from(&self.traveller),
            code: p.signed_code.clone(),
            key_id: p.key_id.clone(),
            revoke_reason: p.revoke_reason.clone(),
        })
    }
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
    let row: Option<IdempotencyRow> = crate::native!(conn, c => idempotency_keys::table
        .find((&actor.id, &idem.key))
        .select(IdempotencyRow::as_select())
        .first(c))
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
    authorize_role(
        actor,
        Action::IssuePermit {
            kind: PermitKind::BorderTourism,
            office: &actor.office,
        },
    )?;
    if let Some(idem) = idem
        && let Some(number) = replay(conn, actor, idem)?
    {
        return Ok((get_permit(conn, &number)?, true));
    }
    match write_tx(conn, |c| issue_in_tx(c, now, actor, policy, keys, application_id, idem)) {
        Ok(record) => Ok((record, false)),
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
) -> Result<PermitRecord> {
    if !plausible_key(application_id) {
        return Err(DomainError::NotFound { what: "application" }.into());
    }
    let (app, trav): (ApplicationRow, TravellerRow) = crate::native!(c, c => applications::table
        .inner_join(travellers::table)
        .filter(applications::id.eq(application_id))
        .select((ApplicationRow::as_select(), TravellerRow::as_select()))
        .first(c))
    .optional()?
    .ok_or(DomainError::NotFound { what: "application" })?;
    let kind = app.kind;
    authorize(
        actor,
        Action::IssuePermit {
            kind,
            office: &app.office,
        },
    )?;
    let status = app.status;
    let kp = kind_policy(policy, kind)?;
    let to = workflow::next(kp.workflow, status, Step::Issue)?;
    if !keys.active_signs(kind) {
        return Err(DomainError::Conflict {
            message: format!(
                "当前签名密钥不能签发{0}，请轮换密钥 / the active key may not sign {0}: rotate keys",
                kind.as_str()
            ),
            current_state: status.as_str().into(),
        }
        .into());
    }
    let (months, entries) = kp
        .validity(app.validity_option.as_deref())
        .ok_or_else(|| Error::Internal(format!("validity option {:?} not in policy", app.validity_option)))?;
    let (valid_from, valid_until) =
        permit::validity(now, months).ok_or_else(|| Error::Internal("validity out of range".into()))?;
    // A permit never outlives its signing key: verifiers drop a key once it ends.
    let until = local(valid_until).date_naive();
    if let Some(k) = keys.active_key().filter(|k| !k.covers(until)) {
        return Err(DomainError::Conflict {
            message: format!(
                "签名密钥{0}于{1}到期，早于本证有效期{2}，请轮换密钥 / the signing key {0} ends on {1}, before this permit would ({2}): rotate keys",
                keys.active_id(),
                local(k.not_after).date_naive(),
                until
            ),
            current_state: status.as_str().into(),
        }
        .into());
    }

    // The conditional update is the guard: of two concurrent issuers only one changes the row.
    let claimed = crate::native!(c, c => diesel::update(
        applications::table
            .find(&app.id)
            .filter(applications::status.eq(status)),
    )
    .set((applications::status.eq(to), applications::updated_at.eq(ts(now))))
    .execute(c))?;
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
    let signed_code = seal::sign(
        keys.active(),
        &SealInput {
            kind,
            number: &number,
            holder: &trav.name_latin,
            nationality: &trav.nationality,
            valid_from: local(valid_from).date_naive(),
            valid_until: local(valid_until).date_naive(),
            entries,
        },
    );
    // Issued with materials outstanding (容缺): offline verifiers must hold it as pending, so it
    // is stamped with a trust version from the start; otherwise they need not hear of it.
    let outstanding: Vec<MaterialRow> = crate::native!(c, c => application_materials::table
        .filter(application_materials::application_id.eq(&app.id))
        .filter(application_materials::provided.eq(false))
        .select(MaterialRow::as_select())
        .load(c))?;
    let trust_version = if !outstanding.is_empty() {
        super::trust::next_version(c)?
    } else {
        0
    };
    let row = PermitRow {
        number: number.clone(),
        series,
        serial,
        application_id: app.id.clone(),
        kind,
        status: PermitStatus::Issued,
        traveller_id: trav.id.clone(),
        office: app.office.clone(),
        valid_from: ts(valid_from),
        valid_until: ts(valid_until),
        entries_allowed: i32::try_from(entries).unwrap_or(1),
        entries_used: 0,
        key_id: keys.active_id(),
        signed_code,
        issued_by: actor.id.clone(),
        issued_at: ts(now),
        revoked_at: None,
        revoked_by: None,
        revoke_reason: None,
        last_direction: None,
        trust_version,
    };
    crate::native!(c, c => diesel::insert_into(permits::table).values(&row).execute(c))?;
    if let Some(idem) = idem {
        let key_row = IdempotencyRow {
            officer_id: actor.id.clone(),
            idem_key: idem.key.clone(),
            request_hash: idem.request_hash.clone(),
            permit_number: number.clone(),
            created_at: ts(now),
        };
        crate::native!(c, c => diesel::insert_into(idempotency_keys::table).values(&key_row).execute(c))?;
    }
    let before = serde_json::json!({"status": app.status});
    let after = serde_json::json!({"status": to.as_str(), "permit": number});
    audit::entry(now, Some(&actor.id), "application.issue", "application", &app.id)
        .before(&before)
        .after(&after)
        .write(c)?;
    let permit_after = serde_json::json!({"number": number, "kind": row.kind, "status": row.status, "holder_id": mask_id(&trav.id_number), "valid_from": row.valid_from, "valid_until": row.valid_until, "entries_allowed": row.entries_allowed, "key_id": row.key_id});
    audit::entry(now, Some(&actor.id), "permit.issue", "permit", &number)
        .after(&permit_after)
        .write(c)?;
    // The record as it now stands, from what this transaction read and wrote: no second read.
    Ok(PermitRecord {
        permit: row,
        traveller: trav,
        application: ApplicationRow {
            status: to,
            updated_at: ts(now),
            ..app
        },
        issued_by_name: actor.display_name.clone(),
        outstanding,
    })
}

/// Serials are gapless: the counter row is updated inside the issuing transaction (see
/// `applications::next_serial`), so a rolled-back issue gives its number back.
pub fn get_permit(conn: &mut DbConnection, number: &str) -> Result<PermitRecord> {
    if !plausible_key(number) {
        return Err(DomainError::NotFound { what: "permit" }.into());
    }
    let found: Option<(PermitRow, TravellerRow, ApplicationRow, String)> = permits::table
        .inner_join(travellers::table)
        .inner_join(applications::table.on(applications::id.eq(permits::application_id)))
        .inner_join(officers::table.on(officers::id.eq(permits::issued_by)))
        .filter(permits::number.eq(number))
        .select((
            PermitRow::as_select(),
            TravellerRow::as_select(),
            ApplicationRow::as_select(),
            officers::display_name,
        ))
        .first(conn)
        .optional()?;
    let (mut permit, traveller, application, issued_by_name) = found.ok_or(DomainError::NotFound { what: "permit" })?;
    with_trips(conn, [&mut permit])?;
    let outstanding = materials(conn, &application.id)?
        .into_iter()
        .filter(|m| !m.provided)
        .collect();
    Ok(PermitRecord {
        permit,
        traveller,
        application,
        issued_by_name,
        outstanding,
    })
}

/// The rows' trip state made current: trips are recorded as their crossings' steps, and the row
/// is written only when the permit is used up (see `verdict::current_trips`).
pub(crate) fn with_trips<'a>(conn: &mut DbConnection, rows: impl IntoIterator<Item = &'a mut PermitRow>) -> Result<()> {
    let rows: Vec<&mut PermitRow> = rows.into_iter().collect();
    let numbers: Vec<&str> = rows.iter().map(|p| p.number.as_str()).collect();
    let steps = super::scan_index::max_steps(conn, &numbers)?;
    for p in rows {
        (p.entries_used, p.last_direction) =
            verdict::current_trips(p.entries_used, p.last_direction, steps.get(&p.number).copied());
    }
    Ok(())
}

/// A permit record for `action` (reading or printing it): a role refused outright is told so
/// before the lookup, and another office's permit answers as a missing one.
pub fn read(
    conn: &mut DbConnection,
    actor: &Actor,
    number: &str,
    action: crate::domain::auth::ActionOn,
) -> Result<PermitRecord> {
    authorize_role(actor, action(PermitKind::BorderTourism, &actor.office))?;
    let record = get_permit(conn, number)?;
    authorize(actor, action(record.permit.kind, &record.permit.office))?;
    Ok(record)
}

/// The office's most recent permits, newest first, for its desk.
pub fn recent_permits(conn: &mut DbConnection, office: &str, limit: i64) -> Result<Vec<PermitRecord>> {
    // Two queries for the whole list rather than two per permit.
    let mut rows: Vec<(PermitRow, TravellerRow, ApplicationRow, String)> = permits::table
        .inner_join(travellers::table)
        .inner_join(applications::table.on(applications::id.eq(permits::application_id)))
        .inner_join(officers::table.on(officers::id.eq(permits::issued_by)))
        .filter(permits::office.eq(office))
        .order(permits::issued_at.desc())
        .limit(limit)
        .select((
            PermitRow::as_select(),
            TravellerRow::as_select(),
            ApplicationRow::as_select(),
            officers::display_name,
        ))
        .load(conn)?;
    with_trips(conn, rows.iter_mut().map(|(p, ..)| p))?;
    let ids: Vec<&String> = rows.iter().map(|(_, _, a, _)| &a.id).collect();
    let mut missing: Vec<MaterialRow> = application_materials::table
        .filter(application_materials::application_id.eq_any(&ids))
        .filter(application_materials::provided.eq(false))
        .select(MaterialRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(permit, traveller, application, issued_by_name)| {
            let (outstanding, rest) = missing.drain(..).partition(|m| m.application_id == application.id);
            missing = rest;
            PermitRecord {
                permit,
                traveller,
                application,
                issued_by_name,
                outstanding,
            }
        })
        .collect())
}

pub fn revoke(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    number: &str,
    reason: Option<&str>,
) -> Result<PermitRecord> {
    authorize_role(actor, Action::RevokePermit { office: &actor.office })?;
    write_tx(conn, |c| {
        let rec = get_permit(c, number)?;
        authorize(
            actor,
            Action::RevokePermit {
                office: &rec.permit.office,
            },
        )?;
        let reason = permit::check_revoke(rec.status(now), reason)?;
        let n = diesel::update(
            permits::table
                .find(number)
                .filter(permits::status.eq(PermitStatus::Issued)),
        )
        .set((
            permits::status.eq(PermitStatus::Revoked),
            permits::revoked_at.eq(Some(ts(now))),
            permits::revoked_by.eq(Some(&actor.id)),
            permits::revoke_reason.eq(Some(&reason)),
        ))
        .execute(c)?;
        if n == 0 {
            return Err(DomainError::Conflict {
                message: "通行证状态已变化 / the permit changed meanwhile".into(),
                current_state: rec.permit.status.as_str().into(),
            }
            .into());
        }
        super::trust::touch(c, number)?;
        let before = serde_json::json!({"status": rec.permit.status});
        let after = serde_json::json!({"status": PermitStatus::Revoked.as_str(), "reason": reason});
        audit::entry(now, Some(&actor.id), "permit.revoke", "permit", number)
            .before(&before)
            .after(&after)
            .write(c)
    })?;
    get_permit(conn, number)
}

/// A key that verifies permit codes, as `GET /api/v1/keys` publishes it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicKey {
    /// Key id as printed in signed codes (hex of the first 4 bytes of SHA-256 of the key).
    pub kid: String,
    pub alg: String,
    /// Raw 32-byte Ed25519 public key, base64url without padding.
    pub public_key: String,
    /// Whether new permits are signed with it.
    pub active: bool,
    /// The permit kinds it may sign.
    pub kinds: Vec<PermitKind>,
    #[schema(value_type = String, format = DateTime)]
    pub not_before: DateTime<Utc>,
    /// No permit it signs is valid past this time.
    #[schema(value_type = String, format = DateTime)]
    pub not_after: DateTime<Utc>,
}

impl super::Ctx {
    /// Issues the permit for an application, once per idempotency key: `body` is the request
    /// the key was sent with (a retry must repeat it). Returns the permit and whether this was
    /// a replay.
    pub async fn issue_permit(
        &self,
        actor: Actor,
        id: String,
        idempotency_key: Option<String>,
        body: impl AsRef<[u8]>,
    ) -> Result<(PermitOut, bool)> {
        let idem = match idempotency_key {
            Some(key) => Some(Idempotency::new(&key, &id, body.as_ref())?),
            None => None,
        };
        self.write(move |c, ctx, now| {
            let ring = ctx.keys.ring(c)?;
            let (record, replayed) = issue(c, now, &actor, &ctx.policy, &ring, &id, idem.as_ref())?;
            Ok((record.out(now)?, replayed))
        })
        .await
    }

    /// One permit, for staff who may see it.
    /// One permit, for staff who may see it: the record, and its view as of now.
    pub async fn permit(&self, actor: Actor, number: String) -> Result<(PermitRecord, PermitOut)> {
        self.tx(move |c, _, now| {
            let record = read(c, &actor, &number, crate::domain::auth::on::view_permit)?;
            let out = record.out(now)?;
            Ok((record, out))
        })
        .await
    }

    /// Revokes a permit in force, with the reason (required).
    pub async fn revoke_permit(&self, actor: Actor, number: String, reason: Option<String>) -> Result<PermitOut> {
        self.tx(move |c, _, now| revoke(c, now, &actor, &number, reason.as_deref())?.out(now))
            .await
    }

    /// The public keys that verify permit codes (public: devices install them).
    pub async fn public_keys(&self) -> Result<Vec<PublicKey>> {
        use base64::Engine;
        let ring = self.tx(|c, ctx, _| ctx.keys.ring(c)).await?;
        let active = ring.active_id();
        Ok(ring
            .ring()
            .iter()
            .map(|k| {
                let kid = crate::domain::seal::key_id_hex(k.id);
                PublicKey {
                    active: kid == active,
                    kid,
                    alg: "Ed25519".into(),
                    public_key: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(k.public.as_bytes()),
                    kinds: k.kinds.clone(),
                    not_before: k.not_before,
                    not_after: k.not_after,
                }
            })
            .collect())
    }
}
