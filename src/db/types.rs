//! The domain's enums as diesel column types: stored as the same TEXT as always, read back
//! strictly, so a value the code does not know fails the load (naming the column and the value)
//! instead of turning into some default far from the row it came from.
//!
//! The impls are written here, not derived on the enums, to keep `domain` free of diesel; the
//! generic backend parameter covers SQLite, PostgreSQL and the multi-connection backend alike.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, Queryable};
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{Nullable, Text};

use crate::domain::auth::{Role, format_grants};
use crate::domain::calendar::DayKind;
use crate::domain::free::FreeService;
use crate::domain::freight::{BookingStatus, CargoCategory, LaneType, VehicleType};
use crate::domain::ids::IdType;
use crate::domain::permit::{ApplicationStatus, PermitKind, PermitStatus};
use crate::domain::stock::{BlankStatus, VoidReason};
use crate::domain::traveller::Sex;
use crate::domain::verdict::{Direction, Reason};

/// A stored text that is no variant of the type the column holds. Diesel wraps it with the
/// column's name; `crate::error::Error` shows both.
#[derive(Debug, thiserror::Error)]
#[error("stored value {value:?} is not a known {type_name}")]
pub struct UnknownValue {
    pub type_name: &'static str,
    pub value: String,
}

/// A type read from one TEXT column as itself (its `FromSql` does the work).
macro_rules! queryable_text {
    ($ty:ty) => {
        impl<DB> Queryable<Text, DB> for $ty
        where
            DB: Backend,
            Self: FromSql<Text, DB>,
        {
            type Row = Self;

            fn build(row: Self) -> deserialize::Result<Self> {
                Ok(row)
            }
        }
    };
}

/// `$target` usable as an SQL `$sql` expression, bound as the `$bind` that `$text` makes of it.
macro_rules! text_expression {
    ($target:ty, $sql:ty, $bind:ty, |$v:ident| $text:expr) => {
        impl AsExpression<$sql> for $target {
            type Expression = <$bind as AsExpression<$sql>>::Expression;

            fn as_expression(self) -> Self::Expression {
                let $v = self;
                <$bind as AsExpression<$sql>>::as_expression($text)
            }
        }
    };
}

/// For each enum: read through `parse` (an unknown text is an error), written through `as_str`,
/// and usable wherever a TEXT expression is (filters, `set`, inserts, `Option` for nullable
/// columns). Binding goes through the `&'static str` the variant names, so what is stored is
/// exactly what the string columns held before.
macro_rules! text_enum {
    ($($ty:ident),* $(,)?) => {$(
        impl<DB> FromSql<Text, DB> for $ty
        where
            DB: Backend,
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, DB>>::from_sql(bytes)?;
                match $ty::parse(&text) {
                    Some(value) => Ok(value),
                    None => Err(Box::new(UnknownValue {
                        type_name: stringify!($ty),
                        value: text,
                    })),
                }
            }
        }

        impl<DB> ToSql<Text, DB> for $ty
        where
            DB: Backend,
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                <str as ToSql<Text, DB>>::to_sql(self.as_str(), out)
            }
        }

        queryable_text!($ty);
        text_expression!($ty, Text, &'static str, |v| v.as_str());
        text_expression!($ty, Nullable<Text>, &'static str, |v| v.as_str());
        text_expression!(&$ty, Text, &'static str, |v| v.as_str());
        text_expression!(&$ty, Nullable<Text>, &'static str, |v| v.as_str());
        text_expression!(&&$ty, Text, &'static str, |v| v.as_str());
        text_expression!(&&$ty, Nullable<Text>, &'static str, |v| v.as_str());
    )*};
}

text_enum!(
    PermitKind,
    ApplicationStatus,
    PermitStatus,
    Direction,
    Role,
    Reason,
    DayKind,
    IdType,
    Sex,
    LaneType,
    BookingStatus,
    CargoCategory,
    VehicleType,
    BlankStatus,
    VoidReason,
    FreeService,
);

/// An officer's per-kind grants, stored as the kinds' names separated by commas (empty for
/// none). Read as strictly as a single kind: a name the code does not know fails the load
/// rather than quietly taking a grant away.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants(pub Vec<PermitKind>);

impl Grants {
    /// The stored text, as it always was.
    pub fn text(&self) -> String {
        format_grants(&self.0)
    }
}

impl std::fmt::Display for Grants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

/// Audit records keep showing the stored text.
impl serde::Serialize for Grants {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

impl<DB> FromSql<Text, DB> for Grants
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, DB>>::from_sql(bytes)?;
        let mut grants = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match PermitKind::parse(name) {
                Some(kind) => grants.push(kind),
                None => {
                    return Err(Box::new(UnknownValue {
                        type_name: "PermitKind",
                        value: name.to_string(),
                    }));
                }
            }
        }
        Ok(Grants(grants))
    }
}

queryable_text!(Grants);
// The text is built, so the expression owns it (a `String` bind), for the row and a borrow of it.
text_expression!(Grants, Text, String, |v| v.text());
text_expression!(&Grants, Text, String, |v| v.text());

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::pg::PgConnection;
    use diesel::prelude::*;
    use diesel::sqlite::SqliteConnection;
    use diesel_migrations::MigrationHarness;

    use super::*;
    use crate::db::{DbConnection, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
    use crate::error::Error;

    diesel::table! {
        probe (id) {
            id -> Integer,
            value -> Text,
            maybe -> Nullable<Text>,
        }
    }

    /// A PostgreSQL database of its own, dropped when the test ends.
    struct PgDatabase {
        admin: String,
        name: String,
    }

    impl Drop for PgDatabase {
        fn drop(&mut self) {
            if let Ok(mut c) = PgConnection::establish(&self.admin) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
            }
        }
    }

    /// Runs `f` on an in-memory SQLite database with the app's schema, and on a fresh
    /// PostgreSQL database with it when BORDERDESK_TEST_DATABASE_URL names a server.
    fn on_each_backend(f: impl Fn(&mut DbConnection)) {
        let mut sqlite = SqliteConnection::establish(":memory:").unwrap();
        sqlite.run_pending_migrations(SQLITE_MIGRATIONS).unwrap();
        f(&mut DbConnection::Sqlite(sqlite));

        let Some(admin) = std::env::var("BORDERDESK_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            return;
        };
        let db = PgDatabase {
            name: format!("bd_types_{}", crate::db::new_id().replace('-', "")),
            admin,
        };
        PgConnection::establish(&db.admin)
            .unwrap()
            .batch_execute(&format!("CREATE DATABASE {}", db.name))
            .unwrap();
        let (base, _) = db.admin.rsplit_once('/').unwrap();
        let mut pg = PgConnection::establish(&format!("{base}/{}", db.name)).unwrap();
        pg.run_pending_migrations(POSTGRES_MIGRATIONS).unwrap();
        f(&mut DbConnection::Postgresql(pg));
    }

    fn probe_table(c: &mut DbConnection) {
        c.batch_execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, value TEXT NOT NULL, maybe TEXT)")
            .unwrap();
    }

    /// Each variant goes in through the DSL and comes back equal, stored as its `as_str` text,
    /// in a plain and a nullable column.
    macro_rules! round_trip {
        ($c:expr, $ty:ident) => {{
            let c: &mut DbConnection = $c;
            diesel::delete(probe::table).execute(c).unwrap();
            for (i, v) in $ty::ALL.into_iter().enumerate() {
                let id = i32::try_from(i).unwrap();
                diesel::insert_into(probe::table)
                    .values((probe::id.eq(id), probe::value.eq(v), probe::maybe.eq(Some(v))))
                    .execute(c)
                    .unwrap();
                let (back, maybe): ($ty, Option<$ty>) = probe::table
                    .find(id)
                    .select((probe::value, probe::maybe))
                    .first(c)
                    .unwrap();
                assert_eq!((back, maybe), (v, Some(v)), "{}", stringify!($ty));
                let text: String = probe::table.find(id).select(probe::value).first(c).unwrap();
                assert_eq!(text, v.as_str());
                // Filters and updates take the enum too.
                let n = diesel::update(probe::table.filter(probe::value.eq(&v)))
                    .set(probe::maybe.eq(None::<$ty>))
                    .execute(c)
                    .unwrap();
                assert_eq!(n, 1);
                let maybe: Option<$ty> = probe::table.find(id).select(probe::maybe).first(c).unwrap();
                assert_eq!(maybe, None);
            }
            let stored: i64 = probe::table.count().get_result(c).unwrap();
            assert_eq!(stored, i64::try_from($ty::ALL.len()).unwrap());
        }};
    }

    #[test]
    fn every_variant_round_trips() {
        on_each_backend(|c| {
            probe_table(c);
            round_trip!(c, PermitKind);
            round_trip!(c, ApplicationStatus);
            round_trip!(c, PermitStatus);
            round_trip!(c, Direction);
            round_trip!(c, Role);
            round_trip!(c, Reason);
            round_trip!(c, DayKind);
            round_trip!(c, IdType);
            round_trip!(c, Sex);

            let lists = [
                vec![],
                vec![PermitKind::Passport],
                vec![PermitKind::BorderTourism, PermitKind::BorderTrade, PermitKind::Passport],
            ];
            for (id, kinds) in (100..).zip(lists) {
                let grants = Grants(kinds);
                diesel::insert_into(probe::table)
                    .values((probe::id.eq(id), probe::value.eq(&grants)))
                    .execute(c)
                    .unwrap();
                let back: Grants = probe::table.find(id).select(probe::value).first(c).unwrap();
                assert_eq!(back, grants);
                let text: String = probe::table.find(id).select(probe::value).first(c).unwrap();
                assert_eq!(text, crate::domain::auth::format_grants(&grants.0));
            }
        });
    }

    #[test]
    fn an_unknown_stored_value_is_an_error_naming_column_and_value() {
        on_each_backend(|c| {
            probe_table(c);
            c.batch_execute("INSERT INTO probe (id, value) VALUES (1, 'cancelled')")
                .unwrap();
            let loaded: QueryResult<PermitStatus> = probe::table.find(1).select(probe::value).first(c);
            let err = Error::from(loaded.unwrap_err());
            let text = err.to_string();
            assert!(text.contains("'value'"), "{text}");
            assert!(text.contains("\"cancelled\""), "{text}");
            assert!(text.contains("PermitStatus"), "{text}");
            // Nullable columns alike: NULL is None, an unknown text is an error, not None.
            c.batch_execute("INSERT INTO probe (id, value, maybe) VALUES (2, 'exit', 'sideways')")
                .unwrap();
            let maybe: QueryResult<Option<Direction>> = probe::table.find(2).select(probe::maybe).first(c);
            let text = Error::from(maybe.unwrap_err()).to_string();
            assert!(text.contains("\"sideways\""), "{text}");
            // A grant list with one name unknown is refused whole, not shortened.
            c.batch_execute("INSERT INTO probe (id, value) VALUES (3, 'border_trade,visa')")
                .unwrap();
            let grants: QueryResult<Grants> = probe::table.find(3).select(probe::value).first(c);
            let text = Error::from(grants.unwrap_err()).to_string();
            assert!(text.contains("\"visa\""), "{text}");
        });
    }

    /// The scan page's last scans at a lane: the lane's only, newest first, within a day of the
    /// newest crossing anywhere (read along the id index, see `checkpoint::recent`).
    #[test]
    fn a_lanes_last_scans_are_its_own_newest_first_within_a_day_of_the_newest_scan() {
        on_each_backend(|c| {
            let newest = chrono::DateTime::parse_from_rfc3339("2026-11-29T10:00:00Z")
                .unwrap()
                .to_utc();
            let id = |hours_before: i64| {
                let t = newest - chrono::Duration::hours(hours_before);
                uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, t.timestamp() as u64, 0)).to_string()
            };
            let (now, an_hour, two_hours, yesterday) = (id(0), id(1), id(2), id(25));
            let mut sql = String::from(
                "INSERT INTO officers (id, username, display_name, role, grants, office, password_hash, disabled, created_at) \
                 VALUES ('o1', 'lane', 'Lane', 'checkpoint', '', 'YYG', 'x', false, '2026-11-29 10:00:00');",
            );
            for (id, lane) in [(&yesterday, "L1"), (&two_hours, "L1"), (&an_hour, "L1"), (&now, "L2")] {
                sql.push_str(&format!(
                    "INSERT INTO crossings (id, code_hash, lane, direction, device, at, verdict, reason) \
                     VALUES ('{id}', 'h', '{lane}', 'exit', 'o1', '2026-11-29 10:00:00', 'reject', 'unknown_permit');"
                ));
            }
            c.batch_execute(&sql).unwrap();
            let ids = |rows: Vec<crate::db::models::CrossingRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
            let recent =
                |c: &mut DbConnection, lane, limit| ids(crate::service::checkpoint::recent(c, lane, limit).unwrap());
            assert_eq!(recent(c, "L1", 10), vec![an_hour.clone(), two_hours.clone()]);
            assert_eq!(recent(c, "L1", 1), vec![an_hour.clone()]);
            assert_eq!(recent(c, "L2", 10), vec![now.clone()]);
            assert!(recent(c, "L3", 10).is_empty());
        });
    }

    /// On the app's own tables (a column without a CHECK constraint, as most are): a crossing
    /// whose reason code was written by something else fails the service that lists it, where
    /// the scan page used to show the raw text as if it were a reason.
    #[test]
    fn a_bad_row_fails_the_service_that_reads_it() {
        on_each_backend(|c| {
            c.batch_execute(
                "INSERT INTO officers (id, username, display_name, role, grants, office, password_hash, disabled, created_at) \
                 VALUES ('o1', 'lane', 'Lane', 'checkpoint', '', 'YYG', 'x', false, '2026-11-29 10:00:00'); \
                 INSERT INTO crossings (id, code_hash, lane, direction, device, at, verdict, reason) \
                 VALUES ('x1', 'h', 'L1', 'exit', 'o1', '2026-11-29 10:00:00', 'reject', 'stale_code');",
            )
            .unwrap();
            let err = crate::service::checkpoint::recent(c, "L1", 10).err().unwrap();
            assert!(matches!(err, Error::Db(_)), "{err:?}");
            let text = err.to_string();
            assert!(text.contains("'reason'") && text.contains("\"stale_code\""), "{text}");
        });
    }
}
