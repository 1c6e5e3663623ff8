//! Queries run on the connection's own backend rather than through diesel's multi-connection
//! wrapper: for the statements of the hot paths (booking, scanning, issuing, auditing).
//!
//! Why: `#[derive(MultiConnection)]` hands every query to the backend wrapped in a
//! `SerializedQuery`, whose `walk_ast` renders the whole statement's SQL text on every pass
//! diesel makes over it (the statement cache's check, the binds' collection), before the cached
//! statement is even found. In a bookings storm that was a third of the group-commit thread's
//! samples (`push_identifier`, `push_sql`, `str::replace`). Matched on the enum, the same query
//! runs on `SqliteConnection` or `PgConnection` itself: its statement is found by its type and
//! its binds collected in one pass.

/// `native!(conn, c => expression)`: the expression (a query and its `execute`, `load`, `first`
/// …, on `c`) written once and compiled for each backend, where `c` is the connection's own
/// `SqliteConnection` or `PgConnection`. A macro rather than a generic function: a query's type
/// names its backend (`as_select()` is a `SelectBy<Row, Backend>`), so one value cannot serve
/// both; each arm infers its own.
#[macro_export]
macro_rules! native {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Postgresql($c) => $body,
        }
    };
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;

    use crate::db::models::AuditRow;
    use crate::db::schema::audit_log;

    /// The same statement, run natively, reads back what it wrote (types and NULLs included).
    #[test]
    fn a_row_written_and_read_back_natively() -> crate::error::Result<()> {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::Db::connect(&format!("sqlite:{}", dir.path().join("n.db").display()), 1)?;
        db.migrate()?;
        let mut conn = db.dedicated()?;
        let row = crate::db::audit::entry(chrono::Utc::now(), None, "test.native", "thing", "t-1").into_row();
        let n = native!(&mut conn, c => diesel::insert_into(audit_log::table).values(&row).execute(c))?;
        assert_eq!(n, 1);
        let back: AuditRow = native!(&mut conn, c => audit_log::table
            .filter(audit_log::entity_id.eq("t-1"))
            .select(AuditRow::as_select())
            .first(c))?;
        assert_eq!((back.id, back.action, back.actor), (row.id, row.action, None));
        Ok(())
    }
}
