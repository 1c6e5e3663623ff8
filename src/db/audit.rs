//! The audit trail: one row per state change, written by the caller inside its own transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::models::AuditRow;
use super::schema::audit_log;
use super::{DbConnection, new_id, ts};
use crate::error::Result;

pub struct Change<'a, B: Serialize, A: Serialize> {
    pub at: DateTime<Utc>,
    pub actor: Option<&'a str>,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub before: Option<&'a B>,
    pub after: Option<&'a A>,
}

/// Records a change. Callers pass values with identity numbers already masked.
pub fn record<B: Serialize, A: Serialize>(conn: &mut DbConnection, c: Change<'_, B, A>) -> Result<()> {
    let row = AuditRow {
        id: new_id(),
        at: ts(c.at),
        actor: c.actor.map(str::to_string),
        action: c.action.to_string(),
        entity: c.entity.to_string(),
        entity_id: c.entity_id.to_string(),
        before_json: c.before.map(to_json),
        after_json: c.after.map(to_json),
    };
    diesel::insert_into(audit_log::table).values(&row).execute(conn)?;
    Ok(())
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| format!("{{\"unserialisable\":\"{e}\"}}"))
}

pub fn for_entity(conn: &mut DbConnection, entity: &str, entity_id: &str) -> Result<Vec<AuditRow>> {
    Ok(audit_log::table
        .filter(audit_log::entity.eq(entity))
        .filter(audit_log::entity_id.eq(entity_id))
        .order(audit_log::at.asc())
        .select(AuditRow::as_select())
        .load(conn)?)
}
