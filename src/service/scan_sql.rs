//! The scan writer's statements written out by hand with a fixed text and a static query id, so
//! that diesel keeps each prepared (SQLite) or the server plans it once per connection
//! (PostgreSQL): diesel's own update builder is never cached, and its multi-row insert is a new
//! statement for every batch length. A permit used up by its last trip is updated per scan
//! (SQLite); the batch's used-up permits, crossings and audit rows go once per batch as column
//! arrays (PostgreSQL).

use diesel::backend::Backend;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Array, BigInt, HasSqlType, Integer, Nullable, Text, Timestamp};

use crate::db::DbConnection;
use crate::db::models::{AuditRow, CrossingRow};
use crate::error::Result;

/// A permit used up by its last trip, as one fixed statement which diesel keeps prepared: its
/// `update(..).set(..)` builder is never cached and was compiled again for every trip.
pub(crate) struct TripUpdate<'a> {
    pub number: &'a str,
    pub used: i32,
    pub direction: &'static str,
    pub status: &'static str,
    pub version: i64,
}

/// The statement of a `TripUpdate`, with diesel's statement cache key.
pub(crate) struct TripStatement<'a>(&'a TripUpdate<'a>);

pub(crate) struct TripStatementId;

impl TripUpdate<'_> {
    pub fn run(&self, c: &mut DbConnection) -> Result<usize> {
        Ok(crate::native!(c, c => TripStatement(self).execute(c))?)
    }
}

impl QueryId for TripStatement<'_> {
    type QueryId = TripStatementId;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB> QueryFragment<DB> for TripStatement<'_>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<Integer> + HasSqlType<BigInt>,
    str: ToSql<Text, DB>,
    i32: ToSql<Integer, DB>,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let t = self.0;
        out.push_sql("UPDATE permits SET entries_used = ");
        out.push_bind_param::<Integer, _>(&t.used)?;
        out.push_sql(", last_direction = ");
        out.push_bind_param::<Text, _>(t.direction)?;
        out.push_sql(", trust_version = ");
        out.push_bind_param::<BigInt, _>(&t.version)?;
        out.push_sql(", status = ");
        out.push_bind_param::<Text, _>(t.status)?;
        out.push_sql(" WHERE number = ");
        out.push_bind_param::<Text, _>(t.number)?;
        out.push_sql(" AND status = 'issued'");
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for TripStatement<'_> {}

/// `unnest(a, b, …)` over a batch's column arrays, each bound with its SQL type (PostgreSQL): the
/// argument list the batch statements below share.
macro_rules! unnest {
    ($out:ident; $ty0:ty => $col0:expr $(, $ty:ty => $col:expr)* $(,)?) => {{
        $out.push_sql("unnest(");
        $out.push_bind_param::<Array<$ty0>, _>($col0)?;
        $(
            $out.push_sql(", ");
            $out.push_bind_param::<Array<$ty>, _>($col)?;
        )*
        $out.push_sql(")");
    }};
}

/// The permits a batch used up, as columns (see `checkpoint::Pending::flush_used_up`).
pub(crate) struct TripsUpdate<'a> {
    pub numbers: Vec<&'a str>,
    pub used: Vec<i32>,
    pub version: i64,
}

pub(crate) struct TripsUpdateId;

impl QueryId for TripsUpdate<'_> {
    type QueryId = TripsUpdateId;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Pg> for TripsUpdate<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "UPDATE permits AS p SET entries_used = v.used, last_direction = 'entry', status = 'used', trust_version = ",
        );
        out.push_bind_param::<BigInt, _>(&self.version)?;
        out.push_sql(" FROM ");
        unnest!(out;
            Text => &self.numbers,
            Integer => &self.used,
        );
        out.push_sql(" AS v(number, used) WHERE p.number = v.number AND p.status = 'issued'");
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for TripsUpdate<'_> {}

/// A batch's crossings as column arrays in one `INSERT … SELECT FROM unnest(…)` (PostgreSQL):
/// one statement text whatever the batch's length, planned once per connection. A VALUES list
/// was parsed and planned again for each new length (every call, measured with
/// pg_stat_statements), 12 to 15 µs a row.
pub(crate) struct CrossingsInsert<'a> {
    id: Vec<&'a str>,
    client_id: Vec<Option<&'a str>>,
    permit_number: Vec<Option<&'a str>>,
    code_hash: Vec<&'a str>,
    lane: Vec<&'a str>,
    direction: Vec<&'static str>,
    device: Vec<&'a str>,
    at: Vec<chrono::NaiveDateTime>,
    verdict: Vec<&'a str>,
    reason: Vec<&'static str>,
    cleared_at: Vec<Option<chrono::NaiveDateTime>>,
    step: Vec<Option<i32>>,
}

impl<'a> CrossingsInsert<'a> {
    pub fn new(rows: &'a [CrossingRow]) -> Self {
        CrossingsInsert {
            id: rows.iter().map(|r| r.id.as_str()).collect(),
            client_id: rows.iter().map(|r| r.client_id.as_deref()).collect(),
            permit_number: rows.iter().map(|r| r.permit_number.as_deref()).collect(),
            code_hash: rows.iter().map(|r| r.code_hash.as_str()).collect(),
            lane: rows.iter().map(|r| r.lane.as_str()).collect(),
            direction: rows.iter().map(|r| r.direction.as_str()).collect(),
            device: rows.iter().map(|r| r.device.as_str()).collect(),
            at: rows.iter().map(|r| r.at).collect(),
            verdict: rows.iter().map(|r| r.verdict.as_str()).collect(),
            reason: rows.iter().map(|r| r.reason.as_str()).collect(),
            cleared_at: rows.iter().map(|r| r.cleared_at).collect(),
            step: rows.iter().map(|r| r.step).collect(),
        }
    }
}

pub(crate) struct CrossingsInsertId;

impl QueryId for CrossingsInsert<'_> {
    type QueryId = CrossingsInsertId;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Pg> for CrossingsInsert<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO crossings (id, client_id, permit_number, code_hash, lane, direction, device, at, \
             verdict, reason, cleared_at, step) SELECT * FROM ",
        );
        unnest!(out;
            Text => &self.id,
            Nullable<Text> => &self.client_id,
            Nullable<Text> => &self.permit_number,
            Text => &self.code_hash,
            Text => &self.lane,
            Text => &self.direction,
            Text => &self.device,
            Timestamp => &self.at,
            Text => &self.verdict,
            Text => &self.reason,
            Nullable<Timestamp> => &self.cleared_at,
            Nullable<Integer> => &self.step,
        );
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for CrossingsInsert<'_> {}

/// A batch's audit rows as column arrays, as `CrossingsInsert`.
pub(crate) struct AuditInsert<'a> {
    id: Vec<&'a str>,
    at: Vec<chrono::NaiveDateTime>,
    actor: Vec<Option<&'a str>>,
    action: Vec<&'a str>,
    entity: Vec<&'a str>,
    entity_id: Vec<&'a str>,
    before_json: Vec<Option<&'a str>>,
    after_json: Vec<Option<&'a str>>,
}

impl<'a> AuditInsert<'a> {
    pub fn new(rows: &'a [AuditRow]) -> Self {
        AuditInsert {
            id: rows.iter().map(|r| r.id.as_str()).collect(),
            at: rows.iter().map(|r| r.at).collect(),
            actor: rows.iter().map(|r| r.actor.as_deref()).collect(),
            action: rows.iter().map(|r| r.action.as_str()).collect(),
            entity: rows.iter().map(|r| r.entity.as_str()).collect(),
            entity_id: rows.iter().map(|r| r.entity_id.as_str()).collect(),
            before_json: rows.iter().map(|r| r.before_json.as_deref()).collect(),
            after_json: rows.iter().map(|r| r.after_json.as_deref()).collect(),
        }
    }
}

pub(crate) struct AuditInsertId;

impl QueryId for AuditInsert<'_> {
    type QueryId = AuditInsertId;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Pg> for AuditInsert<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO audit_log (id, at, actor, action, entity, entity_id, before_json, after_json) \
             SELECT * FROM ",
        );
        unnest!(out;
            Text => &self.id,
            Timestamp => &self.at,
            Nullable<Text> => &self.actor,
            Text => &self.action,
            Text => &self.entity,
            Text => &self.entity_id,
            Nullable<Text> => &self.before_json,
            Nullable<Text> => &self.after_json,
        );
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for AuditInsert<'_> {}
