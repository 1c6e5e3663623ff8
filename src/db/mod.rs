//! Storage: one diesel connection type over SQLite and PostgreSQL, the pool, migrations, and
//! the helpers every query runs through (off the async workers, in the right kind of transaction).

pub mod audit;
pub(crate) mod durable;
pub mod group;
pub mod models;
pub mod native;
pub mod schema;
pub mod types;
pub mod wal;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{Error, Result};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where to connect, decided from the URL's scheme by us rather than by trying each backend in
/// turn (diesel's `establish` on the multi-connection hides the real error and turns any
/// openable path, typos included, into a new SQLite file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub backend: Backend,
    /// For SQLite a file path; for PostgreSQL the URL as given.
    pub location: String,
}

impl Target {
    pub fn parse(url: &str) -> Result<Target> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Target {
                backend: Backend::Postgres,
                location: url.to_string(),
            });
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() || path.contains("://") {
            return Err(Error::Internal(format!(
                "unsupported database URL {url:?}: use postgres://…, sqlite:PATH or a file path"
            )));
        }
        Ok(Target {
            backend: Backend::Sqlite,
            location: path.to_string(),
        })
    }
}

/// Applied to every SQLite connection: these pragmas are per connection, not per file.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 15000; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;";

/// The journal mode is a property of the file and needs the write lock to change. Set once,
/// on one connection, before the pool opens its own: when every pooled connection tried it at
/// once on a new file, all but one failed with "database is locked" and r2d2 logged an ERROR
/// on a newcomer's very first start.
const SQLITE_JOURNAL: &str = "PRAGMA busy_timeout = 15000; PRAGMA journal_mode = WAL;";

/// Counts (and logs) the errors r2d2 meets while opening connections in the background, so a
/// test can see that a clean start had none.
#[derive(Debug, Default, Clone)]
struct PoolErrors(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl r2d2::HandleError<ConnectError> for PoolErrors {
    fn handle_error(&self, error: ConnectError) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::error!(%error, "database connection");
    }
}

/// How long requests waited for a pooled connection (r2d2's checkout events), for `/metrics`:
/// waits that grow mean the pool (or the database behind it) is too small for the load.
#[derive(Debug, Default)]
pub struct PoolWaits {
    pub checkouts: std::sync::atomic::AtomicU64,
    pub waited_micros: std::sync::atomic::AtomicU64,
    pub timeouts: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Default, Clone)]
struct PoolEvents(std::sync::Arc<PoolWaits>);

impl r2d2::HandleEvent for PoolEvents {
    fn handle_checkout(&self, event: r2d2::event::CheckoutEvent) {
        use std::sync::atomic::Ordering::Relaxed;
        self.0.checkouts.fetch_add(1, Relaxed);
        let micros = u64::try_from(event.duration().as_micros()).unwrap_or(u64::MAX);
        self.0.waited_micros.fetch_add(micros, Relaxed);
    }

    fn handle_timeout(&self, _: r2d2::event::TimeoutEvent) {
        self.0.timeouts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConnectError(String);

pub struct Manager {
    target: Target,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = ConnectError;

    fn connect(&self) -> std::result::Result<DbConnection, ConnectError> {
        open(&self.target)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> std::result::Result<(), ConnectError> {
        conn.batch_execute("SELECT 1").map_err(|e| ConnectError(e.to_string()))
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

/// One connection to `target`, with SQLite's per-connection pragmas.
fn open(target: &Target) -> std::result::Result<DbConnection, ConnectError> {
    match target.backend {
        Backend::Postgres => PgConnection::establish(&target.location)
            .map(DbConnection::Postgresql)
            .map_err(|e| ConnectError(format!("PostgreSQL: {e}"))),
        Backend::Sqlite => {
            let mut c = SqliteConnection::establish(&target.location)
                .map_err(|e| ConnectError(format!("SQLite {}: {e}", target.location)))?;
            c.batch_execute(SQLITE_PRAGMAS)
                .map_err(|e| ConnectError(format!("SQLite pragmas: {e}")))?;
            Ok(DbConnection::Sqlite(c))
        }
    }
}

pub type Pool = r2d2::Pool<Manager>;

/// The database handle the app carries: a pool and which backend is behind it.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    target: Target,
    backend: Backend,
    errors: PoolErrors,
    waits: std::sync::Arc<PoolWaits>,
}

impl Db {
    pub fn connect(url: &str, pool_size: u32) -> Result<Db> {
        let target = Target::parse(url)?;
        let backend = target.backend;
        if backend == Backend::Sqlite
            && let Some(parent) = std::path::Path::new(&target.location).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::Internal(format!("creating {}: {e}", parent.display())))?;
        }
        if backend == Backend::Sqlite {
            let fail = |e: &dyn std::fmt::Display| Error::Internal(format!("SQLite {}: {e}", target.location));
            let mut first = SqliteConnection::establish(&target.location).map_err(|e| fail(&e))?;
            first.batch_execute(SQLITE_JOURNAL).map_err(|e| fail(&e))?;
        }
        let errors = PoolErrors::default();
        let events = PoolEvents::default();
        let pool = r2d2::Pool::builder()
            .error_handler(Box::new(errors.clone()))
            .event_handler(Box::new(events.clone()))
            .max_size(pool_size.max(1))
            // Checked-out connections are not pinged on the hot path; broken ones are dropped
            // by `has_broken`, dead ones surface as an error on first use.
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(10))
            .build(Manager { target: target.clone() })?;
        Ok(Db {
            pool,
            target,
            backend,
            errors,
            waits: events.0,
        })
    }

    /// A connection of its own, outside the pool, for a long-lived worker (the scan writer): a
    /// worker that must throw its connection away after a failure does not take a pooled one
    /// with it, and never waits behind the request handlers for one.
    pub fn dedicated(&self) -> Result<DbConnection> {
        open(&self.target).map_err(|e| Error::Internal(e.to_string()))
    }

    /// For a writer's own connection on SQLite (the scan writer, the group commit): pages read
    /// through a memory map (its updates land all over the permits table; a page read is then a
    /// memory access, not a `pread` and a copy), a small page cache for the pages it changes, and
    /// no checkpoints on commit, which the checkpointer does instead on its own connection, so a
    /// batch never waits for the WAL to be copied back (but for the last few batches' frames now
    /// and then, so that the log restarts: see `wal`). Statement journals are kept in memory:
    /// each use case of a group runs under a savepoint, for which SQLite first copies every page
    /// it changes, and into a temporary file (`pwrite`s, 15% of the group thread) by default.
    ///
    /// Why the cache is small: a B-tree page split renumbers pages through the lock page's number
    /// (1 GiB in), and while the file is smaller than that, every commit after one then walks the
    /// whole page cache to drop pages "past the end" (`pcache1TruncateUnsafe`): 15% of the
    /// writer's time with a 64 MiB cache. The limit is soft: SQLite's page caches share one
    /// budget, and the writer's still grew to 5,338 pages (gdb), the walk then 6% of its samples.
    /// The map's risk is SQLite's documented one: an I/O error on a mapped page ends the process
    /// rather than failing the statement.
    pub fn tune_for_writer(conn: &mut DbConnection) -> Result<()> {
        if let DbConnection::Sqlite(c) = conn {
            c.batch_execute(&format!(
                "PRAGMA cache_size = -4096; PRAGMA mmap_size = 4294967296; PRAGMA wal_autocheckpoint = 0; \
                 PRAGMA journal_size_limit = {}; PRAGMA temp_store = MEMORY;",
                wal::SIZE_LIMIT
            ))?;
        }
        Ok(())
    }

    /// For a group commit's own connection: its commits no longer wait for the disk (SQLite
    /// syncs the log only at checkpoints, PostgreSQL commits asynchronously). Its answers must
    /// then go out through `durable`, after a flush of the log past them, and nothing else may
    /// use the connection.
    pub(crate) fn commit_without_waiting(conn: &mut DbConnection) -> Result<()> {
        match conn {
            DbConnection::Sqlite(c) => c.batch_execute("PRAGMA synchronous = NORMAL")?,
            DbConnection::Postgresql(c) => c.batch_execute("SET synchronous_commit = off")?,
        }
        Ok(())
    }

    /// Errors met while opening pooled connections since start (each also logged).
    pub fn connection_errors(&self) -> u64 {
        self.errors.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Waits for pooled connections since start.
    pub fn pool_waits(&self) -> &PoolWaits {
        &self.waits
    }

    /// Pooled connections open and, of those, in use now.
    pub fn pool_state(&self) -> (u32, u32) {
        let s = self.pool.state();
        (s.connections, s.connections - s.idle_connections)
    }

    /// The SQLite file's path, or the PostgreSQL URL as given.
    pub fn location(&self) -> &str {
        &self.target.location
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `f` on a pooled connection on tokio's blocking pool: diesel is synchronous and must
    /// never block an async worker.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConnection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| Error::Internal(format!("database task: {e}")))?
    }

    /// The same, for callers that are not async (the CLI).
    pub fn run_blocking<T>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T>) -> Result<T> {
        let mut conn = self.pool.get()?;
        f(&mut conn)
    }

    /// Applies pending migrations; returns the names of those applied.
    pub fn migrate(&self) -> Result<Vec<String>> {
        self.run_blocking(|conn| {
            let names = |r: diesel::migration::Result<Vec<diesel::migration::MigrationVersion<'_>>>| {
                r.map(|v| v.into_iter().map(|m| m.to_string()).collect::<Vec<_>>())
                    .map_err(|e| Error::Internal(format!("migrations: {e}")))
            };
            // Each migration runs in a transaction of its own with its version row (diesel's
            // harness; no migration here opts out), so a failed one leaves nothing half-applied.
            match conn {
                DbConnection::Sqlite(c) => {
                    refuse_newer(c, SQLITE_MIGRATIONS)?;
                    names(c.run_pending_migrations(SQLITE_MIGRATIONS))
                }
                DbConnection::Postgresql(c) => {
                    // Several instances may start at once against one PostgreSQL: one migrates,
                    // the others wait for it.
                    c.batch_execute("SELECT pg_advisory_lock(727274)")?;
                    let applied = refuse_newer(c, POSTGRES_MIGRATIONS)
                        .and_then(|()| names(c.run_pending_migrations(POSTGRES_MIGRATIONS)));
                    c.batch_execute("SELECT pg_advisory_unlock(727274)")?;
                    applied
                }
            }
        })
    }
}

/// Refuses a database that has a migration this binary does not know: it was upgraded by a
/// newer binary, whose schema this one may misread or damage (RUNBOOK: Upgrade, rollback).
fn refuse_newer<C, DB>(c: &mut C, known: EmbeddedMigrations) -> Result<()>
where
    DB: diesel::backend::Backend,
    C: MigrationHarness<DB>,
    EmbeddedMigrations: diesel::migration::MigrationSource<DB>,
{
    use diesel::migration::MigrationSource;
    let fail_box = |e: Box<dyn std::error::Error + Send + Sync>| Error::Internal(format!("migrations: {e}"));
    let ours: std::collections::HashSet<String> = MigrationSource::<DB>::migrations(&known)
        .map_err(fail_box)?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    let applied = c.applied_migrations().map_err(fail_box)?;
    let mut unknown: Vec<String> = applied
        .iter()
        .map(|v| v.to_string())
        .filter(|v| !ours.contains(v))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort();
    Err(Error::Config(format!(
        "the database was migrated by a newer borderdesk than this one ({} {}): its migrations {} are unknown here. \
         Run the newer binary, or roll back by restoring the backup taken before the upgrade (RUNBOOK.md, Upgrade)",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
        unknown.join(", ")
    )))
}

static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A write transaction. On SQLite it starts with `BEGIN IMMEDIATE` so the write lock is taken
/// up front: a deferred transaction that reads first and then writes fails with SQLITE_BUSY
/// under concurrency instead of waiting. PostgreSQL uses a normal transaction; its invariants
/// rest on constraints and conditional updates.
///
/// On SQLite the writers of this process first queue on one in-process lock. SQLite admits one
/// writer per file, and a connection that finds the file locked waits in its busy handler, which
/// sleeps with a growing backoff (up to 100 ms a try): under load most of a write's latency was
/// those sleeps, not work. Queued here, the next writer starts the moment the last one commits.
/// The lock is one for the process, not per file: a service opens one database, and tests that
/// run several apps at once in one process only have their writes ordered.
pub fn write_tx<T>(conn: &mut DbConnection, f: impl FnOnce(&mut DbConnection) -> Result<T>) -> Result<T> {
    // Inside a transaction already (a grouped write, see `group`): a savepoint of it.
    let nested = <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()?
        .is_some();
    let _turn = match conn {
        _ if nested => {
            <DbConnection as Connection>::TransactionManager::begin_transaction(conn)?;
            None
        }
        DbConnection::Sqlite(c) => {
            // A writer that panicked left nothing behind the lock to protect: its connection's
            // transaction is rolled back when the connection is dropped or reused.
            let turn = SQLITE_WRITER.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
            Some(turn)
        }
        DbConnection::Postgresql(c) => {
            AnsiTransactionManager::begin_transaction(c)?;
            None
        }
    };
    // From here the multi-connection's manager delegates to the same per-backend state.
    match f(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => match <DbConnection as Connection>::TransactionManager::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(e),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// The file SQLite opened for this connection, as an absolute path (whatever form the
/// configured path or URI had).
pub(crate) fn sqlite_file(c: &mut SqliteConnection) -> Result<std::path::PathBuf> {
    let file: String = diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
        "(SELECT file FROM pragma_database_list WHERE name = 'main')",
    ))
    .get_result(c)?;
    Ok(file.into())
}

/// Timestamps are stored as naive UTC, truncated to microseconds (see `clock`).
pub fn ts(at: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    at.naive_utc()
}

pub fn utc(at: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    at.and_utc()
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The least id `new_id` can mint at `at` or later, as text. Ids compare in the order they were
/// minted (UUIDv7 begins with its millisecond), so a range on a table's id index selects the rows
/// written since a time without an index of their own on it.
pub fn id_floor(at: chrono::DateTime<chrono::Utc>) -> String {
    let ms = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    uuid::Uuid::from_bytes(bytes).to_string()
}

/// When an id from `new_id` was minted (None for any other text): the other way of `id_floor`.
pub fn id_time(id: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let (secs, nanos) = uuid::Uuid::parse_str(id).ok()?.get_timestamp()?.to_unix();
    chrono::DateTime::from_timestamp(i64::try_from(secs).ok()?, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_floor_is_below_every_id_minted_from_its_time_and_above_those_before() {
        use uuid::{NoContext, Timestamp, Uuid};
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T04:05:06.789Z")
            .unwrap()
            .to_utc();
        let minted = |t: chrono::DateTime<chrono::Utc>| {
            let nanos = t.timestamp_subsec_nanos();
            Uuid::new_v7(Timestamp::from_unix(NoContext, t.timestamp() as u64, nanos)).to_string()
        };
        let floor = id_floor(at);
        for _ in 0..100 {
            assert!(minted(at) >= floor);
            assert!(minted(at + chrono::Duration::microseconds(999)) >= floor);
            assert!(minted(at - chrono::Duration::milliseconds(1)) < floor);
        }
        assert!(id_floor(at + chrono::Duration::milliseconds(1)) > floor);
    }

    #[test]
    fn an_id_tells_when_it_was_minted_and_other_text_tells_nothing() {
        let before = chrono::Utc::now() - chrono::Duration::milliseconds(1);
        let at = id_time(&new_id()).unwrap();
        assert!(at >= before && at <= chrono::Utc::now(), "{at}");
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T04:05:06.789Z")
            .unwrap()
            .to_utc();
        let minted = uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            at.timestamp() as u64,
            789_400_000,
        ));
        assert_eq!(id_time(&minted.to_string()), Some(at));
        assert_eq!(id_time("x1"), None);
        assert_eq!(id_time(&uuid::Uuid::new_v4().to_string()), None);
    }

    /// A migration that opted out of its transaction could stop half-applied (the upgrade's
    /// promise in RUNBOOK.md): none may, on either backend.
    #[test]
    fn every_migration_runs_in_its_own_transaction() {
        use diesel::migration::MigrationSource;
        let sqlite = MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS).unwrap();
        let postgres = MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS).unwrap();
        assert!(!sqlite.is_empty() && sqlite.len() == postgres.len());
        for m in sqlite
            .iter()
            .map(|m| (m.name().to_string(), m.metadata().run_in_transaction()))
        {
            assert!(m.1, "{} runs outside a transaction", m.0);
        }
        for m in postgres
            .iter()
            .map(|m| (m.name().to_string(), m.metadata().run_in_transaction()))
        {
            assert!(m.1, "{} runs outside a transaction", m.0);
        }
    }

    #[test]
    fn backend_from_scheme() {
        assert_eq!(Target::parse("postgres://u@h/db").unwrap().backend, Backend::Postgres);
        assert_eq!(Target::parse("postgresql://u@h/db").unwrap().backend, Backend::Postgres);
        assert_eq!(
            Target::parse("sqlite:data/x.db").unwrap(),
            Target {
                backend: Backend::Sqlite,
                location: "data/x.db".into()
            }
        );
        assert_eq!(Target::parse("sqlite:///tmp/x.db").unwrap().location, "/tmp/x.db");
        assert_eq!(Target::parse("./x.db").unwrap().backend, Backend::Sqlite);
        assert!(Target::parse("mysql://h/db").is_err());
        assert!(Target::parse("").is_err());
    }

    #[test]
    fn a_new_sqlite_file_opens_its_pool_without_an_error() {
        // The race itself is rare on a fast disk (not reproduced here in 40 rounds of 16
        // connections); what made it possible is a lock-taking pragma run by every connection.
        assert!(!SQLITE_PRAGMAS.contains("journal_mode"));
        // Several rounds: the old race (every connection switching the journal mode at once)
        // did not lose every time.
        for round in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(format!("new-{round}.db"));
            let db = Db::connect(path.to_str().unwrap(), 8).unwrap();
            #[derive(QueryableByName)]
            struct Mode {
                #[diesel(sql_type = diesel::sql_types::Text)]
                journal_mode: String,
            }
            #[derive(QueryableByName)]
            struct Fk {
                #[diesel(sql_type = diesel::sql_types::Integer)]
                foreign_keys: i32,
            }
            let (mode, fk) = db
                .run_blocking(|c| {
                    let DbConnection::Sqlite(c) = c else { unreachable!() };
                    let mode = diesel::sql_query("PRAGMA journal_mode").get_result::<Mode>(c)?;
                    let fk = diesel::sql_query("PRAGMA foreign_keys").get_result::<Fk>(c)?;
                    Ok((mode.journal_mode, fk.foreign_keys))
                })
                .unwrap();
            assert_eq!(mode, "wal");
            assert_eq!(fk, 1, "per-connection pragmas still applied");
            assert_eq!(db.connection_errors(), 0, "round {round}");
        }
    }

    #[test]
    fn the_bundled_sqlite_plans_without_looking_at_bound_values() {
        // .cargo/config.toml builds SQLite with the query planner stability guarantee; without
        // it every `.first()` (LIMIT bound as a parameter) is compiled again at each execution.
        #[derive(QueryableByName)]
        struct Opt {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let mut c = diesel::SqliteConnection::establish(":memory:").unwrap();
        let opts: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<Opt>(&mut c)
            .unwrap()
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        assert!(opts.iter().any(|o| o == "ENABLE_QPSG"), "{opts:?}");
    }

    #[test]
    fn migration_folders_do_not_drift() {
        let names = |dir: &str| {
            let mut v: Vec<String> = std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        let (s, p) = (names("sqlite"), names("postgres"));
        assert!(!s.is_empty());
        assert_eq!(
            s, p,
            "migrations/sqlite and migrations/postgres must hold the same migrations"
        );
        for m in &s {
            for f in ["up.sql", "down.sql"] {
                for dir in ["sqlite", "postgres"] {
                    let path = format!("{}/migrations/{dir}/{m}/{f}", env!("CARGO_MANIFEST_DIR"));
                    assert!(std::path::Path::new(&path).exists(), "{path} missing");
                }
            }
        }
    }
}
