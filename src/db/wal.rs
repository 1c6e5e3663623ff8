//! SQLite's write-ahead log kept short under sustained writing: a background checkpointer copies
//! the log back into the database, and asks a writer (the scan writer, the group commit) to copy
//! the last few batches itself, between two of them, so that its next batch starts the log again
//! from the beginning.
//!
//! Why the writer has a part in it: SQLite rewinds the log only when a write transaction begins
//! while every frame is already copied back. A checkpoint on another connection never meets that
//! moment while the writer commits every few milliseconds (each pass ends behind the batches
//! committed during it), so the log grew for as long as the load lasted, 2.2 GB in ten seconds
//! of scanning, every write extending the file. The writer checkpointing everything itself
//! (`wal_autocheckpoint`) kept the log short but put all the copying on the writer and scanned a
//! quarter slower. Here the background does nearly all of it, syncs what it copied, and leaves
//! the writer a few milliseconds' worth about twice a second.
//!
//! Written here rather than taken from a crate: it is a policy over SQLite's own checkpoint.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel::sqlite::SqliteConnection;

use super::{Backend, Db, DbConnection};
use crate::error::{Error, Result};

/// The log's length at which it is worth restarting (frames; 16 MiB with 4 KiB pages): below
/// it the writer is never asked, so a quiet service checkpoints as before.
const RESTART_AT: i64 = 4096;
/// How long the checkpointer waits after asking the writer (the log's length under load is about
/// what the writer writes in this time), or after a pass a reader kept from copying anything.
/// Each restart costs the writer a few milliseconds (its share of the copy and two syncs);
/// 100 ms scanned slower than 400 ms, measured.
const BUSY: Duration = Duration::from_millis(400);
/// A pass and its sync this short leave the writer little enough to finish.
const SETTLED: Duration = Duration::from_millis(4);
/// Passes in a row at most before the writer is asked anyway (a slow disk's sync is never short).
const MAX_ROUNDS: u32 = 4;
/// A pass that leaves at most this many frames behind has caught up with the writer (those of
/// the batches it committed during the pass).
const CAUGHT_UP: i64 = 4096;
/// The log's size on disk after a restart at most (SQLite truncates it on the first commit
/// after one): above a restart cycle's length under load (about 190 MB on the 2-core machine
/// measured), so a busy log is reused in place rather than cut and extended again, while a burst
/// does not leave a file of gigabytes behind.
pub const SIZE_LIMIT: i64 = 256 * 1024 * 1024;

/// The request from the checkpointer to the writers (the scan writer, the group commit), whichever
/// takes it first between two of its transactions.
#[derive(Debug, Default)]
pub struct Restart {
    asked: AtomicBool,
}

impl Restart {
    fn ask(&self) {
        self.asked.store(true, Ordering::Relaxed);
    }

    /// For the writer, between two transactions: when asked, copies the rest of the log back
    /// into the database, so that its next transaction starts the log again. A failure is only
    /// logged: the log then restarts at a later request.
    pub fn finish_if_asked(&self, conn: &mut DbConnection) {
        if !self.asked.swap(false, Ordering::Relaxed) {
            return;
        }
        if let DbConnection::Sqlite(c) = conn {
            match pass(c) {
                Ok(p) if p.log > p.copied => {
                    tracing::debug!(
                        log = p.log,
                        copied = p.copied,
                        "WAL not restarted: a reader holds older frames"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "WAL checkpoint by the writer"),
            }
        }
    }
}

/// The database file, held open to sync it and never closed: closing any descriptor of a file
/// drops every POSIX lock the process holds on it, SQLite's own included (SQLite's "How To
/// Corrupt", 2.2.1). It was opened and closed for each sync: another process's connection (a CLI
/// command beside the service, a script) then found no lock but its own, took itself for the
/// last one as it closed, checkpointed and deleted the live log, and the service's next reads
/// failed with "file is not a database". One descriptor per checkpointer for the process's life.
struct DbFile(std::mem::ManuallyDrop<std::fs::File>);

impl DbFile {
    fn open(path: &std::path::Path) -> std::io::Result<DbFile> {
        Ok(DbFile(std::mem::ManuallyDrop::new(std::fs::File::open(path)?)))
    }

    fn sync(&self) -> std::io::Result<()> {
        self.0.sync_data()
    }
}

/// One PASSIVE checkpoint's outcome: the log's frames, and how many of them are in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
struct Pass {
    #[diesel(sql_type = BigInt)]
    log: i64,
    #[diesel(sql_type = BigInt, column_name = checkpointed)]
    copied: i64,
}

/// PASSIVE: copies what it can without waiting for, or blocking, any reader or writer.
fn pass(c: &mut SqliteConnection) -> Result<Pass> {
    Ok(diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result(c)?)
}

/// What the checkpointer does after a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// The log is short: the next pass after the idle interval.
    Idle,
    /// The log is long but a pass copies nothing more (a reader still needs older frames): the
    /// next pass after the busy interval rather than at once, over and over.
    Busy,
    /// The log is long and more than a few batches are left: another pass at once.
    Again,
    /// Caught up: sync the database, then `Cycle::synced` tells whether the writer may finish.
    Sync,
}

/// The checkpointer's state from one pass to the next.
#[derive(Debug, Default)]
struct Cycle {
    /// Passes caught up in a row, each over what came during the previous one and its sync.
    rounds: u32,
    /// The previous pass's copied frames, to see whether a pass made progress.
    copied: i64,
}

impl Cycle {
    fn passed(&mut self, p: Pass) -> Next {
        let progressed = p.copied != self.copied;
        self.copied = p.copied;
        let next = if p.log < RESTART_AT {
            Next::Idle
        } else if p.log - p.copied <= CAUGHT_UP {
            Next::Sync
        } else if progressed {
            Next::Again
        } else {
            Next::Busy
        };
        // Only caught-up passes in a row count as rounds.
        if next != Next::Sync {
            self.rounds = 0;
        }
        next
    }

    /// After the sync that followed a caught-up pass, `took` for both: whether the writer is
    /// asked now (else another pass at once).
    fn synced(&mut self, took: Duration) -> bool {
        self.rounds += 1;
        if took <= SETTLED || self.rounds >= MAX_ROUNDS {
            self.rounds = 0;
            true
        } else {
            false
        }
    }
}

/// On SQLite, checkpoints the log on a thread of its own (PASSIVE: it never blocks a writer),
/// every `idle`, more often while the log is long, and asks `restart`'s writer to finish a long
/// one; until `owner` is dropped.
pub fn start_checkpointer<T: Send + Sync + 'static>(
    db: &Db,
    idle: Duration,
    owner: std::sync::Weak<T>,
    restart: std::sync::Arc<Restart>,
) -> Result<()> {
    if db.backend() != Backend::Sqlite {
        return Ok(());
    }
    let DbConnection::Sqlite(mut conn) = db.dedicated()? else {
        return Ok(());
    };
    let file = super::sqlite_file(&mut conn)?;
    let db_file = DbFile::open(&file).map_err(|e| Error::Internal(format!("opening {}: {e}", file.display())))?;
    std::thread::Builder::new()
        .name("wal-checkpoint".into())
        .spawn(move || {
            let mut cycle = Cycle::default();
            let mut wait = Some(idle);
            loop {
                if let Some(wait) = wait {
                    std::thread::sleep(wait);
                }
                if owner.strong_count() == 0 {
                    break;
                }
                let started = std::time::Instant::now();
                let pass = match pass(&mut conn) {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(error = %e, "WAL checkpoint");
                        wait = Some(idle);
                        continue;
                    }
                };
                wait = match cycle.passed(pass) {
                    Next::Idle => Some(idle),
                    Next::Busy => Some(BUSY),
                    Next::Again => None,
                    Next::Sync => {
                        // A pass that ends behind the log's end (the writer committed meanwhile)
                        // leaves the pages it copied unsynced; the writer's pass, which reaches
                        // the end, would then sync them all: 70 ms on its thread, measured. So
                        // they are synced here, and the passes repeat over the batches committed
                        // meanwhile until one and its sync are short, which leaves the writer
                        // only that much.
                        if let Err(e) = db_file.sync() {
                            tracing::warn!(error = %e, file = %file.display(), "syncing the database after a checkpoint");
                        }
                        if cycle.synced(started.elapsed()) {
                            restart.ask();
                            Some(BUSY)
                        } else {
                            None
                        }
                    }
                };
            }
        })
        .map_err(Error::internal)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;

    use super::*;

    fn at(log: i64, copied: i64) -> Pass {
        Pass { log, copied }
    }

    #[test]
    fn a_short_log_waits_and_a_long_one_is_copied_until_caught_up() {
        let mut c = Cycle::default();
        assert_eq!(c.passed(at(0, 0)), Next::Idle);
        assert_eq!(c.passed(at(RESTART_AT - 1, RESTART_AT - 1)), Next::Idle);
        let long = 10 * RESTART_AT;
        assert_eq!(c.passed(at(long, 0)), Next::Again);
        assert_eq!(c.passed(at(long, long - CAUGHT_UP - 1)), Next::Again);
        assert_eq!(c.passed(at(long, long - CAUGHT_UP)), Next::Sync);
        assert_eq!(c.passed(at(RESTART_AT, 0)), Next::Sync);
    }

    #[test]
    fn a_pass_that_copies_nothing_more_is_not_repeated_at_once() {
        // A reader holding an old snapshot stops every pass at the same frame.
        let mut c = Cycle::default();
        let long = 10 * RESTART_AT;
        assert_eq!(c.passed(at(long, 100)), Next::Again);
        assert_eq!(c.passed(at(long + 50, 100)), Next::Busy);
        assert_eq!(c.passed(at(long + 90, 100)), Next::Busy);
        assert_eq!(c.passed(at(long + 99, 2000)), Next::Again);
    }

    #[test]
    fn the_writer_is_asked_after_a_short_round_or_enough_of_them() {
        let mut c = Cycle::default();
        assert!(c.synced(SETTLED));
        let slow = SETTLED * 10;
        for _ in 1..MAX_ROUNDS {
            assert!(!c.synced(slow));
        }
        assert!(c.synced(slow));
        // A new cycle counts afresh.
        assert!(!c.synced(slow));
        // A long log between rounds starts the count again.
        let long = 10 * RESTART_AT;
        c.passed(at(long, 0));
        for _ in 1..MAX_ROUNDS {
            assert!(!c.synced(slow));
        }
    }

    /// Another process (a CLI command, a script) asking for the database to itself, as SQLite
    /// does when a connection closes to learn whether it was the last one (and may then
    /// checkpoint and delete the log). Run as a child process by
    /// `syncing_the_database_keeps_the_services_locks`: POSIX locks are the process's, so only
    /// another process sees whether the service still holds its own. Passes if refused.
    #[test]
    #[ignore = "run as a child process by another test"]
    fn another_process_is_refused_the_database_to_itself() {
        let Ok(path) = std::env::var("BORDERDESK_TEST_OTHER_PROCESS_DB") else {
            return;
        };
        let mut c = SqliteConnection::establish(&path).unwrap();
        let alone = c.batch_execute("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;");
        assert!(alone.is_err(), "another process had the database to itself");
    }

    #[test]
    fn syncing_the_database_keeps_the_services_locks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locks.db");
        let db = Db::connect(path.to_str().unwrap(), 1).unwrap();
        let mut service = db.dedicated().unwrap();
        service
            .batch_execute("CREATE TABLE t (x INTEGER NOT NULL); INSERT INTO t VALUES (1);")
            .unwrap();
        let other_process = || {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "db::wal::tests::another_process_is_refused_the_database_to_itself",
                    "--ignored",
                ])
                .env("BORDERDESK_TEST_OTHER_PROCESS_DB", &path)
                .output()
                .unwrap();
            let said = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(
                said.contains("1 passed") || said.contains("1 failed"),
                "the probe ran: {said}"
            );
            out.status.success()
        };
        assert!(other_process(), "refused while the service has the database open");

        // As the checkpointer does, which then ends with the scope.
        {
            let file = DbFile::open(&path).unwrap();
            file.sync().unwrap();
        }

        assert!(
            other_process(),
            "still refused after the checkpointer synced the database"
        );
    }

    /// The pattern of a busy writer, without threads: every background pass falls inside one
    /// of the writer's transactions, so no transaction ever begins with the log fully copied.
    /// Without the writer's share the log only grows; with it, it starts again.
    #[test]
    fn a_log_checkpointed_only_in_the_background_grows_and_the_writers_share_restarts_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.db");
        let db = Db::connect(path.to_str().unwrap(), 1).unwrap();
        let mut writer = db.dedicated().unwrap();
        Db::tune_for_writer(&mut writer).unwrap();
        writer
            .batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            .unwrap();
        let DbConnection::Sqlite(mut background) = db.dedicated().unwrap() else {
            panic!("SQLite")
        };
        let restart = Restart::default();
        let wal = |p: &std::path::Path| std::fs::metadata(format!("{}-wal", p.display())).unwrap().len();

        let run = |writer: &mut DbConnection, background: &mut SqliteConnection, finish: bool| {
            let mut longest = 0;
            for round in 0..60 {
                writer.batch_execute("BEGIN IMMEDIATE").unwrap();
                writer
                    .batch_execute(&format!(
                        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 200) \
                         INSERT INTO t (body) SELECT printf('%0500d', i) FROM s; \
                         DELETE FROM t WHERE id <= {}",
                        round * 100
                    ))
                    .unwrap();
                let p = pass(background).unwrap();
                // The first round still sees the log the previous run left.
                if round > 0 {
                    longest = longest.max(p.log);
                }
                // This log is shorter than `RESTART_AT`: the writer is asked as the checkpointer
                // would ask it once the log is long and the pass has caught up.
                if p.log >= 64 && p.log - p.copied <= CAUGHT_UP {
                    restart.ask();
                }
                writer.batch_execute("COMMIT").unwrap();
                if finish {
                    restart.finish_if_asked(writer);
                }
            }
            longest
        };
        let grown = run(&mut writer, &mut background, false);
        let size_grown = wal(&path);
        // Copied back entirely once the writer stops: the next transaction restarts the log.
        pass(&mut background).unwrap();
        let bounded = run(&mut writer, &mut background, true);
        assert!(
            grown > 2_000,
            "without the writer's share the log grew to {grown} frames"
        );
        assert!(
            bounded < grown / 10,
            "with it the log reached {bounded} frames (without: {grown})"
        );
        // The file was reused from its start rather than extended.
        assert_eq!(wal(&path), size_grown);
    }
}
