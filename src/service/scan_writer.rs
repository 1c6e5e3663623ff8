//! Group commit for checkpoint scans: one writer thread takes the scans waiting at that moment
//! and records them in a single transaction (one fsync for the lot), each under its own
//! savepoint so one failure loses only itself. A scan is answered only after its transaction
//! commits, so no acknowledged crossing can be lost.
//!
//! Written here rather than taken from a crate: the batching has to wrap our own transaction and
//! savepoint handling, which no general-purpose batching crate knows about.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use chrono::{DateTime, Utc};
use diesel::Connection;

use super::checkpoint::{ReadCode, ScanInput, ScanOut, record};
use crate::db::{Db, write_tx};
use crate::domain::auth::Actor;
use crate::error::{Error, Result};
use crate::keys::KeyRing;

/// Scans per transaction at most: enough to amortise the commit, small enough to keep the
/// first scan of a batch waiting only a few milliseconds.
const MAX_BATCH: usize = 64;
/// Scans queued at most; beyond it callers get "busy" rather than unbounded latency.
const QUEUE: usize = 4096;

struct Job {
    now: DateTime<Utc>,
    actor: Actor,
    input: ScanInput,
    code: ReadCode,
    reply: tokio::sync::oneshot::Sender<Result<ScanOut>>,
}

#[derive(Clone)]
pub struct ScanWriter {
    tx: SyncSender<Job>,
}

impl ScanWriter {
    pub fn start(
        db: Db,
        keys: std::sync::Arc<KeyRing>,
        policy: std::sync::Arc<crate::domain::policy::Policy>,
    ) -> Result<ScanWriter> {
        let (tx, rx) = sync_channel::<Job>(QUEUE);
        std::thread::Builder::new()
            .name("scan-writer".into())
            .spawn(move || run(db, &keys, &policy.freight, rx))
            .map_err(Error::internal)?;
        Ok(ScanWriter { tx })
    }

    /// Records a scan (already authorised and read) and returns its verdict once durable.
    pub async fn submit(&self, now: DateTime<Utc>, actor: Actor, input: ScanInput, code: ReadCode) -> Result<ScanOut> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        match self.tx.try_send(Job {
            now,
            actor,
            input,
            code,
            reply,
        }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(Error::Busy("every scan slot is in use")),
            Err(TrySendError::Disconnected(_)) => return Err(Error::Internal("scan writer stopped".into())),
        }
        answer
            .await
            .map_err(|_| Error::Internal("scan writer dropped a scan".into()))?
    }
}

fn run(db: Db, keys: &KeyRing, freight: &crate::domain::freight::FreightPolicy, rx: Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let outcome = db.run_blocking(|conn| {
            write_tx(conn, |c| {
                // One trust version for the batch, taken outside the savepoints: a rolled-back
                // savepoint must not give back a version that other scans of the batch stamp.
                let version = super::trust::next_version(c)?;
                let mut results = Vec::with_capacity(batch.len());
                for job in &batch {
                    // A nested transaction is a savepoint: a failed scan rolls back alone.
                    results.push(c.transaction(|c| {
                        record(
                            c,
                            job.now,
                            &job.actor,
                            super::checkpoint::Rules { keys, freight },
                            &job.input,
                            &job.code,
                            version,
                        )
                    }));
                }
                Ok(results)
            })
        });
        match outcome {
            Ok(results) => {
                for (job, result) in batch.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, scans = batch.len(), "scan batch failed; none recorded");
                for job in batch {
                    let _ = job.reply.send(Err(Error::Internal(format!("scan not recorded: {e}"))));
                }
            }
        }
    }
}
