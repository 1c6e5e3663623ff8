//! Permit-signing keys: created on first start, kept in the data directory, public parts served.
//!
//! `DATA_DIR/keys/<kid>.ed25519` holds a secret key; `<kid>.json` what it may do: the permit
//! kinds it may sign and its validity (no permit it signs may outlive it); `active` names the key
//! new permits are signed with. Rotation adds a key and makes it active; the old one stays to
//! verify the permits it signed. Removing a key (a compromise) moves it to `removed/`, and every
//! permit it signed fails verification.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::domain::permit::PermitKind;
use crate::domain::seal::{key_id, key_id_hex};
use crate::error::{Error, Result};

/// One key of the ring.
#[derive(Clone)]
pub struct RingKey {
    pub id: [u8; 4],
    pub public: VerifyingKey,
    pub kinds: Vec<PermitKind>,
    pub not_before: DateTime<Utc>,
    /// The key's end: every permit it signs expires by then.
    pub not_after: DateTime<Utc>,
}

impl RingKey {
    /// Whether a permit valid until `until` (a China date) may carry this key's signature.
    pub fn covers(&self, until: chrono::NaiveDate) -> bool {
        until <= crate::domain::local(self.not_after).date_naive()
    }
}

/// What `<kid>.json` says of a key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyMeta {
    pub kinds: Vec<PermitKind>,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

/// A key as `keys list` shows it.
#[derive(Debug, Clone)]
pub struct KeyListing {
    pub kid: String,
    pub active: bool,
    pub removed: bool,
    pub meta: KeyMeta,
}

/// The keys this instance signs with and accepts.
#[derive(Clone)]
pub struct KeyRing {
    active: SigningKey,
    active_id: [u8; 4],
    keys: Vec<RingKey>,
}

fn keys_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("keys")
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Internal(format!("{}: {e}", path.display()))
}

fn write_secret(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(|e| io(path, e))?;
    f.write_all(contents.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| io(path, e))
}

fn write_meta(path: &Path, meta: &KeyMeta) -> Result<()> {
    let text = serde_json::to_string_pretty(meta).map_err(Error::internal)?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))
}

/// A key's validity: from now for `lifetime_days` days.
pub fn validity(now: DateTime<Utc>, lifetime_days: u32) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    if lifetime_days == 0 {
        return Err(Error::Config("a key's lifetime must be at least one day".into()));
    }
    let end = now
        .checked_add_signed(Duration::days(i64::from(lifetime_days)))
        .ok_or_else(|| Error::Config(format!("lifetime of {lifetime_days} days is out of range")))?;
    Ok((now, end))
}

/// Creates a key file (and its description) and returns its id; does not activate it.
fn create_key(dir: &Path, kinds: &[PermitKind], now: DateTime<Utc>, lifetime_days: u32) -> Result<String> {
    let (not_before, not_after) = validity(now, lifetime_days)?;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| Error::Internal(format!("random: {e}")))?;
    let key = SigningKey::from_bytes(&seed);
    let kid = key_id_hex(key_id(&key.verifying_key()));
    let kinds = if kinds.is_empty() {
        PermitKind::ALL.to_vec()
    } else {
        kinds.to_vec()
    };
    // The description first: a key file never exists without its validity.
    write_meta(
        &dir.join(format!("{kid}.json")),
        &KeyMeta {
            kinds,
            not_before,
            not_after,
        },
    )?;
    write_secret(&dir.join(format!("{kid}.ed25519")), &hex::encode(seed))?;
    Ok(kid)
}

/// Reads `<kid>.json`; a key from before validity was recorded (a `.kinds` file or nothing) is
/// described once from its file's age and the default lifetime, and the description written.
fn read_meta(key_file: &Path, lifetime_days: u32) -> Result<KeyMeta> {
    let meta_file = key_file.with_extension("json");
    if meta_file.exists() {
        let text = std::fs::read_to_string(&meta_file).map_err(|e| io(&meta_file, e))?;
        return serde_json::from_str(&text).map_err(|e| Error::Internal(format!("{}: {e}", meta_file.display())));
    }
    let kinds_file = key_file.with_extension("kinds");
    let kinds = if kinds_file.exists() {
        std::fs::read_to_string(&kinds_file)
            .map_err(|e| io(&kinds_file, e))?
            .lines()
            .filter_map(|l| PermitKind::parse(l.trim()))
            .collect()
    } else {
        PermitKind::ALL.to_vec()
    };
    let created: DateTime<Utc> = std::fs::metadata(key_file)
        .and_then(|m| m.modified())
        .map_err(|e| io(key_file, e))?
        .into();
    let (not_before, not_after) = validity(created, lifetime_days)?;
    let meta = KeyMeta {
        kinds,
        not_before,
        not_after,
    };
    write_meta(&meta_file, &meta)?;
    Ok(meta)
}

fn activate(dir: &Path, kid: &str) -> Result<()> {
    // Write then rename, so a crash never leaves an empty `active`.
    let tmp = dir.join("active.tmp");
    std::fs::write(&tmp, kid).map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, dir.join("active")).map_err(|e| io(&tmp, e))
}

impl KeyRing {
    /// Loads the keys in `DATA_DIR/keys`, creating the first one if there is none.
    /// Returns the ring and whether a key was created.
    pub fn load_or_create(data_dir: &Path, now: DateTime<Utc>, lifetime_days: u32) -> Result<(KeyRing, bool)> {
        let dir = keys_dir(data_dir);
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let created = if dir.join("active").exists() {
            false
        } else {
            let kid = create_key(&dir, &[], now, lifetime_days)?;
            activate(&dir, &kid)?;
            true
        };
        Ok((Self::load(&dir, lifetime_days)?, created))
    }

    /// Adds a key (for `kinds`, or every kind, valid `lifetime_days` from now) and signs new
    /// permits with it from now on.
    pub fn rotate(
        data_dir: &Path,
        kinds: &[PermitKind],
        now: DateTime<Utc>,
        lifetime_days: u32,
    ) -> Result<(String, String)> {
        let (ring, _) = Self::load_or_create(data_dir, now, lifetime_days)?;
        let dir = keys_dir(data_dir);
        let kid = create_key(&dir, kinds, now, lifetime_days)?;
        activate(&dir, &kid)?;
        Ok((ring.active_id(), kid))
    }

    /// Every key of the data directory, removed ones included, oldest first.
    pub fn list(data_dir: &Path, now: DateTime<Utc>, lifetime_days: u32) -> Result<Vec<KeyListing>> {
        let (ring, _) = Self::load_or_create(data_dir, now, lifetime_days)?;
        let dir = keys_dir(data_dir);
        let mut out: Vec<KeyListing> = ring
            .keys
            .iter()
            .map(|k| KeyListing {
                kid: key_id_hex(k.id),
                active: k.id == ring.active_id,
                removed: false,
                meta: KeyMeta {
                    kinds: k.kinds.clone(),
                    not_before: k.not_before,
                    not_after: k.not_after,
                },
            })
            .collect();
        let removed = dir.join("removed");
        if let Ok(entries) = std::fs::read_dir(&removed) {
            for path in entries.flatten().map(|e| e.path()) {
                if path.extension().and_then(|e| e.to_str()) != Some("ed25519") {
                    continue;
                }
                let kid = path.file_stem().and_then(|s| s.to_str()).unwrap_or("?").to_string();
                let meta = read_meta(&path, lifetime_days)?;
                out.push(KeyListing {
                    kid,
                    active: false,
                    removed: true,
                    meta,
                });
            }
        }
        out.sort_by_key(|k| k.meta.not_before);
        Ok(out)
    }

    /// Takes a key out of the ring (e.g. compromised): every permit it signed stops verifying.
    pub fn remove(data_dir: &Path, kid: &str, now: DateTime<Utc>, lifetime_days: u32) -> Result<()> {
        let (ring, _) = Self::load_or_create(data_dir, now, lifetime_days)?;
        if ring.active_id() == kid {
            return Err(Error::Config("the active key cannot be removed: rotate first".into()));
        }
        let dir = keys_dir(data_dir);
        let file = dir.join(format!("{kid}.ed25519"));
        if !crate::domain::validation::plausible_key(kid) || !file.exists() {
            return Err(Error::Config(format!("no key {kid:?}")));
        }
        let removed = dir.join("removed");
        std::fs::create_dir_all(&removed).map_err(|e| io(&removed, e))?;
        let meta = dir.join(format!("{kid}.json"));
        if meta.exists() {
            std::fs::rename(&meta, removed.join(format!("{kid}.json"))).map_err(|e| io(&meta, e))?;
        }
        std::fs::rename(&file, removed.join(format!("{kid}.ed25519"))).map_err(|e| io(&file, e))
    }

    fn load(dir: &Path, lifetime_days: u32) -> Result<KeyRing> {
        let read = |p: PathBuf| std::fs::read_to_string(&p).map_err(|e| io(&p, e));
        let active_kid = read(dir.join("active"))?.trim().to_string();
        let mut active = None;
        let mut keys = Vec::new();
        let entries = std::fs::read_dir(dir).map_err(|e| io(dir, e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("ed25519") {
                continue;
            }
            let seed: [u8; 32] = hex::decode(read(path.clone())?.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| Error::Internal(format!("{} is not a 32-byte hex key", path.display())))?;
            let key = SigningKey::from_bytes(&seed);
            let id = key_id(&key.verifying_key());
            let meta = read_meta(&path, lifetime_days)?;
            if key_id_hex(id) == active_kid {
                active = Some(key.clone());
            }
            keys.push(RingKey {
                id,
                public: key.verifying_key(),
                kinds: meta.kinds,
                not_before: meta.not_before,
                not_after: meta.not_after,
            });
        }
        let active =
            active.ok_or_else(|| Error::Internal(format!("active key {active_kid} not found in {}", dir.display())))?;
        keys.sort_by_key(|k| k.id);
        Ok(KeyRing {
            active_id: key_id(&active.verifying_key()),
            active,
            keys,
        })
    }

    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    pub fn active_id(&self) -> String {
        key_id_hex(self.active_id)
    }

    /// Whether the active key may sign `kind` (checked before issuing).
    pub fn active_signs(&self, kind: PermitKind) -> bool {
        self.active_key().is_some_and(|k| k.kinds.contains(&kind))
    }

    /// The active key's entry in the ring (its kinds and validity).
    pub fn active_key(&self) -> Option<&RingKey> {
        self.keys.iter().find(|k| k.id == self.active_id)
    }

    pub fn lookup(&self, id: [u8; 4]) -> Option<VerifyingKey> {
        self.keys.iter().find(|k| k.id == id).map(|k| k.public)
    }

    pub fn get(&self, kid: &str) -> Option<&RingKey> {
        self.keys.iter().find(|k| key_id_hex(k.id) == kid)
    }

    pub fn ring(&self) -> &[RingKey] {
        &self.keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use chrono::{NaiveDate, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 2, 0, 0).unwrap()
    }

    #[test]
    fn created_once_then_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let (first, created) = KeyRing::load_or_create(dir.path(), now(), 1826).unwrap();
        assert!(created);
        let (again, created) = KeyRing::load_or_create(dir.path(), now(), 1826).unwrap();
        assert!(!created);
        assert_eq!(first.active_id(), again.active_id());
        let id: [u8; 4] = hex::decode(first.active_id()).unwrap().try_into().unwrap();
        assert_eq!(again.lookup(id), Some(first.active().verifying_key()));
    }

    #[test]
    fn rotation_keeps_the_old_key_and_removal_drops_it() {
        let dir = tempfile::tempdir().unwrap();
        let (first, _) = KeyRing::load_or_create(dir.path(), now(), 1826).unwrap();
        let (old, new) = KeyRing::rotate(dir.path(), &[PermitKind::BorderTrade], now(), 1826).unwrap();
        assert_eq!(old, first.active_id());
        let (ring, _) = KeyRing::load_or_create(dir.path(), now(), 1826).unwrap();
        assert_eq!(ring.active_id(), new);
        assert!(ring.active_signs(PermitKind::BorderTrade) && !ring.active_signs(PermitKind::BorderTourism));
        assert!(ring.get(&old).is_some(), "the retired key still verifies");
        assert!(
            KeyRing::remove(dir.path(), &new, now(), 1826).is_err(),
            "not the active key"
        );
        KeyRing::remove(dir.path(), &old, now(), 1826).unwrap();
        let (ring, _) = KeyRing::load_or_create(dir.path(), now(), 1826).unwrap();
        assert!(ring.get(&old).is_none());
        let listed = KeyRing::list(dir.path(), now(), 1826).unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().any(|k| k.kid == old && k.removed && !k.active));
        assert!(
            listed
                .iter()
                .any(|k| k.kid == new && k.active && k.meta.kinds == [PermitKind::BorderTrade])
        );
    }

    #[test]
    fn a_key_has_a_validity_and_covers_permits_inside_it() {
        let dir = tempfile::tempdir().unwrap();
        let (ring, _) = KeyRing::load_or_create(dir.path(), now(), 30).unwrap();
        let k = ring.active_key().unwrap();
        assert_eq!((k.not_before, k.not_after), (now(), now() + Duration::days(30)));
        // 26 Dec 2026 10:00 China time is the key's last day.
        assert!(k.covers(NaiveDate::from_ymd_opt(2026, 12, 26).unwrap()));
        assert!(!k.covers(NaiveDate::from_ymd_opt(2026, 12, 27).unwrap()));
        assert!(KeyRing::rotate(dir.path(), &[], now(), 0).is_err(), "no zero-day keys");
    }

    #[test]
    fn a_key_from_before_validity_is_described_once() {
        let dir = tempfile::tempdir().unwrap();
        let (ring, _) = KeyRing::load_or_create(dir.path(), now(), 1826).unwrap();
        let kid = ring.active_id();
        let keys = dir.path().join("keys");
        std::fs::remove_file(keys.join(format!("{kid}.json"))).unwrap();
        std::fs::write(keys.join(format!("{kid}.kinds")), "passport\n").unwrap();
        let (ring, _) = KeyRing::load_or_create(dir.path(), now(), 365).unwrap();
        let k = ring.active_key().unwrap();
        assert_eq!(k.kinds, [PermitKind::Passport]);
        assert_eq!(k.not_after - k.not_before, Duration::days(365));
        assert!(keys.join(format!("{kid}.json")).exists(), "written for next time");
    }
}
