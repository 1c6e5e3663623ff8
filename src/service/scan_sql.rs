//! The scan writer's trip updates written out by hand with a fixed text and a static query id, so
//! that diesel keeps each prepared (SQLite) or the server plans it once per connection
//! (PostgreSQL): diesel's own update builder is never cached. One runs per admitted scan
//! (SQLite), the other once per batch (PostgreSQL).

use diesel::backend::Backend;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Array, BigInt, Bool, HasSqlType, Integer, Nullable, Text};

use crate::db::DbConnection;
use crate::error::Result;

/// A trip's conditional update as one fixed statement per shape, which diesel keeps prepared: its
/// `update(..).set(..)` builder is never cached and was compiled again for every admitted scan
/// (6 % of the scan writer's samples in the SQLite profile).
pub(crate) struct TripUpdate<'a> {
    pub number: &'a str,
    pub expect_used: i32,
    pub needs_exit: bool,
    pub used: i32,
    pub direction: &'static str,
    pub status: &'static str,
    pub version: i64,
}

/// The statement `SET_STATUS` shape of a `TripUpdate`, as diesel's statement cache key.
pub(crate) struct TripStatement<'a, const SET_STATUS: bool>(&'a TripUpdate<'a>);

pub(crate) struct TripStatementId<const SET_STATUS: bool>;

impl TripUpdate<'_> {
    pub fn run<const SET_STATUS: bool>(&self, c: &mut DbConnection) -> Result<usize> {
        let q = TripStatement::<SET_STATUS>(self);
        Ok(match c {
            DbConnection::Sqlite(c) => q.execute(c)?,
            DbConnection::Postgresql(c) => q.execute(c)?,
        })
    }
}

impl<const SET_STATUS: bool> QueryId for TripStatement<'_, SET_STATUS> {
    type QueryId = TripStatementId<SET_STATUS>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB, const SET_STATUS: bool> QueryFragment<DB> for TripStatement<'_, SET_STATUS>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<Integer> + HasSqlType<BigInt> + HasSqlType<Bool>,
    str: ToSql<Text, DB>,
    i32: ToSql<Integer, DB>,
    i64: ToSql<BigInt, DB>,
    bool: ToSql<Bool, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let t = self.0;
        out.push_sql("UPDATE permits SET entries_used = ");
        out.push_bind_param::<Integer, _>(&t.used)?;
        out.push_sql(", last_direction = ");
        out.push_bind_param::<Text, _>(t.direction)?;
        out.push_sql(", trust_version = ");
        out.push_bind_param::<BigInt, _>(&t.version)?;
        if SET_STATUS {
            out.push_sql(", status = ");
            out.push_bind_param::<Text, _>(t.status)?;
        }
        out.push_sql(" WHERE number = ");
        out.push_bind_param::<Text, _>(t.number)?;
        out.push_sql(" AND entries_used = ");
        out.push_bind_param::<Integer, _>(&t.expect_used)?;
        out.push_sql(" AND status = 'issued' AND (NOT ");
        out.push_bind_param::<Bool, _>(&t.needs_exit)?;
        out.push_sql(" OR last_direction = 'exit')");
        Ok(())
    }
}

impl<Conn, const SET_STATUS: bool> RunQueryDsl<Conn> for TripStatement<'_, SET_STATUS> {}

/// A batch's trips as columns (see `checkpoint::Pending::flush_trips`).
pub(crate) struct TripsUpdate<'a> {
    pub numbers: Vec<&'a str>,
    pub expect_used: Vec<i32>,
    pub expect_direction: Vec<Option<&'static str>>,
    pub used: Vec<i32>,
    pub direction: Vec<&'static str>,
    pub status: Vec<&'static str>,
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
            "UPDATE permits AS p SET entries_used = v.used, last_direction = v.direction, status = v.status, trust_version = ",
        );
        out.push_bind_param::<BigInt, _>(&self.version)?;
        out.push_sql(" FROM unnest(");
        out.push_bind_param::<Array<Text>, _>(&self.numbers)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Integer>, _>(&self.expect_used)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.expect_direction)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Integer>, _>(&self.used)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.direction)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.status)?;
        out.push_sql(
            ") AS v(number, expect_used, expect_direction, used, direction, status) \
             WHERE p.number = v.number AND p.entries_used = v.expect_used \
             AND p.last_direction IS NOT DISTINCT FROM v.expect_direction AND p.status = 'issued'",
        );
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for TripsUpdate<'_> {}
