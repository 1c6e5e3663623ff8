//! Officers, passwords, login sessions and API tokens.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::auth_cache::{Remembered, SessionEntry};
use crate::db::models::{ApiTokenRow, OfficerRow, SessionRow};
use crate::db::schema::{api_tokens, auth_epoch, officers, sessions};
use crate::db::types::Grants;
use crate::db::{DbConnection, audit, new_id, ts, write_tx};
use crate::domain::DomainError;
use crate::domain::auth::{Actor, Role};
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
        role,
        grants: Grants(grants),
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
        audit::entry(now, None, "officer.add", "officer", &row.id)
            .after(&after)
            .write(c)?;
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
        audit::entry(
            now,
            None,
            if disabled { "officer.disable" } else { "officer.enable" },
            "officer",
            &officer.id,
        )
        .before(&before)
        .after(&after)
        .write(c)
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
        audit::entry(now, None, "officer.set_password", "officer", &officer.id).write(c)
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
        audit::entry(now, None, "token.create", "api_token", &row.id)
            .after(&after)
            .write(c)?;
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
        audit::entry(now, None, "token.revoke", "api_token", token_id).write(c)
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
    Ok(row.map(|r| r.actor()))
}

/// A logged-in session: the actor and the CSRF token their forms must carry.
#[derive(Clone)]
pub struct Session {
    pub actor: Actor,
    pub csrf_token: String,
}

pub fn actor_for_session(conn: &mut DbConnection, now: DateTime<Utc>, secret: &str) -> Result<Option<Session>> {
    Ok(session_entry(conn, now, secret)?.map(|e| e.session))
}

/// The session behind a secret with the moment it ends (what the auth cache keeps).
pub fn session_entry(conn: &mut DbConnection, now: DateTime<Utc>, secret: &str) -> Result<Option<SessionEntry>> {
    let row: Option<(OfficerRow, String, NaiveDateTime)> = sessions::table
        .inner_join(officers::table)
        .filter(sessions::id_hash.eq(secret_hash(secret)))
        .filter(sessions::expires_at.gt(ts(now)))
        .filter(officers::disabled.eq(false))
        .select((OfficerRow::as_select(), sessions::csrf_token, sessions::expires_at))
        .first(conn)
        .optional()?;
    Ok(row.map(|(o, csrf_token, expires_at)| SessionEntry {
        session: Session {
            actor: o.actor(),
            csrf_token,
        },
        expires_at: crate::db::utc(expires_at),
    }))
}

/// Where the auth epoch stands (see `service::auth_cache`).
pub fn auth_epoch(conn: &mut DbConnection) -> Result<i64> {
    Ok(crate::native!(conn, c => auth_epoch::table.find(1).select(auth_epoch::version).get_result(c))?)
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
            audit::entry(now, Some(&officer.id), "session.login_failed", "officer", &officer.id).write(c)
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
        audit::entry(now, Some(&officer.id), "session.login", "officer", &officer.id).write(c)
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
            audit::entry(now, Some(&row.officer_id), "session.logout", "officer", &row.officer_id).write(c)?;
        }
        Ok(())
    })
}

/// What a login attempt came to.
pub enum LoginOutcome {
    /// A session opened: its secret, for the cookie.
    Opened(String),
    /// Wrong username or password, or a disabled account (one answer for all three).
    Refused,
    /// Too many failures from this address or for this username: wait this long.
    Wait(Duration),
}

impl super::Ctx {
    /// The actor behind an API token, if it is live and its officer enabled.
    pub async fn token_actor(&self, token: String) -> Result<Option<Actor>> {
        self.known(token, |c, _, t| actor_for_token(c, t)).await
    }

    /// The session behind a cookie's secret, if it has not expired.
    pub async fn session(&self, secret: String) -> Result<Option<Session>> {
        Ok(self.known(secret, session_entry).await?.map(|e| e.session))
    }

    /// What a secret stands for, from this instance's memory when it was read there under the
    /// auth epoch that stands now (see `auth_cache`), else from the database by `load`.
    pub(crate) async fn known<T: Remembered>(
        &self,
        secret: String,
        load: fn(&mut DbConnection, DateTime<Utc>, &str) -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        let hash = secret_hash(&secret);
        let epoch = self.auth.fresh_epoch(|| self.db.run(auth_epoch)).await?;
        if let Some(known) = self.auth.get(epoch, &hash, self.clock.now()) {
            return Ok(Some(known));
        }
        // The epoch first: what is read after it is at least as new, so keeping it under that
        // epoch can only make it forgotten too early, never trusted too long.
        let (epoch, found) = self
            .tx(move |c, _, now| Ok((auth_epoch(c)?, load(c, now, &secret)?)))
            .await?;
        if let Some(found) = &found {
            self.auth.keep(epoch, hash, found.clone());
        }
        Ok(found)
    }

    /// Checks a password under the login throttle and opens a session of `ttl`.
    pub async fn login(
        &self,
        address: std::net::IpAddr,
        username: String,
        password: String,
        ttl: Duration,
    ) -> Result<LoginOutcome> {
        let now = self.clock.now();
        if let Err(wait) = self.limits.login.begin(now, address, &username) {
            return Ok(LoginOutcome::Wait(wait));
        }
        let name = username.clone();
        let opened = self.tx(move |c, _, now| login(c, now, &name, &password, ttl)).await?;
        Ok(match opened {
            Some(secret) => {
                self.limits.login.succeeded(address, &username);
                LoginOutcome::Opened(secret)
            }
            None => LoginOutcome::Refused,
        })
    }

    /// Ends the session behind a cookie's secret.
    pub async fn logout(&self, secret: String) -> Result<()> {
        self.tx(move |c, _, now| logout(c, now, &secret)).await
    }
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

/// How failed logins slow the next try. A score counts recent failures and leaks away with time;
/// past the free tries each further try waits twice as long as the one before, up to a cap.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub free: u32,
    /// One failure is forgotten per this much quiet time.
    pub leak: Duration,
    pub cap: Duration,
}

impl Backoff {
    fn wait(&self, score: f64) -> Duration {
        // A failure counts until it has leaked away entirely.
        let excess = score.ceil() - f64::from(self.free);
        if excess < 0.0 {
            return Duration::zero();
        }
        // 2^excess seconds, in floats so that a huge score cannot overflow.
        let secs = 2f64.powf(excess).min(self.cap.num_seconds() as f64);
        Duration::seconds(secs as i64)
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    score: f64,
    last: DateTime<Utc>,
}

impl Failures {
    fn decayed(&self, now: DateTime<Utc>, b: &Backoff) -> f64 {
        let quiet = (now - self.last).num_milliseconds().max(0) as f64;
        let leak = b.leak.num_milliseconds().max(1) as f64;
        (self.score - quiet / leak).max(0.0)
    }

    /// When the next try may be made: the backoff runs from the last try.
    fn next_allowed(&self, now: DateTime<Utc>, b: &Backoff) -> DateTime<Utc> {
        let wait = b.wait(self.decayed(now, b));
        if wait.is_zero() { now } else { self.last + wait }
    }
}

/// Login throttling keyed by client address and by username-and-address, so a guesser is
/// slowed without locking the real officer out from elsewhere, and one address cannot spray
/// many usernames. In memory, per instance: several instances each keep their own counts.
pub struct LoginThrottle {
    per_address: Backoff,
    per_user: Backoff,
    state: std::sync::Mutex<ThrottleState>,
}

#[derive(Default)]
struct ThrottleState {
    addresses: std::collections::HashMap<std::net::IpAddr, Failures>,
    users: std::collections::HashMap<(String, std::net::IpAddr), Failures>,
}

/// Entries kept before idle ones are dropped, so a flood of usernames cannot grow memory without end.
const THROTTLE_ENTRIES: usize = 10_000;

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle::new(
            // A hall's officers share one public address: fifty typos before any wait, and one
            // forgotten a minute, is far more than a hall makes; a sprayer gets about one try a minute.
            Backoff {
                free: 50,
                leak: Duration::minutes(1),
                cap: Duration::minutes(15),
            },
            // Five tries for one username from one address, then 1 s, 2 s, 4 s … up to 15 minutes.
            Backoff {
                free: 5,
                leak: Duration::minutes(5),
                cap: Duration::minutes(15),
            },
        )
    }
}

impl LoginThrottle {
    pub fn new(per_address: Backoff, per_user: Backoff) -> Self {
        LoginThrottle {
            per_address,
            per_user,
            state: std::sync::Mutex::new(ThrottleState::default()),
        }
    }

    fn key(username: &str, address: std::net::IpAddr) -> (String, std::net::IpAddr) {
        (username.trim().to_lowercase(), address)
    }

    /// Asks to try a login. Counts the try as a failure at once (so parallel tries cannot slip
    /// through before their failures are recorded); [`Self::succeeded`] takes it back. Err holds
    /// how long to wait.
    pub fn begin(
        &self,
        now: DateTime<Utc>,
        address: std::net::IpAddr,
        username: &str,
    ) -> std::result::Result<(), Duration> {
        let mut st = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = Self::key(username, address);
        let (a, u) = (self.per_address, self.per_user);
        let wait_a = st.addresses.get(&address).map(|f| f.next_allowed(now, &a) - now);
        let wait_u = st.users.get(&key).map(|f| f.next_allowed(now, &u) - now);
        let wait = wait_a.into_iter().chain(wait_u).max().unwrap_or_else(Duration::zero);
        if wait > Duration::zero() {
            return Err(wait);
        }
        if st.addresses.len() + st.users.len() > THROTTLE_ENTRIES {
            st.addresses.retain(|_, f| f.decayed(now, &a) > 0.0);
            st.users.retain(|_, f| f.decayed(now, &u) > 0.0);
        }
        let bump = |f: Option<&Failures>, b: &Backoff| Failures {
            score: f.map_or(0.0, |f| f.decayed(now, b)) + 1.0,
            last: now,
        };
        let fa = bump(st.addresses.get(&address), &a);
        st.addresses.insert(address, fa);
        let fu = bump(st.users.get(&key), &u);
        st.users.insert(key, fu);
        Ok(())
    }

    /// A successful login clears its username's failures from that address and takes back the
    /// try counted against the address.
    pub fn succeeded(&self, address: std::net::IpAddr, username: &str) {
        let mut st = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        st.users.remove(&Self::key(username, address));
        if let Some(f) = st.addresses.get_mut(&address) {
            f.score = (f.score - 1.0).max(0.0);
        }
    }
}

#[cfg(test)]
mod throttle_tests {
    use super::*;
    use std::net::IpAddr;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + secs, 0).unwrap_or_default()
    }
    const HALL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 7));
    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 9));

    #[test]
    fn a_guesser_waits_longer_each_time_and_the_officer_elsewhere_does_not() {
        let t = LoginThrottle::default();
        for _ in 0..5 {
            assert!(t.begin(at(0), HALL, "li").is_ok());
        }
        assert_eq!(t.begin(at(0), HALL, "li"), Err(Duration::seconds(1)));
        assert!(t.begin(at(1), HALL, "LI ").is_ok(), "same user, other spelling");
        assert_eq!(
            t.begin(at(2), HALL, "li"),
            Err(Duration::seconds(1)),
            "the wait doubles"
        );
        assert!(t.begin(at(3), HALL, "li").is_ok());
        assert_eq!(t.begin(at(3), HALL, "li"), Err(Duration::seconds(4)));
        // The real officer from another address, and a colleague at the hall, are not held up.
        assert!(t.begin(at(3), HOME, "li").is_ok());
        assert!(t.begin(at(3), HALL, "wang").is_ok());
    }

    #[test]
    fn the_wait_is_capped_and_failures_are_forgotten() {
        let t = LoginThrottle::default();
        let mut now = 0;
        for _ in 0..40 {
            while let Err(w) = t.begin(at(now), HALL, "li") {
                assert!(w <= Duration::minutes(15), "{w}");
                now += w.num_seconds().max(1);
            }
        }
        // After a quiet day the slate is clean again.
        let later = now + 86_400;
        for _ in 0..5 {
            assert!(t.begin(at(later), HALL, "li").is_ok());
        }
    }

    #[test]
    fn success_clears_the_usernames_failures() {
        let t = LoginThrottle::default();
        for _ in 0..4 {
            assert!(t.begin(at(0), HALL, "li").is_ok());
        }
        assert!(t.begin(at(0), HALL, "li").is_ok());
        t.succeeded(HALL, "li");
        for _ in 0..5 {
            assert!(t.begin(at(1), HALL, "li").is_ok());
        }
    }

    #[test]
    fn one_address_spraying_usernames_is_slowed_but_a_hall_logging_in_is_not() {
        let t = LoginThrottle::default();
        // A morning at the hall: sixty officers log in, a third of them after one typo.
        for i in 0..60 {
            let user = format!("officer{i}");
            if i % 3 == 0 {
                assert!(t.begin(at(i), HALL, &user).is_ok());
            }
            assert!(t.begin(at(i), HALL, &user).is_ok(), "officer {i}");
            t.succeeded(HALL, &user);
        }
        // A sprayer: one try per username, many usernames.
        let refused = (0..200)
            .filter(|i| t.begin(at(100), HOME, &format!("u{i}")).is_err())
            .count();
        assert_eq!(refused, 150, "fifty free tries per address, then waiting");
    }
}

/// Officers' display names by id, for records that name who acted (one query for a list).
pub fn display_names(c: &mut DbConnection, ids: &[&str]) -> Result<std::collections::HashMap<String, String>> {
    Ok(officers::table
        .filter(officers::id.eq_any(ids))
        .select((officers::id, officers::display_name))
        .load::<(String, String)>(c)?
        .into_iter()
        .collect())
}
