//! Backups that restore: a consistent copy of the database taken while the service runs, and
//! bringing it back into an empty data directory or database, moving serials and trust versions
//! past what the lost stretch may have handed out.
//!
//! A backup is a directory: `manifest.json` (when, what schema, which key-encryption key, the
//! counts and counters at that moment) and the data: `borderdesk.db` (SQLite's `VACUUM INTO`, a
//! snapshot of one read transaction) or `borderdesk.pgdump` (`pg_dump` in custom format, run on a
//! snapshot exported by the transaction that read the manifest, so both describe one moment).
//! The signing keys are in the database, sealed; the key-encryption key is not in the backup
//! unless asked for (`with_kek`), so a stolen backup signs nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Duration, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::{audit_log, crossings, permits, restores, serial_counters, signing_keys, trust_version};
use crate::db::{Backend, Db, DbConnection, audit, new_id, ts, write_tx};
use crate::domain::policy::Policy;
use crate::error::{Error, Result};

const MANIFEST: &str = "manifest.json";
const SQLITE_FILE: &str = "borderdesk.db";
const PG_FILE: &str = "borderdesk.pgdump";
const KEK_FILE: &str = "kek";

/// Trust versions skipped at a restore. Versions are taken per scan batch and per change of a
/// permit: a busy hall takes well under a million a day, so a restore after weeks lost still
/// lands past every version a device can hold.
pub const TRUST_GAP: i64 = 1_000_000_000;

/// What a backup holds, as read in the same snapshot as its data.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    pub taken_at: DateTime<Utc>,
    pub backend: String,
    /// The last migration applied.
    pub schema: String,
    /// The key-encryption key the signing keys are sealed with (its id, not the key).
    pub kek_id: String,
    pub trust_version: i64,
    /// Every serial counter: series → last value given.
    pub serials: std::collections::BTreeMap<String, i64>,
    pub permits: i64,
    pub crossings: i64,
    pub audit_rows: i64,
    /// Whether the key-encryption key is in the backup (`kek`).
    pub with_kek: bool,
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Config(format!("{}: {e}", path.display()))
}

/// Reads the manifest's figures on `c` (inside the caller's snapshot).
fn figures(c: &mut DbConnection, backend: Backend, taken_at: DateTime<Utc>, with_kek: bool) -> Result<Manifest> {
    let schema: String =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version DESC LIMIT 1")
            .get_result::<Version>(c)?
            .version;
    let kek_id = signing_keys::table
        .filter(signing_keys::state.eq("active"))
        .select(signing_keys::kek_id)
        .first::<String>(c)
        .optional()?
        .unwrap_or_default();
    let serials = serial_counters::table
        .select((serial_counters::series, serial_counters::last_value))
        .load::<(String, i64)>(c)?
        .into_iter()
        .collect();
    Ok(Manifest {
        format: 1,
        taken_at,
        backend: match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
        .into(),
        schema,
        kek_id,
        trust_version: trust_version::table.select(trust_version::version).first(c)?,
        serials,
        permits: permits::table.count().get_result(c)?,
        crossings: crossings::table.count().get_result(c)?,
        audit_rows: audit_log::table.count().get_result(c)?,
        with_kek,
    })
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

/// A PostgreSQL client program (`pg_dump`, `pg_restore`): `BORDERDESK_PG_BIN`, else on the PATH,
/// else the newest of Debian's `/usr/lib/postgresql/*/bin`.
fn pg_tool(name: &str) -> Result<PathBuf> {
    if let Ok(dir) = std::env::var("BORDERDESK_PG_BIN") {
        return Ok(Path::new(&dir).join(name));
    }
    if let Some(path) = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
    {
        return Ok(path);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin").join(name))
        .filter(|p| p.is_file())
        .collect();
    found.sort_by_key(|p| {
        p.components()
            .nth(4)
            .and_then(|c| c.as_os_str().to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop().ok_or_else(|| {
        Error::Config(format!(
            "{name} not found: install the PostgreSQL client (apt-get install postgresql-client) or set BORDERDESK_PG_BIN"
        ))
    })
}

fn run_tool(mut cmd: Command, what: &str) -> Result<()> {
    let out = cmd.output().map_err(|e| Error::Config(format!("{what}: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Copies the database behind `db` into the new directory `dest` while the service runs.
/// `kek`: the key-encryption key to put beside it (only when asked: whoever holds both can sign).
pub fn backup(db: &Db, dest: &Path, now: DateTime<Utc>, kek: Option<&str>) -> Result<Manifest> {
    if dest.exists() && std::fs::read_dir(dest).map_err(|e| io(dest, e))?.next().is_some() {
        return Err(Error::Config(format!(
            "{}: a backup goes into a new, empty directory",
            dest.display()
        )));
    }
    std::fs::create_dir_all(dest).map_err(|e| io(dest, e))?;
    // Personal data: the copy is for the service's user alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o700)).map_err(|e| io(dest, e))?;
    }
    let mut c = db.dedicated()?;
    let manifest = match db.backend() {
        Backend::Sqlite => {
            let file = dest.join(SQLITE_FILE);
            let path = file
                .to_str()
                .ok_or_else(|| Error::Config(format!("{}: not a UTF-8 path", file.display())))?;
            // VACUUM INTO writes one read transaction's view of the whole database: consistent
            // while the writers go on (WAL), and compact.
            diesel::sql_query("VACUUM INTO ?")
                .bind::<diesel::sql_types::Text, _>(path)
                .execute(&mut c)?;
            // The figures from the copy itself, so they describe exactly what it holds.
            let mut copy = DbConnection::Sqlite(
                diesel::SqliteConnection::establish(path).map_err(|e| Error::Internal(format!("{path}: {e}")))?,
            );
            figures(&mut copy, Backend::Sqlite, now, kek.is_some())?
        }
        Backend::Postgres => {
            c.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
            let out = (|| -> Result<Manifest> {
                let snapshot: String =
                    diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>("pg_export_snapshot()"))
                        .get_result(&mut c)?;
                let manifest = figures(&mut c, Backend::Postgres, now, kek.is_some())?;
                let mut cmd = Command::new(pg_tool("pg_dump")?);
                cmd.arg("--format=custom")
                    .arg("--no-owner")
                    .arg("--no-privileges")
                    .arg(format!("--snapshot={snapshot}"))
                    .arg("--file")
                    .arg(dest.join(PG_FILE))
                    .arg("--dbname")
                    .arg(db.location());
                run_tool(cmd, "pg_dump")?;
                Ok(manifest)
            })();
            c.batch_execute("COMMIT")?;
            out?
        }
    };
    if let Some(kek) = kek {
        crate::keys::write_secret(&dest.join(KEK_FILE), kek)?;
    }
    let text = serde_json::to_string_pretty(&manifest).map_err(Error::internal)?;
    // The manifest last: a directory without one is an interrupted backup, refused by restore.
    std::fs::write(dest.join(MANIFEST), text).map_err(|e| io(dest, e))?;
    Ok(manifest)
}

/// Reads a backup's manifest.
pub fn manifest(src: &Path) -> Result<Manifest> {
    let path = src.join(MANIFEST);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::Config(format!("{}: not a finished backup ({e})", src.display())))?;
    serde_json::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    /// Trust versions no device will be given a delta from.
    pub trust_gap: (i64, i64),
    pub serial_gap: i64,
    /// Whether the backup's key-encryption key was put in the data directory.
    pub kek_restored: bool,
}

/// Brings the backup in `src` back into the database `url` (a SQLite file that does not exist
/// yet, or an empty PostgreSQL database), then moves every serial counter `serial_gap` on and the
/// trust version [`TRUST_GAP`] on. Stop every instance first; start them after.
pub fn restore(
    src: &Path,
    url: &str,
    data_dir: &Path,
    policy: &Policy,
    now: DateTime<Utc>,
    serial_gap: i64,
) -> Result<Restored> {
    let manifest = manifest(src)?;
    if serial_gap < 0 {
        return Err(Error::Config("--serial-gap: a whole number ≥ 0".into()));
    }
    let target = crate::db::Target::parse(url)?;
    let wanted = match target.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    if manifest.backend != wanted {
        return Err(Error::Config(format!(
            "this backup is of a {} database and the target is {wanted}: restore it where it came from",
            manifest.backend
        )));
    }
    match target.backend {
        Backend::Sqlite => {
            let file = Path::new(&target.location);
            for f in [file.to_path_buf(), PathBuf::from(format!("{}-wal", target.location))] {
                if f.exists() {
                    return Err(Error::Config(format!(
                        "{} exists: restore into an empty data directory (move the old one aside first)",
                        f.display()
                    )));
                }
            }
            if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
            }
            let tmp = PathBuf::from(format!("{}.restoring", target.location));
            std::fs::copy(src.join(SQLITE_FILE), &tmp).map_err(|e| io(&tmp, e))?;
            std::fs::File::open(&tmp)
                .and_then(|f| f.sync_all())
                .map_err(|e| io(&tmp, e))?;
            std::fs::rename(&tmp, file).map_err(|e| io(file, e))?;
        }
        Backend::Postgres => {
            let db = Db::connect(url, 1)?;
            let tables: i64 = db.run_blocking(|c| {
                Ok(diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                    "(SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public')",
                ))
                .get_result(c)?)
            })?;
            if tables > 0 {
                return Err(Error::Config(
                    "the target database is not empty: restore into a new database (createdb), then point the instances at it".into(),
                ));
            }
            let mut cmd = Command::new(pg_tool("pg_restore")?);
            cmd.arg("--no-owner")
                .arg("--no-privileges")
                .arg("--exit-on-error")
                .arg("--single-transaction")
                .arg("--dbname")
                .arg(url)
                .arg(src.join(PG_FILE));
            run_tool(cmd, "pg_restore")?;
        }
    }
    let kek_restored = if src.join(KEK_FILE).exists() && !data_dir.join(KEK_FILE).exists() {
        std::fs::create_dir_all(data_dir).map_err(|e| io(data_dir, e))?;
        let text = std::fs::read_to_string(src.join(KEK_FILE)).map_err(|e| io(src, e))?;
        crate::keys::write_secret(&data_dir.join(KEK_FILE), text.trim())?;
        true
    } else {
        false
    };
    let db = Db::connect(url, 1)?;
    // A backup from an older binary is brought up to this one's schema (a newer one is refused).
    db.migrate()?;
    let trust_gap = db.run_blocking(|c| after_restore(c, policy, &manifest, now, serial_gap))?;
    Ok(Restored {
        manifest,
        trust_gap,
        serial_gap,
        kek_restored,
    })
}

/// Moves serials and the trust version past the lost stretch, in one transaction with its
/// record and audit row. Returns the trust versions skipped.
fn after_restore(
    c: &mut DbConnection,
    policy: &Policy,
    manifest: &Manifest,
    now: DateTime<Utc>,
    serial_gap: i64,
) -> Result<(i64, i64)> {
    write_tx(c, |c| {
        // Counters that existed at the backup move on by the gap; so do the series the lost
        // stretch may have opened (each office's days, each kind's years, up to now), which
        // start at the gap instead of at 1.
        diesel::update(serial_counters::table)
            .set(serial_counters::last_value.eq(serial_counters::last_value + serial_gap))
            .execute(c)?;
        let mut opened = Vec::new();
        let mut day = manifest.taken_at;
        while day <= now + Duration::days(1) {
            for office in &policy.offices {
                opened.push(crate::domain::permit::application_series(&office.code, day));
                for kind in policy.kinds.values() {
                    opened.push(crate::domain::permit::series(&kind.series_prefix, &office.code, day));
                }
            }
            day += Duration::days(1);
        }
        opened.sort();
        opened.dedup();
        for series in &opened {
            let known = serial_counters::table.find(series).count().get_result::<i64>(c)? > 0;
            if !known {
                diesel::insert_into(serial_counters::table)
                    .values((
                        serial_counters::series.eq(series),
                        serial_counters::last_value.eq(serial_gap),
                    ))
                    .execute(c)?;
            }
        }
        let before: i64 = trust_version::table.select(trust_version::version).first(c)?;
        let after = before + TRUST_GAP;
        diesel::update(trust_version::table)
            .set(trust_version::version.eq(after))
            .execute(c)?;
        let id = new_id();
        diesel::insert_into(restores::table)
            .values((
                restores::id.eq(&id),
                restores::restored_at.eq(ts(now)),
                restores::backup_taken_at.eq(ts(manifest.taken_at)),
                restores::trust_from.eq(before + 1),
                restores::trust_to.eq(after),
                restores::serial_gap.eq(serial_gap),
            ))
            .execute(c)?;
        audit::entry(now, None, "database.restore", "restore", &id)
            .after(&serde_json::json!({
                "backup_taken_at": manifest.taken_at,
                "schema": manifest.schema,
                "trust_skipped": [before + 1, after],
                "serial_gap": serial_gap,
            }))
            .write(c)?;
        Ok((before + 1, after))
    })
}

/// Whether `version` is a trust version this database never issued (one skipped at a restore):
/// a device holding it gets a full bundle.
pub fn skipped_version(c: &mut DbConnection, version: i64) -> Result<bool> {
    Ok(restores::table
        .filter(restores::trust_from.le(version).and(restores::trust_to.ge(version)))
        .count()
        .get_result::<i64>(c)?
        > 0)
}
