//! Typed settings. Defaults need no file; `BORDERDESK_*` environment variables and flags override.

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Directory for the SQLite file, signing keys and generated files.
    #[arg(long, env = "BORDERDESK_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// Database URL: `postgres://user@host:port/db` for PostgreSQL, `sqlite:PATH` or a file path
    /// for SQLite. Default: the SQLite file `borderdesk.db` in the data directory.
    #[arg(long, env = "BORDERDESK_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Policy data (offices, validity and entries per permit kind); default: the shipped
    /// `fixtures/policy.json`.
    #[arg(long, env = "BORDERDESK_POLICY_FILE", global = true)]
    pub policy_file: Option<PathBuf>,

    /// Address to listen on (`serve`). Port 0 picks a free port.
    #[arg(long, env = "BORDERDESK_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: String,

    /// HTTP worker threads (`serve`); 0 = one per CPU core.
    #[arg(long, env = "BORDERDESK_WORKERS", default_value_t = 0, global = true)]
    pub workers: usize,

    /// Database connections in the pool.
    #[arg(long, env = "BORDERDESK_POOL_SIZE", default_value_t = 8, global = true)]
    pub pool_size: u32,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "BORDERDESK_BODY_LIMIT", default_value_t = 64 * 1024, global = true)]
    pub body_limit: usize,

    /// How long an officer's login session lasts, in hours.
    #[arg(long, env = "BORDERDESK_SESSION_HOURS", default_value_t = 12, global = true)]
    pub session_hours: u32,

    /// Mark session cookies `Secure` (sent over HTTPS only; browsers also accept them on
    /// http://localhost). Turn off only for plain-HTTP set-ups behind a trusted proxy.
    #[arg(long, env = "BORDERDESK_SECURE_COOKIES", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub secure_cookies: bool,

    /// The address officers' browsers use, as scheme://host[:port] (e.g. https://desk.example.cn),
    /// when a reverse proxy changes the Host header. Forms posted from any other origin are
    /// refused. Unset: the request's Host header is taken as ours.
    #[arg(long, env = "BORDERDESK_PUBLIC_ORIGIN", global = true)]
    pub public_origin: Option<String>,

    /// Office opening time (HH:MM, China time).
    #[arg(long, env = "BORDERDESK_OFFICE_OPEN", default_value = "08:30", global = true)]
    pub office_open: String,

    /// Office closing time (HH:MM); work accepted after it counts from the next working day.
    #[arg(long, env = "BORDERDESK_OFFICE_CLOSE", default_value = "17:30", global = true)]
    pub office_close: String,

    /// Days a new signing key is valid. No permit outlives the key that signed it, so rotate
    /// keys well before the active one has less left than the longest permit validity.
    #[arg(long, env = "BORDERDESK_KEY_LIFETIME_DAYS", default_value_t = 1826, global = true)]
    pub key_lifetime_days: u32,

    /// Seconds a verdict stays on the scan page: it greys out as it ages and is cleared after
    /// this long, so an old verdict is never taken for the next vehicle's (0 = never cleared).
    #[arg(long, env = "BORDERDESK_VERDICT_CLEAR_SECONDS", default_value_t = 20, global = true)]
    pub verdict_clear_seconds: u32,

    /// Photos normalised at once (each may take ~100 MB while decoding); more are answered 503
    /// with Retry-After rather than queued, so memory stays bounded whatever arrives.
    #[arg(long, env = "BORDERDESK_PORTRAIT_SLOTS", default_value_t = 2, global = true)]
    pub portrait_slots: usize,

    /// Bearer token Prometheus sends to read `/metrics` on the public listener (at least 16
    /// characters). Unset, and without a metrics address, `/metrics` answers 404 there.
    #[arg(long, env = "BORDERDESK_METRICS_TOKEN", hide_env_values = true, global = true)]
    pub metrics_token: Option<String>,

    /// A second address (e.g. an internal interface, `10.0.0.5:9464`) that serves `/metrics`
    /// without a token and nothing else. Port 0 picks a free port.
    #[arg(long, env = "BORDERDESK_METRICS_ADDR", global = true)]
    pub metrics_addr: Option<String>,

    /// Where mail goes: `smtp://host[:port]` (STARTTLS required; 587), `smtps://host[:port]`
    /// (465), `smtp://127.0.0.1:PORT?tls=none` (a relay on this machine only), or `file:DIR`.
    /// Unset: `.eml` files in the folder `mail` of the data directory.
    #[arg(long, env = "BORDERDESK_MAIL", global = true)]
    pub mail: Option<String>,

    /// SMTP user name (with `BORDERDESK_SMTP_PASSWORD`); unset: no authentication.
    #[arg(long, env = "BORDERDESK_SMTP_USER", global = true)]
    pub smtp_user: Option<String>,

    /// SMTP password.
    #[arg(long, env = "BORDERDESK_SMTP_PASSWORD", hide_env_values = true, global = true)]
    pub smtp_password: Option<String>,

    /// The sender of the service's mail.
    #[arg(
        long,
        env = "BORDERDESK_MAIL_FROM",
        default_value = "borderdesk <noreply@localhost>",
        global = true
    )]
    pub mail_from: String,

    /// Seconds between the outbox worker's looks for mail to send (`serve`); 0 = no worker
    /// in this instance (another instance sends).
    #[arg(long, env = "BORDERDESK_MAIL_POLL_SECONDS", default_value_t = 5, global = true)]
    pub mail_poll_seconds: u64,

    /// Reverse proxies whose `X-Forwarded-For` is believed, as IPs or CIDRs separated by commas
    /// (e.g. `10.0.0.0/8,192.0.2.7`). Default none: the peer address is the client.
    #[arg(long, env = "BORDERDESK_TRUSTED_PROXIES", value_delimiter = ',', global = true)]
    pub trusted_proxies: Vec<String>,

    /// Sign-in codes mailed to one e-mail address per hour.
    #[arg(long, env = "BORDERDESK_DRIVER_CODES_PER_EMAIL", default_value_t = 5, global = true)]
    pub driver_codes_per_email: u32,

    /// Sign-in codes asked for from one client address per hour (drivers at one waiting area
    /// may share a public address).
    #[arg(
        long,
        env = "BORDERDESK_DRIVER_CODES_PER_CLIENT",
        default_value_t = 30,
        global = true
    )]
    pub driver_codes_per_client: u32,

    /// Wrong sign-in codes entered from one client address per hour before it must wait.
    #[arg(
        long,
        env = "BORDERDESK_DRIVER_FAILURES_PER_CLIENT",
        default_value_t = 20,
        global = true
    )]
    pub driver_failures_per_client: u32,

    /// How long a driver stays signed in, in hours.
    #[arg(long, env = "BORDERDESK_DRIVER_SESSION_HOURS", default_value_t = 720, global = true)]
    pub driver_session_hours: u32,

    /// Booking changes (book, move, cancel) a driver may make per minute; a client address may
    /// make five times as many. Bots grabbing slots meet the limit long before a person does.
    #[arg(
        long,
        env = "BORDERDESK_DRIVER_BOOKINGS_PER_MINUTE",
        default_value_t = 10,
        global = true
    )]
    pub driver_bookings_per_minute: u32,

    /// The secret sign-in codes are hashed with (at least 32 characters). Unset: a random one
    /// kept in the database, sealed with the key-encryption key, shared by every instance.
    #[arg(long, env = "BORDERDESK_DRIVER_CODE_SECRET", hide_env_values = true, global = true)]
    pub driver_code_secret: Option<String>,

    /// The key-encryption key (64 hex characters) that seals the signing keys and secrets stored
    /// in the database. Every instance on one database needs the same one. Unset (and no
    /// `BORDERDESK_KEK_FILE`): a random one kept in `kek` in the data directory, enough for one
    /// instance on its own SQLite file.
    #[arg(long, env = "BORDERDESK_KEK", hide_env_values = true, global = true)]
    pub kek: Option<String>,

    /// Log lines as text (for a terminal) or one JSON object each (for a log collector): every
    /// request's line carries its id, which the response returns in `X-Request-Id`.
    #[arg(long, env = "BORDERDESK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// A file holding the key-encryption key (64 hex characters), instead of `BORDERDESK_KEK`.
    #[arg(long, env = "BORDERDESK_KEK_FILE", global = true)]
    pub kek_file: Option<PathBuf>,

    /// While changing the key-encryption key: the old one's file, which still opens what it
    /// sealed until `borderdesk keys rekey` has sealed everything under the new one.
    #[arg(long, env = "BORDERDESK_KEK_PREVIOUS_FILE", global = true)]
    pub kek_previous_file: Option<PathBuf>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: PathBuf::from("./data"),
            database_url: None,
            policy_file: None,
            bind: "127.0.0.1:8080".into(),
            workers: 0,
            pool_size: 8,
            body_limit: 64 * 1024,
            session_hours: 12,
            secure_cookies: true,
            public_origin: None,
            office_open: "08:30".into(),
            office_close: "17:30".into(),
            key_lifetime_days: 1826,
            verdict_clear_seconds: 20,
            portrait_slots: 2,

            metrics_token: None,
            metrics_addr: None,
            mail: None,
            smtp_user: None,
            smtp_password: None,
            mail_from: "borderdesk <noreply@localhost>".into(),
            mail_poll_seconds: 5,
            trusted_proxies: Vec::new(),
            driver_codes_per_email: 5,
            driver_codes_per_client: 30,
            driver_failures_per_client: 20,
            driver_session_hours: 720,
            driver_bookings_per_minute: 10,
            driver_code_secret: None,
            kek: None,
            kek_file: None,
            kek_previous_file: None,
            log_format: LogFormat::Text,
        }
    }
}

impl Settings {
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.clone(),
            _ => format!("sqlite:{}", self.data_dir.join("borderdesk.db").display()),
        }
    }

    pub fn mailer(&self) -> crate::error::Result<crate::mail::Mailer> {
        crate::mail::Mailer::from_settings(&crate::mail::MailSettings {
            url: self.mail.as_deref(),
            user: self.smtp_user.as_deref(),
            password: self.smtp_password.as_deref(),
            from: &self.mail_from,
            data_dir: &self.data_dir,
        })
    }

    pub fn public_origin(&self) -> crate::error::Result<Option<url::Origin>> {
        let Some(text) = self.public_origin.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        match url::Url::parse(text) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(Some(u.origin())),
            _ => Err(crate::error::Error::Internal(format!(
                "BORDERDESK_PUBLIC_ORIGIN: {text:?} is not an origin such as https://desk.example.cn"
            ))),
        }
    }

    /// The metrics token's SHA-256 (compared, never the token itself); None when unset.
    pub fn metrics_token_hash(&self) -> crate::error::Result<Option<[u8; 32]>> {
        use sha2::{Digest, Sha256};
        let Some(token) = self.metrics_token.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        // A short token on a public listener could be guessed.
        if token.chars().count() < 16 || token.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(crate::error::Error::Internal(
                "BORDERDESK_METRICS_TOKEN: use at least 16 printable characters without spaces".into(),
            ));
        }
        Ok(Some(Sha256::digest(token.as_bytes()).into()))
    }

    /// `BORDERDESK_TRUSTED_PROXIES` read: each an IP address or a CIDR network.
    pub fn trusted_proxies(&self) -> crate::error::Result<Vec<ipnet::IpNet>> {
        self.trusted_proxies
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .map(|t| {
                t.parse::<ipnet::IpNet>()
                    .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        crate::error::Error::Config(format!(
                            "BORDERDESK_TRUSTED_PROXIES: {t:?} is neither an IP address nor a CIDR network"
                        ))
                    })
            })
            .collect()
    }

    pub fn office_hours(&self) -> crate::error::Result<crate::domain::calendar::OfficeHours> {
        let parse = |name: &str, v: &str| {
            chrono::NaiveTime::parse_from_str(v.trim(), "%H:%M")
                .map_err(|_| crate::error::Error::Internal(format!("{name}: {v:?} is not a time as HH:MM")))
        };
        let hours = crate::domain::calendar::OfficeHours {
            open: parse("BORDERDESK_OFFICE_OPEN", &self.office_open)?,
            close: parse("BORDERDESK_OFFICE_CLOSE", &self.office_close)?,
        };
        if hours.open >= hours.close {
            return Err(crate::error::Error::Internal(
                "office hours: opening must be before closing".into(),
            ));
        }
        Ok(hours)
    }

    pub fn load_policy(&self) -> crate::error::Result<crate::domain::policy::Policy> {
        use crate::domain::policy::{DEFAULT_POLICY, Policy};
        let text = match &self.policy_file {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| crate::error::Error::Internal(format!("reading {}: {e}", path.display())))?,
            None => DEFAULT_POLICY.to_string(),
        };
        Policy::from_json(&text).map_err(crate::error::Error::Internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let with = |list: &[&str]| Settings {
            trusted_proxies: list.iter().map(|s| s.to_string()).collect(),
            ..Settings::default()
        };
        let nets = with(&["10.0.0.0/8", " 192.0.2.7 ", "2001:db8::/32", ""])
            .trusted_proxies()
            .unwrap();
        assert_eq!(nets.len(), 3);
        assert!(nets[1].contains(&"192.0.2.7".parse::<std::net::IpAddr>().unwrap()));
        assert!(with(&["10.0.0.0/33"]).trusted_proxies().is_err());
        assert!(with(&["proxy.example"]).trusted_proxies().is_err());
        assert!(
            Settings::default().trusted_proxies().unwrap().is_empty(),
            "none by default"
        );
    }
}
