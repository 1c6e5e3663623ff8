//! Permit-signing keys: created on first start, kept in the data directory, public parts served.
//!
//! `DATA_DIR/keys/<kid>.ed25519` holds a secret key; `<kid>.kinds` (optional) the permit kinds it
//! may sign (default: all); `active` names the key new permits are signed with. Rotation adds a
//! key and makes it active; the old one stays to verify the permits it signed. Removing a key
//! (a compromise) moves it to `removed/`, and every permit it signed fails verification.

use std::path::{Path, PathBuf};

use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::domain::permit::PermitKind;
use crate::domain::seal::{key_id, key_id_hex};
use crate::error::{Error, Result};

/// One key of the ring.
#[derive(Clone)]
pub struct RingKey {
    pub id: [u8; 4],
    pub public: VerifyingKey,
    pub kinds: Vec<PermitKind>,
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

/// Creates a key file (and its kinds file) and returns its id; does not activate it.
fn create_key(dir: &Path, kinds: &[PermitKind]) -> Result<String> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| Error::Internal(format!("random: {e}")))?;
    let key = SigningKey::from_bytes(&seed);
    let kid = key_id_hex(key_id(&key.verifying_key()));
    write_secret(&dir.join(format!("{kid}.ed25519")), &hex::encode(seed))?;
    if !kinds.is_empty() {
        let list = kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join("\n");
        std::fs::write(dir.join(format!("{kid}.kinds")), list).map_err(|e| io(dir, e))?;
    }
    Ok(kid)
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
    pub fn load_or_create(data_dir: &Path) -> Result<(KeyRing, bool)> {
        let dir = keys_dir(data_dir);
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let created = if dir.join("active").exists() {
            false
        } else {
            let kid = create_key(&dir, &[])?;
            activate(&dir, &kid)?;
            true
        };
        Ok((Self::load(&dir)?, created))
    }

    /// Adds a key (for `kinds`, or every kind) and signs new permits with it from now on.
    pub fn rotate(data_dir: &Path, kinds: &[PermitKind]) -> Result<(String, String)> {
        let (ring, _) = Self::load_or_create(data_dir)?;
        let dir = keys_dir(data_dir);
        let kid = create_key(&dir, kinds)?;
        activate(&dir, &kid)?;
        Ok((ring.active_id(), kid))
    }

    /// Takes a key out of the ring (e.g. compromised): every permit it signed stops verifying.
    pub fn remove(data_dir: &Path, kid: &str) -> Result<()> {
        let (ring, _) = Self::load_or_create(data_dir)?;
        if ring.active_id() == kid {
            return Err(Error::Internal("the active key cannot be removed: rotate first".into()));
        }
        let dir = keys_dir(data_dir);
        let file = dir.join(format!("{kid}.ed25519"));
        if !crate::domain::validation::plausible_key(kid) || !file.exists() {
            return Err(Error::Internal(format!("no key {kid:?}")));
        }
        let removed = dir.join("removed");
        std::fs::create_dir_all(&removed).map_err(|e| io(&removed, e))?;
        std::fs::rename(&file, removed.join(format!("{kid}.ed25519"))).map_err(|e| io(&file, e))
    }

    fn load(dir: &Path) -> Result<KeyRing> {
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
            let kinds_file = path.with_extension("kinds");
            let kinds = if kinds_file.exists() {
                read(kinds_file)?
                    .lines()
                    .filter_map(|l| PermitKind::parse(l.trim()))
                    .collect()
            } else {
                PermitKind::ALL.to_vec()
            };
            if key_id_hex(id) == active_kid {
                active = Some(key.clone());
            }
            keys.push(RingKey {
                id,
                public: key.verifying_key(),
                kinds,
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
        self.keys
            .iter()
            .any(|k| k.id == self.active_id && k.kinds.contains(&kind))
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

    #[test]
    fn created_once_then_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let (first, created) = KeyRing::load_or_create(dir.path()).unwrap();
        assert!(created);
        let (again, created) = KeyRing::load_or_create(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(first.active_id(), again.active_id());
        let id: [u8; 4] = hex::decode(first.active_id()).unwrap().try_into().unwrap();
        assert_eq!(again.lookup(id), Some(first.active().verifying_key()));
    }

    #[test]
    fn rotation_keeps_the_old_key_and_removal_drops_it() {
        let dir = tempfile::tempdir().unwrap();
        let (first, _) = KeyRing::load_or_create(dir.path()).unwrap();
        let (old, new) = KeyRing::rotate(dir.path(), &[PermitKind::BorderTrade]).unwrap();
        assert_eq!(old, first.active_id());
        let (ring, _) = KeyRing::load_or_create(dir.path()).unwrap();
        assert_eq!(ring.active_id(), new);
        assert!(ring.active_signs(PermitKind::BorderTrade) && !ring.active_signs(PermitKind::BorderTourism));
        assert!(ring.get(&old).is_some(), "the retired key still verifies");
        assert!(KeyRing::remove(dir.path(), &new).is_err(), "not the active key");
        KeyRing::remove(dir.path(), &old).unwrap();
        let (ring, _) = KeyRing::load_or_create(dir.path()).unwrap();
        assert!(ring.get(&old).is_none());
    }
}
