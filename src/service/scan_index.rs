//! The facts a checkpoint verdict needs about each permit, held in memory by the scan writer so
//! that a scan is decided without reading four tables, and kept exact by the trust versions.
//!
//! Why this is exact: every change to what a verdict reads (a trip, a revocation, a deferred item
//! supplied, a portrait) takes a trust version in its own transaction and stamps it on the
//! permit's row, or for a trip writes the crossing's step (`trust::next_version`; triggers log
//! either in `trust_changes`), and the counter's row stays locked until that transaction ends. A scan batch takes the next version too, so once it holds version `v`, every
//! change numbered below `v` has committed — on this instance or any other on the same
//! PostgreSQL. The batch reloads the permits logged between what the index last saw and `v`
//! before deciding anything, all inside its own transaction. A permit the index does not hold
//! (issued since, not loaded yet) is read from the database in that transaction. Entries loaded
//! in the background carry their row's version and never replace a newer one.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use smol_str::SmolStr;

use crate::db::schema::{application_materials, applications, crossings, permits, travellers, trust_changes};
use crate::db::{DbConnection, utc};
use crate::domain::permit::{self, PermitKind, PermitStatus};
use crate::domain::verdict::{self, Direction, Facts};
use crate::error::Result;

/// What a scan reads and answers about one permit.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanFacts {
    pub kind: PermitKind,
    /// As stored; the effective status is derived with the clock (`status`).
    pub stored: PermitStatus,
    pub valid_from: NaiveDateTime,
    pub valid_until: NaiveDateTime,
    pub entries_allowed: i32,
    pub entries_used: i32,
    pub last_direction: Option<Direction>,
    pub key_id: Arc<str>,
    /// Due dates of the deferred items not yet supplied (an item without one counts as overdue).
    pub outstanding_due: Box<[NaiveDate]>,
    pub name_zh: Option<Box<str>>,
    pub name_latin: Box<str>,
    pub nationality: Box<str>,
    pub portrait: bool,
    /// Normalised plates, comma-separated (trade passes).
    pub plates: Option<Box<str>>,
    /// The permit row's trust version when these facts were read.
    pub version: i64,
}

impl ScanFacts {
    pub fn status(&self, now: DateTime<Utc>) -> PermitStatus {
        permit::effective_status(self.stored, utc(self.valid_until), &self.outstanding_due, now)
    }

    pub fn verdict_facts(&self, now: DateTime<Utc>) -> Facts {
        Facts {
            status: self.status(now),
            valid_from: utc(self.valid_from),
            entries_allowed: self.entries_allowed,
            entries_used: self.entries_used,
            last_direction: self.last_direction,
        }
    }

    pub fn plates(&self) -> Vec<String> {
        self.plates
            .as_deref()
            .map(|p| p.split(',').map(str::to_string).collect())
            .unwrap_or_default()
    }
}

/// Permits by number, as the scan writer knows them. A million permits make a table of hundreds
/// of megabytes read at random, so a lookup's cost is its cache and TLB misses (the key
/// comparison was 40 % of the PostgreSQL scan writer's samples with boxed keys and three lookups
/// per scan): numbers are kept inline in the table (`SmolStr`, up to 23 bytes), and a scan reads
/// its permit once and writes it once.
#[derive(Default)]
pub struct ScanIndex {
    permits: HashMap<SmolStr, ScanFacts>,
    /// Key ids are shared by every permit a key signed.
    key_ids: HashSet<Arc<str>>,
    /// Every change numbered up to this version is reflected (None: nothing synced yet).
    known: Option<i64>,
    /// What the current transaction changed, to put back if it rolls back.
    journal: Vec<(SmolStr, Undo)>,
}

/// How to put back one change of the current transaction.
enum Undo {
    /// The facts held before (None: none were).
    Facts(Option<ScanFacts>),
    /// A trip recorded in place: the trip state and version before it.
    Trip(i32, Option<Direction>, PermitStatus, i64),
}

/// Rows read per query when loading in the background.
pub const PAGE: i64 = 5000;

type FactsRow = (
    (
        String,
        PermitKind,
        PermitStatus,
        NaiveDateTime,
        NaiveDateTime,
        i32,
        i32,
        String,
    ),
    (Option<Direction>, i64, String),
    (Option<String>, String, String),
    (Option<String>, Option<NaiveDateTime>),
);

/// Loaded facts, before the index interns their key ids.
pub struct Loaded {
    pub number: String,
    pub facts: ScanFacts,
}

macro_rules! facts_query {
    () => {
        permits::table
            .inner_join(travellers::table)
            .inner_join(applications::table.on(applications::id.eq(permits::application_id)))
            .select((
                (
                    permits::number,
                    permits::kind,
                    permits::status,
                    permits::valid_from,
                    permits::valid_until,
                    permits::entries_allowed,
                    permits::entries_used,
                    permits::key_id,
                ),
                (permits::last_direction, permits::trust_version, permits::application_id),
                (travellers::name_zh, travellers::name_latin, travellers::nationality),
                (applications::plates, applications::portrait_at),
            ))
    };
}

/// The highest crossing step of each of these permits that has one: with the row's state, the
/// permit's trips (`verdict::current_trips`).
pub fn max_steps<S: AsRef<str>>(c: &mut DbConnection, numbers: &[S]) -> Result<HashMap<String, i32>> {
    let mut steps = HashMap::new();
    for chunk in numbers.chunks(PAGE as usize) {
        let chunk: Vec<&str> = chunk.iter().map(AsRef::as_ref).collect();
        let rows: Vec<(Option<String>, Option<i32>)> = crossings::table
            .filter(crossings::permit_number.eq_any(&chunk))
            .filter(crossings::step.is_not_null())
            .group_by(crossings::permit_number)
            .select((crossings::permit_number, diesel::dsl::max(crossings::step)))
            .load(c)?;
        steps.extend(rows.into_iter().filter_map(|(n, m)| Some((n?, m?))));
    }
    Ok(steps)
}

/// Facts from rows, with the outstanding items of their applications read in the same
/// transaction (the caller's snapshot).
fn assemble(c: &mut DbConnection, rows: Vec<FactsRow>) -> Result<Vec<Loaded>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.1.2.as_str()).collect();
    let numbers: Vec<&str> = rows.iter().map(|r| r.0.0.as_str()).collect();
    let steps = max_steps(c, &numbers)?;
    let mut due: HashMap<String, Vec<NaiveDate>> = HashMap::new();
    for chunk in ids.chunks(PAGE as usize) {
        let items: Vec<(String, Option<NaiveDate>)> = application_materials::table
            .filter(application_materials::provided.eq(false))
            .filter(application_materials::application_id.eq_any(chunk))
            .select((application_materials::application_id, application_materials::due_date))
            .load(c)?;
        for (id, date) in items {
            due.entry(id).or_default().push(date.unwrap_or(NaiveDate::MIN));
        }
    }
    Ok(rows
        .into_iter()
        .map(
            |(p, (last_direction, version, application), t, (plates, portrait_at))| {
                let (number, kind, stored, valid_from, valid_until, entries_allowed, entries_used, key_id) = p;
                let (entries_used, last_direction) =
                    verdict::current_trips(entries_used, last_direction, steps.get(&number).copied());
                Loaded {
                    number,
                    facts: ScanFacts {
                        kind,
                        stored,
                        valid_from,
                        valid_until,
                        entries_allowed,
                        entries_used,
                        last_direction,
                        key_id: Arc::from(key_id),
                        outstanding_due: due.remove(&application).unwrap_or_default().into_boxed_slice(),
                        name_zh: t.0.map(String::into_boxed_str),
                        name_latin: t.1.into_boxed_str(),
                        nationality: t.2.into_boxed_str(),
                        portrait: portrait_at.is_some(),
                        plates: plates.map(String::into_boxed_str),
                        version,
                    },
                }
            },
        )
        .collect())
}

/// One permit's facts, or None if there is no such permit.
pub fn load_one(c: &mut DbConnection, number: &str) -> Result<Option<Loaded>> {
    let rows: Vec<FactsRow> = facts_query!().filter(permits::number.eq(number)).limit(1).load(c)?;
    Ok(assemble(c, rows)?.pop())
}

/// The page of permits after `after` in number order (the background load).
pub fn load_page(c: &mut DbConnection, after: &str) -> Result<Vec<Loaded>> {
    let rows: Vec<FactsRow> = facts_query!()
        .filter(permits::number.gt(after))
        .order(permits::number)
        .limit(PAGE)
        .load(c)?;
    assemble(c, rows)
}

/// The last number of the page after `after`, to step over a page that would not load (a
/// stored value this binary does not know: those permits are then read, and refused, one by one).
pub fn page_end(c: &mut DbConnection, after: &str) -> Result<Option<String>> {
    let mut numbers: Vec<String> = permits::table
        .filter(permits::number.gt(after))
        .order(permits::number)
        .limit(PAGE)
        .select(permits::number)
        .load(c)?;
    Ok(numbers.pop())
}

impl ScanIndex {
    pub fn len(&self) -> usize {
        self.permits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.permits.is_empty()
    }

    fn intern(&mut self, facts: &mut ScanFacts) {
        match self.key_ids.get(&facts.key_id) {
            Some(k) => facts.key_id = k.clone(),
            None => {
                self.key_ids.insert(facts.key_id.clone());
            }
        }
    }

    /// Brings the index up to the batch's version `v`, inside the batch's transaction: the
    /// permits stamped since the last batch are read again. A permit that no longer loads is
    /// dropped (its scans read it from the database, and fail there).
    pub fn catch_up(&mut self, c: &mut DbConnection, v: i64) -> Result<usize> {
        let Some(known) = self.known else {
            self.known = Some(v - 1);
            return Ok(0);
        };
        if known >= v - 1 {
            return Ok(0);
        }
        let changed: Vec<String> = trust_changes::table
            .filter(trust_changes::version.gt(known))
            .filter(trust_changes::version.lt(v))
            .select(trust_changes::permit_number)
            .distinct()
            .load(c)?;
        let rows: Result<Vec<FactsRow>> = changed
            .chunks(PAGE as usize)
            .map(|chunk| {
                Ok(facts_query!()
                    .filter(permits::number.eq_any(chunk))
                    .load::<FactsRow>(c)?)
            })
            .collect::<Result<Vec<_>>>()
            .map(|pages| pages.into_iter().flatten().collect());
        match rows.and_then(|rows| assemble(c, rows)) {
            Ok(loaded) => {
                for l in loaded {
                    self.put(l);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, permits = changed.len(), "changed permits did not load together; dropping them from the scan index");
                for number in &changed {
                    self.permits.remove(number.as_str());
                }
            }
        }
        self.known = Some(v - 1);
        Ok(changed.len())
    }

    /// After the batch's commit: everything up to `v` is reflected.
    pub fn committed(&mut self, v: i64) {
        self.journal.clear();
        self.known = Some(self.known.map_or(v, |k| k.max(v)));
    }

    /// After a rollback: the changes since `mark` are put back.
    pub fn roll_back_to(&mut self, mark: usize) {
        while self.journal.len() > mark {
            if let Some((number, undo)) = self.journal.pop() {
                match undo {
                    Undo::Facts(Some(f)) => {
                        self.permits.insert(number, f);
                    }
                    Undo::Facts(None) => {
                        self.permits.remove(&number);
                    }
                    Undo::Trip(used, last, stored, version) => {
                        if let Some(f) = self.permits.get_mut(&number) {
                            (f.entries_used, f.last_direction, f.stored, f.version) = (used, last, stored, version);
                        }
                    }
                }
            }
        }
    }

    /// Where the journal stands, for `roll_back_to`.
    pub fn mark(&self) -> usize {
        self.journal.len()
    }

    /// Facts read in this transaction or committed: stored as they are.
    fn put(&mut self, mut l: Loaded) {
        self.intern(&mut l.facts);
        self.permits.insert(SmolStr::from(l.number), l.facts);
    }

    /// Facts loaded in the background from an earlier snapshot: kept only where the index has
    /// nothing newer.
    pub fn offer(&mut self, loaded: Vec<Loaded>) {
        for l in loaded {
            let newer = self
                .permits
                .get(l.number.as_str())
                .is_none_or(|held| l.facts.version > held.version);
            if newer {
                self.put(l);
            }
        }
    }

    /// The permit's facts: from memory, or read in the caller's transaction and kept. A copy,
    /// so that a hit costs one lookup.
    pub fn get(&mut self, c: &mut DbConnection, number: &str) -> Result<Option<ScanFacts>> {
        if let Some(f) = self.permits.get(number) {
            return Ok(Some(f.clone()));
        }
        Ok(match load_one(c, number)? {
            Some(l) => {
                let facts = l.facts.clone();
                self.put(l);
                Some(facts)
            }
            None => None,
        })
    }

    /// Reads the permit again from the database (a trip found its step taken).
    pub fn reload(&mut self, c: &mut DbConnection, number: &str) -> Result<Option<ScanFacts>> {
        let before = self.permits.remove(number);
        self.journal.push((number.into(), Undo::Facts(before)));
        self.get(c, number)
    }

    /// Replaces the facts of a permit this transaction changed (journaled).
    pub fn set(&mut self, number: &str, facts: ScanFacts) {
        let before = self.permits.insert(number.into(), facts);
        self.journal.push((number.into(), Undo::Facts(before)));
    }

    /// Records a trip this transaction made on a permit: `facts` as read by `get`, with the trip
    /// state after it. In place (journaled), so that a trip costs one lookup and no copy.
    pub fn moved(&mut self, number: &str, facts: &ScanFacts) {
        let Some(held) = self.permits.get_mut(number) else {
            return self.set(number, facts.clone());
        };
        let undo = Undo::Trip(held.entries_used, held.last_direction, held.stored, held.version);
        (held.entries_used, held.last_direction, held.stored, held.version) =
            (facts.entries_used, facts.last_direction, facts.stored, facts.version);
        self.journal.push((number.into(), undo));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(version: i64, used: i32) -> ScanFacts {
        ScanFacts {
            kind: PermitKind::BorderTourism,
            stored: PermitStatus::Issued,
            valid_from: NaiveDate::from_ymd_opt(2026, 1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .unwrap(),
            valid_until: NaiveDate::from_ymd_opt(2027, 1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .unwrap(),
            entries_allowed: 0,
            entries_used: used,
            last_direction: None,
            key_id: Arc::from("k1"),
            outstanding_due: Box::new([]),
            name_zh: None,
            name_latin: "ZHANG WEI".into(),
            nationality: "CHN".into(),
            portrait: false,
            plates: None,
            version,
        }
    }

    fn loaded(number: &str, version: i64, used: i32) -> Loaded {
        Loaded {
            number: number.into(),
            facts: facts(version, used),
        }
    }

    #[test]
    fn a_background_load_never_replaces_newer_facts() {
        let mut index = ScanIndex::default();
        index.put(loaded("P1", 7, 3));
        index.offer(vec![loaded("P1", 5, 1), loaded("P2", 0, 0)]);
        assert_eq!(index.permits["P1"].entries_used, 3, "older snapshot ignored");
        assert_eq!(index.permits["P2"].entries_used, 0, "unknown permit taken");
        index.offer(vec![loaded("P1", 9, 4)]);
        assert_eq!(index.permits["P1"].entries_used, 4, "newer snapshot taken");
    }

    #[test]
    fn a_rolled_back_change_is_put_back() {
        let mut index = ScanIndex::default();
        index.put(loaded("P1", 1, 0));
        let mark = index.mark();
        index.set("P1", facts(2, 1));
        index.set("P2", facts(2, 1));
        index.roll_back_to(mark);
        assert_eq!(index.permits["P1"].entries_used, 0);
        assert!(!index.permits.contains_key("P2"));
        index.set("P1", facts(3, 1));
        index.committed(3);
        index.roll_back_to(0);
        assert_eq!(index.permits["P1"].entries_used, 1, "a committed change stays");
        assert_eq!(index.known, Some(3));
    }

    #[test]
    fn a_trip_in_place_is_put_back_on_rollback() {
        let mut index = ScanIndex::default();
        index.put(loaded("P1", 1, 0));
        let mark = index.mark();
        let mut after = facts(5, 1);
        after.last_direction = Some(Direction::Exit);
        index.moved("P1", &after);
        assert_eq!(
            (
                index.permits["P1"].entries_used,
                index.permits["P1"].last_direction,
                index.permits["P1"].version
            ),
            (1, Some(Direction::Exit), 5)
        );
        index.moved("P2", &after);
        index.roll_back_to(mark);
        assert_eq!(
            (
                index.permits["P1"].entries_used,
                index.permits["P1"].last_direction,
                index.permits["P1"].version
            ),
            (0, None, 1)
        );
        assert!(
            !index.permits.contains_key("P2"),
            "a permit not held before is dropped again"
        );
    }

    #[test]
    fn key_ids_are_shared() {
        let mut index = ScanIndex::default();
        index.put(loaded("P1", 1, 0));
        index.put(loaded("P2", 1, 0));
        assert!(Arc::ptr_eq(&index.permits["P1"].key_id, &index.permits["P2"].key_id));
    }
}
