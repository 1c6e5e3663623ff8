//! HTTP errors: domain and infrastructure errors mapped to status codes and RFC 9457 problem
//! details. Internals are logged, never sent.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::DomainError;
use crate::domain::validation::FieldError;
use crate::error::Error;

/// The body of every API error (`application/problem+json`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Every field that broke a rule, for 422.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The current state of the resource, for 409.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_state: Option<String>,
    /// For a full slot (409): the next slots with a free place.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub next_free: Vec<crate::domain::freight::SlotOffer>,
}

/// What a 503 for busy work asks the client to wait: a normalisation takes well under a second.
pub const RETRY_AFTER_SECONDS: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    App(#[from] Error),
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("request body too large")]
    TooLarge,
    #[error("request body could not be read")]
    UnreadableBody,
    #[error("unsupported content type")]
    UnsupportedMediaType(&'static str),
    #[error("authentication required")]
    Unauthenticated,
    #[error("no such route")]
    NoRoute,
    /// A documented path asked with a method it does not have (`openapi::Methods`).
    #[error("method not allowed")]
    MethodNotAllowed(Vec<actix_web::http::Method>),
    /// A query string that is not the handler's parameters (`QueryConfig`).
    #[error("bad query parameter: {}", .0.field)]
    BadQuery(FieldError),
    /// A path segment that is not the handler's parameter (`PathConfig`).
    #[error("bad path parameter: {0}")]
    BadPath(String),
    /// A form body that cannot be read (`FormConfig`): size, content type or fields.
    #[error("bad form: {0}")]
    BadForm(FormProblem),
}

/// What is wrong with a form body, by the status it earns.
#[derive(Debug)]
pub enum FormProblem {
    TooLarge,
    NotUrlEncoded,
    Fields(String),
}

impl std::fmt::Display for FormProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormProblem::TooLarge => f.write_str("over the size limit"),
            FormProblem::NotUrlEncoded => f.write_str("not application/x-www-form-urlencoded"),
            FormProblem::Fields(why) => f.write_str(why),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::App(Error::Domain(e))
    }
}

impl ApiError {
    pub fn problem(&self) -> Problem {
        let p = |status: StatusCode, kind: &str, title: &str, detail: String| Problem {
            kind: format!("/problems/{kind}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail,
            errors: Vec::new(),
            current_state: None,
            next_free: Vec::new(),
        };
        match self {
            ApiError::App(Error::Domain(d)) => match d {
                DomainError::Validation(errs) => {
                    let mut problem = p(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "validation",
                        "请求未通过校验 / validation failed",
                        format!("{} field(s) broke a rule; see errors", errs.0.len()),
                    );
                    problem.errors = errs.0.clone();
                    problem
                }
                DomainError::NotFound { what } => p(
                    StatusCode::NOT_FOUND,
                    "not-found",
                    "未找到 / not found",
                    format!("{what} not found"),
                ),
                DomainError::Conflict { message, current_state } => {
                    let mut problem = p(
                        StatusCode::CONFLICT,
                        "conflict",
                        "状态不允许此操作 / not allowed in the current state",
                        message.clone(),
                    );
                    problem.current_state = Some(current_state.clone());
                    problem
                }
                DomainError::Full { message, offers } => {
                    let mut problem = p(
                        StatusCode::CONFLICT,
                        "slot-full",
                        "时段已约满 / slot full",
                        message.clone(),
                    );
                    problem.next_free = offers.clone();
                    problem
                }
                DomainError::Forbidden(reason) => p(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "无权操作 / forbidden",
                    reason.clone(),
                ),
                DomainError::TooMany {
                    field, rule, message, ..
                } => {
                    let mut problem = p(
                        StatusCode::TOO_MANY_REQUESTS,
                        "too-many",
                        "尝试次数过多 / too many tries",
                        message.clone(),
                    );
                    problem.errors = vec![FieldError {
                        field: (*field).into(),
                        rule: (*rule).into(),
                        message: message.clone(),
                    }];
                    problem
                }
                DomainError::IdempotencyMismatch => {
                    let mut problem = p(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "idempotency-key-reused",
                        "幂等键已用于其他请求 / idempotency key reused",
                        d.to_string(),
                    );
                    problem.errors = vec![FieldError {
                        field: "Idempotency-Key".into(),
                        rule: "same_request".into(),
                        message: "the key was first used with a different request".into(),
                    }];
                    problem
                }
            },
            ApiError::App(Error::Pool(_)) => p(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "服务暂不可用 / service unavailable",
                "the database is not reachable; try again".into(),
            ),
            ApiError::App(Error::Busy(what)) => p(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "服务繁忙，请稍后重试 / busy, try again shortly",
                format!("{what}; retry after {RETRY_AFTER_SECONDS} s"),
            ),
            ApiError::App(_) => p(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "内部错误 / internal error",
                "the error was logged".into(),
            ),
            ApiError::MalformedJson(why) => p(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "JSON格式错误 / malformed JSON",
                why.clone(),
            ),
            ApiError::TooLarge => p(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "请求体过大 / body too large",
                "the request body exceeds the limit".into(),
            ),
            ApiError::UnreadableBody => p(
                StatusCode::BAD_REQUEST,
                "unreadable-body",
                "请求体无法读取 / request body could not be read",
                "the upload was interrupted; send it again".into(),
            ),
            ApiError::UnsupportedMediaType(expected) => p(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "不支持的内容类型 / unsupported content type",
                format!("send Content-Type: {expected}"),
            ),
            ApiError::Unauthenticated => p(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "需要登录 / authentication required",
                "send Authorization: Bearer <token>".into(),
            ),
            ApiError::NoRoute => p(
                StatusCode::NOT_FOUND,
                "no-route",
                "未找到 / not found",
                "no such endpoint".into(),
            ),
            ApiError::MethodNotAllowed(allowed) => p(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "不支持的请求方法 / method not allowed",
                format!("this path answers {}", allow_header(allowed)),
            ),
            ApiError::BadQuery(field) => {
                let mut problem = p(
                    StatusCode::BAD_REQUEST,
                    "bad-query-parameter",
                    "查询参数无效 / malformed query parameter",
                    format!("{}: {}", field.field, field.message),
                );
                problem.errors = vec![field.clone()];
                problem
            }
            // actix answers a path that does not deserialize as a missing resource; so do we,
            // in the API's own shape.
            ApiError::BadPath(why) => p(
                StatusCode::NOT_FOUND,
                "not-found",
                "未找到 / not found",
                format!("no such resource: {why}"),
            ),
            ApiError::BadForm(FormProblem::TooLarge) => p(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "请求体过大 / body too large",
                "the form exceeds the limit".into(),
            ),
            ApiError::BadForm(FormProblem::NotUrlEncoded) => p(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "不支持的内容类型 / unsupported content type",
                "send Content-Type: application/x-www-form-urlencoded".into(),
            ),
            ApiError::BadForm(FormProblem::Fields(why)) => p(
                StatusCode::BAD_REQUEST,
                "bad-form",
                "表单无法读取 / the form could not be read",
                why.clone(),
            ),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.problem().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let problem = self.problem();
        if problem.status >= 500 {
            tracing::error!(error = %self, "request failed");
        }
        let mut res = HttpResponse::build(self.status_code());
        res.content_type("application/problem+json");
        if matches!(self, ApiError::App(Error::Busy(_))) {
            res.insert_header(("Retry-After", RETRY_AFTER_SECONDS.to_string()));
        }
        if let ApiError::App(Error::Domain(DomainError::TooMany {
            retry_after_seconds, ..
        })) = self
        {
            res.insert_header(("Retry-After", retry_after_seconds.max(&1).to_string()));
        }
        if matches!(self, ApiError::Unauthenticated) {
            res.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let ApiError::MethodNotAllowed(allowed) = self {
            res.insert_header((actix_web::http::header::ALLOW, allow_header(allowed)));
        }
        res.json(problem)
    }
}

fn allow_header(methods: &[actix_web::http::Method]) -> String {
    methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")
}

/// The error handlers of actix's extractor configurations (`app.rs`), so a query, path or form
/// that does not deserialize is a problem document naming what broke, not actix's text/plain.
pub mod extractors {
    use actix_web::error::{PathError, QueryPayloadError, UrlencodedError};
    use actix_web::{HttpRequest, web};

    use super::{ApiError, FormProblem};
    use crate::domain::validation::FieldError;

    pub fn query(err: QueryPayloadError, req: &HttpRequest) -> actix_web::Error {
        let QueryPayloadError::Deserialize(why) = &err else {
            return ApiError::BadQuery(field("query", "malformed", err.to_string())).into();
        };
        let why = why.to_string();
        ApiError::BadQuery(name_parameter(req, &why)).into()
    }

    pub fn path(err: PathError, _req: &HttpRequest) -> actix_web::Error {
        let PathError::Deserialize(why) = err else {
            return ApiError::BadPath("the path".into()).into();
        };
        ApiError::BadPath(why.to_string()).into()
    }

    pub fn form(err: UrlencodedError, _req: &HttpRequest) -> actix_web::Error {
        let problem = match err {
            UrlencodedError::Overflow { .. } => FormProblem::TooLarge,
            UrlencodedError::ContentType => FormProblem::NotUrlEncoded,
            other => FormProblem::Fields(other.to_string()),
        };
        ApiError::BadForm(problem).into()
    }

    fn field(name: &str, rule: &str, message: String) -> FieldError {
        FieldError {
            field: name.into(),
            rule: rule.into(),
            message,
        }
    }

    /// serde_urlencoded names a field only for some errors (`duplicate field `year``); for a value
    /// of the wrong type it says only what the value is not. The query string says which.
    fn name_parameter(req: &HttpRequest, why: &str) -> FieldError {
        let pairs: Vec<(String, String)> = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(|q| q.into_inner())
            .unwrap_or_default();
        if let Some(name) = why.split('`').nth(1).filter(|n| pairs.iter().any(|(k, _)| k == n)) {
            let rule = if why.starts_with("duplicate field") {
                "duplicate"
            } else {
                "type"
            };
            return field(name, rule, why.to_string());
        }
        // Given twice: the handler's parameters are single values.
        for (i, (k, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(earlier, _)| earlier == k) {
                return field(k, "duplicate", format!("`{k}` given more than once"));
            }
        }
        // Wrong type: with one parameter, that one; else the ones that are neither numbers nor
        // booleans (a string parameter takes anything), else every one given.
        let suspects: Vec<&str> = pairs
            .iter()
            .filter(|(_, v)| pairs.len() == 1 || (v.parse::<i64>().is_err() && v.parse::<bool>().is_err()))
            .map(|(k, _)| k.as_str())
            .collect();
        let name = match suspects.as_slice() {
            [one] => (*one).to_string(),
            _ => pairs.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", "),
        };
        field(if name.is_empty() { "query" } else { &name }, "type", why.to_string())
    }
}
