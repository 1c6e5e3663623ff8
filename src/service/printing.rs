//! What the service prints: the permit and the notice of missing items, from the stored records
//! and the policy's names, rendered off the async workers.

use chrono::{DateTime, Utc};

use super::Ctx;
use super::applications::ApplicationOut;
use super::permits::PermitRecord;
use crate::domain::auth::{Actor, on};
use crate::domain::local;
use crate::domain::policy::Policy;
use crate::error::{Error, Result};
use crate::print::PermitPrint;

/// A rendered document and the file name it is offered under.
pub struct Document {
    pub filename: String,
    pub pdf: Vec<u8>,
}

/// Rendering is CPU work of a few milliseconds: off the async workers like database calls.
async fn render<M: Send + 'static>(
    model: M,
    f: fn(&M) -> std::result::Result<Vec<u8>, crate::print::PrintError>,
) -> Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || f(&model))
        .await
        .map_err(Error::internal)?
        .map_err(Error::internal)
}

impl Ctx {
    /// The permit as PDF, for whoever may print it (its photo included when one is stored).
    pub async fn permit_pdf(&self, actor: Actor, number: String) -> Result<Document> {
        let model = self
            .tx(move |c, ctx, now| {
                let record = super::permits::read(c, &actor, &number, on::print)?;
                let photo = match record.application.portrait_at {
                    Some(_) => super::portraits::stored(c, &record.application.id)?,
                    None => None,
                };
                print_model(&ctx.policy, &record, photo, now)
            })
            .await?;
        let filename = format!("{}.pdf", model.number);
        Ok(Document {
            filename,
            pdf: render(model, crate::print::permit_pdf).await?,
        })
    }

    /// The notice of every missing item (一次性告知书) of an accepted application, as a model
    /// for the page, with the office's English name.
    pub async fn notice(
        &self,
        actor: Actor,
        id: String,
    ) -> Result<(crate::print::notice::NoticePrint, ApplicationOut)> {
        self.tx(move |c, ctx, now| {
            let app = super::applications::read(c, &actor, &id, now, &ctx.policy)?;
            Ok((notice_model(&ctx.policy, &app)?, app))
        })
        .await
    }

    /// The notice printed for the applicant: the PDF, with the print recorded in one
    /// transaction as a free service (a page per copy), the office's seal for notices used (if
    /// one is entered) and an audit row. Viewing the notice (`notice_pdf`) records nothing.
    pub async fn print_notice(&self, actor: Actor, id: String) -> Result<Document> {
        let (model, app) = self
            .tx(move |c, ctx, now| {
                crate::db::write_tx(c, |c| {
                    let app = super::applications::read(c, &actor, &id, now, &ctx.policy)?;
                    let model = notice_model(&ctx.policy, &app)?;
                    super::free::record(
                        c,
                        now,
                        &ctx.policy.free_services,
                        &actor,
                        super::free::Given {
                            office: &app.office,
                            service: crate::domain::free::FreeService::NoticePrint,
                            quantity: 1,
                            recipient: None,
                            enterprise: app.enterprise_name.clone(),
                            application_id: Some(app.id.clone()),
                            permit_number: None,
                            note: None,
                        },
                    )?;
                    let seal = super::seals::record_use(
                        c,
                        now,
                        &actor,
                        &app.office,
                        crate::domain::seals::SealDocument::Notice,
                        &app.id,
                    )?;
                    let after =
                        serde_json::json!({"items": model.items.len(), "seal": seal.as_ref().map(|s| &s.reference)});
                    crate::db::audit::entry(now, Some(&actor.id), "application.notice_print", "application", &app.id)
                        .after(&after)
                        .write(c)?;
                    Ok((model, app))
                })
            })
            .await?;
        Ok(Document {
            filename: format!("notice-{}.pdf", app.number.unwrap_or_default()),
            pdf: render(model, crate::print::notice::notice_pdf).await?,
        })
    }

    /// The same notice as PDF.
    pub async fn notice_pdf(&self, actor: Actor, id: String) -> Result<Document> {
        let (model, app) = self.notice(actor, id).await?;
        Ok(Document {
            filename: format!("notice-{}.pdf", app.number.unwrap_or_default()),
            pdf: render(model, crate::print::notice::notice_pdf).await?,
        })
    }
}

/// What a permit prints, from the stored permit and the policy's names for kinds and offices.
pub fn print_model(
    policy: &Policy,
    r: &PermitRecord,
    photo: Option<Vec<u8>>,
    now: DateTime<Utc>,
) -> Result<PermitPrint> {
    let kind = r.kind();
    let kp = policy.kind(kind);
    let office = policy.office(&r.permit.office);
    let status = r.status(now);
    // 制证先行: a pending permit is printed as it will be once complete; the system, not the
    // paper, says when it comes into force.
    // Read by Chinese and Vietnamese guards alike: the banner in the pass's three languages.
    let banner = {
        use crate::domain::permit::PermitStatus::*;
        match status {
            Issued | Pending => None,
            Revoked => Some(("已吊销", "ĐÃ THU HỒI", "REVOKED")),
            Expired => Some(("已过期", "HẾT HẠN", "EXPIRED")),
            Used => Some(("已使用", "ĐÃ SỬ DỤNG", "USED")),
            Suspended => Some(("已中止", "TẠM ĐÌNH CHỈ", "SUSPENDED")),
        }
        .map(|(zh, vi, en)| format!("{zh} 无效 · {vi} — KHÔNG CÓ GIÁ TRỊ · {en} — NOT VALID"))
    };
    Ok(PermitPrint {
        title_zh: kp.map(|k| k.title_zh.clone()).unwrap_or_else(|| kind.as_str().into()),
        title_vi: kp.map(|k| k.title_vi.clone()).unwrap_or_default(),
        title_en: kp.map(|k| k.title_en.clone()).unwrap_or_else(|| kind.as_str().into()),
        number: r.permit.number.clone(),
        application_number: r.application.number.clone().unwrap_or_else(|| r.application.id.clone()),
        name_zh: r.traveller.name_zh.clone(),
        name_latin: r.traveller.name_latin.clone(),
        nationality: r.traveller.nationality.clone(),
        sex: r.traveller.sex,
        birth_date: r.traveller.birth_date,
        // A travel document carries the full number: the guard matches it to the ID card.
        id_number: r.traveller.id_number.clone(),
        valid_from: local(crate::db::utc(r.permit.valid_from)).date_naive(),
        valid_until: local(crate::db::utc(r.permit.valid_until)).date_naive(),
        entries_allowed: r.permit.entries_allowed,
        office_zh: office
            .map(|o| o.name_zh.clone())
            .unwrap_or_else(|| r.permit.office.clone()),
        office_en: office.map(|o| o.name_en.clone()).unwrap_or_default(),
        issued_at: local(crate::db::utc(r.permit.issued_at))
            .format("%Y-%m-%d %H:%M UTC%:z")
            .to_string(),
        code: r.permit.signed_code.clone(),
        enterprise: r.application.enterprise_name.clone(),
        plates: r.plates(),
        banner,
        photo: photo.map(|jpeg| crate::print::permit::Photo {
            jpeg,
            width: crate::service::portraits::WIDTH,
            height: crate::service::portraits::HEIGHT,
        }),
        media: office.map(|o| o.permit_media).unwrap_or_default(),
    })
}

/// The one complete notice of missing items for an accepted application.
pub fn notice_model(policy: &Policy, app: &ApplicationOut) -> Result<crate::print::notice::NoticePrint> {
    use crate::domain::DomainError;
    let items: Vec<_> = app
        .materials
        .iter()
        .filter(|m| !m.provided)
        .filter_map(|m| {
            m.due_date.map(|due| crate::print::notice::NoticeItem {
                name_zh: m.name_zh.clone(),
                name_en: m.name_en.clone(),
                name_vi: m.name_vi.clone(),
                due,
            })
        })
        .collect();
    if items.is_empty() {
        return Err(DomainError::Conflict {
            message: "没有待补材料 / nothing is missing".into(),
            current_state: app.status.as_str().into(),
        }
        .into());
    }
    let kp = policy.kind(app.kind);
    Ok(crate::print::notice::NoticePrint {
        application_number: app.number.clone().unwrap_or_else(|| app.id.clone()),
        kind_zh: kp.map(|k| k.title_zh.clone()).unwrap_or_default(),
        kind_en: kp.map(|k| k.title_en.clone()).unwrap_or_default(),
        holder: format!(
            "{} {}",
            app.traveller.name_zh.clone().unwrap_or_default(),
            app.traveller.name_latin
        ),
        office_zh: policy
            .office(&app.office)
            .map(|o| o.name_zh.clone())
            .unwrap_or_else(|| app.office.clone()),
        accepted_at: app
            .accepted_at
            .map(|t| t.format("%Y-%m-%d %H:%M UTC%:z").to_string())
            .unwrap_or_default(),
        items,
    })
}
