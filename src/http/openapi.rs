//! The OpenAPI document made true for every operation at once: the statuses and media types the
//! server's shared machinery answers (authentication, path lookups, body and query extractors,
//! the problem-details error mapping) are added by rule, so a handler declares only what is its
//! own; and the documented methods per path, for answering an undeclared method 405.

use std::collections::HashMap;

use actix_web::http::Method;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, ResponseBuilder};

use crate::domain::validation::MAX_TEXT_CHARS;

use super::error::ApiError;

/// Every error body from `ApiError` (see `error.rs`).
pub const PROBLEM_JSON: &str = "application/problem+json";
const HTML: &str = "text/html";
/// Routes whose guard is `ApiActor` + `domain::auth::authorize`: a role or grant refused is 403.
/// (`/metrics` is bearer-protected too, but by its own token check: 401 or 404, never 403.)
const AUTHORIZED_PREFIX: &str = "/api/v1/";

/// Adds, to every operation, the responses its shape implies (never replacing one a handler
/// declared, whose description says more), and moves every `Problem` body to
/// `application/problem+json`. Call it on the finished document: with utoipa-actix-web the paths
/// join the document after the derive's modifiers have run (`split_for_parts`).
pub fn make_true(doc: &mut OpenApi) {
    let global_security = doc.security.as_ref().is_some_and(|s| !s.is_empty());
    for (path, item) in doc.paths.paths.iter_mut() {
        let item_params = item.parameters.clone().unwrap_or_default();
        for op in operations(item) {
            let mut params = item_params.clone();
            params.extend(op.parameters.clone().unwrap_or_default());
            // Pages answer their own errors as pages; everything else (and every extractor
            // error, which happens before a page is involved) as problem details.
            // Signed-in pages (tag `pages`) read the session before anything else; public pages
            // (tag `public`) have none to read.
            let session = tagged(op, "pages");
            let page = session || tagged(op, "public") || is_page(op);
            let own_error_type = if page { HTML } else { PROBLEM_JSON };
            if session {
                // `PageSession`: no cookie, or an expired or ended session.
                add(op, 303, "没有会话：转到登录页 / no session: to the login page", "");
                // Every post of a signed-in page checks the form's token and the Origin.
                if op.request_body.is_some() {
                    add(
                        op,
                        403,
                        "表单已过期或来自其他网站 / form expired or from another site",
                        HTML,
                    );
                }
            }

            let secured = match &op.security {
                Some(reqs) => reqs.iter().any(|r| !is_empty_requirement(r)),
                None => global_security,
            };
            if secured {
                // `ApiActor`: no token, an unknown, revoked or disabled one.
                add(op, 401, "没有有效的令牌 / no valid bearer token", PROBLEM_JSON);
                if path.starts_with(AUTHORIZED_PREFIX) {
                    add(
                        op,
                        403,
                        "角色、授权或办公室不允许 / role, grant or office refused",
                        PROBLEM_JSON,
                    );
                }
            }
            if params.iter().any(|p| matches!(p.parameter_in, ParameterIn::Path)) {
                // An id that names nothing, or another office's (answered as if missing).
                add(op, 404, "未找到 / not found", own_error_type);
            }
            if params.iter().any(|p| matches!(p.parameter_in, ParameterIn::Query)) {
                // `QueryConfig`'s handler (`ApiError::BadQuery`): a value of the wrong type, or a
                // parameter given twice.
                add(op, 400, "查询参数无效 / a query parameter is malformed", PROBLEM_JSON);
            }
            let body_types: Vec<String> = op
                .request_body
                .as_ref()
                .map(|b| b.content.keys().cloned().collect())
                .unwrap_or_default();
            let json = body_types.iter().any(|t| t == "application/json");
            let form = body_types.iter().any(|t| t == "application/x-www-form-urlencoded");
            if !body_types.is_empty() {
                // `PayloadConfig` limit and the extractors' content-type check.
                add(op, 413, "请求体过大 / body over the limit", PROBLEM_JSON);
                add(op, 415, "不支持的内容类型 / unsupported content type", PROBLEM_JSON);
            }
            if json {
                // `JsonBody`: syntax is 400; a well-formed body that is not the type is 422.
                add(op, 400, "JSON格式错误 / malformed JSON", PROBLEM_JSON);
                add(op, 422, "字段未通过校验 / every field that broke a rule", PROBLEM_JSON);
            }
            if form {
                // `FormConfig`'s handler (`ApiError::BadForm`).
                add(op, 400, "表单无法读取 / the form could not be read", PROBLEM_JSON);
                // A signed-in page reads its form after the session: without one the answer is
                // the login redirect whatever the body. The body is not required of the request.
                if session && let Some(body) = op.request_body.as_mut() {
                    body.required = Some(utoipa::openapi::Required::False);
                }
            }
            problem_media_type(op);
        }
    }
    strict_request_bodies(doc);
}

/// The JSON body reader's rules (`extract::decode`), stated in the schemas of what it reads:
/// a field the type does not have is refused (`additionalProperties: false`), and every text
/// value but a scanned `code` is held to `validation::text_problem` (no control characters
/// other than tab and line breaks, at most `MAX_TEXT_CHARS` characters). A field with its own
/// pattern, format or list of values keeps it, being narrower.
fn strict_request_bodies(doc: &mut OpenApi) {
    let mut pending = Vec::new();
    for item in doc.paths.paths.values_mut() {
        for op in operations(item) {
            let Some(body) = op.request_body.as_mut() else { continue };
            if let Some(schema) = body.content.get_mut("application/json").and_then(|c| c.schema.as_mut()) {
                strict(schema, "", &mut pending);
            }
        }
    }
    let mut done = std::collections::BTreeSet::new();
    while let Some(name) = pending.pop() {
        if !done.insert(name.clone()) {
            continue;
        }
        if let Some(schema) = doc.components.as_mut().and_then(|c| c.schemas.get_mut(&name)) {
            strict(schema, "", &mut pending);
        }
    }
}

/// The control characters `validation::text_problem` refuses (`char::is_control` but tab, LF
/// and CR), as inclusive ranges.
const REFUSED: [(u32, u32); 4] = [(0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F), (0x7F, 0x9F)];

/// A string with none of [`REFUSED`] (an ECMA-262 pattern, as JSON Schema has them); `blank`
/// false: with something besides white space, as a required text field is trimmed
/// (`validation::clean`) and then missing if empty.
fn printable(blank: bool) -> String {
    let ranges: String = REFUSED
        .iter()
        .map(|(from, to)| format!("\\u{from:04X}-\\u{to:04X}"))
        .collect();
    if blank {
        format!("^[^{ranges}]*$")
    } else {
        format!("^[^{ranges}]*[^{ranges}\\s][^{ranges}]*$")
    }
}

fn strict(schema: &mut RefOr<Schema>, field: &str, pending: &mut Vec<String>) {
    strict_field(schema, field, false, pending);
}

fn strict_field(schema: &mut RefOr<Schema>, field: &str, required: bool, pending: &mut Vec<String>) {
    use utoipa::openapi::schema::{AdditionalProperties, ArrayItems};
    match schema {
        RefOr::Ref(r) => {
            if let Some(name) = r.ref_location.strip_prefix("#/components/schemas/") {
                pending.push(name.to_string());
            }
        }
        RefOr::T(Schema::Object(o)) => {
            if has_type(&o.schema_type, Type::Object) || !o.properties.is_empty() {
                o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
            }
            let free_text = o.enum_values.is_none() && o.pattern.is_none() && o.format.is_none();
            // A scanned code is left alone: any text (an offline crossing's may even be blank).
            if has_type(&o.schema_type, Type::String) && free_text && field != "code" {
                o.pattern = Some(printable(!required));
                o.max_length = Some(o.max_length.unwrap_or(MAX_TEXT_CHARS).min(MAX_TEXT_CHARS));
            }
            let required_fields = o.required.clone();
            for (name, property) in o.properties.iter_mut() {
                strict_field(property, name, required_fields.contains(name), pending);
            }
        }
        RefOr::T(Schema::Array(a)) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                strict_field(items, field, false, pending);
            }
        }
        RefOr::T(Schema::OneOf(one)) => one
            .items
            .iter_mut()
            .for_each(|s| strict_field(s, field, required, pending)),
        RefOr::T(Schema::AllOf(all)) => all
            .items
            .iter_mut()
            .for_each(|s| strict_field(s, field, required, pending)),
        RefOr::T(Schema::AnyOf(any)) => any
            .items
            .iter_mut()
            .for_each(|s| strict_field(s, field, required, pending)),
        RefOr::T(_) => {}
    }
}

fn has_type(t: &SchemaType, wanted: Type) -> bool {
    match t {
        SchemaType::Type(t) => *t == wanted,
        SchemaType::Array(ts) => ts.contains(&wanted),
        SchemaType::AnyValue => false,
    }
}

/// What methods each documented path answers, from the document: for answering a method the
/// path does not have 405 with `Allow`, rather than 404 as if the path did not exist.
#[derive(Debug, Clone, Default)]
pub struct Methods {
    /// Path templates by their number of segments (every request is checked before routing, so
    /// only templates of the request's length are compared, without allocating).
    routes: HashMap<usize, Vec<Route>>,
    /// Templates without a parameter, by their text: most requests (a scan, `/healthz`) name one,
    /// and no other template can match such a path as closely, so one lookup answers them.
    exact: HashMap<String, Vec<Method>>,
}

#[derive(Debug, Clone)]
struct Route {
    /// The template's segments; None for a `{parameter}`, which matches any one non-empty segment.
    segments: Vec<Option<String>>,
    /// Literal segments: the more, the closer the match (as in the router).
    literals: usize,
    methods: Vec<Method>,
}

impl Methods {
    pub fn new(doc: &OpenApi) -> Self {
        let mut routes: HashMap<usize, Vec<Route>> = HashMap::new();
        let mut exact: HashMap<String, Vec<Method>> = HashMap::new();
        for (path, item) in &doc.paths.paths {
            let segments: Vec<Option<String>> = path
                .split('/')
                .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_string()))
                .collect();
            let methods: Vec<Method> = [
                (item.get.is_some(), Method::GET),
                // actix's GET routes do not answer HEAD: only a documented HEAD is allowed.
                (item.head.is_some(), Method::HEAD),
                (item.post.is_some(), Method::POST),
                (item.put.is_some(), Method::PUT),
                (item.delete.is_some(), Method::DELETE),
                (item.patch.is_some(), Method::PATCH),
                (item.options.is_some(), Method::OPTIONS),
                (item.trace.is_some(), Method::TRACE),
            ]
            .into_iter()
            .filter_map(|(has, m)| has.then_some(m))
            .collect();
            let literals = segments.iter().flatten().count();
            if literals == segments.len() {
                exact.insert(path.clone(), methods.clone());
            }
            routes.entry(segments.len()).or_default().push(Route {
                segments,
                literals,
                methods,
            });
        }
        Methods { routes, exact }
    }

    /// The methods documented for `path` (a request path, not a template), or None when no
    /// documented path matches it. A literal segment wins over a `{parameter}`, as in the router.
    pub fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        if let Some(methods) = self.exact.get(path) {
            return Some(methods.clone());
        }
        let routes = self.routes.get(&path.split('/').count())?;
        // Only the most literal matches count: `/calendar/{date}` says nothing about `/calendar`.
        let mut best: Option<(usize, Vec<Method>)> = None;
        for route in routes {
            if best.as_ref().is_some_and(|(literals, _)| route.literals < *literals) {
                continue;
            }
            let matches = route.segments.iter().zip(path.split('/')).all(|(s, w)| match s {
                Some(literal) => literal == w,
                None => !w.is_empty(),
            });
            if !matches {
                continue;
            }
            match &mut best {
                Some((literals, all)) if *literals == route.literals => {
                    for m in &route.methods {
                        if !all.contains(m) {
                            all.push(m.clone());
                        }
                    }
                }
                _ => best = Some((route.literals, route.methods.clone())),
            }
        }
        best.map(|(_, methods)| methods)
    }

    /// The 405 for `method` on `path` when the path is documented without that method; None
    /// when the method is documented (so something else went wrong), the path is unknown (404),
    /// or the method is not one the server recognises (a made-up token: 501, RFC 9110 §15.6.2).
    pub fn not_allowed(&self, method: &Method, path: &str) -> Option<ApiError> {
        if !RECOGNISED_METHODS.contains(&method.as_str()) {
            return None;
        }
        // Checked on every request before routing: the common answer (allowed) without a copy.
        if self.exact.get(path).is_some_and(|m| m.contains(method)) {
            return None;
        }
        let allowed = self.allowed(path)?;
        (!allowed.contains(method)).then_some(ApiError::MethodNotAllowed(allowed))
    }
}

/// The methods this server recognises: those HTTP itself defines (RFC 9110 §9, RFC 5789) and
/// QUERY (httpbis' safe method with a body, which API testers send). Any other token is a
/// method nobody here implements: 501 rather than 405.
const RECOGNISED_METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY",
];

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// A page: some response is HTML (its errors are rendered pages too).
fn is_page(op: &Operation) -> bool {
    op.responses.responses.values().any(|r| match r {
        RefOr::T(r) => r.content.keys().any(|t| t.starts_with(HTML)),
        RefOr::Ref(_) => false,
    })
}

fn tagged(op: &Operation, tag: &str) -> bool {
    op.tags.as_ref().is_some_and(|tags| tags.iter().any(|t| t == tag))
}

/// `{}`: the operation may be called without credentials.
fn is_empty_requirement(req: &utoipa::openapi::security::SecurityRequirement) -> bool {
    serde_json::to_value(req).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
}

fn problem_ref() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name("Problem"))
}

/// Declares `status` unless the handler already did.
fn add(op: &mut Operation, status: u16, description: &str, media_type: &str) {
    let content = if media_type == PROBLEM_JSON {
        Content::new(Some(problem_ref()))
    } else {
        Content::new(None::<RefOr<Schema>>)
    };
    op.responses.responses.entry(status.to_string()).or_insert_with(|| {
        let response = ResponseBuilder::new().description(description);
        // A redirect has no body.
        RefOr::T(if media_type.is_empty() {
            response.build()
        } else {
            response.content(media_type, content).build()
        })
    });
}

/// A `Problem` declared as `application/json` (utoipa's default for `body = Problem`) is sent as
/// `application/problem+json` (`ApiError::error_response`).
fn problem_media_type(op: &mut Operation) {
    for response in op.responses.responses.values_mut() {
        let RefOr::T(response) = response else { continue };
        let is_problem = response
            .content
            .get("application/json")
            .is_some_and(|c| matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem")));
        if is_problem && let Some(content) = response.content.shift_remove("application/json") {
            response.content.insert(PROBLEM_JSON.to_string(), content);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> OpenApi {
        crate::http::api_doc().clone()
    }

    fn op<'a>(doc: &'a OpenApi, path: &str, method: &str) -> &'a Operation {
        let item = doc.paths.paths.get(path).expect("documented path");
        match method {
            "get" => item.get.as_ref(),
            "post" => item.post.as_ref(),
            "put" => item.put.as_ref(),
            "delete" => item.delete.as_ref(),
            _ => None,
        }
        .expect("documented method")
    }

    fn media(op: &Operation, status: u16) -> Vec<String> {
        match op.responses.responses.get(&status.to_string()) {
            Some(RefOr::T(r)) => r.content.keys().cloned().collect(),
            _ => panic!("status {status} not declared"),
        }
    }

    #[test]
    fn secured_operations_declare_401_and_403_as_problems() {
        let doc = doc();
        let calendar = op(&doc, "/api/v1/calendar", "get");
        assert_eq!(media(calendar, 401), [PROBLEM_JSON]);
        assert_eq!(media(calendar, 403), [PROBLEM_JSON]);
        // The public key list needs no token.
        let keys = op(&doc, "/api/v1/keys", "get");
        assert!(!keys.responses.responses.contains_key("401"));
        // `/metrics` checks its own token: 401, never 403.
        let metrics = op(&doc, "/metrics", "get");
        assert!(metrics.responses.responses.contains_key("401"));
        assert!(!metrics.responses.responses.contains_key("403"));
    }

    #[test]
    fn path_parameters_imply_404_json_bodies_their_four_statuses() {
        let doc = doc();
        let ack = op(&doc, "/api/v1/exports/passport/{batch}/ack", "post");
        assert_eq!(media(ack, 404), [PROBLEM_JSON]);
        let scan = op(&doc, "/api/v1/checkpoint/scans", "post");
        for status in [400, 413, 415, 422] {
            assert_eq!(media(scan, status), [PROBLEM_JSON], "status {status}");
        }
        assert!(!scan.responses.responses.contains_key("404"));
        // A page's 404 is a page.
        let page = op(&doc, "/desk/applications/{id}", "get");
        assert_eq!(media(page, 404), [HTML]);
    }

    #[test]
    fn query_parameters_imply_400() {
        let doc = doc();
        assert_eq!(media(op(&doc, "/api/v1/checkpoint/lanes", "get"), 400), [PROBLEM_JSON]);
        assert!(!op(&doc, "/api/v1/sla", "get").responses.responses.contains_key("400"));
    }

    #[test]
    fn no_problem_is_left_as_application_json() {
        let json = serde_json::to_value(doc()).expect("document serialises");
        let mut left = Vec::new();
        for (path, item) in json["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("item") {
                for (status, r) in op["responses"].as_object().into_iter().flatten() {
                    if r["content"]["application/json"]["schema"]["$ref"]
                        .as_str()
                        .is_some_and(|s| s.ends_with("/Problem"))
                    {
                        left.push(format!("{method} {path} {status}"));
                    }
                }
            }
        }
        assert!(left.is_empty(), "Problem as application/json: {left:?}");
    }

    #[test]
    fn a_declared_response_is_kept() {
        let doc = doc();
        let create = op(&doc, "/api/v1/applications", "post");
        let Some(RefOr::T(conflict)) = create.responses.responses.get("409") else {
            panic!("409 declared by the handler")
        };
        assert!(conflict.description.contains("confirm_duplicate"));
        let Some(RefOr::T(refused)) = create.responses.responses.get("403") else {
            panic!("403 declared by the handler")
        };
        assert_eq!(refused.description, "Role or grant missing");
        // The rule's own 401 beside it.
        assert!(create.responses.responses.contains_key("401"));
    }

    #[test]
    fn request_bodies_refuse_unknown_fields_and_hold_text_to_the_rule() {
        let json = serde_json::to_value(doc()).expect("document serialises");
        let schemas = &json["components"]["schemas"];
        let scan = &schemas["ScanRequest"];
        assert_eq!(scan["additionalProperties"], false);
        // A field with its own, narrower pattern keeps it; a scanned code is left to the parser.
        assert!(
            scan["properties"]["lane"]["pattern"]
                .as_str()
                .is_some_and(|p| p.contains("A-Za-z0-9"))
        );
        assert_eq!(scan["properties"]["code"]["pattern"], "\\S");
        // Reached through a reference: the traveller inside a new application.
        let traveller = &schemas["TravellerInput"];
        assert_eq!(traveller["additionalProperties"], false);
        assert_eq!(traveller["properties"]["phone"]["maxLength"], MAX_TEXT_CHARS);
        assert_eq!(
            traveller["properties"]["phone"]["pattern"],
            "^[^\\u0000-\\u0008\\u000B-\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"
        );
    }

    #[test]
    fn required_text_must_not_be_blank() {
        #[derive(utoipa::ToSchema)]
        #[allow(dead_code)]
        struct Probe {
            #[schema(required = true, nullable = false)]
            reason: Option<String>,
            note: Option<String>,
        }
        let mut schema = <Probe as utoipa::PartialSchema>::schema();
        strict(&mut schema, "", &mut Vec::new());
        let json = serde_json::to_value(&schema).expect("schema serialises");
        assert_eq!(json["properties"]["reason"]["pattern"], printable(false));
        assert_eq!(json["properties"]["note"]["pattern"], printable(true));
        assert_eq!(json["additionalProperties"], false);
    }

    #[test]
    fn the_refused_ranges_are_the_text_rule() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let refused = REFUSED.iter().any(|(from, to)| (*from..=*to).contains(&(c as u32)));
            let mut s = [0u8; 4];
            let refused_by_rule = crate::domain::validation::text_problem(c.encode_utf8(&mut s), 10).is_some();
            assert_eq!(refused, refused_by_rule, "{c:?}");
        }
    }

    #[test]
    fn methods_per_path_with_parameters_and_literal_precedence() {
        let methods = Methods::new(&doc());
        assert_eq!(
            methods.allowed("/api/v1/calendar/2026-10-01"),
            Some(vec![Method::PUT, Method::DELETE])
        );
        assert_eq!(methods.allowed("/api/v1/calendar"), Some(vec![Method::GET]));
        assert_eq!(methods.allowed("/api/v1/nothing"), None);
        assert_eq!(methods.allowed("/api/v1/calendar/"), None, "an empty segment is no id");
        let ApiError::MethodNotAllowed(allow) = methods
            .not_allowed(&Method::TRACE, "/api/v1/keys")
            .expect("TRACE is not documented for /api/v1/keys")
        else {
            panic!("a 405")
        };
        assert_eq!(allow, [Method::GET]);
        assert!(methods.not_allowed(&Method::GET, "/api/v1/keys").is_none());
        let query = Method::from_bytes(b"QUERY").expect("a token");
        assert!(methods.not_allowed(&query, "/api/v1/keys").is_some());
        let made_up = Method::from_bytes(b"BREW").expect("a token");
        assert!(methods.not_allowed(&made_up, "/api/v1/keys").is_none(), "501, not 405");
        assert!(methods.not_allowed(&Method::DELETE, "/no/such/path").is_none());
    }
}
