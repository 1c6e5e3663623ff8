//! Officers, passwords, login sessions and API tokens.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::models::{ApiTokenRow, OfficerRow, SessionRow};
use crate::db::schema::{api_tokens, officers, sessions};
use crate::db::{DbConnection, audit, new_id, ts, write_tx};
use crate::domain::DomainError;
use crate::domain::auth::{Actor, Role, format_grants};
use crate::domain::permit::PermitKind;
use crate::domain::policy::Policy;
use crate::domain::validation::FieldErrors;
use crate::error::{Error, Result};

pub const MIN_PASSWORD_LEN: usize = 10;

pub fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("hashing password: {e}")))
}

/// Verifying against a fixed hash when the user does not exist keeps the time of a failed login
/// the same either way, so response times do not reveal which usernames exist.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
}

/// A random secret, URL-safe, with a recognisable prefix.
pub fn random_secret(prefix: &str) -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("random: {e}")))?;
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// Secrets are stored only as their SHA-256: they are long random strings, so a fast hash is
/// enough, and a stolen database does not hand out working tokens.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub struct NewOfficer {
    pub username: String,
    pub display_name: Option<String>,
    pub role: String,
    pub grants: Vec<String>,
    pub office: String,
    pub password: String,
}

pub fn add_officer(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    policy: &Policy,
    new: NewOfficer,
) -> Result<OfficerRow> {
    let mut errs = FieldErrors::new();
    let username = new.username.trim().to_lowercase();
    if username.len() < 2
        || username.len() > 32
        || !username.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        errs.add("username", "format", "2–32 letters, digits, '.', '_' or '-'");
    }
    let role = Role::parse(&new.role);
    if role.is_none() {
        errs.add("role", "one_of", "one of officer, supervisor, checkpoint, admin");
    }
    let mut grants = Vec::new();
    for g in &new.grants {
        match PermitKind::parse(g.trim()) {
            Some(k) if !grants.contains(&k) => grants.push(k),
            Some(_) => {}
            None => errs.add(
                "grant",
                "one_of",
                format!("unknown grant {g:?}: one of border_tourism, border_trade, passport"),
            ),
        }
    }
    if policy.office(&new.office).is_none() {
        errs.add("office", "known_office", format!("unknown office {:?}", new.office));
    }
    if new.password.chars().count() < MIN_PASSWORD_LEN {
        errs.add(
            "password",
            "min_length",
            format!("at least {MIN_PASSWORD_LEN} characters"),
        );
    }
    let role = errs.finish(role)?.ok_or_else(|| Error::Internal("role".into()))?;
    let row = OfficerRow {
        id: new_id(),
        display_name: new
            .display_name
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| username.clone()),
        username,
        role: role.as_str().to_string(),
        grants: format_grants(&grants),
        office: new.office,
        password_hash: hash_password(&new.password)?,
        disabled: false,
        created_at: ts(now),
    };
    write_tx(conn, |c| {
        let exists: i64 = officers::table
            .filter(officers::username.eq(&row.username))
            .count()
            .get_result(c)?;
        if exists > 0 {
            let mut errs = FieldErrors::new();
            errs.add("username", "unique", format!("username {:?} is taken", row.username));
            return Err(errs.into());
        }
        diesel::insert_into(officers::table).values(&row).execute(c)?;
        let after =
            serde_json::json!({"username": row.username, "role": row.role, "grants": row.grants, "office": row.office});
        audit::record::<(), _>(
            c,
            audit::Change {
                at: now,
                actor: None,
                action: "officer.add",
                entity: "officer",
                entity_id: &row.id,
                before: None,
                after: Some(&after),
            },
        )?;
        Ok(())
    })?;
    Ok(row)
}

pub fn find_officer(conn: &mut DbConnection, username: &str) -> Result<OfficerRow> {
    officers::table
        .filter(officers::username.eq(username.trim().to_lowercase()))
        .select(OfficerRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::Domain(DomainError::NotFound { what: "officer" }))
}

/// Disabling an officer ends their sessions and stops their tokens at once: both are checked
/// against `disabled` on every request, and the sessions are deleted here as well.
pub fn set_disabled(conn: &mut DbConnection, now: DateTime<Utc>, username: &str, disabled: bool) -> Result<()> {
    write_tx(conn, |c| {
        let officer = find_officer(c, username)?;
        diesel::update(officers::table.find(&officer.id))
            .set(officers::disabled.eq(disabled))
            .execute(c)?;
        if disabled {
            diesel::delete(sessions::table.filter(sessions::officer_id.eq(&officer.id))).execute(c)?;
        }
        let (before, after) = (
            serde_json::json!({"disabled": officer.disabled}),
            serde_json::json!({"disabled": disabled}),
        );
        audit::record(
            c,
            audit::Change {
                at: now,
                actor: None,
                action: if disabled { "officer.disable" } else { "officer.enable" },
                entity: "officer",
                entity_id: &officer.id,
                before: Some(&before),
                after: Some(&after),
            },
        )
    })
}

pub fn set_password(conn: &mut DbConnection, now: DateTime<Utc>, username: &str, password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        let mut errs = FieldErrors::new();
        errs.add(
            "password",
            "min_length",
            format!("at least {MIN_PASSWORD_LEN} characters"),
        );
        return Err(errs.into());
    }
    let hash = hash_password(password)?;
    write_tx(conn, |c| {
        let officer = find_officer(c, username)?;
        diesel::update(officers::table.find(&officer.id))
            .set(officers::password_hash.eq(&hash))
            .execute(c)?;
        audit::record::<(), ()>(
            c,
            audit::Change {
                at: now,
                actor: None,
                action: "officer.set_password",
                entity: "officer",
                entity_id: &officer.id,
                before: None,
                after: None,
            },
        )
    })
}

/// Creates an API token; the secret is returned once and only its hash is kept.
pub fn create_token(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    username: &str,
    label: &str,
) -> Result<(String, String)> {
    let secret = random_secret("bdt_")?;
    write_tx(conn, |c| {
        let officer = find_officer(c, username)?;
        let row = ApiTokenRow {
            id: new_id(),
            officer_id: officer.id.clone(),
            token_hash: secret_hash(&secret),
            label: label.to_string(),
            created_at: ts(now),
            revoked_at: None,
        };
        diesel::insert_into(api_tokens::table).values(&row).execute(c)?;
        let after = serde_json::json!({"officer": officer.username, "label": label});
        audit::record::<(), _>(
            c,
            audit::Change {
                at: now,
                actor: None,
                action: "token.create",
                entity: "api_token",
                entity_id: &row.id,
                before: None,
                after: Some(&after),
            },
        )?;
        Ok((row.id, secret))
    })
}

pub fn revoke_token(conn: &mut DbConnection, now: DateTime<Utc>, token_id: &str) -> Result<()> {
    write_tx(conn, |c| {
        let n = diesel::update(
            api_tokens::table
                .find(token_id)
                .filter(api_tokens::revoked_at.is_null()),
        )
        .set(api_tokens::revoked_at.eq(Some(ts(now))))
        .execute(c)?;
        if n == 0 {
            return Err(DomainError::NotFound { what: "active token" }.into());
        }
        audit::record::<(), ()>(
            c,
            audit::Change {
                at: now,
                actor: None,
                action: "token.revoke",
                entity: "api_token",
                entity_id: token_id,
                before: None,
                after: None,
            },
        )
    })
}

pub fn actor_for_token(conn: &mut DbConnection, secret: &str) -> Result<Option<Actor>> {
    let row: Option<OfficerRow> = api_tokens::table
        .inner_join(officers::table)
        .filter(api_tokens::token_hash.eq(secret_hash(secret)))
        .filter(api_tokens::revoked_at.is_null())
        .filter(officers::disabled.eq(false))
        .select(OfficerRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.and_then(|r| r.actor()))
}

/// A logged-in session: the actor and the CSRF token their forms must carry.
pub struct Session {
    pub actor: Actor,
    pub csrf_token: String,
}

pub fn actor_for_session(conn: &mut DbConnection, now: DateTime<Utc>, secret: &str) -> Result<Option<Session>> {
    let row: Option<(OfficerRow, String)> = sessions::table
        .inner_join(officers::table)
        .filter(sessions::id_hash.eq(secret_hash(secret)))
        .filter(sessions::expires_at.gt(ts(now)))
        .filter(officers::disabled.eq(false))
        .select((OfficerRow::as_select(), sessions::csrf_token))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(o, csrf_token)| o.actor().map(|actor| Session { actor, csrf_token })))
}

/// Checks a password and opens a session. None when the username or password is wrong (the
/// caller shows one message for both).
pub fn login(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    username: &str,
    password: &str,
    ttl: Duration,
) -> Result<Option<String>> {
    if username.is_empty() || username.len() > 64 || username.chars().any(char::is_control) {
        verify_password(password, dummy_hash());
        return Ok(None);
    }
    let officer = officers::table
        .filter(officers::username.eq(username.trim().to_lowercase()))
        .select(OfficerRow::as_select())
        .first(conn)
        .optional()?;
    let Some(officer) = officer else {
        verify_password(password, dummy_hash());
        return Ok(None);
    };
    if !verify_password(password, &officer.password_hash) || officer.disabled {
        write_tx(conn, |c| {
            audit::record::<(), ()>(
                c,
                audit::Change {
                    at: now,
                    actor: Some(&officer.id),
                    action: "session.login_failed",
                    entity: "officer",
                    entity_id: &officer.id,
                    before: None,
                    after: None,
                },
            )
        })?;
        return Ok(None);
    }
    let secret = random_secret("")?;
    let row = SessionRow {
        id_hash: secret_hash(&secret),
        officer_id: officer.id.clone(),
        csrf_token: random_secret("")?,
        created_at: ts(now),
        expires_at: ts(now + ttl),
    };
    write_tx(conn, |c| {
        // Expired sessions are swept here rather than by a timer: logins are frequent enough.
        diesel::delete(sessions::table.filter(sessions::expires_at.le(ts(now)))).execute(c)?;
        diesel::insert_into(sessions::table).values(&row).execute(c)?;
        audit::record::<(), ()>(
            c,
            audit::Change {
                at: now,
                actor: Some(&officer.id),
                action: "session.login",
                entity: "officer",
                entity_id: &officer.id,
                before: None,
                after: None,
            },
        )
    })?;
    Ok(Some(secret))
}

pub fn logout(conn: &mut DbConnection, now: DateTime<Utc>, secret: &str) -> Result<()> {
    write_tx(conn, |c| {
        let row: Option<SessionRow> = sessions::table
            .find(secret_hash(secret))
            .select(SessionRow::as_select())
            .first(c)
            .optional()?;
        if let Some(row) = row {
            diesel::delete(sessions::table.find(&row.id_hash)).execute(c)?;
            audit::record::<(), ()>(
                c,
                audit::Change {
                    at: now,
                    actor: Some(&row.officer_id),
                    action: "session.logout",
                    entity: "officer",
                    entity_id: &row.officer_id,
                    before: None,
                    after: None,
                },
            )?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_hashes_are_salted() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert_ne!(a, b);
        assert!(verify_password("correct horse battery", &a));
        assert!(!verify_password("wrong", &a));
        assert!(!verify_password("anything", "not a phc string"));
    }

    #[test]
    fn secrets_are_random_and_hash_stably() {
        let s = random_secret("bdt_").unwrap();
        assert!(s.starts_with("bdt_") && s.len() > 40);
        assert_ne!(s, random_secret("bdt_").unwrap());
        assert_eq!(secret_hash("x"), secret_hash("x"));
    }
}
