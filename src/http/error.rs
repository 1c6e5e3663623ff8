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
                DomainError::Forbidden(reason) => p(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "无权操作 / forbidden",
                    reason.clone(),
                ),
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
        if matches!(self, ApiError::Unauthenticated) {
            res.insert_header(("WWW-Authenticate", "Bearer"));
        }
        res.json(problem)
    }
}
