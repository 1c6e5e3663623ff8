//! The one mailer: what a message says (askama templates in `templates/mail/`, in the
//! recipient's language) and how it leaves (SMTP with STARTTLS, a folder of `.eml` files, or
//! lettre's stub in unit tests). Sending is blocking; the outbox worker calls it off the async
//! workers (`service::outbox`).

use std::path::{Path, PathBuf};

use askama::Template;
use chrono::NaiveDate;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{FileTransport, Message, SmtpTransport, Transport as _};

use crate::error::{Error, Result};

/// The recipient's language: 中文, Tiếng Việt or English (the public pages' three).
pub use crate::views::progress::Lang;

/// Whether `text` is an address mail can be sent to (anything else is not queued: it would only
/// fail on every retry).
pub fn is_address(text: &str) -> bool {
    text.parse::<lettre::Address>().is_ok()
}

/// A rendered message, as the outbox stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The file name of a PDF made when the message leaves (a booking's slip).
    pub attachment_name: Option<String>,
}

/// One missing item and when it is due.
pub struct MissingItem {
    pub name: String,
    pub due: NaiveDate,
}

/// 一次性告知书 by mail: everything missing from an application accepted with deferred items.
pub struct MissingItems<'a> {
    pub lang: Lang,
    pub holder: &'a str,
    pub application_number: &'a str,
    pub office: &'a str,
    pub items: &'a [MissingItem],
}

#[derive(Template)]
#[template(path = "mail/missing_items_subject.txt")]
struct MissingSubject<'a> {
    lang: &'a str,
    number: &'a str,
}

#[derive(Template)]
#[template(path = "mail/missing_items.txt")]
struct MissingText<'a> {
    lang: &'a str,
    holder: &'a str,
    number: &'a str,
    office: &'a str,
    items: &'a [MissingItem],
}

/// The same letter as HTML (escaped as HTML): the template reads the text one's fields.
#[derive(Template)]
#[template(path = "mail/missing_items.html")]
struct MissingHtml<'a> {
    lang: &'a str,
    m: &'a MissingText<'a>,
}

impl MissingItems<'_> {
    pub fn render(&self) -> Result<Rendered> {
        let lang = self.lang.code();
        let (holder, number, office, items) = (self.holder, self.application_number, self.office, self.items);
        let text = MissingText {
            lang,
            holder,
            number,
            office,
            items,
        };
        Ok(Rendered {
            subject: one_line(&MissingSubject { lang, number }.render().map_err(Error::internal)?),
            text: text.render().map_err(Error::internal)?,
            html: MissingHtml { lang, m: &text }.render().map_err(Error::internal)?,
            attachment_name: None,
        })
    }
}

/// What happened to a booking, as its driver is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingEvent {
    Confirmed,
    Moved,
    Cancelled,
    /// Its slot was closed or reduced.
    Bumped,
    /// Called to the border, with a time to report by.
    Called,
    NoShow,
}

impl BookingEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingEvent::Confirmed => "confirmed",
            BookingEvent::Moved => "moved",
            BookingEvent::Cancelled => "cancelled",
            BookingEvent::Bumped => "bumped",
            BookingEvent::Called => "called",
            BookingEvent::NoShow => "no_show",
        }
    }

    /// The outbox kind of its mail.
    pub fn kind(self) -> &'static str {
        match self {
            BookingEvent::Confirmed => "booking.confirmed",
            BookingEvent::Moved => "booking.moved",
            BookingEvent::Cancelled => "booking.cancelled",
            BookingEvent::Bumped => "booking.bumped",
            BookingEvent::Called => "booking.called",
            BookingEvent::NoShow => "booking.no_show",
        }
    }
}

/// A booking's news, in the driver's language.
pub struct BookingLetter<'a> {
    pub lang: Lang,
    pub event: BookingEvent,
    pub number: &'a str,
    pub plate: &'a str,
    pub slot: &'a str,
    pub lane: &'a str,
    pub direction: &'a str,
    /// Local HH:MM, for a call.
    pub report_by: Option<String>,
    /// The booking's slip (its PDF file name) with a confirmation or a move.
    pub slip: Option<String>,
    /// Minutes either side of the slot a vehicle may check in (the policy's grace).
    pub grace: u32,
}

#[derive(Template)]
#[template(path = "mail/booking_subject.txt")]
struct BookingSubject<'a> {
    lang: &'a str,
    event: &'a str,
    number: &'a str,
}

#[derive(Template)]
#[template(path = "mail/booking.txt")]
struct BookingText<'a> {
    lang: &'a str,
    event: &'a str,
    number: &'a str,
    plate: &'a str,
    slot: &'a str,
    lane: &'a str,
    direction: &'a str,
    report_by: Option<String>,
    grace: u32,
}

#[derive(Template)]
#[template(path = "mail/booking.html")]
struct BookingHtml<'a> {
    lang: &'a str,
    event: &'a str,
    m: &'a BookingText<'a>,
}

impl BookingLetter<'_> {
    pub fn render(&self) -> Result<Rendered> {
        let lang = self.lang.code();
        let event = self.event.as_str();
        let text = BookingText {
            lang,
            event,
            number: self.number,
            plate: self.plate,
            slot: self.slot,
            lane: self.lane,
            direction: self.direction,
            report_by: self.report_by.clone(),
            grace: self.grace,
        };
        Ok(Rendered {
            subject: one_line(
                &BookingSubject {
                    lang,
                    event,
                    number: self.number,
                }
                .render()
                .map_err(Error::internal)?,
            ),
            text: text.render().map_err(Error::internal)?,
            html: BookingHtml { lang, event, m: &text }
                .render()
                .map_err(Error::internal)?,
            attachment_name: self.slip.clone(),
        })
    }
}

/// A subject is one header line: the template's line breaks and indentation are not part of it.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A message leaving the outbox.
pub struct Outgoing<'a> {
    /// The outbox row's id: also the Message-ID, so a receiver can tell a resend apart.
    pub id: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    /// File name and PDF bytes.
    pub attachment: Option<(&'a str, &'a [u8])>,
}

enum Transport {
    Smtp(Box<SmtpTransport>),
    Folder(FileTransport),
    Stub(lettre::transport::stub::StubTransport),
}

pub struct Mailer {
    from: Mailbox,
    transport: Transport,
    /// Where the folder transport writes, to say so at start.
    describe: String,
}

/// What `BORDERDESK_MAIL` may say.
pub struct MailSettings<'a> {
    /// `smtp://host[:port]` (STARTTLS required, port 587 by default), `smtps://host[:port]`
    /// (TLS from the start, 465), `smtp://127.0.0.1:port?tls=none` (no TLS, loopback only: a
    /// local relay or a test receiver), `file:DIR`; unset: the folder `mail` in the data dir.
    pub url: Option<&'a str>,
    pub user: Option<&'a str>,
    pub password: Option<&'a str>,
    pub from: &'a str,
    pub data_dir: &'a Path,
}

impl Mailer {
    pub fn from_settings(s: &MailSettings<'_>) -> Result<Mailer> {
        let from: Mailbox = s
            .from
            .parse()
            .map_err(|e| Error::Config(format!("BORDERDESK_MAIL_FROM {:?}: {e}", s.from)))?;
        let url = s.url.map(str::trim).filter(|u| !u.is_empty());
        let (transport, describe) = match url {
            None => folder(s.data_dir.join("mail"))?,
            Some(u) if u.starts_with("file:") => folder(PathBuf::from(&u["file:".len()..]))?,
            Some(u) => smtp(u, s.user, s.password)?,
        };
        Ok(Mailer {
            from,
            transport,
            describe,
        })
    }

    /// lettre's stub: records what it is given, answering as told (unit tests).
    pub fn stub(stub: lettre::transport::stub::StubTransport) -> Result<Mailer> {
        Ok(Mailer {
            from: "borderdesk <noreply@localhost>".parse().map_err(Error::internal)?,
            transport: Transport::Stub(stub),
            describe: "stub".into(),
        })
    }

    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// Sends one message; the error is text for the outbox's `last_error`.
    pub fn send(&self, m: &Outgoing<'_>) -> std::result::Result<(), String> {
        let to: Mailbox = m.recipient.parse().map_err(|e| format!("recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject)
            .message_id(Some(format!("<{}@borderdesk>", m.id)))
            .multipart(match m.attachment {
                None => MultiPart::alternative_plain_html(m.text.to_string(), m.html.to_string()),
                Some((name, pdf)) => MultiPart::mixed()
                    .multipart(MultiPart::alternative_plain_html(
                        m.text.to_string(),
                        m.html.to_string(),
                    ))
                    .singlepart(
                        lettre::message::Attachment::new(name.to_string()).body(
                            pdf.to_vec(),
                            lettre::message::header::ContentType::parse("application/pdf")
                                .map_err(|e| format!("content type: {e}"))?,
                        ),
                    ),
            })
            .map_err(|e| format!("message: {e}"))?;
        match &self.transport {
            Transport::Smtp(t) => t.send(&message).map(drop).map_err(|e| format!("smtp: {e}")),
            Transport::Folder(t) => t.send(&message).map(drop).map_err(|e| format!("folder: {e}")),
            Transport::Stub(t) => t.send(&message).map_err(|e| format!("stub: {e}")),
        }
    }
}

fn folder(dir: PathBuf) -> Result<(Transport, String)> {
    std::fs::create_dir_all(&dir).map_err(|e| Error::Config(format!("creating {}: {e}", dir.display())))?;
    let describe = format!("folder {}", dir.display());
    Ok((Transport::Folder(FileTransport::new(dir)), describe))
}

fn smtp(text: &str, user: Option<&str>, password: Option<&str>) -> Result<(Transport, String)> {
    let bad = |why: &str| Error::Config(format!("BORDERDESK_MAIL {text:?}: {why}"));
    let url = url::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
    let host = url.host_str().ok_or_else(|| bad("no host"))?.to_string();
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "put credentials in BORDERDESK_SMTP_USER and BORDERDESK_SMTP_PASSWORD, not the URL",
        ));
    }
    let plain = url.query_pairs().any(|(k, v)| k == "tls" && v == "none");
    let builder = match url.scheme() {
        "smtp" if plain => {
            // Credentials or mail in clear text only ever go to this machine.
            let loopback = host
                .trim_matches(|c| c == '[' || c == ']')
                .parse::<std::net::IpAddr>()
                .map(|a| a.is_loopback())
                .unwrap_or(host == "localhost");
            if !loopback {
                return Err(bad("tls=none is for a relay on this machine (loopback) only"));
            }
            SmtpTransport::builder_dangerous(&host).port(url.port().unwrap_or(25))
        }
        "smtp" => SmtpTransport::starttls_relay(&host)
            .map_err(|e| bad(&e.to_string()))?
            .port(url.port().unwrap_or(587)),
        "smtps" => SmtpTransport::relay(&host)
            .map_err(|e| bad(&e.to_string()))?
            .port(url.port().unwrap_or(465)),
        other => return Err(bad(&format!("unknown scheme {other} (smtp, smtps or file)"))),
    };
    let builder = match (user.map(str::trim).filter(|u| !u.is_empty()), password) {
        (Some(u), Some(p)) => builder.credentials(Credentials::new(u.to_string(), p.to_string())),
        (Some(_), None) => return Err(bad("BORDERDESK_SMTP_USER is set without BORDERDESK_SMTP_PASSWORD")),
        _ => builder,
    };
    // A slow relay must answer well within the outbox lease, or another worker could take the row.
    let transport = builder.timeout(Some(std::time::Duration::from_secs(30))).build();
    let describe = format!("smtp {}:{}", host, url.port().unwrap_or(0));
    Ok((Transport::Smtp(Box::new(transport)), describe))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lettre::transport::stub::StubTransport;

    fn items() -> Vec<MissingItem> {
        vec![MissingItem {
            name: "Giấy phép lái xe".into(),
            due: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        }]
    }

    #[test]
    fn language_follows_nationality() {
        assert_eq!(Lang::for_nationality("VNM"), Lang::Vi);
        assert_eq!(Lang::for_nationality("CHN"), Lang::Zh);
        assert_eq!(Lang::for_nationality("LAO"), Lang::En);
    }

    #[test]
    fn missing_items_in_each_language() {
        let items = items();
        let render = |lang| {
            MissingItems {
                lang,
                holder: "Nguyễn <Văn> An",
                application_number: "BT-2026-1",
                office: "Youyiguan",
                items: &items,
            }
            .render()
            .unwrap()
        };
        let vi = render(Lang::Vi);
        assert!(vi.subject.contains("Thông báo bổ sung giấy tờ"), "{}", vi.subject);
        assert!(!vi.subject.contains('\n'));
        assert!(
            vi.text.contains("Giấy phép lái xe") && vi.text.contains("2026-11-20"),
            "{}",
            vi.text
        );
        // The HTML body escapes what came from the application; the text body keeps it.
        assert!(
            vi.html.contains("Nguyễn &#60;Văn&#62; An") || vi.html.contains("Nguyễn &lt;Văn&gt; An"),
            "{}",
            vi.html
        );
        assert!(vi.text.contains("Nguyễn <Văn> An"));
        assert!(render(Lang::Zh).subject.contains("补正材料"));
        assert!(render(Lang::En).subject.contains("Missing items"));
    }

    #[test]
    fn a_booking_letter_speaks_the_drivers_language_and_carries_its_slip() {
        let letter = |lang| BookingLetter {
            lang,
            event: BookingEvent::Called,
            number: "YYG-7K3M-9Q2X",
            plate: "12C-123.45",
            slot: "2026-12-01 09:00",
            lane: "Làn xanh",
            direction: "Xuất cảnh",
            report_by: Some("09:20".into()),
            slip: Some("YYG-7K3M-9Q2X.pdf".into()),
            grace: 45,
        };
        let vi = letter(Lang::Vi).render().unwrap();
        assert_eq!(vi.subject, "Mời vào cửa khẩu ngay YYG-7K3M-9Q2X");
        assert!(
            vi.text.contains("trước 09:20") && vi.html.contains("<strong>09:20</strong>"),
            "{}",
            vi.text
        );
        let en = BookingLetter {
            event: BookingEvent::Confirmed,
            ..letter(Lang::En)
        };
        assert!(
            en.render().unwrap().text.contains("within 45 minutes"),
            "the policy's grace, not a fixed one"
        );
        let zh = letter(Lang::Zh).render().unwrap();
        assert!(zh.subject.starts_with("请立即前往口岸") && zh.text.contains("车牌：12C-123.45"));
        let stub = StubTransport::new_ok();
        let mailer = Mailer::stub(stub.clone()).unwrap();
        let name = vi.attachment_name.clone().unwrap();
        let pdf = b"%PDF-1.7 slip".to_vec();
        mailer
            .send(&Outgoing {
                id: "b1",
                recipient: "tai.xe@example.vn",
                subject: &vi.subject,
                text: &vi.text,
                html: &vi.html,
                attachment: Some((&name, &pdf)),
            })
            .unwrap();
        let raw = &stub.messages()[0].1;
        assert!(
            raw.contains("application/pdf") && raw.contains("YYG-7K3M-9Q2X.pdf"),
            "{raw}"
        );
    }

    #[test]
    fn the_stub_receives_the_message_and_reports_failure() {
        let stub = StubTransport::new_ok();
        let mailer = Mailer::stub(stub.clone()).unwrap();
        let out = Outgoing {
            id: "m1",
            recipient: "an@example.vn",
            subject: "Thông báo",
            text: "t",
            html: "<p>h</p>",
            attachment: None,
        };
        mailer.send(&out).unwrap();
        let sent = stub.messages();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0.to()[0].to_string(), "an@example.vn");
        assert!(sent[0].1.contains("Message-ID: <m1@borderdesk>"), "{}", sent[0].1);
        let failing = Mailer::stub(StubTransport::new_error()).unwrap();
        assert!(failing.send(&out).is_err());
        assert!(
            mailer
                .send(&Outgoing {
                    recipient: "not an address",
                    ..out
                })
                .is_err()
        );
    }

    #[test]
    fn smtp_settings_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let make = |url: &str| {
            Mailer::from_settings(&MailSettings {
                url: Some(url),
                user: None,
                password: None,
                from: "borderdesk <noreply@example.cn>",
                data_dir: dir.path(),
            })
        };
        assert!(make("smtp://mail.example.cn").is_ok());
        assert!(make("smtp://127.0.0.1:2525?tls=none").is_ok());
        assert!(make("smtp://mail.example.cn?tls=none").is_err());
        assert!(make("smtp://u:p@mail.example.cn").is_err());
        assert!(make("gopher://x").is_err());
        let default = Mailer::from_settings(&MailSettings {
            url: None,
            user: None,
            password: None,
            from: "noreply@example.cn",
            data_dir: dir.path(),
        })
        .unwrap();
        assert!(default.describe().starts_with("folder"));
        assert!(dir.path().join("mail").is_dir());
    }
}
