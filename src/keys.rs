//! Permit-signing keys: created on first start, kept in the data directory, public parts served.

use std::path::{Path, PathBuf};

use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::domain::seal::{key_id, key_id_hex};
use crate::error::{Error, Result};

/// The keys this instance signs with and accepts.
#[derive(Clone)]
pub struct KeyRing {
    active: SigningKey,
    active_id: [u8; 4],
    public: Vec<([u8; 4], VerifyingKey)>,
}

fn keys_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("keys")
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
    let mut f = options
        .open(path)
        .map_err(|e| Error::Internal(format!("writing {}: {e}", path.display())))?;
    f.write_all(contents.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::Internal(format!("writing {}: {e}", path.display())))
}

impl KeyRing {
    /// Loads the keys in `DATA_DIR/keys`, creating the first one if there is none.
    /// Returns the ring and whether a key was created.
    pub fn load_or_create(data_dir: &Path) -> Result<(KeyRing, bool)> {
        let dir = keys_dir(data_dir);
        std::fs::create_dir_all(&dir).map_err(|e| Error::Internal(format!("creating {}: {e}", dir.display())))?;
        let active_file = dir.join("active");
        let created = if active_file.exists() {
            false
        } else {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| Error::Internal(format!("random: {e}")))?;
            let key = SigningKey::from_bytes(&seed);
            let kid = key_id_hex(key_id(&key.verifying_key()));
            write_secret(&dir.join(format!("{kid}.ed25519")), &hex::encode(seed))?;
            std::fs::write(&active_file, &kid)
                .map_err(|e| Error::Internal(format!("writing {}: {e}", active_file.display())))?;
            true
        };
        Ok((Self::load(&dir)?, created))
    }

    fn load(dir: &Path) -> Result<KeyRing> {
        let read = |p: PathBuf| {
            std::fs::read_to_string(&p).map_err(|e| Error::Internal(format!("reading {}: {e}", p.display())))
        };
        let active_kid = read(dir.join("active"))?.trim().to_string();
        let mut active = None;
        let mut public = Vec::new();
        let entries = std::fs::read_dir(dir).map_err(|e| Error::Internal(format!("reading {}: {e}", dir.display())))?;
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
            if key_id_hex(id) == active_kid {
                active = Some(key.clone());
            }
            public.push((id, key.verifying_key()));
        }
        let active =
            active.ok_or_else(|| Error::Internal(format!("active key {active_kid} not found in {}", dir.display())))?;
        public.sort_by_key(|(id, _)| *id);
        Ok(KeyRing {
            active_id: key_id(&active.verifying_key()),
            active,
            public,
        })
    }

    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    pub fn active_id(&self) -> String {
        key_id_hex(self.active_id)
    }

    pub fn lookup(&self, id: [u8; 4]) -> Option<VerifyingKey> {
        self.public.iter().find(|(k, _)| *k == id).map(|(_, v)| *v)
    }

    pub fn public_keys(&self) -> impl Iterator<Item = (String, &VerifyingKey)> {
        self.public.iter().map(|(id, k)| (key_id_hex(*id), k))
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
}
