//! Request extractors: the authenticated actor (API and pages) and JSON bodies whose errors say
//! which field broke which rule.

use actix_web::dev::Payload;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::ApiError;
use crate::domain::auth::Actor;
use crate::domain::validation::{FieldErrors, MAX_TEXT_CHARS, text_problem};
use crate::error::Error;

mod strict;

pub const SESSION_COOKIE: &str = "bd_session";

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::App(Error::Internal("app state missing".into())))
}

/// The officer or device calling the API: `Authorization: Bearer <token>`, or for read-only
/// requests a page session (so the desk can link straight to a permit's PDF).
pub struct ApiActor(pub Actor);

impl FromRequest for ApiActor {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        let bearer = bearer(req);
        let safe = matches!(*req.method(), Method::GET | Method::HEAD);
        let cookie = req
            .cookie(SESSION_COOKIE)
            .map(|c| c.value().to_string())
            .filter(|_| safe);
        Box::pin(async move {
            let state = state?;
            let actor = match (bearer, cookie) {
                (Some(token), _) => state.ctx.token_actor(token).await?,
                (None, Some(secret)) => state.ctx.session(secret).await?.map(|s| s.actor),
                (None, None) => None,
            };
            actor.map(ApiActor).ok_or(ApiError::Unauthenticated)
        })
    }
}

/// The text after `Authorization: Bearer `, if any.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
}

/// An API token, not yet looked up (401 without one): for the scan, whose token is checked by
/// the scan writer inside the batch that records it.
pub struct BearerToken(pub String);

impl FromRequest for BearerToken {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(bearer(req).map(BearerToken).ok_or(ApiError::Unauthenticated))
    }
}

/// A JSON body of `T`. Syntax errors are 400; the size limit (`PayloadConfig`) gives 413; a
/// content type other than JSON 415; a well-formed body that is not a `T` — a field of the wrong
/// type, a field `T` does not have, an array where an object belongs, text over the length or
/// control-character rule — is one 422 naming every such field, before anything is done.
pub struct JsonBody<T>(pub T, pub web::Bytes);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().eq_ignore_ascii_case("application/json"));
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(|e| {
                if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::TooLarge
                } else {
                    ApiError::MalformedJson("the body could not be read".into())
                }
            })?;
            if json_type != Some(true) {
                return Err(ApiError::UnsupportedMediaType("application/json"));
            }
            let parsed = decode::<T>(&bytes)?;
            Ok(JsonBody(parsed, bytes))
        })
    }
}

/// The body rules of [`JsonBody`] after the body is read: bytes to a `T` or the problem to
/// answer. Public so that the fuzz target drives exactly what the routes run.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    nfc_strings(&mut value);
    let mut errs = FieldErrors::new();
    text_rules(&value, &mut String::new(), &mut errs);
    let unknown = std::cell::RefCell::new(Vec::new());
    let strict = strict::Strict {
        value,
        path: String::new(),
        unknown: &unknown,
    };
    let parsed = serde_path_to_error::deserialize::<_, T>(strict);
    for field in unknown.into_inner() {
        errs.add(
            field,
            "unknown_field",
            "没有这个字段（拼写错误？） / no such field (a typo?)",
        );
    }
    match parsed {
        Ok(parsed) if errs.is_empty() => Ok(parsed),
        Ok(_) => Err(ApiError::App(errs.into())),
        Err(e) => {
            let path = e.path().to_string();
            let field = if path == "." { "body".to_string() } else { path };
            // A value the rules above already named is not named twice.
            if !errs.has(&field) {
                errs.add(field, "type", e.into_inner().to_string());
            }
            Err(ApiError::App(errs.into()))
        }
    }
}

/// Every string anywhere in the body held to the one text rule (`validation::text_problem`),
/// so no field — however new — stores a NUL or a novel.
fn text_rules(value: &serde_json::Value, path: &mut String, errs: &mut FieldErrors) {
    use serde_json::Value;
    match value {
        // A scanned code (`code`, `crossings[i].code`) is machine input, not text: a scanner
        // may send control characters (GS1's group separator, say) or a smudged run of noise,
        // and the code parser answers anything that is not a permit code as `malformed`, a
        // verdict rather than a 422. The body limit bounds its size.
        Value::String(_) if path == "code" || path.ends_with(".code") => {}
        Value::String(s) => {
            if let Some((rule, message)) = text_problem(s, MAX_TEXT_CHARS) {
                errs.add(if path.is_empty() { "body" } else { path.as_str() }, rule, message);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                text_rules(item, path, errs);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let len = path.len();
                strict::push_key(path, k);
                text_rules(v, path, errs);
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Every string in a JSON body in NFC, so every field of every request is compared, validated
/// and stored in one form whatever keyboard typed it (see `validation::nfc`).
fn nfc_strings(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(n) = crate::domain::validation::nfc(s) {
                *s = n;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(nfc_strings),
        Value::Object(map) => map.values_mut().for_each(nfc_strings),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}
