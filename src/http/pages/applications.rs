//! The desk: taking applications at the window, the application page and its workflow steps,
//! portrait, receipt, issuing and the notice of missing items.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, get, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{CsrfForm, Page, PageError, PageSession, html, kind_title, redirect};
use crate::domain::DomainError;
use crate::domain::auth::{Action, may};
use crate::domain::local;
use crate::domain::mask::mask_id;
use crate::domain::portrait::{CropAsk, CropText};
use crate::domain::traveller::TravellerInput;
use crate::domain::validation::FieldError;
use crate::error::Error;
use crate::http::{AppState, State};
use crate::service::accounts;
use crate::service::applications::{self, Move};
use crate::views::*;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(desk)
        .service(create_application)
        .service(application)
        .service(step)
        .service(portrait)
        .service(portrait_page)
        .service(save_portrait)
        .service(receipt)
        .service(unlock)
        .service(issue)
        .service(notice)
        .service(print_notice);
}

async fn desk_page(
    state: &AppState,
    session: &PageSession,
    form: ApplicationForm,
    errors: Vec<FieldError>,
    duplicate: Option<DuplicateWarning>,
) -> Result<DeskPage, PageError> {
    let (open, recent) = state.ctx.desk(session.actor.clone()).await?;
    let now = state.ctx.clock.now();
    let policy = state.ctx.policy.clone();
    let offered: Vec<_> = policy
        .kinds
        .iter()
        .filter(|(k, _)| may(&session.actor, Action::CreateApplication(**k)))
        .collect();
    let kinds = offered
        .iter()
        .map(|(k, p)| (k.as_str().to_string(), format!("{} {}", p.title_zh, p.title_en)))
        .collect();
    // Only the documents some offered kind accepts.
    let id_types = crate::domain::ids::IdType::ALL
        .into_iter()
        .filter(|t| offered.iter().any(|(_, p)| p.eligible_id_types.contains(t)))
        .map(|t| {
            let w = words::id_type(t);
            (t.as_str().to_string(), format!("{} {}", w.zh, w.en))
        })
        .collect();
    let validity_options = std::iter::once((String::new(), "默认 default".to_string()))
        .chain(
            state
                .ctx
                .policy
                .kind(crate::domain::permit::PermitKind::BorderTrade)
                .into_iter()
                .flat_map(|k| {
                    k.validity_options
                        .iter()
                        .map(|o| (o.code.clone(), format!("{} {}", o.label_zh, o.label_en)))
                }),
        )
        .collect();
    Ok(DeskPage {
        nav: session.nav(),
        kinds,
        validity_options,
        id_types,
        form,
        errors,
        duplicate,
        open: open
            .into_iter()
            .map(|(a, t)| OpenApplication {
                kind: words::kind(&policy, a.kind),
                status: words::application_status(a.status),
                id: a.id,
                name: format!("{} {}", t.name_zh.unwrap_or_default(), t.name_latin),
                id_number: mask_id(&t.id_number),
                created_at: local(crate::db::utc(a.created_at)).format("%m-%d %H:%M").to_string(),
            })
            .collect(),
        recent: recent
            .into_iter()
            .map(|r| RecentPermit {
                status: r.status(now).as_str().into(),
                status_words: words::permit_status(r.status(now)),
                valid_until: local(crate::db::utc(r.permit.valid_until))
                    .format("%Y-%m-%d")
                    .to_string(),
                number: r.permit.number,
                name: format!("{} {}", r.traveller.name_zh.unwrap_or_default(), r.traveller.name_latin),
                id_number: mask_id(&r.traveller.id_number),
            })
            .collect(),
    })
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "The officer's desk", content_type = "text/html"), (status = 303, description = "To login")))]
#[get("/desk")]
pub async fn desk(state: State, session: PageSession) -> Page {
    let first_kind = state
        .ctx
        .policy
        .kinds
        .keys()
        .find(|k| may(&session.actor, Action::CreateApplication(**k)));
    // Nobody lands on a form they cannot use: without a kind to take, to the role's own work.
    let Some(first_kind) = first_kind else {
        return Ok(redirect(landing(session.actor.role)));
    };
    let form = ApplicationForm {
        kind: first_kind.as_str().into(),
        nationality: "CHN".into(),
        id_type: "cn_resident_id".into(),
        ..Default::default()
    };
    Ok(html(
        StatusCode::OK,
        &desk_page(&state, &session, form, Vec::new(), None).await?,
    ))
}

#[utoipa::path(tag = "pages", responses((status = 303, description = "Taken; to the application"), (status = 422, description = "Form redisplayed with every error", content_type = "text/html")))]
#[post("/desk/applications")]
pub async fn create_application(state: State, session: PageSession, form: web::Form<ApplicationForm>) -> Page {
    let form = form.into_inner();
    session.check_csrf(&form.csrf)?;
    let opt = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
    let input = applications::NewApplication {
        kind: opt(&form.kind),
        traveller: Some(TravellerInput {
            name_zh: opt(&form.name_zh),
            name_latin: opt(&form.name_latin),
            nationality: opt(&form.nationality),
            sex: opt(&form.sex),
            birth_date: opt(&form.birth_date),
            id_type: opt(&form.id_type),
            id_number: opt(&form.id_number),
            phone: opt(&form.phone),
            email: opt(&form.email),
        }),
        enterprise: (!form.enterprise_name.trim().is_empty() || !form.credit_code.trim().is_empty()).then(|| {
            applications::EnterpriseInput {
                name: opt(&form.enterprise_name),
                credit_code: opt(&form.credit_code),
            }
        }),
        plates: Some(
            form.plates
                .split([' ', ',', '，'])
                .filter(|p| !p.trim().is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>(),
        )
        .filter(|p| !p.is_empty()),
        validity_option: opt(&form.validity_option),
        fee_waived: Some(form.fee_waived == "yes"),
        photo_ref: opt(&form.photo_ref),
        confirm_duplicate: Some(form.confirm_duplicate == "yes"),
    };
    match state.ctx.take_application(session.actor.clone(), input).await {
        Ok(applications::Taken::New(app)) => Ok(redirect(&format!("/desk/applications/{}", app.id))),
        Ok(applications::Taken::OpenExists(open)) => {
            let warning = DuplicateWarning {
                number: open.number.clone().unwrap_or_else(|| open.id.clone()),
                status: words::application_status(open.status),
                id: open.id,
            };
            Ok(html(
                StatusCode::CONFLICT,
                &desk_page(&state, &session, form, Vec::new(), Some(warning)).await?,
            ))
        }
        Err(Error::Domain(DomainError::Validation(errs))) => Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &desk_page(&state, &session, form, errs.0, None).await?,
        )),
        Err(e) => Err(e.into()),
    }
}

async fn application_page(
    state: &AppState,
    session: &PageSession,
    id: String,
    error: Option<String>,
) -> Result<ApplicationPage, PageError> {
    let (app, lookup) = state.ctx.application_with_lookup(session.actor.clone(), id).await?;
    let china = |t: chrono::DateTime<chrono::Utc>| local(t).format("%Y-%m-%d %H:%M").to_string();
    let lookup = lookup.map(|l| LookupView {
        code_issued_at: china(l.code_issued_at),
        failures: l.failures,
        locked_until: l.locked_until.map(china),
    });
    let kp = state.ctx.policy.kind(app.kind);
    let checklist = kp
        .map(|k| {
            k.materials
                .iter()
                .map(|m| (m.code.clone(), format!("{} {}", m.name_zh, m.name_en), m.deferrable))
                .collect()
        })
        .unwrap_or_default();
    let offer = actions::offer(
        &session.actor,
        kp,
        &actions::Facts {
            kind: app.kind,
            office: &app.office,
            status: app.status,
            accepted_by: app.accepted_by.as_deref(),
            outstanding: app.materials.iter().filter(|m| !m.provided).count(),
            attention: app.attention.is_some(),
        },
    );
    let policy = &state.ctx.policy;
    let words = ApplicationWords {
        status: words::application_status(app.status),
        id_type: words::id_type_code(&app.traveller.id_type),
        sex: words::sex_code(&app.traveller.sex),
        validity: (app.kind == crate::domain::permit::PermitKind::BorderTrade)
            .then(|| words::validity_option(policy, app.kind, app.validity_option.as_deref())),
        office: words::office(policy, &app.office),
    };
    Ok(ApplicationPage {
        nav: session.nav(),
        kind_title: kind_title(state, app.kind),
        can_see_portrait: may(&session.actor, Action::ViewPortrait { office: &app.office }),
        offer,
        words,
        idempotency_key: accounts::random_secret("page-")?,
        checklist,
        can_receipt: may(&session.actor, Action::CreateApplication(app.kind)),
        lookup,
        app,
        error,
    })
}

/// After a change on an application page: back to the application, or the page again with
/// what was wrong (refused input 422, wrong state 409, not allowed 403).
async fn after_change(state: &AppState, session: &PageSession, id: String, outcome: Result<(), Error>) -> Page {
    let (status, message) = match outcome {
        Ok(()) => return Ok(redirect(&format!("/desk/applications/{id}"))),
        Err(Error::Domain(DomainError::Validation(errs))) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            errs.0.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("；"),
        ),
        Err(Error::Domain(DomainError::Conflict { message, .. })) => (StatusCode::CONFLICT, message),
        Err(Error::Domain(DomainError::Forbidden(message))) => (StatusCode::FORBIDDEN, message),
        Err(e) => return Err(e.into()),
    };
    Ok(html(
        status,
        &application_page(state, session, id, Some(message)).await?,
    ))
}

#[utoipa::path(tag = "pages", params(("id" = String, Path)), responses((status = 303, description = "Done; back to the application"), (status = 409, description = "Not allowed in the current state", content_type = "text/html"), (status = 422, description = "Redisplayed with the problem", content_type = "text/html")))]
#[post("/desk/applications/{id}/step")]
pub async fn step(state: State, session: PageSession, id: web::Path<String>, form: web::Form<StepForm>) -> Page {
    let form = form.into_inner();
    session.check_csrf(&form.csrf)?;
    let provided: Vec<String> = form
        .presented
        .keys()
        .filter_map(|n| n.strip_prefix("m_").map(str::to_string))
        .collect();
    let id = id.into_inner();
    let field = |name: &str| match name {
        "reason" => form.reason.clone(),
        "item" => form.item.clone(),
        "result" => form.result.clone(),
        _ => None,
    };
    let Some(wanted) = Move::from_form(&form.step, field, provided) else {
        return Err(PageError::NotFound);
    };
    let outcome = state.ctx.step(session.actor.clone(), id.clone(), wanted).await;
    after_change(&state, &session, id, outcome.map(|_| ())).await
}

/// The application page's step buttons: which step, with the fields it needs.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct StepForm {
    #[serde(default)]
    csrf: String,
    /// accept, approve, reject, withdraw, collect, supply, acknowledge or review.
    #[serde(default)]
    step: String,
    reason: Option<String>,
    /// The checklist item supplied (supply).
    item: Option<String>,
    /// approved or rejected (review).
    result: Option<String>,
    /// `m_<item code>` for each checklist item presented at acceptance.
    #[serde(flatten)]
    #[schema(value_type = std::collections::HashMap<String, String>)]
    presented: std::collections::BTreeMap<String, String>,
}

/// The portrait form: the photo as a file (a camera on a tablet offers itself for it).
#[derive(actix_multipart::form::MultipartForm)]
pub struct PortraitForm {
    csrf: actix_multipart::form::text::Text<String>,
    photo: actix_multipart::form::bytes::Bytes,
}

#[utoipa::path(tag = "pages", params(("id" = String, Path)), responses((status = 303, description = "Stored; back to the application"), (status = 422, description = "Redisplayed with what is wrong with the photo", content_type = "text/html")))]
#[post("/desk/applications/{id}/portrait")]
pub async fn portrait(
    state: State,
    session: PageSession,
    id: web::Path<String>,
    form: Result<actix_multipart::form::MultipartForm<PortraitForm>, actix_web::Error>,
) -> Page {
    let id = id.into_inner();
    // A form that cannot be read changes nothing: it is redisplayed with what went wrong beside
    // the photo (the multipart limit is the photo's limit plus room for the CSRF field), not
    // answered with actix's bare "Payload error".
    let form = match form {
        Ok(form) => form,
        Err(e) => {
            let too_large = matches!(
                e.as_error::<actix_multipart::MultipartError>(),
                Some(actix_multipart::MultipartError::Payload(
                    actix_web::error::PayloadError::Overflow
                ))
            );
            let mut errs = crate::domain::validation::FieldErrors::new();
            if too_large {
                errs.add(
                    "photo",
                    "max_size",
                    "照片文件不超过12 MB，请重新拍摄或压缩后上传 / the photo file must be at most 12 MB: take it again or make it smaller",
                );
            } else {
                errs.add(
                    "photo",
                    "upload",
                    "照片未能上传，请重新选择照片后提交 / the photo did not arrive: choose it again and submit",
                );
            }
            return after_change(&state, &session, id, Err(errs.into())).await;
        }
    };
    let form = form.into_inner();
    session.check_csrf(&form.csrf)?;
    let outcome = state
        .ctx
        .draft_portrait(session.actor.clone(), id.clone(), form.photo.data)
        .await;
    match outcome {
        Ok(_) => Ok(redirect(&format!("/desk/applications/{id}/portrait"))),
        Err(e) => after_change(&state, &session, id, Err(e)).await,
    }
}

#[utoipa::path(tag = "pages", params(("id" = String, Path), ("x" = Option<String>, Query), ("y" = Option<String>, Query), ("height" = Option<String>, Query), ("nudge" = Option<String>, Query)), responses((status = 200, description = "The photo with its crop box and quality lines", content_type = "text/html"), (status = 303, description = "No photo awaiting its crop: back to the application"), (status = 422, description = "A box not on the photo, or figures that are no whole numbers: the centred box, saying so", content_type = "text/html")))]
#[get("/desk/applications/{id}/portrait")]
pub async fn portrait_page(state: State, session: PageSession, id: web::Path<String>, q: web::Query<CropText>) -> Page {
    let id = id.into_inner();
    let outcome = match q.read() {
        Ok(ask) => state.ctx.portrait_draft(session.actor.clone(), id.clone(), ask).await,
        Err(errs) => Err(errs.into()),
    };
    adjusting(&state, &session, id, outcome).await
}

/// The photo page for `outcome`, or what to do instead: a box not on the photo shows the
/// centred box with the reason; no photo awaiting its crop leads back to the application.
async fn adjusting(
    state: &AppState,
    session: &PageSession,
    id: String,
    outcome: Result<crate::service::portraits::DraftView, Error>,
) -> Page {
    let (status, draft, errors) = match outcome {
        Ok(draft) => (StatusCode::OK, draft, Vec::new()),
        Err(Error::Domain(DomainError::Validation(errs))) => {
            let centred = state
                .ctx
                .portrait_draft(session.actor.clone(), id.clone(), CropAsk::default())
                .await;
            match centred {
                Ok(draft) => (StatusCode::UNPROCESSABLE_ENTITY, draft, errs.0),
                Err(e) => return gone_back(state, session, id, e).await,
            }
        }
        Err(e) => return gone_back(state, session, id, e).await,
    };
    Ok(html(
        status,
        &PortraitPage {
            nav: session.nav(),
            application_id: id,
            draft,
            errors,
        },
    ))
}

/// No photo awaiting its crop (saved, replaced long ago): the application, where the photo is.
async fn gone_back(state: &AppState, session: &PageSession, id: String, e: Error) -> Page {
    match e {
        Error::Domain(DomainError::NotFound { what: "photo draft" }) => {
            Ok(redirect(&format!("/desk/applications/{id}")))
        }
        e => after_change(state, session, id, Err(e)).await,
    }
}

/// The photo page's save button: the box's figures, as the form sends them (text).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct SavePortraitForm {
    #[serde(default)]
    csrf: String,
    x: Option<String>,
    y: Option<String>,
    height: Option<String>,
}

#[utoipa::path(tag = "pages", params(("id" = String, Path)), responses((status = 303, description = "Saved; back to the application"), (status = 409, description = "The photo was replaced meanwhile: the latest one shown", content_type = "text/html"), (status = 422, description = "A box not on the photo", content_type = "text/html")))]
#[post("/desk/applications/{id}/portrait/save")]
pub async fn save_portrait(
    state: State,
    session: PageSession,
    id: web::Path<String>,
    form: web::Form<SavePortraitForm>,
) -> Page {
    let form = form.into_inner();
    session.check_csrf(&form.csrf)?;
    let id = id.into_inner();
    let typed = CropText {
        x: form.x,
        y: form.y,
        height: form.height,
        nudge: None,
    };
    let saved = match typed.read() {
        Ok(ask) => {
            state
                .ctx
                .save_portrait_draft(session.actor.clone(), id.clone(), ask)
                .await
        }
        Err(errs) => Err(errs.into()),
    };
    match saved {
        Ok(()) => Ok(redirect(&format!("/desk/applications/{id}"))),
        Err(Error::Domain(DomainError::Conflict { message, .. })) => {
            let latest = state
                .ctx
                .portrait_draft(session.actor.clone(), id.clone(), CropAsk::default())
                .await;
            match latest {
                Ok(draft) => Ok(html(
                    StatusCode::CONFLICT,
                    &PortraitPage {
                        nav: session.nav(),
                        application_id: id,
                        draft,
                        errors: vec![FieldError {
                            field: "photo".into(),
                            rule: "replaced".into(),
                            message,
                        }],
                    },
                )),
                Err(e) => gone_back(&state, &session, id, e).await,
            }
        }
        Err(e) => adjusting(&state, &session, id, Err(e)).await,
    }
}

#[utoipa::path(tag = "pages", params(("id" = String, Path)), responses((status = 200, content_type = "text/html")))]
#[get("/desk/applications/{id}")]
pub async fn application(state: State, session: PageSession, id: web::Path<String>) -> Page {
    Ok(html(
        StatusCode::OK,
        &application_page(&state, &session, id.into_inner(), None).await?,
    ))
}

#[utoipa::path(tag = "pages", params(("id" = String, Path)), responses((status = 200, description = "The receipt with a new lookup code, shown this once (any earlier code stops working)", content_type = "text/html"), (status = 403, description = "Not a window officer for this kind", content_type = "text/html")))]
#[post("/desk/applications/{id}/receipt")]
pub async fn receipt(
    state: State,
    req: HttpRequest,
    session: PageSession,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Page {
    session.check_csrf(&form.csrf)?;
    let receipt = state.ctx.issue_receipt(session.actor.clone(), id.into_inner()).await?;
    let kp = state.ctx.policy.kind(receipt.kind);
    let title = |f: fn(&crate::domain::policy::KindPolicy) -> &String| kp.map(f).cloned().unwrap_or_default();
    // The address applicants know: the configured public origin, else the Host this page came on.
    let origin = match &state.public_origin {
        Some(o) => o.ascii_serialization(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    };
    Ok(html(
        StatusCode::OK,
        &ReceiptPage {
            nav: session.nav(),
            kind_zh: title(|k| &k.title_zh),
            kind_vi: title(|k| &k.title_vi),
            kind_en: title(|k| &k.title_en),
            issued_at: local(receipt.issued_at).format("%Y-%m-%d %H:%M").to_string(),
            progress_url: format!("{origin}/progress"),
            receipt,
        },
    ))
}

#[utoipa::path(tag = "pages", params(("id" = String, Path)), responses((status = 303, description = "Unlocked; back to the application"), (status = 409, description = "No receipt printed yet", content_type = "text/html")))]
#[post("/desk/applications/{id}/unlock")]
pub async fn unlock(state: State, session: PageSession, id: web::Path<String>, form: web::Form<CsrfForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let id = id.into_inner();
    let outcome = state.ctx.unlock_lookup(session.actor.clone(), id.clone()).await;
    after_change(&state, &session, id, outcome).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct IssueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    idempotency_key: String,
}

#[utoipa::path(tag = "pages", params(("id" = String, Path)), responses((status = 303, description = "Issued; to the permit")))]
#[post("/desk/applications/{id}/issue")]
pub async fn issue(state: State, session: PageSession, id: web::Path<String>, form: web::Form<IssueForm>) -> Page {
    session.check_csrf(&form.csrf)?;
    let id = id.into_inner();
    let key = Some(form.idempotency_key.clone()).filter(|k| !k.is_empty());
    match state
        .ctx
        .issue_permit(session.actor.clone(), id.clone(), key, b"")
        .await
    {
        Ok((out, replayed)) => {
            if !replayed {
                state.metrics.permits_issued.inc();
            }
            Ok(redirect(&format!("/desk/permits/{}", out.number)))
        }
        Err(Error::Domain(DomainError::Conflict { message, .. })) => Ok(html(
            StatusCode::CONFLICT,
            &application_page(&state, &session, id, Some(message)).await?,
        )),
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(tag = "pages", params(("id" = String, Path)), responses((status = 200, description = "一次性告知书 as a page", content_type = "text/html"), (status = 409, description = "Nothing is missing", content_type = "text/html")))]
#[get("/desk/applications/{id}/notice")]
pub async fn notice(state: State, session: PageSession, id: web::Path<String>) -> Page {
    let id = id.into_inner();
    let (notice, app) = state.ctx.notice(session.actor.clone(), id.clone()).await?;
    Ok(html(
        StatusCode::OK,
        &NoticePage {
            nav: session.nav(),
            office_en: words::office(&state.ctx.policy, &app.office).en,
            id,
            notice,
        },
    ))
}

#[utoipa::path(tag = "pages", params(("id" = String, Path)), responses((status = 200, description = "The notice as PDF, its print recorded (a free service, the office's seal for notices)", content_type = "application/pdf"), (status = 409, description = "Nothing is missing", content_type = "text/html")))]
#[post("/desk/applications/{id}/notice/print")]
pub async fn print_notice(
    state: State,
    session: PageSession,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Page {
    session.check_csrf(&form.csrf)?;
    let doc = state.ctx.print_notice(session.actor.clone(), id.into_inner()).await?;
    Ok(super::pdf_page(doc))
}
