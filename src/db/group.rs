//! Group commit for SQLite writes: one thread, on a connection of its own, runs the write use
//! cases waiting at that moment inside one transaction, each under a savepoint, and commits once
//! for all of them (one turn of the file's single write lock). A use case's own `write_tx`
//! becomes a savepoint inside the group's transaction, so it behaves as it does alone: what it
//! rolls back is rolled back, what it commits is kept. Each is answered only once the group's
//! commit is on disk (`durable`, which lets the next group run meanwhile); a failed commit fails
//! every use case of the group (none of them is stored).
//!
//! Written here rather than taken from a crate: the grouping has to wrap diesel's transaction
//! manager on our connection, which no general-purpose batching crate knows about.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use diesel::connection::{Connection, TransactionManager};

use super::durable::{Deliver, Durable};
use super::wal::Restart;
use super::{Db, DbConnection, write_tx};
use crate::error::{Error, Result};

/// Use cases per transaction at most.
const MAX_GROUP: usize = 128;
/// Use cases queued at most; beyond it callers get "busy".
const QUEUE: usize = 2048;

/// Runs once the group's fate is known: sends the use case's answer, or why it failed.
struct Answer(Box<dyn FnOnce(Option<Error>) + Send>);
type Job = Box<dyn FnOnce(&mut DbConnection) -> Answer + Send>;

impl Deliver for Answer {
    fn deliver(self, failed: Option<Error>) {
        (self.0)(failed)
    }
}

#[derive(Clone)]
pub struct GroupCommit {
    tx: SyncSender<Job>,
}

impl GroupCommit {
    /// `restart`: the checkpointer's requests, which the group takes between two transactions
    /// as the scan writer does (a booking storm with no scans must restart the log too).
    pub fn start(db: Db, restart: Arc<Restart>) -> Result<GroupCommit> {
        let (tx, rx) = sync_channel::<Job>(QUEUE);
        let durable = Durable::start(&db, "group-durable")?;
        std::thread::Builder::new()
            .name("group-commit".into())
            .spawn(move || run(&db, &rx, &durable, &restart))
            .map_err(Error::internal)?;
        Ok(GroupCommit { tx })
    }

    /// Runs `f` in the next group's transaction and answers once that has committed.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConnection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel::<Result<T>>();
        let job: Job = Box::new(move |c| {
            let out = f(c);
            Answer(Box::new(move |failed: Option<Error>| {
                let _ = reply.send(match failed {
                    None => out,
                    Some(e) => Err(e),
                });
            }))
        });
        match self.tx.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(Error::Busy("every write slot is in use")),
            Err(TrySendError::Disconnected(_)) => return Err(Error::Internal("group commit stopped".into())),
        }
        answer
            .await
            .map_err(|_| Error::Internal("a write was not stored (its use case panicked, or no connection)".into()))?
    }
}

fn run(db: &Db, rx: &Receiver<Job>, durable: &Durable<Answer>, restart: &Restart) {
    let mut conn: Option<DbConnection> = None;
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let opened = conn.take().map(Ok).unwrap_or_else(|| {
            let mut c = db.dedicated()?;
            Db::tune_for_writer(&mut c)?;
            Db::commit_without_waiting(&mut c)?;
            Ok::<_, Error>(c)
        });
        let mut c = match opened {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "group commit: no connection");
                // The jobs are dropped unrun: their callers are told so.
                continue;
            }
        };
        let mut delivers: Vec<Answer> = Vec::with_capacity(group.len());
        let mut broken = false;
        let outcome = write_tx(&mut c, |c| {
            for job in group {
                // The job's own savepoint, so a panic in it is undone alone.
                <DbConnection as Connection>::TransactionManager::begin_transaction(c)?;
                match catch_unwind(AssertUnwindSafe(|| job(c))) {
                    Ok(deliver) => {
                        // Whatever the job kept (its own transactions committed) stays.
                        <DbConnection as Connection>::TransactionManager::commit_transaction(c)?;
                        delivers.push(deliver);
                    }
                    Err(_) => {
                        tracing::error!("a grouped write panicked; its changes are rolled back");
                        // Back to the group's own level: the job may have left savepoints open.
                        while depth(c) > 1 {
                            if <DbConnection as Connection>::TransactionManager::rollback_transaction(c).is_err() {
                                broken = true;
                                return Err(Error::Internal("a grouped write panicked mid-transaction".into()));
                            }
                        }
                    }
                }
            }
            Ok(())
        });
        match &outcome {
            Ok(()) => durable.answer(delivers),
            Err(e) => {
                tracing::error!(error = %e, "group commit failed; none of its writes is stored");
                for d in delivers {
                    d.deliver(Some(Error::Internal(format!(
                        "not stored: the group's commit failed: {e}"
                    ))));
                }
            }
        }
        if !broken && !<DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(&mut c) {
            restart.finish_if_asked(&mut c);
            conn = Some(c);
        }
    }
}

fn depth(c: &mut DbConnection) -> u32 {
    <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(c)
        .transaction_depth()
        .ok()
        .flatten()
        .map_or(0, std::num::NonZeroU32::get)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use diesel::RunQueryDsl;
    use diesel::connection::SimpleConnection;

    use super::*;

    fn insert(c: &mut DbConnection, x: i32) -> Result<()> {
        diesel::sql_query(format!("INSERT INTO t (x) VALUES ({x})")).execute(c)?;
        Ok(())
    }

    /// Each use case of a group keeps exactly what it would alone: a panic undoes only its own
    /// changes, a use case whose own transaction fails keeps nothing of it, and the rest commit.
    #[test]
    fn a_group_keeps_each_use_case_apart() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite:{}", dir.path().join("g.db").display()), 2).unwrap();
        db.run_blocking(|c| Ok(c.batch_execute("CREATE TABLE t (x INTEGER NOT NULL)")?))
            .unwrap();
        let group = GroupCommit::start(db.clone(), Arc::default()).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (a, b, c, d) = rt.block_on(async {
            futures::join!(
                group.run(|c| write_tx(c, |c| insert(c, 1))),
                group.run(|c| -> Result<()> {
                    write_tx(c, |c| insert(c, 2))?;
                    panic!("a bug in a use case")
                }),
                group.run(|c| {
                    write_tx(c, |c| {
                        insert(c, 3)?;
                        Err::<(), _>(Error::Internal("refused".into()))
                    })
                }),
                group.run(|c| write_tx(c, |c| insert(c, 4))),
            )
        });
        assert!(a.is_ok() && d.is_ok());
        assert!(b.is_err(), "the panicking use case is told it failed");
        assert!(c.is_err());
        #[derive(diesel::QueryableByName)]
        struct X {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            x: i32,
        }
        let xs: Vec<i32> = db
            .run_blocking(|c| Ok(diesel::sql_query("SELECT x FROM t ORDER BY x").load::<X>(c)?))
            .unwrap()
            .into_iter()
            .map(|r| r.x)
            .collect();
        assert_eq!(xs, vec![1, 4]);
        // And the group goes on serving.
        rt.block_on(group.run(|c| write_tx(c, |c| insert(c, 5)))).unwrap();
    }
}
