//! Invariants under real concurrent requests: one permit per idempotency key, one permit per
//! application, gapless serials.

use std::collections::BTreeSet;

use futures::future::join_all;
use serde_json::Value;

use crate::support::{TestApp, traveller};

#[actix_web::test]
async fn concurrent_replays_create_one_permit() {
    let app = TestApp::spawn().await;
    let token = app.window();
    let id = app.application(&token, traveller(1)).await;
    let responses = join_all((0..16).map(|_| app.issue(&token, &id, Some("same-key")))).await;
    let mut numbers = BTreeSet::new();
    for res in responses {
        assert_eq!(res.status(), 201);
        let p: Value = res.json().await.unwrap();
        numbers.insert(p["number"].as_str().unwrap().to_string());
    }
    assert_eq!(numbers.len(), 1, "{numbers:?}");
    assert_eq!(app.count("permits"), 1);
    assert_eq!(app.count("idempotency_keys"), 1);
}

#[actix_web::test]
async fn concurrent_issues_of_one_application_give_one_permit() {
    let app = TestApp::spawn().await;
    let token = app.window();
    let id = app.application(&token, traveller(1)).await;
    let responses = join_all((0..12).map(|_| app.issue(&token, &id, None))).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    assert_eq!(app.count("permits"), 1);
}

#[actix_web::test]
async fn concurrent_issuing_gives_gapless_unique_serials() {
    let app = TestApp::spawn().await;
    let token = app.window();
    issue_at_once_gapless(&[&app], &token, 24).await;
}

/// Takes `n` applications spread over `apps` (instances of one database), issues them all at
/// once, each on the instance that took it, and checks the serials are 1..=n, each once.
pub async fn issue_at_once_gapless(apps: &[&TestApp], token: &str, n: u32) {
    let mut ids = Vec::new();
    for i in 0..n {
        let app = apps[i as usize % apps.len()];
        ids.push((app, app.application(token, traveller(i)).await));
    }
    let responses = join_all(ids.iter().map(|(app, id)| app.issue(token, id, None))).await;
    let mut serials = Vec::new();
    for res in responses {
        assert_eq!(res.status(), 201);
        serials.push(crate::support::serial(&res.json::<Value>().await.unwrap()));
    }
    serials.sort();
    assert_eq!(serials, (1..=i64::from(n)).collect::<Vec<_>>());
}
