//! The register of seals and certificates (授权登记): entries, grants to a holder and their
//! withdrawal, retirement, and each use of a seal recorded in the transaction that prints the
//! document bearing it. Supervisors keep the register; every change is audited with it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::Ctx;
use crate::db::schema::{officers, seal_grants, seal_uses, seals};
use crate::db::{DbConnection, audit, new_id, ts, utc, write_tx};
use crate::domain::DomainError;
use crate::domain::auth::{Action, Actor, Role, authorize};
use crate::domain::seals::{self as rules, GrantIn, SealDocument, SealIn, SealKind, WithdrawIn};
use crate::domain::validation::{FieldErrors, plausible_key};
use crate::error::{Error, Result};

/// Grants and uses a register page lists, newest first (the API pages nothing more: the audit
/// log keeps the whole history).
const LISTED: i64 = 100;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SealOut {
    pub id: String,
    pub office: String,
    pub kind: SealKind,
    pub name: String,
    /// The seal's number, or the certificate's key id.
    pub reference: String,
    pub applies_to: Option<SealDocument>,
    #[schema(value_type = String, format = DateTime)]
    pub registered_at: DateTime<Utc>,
    pub registered_by: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub retired_at: Option<DateTime<Utc>>,
    pub retire_reason: Option<String>,
    /// Who holds it now.
    pub holder: Option<GrantOut>,
    /// Prints that bore it, and of those how many while nobody held it.
    pub uses: i64,
    pub uses_unheld: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GrantOut {
    pub id: String,
    pub seal_id: String,
    /// The holder's username and name.
    pub holder: String,
    pub holder_name: String,
    #[schema(value_type = String, format = DateTime)]
    pub granted_at: DateTime<Utc>,
    pub granted_by: String,
    pub note: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_by: Option<String>,
    pub withdraw_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UseOut {
    pub seal_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub used_at: DateTime<Utc>,
    /// The officer whose print bore the seal.
    pub used_by: String,
    /// Who held the seal then (none: used while nobody held it).
    pub holder: Option<String>,
    pub document: SealDocument,
    /// The permit number, or the application the notice is for.
    pub document_ref: String,
}

/// The office's register: entries, the grants' history, the latest uses, and the signing keys
/// not yet entered as certificates.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegisterOut {
    pub office: String,
    pub seals: Vec<SealOut>,
    pub grants: Vec<GrantOut>,
    pub uses: Vec<UseOut>,
    /// Key ids the service signs or verifies with that have no certificate entry here.
    pub unregistered_keys: Vec<String>,
}

/// The seal a print bore, for the print's answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SealUsed {
    pub name: String,
    pub reference: String,
    /// The holder's name (none: nobody held it; the register flags the use).
    pub holder: Option<String>,
}

type SealRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    chrono::NaiveDateTime,
    String,
    Option<chrono::NaiveDateTime>,
    Option<String>,
);

fn not_found() -> Error {
    DomainError::NotFound { what: "seal" }.into()
}

fn conflict(message: impl Into<String>, state: &str) -> Error {
    DomainError::Conflict {
        message: message.into(),
        current_state: state.into(),
    }
    .into()
}

/// The columns of `SealRow`, in the register's order (in use first, by kind and age).
macro_rules! seal_rows {
    ($q:expr) => {
        $q.order((seals::retired_at.is_not_null(), seals::kind, seals::registered_at))
            .select((
                seals::id,
                seals::office,
                seals::kind,
                seals::name,
                seals::reference,
                seals::applies_to,
                seals::registered_at,
                seals::registered_by,
                seals::retired_at,
                seals::retire_reason,
            ))
    };
}

/// The columns of `GrantRow` with the holder's username and name, the latest first.
macro_rules! grant_rows {
    ($q:expr) => {
        $q.inner_join(officers::table.on(officers::id.eq(seal_grants::holder)))
            .order((seal_grants::granted_at.desc(), seal_grants::id.desc()))
            .limit(LISTED)
            .select((
                seal_grants::id,
                seal_grants::seal_id,
                officers::username,
                officers::display_name,
                seal_grants::granted_at,
                seal_grants::granted_by,
                seal_grants::note,
                seal_grants::withdrawn_at,
                seal_grants::withdrawn_by,
                seal_grants::withdraw_reason,
            ))
    };
}

/// A register entry of the actor's office, with its office; refused (as missing) elsewhere.
fn entry_of(c: &mut DbConnection, actor: &Actor, id: &str) -> Result<(String, bool)> {
    authorize(actor, Action::ManageSeals { office: &actor.office })?;
    if !plausible_key(id) {
        return Err(not_found());
    }
    let row: Option<(String, Option<chrono::NaiveDateTime>)> = seals::table
        .find(id)
        .select((seals::office, seals::retired_at))
        .first(c)
        .optional()?;
    let (office, retired) = row.ok_or_else(not_found)?;
    authorize(actor, Action::ManageSeals { office: &office })?;
    Ok((office, retired.is_some()))
}

/// Enters a seal or certificate in the office's register.
pub fn register(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    ring: &crate::keys::KeyRing,
    actor: &Actor,
    input: &SealIn,
) -> Result<SealOut> {
    authorize(actor, Action::ManageSeals { office: &actor.office })?;
    let v = input.validate()?;
    if v.kind == SealKind::Certificate && ring.get(&v.reference).is_none() {
        let mut errs = FieldErrors::new();
        errs.add(
            "reference",
            "unknown_key",
            "没有这个密钥编号（见 borderdesk keys list）/ no signing key has this id (see borderdesk keys list)",
        );
        return Err(errs.into());
    }
    let id = new_id();
    write_tx(c, |c| {
        diesel::insert_into(seals::table)
            .values((
                seals::id.eq(&id),
                seals::office.eq(&actor.office),
                seals::kind.eq(v.kind.as_str()),
                seals::name.eq(&v.name),
                seals::reference.eq(&v.reference),
                seals::applies_to.eq(v.applies_to.map(SealDocument::as_str)),
                seals::registered_at.eq(ts(now)),
                seals::registered_by.eq(&actor.id),
            ))
            .execute(c)
            .map_err(|e| {
                Error::from(e).unique_as(|| match v.applies_to {
                    // Which index refused is not told portably: name both possibilities.
                    Some(d) => conflict(
                        format!(
                            "已登记编号{0}，或{1}已有在用印章（请先停用）/ {0} is entered already, or the {2} has a seal in use (retire it first)",
                            v.reference,
                            d.words().zh,
                            d.words().en.to_lowercase()
                        ),
                        "registered",
                    ),
                    None => conflict(
                        format!("已登记编号{0} / {0} is entered already", v.reference),
                        "registered",
                    ),
                })
            })?;
        let after = serde_json::json!({"kind": v.kind.as_str(), "name": v.name, "reference": v.reference, "applies_to": v.applies_to.map(SealDocument::as_str)});
        audit::entry(now, Some(&actor.id), "seal.register", "seal", &id)
            .after(&after)
            .write(c)?;
        seal_out(c, &id)
    })
}

/// Hands a seal (or a certificate's custody) to an officer of the office. A seal has one holder
/// at a time: a handover is a withdrawal and a grant.
pub fn grant(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    seal_id: &str,
    input: &GrantIn,
) -> Result<GrantOut> {
    let (office, retired) = entry_of(c, actor, seal_id)?;
    let mut errs = FieldErrors::new();
    let holder = rules::holder(&mut errs, &input.holder);
    let note = rules::note(&mut errs, input.note.as_deref());
    let holder = match holder {
        Some(h) if errs.is_empty() => h,
        _ => return Err(errs.into()),
    };
    let officer = officers::table
        .filter(officers::username.eq(&holder))
        .select((officers::id, officers::office, officers::role, officers::disabled))
        .first::<(String, String, Role, bool)>(c)
        .optional()?;
    let Some((holder_id, _, _, _)) = officer
        .filter(|(_, o, role, disabled)| *o == office && !disabled && matches!(role, Role::Officer | Role::Supervisor))
    else {
        errs.add(
            "holder",
            "officer_of_office",
            "持有人应为本所在岗民警（填写用户名）/ the holder must be an active officer of this office (their username)",
        );
        return Err(errs.into());
    };
    if retired {
        return Err(conflict("印章已停用 / the seal is retired", "retired"));
    }
    let id = new_id();
    write_tx(c, |c| {
        let held: Option<String> = seal_grants::table
            .inner_join(officers::table.on(officers::id.eq(seal_grants::holder)))
            .filter(seal_grants::seal_id.eq(seal_id))
            .filter(seal_grants::withdrawn_at.is_null())
            .select(officers::display_name)
            .first(c)
            .optional()?;
        let held_by = |name: &str| {
            conflict(
                format!("该印章现由{name}持有，请先收回 / {name} holds it now: withdraw it first"),
                "held",
            )
        };
        if let Some(name) = held {
            return Err(held_by(&name));
        }
        diesel::insert_into(seal_grants::table)
            .values((
                seal_grants::id.eq(&id),
                seal_grants::seal_id.eq(seal_id),
                seal_grants::holder.eq(&holder_id),
                seal_grants::granted_at.eq(ts(now)),
                seal_grants::granted_by.eq(&actor.id),
                seal_grants::note.eq(&note),
            ))
            .execute(c)
            .map_err(|e| Error::from(e).unique_as(|| held_by("another officer")))?;
        let after = serde_json::json!({"grant": id, "holder": holder_id, "note": note});
        audit::entry(now, Some(&actor.id), "seal.grant", "seal", seal_id)
            .after(&after)
            .write(c)?;
        grant_by_id(c, &id)
    })
}

/// Ends a grant, with the reason (a transfer, leave, the seal handed back).
pub fn withdraw(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    grant_id: &str,
    input: &WithdrawIn,
) -> Result<GrantOut> {
    authorize(actor, Action::ManageSeals { office: &actor.office })?;
    if !plausible_key(grant_id) {
        return Err(not_found());
    }
    let seal_id: Option<String> = seal_grants::table
        .find(grant_id)
        .select(seal_grants::seal_id)
        .first(c)
        .optional()?;
    let seal_id = seal_id.ok_or_else(not_found)?;
    entry_of(c, actor, &seal_id)?;
    let mut errs = FieldErrors::new();
    let why = rules::reason(&mut errs, "reason", &input.reason);
    let Some(why) = why.filter(|_| errs.is_empty()) else {
        return Err(errs.into());
    };
    write_tx(c, |c| {
        end_grant(c, now, actor, grant_id, &seal_id, &why)?;
        grant_by_id(c, grant_id)
    })
}

/// Ends one open grant, audited; a grant already ended is a conflict.
fn end_grant(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    grant_id: &str,
    seal_id: &str,
    why: &str,
) -> Result<()> {
    let n = diesel::update(
        seal_grants::table
            .find(grant_id)
            .filter(seal_grants::withdrawn_at.is_null()),
    )
    .set((
        seal_grants::withdrawn_at.eq(Some(ts(now))),
        seal_grants::withdrawn_by.eq(Some(&actor.id)),
        seal_grants::withdraw_reason.eq(Some(why)),
    ))
    .execute(c)?;
    if n == 0 {
        return Err(conflict("该授权已收回 / the grant was withdrawn already", "withdrawn"));
    }
    let after = serde_json::json!({"grant": grant_id, "reason": why});
    audit::entry(now, Some(&actor.id), "seal.withdraw", "seal", seal_id)
        .after(&after)
        .write(c)
}

/// Takes a seal out of use (lost, replaced, destroyed): its holder's grant ends with it, and no
/// print bears it any more.
pub fn retire(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    seal_id: &str,
    input: &WithdrawIn,
) -> Result<SealOut> {
    let (_, retired) = entry_of(c, actor, seal_id)?;
    let mut errs = FieldErrors::new();
    let why = rules::reason(&mut errs, "reason", &input.reason);
    let Some(why) = why.filter(|_| errs.is_empty()) else {
        return Err(errs.into());
    };
    if retired {
        return Err(conflict("印章已停用 / the seal is retired already", "retired"));
    }
    write_tx(c, |c| {
        let open: Option<String> = seal_grants::table
            .filter(seal_grants::seal_id.eq(seal_id))
            .filter(seal_grants::withdrawn_at.is_null())
            .select(seal_grants::id)
            .first(c)
            .optional()?;
        if let Some(g) = open {
            end_grant(c, now, actor, &g, seal_id, &why)?;
        }
        let n = diesel::update(seals::table.find(seal_id).filter(seals::retired_at.is_null()))
            .set((
                seals::retired_at.eq(Some(ts(now))),
                seals::retired_by.eq(Some(&actor.id)),
                seals::retire_reason.eq(Some(&why)),
            ))
            .execute(c)?;
        if n == 0 {
            return Err(conflict("印章已停用 / the seal is retired already", "retired"));
        }
        let after = serde_json::json!({"reason": why});
        audit::entry(now, Some(&actor.id), "seal.retire", "seal", seal_id)
            .after(&after)
            .write(c)?;
        seal_out(c, seal_id)
    })
}

/// Records that a print of `document` (`reference`: the permit number or application id) at
/// `office` bore the office's seal for that document, with whoever holds it, in the caller's
/// transaction. None when the office has entered no seal for the document.
pub(crate) fn record_use(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    office: &str,
    document: SealDocument,
    reference: &str,
) -> Result<Option<SealUsed>> {
    let seal: Option<(String, String, String)> = seals::table
        .filter(seals::office.eq(office))
        .filter(seals::applies_to.eq(document.as_str()))
        .filter(seals::retired_at.is_null())
        .select((seals::id, seals::name, seals::reference))
        .first(c)
        .optional()?;
    let Some((seal_id, name, seal_reference)) = seal else {
        return Ok(None);
    };
    let holder: Option<(String, String)> = seal_grants::table
        .inner_join(officers::table.on(officers::id.eq(seal_grants::holder)))
        .filter(seal_grants::seal_id.eq(&seal_id))
        .filter(seal_grants::withdrawn_at.is_null())
        .select((officers::id, officers::display_name))
        .first(c)
        .optional()?;
    diesel::insert_into(seal_uses::table)
        .values((
            seal_uses::id.eq(new_id()),
            seal_uses::seal_id.eq(&seal_id),
            seal_uses::used_at.eq(ts(now)),
            seal_uses::used_by.eq(&actor.id),
            seal_uses::holder.eq(holder.as_ref().map(|h| &h.0)),
            seal_uses::document.eq(document.as_str()),
            seal_uses::document_ref.eq(reference),
        ))
        .execute(c)?;
    Ok(Some(SealUsed {
        name,
        reference: seal_reference,
        holder: holder.map(|h| h.1),
    }))
}

fn seal_out(c: &mut DbConnection, id: &str) -> Result<SealOut> {
    let rows: Vec<SealRow> = seal_rows!(seals::table.filter(seals::id.eq(id))).load(c)?;
    seals_from(c, rows)?.into_iter().next().ok_or_else(not_found)
}

/// Entries with their holder and use counts.
fn seals_from(c: &mut DbConnection, rows: Vec<SealRow>) -> Result<Vec<SealOut>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    // Counted by the database: a card seal is used on every print, thousands a month.
    let counts: std::collections::HashMap<String, i64> = seal_uses::table
        .filter(seal_uses::seal_id.eq_any(&ids))
        .group_by(seal_uses::seal_id)
        .select((seal_uses::seal_id, diesel::dsl::count_star()))
        .load::<(String, i64)>(c)?
        .into_iter()
        .collect();
    let unheld: std::collections::HashMap<String, i64> = seal_uses::table
        .filter(seal_uses::seal_id.eq_any(&ids))
        .filter(seal_uses::holder.is_null())
        .group_by(seal_uses::seal_id)
        .select((seal_uses::seal_id, diesel::dsl::count_star()))
        .load::<(String, i64)>(c)?
        .into_iter()
        .collect();
    let open = grants_of(c, &ids, true)?;
    let by: Vec<&str> = rows.iter().map(|r| r.7.as_str()).collect();
    let names = super::accounts::display_names(c, &by)?;
    rows.into_iter()
        .map(|r| {
            let kind = SealKind::parse(&r.2).ok_or_else(|| Error::internal(format!("seal kind {}", r.2)))?;
            let applies_to = match r.5.as_deref() {
                None => None,
                Some(d) => Some(SealDocument::parse(d).ok_or_else(|| Error::internal(format!("seal document {d}")))?),
            };
            let uses = counts.get(&r.0).copied().unwrap_or(0);
            let uses_unheld = unheld.get(&r.0).copied().unwrap_or(0);
            Ok(SealOut {
                holder: open.iter().find(|g| g.seal_id == r.0).cloned(),
                registered_by: names.get(&r.7).cloned().unwrap_or_else(|| r.7.clone()),
                id: r.0,
                office: r.1,
                kind,
                name: r.3,
                reference: r.4,
                applies_to,
                registered_at: utc(r.6),
                retired_at: r.8.map(utc),
                retire_reason: r.9,
                uses,
                uses_unheld,
            })
        })
        .collect()
}

type GrantRow = (
    String,
    String,
    String,
    String,
    chrono::NaiveDateTime,
    String,
    Option<String>,
    Option<chrono::NaiveDateTime>,
    Option<String>,
    Option<String>,
);

fn grant_by_id(c: &mut DbConnection, id: &str) -> Result<GrantOut> {
    let rows: Vec<GrantRow> = grant_rows!(seal_grants::table.filter(seal_grants::id.eq(id))).load(c)?;
    grants_from(c, rows)?.pop().ok_or_else(not_found)
}

/// The grants of some entries (only the open ones if `open_only`).
fn grants_of(c: &mut DbConnection, seal_ids: &[&str], open_only: bool) -> Result<Vec<GrantOut>> {
    let rows: Vec<GrantRow> = if open_only {
        grant_rows!(
            seal_grants::table
                .filter(seal_grants::seal_id.eq_any(seal_ids))
                .filter(seal_grants::withdrawn_at.is_null())
        )
        .load(c)?
    } else {
        grant_rows!(seal_grants::table.filter(seal_grants::seal_id.eq_any(seal_ids))).load(c)?
    };
    grants_from(c, rows)
}

fn grants_from(c: &mut DbConnection, rows: Vec<GrantRow>) -> Result<Vec<GrantOut>> {
    let mut people: Vec<&str> = rows.iter().map(|r| r.5.as_str()).collect();
    people.extend(rows.iter().filter_map(|r| r.8.as_deref()));
    let names = super::accounts::display_names(c, &people)?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    Ok(rows
        .into_iter()
        .map(|r| GrantOut {
            granted_by: name(&r.5),
            withdrawn_by: r.8.as_deref().map(name),
            id: r.0,
            seal_id: r.1,
            holder: r.2,
            holder_name: r.3,
            granted_at: utc(r.4),
            note: r.6,
            withdrawn_at: r.7.map(utc),
            withdraw_reason: r.9,
        })
        .collect())
}

/// The office's register, for its supervisors.
pub fn register_view(c: &mut DbConnection, ring: &crate::keys::KeyRing, actor: &Actor) -> Result<RegisterOut> {
    authorize(actor, Action::ManageSeals { office: &actor.office })?;
    let rows: Vec<SealRow> = seal_rows!(seals::table.filter(seals::office.eq(&actor.office))).load(c)?;
    let entries = seals_from(c, rows)?;
    let ids: Vec<String> = entries.iter().map(|s| s.id.clone()).collect();
    let of: Vec<&str> = ids.iter().map(String::as_str).collect();
    let grants = grants_of(c, &of, false)?;
    type UseRow = (String, chrono::NaiveDateTime, String, Option<String>, String, String);
    let uses: Vec<UseRow> = seal_uses::table
        .filter(seal_uses::seal_id.eq_any(&ids))
        .order((seal_uses::used_at.desc(), seal_uses::id.desc()))
        .limit(LISTED)
        .select((
            seal_uses::seal_id,
            seal_uses::used_at,
            seal_uses::used_by,
            seal_uses::holder,
            seal_uses::document,
            seal_uses::document_ref,
        ))
        .load(c)?;
    let mut people: Vec<&str> = uses.iter().map(|u| u.2.as_str()).collect();
    people.extend(uses.iter().filter_map(|u| u.3.as_deref()));
    let names = super::accounts::display_names(c, &people)?;
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let uses = uses
        .iter()
        .map(|u| {
            Ok(UseOut {
                seal_id: u.0.clone(),
                used_at: utc(u.1),
                used_by: name(&u.2),
                holder: u.3.as_deref().map(name),
                document: SealDocument::parse(&u.4).ok_or_else(|| Error::internal(format!("seal document {}", u.4)))?,
                document_ref: u.5.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let entered: Vec<&str> = entries
        .iter()
        .filter(|s| s.kind == SealKind::Certificate)
        .map(|s| s.reference.as_str())
        .collect();
    let unregistered_keys = ring
        .ring()
        .iter()
        .map(|k| crate::domain::seal::key_id_hex(k.id))
        .filter(|kid| !entered.contains(&kid.as_str()))
        .collect();
    Ok(RegisterOut {
        office: actor.office.clone(),
        seals: entries,
        grants,
        uses,
        unregistered_keys,
    })
}

impl Ctx {
    pub async fn seal_register(&self, actor: Actor) -> Result<RegisterOut> {
        self.tx(move |c, ctx, _| {
            let ring = ctx.keys.ring(c)?;
            register_view(c, &ring, &actor)
        })
        .await
    }

    pub async fn register_seal(&self, actor: Actor, input: SealIn) -> Result<SealOut> {
        self.tx(move |c, ctx, now| {
            let ring = ctx.keys.ring(c)?;
            register(c, now, &ring, &actor, &input)
        })
        .await
    }

    pub async fn grant_seal(&self, actor: Actor, seal_id: String, input: GrantIn) -> Result<GrantOut> {
        self.tx(move |c, _, now| grant(c, now, &actor, &seal_id, &input)).await
    }

    pub async fn withdraw_seal(&self, actor: Actor, grant_id: String, input: WithdrawIn) -> Result<GrantOut> {
        self.tx(move |c, _, now| withdraw(c, now, &actor, &grant_id, &input))
            .await
    }

    pub async fn retire_seal(&self, actor: Actor, seal_id: String, input: WithdrawIn) -> Result<SealOut> {
        self.tx(move |c, _, now| retire(c, now, &actor, &seal_id, &input)).await
    }
}
