//! Answers committed scan batches once their records are on disk. The scan writer commits
//! without waiting for the disk (SQLite `synchronous = NORMAL`, PostgreSQL `synchronous_commit =
//! off` on its connection only) and hands the batch's answers here; this thread makes the log
//! durable and only then answers. The disk's wait thus overlaps the next batch's work instead of
//! stalling the writer, and one flush covers every batch committed before it.
//!
//! Why it is safe: both logs are sequential. A flush that starts after a batch's commit returned
//! covers that batch and everything committed before it, so an answer never precedes its record's
//! durability, and a batch that decided on another's effects (a second scan of one permit) is never
//! durable without it. Until the flush, a committed batch is visible to readers but could be lost
//! with the machine's power; nobody has been answered for it yet.
//!
//! Written here rather than taken from a crate: it is the second half of the scan writer's group
//! commit and speaks to each store's log directly.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::scan_writer::Answer;
use crate::db::{Db, DbConnection};
use crate::error::{Error, Result};

/// A scan's reply channel and the answer it gets once durable.
pub(crate) type Reply = (tokio::sync::oneshot::Sender<Answer>, Answer);

/// What makes the committed batches durable.
enum Log {
    /// The SQLite file's write-ahead log: an `fdatasync` of it.
    SqliteWal(PathBuf),
    /// PostgreSQL: a transaction that writes one WAL record and commits synchronously, which
    /// flushes the WAL up to it. PostgreSQL has no statement that only waits for the flush; a
    /// transactional logical message is the smallest such record (no table, no row lock, nothing
    /// to vacuum, allowed to any role). It follows the deployment's own `synchronous_commit`, so
    /// a synchronous standby covers the scans as it covers everything else.
    Postgres { db: Db, conn: Option<DbConnection> },
    #[cfg(test)]
    Scripted(std::collections::VecDeque<Result<()>>),
}

impl Log {
    fn flush(&mut self) -> Result<()> {
        match self {
            // Opened for each flush: the file SQLite writes now, whatever happened to an earlier
            // one. Linux flushes a file's data through any descriptor of it.
            Log::SqliteWal(path) => std::fs::File::open(&*path)
                .and_then(|f| f.sync_data())
                .map_err(|e| Error::Internal(format!("syncing {}: {e}", path.display()))),
            Log::Postgres { db, conn } => {
                let c = match conn {
                    Some(c) => c,
                    None => conn.insert(db.dedicated()?),
                };
                let out = c.batch_execute("SELECT pg_logical_emit_message(true, 'borderdesk', 'scans durable')");
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

/// The flusher's side of the writer: batches of replies waiting for the disk.
pub(crate) struct Durable {
    tx: Sender<Vec<Reply>>,
}

impl Durable {
    /// Starts the flusher thread for `db`'s log. On SQLite the log's path comes from the file
    /// SQLite opened (a relative path or a URI included).
    pub fn start(db: &Db) -> Result<Durable> {
        let log = match db.dedicated()? {
            DbConnection::Sqlite(mut c) => {
                let file: String = diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
                    "(SELECT file FROM pragma_database_list WHERE name = 'main')",
                ))
                .get_result(&mut c)?;
                Log::SqliteWal(PathBuf::from(format!("{file}-wal")))
            }
            pg @ DbConnection::Postgresql(_) => Log::Postgres {
                db: db.clone(),
                conn: Some(pg),
            },
        };
        Durable::spawn(log)
    }

    fn spawn(mut log: Log) -> Result<Durable> {
        // Not bounded: the writer goes on committing while a flush runs, and the next flush
        // takes every batch committed meanwhile (their scans are bounded by the writer's queue).
        // Holding the writer until the flusher is free measured about 8 % faster with this machine's
        // 0.1 ms fsync but a quarter slower with a 2 ms one, where scans then wait a flush more.
        let (tx, rx) = channel::<Vec<Reply>>();
        std::thread::Builder::new()
            .name("scan-durable".into())
            .spawn(move || run(&mut log, &rx))
            .map_err(Error::internal)?;
        Ok(Durable { tx })
    }

    /// Hands over a committed batch's answers, to be sent once the batch is durable.
    pub fn answer(&self, replies: Vec<Reply>) {
        if let Err(std::sync::mpsc::SendError(replies)) = self.tx.send(replies) {
            for (reply, _) in replies {
                let _ = reply.send(Err(Error::Internal(
                    "scan recorded, but nothing confirms it is on disk".into(),
                )));
            }
        }
    }
}

fn run(log: &mut Log, rx: &Receiver<Vec<Reply>>) {
    while let Ok(mut waiting) = rx.recv() {
        // Every batch committed by now is covered by this one flush.
        while let Ok(more) = rx.try_recv() {
            waiting.extend(more);
        }
        let flushed = log.flush();
        if let Err(e) = &flushed {
            tracing::error!(error = %e, scans = waiting.len(), "committed scans could not be made durable; they are answered with an error");
        }
        for (reply, answer) in waiting {
            let answer = match &flushed {
                Ok(()) => answer,
                Err(e) => Err(Error::Internal(format!(
                    "scan recorded, but not confirmed on disk ({e}): check the permit's crossings before scanning again"
                ))),
            };
            let _ = reply.send(answer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> (Reply, tokio::sync::oneshot::Receiver<Answer>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        ((tx, Ok(None)), rx)
    }

    #[test]
    fn answers_wait_for_the_flush_and_carry_its_failure() {
        let failure = Err(Error::Internal("disk gone".into()));
        let durable = Durable::spawn(Log::Scripted([Ok(()), failure].into())).expect("thread");
        let (first, first_rx) = pending();
        durable.answer(vec![first]);
        assert!(matches!(first_rx.blocking_recv(), Ok(Ok(None))));
        let (second, second_rx) = pending();
        durable.answer(vec![second]);
        match second_rx.blocking_recv() {
            Ok(Err(Error::Internal(msg))) => assert!(msg.contains("not confirmed on disk"), "{msg}"),
            other => panic!("expected an error, got {other:?}"),
        }
    }
}
