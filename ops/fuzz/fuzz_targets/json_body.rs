//! Feeds arbitrary bytes to the JSON body reader every API route runs (`http::extract::decode`:
//! syntax, NFC, the text rule, the strict struct reading), as real request types. Whatever
//! arrives it must answer without panicking, and answer right: a value read has every key of the
//! body as one of its fields and survives its own round trip; a refusal names fields the body
//! really has (or the body itself), and calls malformed only what is not JSON.
#![no_main]

use borderdesk::domain::DomainError;
use borderdesk::error::Error;
use borderdesk::http::api::{ScanRequest, UploadRequest};
use borderdesk::http::error::ApiError;
use borderdesk::http::extract::decode;
use borderdesk::service::applications::NewApplication;
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // The trade application body (traveller, enterprise, plates, validity option) and the two
    // checkpoint bodies (a vector of structs with dates and enums inside).
    check::<NewApplication>(data);
    check::<UploadRequest>(data);
    check::<ScanRequest>(data);
});

fn check<T: DeserializeOwned + Serialize>(data: &[u8]) {
    let json: Option<Value> = serde_json::from_slice(data).ok();
    match decode::<T>(data) {
        Ok(value) => {
            let Some(input) = json else {
                panic!("bytes that are not JSON were read as a value")
            };
            let out = serde_json::to_value(&value).expect("a request re-serialises");
            assert!(
                keys_kept(&input, &out),
                "a key of the body is no field of the request: {input} was read as {out}"
            );
            let bytes = serde_json::to_vec(&out).expect("a value serialises");
            match decode::<T>(&bytes) {
                Ok(again) => assert_eq!(
                    serde_json::to_value(&again).ok().as_ref(),
                    Some(&out),
                    "the round trip changed the value"
                ),
                Err(e) => panic!("the reader refuses its own output {out}: {e:?}"),
            }
        }
        Err(ApiError::MalformedJson(_)) => assert!(json.is_none(), "well-formed JSON called malformed"),
        Err(ApiError::App(Error::Domain(DomainError::Validation(errs)))) => {
            let Some(input) = json else {
                panic!("bytes that are not JSON were answered 422")
            };
            assert!(!errs.0.is_empty(), "a 422 naming no field");
            for e in &errs.0 {
                assert!(
                    e.field == "body" || names(&input, &e.field, true),
                    "the error names {:?}, which the body does not have: {input}",
                    e.field
                );
            }
        }
        Err(other) => panic!("a body answered with neither a value, 400 nor 422: {other:?}"),
    }
}

/// Every object key of `input` is a key of `out` at the same place (where `out` has an object
/// or array there; an enum may be read from serde's `{"variant": null}` form).
fn keys_kept(input: &Value, out: &Value) -> bool {
    match (input, out) {
        (Value::Object(i), Value::Object(o)) => i.iter().all(|(k, v)| o.get(k).is_some_and(|w| keys_kept(v, w))),
        (Value::Array(i), Value::Array(o)) => i.len() == o.len() && i.iter().zip(o).all(|(v, w)| keys_kept(v, w)),
        (Value::Object(_) | Value::Array(_), Value::Null) => false,
        _ => true,
    }
}

/// Whether `path` (`traveller.name_zh`, `crossings[0].at`, as the errors write them) leads to
/// a value in `v`. Keys may themselves hold dots or brackets, so every key that fits is tried.
fn names(v: &Value, path: &str, root: bool) -> bool {
    if path.is_empty() {
        return true;
    }
    match v {
        Value::Object(map) => map.iter().any(|(k, child)| {
            let rest = if root {
                path.strip_prefix(k.as_str())
            } else {
                path.strip_prefix('.').and_then(|p| p.strip_prefix(k.as_str()))
            };
            rest.is_some_and(|rest| names(child, rest, false))
        }),
        Value::Array(items) => path
            .strip_prefix('[')
            .and_then(|p| p.split_once(']'))
            .and_then(|(i, rest)| Some((items.get(i.parse::<usize>().ok()?)?, rest)))
            .is_some_and(|(child, rest)| names(child, rest, false)),
        _ => false,
    }
}
