//! Who a token or session belongs to, remembered per instance so that a request needs no query
//! of its own to know its caller, and trusted only while the database's auth epoch stands where
//! it stood when the memory was read.
//!
//! Exactness: every change that could withdraw or alter a sign-in moves the epoch in its own
//! transaction (triggers, migration `auth_epoch`). A request reads the epoch after it arrived,
//! through a read shared with the requests waiting at that moment ([`EpochReader`]); a cached
//! entry is used only if it was read under that same epoch. So a logout, a revoked token or a
//! disabled officer committed on any instance before the request arrived is always seen, at the
//! cost of one tiny query per wave of requests rather than one lookup per request.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};

use super::accounts::Session;
use super::drivers::Driver;
use crate::domain::auth::Actor;
use crate::error::Result;

/// Entries kept at most per kind; beyond it the kind starts again empty (a cache, not a store).
const ENTRIES: usize = 20_000;

/// A signed-in driver and when the session ends.
#[derive(Clone)]
pub struct DriverEntry {
    pub driver: Driver,
    pub expires_at: DateTime<Utc>,
}

/// An officer's page session and when it ends.
#[derive(Clone)]
pub struct SessionEntry {
    pub session: Session,
    pub expires_at: DateTime<Utc>,
}

/// What the cache keeps for one kind of secret: an API token's officer, a page session, a
/// driver's session.
pub trait Remembered: Clone + Send + 'static {
    /// Its map among the entries.
    fn map(entries: &mut Entries) -> &mut HashMap<String, Self>;
    /// Whether it still holds at `now` (a session ends by itself; a token does not).
    fn live(&self, now: DateTime<Utc>) -> bool;
}

impl Remembered for Actor {
    fn map(entries: &mut Entries) -> &mut HashMap<String, Self> {
        &mut entries.tokens
    }
    fn live(&self, _: DateTime<Utc>) -> bool {
        true
    }
}

impl Remembered for SessionEntry {
    fn map(entries: &mut Entries) -> &mut HashMap<String, Self> {
        &mut entries.sessions
    }
    fn live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at > now
    }
}

impl Remembered for DriverEntry {
    fn map(entries: &mut Entries) -> &mut HashMap<String, Self> {
        &mut entries.drivers
    }
    fn live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at > now
    }
}

#[derive(Default)]
pub struct Entries {
    /// The epoch every entry below was read under.
    epoch: i64,
    tokens: HashMap<String, Actor>,
    sessions: HashMap<String, SessionEntry>,
    drivers: HashMap<String, DriverEntry>,
}

impl Entries {
    /// Forgets everything read under another epoch.
    fn at(&mut self, epoch: i64) -> &mut Self {
        if self.epoch != epoch {
            self.tokens.clear();
            self.sessions.clear();
            self.drivers.clear();
            self.epoch = epoch;
        }
        self
    }
}

/// Counters for `/metrics`.
#[derive(Default)]
pub struct AuthStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub epoch_reads: AtomicU64,
}

#[derive(Default)]
pub struct AuthCache {
    entries: Mutex<Entries>,
    epoch: EpochReader,
    pub stats: AuthStats,
}

impl AuthCache {
    /// The epoch as it stands after the caller arrived (see [`EpochReader::fresh`]).
    pub async fn fresh_epoch<F, Fut>(&self, read: F) -> Result<i64>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<i64>>,
    {
        self.epoch
            .fresh(|| {
                self.stats.epoch_reads.fetch_add(1, Ordering::Relaxed);
                read()
            })
            .await
    }

    /// What `hash` stands for, if it was read under `epoch` and still holds at `now`. A caller
    /// holding an older epoch than the cache's (its read finished first) misses rather than
    /// moving the cache back.
    pub fn get<T: Remembered>(&self, epoch: i64, hash: &str, now: DateTime<Utc>) -> Option<T> {
        let found = self
            .entries
            .lock()
            .ok()
            .filter(|e| epoch >= e.epoch)
            .and_then(|mut e| T::map(e.at(epoch)).get(hash).filter(|v| v.live(now)).cloned());
        let counter = if found.is_some() {
            &self.stats.hits
        } else {
            &self.stats.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// What `hash` stood for under whatever epoch the cache holds: only for a caller that checks
    /// it again itself (the scan batch checks its tokens in its own transaction).
    pub fn guess<T: Remembered>(&self, hash: &str, now: DateTime<Utc>) -> Option<T> {
        let mut e = self.entries.lock().ok()?;
        T::map(&mut e).get(hash).filter(|v| v.live(now)).cloned()
    }

    /// Drops what `hash` stood for (the caller found it no longer holds).
    pub fn forget<T: Remembered>(&self, hash: &str) {
        if let Ok(mut e) = self.entries.lock() {
            T::map(&mut e).remove(hash);
        }
    }

    /// Keeps what was read under `epoch`, unless the cache has since moved past it.
    pub fn keep<T: Remembered>(&self, epoch: i64, hash: String, value: T) {
        if let Ok(mut e) = self.entries.lock()
            && epoch >= e.epoch
        {
            let map = T::map(e.at(epoch));
            if map.len() >= ENTRIES {
                map.clear();
            }
            map.insert(hash, value);
        }
    }
}

/// One read of the epoch at a time, shared by every caller that arrived before it started.
///
/// Written here rather than taken from a crate: the single-flight crates share a call already in
/// flight, which may have started before the caller arrived and so may miss a change the caller
/// must see; this one shares only reads that started after.
#[derive(Default)]
pub struct EpochReader {
    /// One read at a time; tokio's mutex queues the callers in order.
    turn: tokio::sync::Mutex<()>,
    /// Reads started so far; a read's number is this count just after it started.
    started: AtomicU64,
    /// The number and result of the last read that finished.
    last: Mutex<(u64, i64)>,
}

impl EpochReader {
    /// The epoch read by a read that started after this call began: the caller's own, or one a
    /// caller queued with it started while it waited.
    pub async fn fresh<F, Fut>(&self, read: F) -> Result<i64>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<i64>>,
    {
        let arrived = self.started.load(Ordering::SeqCst);
        let _turn = self.turn.lock().await;
        if let Ok(last) = self.last.lock()
            && last.0 > arrived
        {
            return Ok(last.1);
        }
        let number = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        let epoch = read().await?;
        if let Ok(mut last) = self.last.lock() {
            *last = (number, epoch);
        }
        Ok(epoch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicI64;

    use crate::domain::auth::Role;

    fn actor(name: &str) -> Actor {
        Actor {
            id: name.into(),
            username: name.into(),
            display_name: name.into(),
            role: Role::Officer,
            grants: vec![],
            office: "YYG".into(),
        }
    }

    #[tokio::test]
    async fn a_caller_never_takes_a_read_that_started_before_it_arrived() {
        let reader = Arc::new(EpochReader::default());
        let store = Arc::new(AtomicI64::new(1));
        // The first read is held open; the epoch moves while it is in flight; a caller arriving
        // now must not be answered with the first read's (older) value.
        let (release, held) = tokio::sync::oneshot::channel::<()>();
        let first = {
            let (reader, store) = (reader.clone(), store.clone());
            tokio::spawn(async move {
                reader
                    .fresh(|| async move {
                        let seen = store.load(Ordering::SeqCst);
                        let _ = held.await;
                        Ok(seen)
                    })
                    .await
            })
        };
        while reader.started.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        store.store(2, Ordering::SeqCst);
        let second = {
            let (reader, store) = (reader.clone(), store.clone());
            tokio::spawn(async move { reader.fresh(|| async move { Ok(store.load(Ordering::SeqCst)) }).await })
        };
        let _ = release.send(());
        assert_eq!(first.await.ok().and_then(|r| r.ok()), Some(1));
        assert_eq!(second.await.ok().and_then(|r| r.ok()), Some(2));
    }

    #[tokio::test]
    async fn callers_waiting_together_share_one_read() {
        let reader = Arc::new(EpochReader::default());
        let reads = Arc::new(AtomicU64::new(0));
        let (release, held) = tokio::sync::oneshot::channel::<()>();
        let first = {
            let (reader, reads) = (reader.clone(), reads.clone());
            tokio::spawn(async move {
                reader
                    .fresh(|| async move {
                        reads.fetch_add(1, Ordering::SeqCst);
                        let _ = held.await;
                        Ok(7)
                    })
                    .await
            })
        };
        while reader.started.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        // Ten callers arrive while the first read is in flight: one more read serves them all.
        let waiting: Vec<_> = (0..10)
            .map(|_| {
                let (reader, reads) = (reader.clone(), reads.clone());
                tokio::spawn(async move {
                    reader
                        .fresh(|| async move {
                            reads.fetch_add(1, Ordering::SeqCst);
                            Ok(8)
                        })
                        .await
                })
            })
            .collect();
        let _ = release.send(());
        assert_eq!(first.await.ok().and_then(|r| r.ok()), Some(7));
        for w in waiting {
            assert_eq!(w.await.ok().and_then(|r| r.ok()), Some(8));
        }
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn entries_read_under_another_epoch_are_not_used() {
        let cache = AuthCache::default();
        let now = Utc::now();
        let token = |epoch| cache.get::<Actor>(epoch, "h", now);
        cache.keep(5, "h".into(), actor("a"));
        assert!(token(5).is_some());
        assert!(token(6).is_none(), "the epoch moved: forgotten");
        // A slow lookup read under 5 finishing after the cache moved to 6 is not kept.
        cache.keep(5, "h".into(), actor("a"));
        assert!(token(6).is_none());
        // Nor does a caller still holding 5 bring the cache back to it.
        cache.keep(6, "h".into(), actor("a"));
        assert!(token(5).is_none());
        assert!(token(6).is_some());
        assert_eq!(cache.stats.hits.load(Ordering::Relaxed), 2);
        assert_eq!(cache.stats.misses.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn an_expired_session_is_not_served_from_memory() {
        let cache = AuthCache::default();
        let now = Utc::now();
        let session = Session {
            actor: actor("a"),
            csrf_token: "c".into(),
        };
        cache.keep(
            1,
            "s".into(),
            SessionEntry {
                session,
                expires_at: now + chrono::Duration::minutes(1),
            },
        );
        assert!(cache.get::<SessionEntry>(1, "s", now).is_some());
        assert!(
            cache
                .get::<SessionEntry>(1, "s", now + chrono::Duration::minutes(2))
                .is_none()
        );
    }
}
