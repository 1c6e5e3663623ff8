//! The transactional outbox: a use case that calls for a mail writes the rendered message here
//! in its own transaction ([`enqueue`]); a worker in each instance claims due rows with a
//! conditional update (a lease), sends, and records the outcome, retrying with exponential
//! backoff. The claim is the guard against a second send: of two workers on one database only
//! one update matches. A worker that dies after sending but before recording leaves a row whose
//! lease runs out and is sent again: at least once, never twice while workers live (the
//! Message-ID is the row's id, so a receiver can drop such a duplicate).

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::Ctx;
use crate::db::schema::mail_outbox;
use crate::db::{DbConnection, new_id, ts};
use crate::error::{Error, Result};
use crate::mail::{Lang, Outgoing, Rendered};

/// How long a claimed row is the worker's: well beyond the SMTP timeout (30 s).
const LEASE_SECONDS: i64 = 300;
/// The first retry's wait; doubled after each failure, up to [`MAX_BACKOFF_SECONDS`].
const FIRST_BACKOFF_SECONDS: i64 = 30;
/// An outage of a day still retries every hour: mail is delayed, never dropped.
const MAX_BACKOFF_SECONDS: i64 = 3600;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = mail_outbox, treat_none_as_default_value = false)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub subject_id: Option<String>,
    #[diesel(embed)]
    pub letter: Letter,
    pub created_at: NaiveDateTime,
    pub next_attempt_at: NaiveDateTime,
    pub attempts: i32,
    /// The worker holding it and until when (a lease, so a dead worker's rows come back).
    #[diesel(embed)]
    pub lease: Lease,
    pub sent_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Default, Queryable, Selectable, Insertable)]
#[diesel(table_name = mail_outbox, treat_none_as_default_value = false)]
pub struct Lease {
    pub claimed_by: Option<String>,
    pub claimed_until: Option<NaiveDateTime>,
}

/// The message itself, rendered when it was queued: what the recipient receives.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = mail_outbox, treat_none_as_default_value = false)]
pub struct Letter {
    pub recipient: String,
    pub lang: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// The file name of a PDF made as it leaves (a booking's slip, see `Ctx::deliver_due`).
    pub attachment_name: Option<String>,
}

impl OutboxRow {
    /// The message as it leaves, with the attachment made for it, if any.
    fn outgoing_with<'a>(&'a self, attachment: Option<&'a [u8]>) -> Outgoing<'a> {
        Outgoing {
            attachment: self.letter.attachment_name.as_deref().zip(attachment),
            ..self.outgoing()
        }
    }

    fn outgoing(&self) -> Outgoing<'_> {
        let l = &self.letter;
        Outgoing {
            id: &self.id,
            recipient: &l.recipient,
            subject: &l.subject,
            text: &l.body_text,
            html: &l.body_html,
            attachment: None,
        }
    }
}

/// Writes a message to the outbox inside the caller's transaction; returns its id.
pub fn enqueue(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    kind: &str,
    subject_id: Option<&str>,
    recipient: &str,
    lang: Lang,
    message: Rendered,
) -> Result<String> {
    let row = OutboxRow {
        id: new_id(),
        kind: kind.into(),
        subject_id: subject_id.map(Into::into),
        letter: Letter {
            recipient: recipient.into(),
            lang: lang.code().into(),
            subject: message.subject,
            body_text: message.text,
            body_html: message.html,
            attachment_name: message.attachment_name,
        },
        created_at: ts(now),
        next_attempt_at: ts(now),
        attempts: 0,
        lease: Lease::default(),
        sent_at: None,
        last_error: None,
    };
    crate::native!(c, c => diesel::insert_into(mail_outbox::table).values(&row).execute(c))?;
    Ok(row.id)
}

/// The kind of mail that carries a credential (a driver's sign-in code).
pub const CREDENTIAL_KIND: &str = "driver_code";
/// What a sent credential's body becomes.
const WITHHELD: &str = "(sent; the code is not kept)";

/// The wait before the next try after `attempts` failures.
pub fn backoff(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(16);
    Duration::seconds((FIRST_BACKOFF_SECONDS << doublings).min(MAX_BACKOFF_SECONDS))
}

/// Unsent, its retry time come, and no live lease on it (a macro: diesel's expression type for
/// it is long and said twice below).
macro_rules! due {
    ($at:expr) => {
        mail_outbox::sent_at
            .is_null()
            .and(mail_outbox::next_attempt_at.le($at))
            .and(
                mail_outbox::claimed_until
                    .is_null()
                    .or(mail_outbox::claimed_until.lt($at)),
            )
    };
}

/// Claims one due row for `worker`, or None when nothing is due. A row is due when unsent, its
/// retry time has come and no live lease holds it; the conditional update decides between
/// workers (PostgreSQL re-checks the condition on the row it waited for).
pub fn claim_next(c: &mut DbConnection, now: DateTime<Utc>, worker: &str) -> Result<Option<OutboxRow>> {
    let at = ts(now);
    let candidates: Vec<String> = mail_outbox::table
        .filter(due!(at))
        .order((mail_outbox::next_attempt_at.asc(), mail_outbox::id.asc()))
        .select(mail_outbox::id)
        .limit(16)
        .load(c)?;
    for id in candidates {
        let n = diesel::update(mail_outbox::table.find(&id).filter(due!(at)))
            .set((
                mail_outbox::claimed_by.eq(worker),
                mail_outbox::claimed_until.eq(ts(now + Duration::seconds(LEASE_SECONDS))),
            ))
            .execute(c)?;
        if n == 1 {
            return Ok(Some(
                mail_outbox::table.find(&id).select(OutboxRow::as_select()).first(c)?,
            ));
        }
    }
    Ok(None)
}

/// Records a send's outcome on a row `worker` holds, and releases it. False when the lease was
/// lost meanwhile (the row is left as the other worker has it).
pub fn record(
    c: &mut DbConnection,
    now: DateTime<Utc>,
    worker: &str,
    row: &OutboxRow,
    outcome: std::result::Result<(), String>,
) -> Result<bool> {
    let attempts = row.attempts.saturating_add(1);
    let mine = mail_outbox::table
        .find(&row.id)
        .filter(mail_outbox::claimed_by.eq(worker))
        .filter(mail_outbox::sent_at.is_null());
    let n = match outcome {
        Ok(()) => {
            let n = diesel::update(mine)
                .set((
                    mail_outbox::sent_at.eq(Some(ts(now))),
                    mail_outbox::attempts.eq(attempts),
                    mail_outbox::claimed_by.eq(None::<String>),
                    mail_outbox::claimed_until.eq(None::<NaiveDateTime>),
                ))
                .execute(c)?;
            // A sign-in code is a credential while it lives: once its mail has left, the outbox
            // keeps no copy of it (driver_codes keeps only its hash).
            if n == 1 && row.kind == CREDENTIAL_KIND {
                diesel::update(mail_outbox::table.find(&row.id))
                    .set((mail_outbox::body_text.eq(WITHHELD), mail_outbox::body_html.eq(WITHHELD)))
                    .execute(c)?;
            }
            n
        }
        Err(e) => {
            // An error text from a relay could be long; the start says what went wrong.
            let e: String = e.chars().take(500).collect();
            diesel::update(mine)
                .set((
                    mail_outbox::attempts.eq(attempts),
                    mail_outbox::last_error.eq(Some(e)),
                    mail_outbox::next_attempt_at.eq(ts(now + backoff(attempts))),
                    mail_outbox::claimed_by.eq(None::<String>),
                    mail_outbox::claimed_until.eq(None::<NaiveDateTime>),
                ))
                .execute(c)?
        }
    };
    Ok(n == 1)
}

/// What one pass of a worker did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    pub failed: usize,
}

/// The outbox as operators see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Not sent yet (including failing ones).
    pub queued: i64,
    /// Not sent and tried at least once.
    pub failing: i64,
    pub sent: i64,
    /// The creation time of the oldest unsent message.
    pub oldest_queued: Option<NaiveDateTime>,
}

/// One statement, so the figures come from one snapshot on both stores (separate counts let a
/// message sent in between show as queued and sent at once).
pub fn stats(c: &mut DbConnection) -> Result<Stats> {
    let unsent = mail_outbox::table.filter(mail_outbox::sent_at.is_null());
    let (queued, failing, sent, oldest_queued) = diesel::select((
        unsent.count().single_value(),
        unsent.filter(mail_outbox::attempts.gt(0)).count().single_value(),
        mail_outbox::table
            .filter(mail_outbox::sent_at.is_not_null())
            .count()
            .single_value(),
        unsent.select(diesel::dsl::min(mail_outbox::created_at)).single_value(),
    ))
    .get_result::<(Option<i64>, Option<i64>, Option<i64>, Option<NaiveDateTime>)>(c)?;
    Ok(Stats {
        queued: queued.unwrap_or(0),
        failing: failing.unwrap_or(0),
        sent: sent.unwrap_or(0),
        oldest_queued,
    })
}

/// The latest messages, newest first.
pub fn latest(c: &mut DbConnection, limit: i64) -> Result<Vec<OutboxRow>> {
    Ok(mail_outbox::table
        .order((mail_outbox::created_at.desc(), mail_outbox::id.desc()))
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(c)?)
}

/// Sends every due message with `mailer` on this connection (unit tests, one-off runs).
pub fn deliver_due_with(
    c: &mut DbConnection,
    mailer: &crate::mail::Mailer,
    now: DateTime<Utc>,
    worker: &str,
) -> Result<Delivered> {
    let mut done = Delivered::default();
    while let Some(row) = claim_next(c, now, worker)? {
        let outcome = mailer.send(&row.outgoing());
        match outcome {
            Ok(()) => done.sent += 1,
            Err(_) => done.failed += 1,
        }
        record(c, now, worker, &row, outcome)?;
    }
    Ok(done)
}

/// Starts this instance's outbox worker on the current runtime: a pass every `every`.
pub fn start_worker(ctx: Ctx, every: std::time::Duration) {
    let worker = format!("{}-{}", std::process::id(), new_id());
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match ctx.deliver_due(&worker).await {
                Ok(d) if d.failed > 0 => tracing::warn!(sent = d.sent, failed = d.failed, "mail not sent; will retry"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "mail outbox"),
            }
        }
    });
}

/// A message as the supervisors' page lists it: the recipient masked.
#[derive(Debug, Clone)]
pub struct OutboxLine {
    pub created_at: NaiveDateTime,
    pub kind: String,
    pub recipient: String,
    pub lang: String,
    pub subject: String,
    pub attempts: i32,
    pub sent_at: Option<NaiveDateTime>,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
}

impl From<OutboxRow> for OutboxLine {
    fn from(r: OutboxRow) -> Self {
        OutboxLine {
            created_at: r.created_at,
            kind: r.kind,
            recipient: crate::domain::mask::mask_email(&r.letter.recipient),
            lang: r.letter.lang,
            subject: r.letter.subject,
            attempts: r.attempts,
            sent_at: r.sent_at,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
        }
    }
}

/// The supervisors' view of the outbox.
pub struct OutboxView {
    pub stats: Stats,
    pub latest: Vec<OutboxLine>,
}

impl Ctx {
    /// The outbox for a supervisor: its counts and the latest 50 messages. The outbox is the
    /// service's, not an office's: every supervisor sees it whole (recipients masked).
    pub async fn outbox_view(&self, actor: crate::domain::auth::Actor) -> Result<OutboxView> {
        crate::domain::auth::authorize(&actor, crate::domain::auth::Action::Supervise)?;
        self.db
            .run(|c| {
                Ok(OutboxView {
                    stats: stats(c)?,
                    latest: latest(c, 50)?.into_iter().map(OutboxLine::from).collect(),
                })
            })
            .await
    }

    /// One pass of the outbox worker `worker`: claims, sends and records until nothing is due.
    /// No connection is held while a message is sent.
    pub async fn deliver_due(&self, worker: &str) -> Result<Delivered> {
        let mut done = Delivered::default();
        loop {
            let w = worker.to_string();
            let Some(row) = self.tx(move |c, _, now| claim_next(c, now, &w)).await? else {
                return Ok(done);
            };
            // A booking's slip is made now, from the booking, outside any write transaction.
            let pdf = match (&row.letter.attachment_name, &row.subject_id) {
                (Some(_), Some(id)) if row.kind.starts_with("booking.") => {
                    let id = id.clone();
                    self.tx(move |c, ctx, _| {
                        let ring = ctx.keys.ring(c)?;
                        super::bookings::slip_of(c, &ring, &ctx.policy.freight, &id)
                    })
                    .await?
                    .map(|d| d.pdf)
                }
                _ => None,
            };
            let mailer = self.mailer.clone();
            let (outcome, row) =
                tokio::task::spawn_blocking(move || (mailer.send(&row.outgoing_with(pdf.as_deref())), row))
                    .await
                    .map_err(Error::internal)?;
            match outcome {
                Ok(()) => done.sent += 1,
                Err(_) => done.failed += 1,
            }
            let w = worker.to_string();
            if !self.tx(move |c, _, now| record(c, now, &w, &row, outcome)).await? {
                tracing::warn!("an outbox lease ran out while its message was being sent");
            }
        }
    }

    /// The outbox's counts (the metrics and the supervisor page).
    pub async fn outbox_stats(&self) -> Result<Stats> {
        self.db.run(stats).await
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
        let db = Db::connect(dir.path().join("t.db").to_str().unwrap(), 4).unwrap();
        db.migrate().unwrap();
        (dir, db)
    }

    fn message(n: usize) -> Rendered {
        Rendered {
            subject: format!("Thông báo {n}"),
            text: "text".into(),
            html: "<p>html</p>".into(),
            attachment_name: None,
        }
    }

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + s, 0).unwrap()
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(5), Duration::seconds(480));
        assert_eq!(backoff(20), Duration::seconds(3600));
        assert_eq!(backoff(i32::MAX), Duration::seconds(3600));
    }

    #[test]
    fn a_failed_send_is_retried_after_its_backoff_then_sent_once() {
        let (_dir, db) = db();
        db.run_blocking(|c| enqueue(c, at(0), "test", None, "an@example.vn", Lang::Vi, message(1)))
            .unwrap();
        let down = Mailer::stub(StubTransport::new_error()).unwrap();
        let d = db.run_blocking(|c| deliver_due_with(c, &down, at(0), "w1")).unwrap();
        assert_eq!(d, Delivered { sent: 0, failed: 1 });
        let s = db.run_blocking(stats).unwrap();
        assert_eq!((s.queued, s.failing, s.sent), (1, 1, 0));
        let row = db.run_blocking(|c| latest(c, 1)).unwrap().remove(0);
        assert_eq!(row.attempts, 1);
        assert!(row.last_error.as_deref().unwrap_or("").starts_with("stub"));
        assert_eq!(row.next_attempt_at, ts(at(30)));
        assert_eq!(row.lease.claimed_by, None);

        let up = StubTransport::new_ok();
        let mailer = Mailer::stub(up.clone()).unwrap();
        // Not before its time.
        let d = db.run_blocking(|c| deliver_due_with(c, &mailer, at(29), "w1")).unwrap();
        assert_eq!(d, Delivered::default());
        let d = db.run_blocking(|c| deliver_due_with(c, &mailer, at(30), "w1")).unwrap();
        assert_eq!(d, Delivered { sent: 1, failed: 0 });
        let d = db
            .run_blocking(|c| deliver_due_with(c, &mailer, at(99_999), "w1"))
            .unwrap();
        assert_eq!(d, Delivered::default());
        let sent = up.messages();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].1.contains("an@example.vn"));
        let row = db.run_blocking(|c| latest(c, 1)).unwrap().remove(0);
        assert_eq!((row.attempts, row.sent_at), (2, Some(ts(at(30)))));
        let s = db.run_blocking(stats).unwrap();
        assert_eq!((s.queued, s.failing, s.sent, s.oldest_queued), (0, 0, 1, None));
    }

    #[test]
    fn a_held_lease_keeps_other_workers_off_until_it_runs_out() {
        let (_dir, db) = db();
        db.run_blocking(|c| enqueue(c, at(0), "test", None, "a@example.cn", Lang::Zh, message(1)))
            .unwrap();
        let row = db.run_blocking(|c| claim_next(c, at(0), "w1")).unwrap().unwrap();
        assert_eq!(row.lease.claimed_by.as_deref(), Some("w1"));
        assert!(
            db.run_blocking(|c| claim_next(c, at(LEASE_SECONDS), "w2"))
                .unwrap()
                .is_none()
        );
        // w1 died: after the lease another worker takes the row, and w1's late record is refused.
        let again = db
            .run_blocking(|c| claim_next(c, at(LEASE_SECONDS + 1), "w2"))
            .unwrap()
            .unwrap();
        assert_eq!(again.lease.claimed_by.as_deref(), Some("w2"));
        assert!(
            !db.run_blocking(|c| record(c, at(LEASE_SECONDS + 2), "w1", &row, Ok(())))
                .unwrap()
        );
        assert!(
            db.run_blocking(|c| record(c, at(LEASE_SECONDS + 2), "w2", &again, Ok(())))
                .unwrap()
        );
        assert_eq!(db.run_blocking(stats).unwrap().sent, 1);
    }
}
