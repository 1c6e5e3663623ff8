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
    let revoked: Vec<String> = permits::table
        .filter(in_force)
        .filter(permits::status.eq(PermitStatus::Revoked.as_str()))
        .select(permits::number)
        .load(conn)?;
    let used: Vec<String> = permits::table
        .filter(in_force)
        .filter(permits::status.eq(PermitStatus::Used.as_str()))
        .select(permits::number)
        .load(conn)?;
    let outstanding: Vec<(String, Option<NaiveDate>)> = permits::table
        .inner_join(application_materials::table.on(application_materials::application_id.eq(permits::application_id)))
        .filter(in_force)
        .filter(permits::status.eq(PermitStatus::Issued.as_str()))
        .filter(application_materials::provided.eq(false))
        .select((permits::number, application_materials::due_date))
        .load(conn)?;
    let signing: Vec<String> = permits::table
        .filter(in_force)
        .select(permits::key_id)
        .distinct()
        .load(conn)?;
    let today = local(now).date_naive();
    let mut blocked: Vec<Blocked> = used
        .into_iter()
        .map(|number| Blocked {
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
