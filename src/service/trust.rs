//! The signed trust bundle checkpoint devices download for offline verification.

use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use ed25519_dalek::Signer;

use crate::db::schema::{application_materials, permits};
use crate::db::{DbConnection, ts};
use crate::domain::auth::{Action, Actor, authorize};
use crate::domain::local;
use crate::domain::offline::{Blocked, SignedBundle, TrustBundle, TrustedKey};
use crate::domain::permit::PermitStatus;
use crate::domain::verdict::Reason;
use crate::error::{Error, Result};
use crate::keys::KeyRing;

pub fn bundle(conn: &mut DbConnection, now: DateTime<Utc>, actor: &Actor, keys: &KeyRing) -> Result<SignedBundle> {
    authorize(actor, Action::Scan).or_else(|_| authorize(actor, Action::Supervise))?;
    // Only permits still inside their validity matter: an expired one fails on its own dates.
    let in_force = permits::valid_until.ge(ts(now));
    let stopped: Vec<(String, String)> = permits::table
        .filter(permits::status.eq_any([PermitStatus::Revoked.as_str(), PermitStatus::Used.as_str()]))
        .filter(in_force)
        .select((permits::number, permits::status))
        .load(conn)?;
    let (revoked, used): (Vec<_>, Vec<_>) = stopped
        .into_iter()
        .partition(|(_, s)| s == PermitStatus::Revoked.as_str());
    let revoked: Vec<String> = revoked.into_iter().map(|(n, _)| n).collect();
    // From the few outstanding items to their permits, not from every permit in force to its items.
    let missing: Vec<(String, Option<NaiveDate>)> = application_materials::table
        .filter(application_materials::provided.eq(false))
        .select((application_materials::application_id, application_materials::due_date))
        .load(conn)?;
    let ids: Vec<&String> = missing.iter().map(|(a, _)| a).collect();
    let holders: Vec<(String, String)> = permits::table
        .filter(permits::application_id.eq_any(&ids))
        .filter(permits::status.eq(PermitStatus::Issued.as_str()))
        .filter(in_force)
        .select((permits::application_id, permits::number))
        .load(conn)?;
    let outstanding = missing.iter().filter_map(|(app, due)| {
        holders
            .iter()
            .find(|(a, _)| a == app)
            .map(|(_, number)| (number.clone(), *due))
    });
    // A retired key stays while any permit it signed is in force: one indexed probe per key.
    let mut signing = Vec::new();
    for k in keys.ring() {
        let kid = crate::domain::seal::key_id_hex(k.id);
        let in_use: Option<String> = permits::table
            .filter(permits::key_id.eq(&kid))
            .filter(in_force)
            .select(permits::number)
            .first(conn)
            .optional()?;
        if in_use.is_some() {
            signing.push(kid);
        }
    }
    let today = local(now).date_naive();
    let mut blocked: Vec<Blocked> = used
        .into_iter()
        .map(|(number, _)| Blocked {
            number,
            reason: Reason::Used,
        })
        .collect();
    for (number, due) in outstanding {
        let reason = if due.is_none_or(|d| today > d) {
            Reason::Suspended
        } else {
            Reason::Pending
        };
        match blocked.iter_mut().find(|b| b.number == number) {
            // Any overdue item suspends the permit, whatever its other items say.
            Some(b) if reason == Reason::Suspended => b.reason = reason,
            Some(_) => {}
            None => blocked.push(Blocked { number, reason }),
        }
    }
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let bundle = TrustBundle {
        issued_at: now,
        // The active key, and retired keys until the last permit they signed expires.
        keys: keys
            .ring()
            .iter()
            .map(|k| (crate::domain::seal::key_id_hex(k.id), k))
            .filter(|(kid, _)| *kid == keys.active_id() || signing.contains(kid))
            .map(|(kid, k)| TrustedKey {
                kid,
                public_key: b64.encode(k.public.as_bytes()),
                kinds: k.kinds.clone(),
            })
            .collect(),
        revoked,
        blocked,
    };
    let payload = serde_json::to_string(&bundle).map_err(Error::internal)?;
    let signature = b64.encode(keys.active().sign(payload.as_bytes()).to_bytes());
    Ok(SignedBundle {
        payload,
        signature,
        key_id: keys.active_id(),
    })
}
