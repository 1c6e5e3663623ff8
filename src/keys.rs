//! Permit-signing keys and the service's other secrets: kept in the database, so every instance
//! on one database signs and verifies with the same ring; private parts sealed under a
//! key-encryption key (KEK) each instance is given, so the database or a backup alone signs
//! nothing.
//!
//! Each instance holds the ring in memory ([`Keys`]) and reloads it when the database's
//! `key_ring_version` has moved (triggers move it with every change to `signing_keys`): a
//! rotation or a removal on one instance holds on the others at their next use of the ring, with
//! no restart. Rotation adds a key and makes it active; the old one stays to verify the permits it
//! signed. Removing a key (a compromise) forgets its secret, and every permit it signed fails
//! verification. Keys that older versions kept as files in `DATA_DIR/keys` are imported once.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use ed25519_dalek::{SigningKey, VerifyingKey};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::schema::{key_ring_version, service_secrets, signing_keys};
use crate::db::{DbConnection, audit, ts, utc, write_tx};
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

/// What a key may do: the kinds it signs and its validity.
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

/// The keys this instance signs with and accepts, as the database had them when last read.
#[derive(Clone)]
pub struct KeyRing {
    active: SigningKey,
    active_id: [u8; 4],
    keys: Vec<RingKey>,
}

impl KeyRing {
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

/// The key-encryption key: 32 bytes that seal the private parts stored in the database. During
/// a change of KEK it also holds the previous one, which only opens (see [`rekey`]).
pub struct Kek {
    bytes: [u8; 32],
    id: String,
    previous: Option<Box<Kek>>,
}

/// Where this instance's KEK came from, for the start-up log.
#[derive(Debug, Clone, PartialEq)]
pub enum KekSource {
    /// `BORDERDESK_KEK`.
    Setting,
    /// `BORDERDESK_KEK_FILE`.
    File(PathBuf),
    /// `DATA_DIR/kek`, created on first start: enough for one instance on its own SQLite file.
    DataDir(PathBuf),
}

impl Kek {
    /// A KEK from 64 hex characters.
    pub fn from_hex(text: &str, what: &str) -> Result<Kek> {
        let bytes: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                Error::Config(format!(
                    "{what}: the key-encryption key must be 32 bytes written as 64 hex characters \
                     (e.g. `head -c32 /dev/urandom | xxd -p -c64`)"
                ))
            })?;
        // A fingerprint to name the KEK in messages and in each sealed row; not the key.
        let digest = Sha256::new_with_prefix(b"borderdesk kek id\0")
            .chain_update(bytes)
            .finalize();
        Ok(Kek {
            bytes,
            id: hex::encode(&digest[..4]),
            previous: None,
        })
    }

    /// This KEK, also opening what `previous` sealed (`BORDERDESK_KEK_PREVIOUS_FILE`): every
    /// instance can read the rows while [`rekey`] seals them again.
    pub fn with_previous(mut self, previous: Kek) -> Kek {
        self.previous = Some(Box::new(previous));
        self
    }

    /// The previous KEK's id, during a change.
    pub fn previous_id(&self) -> Option<&str> {
        self.previous.as_deref().map(|p| p.id.as_str())
    }

    /// This KEK and, during a change, the previous one read from its file
    /// (`BORDERDESK_KEK_PREVIOUS_FILE`).
    pub fn with_previous_file(self, previous: Option<&Path>) -> Result<Kek> {
        let Some(path) = previous else {
            return Ok(self);
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!(
                "BORDERDESK_KEK_PREVIOUS_FILE: cannot read {}: {e}",
                path.display()
            ))
        })?;
        let previous = Kek::from_hex(&text, &format!("BORDERDESK_KEK_PREVIOUS_FILE {}", path.display()))?;
        Ok(self.with_previous(previous))
    }

    /// The KEK the settings give: `kek` (the value), `kek_file` (a path), or else the data
    /// directory's `kek`, created with a random key on first use.
    pub fn from_settings(kek: Option<&str>, kek_file: Option<&Path>, data_dir: &Path) -> Result<(Kek, KekSource)> {
        if let Some(text) = kek.map(str::trim).filter(|t| !t.is_empty()) {
            return Ok((Kek::from_hex(text, "BORDERDESK_KEK")?, KekSource::Setting));
        }
        if let Some(path) = kek_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Config(format!("BORDERDESK_KEK_FILE: cannot read {}: {e}", path.display())))?;
            let what = format!("BORDERDESK_KEK_FILE {}", path.display());
            return Ok((Kek::from_hex(&text, &what)?, KekSource::File(path.to_path_buf())));
        }
        let path = data_dir.join("kek");
        if !path.exists() {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("random: {e}")))?;
            match write_secret(&path, &hex::encode(bytes)) {
                Ok(()) => {}
                // Another process created it first: use theirs.
                Err(_) if path.exists() => {}
                Err(e) => return Err(e),
            }
        }
        let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        let what = path.display().to_string();
        Ok((Kek::from_hex(&text, &what)?, KekSource::DataDir(path)))
    }

    /// The key itself in hex, for `backup --with-kek` only.
    pub fn hex(&self) -> String {
        hex::encode(self.bytes)
    }

    /// Its fingerprint, as `keys list` and the sealed rows name it.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn key(&self) -> Result<LessSafeKey> {
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, &self.bytes).map_err(|_| Error::Internal("kek".into()))?;
        Ok(LessSafeKey::new(unbound))
    }

    /// Seals `secret` for the row named `name` (bound to it: a sealed value moved to another
    /// row does not open).
    fn seal(&self, name: &str, secret: &[u8]) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| Error::Internal(format!("random: {e}")))?;
        let mut data = secret.to_vec();
        self.key()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(name.as_bytes()),
                &mut data,
            )
            .map_err(|_| Error::Internal("sealing a secret failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(base64::engine::general_purpose::STANDARD.encode(out))
    }

    /// Opens what [`Kek::seal`] sealed for `name`; `sealed_by` is the KEK id stored beside it.
    fn open(&self, name: &str, sealed: &str, sealed_by: &str) -> Result<Vec<u8>> {
        if let Some(previous) = self.previous.as_deref()
            && sealed_by == previous.id
        {
            return previous.open(name, sealed, sealed_by);
        }
        if sealed_by != self.id {
            return Err(Error::Config(format!(
                "{name} is sealed with key-encryption key {sealed_by}, but this instance has {}: \
                 give every instance of the deployment the same BORDERDESK_KEK_FILE (or BORDERDESK_KEK)",
                self.id
            )));
        }
        let raw = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| Error::Internal(format!("{name}: the sealed secret is not base64")))?;
        if raw.len() < NONCE_LEN {
            return Err(Error::Internal(format!("{name}: the sealed secret is cut short")));
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Error::Internal("nonce".into()))?;
        let mut data = rest.to_vec();
        let plain = self
            .key()?
            .open_in_place(nonce, Aad::from(name.as_bytes()), &mut data)
            .map_err(|_| {
                Error::Internal(format!(
                    "{name}: the sealed secret does not open (altered, or another KEK)"
                ))
            })?;
        Ok(plain.to_vec())
    }
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Internal(format!("{}: {e}", path.display()))
}

/// Writes a new file readable by this user only (a key, a backup's KEK), synced to disk.
pub(crate) fn write_secret(path: &Path, contents: &str) -> Result<()> {
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

#[derive(Queryable, Selectable)]
#[diesel(table_name = signing_keys)]
struct KeyRow {
    kid: String,
    public_key: String,
    sealed_secret: String,
    kek_id: String,
    kinds: String,
    not_before: chrono::NaiveDateTime,
    not_after: chrono::NaiveDateTime,
    state: String,
}

const ACTIVE: &str = "active";
const RETIRED: &str = "retired";
const REMOVED: &str = "removed";

fn kinds_text(kinds: &[PermitKind]) -> String {
    let kinds = if kinds.is_empty() { &PermitKind::ALL[..] } else { kinds };
    kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(",")
}

fn parse_kinds(text: &str) -> Vec<PermitKind> {
    text.split(',').filter_map(|k| PermitKind::parse(k.trim())).collect()
}

/// A new key to store: its seed, id and what it may do.
struct NewKey {
    seed: [u8; 32],
    meta: KeyMeta,
}

impl NewKey {
    fn random(kinds: &[PermitKind], now: DateTime<Utc>, lifetime_days: u32) -> Result<NewKey> {
        let (not_before, not_after) = validity(now, lifetime_days)?;
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| Error::Internal(format!("random: {e}")))?;
        Ok(NewKey {
            seed,
            meta: KeyMeta {
                kinds: if kinds.is_empty() {
                    PermitKind::ALL.to_vec()
                } else {
                    kinds.to_vec()
                },
                not_before,
                not_after,
            },
        })
    }

    fn kid(&self) -> String {
        key_id_hex(key_id(&SigningKey::from_bytes(&self.seed).verifying_key()))
    }

    fn insert(&self, c: &mut DbConnection, kek: &Kek, state: &str, now: DateTime<Utc>) -> Result<String> {
        let key = SigningKey::from_bytes(&self.seed);
        let kid = self.kid();
        diesel::insert_into(signing_keys::table)
            .values((
                signing_keys::kid.eq(&kid),
                signing_keys::public_key.eq(hex::encode(key.verifying_key().as_bytes())),
                // Only the active key's secret is kept: a retired key only verifies.
                signing_keys::sealed_secret.eq(if state == ACTIVE {
                    kek.seal(&kid, &self.seed)?
                } else {
                    String::new()
                }),
                signing_keys::kek_id.eq(kek.id()),
                signing_keys::kinds.eq(kinds_text(&self.meta.kinds)),
                signing_keys::not_before.eq(ts(self.meta.not_before)),
                signing_keys::not_after.eq(ts(self.meta.not_after)),
                signing_keys::state.eq(state),
                signing_keys::created_at.eq(ts(now)),
                signing_keys::removed_at.eq((state == REMOVED).then(|| ts(now))),
            ))
            .execute(c)?;
        Ok(kid)
    }
}

/// What opening the ring did on this start.
#[derive(Debug, Default)]
pub struct Opened {
    /// The key created because the database had none.
    pub created: Option<String>,
    /// Keys read from `DATA_DIR/keys` into the database (that directory is then renamed
    /// `keys.imported`).
    pub imported: Vec<String>,
}

/// The ring as this instance holds it, with the version it was read at.
struct Held {
    version: i64,
    ring: Arc<KeyRing>,
}

/// The instance's handle on the shared ring.
pub struct Keys {
    kek: Kek,
    held: RwLock<Arc<Held>>,
}

impl Keys {
    /// Opens the ring on the database: imports the key files of older versions once and creates
    /// the first key when there is none, then loads it.
    pub fn open(
        c: &mut DbConnection,
        kek: Kek,
        data_dir: &Path,
        now: DateTime<Utc>,
        lifetime_days: u32,
    ) -> Result<(Keys, Opened)> {
        let opened = match ensure(c, &kek, data_dir, now, lifetime_days) {
            // Two instances started on an empty database at once: the other's key won.
            Err(e) if e.is_unique_violation() => ensure(c, &kek, data_dir, now, lifetime_days)?,
            other => other?,
        };
        let (version, ring) = load(c, &kek)?;
        Ok((
            Keys {
                kek,
                held: RwLock::new(Arc::new(Held {
                    version,
                    ring: Arc::new(ring),
                })),
            },
            opened,
        ))
    }

    /// The ring as the database has it now: one read of its version, and a reload if it moved.
    /// Called inside the use case's transaction, so what it signs or accepts is what that
    /// transaction sees.
    pub fn ring(&self, c: &mut DbConnection) -> Result<Arc<KeyRing>> {
        let version: i64 = crate::native!(c, c => key_ring_version::table.select(key_ring_version::version).first(c))?;
        self.ring_at(c, version)
    }

    /// The same for a caller that has read the ring's version in its transaction already (the
    /// scan writer, with its trust version): no query unless the ring moved.
    pub fn ring_at(&self, c: &mut DbConnection, version: i64) -> Result<Arc<KeyRing>> {
        let held = self.held();
        if version == held.version {
            return Ok(held.ring.clone());
        }
        let (version, ring) = load(c, &self.kek)?;
        let ring = Arc::new(ring);
        if let Ok(mut h) = self.held.write()
            && version > h.version
        {
            *h = Arc::new(Held {
                version,
                ring: ring.clone(),
            });
        }
        Ok(ring)
    }

    /// The ring as last read, without a query: for reading a scanned code before its batch
    /// (the batch takes the current ring and checks the permit's key again).
    pub fn cached(&self) -> Arc<KeyRing> {
        self.held().ring.clone()
    }

    pub fn kek(&self) -> &Kek {
        &self.kek
    }

    fn held(&self) -> Arc<Held> {
        match self.held.read() {
            Ok(h) => h.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// The ring's version and its keys (removed ones left out); only the active key's secret is
/// opened.
fn load(c: &mut DbConnection, kek: &Kek) -> Result<(i64, KeyRing)> {
    // The version first: rows read after it are at least as new, so a change in between only
    // makes the next use reload again.
    let version: i64 = crate::native!(c, c => key_ring_version::table.select(key_ring_version::version).first(c))?;
    let rows: Vec<KeyRow> = signing_keys::table
        .filter(signing_keys::state.ne(REMOVED))
        .select(KeyRow::as_select())
        .load(c)?;
    let mut active = None;
    let mut keys = Vec::with_capacity(rows.len());
    for row in rows {
        let public: [u8; 32] = hex::decode(&row.public_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| Error::Internal(format!("key {}: the public key is not 32 bytes of hex", row.kid)))?;
        let public = VerifyingKey::from_bytes(&public)
            .map_err(|_| Error::Internal(format!("key {}: not an Ed25519 public key", row.kid)))?;
        let id = key_id(&public);
        if key_id_hex(id) != row.kid {
            return Err(Error::Internal(format!(
                "key {}: its id does not match its public key",
                row.kid
            )));
        }
        if row.state == ACTIVE {
            let seed: [u8; 32] = kek
                .open(&row.kid, &row.sealed_secret, &row.kek_id)?
                .try_into()
                .map_err(|_| Error::Internal(format!("key {}: the secret is not 32 bytes", row.kid)))?;
            let key = SigningKey::from_bytes(&seed);
            if key.verifying_key() != public {
                return Err(Error::Internal(format!(
                    "key {}: the secret does not match the public key",
                    row.kid
                )));
            }
            active = Some(key);
        }
        keys.push(RingKey {
            id,
            public,
            kinds: parse_kinds(&row.kinds),
            not_before: utc(row.not_before),
            not_after: utc(row.not_after),
        });
    }
    let active = active.ok_or_else(|| Error::Internal("the database has no active signing key".into()))?;
    keys.sort_by_key(|k| k.id);
    Ok((
        version,
        KeyRing {
            active_id: key_id(&active.verifying_key()),
            active,
            keys,
        },
    ))
}

/// Imports `DATA_DIR/keys` (each key not yet in the database; the active one only when the
/// database has none) and creates a key when the database still has none.
fn ensure(c: &mut DbConnection, kek: &Kek, data_dir: &Path, now: DateTime<Utc>, lifetime_days: u32) -> Result<Opened> {
    let files = legacy::read(&data_dir.join("keys"), lifetime_days)?;
    let opened = write_tx(c, |c| {
        let mut opened = Opened::default();
        let mut has_active = signing_keys::table
            .filter(signing_keys::state.eq(ACTIVE))
            .count()
            .get_result::<i64>(c)?
            > 0;
        for file in &files {
            let kid = file.key.kid();
            let known = signing_keys::table.find(&kid).count().get_result::<i64>(c)? > 0;
            if known {
                continue;
            }
            let state = if file.removed {
                REMOVED
            } else if file.active && !has_active {
                ACTIVE
            } else {
                RETIRED
            };
            file.key.insert(c, kek, state, now)?;
            has_active |= state == ACTIVE;
            audit::entry(now, None, "key.import", "signing_key", &kid)
                .after(&serde_json::json!({"state": state, "kek": kek.id()}))
                .write(c)?;
            opened.imported.push(kid);
        }
        if !has_active {
            let key = NewKey::random(&[], now, lifetime_days)?;
            let kid = key.insert(c, kek, ACTIVE, now)?;
            audit::entry(now, None, "key.create", "signing_key", &kid)
                .after(&serde_json::json!({"kek": kek.id()}))
                .write(c)?;
            opened.created = Some(kid);
        }
        Ok(opened)
    })?;
    if !files.is_empty() {
        // The files are no longer what the service reads: moved aside, not deleted, so an
        // operator can still downgrade (see the migration's down.sql) or delete them once a
        // backup holds the keys.
        let from = data_dir.join("keys");
        let to = data_dir.join("keys.imported");
        if !to.exists() {
            std::fs::rename(&from, &to).map_err(|e| io(&from, e))?;
        }
    }
    Ok(opened)
}

/// Adds a key (for `kinds`, or every kind, valid `lifetime_days` from now) and signs new permits
/// with it from now on, on every instance; the old key stays to verify what it signed. Returns
/// the old and the new key ids.
pub fn rotate(
    c: &mut DbConnection,
    kek: &Kek,
    kinds: &[PermitKind],
    now: DateTime<Utc>,
    lifetime_days: u32,
) -> Result<(String, String)> {
    let key = NewKey::random(kinds, now, lifetime_days)?;
    write_tx(c, |c| {
        let old: String = signing_keys::table
            .filter(signing_keys::state.eq(ACTIVE))
            .select(signing_keys::kid)
            .first(c)
            .optional()?
            .ok_or_else(|| Error::Config("no active key to rotate from: start the service once".into()))?;
        // The retired key only verifies from now on: its secret is forgotten.
        diesel::update(signing_keys::table.find(&old))
            .set((signing_keys::state.eq(RETIRED), signing_keys::sealed_secret.eq("")))
            .execute(c)?;
        let new = key.insert(c, kek, ACTIVE, now)?;
        audit::entry(now, None, "key.rotate", "signing_key", &new)
            .after(&serde_json::json!({"retired": old, "kinds": kinds_text(&key.meta.kinds), "kek": kek.id()}))
            .write(c)?;
        Ok((old, new))
    })
}

/// Takes a key out of the ring (e.g. compromised), on every instance: every permit it signed
/// stops verifying. Its secret is forgotten.
pub fn remove(c: &mut DbConnection, kid: &str, now: DateTime<Utc>) -> Result<()> {
    if !crate::domain::validation::plausible_key(kid) {
        return Err(Error::Config(format!("no key {kid:?}")));
    }
    write_tx(c, |c| {
        let state: Option<String> = signing_keys::table
            .find(kid)
            .select(signing_keys::state)
            .first(c)
            .optional()?;
        match state.as_deref() {
            None | Some(REMOVED) => return Err(Error::Config(format!("no key {kid:?} in the ring"))),
            Some(ACTIVE) => return Err(Error::Config("the active key cannot be removed: rotate first".into())),
            Some(_) => {}
        }
        diesel::update(signing_keys::table.find(kid))
            .set((
                signing_keys::state.eq(REMOVED),
                signing_keys::sealed_secret.eq(""),
                signing_keys::removed_at.eq(Some(ts(now))),
            ))
            .execute(c)?;
        audit::entry(now, None, "key.remove", "signing_key", kid).write(c)?;
        Ok(())
    })
}

/// Seals every stored secret (signing keys, service secrets) again under `kek`, in one
/// transaction, after every instance was given the new KEK with the old one as previous; then
/// the old one can be destroyed. Returns how many secrets were sealed again.
pub fn rekey(c: &mut DbConnection, kek: &Kek, now: DateTime<Utc>) -> Result<usize> {
    write_tx(c, |c| {
        let keys: Vec<(String, String, String)> = signing_keys::table
            .filter(
                signing_keys::kek_id
                    .ne(kek.id())
                    .and(signing_keys::sealed_secret.ne("")),
            )
            .select((signing_keys::kid, signing_keys::sealed_secret, signing_keys::kek_id))
            .load(c)?;
        let secrets: Vec<(String, String, String)> = service_secrets::table
            .filter(service_secrets::kek_id.ne(kek.id()))
            .select((service_secrets::name, service_secrets::sealed, service_secrets::kek_id))
            .load(c)?;
        for (kid, sealed, by) in &keys {
            let plain = kek.open(kid, sealed, by)?;
            diesel::update(signing_keys::table.find(kid))
                .set((
                    signing_keys::sealed_secret.eq(kek.seal(kid, &plain)?),
                    signing_keys::kek_id.eq(kek.id()),
                ))
                .execute(c)?;
        }
        for (name, sealed, by) in &secrets {
            let plain = kek.open(name, sealed, by)?;
            diesel::update(service_secrets::table.find(name))
                .set((
                    service_secrets::sealed.eq(kek.seal(name, &plain)?),
                    service_secrets::kek_id.eq(kek.id()),
                ))
                .execute(c)?;
        }
        // Removed keys keep no secret; their rows name the new KEK too, so nothing names the old.
        diesel::update(signing_keys::table.filter(signing_keys::kek_id.ne(kek.id())))
            .set(signing_keys::kek_id.eq(kek.id()))
            .execute(c)?;
        let n = keys.len() + secrets.len();
        audit::entry(now, None, "kek.rekey", "key_encryption_key", kek.id())
            .after(&serde_json::json!({"sealed_again": n, "previous": kek.previous_id()}))
            .write(c)?;
        Ok(n)
    })
}

/// Every key of the database, removed ones included, oldest first.
pub fn list(c: &mut DbConnection) -> Result<Vec<KeyListing>> {
    let rows: Vec<KeyRow> = signing_keys::table
        .order((signing_keys::not_before, signing_keys::kid))
        .select(KeyRow::as_select())
        .load(c)?;
    Ok(rows
        .into_iter()
        .map(|r| KeyListing {
            active: r.state == ACTIVE,
            removed: r.state == REMOVED,
            meta: KeyMeta {
                kinds: parse_kinds(&r.kinds),
                not_before: utc(r.not_before),
                not_after: utc(r.not_after),
            },
            kid: r.kid,
        })
        .collect())
}

/// The service secret `name` (at least 32 bytes), sealed in the database and shared by every
/// instance: read, or imported from `import` (the file older versions kept), or made at random.
pub fn secret(c: &mut DbConnection, kek: &Kek, name: &str, import: &Path, now: DateTime<Utc>) -> Result<Vec<u8>> {
    let read = |c: &mut DbConnection| -> Result<Option<(String, String)>> {
        Ok(service_secrets::table
            .find(name)
            .select((service_secrets::sealed, service_secrets::kek_id))
            .first(c)
            .optional()?)
    };
    if let Some((sealed, by)) = read(c)? {
        return kek.open(name, &sealed, &by);
    }
    let bytes = match std::fs::read_to_string(import) {
        Ok(text) => hex::decode(text.trim())
            .ok()
            .filter(|b| b.len() >= 32)
            .ok_or_else(|| Error::Config(format!("{}: not 32 bytes or more of hex", import.display())))?,
        Err(_) => {
            let mut b = vec![0u8; 32];
            getrandom::fill(&mut b).map_err(|e| Error::Internal(format!("random: {e}")))?;
            b
        }
    };
    let sealed = kek.seal(name, &bytes)?;
    let inserted = write_tx(c, |c| {
        let n = diesel::insert_into(service_secrets::table)
            .values((
                service_secrets::name.eq(name),
                service_secrets::sealed.eq(&sealed),
                service_secrets::kek_id.eq(kek.id()),
                service_secrets::created_at.eq(ts(now)),
            ))
            .execute(c)?;
        audit::entry(now, None, "secret.create", "service_secret", name).write(c)?;
        Ok(n)
    });
    match inserted {
        Ok(_) => Ok(bytes),
        // Another instance stored it first: everyone uses that one.
        Err(e) if e.is_unique_violation() => {
            let (sealed, by) = read(c)?.ok_or_else(|| Error::Internal(format!("secret {name} vanished")))?;
            kek.open(name, &sealed, &by)
        }
        Err(e) => Err(e),
    }
}

/// The key files of versions that kept keys in `DATA_DIR/keys`: `<kid>.ed25519` (hex seed),
/// `<kid>.json` (kinds and validity; older still: `<kid>.kinds` or nothing, described from the
/// file's age), `active`, and `removed/`. Read only to import them.
mod legacy {
    use super::*;

    pub(super) struct FileKey {
        pub key: NewKey,
        pub active: bool,
        pub removed: bool,
    }

    pub(super) fn read(dir: &Path, lifetime_days: u32) -> Result<Vec<FileKey>> {
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let active = std::fs::read_to_string(dir.join("active"))
            .map(|t| t.trim().to_string())
            .unwrap_or_default();
        let mut out = Vec::new();
        for (folder, removed) in [(dir.to_path_buf(), false), (dir.join("removed"), true)] {
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for path in entries.flatten().map(|e| e.path()) {
                if path.extension().and_then(|e| e.to_str()) != Some("ed25519") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
                let seed: [u8; 32] = hex::decode(text.trim())
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| Error::Internal(format!("{} is not a 32-byte hex key", path.display())))?;
                let meta = meta(&path, lifetime_days)?;
                let key = NewKey { seed, meta };
                let is_active = !removed && key.kid() == active;
                out.push(FileKey {
                    key,
                    active: is_active,
                    removed,
                });
            }
        }
        Ok(out)
    }

    fn meta(key_file: &Path, lifetime_days: u32) -> Result<KeyMeta> {
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
        Ok(KeyMeta {
            kinds,
            not_before,
            not_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use chrono::{NaiveDate, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 2, 0, 0).unwrap()
    }

    fn kek(byte: u8) -> Kek {
        Kek::from_hex(&hex::encode([byte; 32]), "test").unwrap()
    }

    /// A fresh migrated SQLite database in `dir`.
    fn db(dir: &Path) -> DbConnection {
        let db = crate::db::Db::connect(&format!("sqlite:{}", dir.join("k.db").display()), 1).unwrap();
        db.migrate().unwrap();
        db.dedicated().unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_kek_and_for_its_row() {
        let k = kek(1);
        let sealed = k.seal("abcd1234", b"0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(
            k.open("abcd1234", &sealed, k.id()).unwrap(),
            b"0123456789abcdef0123456789abcdef"
        );
        assert!(k.open("ffff0000", &sealed, k.id()).is_err(), "bound to its row");
        let other = kek(2);
        let e = other.open("abcd1234", &sealed, k.id()).unwrap_err().to_string();
        assert!(
            e.contains(k.id()) && e.contains(other.id()) && e.contains("BORDERDESK_KEK_FILE"),
            "{e}"
        );
        // Another KEK that claims the row's id still cannot open it.
        assert!(
            Kek {
                id: k.id.clone(),
                ..kek(2)
            }
            .open("abcd1234", &sealed, k.id())
            .is_err()
        );
        assert_ne!(
            k.seal("abcd1234", b"x").unwrap(),
            k.seal("abcd1234", b"x").unwrap(),
            "fresh nonce"
        );
    }

    #[test]
    fn a_kek_is_64_hex_characters_and_the_default_one_is_made_once() {
        assert!(
            Kek::from_hex("abc", "BORDERDESK_KEK")
                .err()
                .unwrap()
                .to_string()
                .contains("BORDERDESK_KEK")
        );
        let dir = tempfile::tempdir().unwrap();
        let (a, source) = Kek::from_settings(None, None, dir.path()).unwrap();
        assert_eq!(source, KekSource::DataDir(dir.path().join("kek")));
        let (b, _) = Kek::from_settings(None, None, dir.path()).unwrap();
        assert_eq!(a.id(), b.id());
        let (c, source) = Kek::from_settings(Some(&hex::encode([7u8; 32])), None, dir.path()).unwrap();
        assert_eq!((source, c.id()), (KekSource::Setting, kek(7).id()));
        let missing = dir.path().join("nope");
        assert!(Kek::from_settings(None, Some(&missing), dir.path()).is_err());
    }

    #[test]
    fn created_once_then_reloaded_and_a_rotation_is_seen_by_another_handle() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = db(dir.path());
        let (first, opened) = Keys::open(&mut c, kek(1), dir.path(), now(), 1826).unwrap();
        let kid = opened.created.expect("created");
        let (second, opened) = Keys::open(&mut c, kek(1), dir.path(), now(), 1826).unwrap();
        assert!(opened.created.is_none() && opened.imported.is_empty());
        assert_eq!(second.ring(&mut c).unwrap().active_id(), kid);

        let (old, new) = rotate(&mut c, first.kek(), &[PermitKind::BorderTrade], now(), 1826).unwrap();
        assert_eq!(old, kid);
        assert_eq!(second.cached().active_id(), kid, "not read yet");
        let ring = second.ring(&mut c).unwrap();
        assert_eq!(
            ring.active_id(),
            new,
            "the other handle sees the rotation at its next use"
        );
        assert!(ring.active_signs(PermitKind::BorderTrade) && !ring.active_signs(PermitKind::BorderTourism));
        assert!(ring.get(&old).is_some(), "the retired key still verifies");
        assert!(remove(&mut c, &new, now()).is_err(), "not the active key");
        remove(&mut c, &old, now()).unwrap();
        assert!(first.ring(&mut c).unwrap().get(&old).is_none());
        let listed = list(&mut c).unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().any(|k| k.kid == old && k.removed && !k.active));
        assert!(remove(&mut c, &old, now()).is_err(), "removed once");
        let audit: i64 = crate::db::schema::audit_log::table
            .filter(crate::db::schema::audit_log::entity.eq("signing_key"))
            .count()
            .get_result(&mut c)
            .unwrap();
        assert_eq!(audit, 3, "create, rotate, remove");
    }

    #[test]
    fn a_new_kek_takes_over_while_the_old_one_still_opens_then_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = db(dir.path());
        let (old, _) = Keys::open(&mut c, kek(1), dir.path(), now(), 1826).unwrap();
        let (_, retired) = rotate(&mut c, old.kek(), &[], now(), 1826).unwrap();
        let code = secret(&mut c, old.kek(), "driver_code", &dir.path().join("none"), now()).unwrap();
        let signing = old.ring(&mut c).unwrap().active().to_bytes();
        // The new KEK alone cannot open what the old one sealed; with the old as previous it can.
        assert!(Keys::open(&mut c, kek(2), dir.path(), now(), 1826).is_err());
        let (both, _) = Keys::open(&mut c, kek(2).with_previous(kek(1)), dir.path(), now(), 1826).unwrap();
        assert_eq!(both.cached().active().to_bytes(), signing);
        assert_eq!(
            rekey(&mut c, both.kek(), now()).unwrap(),
            2,
            "the active key and one secret"
        );
        assert_eq!(
            rekey(&mut c, both.kek(), now()).unwrap(),
            0,
            "nothing left under the old KEK"
        );
        let (new, _) = Keys::open(&mut c, kek(2), dir.path(), now(), 1826).unwrap();
        assert_eq!(
            new.cached().active().to_bytes(),
            signing,
            "the same signing key, sealed anew"
        );
        assert!(new.cached().get(&retired).is_some());
        assert_eq!(
            secret(&mut c, new.kek(), "driver_code", &dir.path().join("none"), now()).unwrap(),
            code
        );
        assert!(
            Keys::open(&mut c, kek(1), dir.path(), now(), 1826).is_err(),
            "the old KEK opens nothing now"
        );
    }

    #[test]
    fn another_kek_cannot_open_the_ring_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = db(dir.path());
        Keys::open(&mut c, kek(1), dir.path(), now(), 1826).unwrap();
        let e = Keys::open(&mut c, kek(2), dir.path(), now(), 1826)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("same BORDERDESK_KEK_FILE"), "{e}");
    }

    #[test]
    fn a_key_has_a_validity_and_covers_permits_inside_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = db(dir.path());
        let (keys, _) = Keys::open(&mut c, kek(1), dir.path(), now(), 30).unwrap();
        let ring = keys.cached();
        let k = ring.active_key().unwrap();
        assert_eq!((k.not_before, k.not_after), (now(), now() + Duration::days(30)));
        // 26 Dec 2026 10:00 China time is the key's last day.
        assert!(k.covers(NaiveDate::from_ymd_opt(2026, 12, 26).unwrap()));
        assert!(!k.covers(NaiveDate::from_ymd_opt(2026, 12, 27).unwrap()));
        assert!(rotate(&mut c, keys.kek(), &[], now(), 0).is_err(), "no zero-day keys");
    }

    #[test]
    fn key_files_of_older_versions_are_imported_once() {
        let dir = tempfile::tempdir().unwrap();
        let files = dir.path().join("keys");
        std::fs::create_dir_all(files.join("removed")).unwrap();
        let write = |folder: &Path, seed: [u8; 32], meta: Option<&str>| {
            let kid = key_id_hex(key_id(&SigningKey::from_bytes(&seed).verifying_key()));
            std::fs::write(folder.join(format!("{kid}.ed25519")), hex::encode(seed)).unwrap();
            if let Some(m) = meta {
                std::fs::write(folder.join(format!("{kid}.kinds")), m).unwrap();
            }
            kid
        };
        let active = write(&files, [3; 32], Some("passport\n"));
        let retired = write(&files, [4; 32], None);
        let removed = write(&files.join("removed"), [5; 32], None);
        std::fs::write(files.join("active"), &active).unwrap();
        let mut c = db(dir.path());
        let (keys, opened) = Keys::open(&mut c, kek(1), dir.path(), now(), 365).unwrap();
        assert!(opened.created.is_none());
        assert_eq!(opened.imported.len(), 3);
        let ring = keys.cached();
        assert_eq!(ring.active_id(), active);
        assert_eq!(ring.active().to_bytes(), [3; 32], "the same secret signs");
        let k = ring.active_key().unwrap();
        assert_eq!(k.kinds, [PermitKind::Passport]);
        assert_eq!(k.not_after - k.not_before, Duration::days(365));
        assert!(ring.get(&retired).is_some() && ring.get(&removed).is_none());
        assert!(
            !files.exists()
                && dir
                    .path()
                    .join("keys.imported")
                    .join(format!("{active}.ed25519"))
                    .exists()
        );
        let (_, opened) = Keys::open(&mut c, kek(1), dir.path(), now(), 365).unwrap();
        assert!(opened.imported.is_empty(), "once");
    }

    #[test]
    fn a_service_secret_is_made_once_or_imported_and_shared() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = db(dir.path());
        let file = dir.path().join("driver-code.key");
        std::fs::write(&file, hex::encode([9u8; 40])).unwrap();
        let a = secret(&mut c, &kek(1), "driver_code", &file, now()).unwrap();
        assert_eq!(a, [9u8; 40], "imported");
        std::fs::remove_file(&file).unwrap();
        assert_eq!(secret(&mut c, &kek(1), "driver_code", &file, now()).unwrap(), a);
        assert!(secret(&mut c, &kek(2), "driver_code", &file, now()).is_err());
        let b = secret(&mut c, &kek(1), "other", &file, now()).unwrap();
        assert_eq!(b.len(), 32);
        assert_ne!(b, a);
    }
}
