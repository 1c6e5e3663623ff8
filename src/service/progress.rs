//! The public progress query and what guards it: the lookup code on the receipt (issued at the
//! desk, stored hashed) and the wrong tries that lock an application's lookup, counted in the
//! database so every instance shares them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::accounts::secret_hash;
use super::applications::{self, ApplicationOut};
use crate::db::schema::{permits, progress_access};
use crate::db::{DbConnection, audit, ts, utc, write_tx};
use crate::domain::DomainError;
use crate::domain::auth::{Actor, authorize, authorize_role, on};
use crate::domain::lookup::{self, LockPolicy};
use crate::domain::mask::mask_id;
use crate::domain::permit::PermitKind;
use crate::domain::policy::Policy;
use crate::domain::validation::plausible_key;
use crate::error::{Error, Result};

/// What the public progress page shows for an application.
#[derive(Debug)]
pub struct Progress {
    pub app: ApplicationOut,
    /// The permit's effective status once printed: a pending one is not yet valid.
    pub permit_status: Option<crate::domain::permit::PermitStatus>,
}

/// A receipt just printed: the only time the lookup code exists in clear.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Receipt {
    pub application_id: String,
    /// The application number the applicant types, e.g. YYG202611260001.
    pub number: String,
    /// The lookup code as printed, e.g. `7K3M-Q9TX`; any earlier code no longer works.
    pub lookup_code: String,
    pub kind: PermitKind,
    pub holder_name: String,
    /// Masked, as on every page.
    pub holder_id: String,
    pub issued_at: DateTime<Utc>,
}

/// The lookup's standing, for the application page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LookupState {
    pub code_issued_at: DateTime<Utc>,
    pub failures: i32,
    /// Set while wrong tries keep the lookup closed.
    pub locked_until: Option<DateTime<Utc>>,
}

/// Hashed with the application's id, so one code's hash says nothing about another
/// application's. A fast hash is enough: whoever reads the table already has what the code
/// guards.
fn code_hash(application_id: &str, code: &str) -> String {
    secret_hash(&format!("{application_id}:{code}"))
}

/// The window prints a receipt with a new lookup code (for a new application, a lost receipt,
/// or one taken before codes existed); the old code stops working and the lock is lifted.
pub fn issue_code(conn: &mut DbConnection, now: DateTime<Utc>, actor: &Actor, application_id: &str) -> Result<Receipt> {
    let mut bytes = [0u8; 5];
    getrandom::fill(&mut bytes).map_err(Error::internal)?;
    let code = lookup::code_from_bytes(bytes);
    // A role that may not work at the window is refused alike whether the application exists.
    authorize_role(actor, on::handle(PermitKind::BorderTourism, &actor.office))?;
    write_tx(conn, |c| {
        let (a, t) = applications::load(c, application_id)?;
        // The window staff of the application's office hand out its receipts.
        authorize(actor, on::handle(a.kind, &a.office))?;
        let before: Option<(DateTime<Utc>, i32)> = progress_access::table
            .find(&a.id)
            .select((progress_access::issued_at, progress_access::failures))
            .first::<(chrono::NaiveDateTime, i32)>(c)
            .optional()?
            .map(|(at, f)| (utc(at), f));
        diesel::delete(progress_access::table.find(&a.id)).execute(c)?;
        diesel::insert_into(progress_access::table)
            .values((
                progress_access::application_id.eq(&a.id),
                progress_access::code_hash.eq(code_hash(&a.id, &code)),
                progress_access::issued_at.eq(ts(now)),
                progress_access::issued_by.eq(&actor.id),
                progress_access::failures.eq(0),
                progress_access::locked_until.eq(None::<chrono::NaiveDateTime>),
            ))
            .execute(c)?;
        let before = before.map(|(at, failures)| serde_json::json!({"code_issued_at": at, "failures": failures}));
        let after = serde_json::json!({"code_issued_at": now, "failures": 0});
        audit::entry(now, Some(&actor.id), "progress.code_issued", "application", &a.id)
            .before_if(before.as_ref())
            .after(&after)
            .write(c)?;
        Ok(Receipt {
            application_id: a.id.clone(),
            number: a.number.clone().unwrap_or_else(|| a.id.clone()),
            lookup_code: lookup::display(&code),
            kind: a.kind,
            holder_name: format!("{} {}", t.name_zh.clone().unwrap_or_default(), t.name_latin)
                .trim()
                .to_string(),
            holder_id: mask_id(&t.id_number),
            issued_at: now,
        })
    })
}

/// The window lifts a lock for the applicant in front of it (the code stays as printed).
pub fn unlock(conn: &mut DbConnection, now: DateTime<Utc>, actor: &Actor, application_id: &str) -> Result<()> {
    authorize_role(actor, on::handle(PermitKind::BorderTourism, &actor.office))?;
    write_tx(conn, |c| {
        let (a, _) = applications::load(c, application_id)?;
        authorize(actor, on::handle(a.kind, &a.office))?;
        let before: Option<(i32, Option<chrono::NaiveDateTime>)> = progress_access::table
            .find(&a.id)
            .select((progress_access::failures, progress_access::locked_until))
            .first(c)
            .optional()?;
        let Some((failures, locked_until)) = before else {
            return Err(DomainError::Conflict {
                message: "尚未发放查询码，请打印回执 / no lookup code yet: print a receipt".into(),
                current_state: "no_code".into(),
            }
            .into());
        };
        diesel::update(progress_access::table.find(&a.id))
            .set((
                progress_access::failures.eq(0),
                progress_access::locked_until.eq(None::<chrono::NaiveDateTime>),
            ))
            .execute(c)?;
        let before = serde_json::json!({"failures": failures, "locked_until": locked_until.map(utc)});
        let after = serde_json::json!({"failures": 0, "locked_until": null});
        audit::entry(now, Some(&actor.id), "progress.unlocked", "application", &a.id)
            .before(&before)
            .after(&after)
            .write(c)?;
        Ok(())
    })
}

/// Whether a code was issued, and whether the lookup is locked now.
pub fn state(conn: &mut DbConnection, now: DateTime<Utc>, application_id: &str) -> Result<Option<LookupState>> {
    let row: Option<(chrono::NaiveDateTime, i32, Option<chrono::NaiveDateTime>)> = progress_access::table
        .find(application_id)
        .select((
            progress_access::issued_at,
            progress_access::failures,
            progress_access::locked_until,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(issued, failures, until)| {
        let until = until.map(utc);
        let expired = until.is_some_and(|u| !lookup::is_locked(Some(u), now));
        LookupState {
            code_issued_at: utc(issued),
            // A lock whose time is up counts again from nothing at the next try.
            failures: if expired { 0 } else { failures },
            locked_until: until.filter(|_| !expired),
        }
    }))
}

/// The public progress query: the application number on the receipt (or the permit number on
/// the pass), the last four characters of the ID number, and the receipt's lookup code. One
/// answer (None) for an unknown number, a wrong suffix or code, a locked lookup and an
/// application without a code: the page must not confirm that a number exists.
///
/// Each try on a known application first claims one of `policy.max_failures` tries with a
/// conditional update, then checks; so concurrent guesses from any number of addresses get no
/// more tries than that before the lock, on either database.
pub fn lookup(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &Policy,
    lock: LockPolicy,
    number: &str,
    last4: &str,
    code: &str,
) -> Result<Option<Progress>> {
    let number = number.trim().to_uppercase();
    let last4 = last4.trim().to_uppercase();
    if !plausible_key(&number) {
        return Ok(None);
    }
    let found = match applications::by_number(conn, &number)? {
        Some((a, _)) => Some(a.id),
        None => permits::table
            .filter(permits::number.eq(&number))
            .select(permits::application_id)
            .first::<String>(conn)
            .optional()?,
    };
    let Some(id) = found else {
        return Ok(None);
    };
    let code = lookup::normalise(code);
    let matched = write_tx(conn, |c| {
        // A lock whose time is up starts a fresh count.
        diesel::update(
            progress_access::table
                .find(&id)
                .filter(progress_access::locked_until.le(ts(now))),
        )
        .set((
            progress_access::failures.eq(0),
            progress_access::locked_until.eq(None::<chrono::NaiveDateTime>),
        ))
        .execute(c)?;
        // The gate: one try claimed, or none left (locked, or no code issued).
        let claimed = diesel::update(
            progress_access::table
                .find(&id)
                .filter(progress_access::locked_until.is_null())
                .filter(progress_access::failures.lt(lock.max_failures)),
        )
        .set(progress_access::failures.eq(progress_access::failures + 1))
        .execute(c)?
            == 1;
        if !claimed {
            return Ok(false);
        }
        let (a, t) = applications::load(c, &id)?;
        let stored: String = progress_access::table
            .find(&id)
            .select(progress_access::code_hash)
            .first(c)?;
        let digits_match = last4.chars().count() == 4 && t.id_number.to_uppercase().ends_with(&last4);
        let code_matches = code.as_deref().is_some_and(|code| code_hash(&a.id, code) == stored);
        if digits_match && code_matches {
            diesel::update(progress_access::table.find(&id))
                .set(progress_access::failures.eq(0))
                .execute(c)?;
            return Ok(true);
        }
        let until = now + lock.lock;
        let locked = diesel::update(
            progress_access::table
                .find(&id)
                .filter(progress_access::locked_until.is_null())
                .filter(progress_access::failures.ge(lock.max_failures)),
        )
        .set(progress_access::locked_until.eq(ts(until)))
        .execute(c)?;
        if locked == 1 {
            let after = serde_json::json!({"failures": lock.max_failures, "locked_until": until});
            audit::entry(now, None, "progress.locked", "application", &a.id)
                .after(&after)
                .write(c)?;
        }
        Ok(false)
    })?;
    if !matched {
        return Ok(None);
    }
    let app = applications::get_application(conn, &id, now, policy)?;
    let permit_status = match &app.permit_number {
        Some(n) => Some(super::permits::get_permit(conn, n)?.status(now)),
        None => None,
    };
    Ok(Some(Progress { app, permit_status }))
}

/// What the public progress page gets for a look-up.
pub enum Answer {
    Found(Box<Progress>),
    /// One answer for every miss (see [`lookup`]).
    NoMatch,
    /// Too many look-ups from this address: try again in a minute.
    Limited,
}

impl super::Ctx {
    /// A new lookup code for the applicant's receipt (any earlier one stops working).
    pub async fn issue_receipt(&self, actor: Actor, id: String) -> Result<Receipt> {
        self.tx(move |c, _, now| issue_code(c, now, &actor, &id)).await
    }

    /// Lifts a lock on an application's progress lookup (the code stays).
    pub async fn unlock_lookup(&self, actor: Actor, id: String) -> Result<()> {
        self.tx(move |c, _, now| unlock(c, now, &actor, &id)).await
    }

    /// The public progress look-up from `address`, limited per address.
    pub async fn lookup_progress(
        &self,
        address: std::net::IpAddr,
        number: String,
        last4: String,
        code: String,
    ) -> Result<Answer> {
        let limiter = &self.limits.progress;
        if limiter.check_key(&address).is_err() {
            return Ok(Answer::Limited);
        }
        // Keyed limiters keep a cell per address; drop the idle ones now and then.
        if limiter.len() > 10_000 {
            limiter.retain_recent();
        }
        let found = self
            .tx(move |c, ctx, now| lookup(c, now, &ctx.policy, LockPolicy::default(), &number, &last4, &code))
            .await?;
        Ok(found.map_or(Answer::NoMatch, |p| Answer::Found(Box::new(p))))
    }
}
