//! The audit trail: one row per state change, written by the caller inside its own transaction.
//! Callers pass values with identity numbers already masked.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::models::AuditRow;
use super::schema::audit_log;
use super::{DbConnection, new_id, ts};
use crate::error::Result;

/// One audit row being described: `entry(…)`, then `.before(…)`/`.after(…)`, then `.write(conn)`.
pub struct Entry<'a> {
    at: DateTime<Utc>,
    actor: Option<&'a str>,
    action: &'a str,
    entity: &'a str,
    entity_id: &'a str,
    before: Option<String>,
    after: Option<String>,
}

/// A change by `actor` (None: the service itself) to one entity.
pub fn entry<'a>(
    at: DateTime<Utc>,
    actor: Option<&'a str>,
    action: &'a str,
    entity: &'a str,
    entity_id: &'a str,
) -> Entry<'a> {
    Entry {
        at,
        actor,
        action,
        entity,
        entity_id,
        before: None,
        after: None,
    }
}

impl Entry<'_> {
    /// The entity as it was (identity numbers masked).
    pub fn before(mut self, before: &impl Serialize) -> Self {
        self.before = Some(to_json(before));
        self
    }

    /// The entity as it was, when there was one.
    pub fn before_if(mut self, before: Option<&impl Serialize>) -> Self {
        self.before = before.map(to_json);
        self
    }

    /// The entity as it is now (identity numbers masked).
    pub fn after(mut self, after: &impl Serialize) -> Self {
        self.after = Some(to_json(after));
        self
    }

    /// Writes the row, inside the caller's transaction.
    pub fn write(self, conn: &mut DbConnection) -> Result<()> {
        let row = self.into_row();
        crate::native!(conn, c => diesel::insert_into(audit_log::table).values(&row).execute(c))?;
        Ok(())
    }

    /// The row, for a caller that inserts several together in its transaction.
    pub fn into_row(self) -> AuditRow {
        AuditRow {
            id: new_id(),
            at: ts(self.at),
            actor: self.actor.map(str::to_string),
            action: self.action.to_string(),
            entity: self.entity.to_string(),
            entity_id: self.entity_id.to_string(),
            before_json: self.before,
            after_json: self.after,
        }
    }
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| format!("{{\"unserialisable\":\"{e}\"}}"))
}

/// An entity's trail, oldest first. A permit's includes its crossings' entries: a scan is entered
/// under the crossing it created (see `service::checkpoint::record`).
pub fn for_entity(conn: &mut DbConnection, entity: &str, entity_id: &str) -> Result<Vec<AuditRow>> {
    use super::schema::crossings;
    let mut rows: Vec<AuditRow> = audit_log::table
        .filter(audit_log::entity.eq(entity))
        .filter(audit_log::entity_id.eq(entity_id))
        .select(AuditRow::as_select())
        .load(conn)?;
    if entity == "permit" {
        let its_crossings = crossings::table
            .filter(crossings::permit_number.eq(entity_id))
            .select(crossings::id);
        rows.extend(
            audit_log::table
                .filter(audit_log::entity.eq("crossing"))
                .filter(audit_log::entity_id.eq_any(its_crossings))
                .select(AuditRow::as_select())
                .load(conn)?,
        );
    }
    // Ids are time-ordered (UUIDv7): the tie-break keeps entries of one instant in write order.
    rows.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    Ok(rows)
}
