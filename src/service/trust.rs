//! The signed trust bundle checkpoint devices download for offline verification, in full or as
//! the changes since a version, and the version stamps that make deltas possible.

use std::collections::HashMap;

use base64::Engine;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use ed25519_dalek::Signer;

use crate::db::schema::{application_materials, permits, trust_changes, trust_version};
use crate::db::{DbConnection, ts, utc};
use crate::domain::auth::{Action, Actor, authorize};
use crate::domain::local;
use crate::domain::offline::{Listed, SignedBundle, Standing, TrustBundle, TrustedKey};
use crate::domain::permit::PermitStatus;
use crate::domain::validation::FieldErrors;
use crate::domain::verdict::{self, Direction};
use crate::error::{Error, Result};
use crate::keys::KeyRing;

/// Takes the next trust version inside the caller's write transaction. The counter row stays
/// locked until commit, so versions become visible in order and a delta never skips one.
pub(crate) fn next_version(c: &mut DbConnection) -> Result<i64> {
    Ok(crate::native!(c, c => NextVersion.get_result(c))?)
}

/// The next trust version and the key ring's version, in one statement: a scan batch needs both
/// before it decides, and on PostgreSQL each statement is a round trip of a writer whose batches
/// are serial (see `service::scan_writer`). The ring's version is read as the statement begins,
/// as the separate read before it was.
pub(crate) fn next_version_and_ring(c: &mut DbConnection) -> Result<(i64, i64)> {
    Ok(crate::native!(c, c => NextVersionAndRing.get_result(c))?)
}

/// A statement with a fixed text and a static query id, which diesel keeps prepared (SQLite) and
/// the server plans once per connection (PostgreSQL). Every scan batch takes a version: diesel's
/// update builder (never cached) and a second statement to read the new value were compiled, or
/// parsed and planned, again for each.
macro_rules! fixed_statement {
    ($name:ident, $sql:expr, $ty:ty) => {
        struct $name;

        impl diesel::query_builder::QueryId for $name {
            type QueryId = $name;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for $name {
            fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
                out.push_sql($sql);
                Ok(())
            }
        }

        impl diesel::query_builder::Query for $name {
            type SqlType = $ty;
        }

        impl<Conn> RunQueryDsl<Conn> for $name {}
    };
}

fixed_statement!(
    NextVersion,
    "UPDATE trust_version SET version = version + 1 RETURNING version",
    diesel::sql_types::BigInt
);
fixed_statement!(
    NextVersionAndRing,
    "UPDATE trust_version SET version = version + 1 RETURNING version, (SELECT version FROM key_ring_version)",
    (diesel::sql_types::BigInt, diesel::sql_types::BigInt)
);

/// Marks a permit as changed for offline verifiers (revoked).
pub(crate) fn touch(c: &mut DbConnection, number: &str) -> Result<()> {
    let v = next_version(c)?;
    diesel::update(permits::table.find(number))
        .set(permits::trust_version.eq(v))
        .execute(c)?;
    Ok(())
}

/// Marks the permit issued on an application, if any (its materials changed). A version taken
/// for an application not yet issued is simply unused: versions need not be gapless.
pub(crate) fn touch_application(c: &mut DbConnection, application_id: &str) -> Result<()> {
    let v = next_version(c)?;
    diesel::update(permits::table.filter(permits::application_id.eq(application_id)))
        .set(permits::trust_version.eq(v))
        .execute(c)?;
    Ok(())
}

/// Parses the `since` query parameter: a version the device holds.
pub fn parse_since(raw: Option<&str>) -> Result<Option<i64>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => match s.parse::<i64>() {
            Ok(v) if v >= 0 => Ok(Some(v)),
            _ => {
                let mut errs = FieldErrors::new();
                errs.add(
                    "since",
                    "version",
                    "应为设备持有的版本号（非负整数） / the version the device holds: a whole number ≥ 0",
                );
                Err(errs.into())
            }
        },
    }
}

type Row = (String, PermitStatus, (i32, Option<Direction>), NaiveDateTime, String);

/// A full bundle (`since` = None), or the changes after `since`. A device whose version is ahead
/// of the hall's (another database, a restore) gets a full bundle, which replaces its data.
pub fn bundle(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    (keys, freight): (&KeyRing, &crate::domain::freight::FreightPolicy),
    since: Option<i64>,
) -> Result<SignedBundle> {
    authorize(actor, Action::Scan).or_else(|_| authorize(actor, Action::Supervise))?;
    // Read first: a change committed after this is sent again next time, never skipped.
    let version: i64 = trust_version::table.select(trust_version::version).first(conn)?;
    // A version ahead of the hall's, or one skipped at a restore (the device took it from the
    // stretch the restore lost), is no base for a delta.
    let since = match since {
        Some(s) if s <= version && !crate::backup::skipped_version(conn, s)? => Some(s),
        _ => None,
    };
    // Only permits still inside their validity matter: an expired one fails on its own dates.
    // The permits the log names after `since` (a full bundle: after 0, every stamped permit),
    // so a bundle costs what changed, not the size of the permits table.
    let changed = trust_changes::table
        .filter(trust_changes::version.gt(since.unwrap_or(0)))
        .select(trust_changes::permit_number);
    let rows: Vec<Row> = permits::table
        .filter(permits::number.eq_any(changed))
        .filter(permits::valid_until.ge(ts(now)))
        .select((
            permits::number,
            permits::status,
            (permits::entries_used, permits::last_direction),
            permits::valid_until,
            permits::application_id,
        ))
        .load(conn)?;
    // Outstanding (容缺) items of those permits' applications, in chunks that stay under the
    // databases' bound-parameter limits.
    let mut due: HashMap<String, Option<NaiveDate>> = HashMap::new();
    let ids: Vec<&String> = rows.iter().map(|r| &r.4).collect();
    for chunk in ids.chunks(500) {
        let items: Vec<(String, Option<NaiveDate>)> = application_materials::table
            .filter(application_materials::provided.eq(false))
            .filter(application_materials::application_id.eq_any(chunk))
            .select((application_materials::application_id, application_materials::due_date))
            .load(conn)?;
        for (app, d) in items {
            // An item with no due date is overdue already; otherwise the earliest date counts.
            let earliest = due.entry(app).or_insert(d);
            *earliest = match (*earliest, d) {
                (Some(a), Some(b)) => Some(a.min(b)),
                _ => None,
            };
        }
    }
    let numbers: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let steps = super::scan_index::max_steps(conn, &numbers)?;
    let today = local(now).date_naive();
    let mut listed: Vec<Listed> = rows
        .into_iter()
        .map(|(number, status, last, until, app)| {
            // The row's direction, or the trips recorded since as crossings' steps.
            let (_, last) = verdict::current_trips(last.0, last.1, steps.get(&number).copied());
            let (standing, due) = match (status, due.get(&app)) {
                (PermitStatus::Revoked, _) => (Standing::Revoked, None),
                (PermitStatus::Used, _) => (Standing::Used, None),
                (_, Some(Some(d))) if today <= *d => (Standing::Pending, Some(*d)),
                (_, Some(_)) => (Standing::Suspended, None),
                _ if last == Some(Direction::Exit) => (Standing::Out, None),
                _ => (Standing::Clear, None),
            };
            Listed {
                number,
                standing,
                due,
                until: local(utc(until)).date_naive(),
            }
        })
        .filter(|l| since.is_some() || l.standing != Standing::Clear)
        .collect();
    listed.sort_by(|a, b| a.number.cmp(&b.number));

    // The active key, and retired keys until the last permit they signed expires: one indexed
    // probe per key. A key past its end has no permit in force by construction.
    let mut trusted = Vec::new();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    for k in keys.ring() {
        let kid = crate::domain::seal::key_id_hex(k.id);
        let needed = kid == keys.active_id()
            || permits::table
                .filter(permits::key_id.eq(&kid))
                .filter(permits::valid_until.ge(ts(now)))
                .select(permits::number)
                .first::<String>(conn)
                .optional()?
                .is_some();
        if needed && k.not_after >= now {
            trusted.push(TrustedKey {
                kid,
                public_key: b64.encode(k.public.as_bytes()),
                kinds: k.kinds.clone(),
                not_before: k.not_before,
                not_after: k.not_after,
            });
        }
    }
    let bundle = TrustBundle {
        version,
        since,
        issued_at: now,
        keys: trusted,
        permits: listed,
        booking_lanes: if freight.require_booking {
            freight
                .ports
                .iter()
                .flat_map(|p| p.lanes.iter().map(|l| l.id.clone()))
                .collect()
        } else {
            Vec::new()
        },
    };
    let payload = serde_json::to_string(&bundle).map_err(Error::internal)?;
    let signature = b64.encode(keys.active().sign(payload.as_bytes()).to_bytes());
    Ok(SignedBundle {
        payload,
        signature,
        key_id: keys.active_id(),
    })
}

impl super::Ctx {
    /// The signed trust bundle for a device: the full one, or the changes after the version
    /// `since` it holds (as the query gave it: checked here).
    pub async fn trust_bundle(&self, actor: Actor, since: Option<String>) -> Result<SignedBundle> {
        let since = parse_since(since.as_deref())?;
        self.tx(move |c, ctx, now| {
            let ring = ctx.keys.ring(c)?;
            bundle(c, now, &actor, (&ring, &ctx.policy.freight), since)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_is_a_version_or_nothing() {
        assert_eq!(parse_since(None).unwrap(), None);
        assert_eq!(parse_since(Some("")).unwrap(), None);
        assert_eq!(parse_since(Some("42")).unwrap(), Some(42));
        for bad in ["-1", "x", "1.5", "99999999999999999999"] {
            let e = parse_since(Some(bad)).unwrap_err();
            assert!(format!("{e:?}").contains("since"), "{bad}: {e:?}");
        }
    }
}
