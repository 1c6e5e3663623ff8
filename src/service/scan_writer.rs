//! Group commit for checkpoint scans: one writer thread, on a connection of its own, takes the
//! scans waiting at that moment, decides them from the scan index (`scan_index`) and records
//! them in a single transaction with one multi-row insert per table. The commit does not wait
//! for the disk: `db::durable` answers the batch once its records are durable, while the writer
//! goes on with the next batch, so no acknowledged crossing is lost.
//!
//! A batch that fails as a whole (an error, or a panic, in any of its scans) is rolled back and
//! its scans are recorded again one transaction each, so one bad scan costs only itself; after a
//! panic the connection is replaced. The writer itself never stops while the service runs.
//!
//! Written here rather than taken from a crate: the batching has to wrap our own transactions,
//! the index's journal and the credentials' check, which no general-purpose batching crate knows.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::auth_cache::AuthCache;
use super::checkpoint::{Pending, ReadCode, Rules, ScanInput, ScanOut, record};
use super::scan_index::{self, Loaded, ScanIndex};
use crate::db::durable::{Deliver, Durable};
use crate::db::models::OfficerRow;
use crate::db::schema::{api_tokens, officers};
use crate::db::wal::{self, Restart};
use crate::db::{Db, DbConnection, write_tx};
use crate::domain::auth::{Action, Actor, authorize};
use crate::error::{Error, Result};
use crate::keys::Keys;

/// Scans per transaction at most: enough to amortise the commit, small enough to keep the
/// first scan of a batch waiting only a few milliseconds.
const MAX_BATCH: usize = 256;
/// Scans queued at most; beyond it callers get "busy" rather than unbounded latency.
const QUEUE: usize = 4096;

/// A scan's answer: None when the token it came with no longer names an active account.
pub type Answer = Result<Option<ScanOut>>;

struct Job {
    now: DateTime<Utc>,
    actor: Actor,
    /// The API token's hash when the actor came from the auth cache: checked again in the
    /// batch's transaction, so a revoked token or a disabled officer is refused at once, on
    /// every instance, without a query per request.
    token: Option<String>,
    input: ScanInput,
    code: ReadCode,
    reply: tokio::sync::oneshot::Sender<Answer>,
}

/// A scan's answer, sent once its batch is durable.
struct Reply(tokio::sync::oneshot::Sender<Answer>, Answer);

impl Deliver for Reply {
    fn deliver(self, failed: Option<Error>) {
        let _ = self.0.send(match failed {
            None => self.1,
            Some(e) => Err(e),
        });
    }
}

// Nearly every message is a scan: boxing it would add an allocation per scan to save queue
// memory on the rare page of permits.
#[allow(clippy::large_enum_variant)]
enum Msg {
    Scan(Job),
    /// A page of permits loaded in the background.
    Loaded(Vec<Loaded>),
}

/// What the writer reports about itself (`/metrics`).
#[derive(Default)]
pub struct WriterStats {
    /// Scans submitted and not yet answered.
    pub queued: AtomicI64,
    /// Permits the scan index holds.
    pub indexed: AtomicI64,
    /// Batches that failed as a whole and were recorded one scan at a time.
    pub fallbacks: AtomicU64,
}

#[derive(Clone)]
pub struct ScanWriter {
    tx: SyncSender<Msg>,
    pub stats: Arc<WriterStats>,
    /// The checkpointer's requests to the writer (SQLite).
    restart: Arc<Restart>,
}

impl ScanWriter {
    pub fn start(
        db: Db,
        keys: Arc<Keys>,
        policy: Arc<crate::domain::policy::Policy>,
        tokens: Arc<AuthCache>,
    ) -> Result<ScanWriter> {
        let (tx, rx) = sync_channel::<Msg>(QUEUE);
        let stats = Arc::new(WriterStats::default());
        let restart = Arc::new(Restart::default());
        let writer = Writer {
            restart: restart.clone(),
            durable: Durable::start(&db, "scan-durable")?,
            db,
            conn: None,
            keys,
            policy,
            index: ScanIndex::default(),
            stats: stats.clone(),
            tokens,
        };
        std::thread::Builder::new()
            .name("scan-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(Error::internal)?;
        Ok(ScanWriter { tx, stats, restart })
    }

    /// The checkpointer's requests, for the instance's other writer (`db::group`) to take too.
    pub fn restart(&self) -> Arc<Restart> {
        self.restart.clone()
    }

    /// What only a serving instance needs (not a CLI command): the scan index loaded in the
    /// background, and on SQLite the checkpointer the writer leaves its WAL to.
    pub fn start_background(&self, db: Db) -> Result<()> {
        wal::start_checkpointer(
            &db,
            std::time::Duration::from_millis(500),
            Arc::downgrade(&self.stats),
            self.restart.clone(),
        )?;
        let loader = self.tx.clone();
        std::thread::Builder::new()
            .name("scan-index".into())
            .spawn(move || preload(&db, &loader))
            .map_err(Error::internal)?;
        Ok(())
    }

    /// Records a scan (already authorised and read) and returns its verdict once durable.
    pub async fn submit(
        &self,
        now: DateTime<Utc>,
        actor: Actor,
        token: Option<String>,
        input: ScanInput,
        code: ReadCode,
    ) -> Answer {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Job {
            now,
            actor,
            token,
            input,
            code,
            reply,
        };
        match self.tx.try_send(Msg::Scan(job)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(Error::Busy("every scan slot is in use")),
            Err(TrySendError::Disconnected(_)) => return Err(Error::Internal("scan writer stopped".into())),
        }
        self.stats.queued.fetch_add(1, Ordering::Relaxed);
        let out = answer
            .await
            .map_err(|_| Error::Internal("scan writer dropped a scan".into()));
        self.stats.queued.fetch_sub(1, Ordering::Relaxed);
        out?
    }
}

/// Loads every permit's facts into the index in pages, each page in one read transaction (a
/// snapshot, so a permit and its outstanding items agree). Scans do not wait for it: a permit
/// not yet loaded is read by its scan.
fn preload(db: &Db, writer: &SyncSender<Msg>) {
    let started = std::time::Instant::now();
    let mut conn = match db.dedicated() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "scan index: no connection to load permits; scans read them one by one");
            return;
        }
    };
    let mut after = String::new();
    let mut total = 0usize;
    loop {
        let page = read_tx(&mut conn, |c| scan_index::load_page(c, &after));
        match page {
            Ok(page) if page.is_empty() => break,
            Ok(page) => {
                total += page.len();
                after = page.last().map(|l| l.number.clone()).unwrap_or_default();
                let last_page = page.len() < scan_index::PAGE as usize;
                if writer.send(Msg::Loaded(page)).is_err() {
                    return;
                }
                if last_page {
                    break;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, after = %after, "scan index: a page of permits did not load; its scans will read them one by one");
                match scan_index::page_end(&mut conn, &after) {
                    Ok(Some(end)) => after = end,
                    _ => break,
                }
            }
        }
    }
    tracing::info!(
        permits = total,
        ms = started.elapsed().as_millis() as u64,
        "scan index loaded"
    );
}

/// A read-only transaction: on PostgreSQL repeatable read, so all its statements see one
/// snapshot (SQLite's read transaction always does).
fn read_tx<T>(conn: &mut DbConnection, f: impl FnOnce(&mut DbConnection) -> Result<T>) -> Result<T> {
    use diesel::connection::SimpleConnection;
    let begin = match conn {
        DbConnection::Postgresql(_) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        DbConnection::Sqlite(_) => "BEGIN",
    };
    conn.batch_execute(begin)?;
    let out = f(conn);
    conn.batch_execute(if out.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
    out
}

struct Writer {
    db: Db,
    /// Answers each committed batch once it is on disk.
    durable: Durable<Reply>,
    /// Asked by the checkpointer to copy the log's last frames back, between two batches.
    restart: Arc<Restart>,
    conn: Option<DbConnection>,
    keys: Arc<Keys>,
    policy: Arc<crate::domain::policy::Policy>,
    index: ScanIndex,
    stats: Arc<WriterStats>,
    /// The instance's auth cache: a scan's token is first looked up there (a guess, whatever
    /// the epoch), and its batch checks it again.
    tokens: Arc<AuthCache>,
}

impl Writer {
    fn run(mut self, rx: Receiver<Msg>) {
        while let Ok(first) = rx.recv() {
            let mut batch = Vec::new();
            let mut next = Some(first);
            while let Some(msg) = next.take() {
                match msg {
                    Msg::Scan(job) => batch.push(job),
                    Msg::Loaded(page) => self.index.offer(page),
                }
                if batch.len() < MAX_BATCH {
                    next = rx.try_recv().ok();
                }
            }
            self.stats.indexed.store(self.index.len() as i64, Ordering::Relaxed);
            if batch.is_empty() {
                continue;
            }
            let answers = match self.attempt(&batch, true) {
                Ok(answers) => answers,
                Err(e) => {
                    self.stats.fallbacks.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(error = %e, scans = batch.len(), "scan batch failed as a whole; recording its scans one by one");
                    batch
                        .iter()
                        .map(|job| {
                            self.attempt(std::slice::from_ref(job), false)
                                .and_then(|mut a| a.pop().unwrap_or_else(|| Err(Error::Internal("no answer".into()))))
                        })
                        .collect()
                }
            };
            self.durable.answer(
                batch
                    .into_iter()
                    .zip(answers)
                    .map(|(job, a)| Reply(job.reply, a))
                    .collect(),
            );
            if let Some(conn) = self.conn.as_mut() {
                self.restart.finish_if_asked(conn);
            }
        }
    }

    /// One transaction for `jobs`: every answer, or the error that rolled it all back (a panic
    /// included, after which the connection is replaced).
    fn attempt(&mut self, jobs: &[Job], grouped: bool) -> Result<Vec<Answer>> {
        let mark = self.index.mark();
        let outcome = catch_unwind(AssertUnwindSafe(|| self.transaction(jobs, grouped)));
        match outcome {
            Ok(Ok((version, answers))) => {
                self.index.committed(version);
                Ok(answers)
            }
            Ok(Err(e)) => {
                self.index.roll_back_to(mark);
                Err(e)
            }
            Err(panic) => {
                self.index.roll_back_to(mark);
                // Whatever the connection was doing is abandoned with it (closing rolls back).
                self.conn = None;
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(panic = %what, scans = jobs.len(), "a scan batch panicked");
                Err(Error::Internal(format!("scan not recorded: {what}")))
            }
        }
    }

    fn transaction(&mut self, jobs: &[Job], grouped: bool) -> Result<(i64, Vec<Answer>)> {
        let mut conn = match self.conn.take() {
            Some(c) => c,
            None => {
                let mut c = self.db.dedicated()?;
                Db::tune_for_writer(&mut c)?;
                Db::commit_without_waiting(&mut c)?;
                c
            }
        };
        let out = self.decide(&mut conn, jobs, grouped);
        self.conn = Some(conn);
        out
    }

    fn decide(&mut self, conn: &mut DbConnection, jobs: &[Job], grouped: bool) -> Result<(i64, Vec<Answer>)> {
        let Writer {
            keys,
            policy,
            index,
            tokens,
            ..
        } = self;
        write_tx(conn, |c| {
            // One trust version for the batch: it also tells the index what changed since. And
            // the ring as of this batch, in the same statement: a key removed or made on another
            // instance counts.
            let (version, ring_version) = super::trust::next_version_and_ring(c)?;
            let ring = keys.ring_at(c, ring_version)?;
            let rules = Rules {
                keys: &ring,
                freight: &policy.freight,
            };
            index.catch_up(c, version)?;
            let fresh = token_actors(c, jobs)?;
            let mut pending = Pending::new(grouped, version);
            let mut answers = Vec::with_capacity(jobs.len());
            for job in jobs {
                let actor = match &job.token {
                    None => &job.actor,
                    Some(hash) => match fresh.get(hash) {
                        Some(actor) => actor,
                        None => {
                            tokens.forget::<Actor>(hash);
                            answers.push(Ok(None));
                            continue;
                        }
                    },
                };
                if let Err(e) = authorize(actor, Action::Scan) {
                    answers.push(Err(e.into()));
                    continue;
                }
                let out = record(c, job.now, actor, rules, &job.input, &job.code, index, &mut pending)?;
                answers.push(Ok(Some(out)));
            }
            pending.flush(c)?;
            Ok((version, answers))
        })
    }
}

/// The accounts behind the batch's tokens as they stand in this transaction: one query for the
/// batch, so a revocation or a disabled account takes effect for every scan after its commit.
fn token_actors(c: &mut DbConnection, jobs: &[Job]) -> Result<HashMap<String, Actor>> {
    let mut hashes: Vec<&str> = jobs.iter().filter_map(|j| j.token.as_deref()).collect();
    hashes.sort_unstable();
    hashes.dedup();
    if hashes.is_empty() {
        return Ok(HashMap::new());
    }
    let live = || {
        api_tokens::table
            .inner_join(officers::table)
            .filter(api_tokens::revoked_at.is_null())
            .filter(officers::disabled.eq(false))
    };
    let rows: Vec<(String, OfficerRow)> = match c {
        // `IN (?, ?, …)` is a new statement for every count of tokens, compiled again for each
        // batch (5% of the writer); a batch holds a lane's few devices, each looked up by the
        // one statement that stays prepared.
        DbConnection::Sqlite(c) => {
            let mut rows = Vec::with_capacity(hashes.len());
            for hash in hashes {
                rows.extend(
                    live()
                        .filter(api_tokens::token_hash.eq(hash))
                        .select((api_tokens::token_hash, OfficerRow::as_select()))
                        .load(c)?,
                );
            }
            rows
        }
        // `= ANY($1)`: one array parameter, one statement, one round trip.
        DbConnection::Postgresql(c) => live()
            .filter(api_tokens::token_hash.eq_any(&hashes))
            .select((api_tokens::token_hash, OfficerRow::as_select()))
            .load(c)?,
    };
    Ok(rows.into_iter().map(|(h, o)| (h, o.actor())).collect())
}
