//! Answers committed transactions once their records are on disk: the second half of the group
//! commits (the scan writer, and `group` for SQLite's other writes). Their connections commit
//! without waiting for the disk (SQLite `synchronous = NORMAL`, PostgreSQL `synchronous_commit =
//! off`, see `Db::commit_without_waiting`) and hand their answers here; this thread makes the log
//! durable and only then delivers them. The disk's wait thus overlaps the next transaction's work
//! instead of stalling the writer, and one flush covers every transaction committed before it.
//!
//! Why it is safe: both logs are sequential. A flush that starts after a commit returned covers
//! that commit and everything committed before it, so an answer never precedes its record's
//! durability, and a transaction that built on another's effects (a second scan of one permit) is
//! never durable without it. Until the flush a committed write is visible to readers but could be
//! lost with the machine's power; nobody has been answered for it yet.
//!
//! Written here rather than taken from a crate: it speaks to each store's log directly.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};

use diesel::connection::SimpleConnection;

use super::{Db, DbConnection};
use crate::error::{Error, Result};

/// An answer waiting for the disk: delivered with None once durable, or with the reason it
/// cannot be confirmed.
pub(crate) trait Deliver: Send + 'static {
    fn deliver(self, failed: Option<Error>);
}

/// What makes the committed transactions durable.
enum Log {
    /// The SQLite file's write-ahead log: an `fdatasync` of it.
    SqliteWal(PathBuf),
    /// PostgreSQL: a transaction that writes one WAL record and commits synchronously, which
    /// flushes the WAL up to it. PostgreSQL has no statement that only waits for the flush; a
    /// transactional logical message is the smallest such record (no table, no row lock, nothing
    /// to vacuum, allowed to any role). It follows the deployment's own `synchronous_commit`, so
    /// a synchronous standby covers these writes as it covers everything else.
    Postgres { db: Db, conn: Option<DbConnection> },
    #[cfg(test)]
    Scripted(std::collections::VecDeque<Result<()>>),
}

impl Log {
    fn flush(&mut self) -> Result<()> {
        match self {
            // Opened for each flush: the file SQLite writes now, whatever happened to an earlier
            // one. Linux flushes a file's data through any descriptor of it. Closing it is safe
            // because SQLite locks the database file and the `-shm` index, never the log (closing
            // a descriptor of a locked file would drop the process's locks: see `wal::DbFile`).
            Log::SqliteWal(path) => std::fs::File::open(&*path)
                .and_then(|f| f.sync_data())
                .map_err(|e| Error::Internal(format!("syncing {}: {e}", path.display()))),
            Log::Postgres { db, conn } => {
                let c = match conn {
                    Some(c) => c,
                    None => conn.insert(db.dedicated()?),
                };
                let out = c.batch_execute("SELECT pg_logical_emit_message(true, 'borderdesk', 'durable')");
                if out.is_err() {
                    // A new connection next time: this one may be gone with its server.
                    *conn = None;
                }
                Ok(out?)
            }
            #[cfg(test)]
            Log::Scripted(results) => results.pop_front().unwrap_or(Ok(())),
        }
    }
}

/// The flusher, as its writer holds it: answers waiting for the disk.
pub(crate) struct Durable<D> {
    tx: Sender<Vec<D>>,
}

impl<D: Deliver> Durable<D> {
    /// Starts a flusher thread (`name`) for `db`'s log. On SQLite the log's path comes from the
    /// file SQLite opened (a relative path or a URI included).
    pub fn start(db: &Db, name: &str) -> Result<Durable<D>> {
        let log = match db.dedicated()? {
            DbConnection::Sqlite(mut c) => {
                let file = super::sqlite_file(&mut c)?;
                Log::SqliteWal(PathBuf::from(format!("{}-wal", file.display())))
            }
            pg @ DbConnection::Postgresql(_) => Log::Postgres {
                db: db.clone(),
                conn: Some(pg),
            },
        };
        Durable::spawn(log, name)
    }

    fn spawn(mut log: Log, name: &str) -> Result<Durable<D>> {
        // Not bounded: the writer goes on committing while a flush runs, and the next flush
        // takes every transaction committed meanwhile (their number is bounded by the writer's
        // own queue). Holding the scan writer until the flusher was free measured about 8 %
        // faster with this machine's 0.1 ms fsync, but a quarter slower with a 2 ms one, where
        // scans then waited one flush more.
        let (tx, rx) = channel::<Vec<D>>();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || run(&mut log, &rx))
            .map_err(Error::internal)?;
        Ok(Durable { tx })
    }

    /// Hands over a committed transaction's answers, delivered once it is durable.
    pub fn answer(&self, answers: Vec<D>) {
        if let Err(std::sync::mpsc::SendError(answers)) = self.tx.send(answers) {
            for a in answers {
                a.deliver(Some(unconfirmed(&"the flusher stopped")));
            }
        }
    }
}

fn unconfirmed(why: &dyn std::fmt::Display) -> Error {
    Error::Internal(format!(
        "stored, but not confirmed on disk ({why}): check before doing it again"
    ))
}

fn run<D: Deliver>(log: &mut Log, rx: &Receiver<Vec<D>>) {
    while let Ok(mut waiting) = rx.recv() {
        // Every transaction committed by now is covered by this one flush.
        while let Ok(more) = rx.try_recv() {
            waiting.extend(more);
        }
        let flushed = log.flush();
        if let Err(e) = &flushed {
            tracing::error!(error = %e, answers = waiting.len(), "committed writes could not be made durable; they are answered with an error");
        }
        for answer in waiting {
            answer.deliver(flushed.as_ref().err().map(|e| unconfirmed(e)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Probe(tokio::sync::oneshot::Sender<Option<Error>>);

    impl Deliver for Probe {
        fn deliver(self, failed: Option<Error>) {
            let _ = self.0.send(failed);
        }
    }

    #[test]
    fn answers_wait_for_the_flush_and_carry_its_failure() {
        let failure = Err(Error::Internal("disk gone".into()));
        let durable = Durable::spawn(Log::Scripted([Ok(()), failure].into()), "test-durable").expect("thread");
        let (tx, first) = tokio::sync::oneshot::channel();
        durable.answer(vec![Probe(tx)]);
        assert!(matches!(first.blocking_recv(), Ok(None)));
        let (tx, second) = tokio::sync::oneshot::channel();
        durable.answer(vec![Probe(tx)]);
        match second.blocking_recv() {
            Ok(Some(Error::Internal(msg))) => {
                assert!(
                    msg.contains("not confirmed on disk") && msg.contains("disk gone"),
                    "{msg}"
                )
            }
            other => panic!("expected the flush's failure, got {other:?}"),
        }
    }
}
