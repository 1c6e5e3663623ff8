//! Freight drivers' self-service: sign-in by a one-time code mailed to them (no passwords),
//! their profile (identity, names, phone, border-trade pass) and their vehicles.
//!
//! Codes are stored as SHA-256 over a server-side secret, the code's id and the code. A code
//! has six digits: a million values, which no slow hash (argon2) protects against someone
//! holding the database, while it would cost every check real CPU time an attacker could spend
//! for us. What protects a code is that guessing it takes the secret, kept outside the
//! database; online guessing is held back by the attempt, expiry and rate limits below.

use askama::Template;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::accounts::{random_secret, secret_hash};
use super::auth_cache::DriverEntry;
use crate::db::schema::{
    driver_code_failures, driver_codes, driver_sessions, drivers, mail_outbox, permits, travellers, vehicles,
};
use crate::db::{DbConnection, audit, ts, utc, write_tx};
use crate::domain::freight::{VehicleType, Words};
use crate::domain::ids::IdType;
use crate::domain::mask::{mask_email, mask_id};
use crate::domain::permit::{PermitKind, PermitStatus};
use crate::domain::validation::{FieldErrors, clean, plausible_key};
use crate::domain::{DomainError, local};
use crate::error::{Error, Result};
use crate::mail::{Lang, Rendered};
use crate::native;

/// How long a code is good for.
pub const CODE_MINUTES: i64 = 10;
/// Wrong entries a code takes before it is dead.
pub const CODE_ATTEMPTS: i32 = 5;
/// Vehicles a driver may keep at once.
pub const MAX_VEHICLES: i64 = 5;
/// The window the rate limits count in.
const WINDOW: Duration = Duration::hours(1);

/// The limits and the code secret, from `Settings`.
#[derive(Clone)]
pub struct DriverConfig {
    pub codes_per_email: u32,
    pub codes_per_client: u32,
    pub failures_per_client: u32,
    pub session: Duration,
    secret: Vec<u8>,
}

impl DriverConfig {
    pub fn new(
        codes_per_email: u32,
        codes_per_client: u32,
        failures_per_client: u32,
        session: Duration,
        secret: Vec<u8>,
    ) -> DriverConfig {
        DriverConfig {
            codes_per_email,
            codes_per_client,
            failures_per_client,
            session,
            secret,
        }
    }

    /// From the settings: the configured secret, or else `stored()`, the one the database keeps
    /// sealed for every instance (`keys::secret`), read only when none is configured.
    pub fn from_settings(
        s: &crate::config::Settings,
        stored: impl FnOnce() -> Result<Vec<u8>>,
    ) -> Result<DriverConfig> {
        let secret = match s.driver_code_secret.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) if t.chars().count() >= 32 => t.as_bytes().to_vec(),
            Some(_) => {
                return Err(Error::Config(
                    "BORDERDESK_DRIVER_CODE_SECRET: use at least 32 characters".into(),
                ));
            }
            None => stored()?,
        };
        Ok(DriverConfig::new(
            s.driver_codes_per_email,
            s.driver_codes_per_client,
            s.driver_failures_per_client,
            Duration::hours(i64::from(s.driver_session_hours.max(1))),
            secret,
        ))
    }

    /// The stored form of `code` for the code row `id`: the id is mixed in so that two rows
    /// with the same digits do not share a hash.
    pub fn code_hash(&self, id: &str, code: &str) -> String {
        let mut h = Sha256::new();
        h.update((self.secret.len() as u64).to_be_bytes());
        h.update(&self.secret);
        h.update(id.as_bytes());
        h.update([0]);
        h.update(code.as_bytes());
        hex::encode(h.finalize())
    }
}

/// A random id (UUID v4): a driver's or a vehicle's id says nothing of its neighbours.
pub fn random_id() -> Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| Error::Internal(format!("random: {e}")))?;
    Ok(uuid::Builder::from_random_bytes(b).into_uuid().to_string())
}

/// Six decimal digits, uniformly: bytes above the last whole million are drawn again.
pub fn new_code() -> Result<String> {
    const LIMIT: u32 = u32::MAX - u32::MAX % 1_000_000;
    loop {
        let mut b = [0u8; 4];
        getrandom::fill(&mut b).map_err(|e| Error::Internal(format!("random: {e}")))?;
        let n = u32::from_be_bytes(b);
        if n < LIMIT {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

// ---- words -------------------------------------------------------------------------------

const W_EMAIL: Words = Words::new(
    "请填写有效的电子邮箱地址",
    "Vui lòng nhập một địa chỉ e-mail hợp lệ",
    "Enter a valid e-mail address",
);
const W_LANG: Words = Words::new(
    "语言应为 zh、vi 或 en",
    "Ngôn ngữ phải là zh, vi hoặc en",
    "The language is one of zh, vi, en",
);
const W_CODE_FORMAT: Words = Words::new(
    "验证码为邮件中的6位数字",
    "Mã gồm 6 chữ số trong thư đã gửi cho bạn",
    "The code is the 6 digits in the e-mail we sent you",
);
const W_CODE_WRONG: Words = Words::new(
    "验证码不正确，请核对邮件后重新输入",
    "Mã không đúng. Hãy xem lại thư và nhập lại",
    "That code is not right. Check the e-mail and try again",
);
const W_CODE_UNKNOWN: Words = Words::new(
    "此邮箱没有有效的验证码，请重新获取",
    "Không có mã nào còn hiệu lực cho e-mail này. Hãy yêu cầu mã mới",
    "There is no live code for this address. Ask for a new one",
);
const W_CODE_EXPIRED: Words = Words::new(
    "验证码已过期（10分钟有效），请重新获取",
    "Mã đã hết hạn (hiệu lực 10 phút). Hãy yêu cầu mã mới",
    "The code has expired (codes last 10 minutes). Ask for a new one",
);
const W_CODE_USED: Words = Words::new(
    "验证码已使用过，请重新获取",
    "Mã này đã được dùng. Hãy yêu cầu mã mới",
    "This code was already used. Ask for a new one",
);
const W_CODE_ATTEMPTS: Words = Words::new(
    "输错次数过多，此验证码已失效，请重新获取",
    "Nhập sai quá nhiều lần, mã đã bị hủy. Hãy yêu cầu mã mới",
    "Too many wrong tries: this code no longer works. Ask for a new one",
);
const W_LIMIT_EMAIL: Words = Words::new(
    "此邮箱申请验证码过于频繁，请稍后再试",
    "Đã yêu cầu quá nhiều mã cho e-mail này. Vui lòng thử lại sau",
    "Too many codes asked for this address. Try again later",
);
const W_LIMIT_CLIENT: Words = Words::new(
    "来自您网络的请求过多，请稍后再试",
    "Có quá nhiều yêu cầu từ mạng của bạn. Vui lòng thử lại sau",
    "Too many requests from your network. Try again later",
);
const W_REQUIRED: Words = Words::new("必填", "Bắt buộc", "Required");
const W_NAME_ONE: Words = Words::new(
    "请至少填写中文姓名或拉丁字母姓名之一",
    "Hãy nhập ít nhất tên chữ Hán hoặc tên chữ Latinh",
    "Give your name in Chinese characters, in Latin letters, or both",
);
const W_ID_TAKEN: Words = Words::new(
    "此证件已登记在另一个账户下。请用该账户的邮箱登录，或联系口岸办公室",
    "Giấy tờ này đã được đăng ký cho một tài khoản khác. Hãy đăng nhập bằng e-mail của tài khoản đó hoặc liên hệ văn phòng cửa khẩu",
    "This document is already registered to another account. Sign in with that account's e-mail, or contact the office",
);
const W_PASS_UNKNOWN: Words = Words::new(
    "找不到以您证件号码签发的此边贸通行证，请核对号码",
    "Không tìm thấy giấy thông hành biên mậu này cấp theo số giấy tờ của bạn. Hãy kiểm tra lại số",
    "No border-trade pass with this number was issued to your ID number. Check the number",
);
const W_PASS_NOT_IN_FORCE: Words = Words::new(
    "此边贸通行证目前无效（已过期、已注销、待补材料或中止）。请到窗口办理",
    "Giấy thông hành biên mậu này hiện không có hiệu lực (hết hạn, bị thu hồi, chờ bổ sung hoặc tạm đình chỉ). Hãy đến quầy",
    "This border-trade pass is not in force (expired, revoked, pending or suspended). See the window",
);
const W_PASS_CHN_ONLY: Words = Words::new(
    "边贸通行证仅适用于中国籍司机",
    "Giấy thông hành biên mậu chỉ dành cho tài xế quốc tịch Trung Quốc",
    "The border-trade pass is for Chinese drivers only",
);
const W_PHONE: Words = Words::new(
    "电话应为国际格式，如 +8613800000000 或 +84912345678",
    "Số điện thoại theo định dạng quốc tế, ví dụ +84912345678",
    "A phone number in international format, e.g. +84912345678",
);
const W_VEHICLE_LIMIT: Words = Words::new(
    "最多登记5辆车，请先删除不用的车辆",
    "Tối đa 5 xe. Hãy xóa xe không dùng trước",
    "At most 5 vehicles: remove one you no longer use first",
);
const W_VEHICLE_DUPLICATE: Words = Words::new(
    "这辆车已在您的车辆列表中",
    "Xe này đã có trong danh sách của bạn",
    "This vehicle is already in your list",
);
const W_VEHICLE_TYPE: Words = Words::new("请选择车辆类型", "Hãy chọn loại xe", "Choose the type of vehicle");
const W_TOO_LONG: Words = Words::new("内容过长", "Quá dài", "Too long");

fn lang_of(code: &str) -> Lang {
    Lang::from_code(code).unwrap_or(Lang::Zh)
}

fn add(errs: &mut FieldErrors, lang: Lang, field: &str, rule: &str, w: Words) {
    errs.add(field, rule, w.pick(lang.code()));
}

/// The address a code is sent to and an account is known by: trimmed, lower case.
fn normalise_email(lang: Lang, raw: &str) -> Result<String> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() || email.len() > 254 || !crate::mail::is_address(&email) || !email.contains('.') {
        let mut errs = FieldErrors::new();
        add(&mut errs, lang, "email", "email", W_EMAIL);
        return Err(errs.into());
    }
    Ok(email)
}

fn too_many(field: &'static str, rule: &'static str, lang: Lang, w: Words, wait: Duration) -> Error {
    DomainError::TooMany {
        field,
        rule,
        message: w.pick(lang.code()).to_string(),
        retry_after_seconds: u32::try_from(wait.num_seconds().max(1)).unwrap_or(u32::MAX),
    }
    .into()
}

// ---- rows --------------------------------------------------------------------------------

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = drivers)]
pub struct DriverRow {
    pub id: String,
    pub email: String,
    pub lang: String,
    pub name_zh: Option<String>,
    pub name_latin: Option<String>,
    pub nationality: Option<String>,
    pub id_type: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub trade_pass: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = driver_codes)]
struct CodeRow {
    id: String,
    email: String,
    code_hash: String,
    client: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    attempts: i32,
    used_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = driver_sessions)]
struct SessionRow {
    id_hash: String,
    driver_id: String,
    csrf_token: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = vehicles)]
pub struct VehicleRow {
    pub id: String,
    pub driver_id: String,
    pub plate: String,
    pub country: String,
    pub trailer_plate: Option<String>,
    pub vehicle_type: VehicleType,
    pub created_at: NaiveDateTime,
    pub removed_at: Option<NaiveDateTime>,
}

// ---- sign-in -----------------------------------------------------------------------------

/// What a driver is told after asking for a code: the same whether or not the address has an
/// account.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CodeSent {
    /// Always true: a code is on its way to the address (nothing says whether it has an account).
    pub sent: bool,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<chrono::FixedOffset>,
}

#[derive(Template)]
#[template(path = "mail/driver_code_subject.txt")]
struct CodeSubject<'a> {
    lang: &'a str,
    code: &'a str,
}

#[derive(Template)]
#[template(path = "mail/driver_code.txt")]
struct CodeText<'a> {
    lang: &'a str,
    code: &'a str,
    minutes: i64,
    until: &'a str,
}

#[derive(Template)]
#[template(path = "mail/driver_code.html")]
struct CodeHtml<'a> {
    lang: &'a str,
    code: &'a str,
    minutes: i64,
    until: &'a str,
}

/// The code mail in `lang`.
pub fn code_mail(lang: Lang, code: &str, expires: DateTime<Utc>) -> Result<Rendered> {
    let l = lang.code();
    let until = local(expires).format("%H:%M").to_string();
    let subject = CodeSubject { lang: l, code }.render().map_err(Error::internal)?;
    Ok(Rendered {
        subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
        text: CodeText {
            lang: l,
            code,
            minutes: CODE_MINUTES,
            until: &until,
        }
        .render()
        .map_err(Error::internal)?,
        html: CodeHtml {
            lang: l,
            code,
            minutes: CODE_MINUTES,
            until: &until,
        }
        .render()
        .map_err(Error::internal)?,
        attachment_name: None,
    })
}

/// How long until the oldest of `times` leaves the window (the wait before the next try counts).
fn wait_for(oldest: Option<NaiveDateTime>, now: DateTime<Utc>) -> Duration {
    oldest.map_or(WINDOW, |o| utc(o) + WINDOW - now)
}

/// Mails a fresh code to `email` (an account or not), counting the limits per address and per
/// client, and kills the address's earlier codes.
pub fn request_code(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    cfg: &DriverConfig,
    email: &str,
    lang: &str,
    client: std::net::IpAddr,
) -> Result<CodeSent> {
    let Some(lang) = Lang::from_code(lang) else {
        let mut errs = FieldErrors::new();
        add(&mut errs, Lang::Zh, "lang", "one_of", W_LANG);
        return Err(errs.into());
    };
    let email = normalise_email(lang, email)?;
    let client = client.to_string();
    let code = new_code()?;
    let since = ts(now - WINDOW);
    write_tx(c, |c| {
        let per_email: Vec<NaiveDateTime> = driver_codes::table
            .filter(driver_codes::email.eq(&email))
            .filter(driver_codes::created_at.gt(since))
            .order(driver_codes::created_at.asc())
            .select(driver_codes::created_at)
            .load(c)?;
        if per_email.len() as u64 >= u64::from(cfg.codes_per_email) {
            return Err(too_many(
                "email",
                "codes_per_email",
                lang,
                W_LIMIT_EMAIL,
                wait_for(per_email.first().copied(), now),
            ));
        }
        let per_client: Vec<NaiveDateTime> = driver_codes::table
            .filter(driver_codes::client.eq(&client))
            .filter(driver_codes::created_at.gt(since))
            .order(driver_codes::created_at.asc())
            .select(driver_codes::created_at)
            .load(c)?;
        if per_client.len() as u64 >= u64::from(cfg.codes_per_client) {
            return Err(too_many(
                "client",
                "codes_per_client",
                lang,
                W_LIMIT_CLIENT,
                wait_for(per_client.first().copied(), now),
            ));
        }
        // A new code kills the earlier ones: only the latest mail works.
        diesel::update(
            driver_codes::table
                .filter(driver_codes::email.eq(&email))
                .filter(driver_codes::used_at.is_null())
                .filter(driver_codes::expires_at.gt(ts(now))),
        )
        .set(driver_codes::expires_at.eq(ts(now)))
        .execute(c)?;
        // Rows older than a day count toward nothing.
        diesel::delete(
            driver_codes::table
                .filter(driver_codes::email.eq(&email))
                .filter(driver_codes::created_at.lt(ts(now - Duration::days(1)))),
        )
        .execute(c)?;
        let id = random_id()?;
        let expires = now + Duration::minutes(CODE_MINUTES);
        let row = CodeRow {
            code_hash: cfg.code_hash(&id, &code),
            id,
            email: email.clone(),
            client: client.clone(),
            created_at: ts(now),
            expires_at: ts(expires),
            attempts: 0,
            used_at: None,
        };
        diesel::insert_into(driver_codes::table).values(&row).execute(c)?;
        super::outbox::enqueue(
            c,
            now,
            super::outbox::CREDENTIAL_KIND,
            Some(&row.id),
            &email,
            lang,
            code_mail(lang, &code, expires)?,
        )?;
        audit::entry(now, None, "driver.code_sent", "driver_code", &row.id)
            .after(&serde_json::json!({"email": mask_email(&email), "client": client}))
            .write(c)?;
        Ok(CodeSent {
            sent: true,
            expires_at: local(expires).fixed_offset(),
        })
    })
}

/// A session opened by a right code.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SignedIn {
    /// The bearer token for the driver API (shown once; only its hash is kept).
    pub token: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<chrono::FixedOffset>,
    pub driver_id: String,
    /// Whether this sign-in created the account.
    pub created: bool,
}

enum Check {
    Opened(SignedIn),
    /// Refused: what the attempt and failure counters kept is committed all the same.
    Refused {
        rule: &'static str,
        words: Words,
    },
}

/// Checks `code` for `email` and opens a session, creating the driver on the first sign-in.
/// A wrong code changes only the code's attempt counter and the client's failure count.
pub fn sign_in(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    cfg: &DriverConfig,
    email: &str,
    code: &str,
    lang: Option<&str>,
    client: std::net::IpAddr,
) -> Result<SignedIn> {
    let asked = lang.and_then(Lang::from_code);
    let email = normalise_email(asked.unwrap_or(Lang::Zh), email)?;
    let known: Option<String> = drivers::table
        .filter(drivers::email.eq(&email))
        .select(drivers::lang)
        .first(c)
        .optional()?;
    let lang = known.as_deref().map(lang_of).or(asked).unwrap_or(Lang::Zh);
    let code: String = code.chars().filter(|ch| !ch.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        let mut errs = FieldErrors::new();
        add(&mut errs, lang, "code", "format", W_CODE_FORMAT);
        return Err(errs.into());
    }
    let client = client.to_string();
    let since = ts(now - WINDOW);
    let outcome = write_tx(c, |c| {
        let failures: Vec<NaiveDateTime> = driver_code_failures::table
            .filter(driver_code_failures::client.eq(&client))
            .filter(driver_code_failures::at.gt(since))
            .order(driver_code_failures::at.asc())
            .select(driver_code_failures::at)
            .load(c)?;
        if failures.len() as u64 >= u64::from(cfg.failures_per_client) {
            return Err(too_many(
                "code",
                "failures_per_client",
                lang,
                W_LIMIT_CLIENT,
                wait_for(failures.first().copied(), now),
            ));
        }
        // The latest code; of two asked for within one clock tick, the one the other killed
        // has the earlier expiry.
        let latest: Option<CodeRow> = driver_codes::table
            .filter(driver_codes::email.eq(&email))
            .order((driver_codes::created_at.desc(), driver_codes::expires_at.desc()))
            .select(CodeRow::as_select())
            .first(c)
            .optional()?;
        let refuse = |rule, words| Ok(Check::Refused { rule, words });
        let Some(row) = latest else {
            fail(c, now, &client)?;
            return refuse("unknown", W_CODE_UNKNOWN);
        };
        if row.used_at.is_some() {
            fail(c, now, &client)?;
            return refuse("used", W_CODE_USED);
        }
        if utc(row.expires_at) <= now {
            return refuse("expired", W_CODE_EXPIRED);
        }
        // The try is claimed before the code is compared: of racing tries, at most the
        // allowed number get compared at all.
        let claimed = diesel::update(
            driver_codes::table
                .find(&row.id)
                .filter(driver_codes::attempts.lt(CODE_ATTEMPTS))
                .filter(driver_codes::used_at.is_null()),
        )
        .set(driver_codes::attempts.eq(driver_codes::attempts + 1))
        .execute(c)?;
        if claimed == 0 {
            return refuse("too_many_attempts", W_CODE_ATTEMPTS);
        }
        if cfg.code_hash(&row.id, &code) != row.code_hash {
            fail(c, now, &client)?;
            // Read after the claim (which holds the row): racing tries see each other's counts.
            let attempts: i32 = driver_codes::table
                .find(&row.id)
                .select(driver_codes::attempts)
                .first(c)?;
            let rule = if attempts >= CODE_ATTEMPTS {
                "too_many_attempts"
            } else {
                "wrong"
            };
            let words = if rule == "wrong" { W_CODE_WRONG } else { W_CODE_ATTEMPTS };
            return refuse(rule, words);
        }
        let used = diesel::update(
            driver_codes::table
                .find(&row.id)
                .filter(driver_codes::used_at.is_null()),
        )
        .set(driver_codes::used_at.eq(Some(ts(now))))
        .execute(c)?;
        if used == 0 {
            return refuse("used", W_CODE_USED);
        }
        let (driver_id, created) = match drivers::table
            .filter(drivers::email.eq(&email))
            .select(drivers::id)
            .first::<String>(c)
            .optional()?
        {
            Some(id) => (id, false),
            None => {
                // The language the code was asked for in, unless this request names one.
                let mailed: Option<String> = mail_outbox::table
                    .filter(mail_outbox::subject_id.eq(&row.id))
                    .filter(mail_outbox::kind.eq(super::outbox::CREDENTIAL_KIND))
                    .select(mail_outbox::lang)
                    .first(c)
                    .optional()?;
                let lang = asked.or(mailed.as_deref().and_then(Lang::from_code)).unwrap_or(lang);
                let d = DriverRow {
                    id: random_id()?,
                    email: email.clone(),
                    lang: lang.code().into(),
                    name_zh: None,
                    name_latin: None,
                    nationality: None,
                    id_type: None,
                    id_number: None,
                    phone: None,
                    trade_pass: None,
                    created_at: ts(now),
                    updated_at: ts(now),
                };
                diesel::insert_into(drivers::table).values(&d).execute(c)?;
                let actor = format!("driver:{}", d.id);
                audit::entry(now, Some(&actor), "driver.create", "driver", &d.id)
                    .after(&serde_json::json!({"email": mask_email(&email), "lang": d.lang}))
                    .write(c)?;
                (d.id, true)
            }
        };
        let token = random_secret("bdd_")?;
        let expires = now + cfg.session;
        // Expired sessions of this driver are swept as they sign in again.
        diesel::delete(
            driver_sessions::table
                .filter(driver_sessions::driver_id.eq(&driver_id))
                .filter(driver_sessions::expires_at.le(ts(now))),
        )
        .execute(c)?;
        diesel::insert_into(driver_sessions::table)
            .values(&SessionRow {
                id_hash: secret_hash(&token),
                driver_id: driver_id.clone(),
                csrf_token: random_secret("")?,
                created_at: ts(now),
                expires_at: ts(expires),
            })
            .execute(c)?;
        let actor = format!("driver:{driver_id}");
        audit::entry(now, Some(&actor), "driver.sign_in", "driver", &driver_id)
            .after(&serde_json::json!({"client": client}))
            .write(c)?;
        Ok(Check::Opened(SignedIn {
            token,
            expires_at: local(expires).fixed_offset(),
            driver_id,
            created,
        }))
    })?;
    match outcome {
        Check::Opened(s) => Ok(s),
        Check::Refused { rule, words } => {
            let mut errs = FieldErrors::new();
            add(&mut errs, lang, "code", rule, words);
            Err(errs.into())
        }
    }
}

/// Counts a wrong code against the client address (and sweeps its rows past the window).
fn fail(c: &mut DbConnection, now: DateTime<Utc>, client: &str) -> Result<()> {
    diesel::delete(
        driver_code_failures::table
            .filter(driver_code_failures::client.eq(client))
            .filter(driver_code_failures::at.le(ts(now - WINDOW))),
    )
    .execute(c)?;
    diesel::insert_into(driver_code_failures::table)
        .values((
            driver_code_failures::id.eq(random_id()?),
            driver_code_failures::client.eq(client),
            driver_code_failures::at.eq(ts(now)),
        ))
        .execute(c)?;
    Ok(())
}

/// A signed-in driver: who, their language, and the token their forms carry.
#[derive(Debug, Clone)]
pub struct Driver {
    pub id: String,
    pub lang: Lang,
    pub csrf: String,
}

impl Driver {
    /// Who the audit trail says acted.
    pub fn actor(&self) -> String {
        format!("driver:{}", self.id)
    }
}

pub fn driver_for_token(c: &mut DbConnection, now: DateTime<Utc>, token: &str) -> Result<Option<Driver>> {
    Ok(driver_entry(c, now, token)?.map(|e| e.driver))
}

/// The driver behind a session token with the moment the session ends (what the auth cache
/// keeps).
pub fn driver_entry(c: &mut DbConnection, now: DateTime<Utc>, token: &str) -> Result<Option<DriverEntry>> {
    if token.is_empty() || token.len() > 200 {
        return Ok(None);
    }
    let hash = secret_hash(token);
    let row: Option<(String, String, String, NaiveDateTime)> = native!(c, c => driver_sessions::table
        .inner_join(drivers::table)
        .filter(driver_sessions::id_hash.eq(&hash))
        .filter(driver_sessions::expires_at.gt(ts(now)))
        .select((
            drivers::id,
            drivers::lang,
            driver_sessions::csrf_token,
            driver_sessions::expires_at,
        ))
        .first(c))
    .optional()?;
    Ok(row.map(|(id, lang, csrf, expires_at)| DriverEntry {
        driver: Driver {
            id,
            lang: lang_of(&lang),
            csrf,
        },
        expires_at: utc(expires_at),
    }))
}

pub fn sign_out(c: &mut DbConnection, now: DateTime<Utc>, token: &str) -> Result<()> {
    write_tx(c, |c| {
        let driver: Option<String> = driver_sessions::table
            .find(secret_hash(token))
            .select(driver_sessions::driver_id)
            .first(c)
            .optional()?;
        if let Some(id) = driver {
            diesel::delete(driver_sessions::table.find(secret_hash(token))).execute(c)?;
            let actor = format!("driver:{id}");
            audit::entry(now, Some(&actor), "driver.sign_out", "driver", &id).write(c)?;
        }
        Ok(())
    })
}

// ---- profile -----------------------------------------------------------------------------

/// A driver's profile as they see it themselves: their identity number in full.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Profile {
    pub id: String,
    /// Read-only here: the address the driver signs in with.
    pub email: String,
    /// zh, vi or en: the pages' and the mails' language.
    pub lang: String,
    pub name_zh: Option<String>,
    pub name_latin: Option<String>,
    pub nationality: Option<String>,
    pub id_type: Option<IdType>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    /// The border-trade pass number (Chinese drivers), checked when saved.
    pub trade_pass: Option<String>,
    /// Name, nationality and identity document are on file.
    pub complete: bool,
}

impl From<DriverRow> for Profile {
    fn from(d: DriverRow) -> Profile {
        let complete =
            (d.name_zh.is_some() || d.name_latin.is_some()) && d.nationality.is_some() && d.id_number.is_some();
        Profile {
            id: d.id,
            email: d.email,
            lang: d.lang,
            name_zh: d.name_zh,
            name_latin: d.name_latin,
            nationality: d.nationality,
            id_type: d.id_type.as_deref().and_then(IdType::parse),
            id_number: d.id_number,
            phone: d.phone,
            trade_pass: d.trade_pass,
            complete,
        }
    }
}

/// What a driver sends to change their profile; every field is checked and every problem
/// reported at once.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ProfileInput {
    /// zh, vi or en.
    #[schema(pattern = "^(zh|vi|en)$")]
    pub lang: Option<String>,
    /// Name in Chinese characters (required for CHN nationals).
    #[schema(max_length = 32)]
    pub name_zh: Option<String>,
    /// Name in Latin letters as in the document, Vietnamese diacritics kept exactly.
    #[schema(max_length = 64)]
    pub name_latin: Option<String>,
    /// ISO 3166-1 alpha-3: CHN, VNM, …
    #[schema(max_length = 3)]
    pub nationality: Option<String>,
    /// cn_resident_id, vn_citizen_id or passport.
    pub id_type: Option<String>,
    #[schema(max_length = 32)]
    pub id_number: Option<String>,
    /// International format, e.g. +84912345678.
    #[schema(max_length = 20)]
    pub phone: Option<String>,
    /// Chinese drivers: the border-trade pass number (TR-…), in force and held by you.
    #[schema(max_length = 40)]
    pub trade_pass: Option<String>,
}

pub(crate) fn load_driver(c: &mut DbConnection, id: &str) -> Result<DriverRow> {
    native!(c, c => drivers::table.find(id).select(DriverRow::as_select()).first(c))
        .optional()?
        .ok_or(Error::Domain(DomainError::NotFound { what: "driver" }))
}

/// The profile with identity numbers masked, for the audit trail.
fn audited(d: &DriverRow) -> serde_json::Value {
    serde_json::json!({
        "lang": d.lang, "name_zh": d.name_zh, "name_latin": d.name_latin,
        "nationality": d.nationality, "id_type": d.id_type,
        "id_number": d.id_number.as_deref().map(mask_id), "phone": d.phone.as_deref().map(mask_id),
        "trade_pass": d.trade_pass,
    })
}

/// Checks a profile change against the traveller rules (names, nationality, document) the
/// window uses, reading their messages in the driver's language where ours say it better.
/// The window's rules say what is wrong in Chinese and English; a driver reads it in their own
/// language. None: the rule's own message stands.
fn reword(field: &str, rule: &str, id_type: Option<IdType>) -> Option<Words> {
    Some(match (field, rule, id_type) {
        (_, "required", _) => W_REQUIRED,
        ("id_number", "length", _) => Words::new(
            "居民身份证号码应为18位",
            "Số chứng minh thư cư dân Trung Quốc gồm 18 ký tự",
            "A Chinese resident ID number has 18 characters",
        ),
        ("id_number", "format", Some(IdType::CnResidentId)) => Words::new(
            "前17位应为数字，末位为数字或X",
            "17 chữ số, sau đó một chữ số hoặc X",
            "17 digits, then a digit or X",
        ),
        ("id_number", "format", Some(IdType::VnCitizenId)) => Words::new(
            "越南公民身份证号应为12位数字",
            "Số căn cước công dân Việt Nam gồm 12 chữ số",
            "A Vietnamese citizen ID has 12 digits",
        ),
        ("id_number", "format", _) => Words::new(
            "护照号码应为5至9位字母或数字",
            "Số hộ chiếu gồm 5 đến 9 chữ cái hoặc chữ số",
            "A passport number has 5 to 9 letters or digits",
        ),
        ("id_number", "birth_date", _) => Words::new(
            "号码中的出生日期无效",
            "Ngày sinh trong số giấy tờ không hợp lệ",
            "The birth date inside the number is not a date",
        ),
        ("id_number", "check_character", _) => Words::new(
            "校验码不符，请核对号码",
            "Ký tự kiểm tra không khớp. Hãy kiểm tra lại số",
            "The check character does not match: check the number",
        ),
        ("nationality", "iso3166_alpha3", _) => Words::new(
            "国籍应为三字母代码，如 CHN、VNM",
            "Quốc tịch là mã 3 chữ cái, ví dụ VNM, CHN",
            "Nationality is a three-letter code such as VNM or CHN",
        ),
        ("nationality", "matches_id_type", _) => Words::new(
            "国籍与证件类型不符",
            "Quốc tịch không khớp với loại giấy tờ",
            "The nationality does not match the document type",
        ),
        ("id_type", "one_of", _) => Words::new("请选择证件类型", "Hãy chọn loại giấy tờ", "Choose the document type"),
        ("name_zh", "chinese_characters", _) => Words::new(
            "中文姓名只能包含汉字和“·”",
            "Tên chữ Hán chỉ gồm chữ Hán và dấu “·”",
            "Chinese characters and · only",
        ),
        ("name_latin", "latin_letters", _) => Words::new(
            "只能包含拉丁字母、空格、连字符和撇号",
            "Chỉ gồm chữ cái Latinh, khoảng trắng, dấu gạch nối và dấu nháy",
            "Latin letters, spaces, hyphens and apostrophes only",
        ),
        (_, "max_length", _) => W_TOO_LONG,
        _ => return None,
    })
}

/// A profile change whose every field passed.
struct ValidProfile {
    lang: Lang,
    name_zh: Option<String>,
    name_latin: Option<String>,
    nationality: String,
    id_type: IdType,
    id_number: String,
    phone: Option<String>,
}

fn validate_profile(lang: Lang, input: &ProfileInput) -> std::result::Result<ValidProfile, FieldErrors> {
    use crate::domain::traveller::{TravellerInput, validate};
    let mut errs = FieldErrors::new();
    let new_lang = match clean(input.lang.as_deref()) {
        None => lang,
        Some(l) => Lang::from_code(&l).unwrap_or_else(|| {
            add(&mut errs, lang, "lang", "one_of", W_LANG);
            lang
        }),
    };
    let lang = new_lang;
    let name_zh = clean(input.name_zh.as_deref());
    let name_latin = clean(input.name_latin.as_deref()).map(|n| n.split_whitespace().collect::<Vec<_>>().join(" "));
    if name_zh.is_none() && name_latin.is_none() {
        add(&mut errs, lang, "name_latin", "required", W_NAME_ONE);
    }
    // The window's rules, fed what a driver gives: sex and birth date are not asked of a
    // driver (a resident ID states them; a passport's are not checked here), and a Latin name
    // is optional beside a Chinese one.
    let as_traveller = TravellerInput {
        name_zh: name_zh.clone(),
        name_latin: name_latin.clone().or_else(|| Some("X".into())),
        nationality: input.nationality.clone(),
        sex: Some("X".into()),
        birth_date: Some("1970-01-01".into()),
        id_type: input.id_type.clone(),
        id_number: input.id_number.clone(),
        phone: None,
        email: None,
    };
    let today = chrono::NaiveDate::from_ymd_opt(2100, 1, 1).unwrap_or_default();
    if let Err(found) = validate(&as_traveller, today, "") {
        for e in found.0 {
            // Our placeholders' own checks against the number are not the driver's doing.
            if matches!(
                e.rule.as_str(),
                "birth_date_mismatch" | "birth_year_mismatch" | "sex_mismatch"
            ) {
                continue;
            }
            let id_type = clean(input.id_type.as_deref()).and_then(|t| IdType::parse(&t));
            let message =
                reword(&e.field, &e.rule, id_type).map_or(e.message.clone(), |w| w.pick(lang.code()).to_string());
            errs.add(e.field, &e.rule, message);
        }
    }
    // As the window's rules read them, once they passed.
    let nationality = clean(input.nationality.as_deref()).map(|n| n.to_uppercase());
    let id_type = clean(input.id_type.as_deref()).and_then(|t| IdType::parse(&t));
    let id_number = clean(input.id_number.as_deref()).map(|n| n.to_uppercase());
    if let Some(n) = &name_latin
        && n.chars().count() > 64
        && !errs.has("name_latin")
    {
        add(&mut errs, lang, "name_latin", "max_length", W_TOO_LONG);
    }
    let phone = clean(input.phone.as_deref()).map(|p| p.replace([' ', '-'], ""));
    if let Some(p) = &phone {
        let digits = p.strip_prefix('+').unwrap_or("");
        if !(7..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
            add(&mut errs, lang, "phone", "e164", W_PHONE);
        }
    }
    match (nationality, id_type, id_number) {
        (Some(nationality), Some(id_type), Some(id_number)) if errs.is_empty() => Ok(ValidProfile {
            lang,
            name_zh,
            name_latin,
            nationality,
            id_type,
            id_number,
            phone,
        }),
        _ => Err(errs),
    }
}

/// The trade pass rule: a border-trade permit, held by this ID number, in force now.
pub(crate) fn check_trade_pass(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    number: &str,
    id_type: IdType,
    id_number: &str,
) -> Result<std::result::Result<String, (&'static str, Words)>> {
    let number = number.trim().to_uppercase();
    if !plausible_key(&number) {
        return Ok(Err(("unknown", W_PASS_UNKNOWN)));
    }
    let found: Option<(PermitKind, String, String)> = permits::table
        .inner_join(travellers::table)
        .filter(permits::number.eq(&number))
        .select((permits::kind, travellers::id_type, travellers::id_number))
        .first(c)
        .optional()?;
    let Some((kind, holder_type, holder_number)) = found else {
        return Ok(Err(("unknown", W_PASS_UNKNOWN)));
    };
    if kind != PermitKind::BorderTrade {
        return Ok(Err(("unknown", W_PASS_UNKNOWN)));
    }
    // Someone else's pass reads as unknown (nothing about it is told), but the rule says which.
    if holder_type != id_type.as_str() || holder_number != id_number {
        return Ok(Err(("not_holder", W_PASS_UNKNOWN)));
    }
    let record = super::permits::get_permit(c, &number)?;
    let in_force = record.status(now) == PermitStatus::Issued && utc(record.permit.valid_from) <= now;
    if !in_force {
        return Ok(Err(("not_in_force", W_PASS_NOT_IN_FORCE)));
    }
    Ok(Ok(number))
}

pub fn profile(c: &mut DbConnection, driver: &Driver) -> Result<Profile> {
    Ok(load_driver(c, &driver.id)?.into())
}

pub fn update_profile(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    driver: &Driver,
    input: ProfileInput,
) -> Result<Profile> {
    write_tx(c, |c| {
        let before = load_driver(c, &driver.id)?;
        let lang = lang_of(&before.lang);
        let ValidProfile {
            lang,
            name_zh,
            name_latin,
            nationality,
            id_type,
            id_number,
            phone,
        } = validate_profile(lang, &input).map_err(Error::from)?;
        let mut errs = FieldErrors::new();
        let pass = clean(input.trade_pass.as_deref());
        let trade_pass = match (&pass, nationality.as_str()) {
            (None, _) => None,
            (Some(_), n) if n != "CHN" => {
                add(&mut errs, lang, "trade_pass", "chn_only", W_PASS_CHN_ONLY);
                None
            }
            (Some(p), _) => match check_trade_pass(c, now, p, id_type, &id_number)? {
                Ok(n) => Some(n),
                Err((rule, words)) => {
                    add(&mut errs, lang, "trade_pass", rule, words);
                    None
                }
            },
        };
        let taken: i64 = drivers::table
            .filter(drivers::id_type.eq(id_type.as_str()))
            .filter(drivers::id_number.eq(&id_number))
            .filter(drivers::id.ne(&driver.id))
            .count()
            .get_result(c)?;
        if taken > 0 {
            add(&mut errs, lang, "id_number", "taken", W_ID_TAKEN);
        }
        if !errs.is_empty() {
            return Err(errs.into());
        }
        let after = DriverRow {
            lang: lang.code().into(),
            name_zh,
            name_latin,
            nationality: Some(nationality),
            id_type: Some(id_type.as_str().into()),
            id_number: Some(id_number),
            phone,
            trade_pass,
            updated_at: ts(now),
            ..before.clone()
        };
        let written = diesel::update(drivers::table.find(&driver.id))
            .set((
                drivers::lang.eq(&after.lang),
                drivers::name_zh.eq(&after.name_zh),
                drivers::name_latin.eq(&after.name_latin),
                drivers::nationality.eq(&after.nationality),
                drivers::id_type.eq(&after.id_type),
                drivers::id_number.eq(&after.id_number),
                drivers::phone.eq(&after.phone),
                drivers::trade_pass.eq(&after.trade_pass),
                drivers::updated_at.eq(after.updated_at),
            ))
            .execute(c);
        // Two accounts racing to claim one document: the unique index decides, and the loser
        // hears what the check above would have told it.
        if let Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) =
            written
        {
            let mut errs = FieldErrors::new();
            add(&mut errs, lang, "id_number", "taken", W_ID_TAKEN);
            return Err(errs.into());
        }
        written?;
        audit::entry(now, Some(&driver.actor()), "driver.profile", "driver", &driver.id)
            .before(&audited(&before))
            .after(&audited(&after))
            .write(c)?;
        Ok(after.into())
    })
}

/// Only the language, as the pages' switcher changes it.
pub fn set_lang(c: &mut DbConnection, now: DateTime<Utc>, driver: &Driver, lang: Lang) -> Result<()> {
    write_tx(c, |c| {
        let before = driver.lang.code();
        diesel::update(drivers::table.find(&driver.id))
            .set((drivers::lang.eq(lang.code()), drivers::updated_at.eq(ts(now))))
            .execute(c)?;
        audit::entry(now, Some(&driver.actor()), "driver.lang", "driver", &driver.id)
            .before(&serde_json::json!({ "lang": before }))
            .after(&serde_json::json!({ "lang": lang.code() }))
            .write(c)
    })
}

// ---- vehicles ----------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Vehicle {
    pub id: String,
    /// Normalised: `桂A12345`, `12C-123.45`.
    pub plate: String,
    /// CN or VN, from the plate's format.
    pub country: String,
    pub trailer_plate: Option<String>,
    pub vehicle_type: VehicleType,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<chrono::FixedOffset>,
}

impl From<VehicleRow> for Vehicle {
    fn from(v: VehicleRow) -> Vehicle {
        Vehicle {
            id: v.id,
            plate: v.plate,
            country: v.country,
            trailer_plate: v.trailer_plate,
            vehicle_type: v.vehicle_type,
            created_at: local(utc(v.created_at)).fixed_offset(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct VehicleInput {
    /// A Chinese (桂A12345) or Vietnamese (12C-123.45) plate, any spacing.
    #[schema(required = true, nullable = false, max_length = 20)]
    pub plate: Option<String>,
    #[schema(max_length = 20)]
    pub trailer_plate: Option<String>,
    /// truck, tractor, refrigerated, tanker or van.
    #[schema(
        required = true,
        nullable = false,
        pattern = "^(truck|tractor|refrigerated|tanker|van)$"
    )]
    pub vehicle_type: Option<String>,
}

/// A plate checked as the trade pass checks it; its country from its format.
fn plate(errs: &mut FieldErrors, field: &str, raw: &str) -> Option<(String, &'static str)> {
    match crate::domain::trade::check_plate(raw) {
        Ok(p) if crate::domain::trade::is_cn_plate(&p) => Some((p, "CN")),
        Ok(p) if crate::domain::trade::is_vn_plate(&p) => Some((p, "VN")),
        Ok(_) => {
            errs.add(field, "plate_format", "not a Chinese or Vietnamese plate");
            None
        }
        Err((rule, message)) => {
            errs.add(field, rule, message);
            None
        }
    }
}

pub fn vehicles(c: &mut DbConnection, driver: &Driver) -> Result<Vec<Vehicle>> {
    Ok(vehicles::table
        .filter(vehicles::driver_id.eq(&driver.id))
        .filter(vehicles::removed_at.is_null())
        .order((vehicles::created_at.asc(), vehicles::id.asc()))
        .select(VehicleRow::as_select())
        .load(c)?
        .into_iter()
        .map(Vehicle::from)
        .collect())
}

pub fn add_vehicle(c: &mut DbConnection, now: DateTime<Utc>, driver: &Driver, input: VehicleInput) -> Result<Vehicle> {
    let lang = driver.lang;
    let mut errs = FieldErrors::new();
    let main = match clean(input.plate.as_deref()) {
        None => {
            add(&mut errs, lang, "plate", "required", W_REQUIRED);
            None
        }
        Some(p) => plate(&mut errs, "plate", &p),
    };
    let trailer = clean(input.trailer_plate.as_deref()).and_then(|p| plate(&mut errs, "trailer_plate", &p));
    let kind = clean(input.vehicle_type.as_deref()).and_then(|t| VehicleType::parse(&t));
    if kind.is_none() {
        add(&mut errs, lang, "vehicle_type", "one_of", W_VEHICLE_TYPE);
    }
    let (Some((plate, country)), Some(vehicle_type)) = (main, kind) else {
        return Err(errs.into());
    };
    if !errs.is_empty() {
        return Err(errs.into());
    }
    write_tx(c, |c| {
        // Touching the driver's row first queues a driver's concurrent adds behind one another
        // (a row lock on PostgreSQL; SQLite's write lock already does), so the count holds.
        diesel::update(drivers::table.find(&driver.id))
            .set(drivers::updated_at.eq(drivers::updated_at))
            .execute(c)?;
        let active: Vec<String> = vehicles::table
            .filter(vehicles::driver_id.eq(&driver.id))
            .filter(vehicles::removed_at.is_null())
            .select(vehicles::plate)
            .load(c)?;
        let mut errs = FieldErrors::new();
        if active.contains(&plate) {
            add(&mut errs, lang, "plate", "duplicate", W_VEHICLE_DUPLICATE);
        } else if active.len() as i64 >= MAX_VEHICLES {
            add(&mut errs, lang, "plate", "max_vehicles", W_VEHICLE_LIMIT);
        }
        if !errs.is_empty() {
            return Err(errs.into());
        }
        let row = VehicleRow {
            id: random_id()?,
            driver_id: driver.id.clone(),
            plate: plate.clone(),
            country: country.into(),
            trailer_plate: trailer.map(|t| t.0),
            vehicle_type,
            created_at: ts(now),
            removed_at: None,
        };
        diesel::insert_into(vehicles::table).values(&row).execute(c)?;
        audit::entry(now, Some(&driver.actor()), "vehicle.add", "vehicle", &row.id)
            .after(&serde_json::json!({"plate": row.plate, "country": row.country,
                "trailer_plate": row.trailer_plate, "vehicle_type": row.vehicle_type.as_str()}))
            .write(c)?;
        Ok(row.into())
    })
}

/// Removes one of the driver's own vehicles; another's answers as a missing one.
pub fn remove_vehicle(c: &mut DbConnection, now: DateTime<Utc>, driver: &Driver, id: &str) -> Result<()> {
    if !plausible_key(id) {
        return Err(DomainError::NotFound { what: "vehicle" }.into());
    }
    write_tx(c, |c| {
        let n = diesel::update(
            vehicles::table
                .find(id)
                .filter(vehicles::driver_id.eq(&driver.id))
                .filter(vehicles::removed_at.is_null()),
        )
        .set(vehicles::removed_at.eq(Some(ts(now))))
        .execute(c)?;
        if n == 0 {
            return Err(DomainError::NotFound { what: "vehicle" }.into());
        }
        audit::entry(now, Some(&driver.actor()), "vehicle.remove", "vehicle", id).write(c)
    })
}

impl super::Ctx {
    /// Mails a sign-in code to `email`, counted against `client`.
    pub async fn driver_request_code(&self, email: String, lang: String, client: std::net::IpAddr) -> Result<CodeSent> {
        self.tx(move |c, ctx, now| request_code(c, now, &ctx.drivers, &email, &lang, client))
            .await
    }

    /// Checks a sign-in code and opens a driver session.
    pub async fn driver_sign_in(
        &self,
        email: String,
        code: String,
        lang: Option<String>,
        client: std::net::IpAddr,
    ) -> Result<SignedIn> {
        self.tx(move |c, ctx, now| sign_in(c, now, &ctx.drivers, &email, &code, lang.as_deref(), client))
            .await
    }

    /// The driver behind a session token (bearer or cookie), if the session is live.
    pub async fn driver_session(&self, token: String) -> Result<Option<Driver>> {
        Ok(self.known(token, driver_entry).await?.map(|e| e.driver))
    }

    pub async fn driver_sign_out(&self, token: String) -> Result<()> {
        self.tx(move |c, _, now| sign_out(c, now, &token)).await
    }

    pub async fn driver_profile(&self, driver: Driver) -> Result<Profile> {
        self.tx(move |c, _, _| profile(c, &driver)).await
    }

    pub async fn driver_update_profile(&self, driver: Driver, input: ProfileInput) -> Result<Profile> {
        self.tx(move |c, _, now| update_profile(c, now, &driver, input)).await
    }

    pub async fn driver_set_lang(&self, driver: Driver, lang: Lang) -> Result<()> {
        self.tx(move |c, _, now| set_lang(c, now, &driver, lang)).await
    }

    /// The driver's home page: their profile and vehicles, read together.
    pub async fn driver_home(&self, driver: Driver) -> Result<(Profile, Vec<Vehicle>)> {
        self.tx(move |c, _, _| Ok((profile(c, &driver)?, vehicles(c, &driver)?)))
            .await
    }

    pub async fn driver_vehicles(&self, driver: Driver) -> Result<Vec<Vehicle>> {
        self.tx(move |c, _, _| vehicles(c, &driver)).await
    }

    pub async fn driver_add_vehicle(&self, driver: Driver, input: VehicleInput) -> Result<Vehicle> {
        self.tx(move |c, _, now| add_vehicle(c, now, &driver, input)).await
    }

    pub async fn driver_remove_vehicle(&self, driver: Driver, id: String) -> Result<()> {
        self.tx(move |c, _, now| remove_vehicle(c, now, &driver, &id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;
    use crate::mail::Mailer;
    use lettre::transport::stub::StubTransport;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(dir.path().join("t.db").to_str().unwrap(), 2).unwrap();
        db.migrate().unwrap();
        (dir, db)
    }

    fn cfg() -> DriverConfig {
        DriverConfig::new(5, 30, 20, Duration::hours(1), vec![7; 32])
    }

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + s, 0).unwrap()
    }

    const HOME: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 9));

    /// Delivers the outbox through lettre's stub and reads the code out of the last mail.
    fn mailed_code(db: &Db, stub: &StubTransport, now: DateTime<Utc>) -> String {
        let mailer = Mailer::stub(stub.clone()).unwrap();
        db.run_blocking(|c| super::super::outbox::deliver_due_with(c, &mailer, now, "t"))
            .unwrap();
        let (_, raw) = stub.messages().pop().unwrap();
        let mail = mailparse::parse_mail(raw.as_bytes()).unwrap();
        let text = mail
            .subparts
            .iter()
            .find(|p| p.ctype.mimetype == "text/plain")
            .unwrap()
            .get_body()
            .unwrap();
        text.split(|ch: char| !ch.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap()
            .to_string()
    }

    fn rule(e: Error) -> String {
        match e {
            Error::Domain(DomainError::Validation(errs)) => errs.0[0].rule.clone(),
            Error::Domain(DomainError::TooMany { rule, .. }) => rule.to_string(),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn codes_are_six_digits_hashed_with_the_secret_and_the_row() {
        let code = new_code().unwrap();
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
        let c = cfg();
        let h = c.code_hash("row-1", "123456");
        assert_eq!(h, c.code_hash("row-1", "123456"));
        assert_ne!(h, c.code_hash("row-2", "123456"), "the row is mixed in");
        assert_ne!(h, c.code_hash("row-1", "123457"));
        let other = DriverConfig::new(5, 30, 20, Duration::hours(1), vec![8; 32]);
        assert_ne!(h, other.code_hash("row-1", "123456"), "the secret is mixed in");
        assert!(!h.contains("123456"));
        assert_ne!(random_id().unwrap(), random_id().unwrap());
        assert_eq!(random_id().unwrap().as_bytes()[14], b'4', "UUID v4");
    }

    #[test]
    fn the_code_mail_says_the_code_its_expiry_and_to_ignore_it_in_each_language() {
        for (lang, ignore) in [
            (Lang::Zh, "请忽略本邮件"),
            (Lang::Vi, "hãy bỏ qua thư này"),
            (Lang::En, "ignore this message"),
        ] {
            let m = code_mail(lang, "042917", at(0)).unwrap();
            assert!(
                m.subject.contains("042917") && !m.subject.contains('\n'),
                "{}",
                m.subject
            );
            for body in [&m.text, &m.html] {
                assert!(
                    body.contains("042917") && body.contains("10") && body.contains(ignore),
                    "{body}"
                );
            }
        }
    }

    #[test]
    fn a_mailed_code_signs_in_once_then_never_again() {
        let (_dir, db) = db();
        let stub = StubTransport::new_ok();
        let c = cfg();
        db.run_blocking(|x| request_code(x, at(0), &c, " An.Nguyen@Example.VN ", "vi", HOME))
            .unwrap();
        let code = mailed_code(&db, &stub, at(0));
        let (_, raw) = stub.messages().pop().unwrap();
        assert!(raw.contains("an.nguyen@example.vn"), "{raw}");
        let stored: String = db
            .run_blocking(|x| Ok(driver_codes::table.select(driver_codes::code_hash).first(x)?))
            .unwrap();
        assert!(!stored.contains(&code) && stored.len() == 64);
        let s = db
            .run_blocking(|x| sign_in(x, at(60), &c, "an.nguyen@example.vn", &code, None, HOME))
            .unwrap();
        assert!(s.created);
        let d = db
            .run_blocking(|x| driver_for_token(x, at(61), &s.token))
            .unwrap()
            .unwrap();
        assert_eq!((d.id.as_str(), d.lang), (s.driver_id.as_str(), Lang::Vi));
        let again = db
            .run_blocking(|x| sign_in(x, at(62), &c, "an.nguyen@example.vn", &code, None, HOME))
            .unwrap_err();
        assert_eq!(rule(again), "used");
    }

    #[test]
    fn a_code_expires_after_ten_minutes_and_a_new_one_kills_the_old() {
        let (_dir, db) = db();
        let stub = StubTransport::new_ok();
        let c = cfg();
        db.run_blocking(|x| request_code(x, at(0), &c, "a@example.cn", "zh", HOME))
            .unwrap();
        let first = mailed_code(&db, &stub, at(0));
        let late = db
            .run_blocking(|x| sign_in(x, at(600), &c, "a@example.cn", &first, None, HOME))
            .unwrap_err();
        assert_eq!(rule(late), "expired");
        db.run_blocking(|x| request_code(x, at(601), &c, "a@example.cn", "zh", HOME))
            .unwrap();
        let second = mailed_code(&db, &stub, at(601));
        db.run_blocking(|x| request_code(x, at(602), &c, "a@example.cn", "zh", HOME))
            .unwrap();
        let third = mailed_code(&db, &stub, at(602));
        if second != third {
            let old = db
                .run_blocking(|x| sign_in(x, at(603), &c, "a@example.cn", &second, None, HOME))
                .unwrap_err();
            assert_eq!(rule(old), "wrong", "an earlier code no longer works");
        }
        assert!(
            db.run_blocking(|x| sign_in(x, at(604), &c, "a@example.cn", &third, None, HOME))
                .is_ok()
        );
    }

    #[test]
    fn five_wrong_tries_kill_the_code_even_for_the_right_one() {
        let (_dir, db) = db();
        let stub = StubTransport::new_ok();
        let c = cfg();
        db.run_blocking(|x| request_code(x, at(0), &c, "b@example.cn", "en", HOME))
            .unwrap();
        let code = mailed_code(&db, &stub, at(0));
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let mut rules = Vec::new();
        for i in 0..6 {
            let e = db
                .run_blocking(|x| sign_in(x, at(i), &c, "b@example.cn", wrong, None, HOME))
                .unwrap_err();
            rules.push(rule(e));
        }
        assert_eq!(
            rules,
            [
                "wrong",
                "wrong",
                "wrong",
                "wrong",
                "too_many_attempts",
                "too_many_attempts"
            ]
        );
        let right = db
            .run_blocking(|x| sign_in(x, at(10), &c, "b@example.cn", &code, None, HOME))
            .unwrap_err();
        assert_eq!(rule(right), "too_many_attempts");
        let attempts: i32 = db
            .run_blocking(|x| Ok(driver_codes::table.select(driver_codes::attempts).first(x)?))
            .unwrap();
        assert_eq!(attempts, CODE_ATTEMPTS);
        assert_eq!(
            db.run_blocking(|x| Ok(drivers::table.count().get_result::<i64>(x)?))
                .unwrap(),
            0
        );
    }
}
