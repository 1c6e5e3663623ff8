//! The invariants ARCHITECTURE.md claims, proven by racing real requests: one workflow step wins,
//! a losing issue gives its serial back, trust deltas never skip a change, an offline upload and
//! an online scan of one pass count one trip.

use std::cell::Cell;

use borderdesk::clock::Clock;
use futures::future::join_all;
use serde_json::{Value, json};

use crate::support::{TestApp, payload, serial, traveller};
use crate::trade::{ALL_ITEMS, trade_application};

#[actix_web::test]
async fn two_officers_accepting_one_application_at_once_one_wins() {
    let app = TestApp::spawn().await;
    let li = app.token("li", "officer", &["border_trade"]);
    let zhao = app.token("zhao", "officer", &["border_trade"]);
    let id = trade_application(&app, &li).await;
    let audited = app.count("audit_log");
    let path = format!("/api/v1/applications/{id}/accept");
    let body = json!({"materials": ALL_ITEMS});
    let answers = join_all((0..12).map(|i| {
        let token = if i % 2 == 0 { &li } else { &zhao };
        app.post_json(token, &path, &body)
    }))
    .await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{statuses:?}");
    assert_eq!(app.count("audit_log"), audited + 1, "one step, one audit row");
}

#[actix_web::test]
async fn issues_that_lose_the_race_give_their_serial_back() {
    let app = TestApp::spawn().await;
    let token = app.window();
    let contested = app.application(&token, traveller(1)).await;
    let next = app.application(&token, traveller(2)).await;
    let answers = join_all((0..12).map(|_| app.issue(&token, &contested, None))).await;
    let mut won = Vec::new();
    for res in answers {
        match res.status().as_u16() {
            201 => won.push(res.json::<Value>().await.unwrap()),
            409 => {}
            other => panic!("{other}"),
        }
    }
    assert_eq!(won.len(), 1);
    assert_eq!(serial(&won[0]), 1);
    // Eleven losers may each have taken a serial before finding the permit already there (on
    // PostgreSQL they wait on the counter row and fail on the unique application): each
    // rollback gives it back, so the next permit is number 2.
    let res = app.issue(&token, &next, None).await;
    assert_eq!(res.status(), 201);
    assert_eq!(serial(&res.json::<Value>().await.unwrap()), 2);
    assert_eq!(app.count("permits"), 2);
}

#[actix_web::test]
async fn a_handheld_polling_deltas_during_revocations_and_scans_misses_none() {
    let app = TestApp::spawn().await;
    let officer = app.window();
    let boss = app.boss();
    let gate = app.gate();
    let permits = app.issued_permits(&officer, 16).await;
    let full = app.trust(&gate, None).await;
    let mut held = payload(&full)["version"].as_i64().unwrap();

    // Half are revoked, half leave the country, all at once, while the handheld keeps asking
    // for what changed since the version it holds.
    let changes = join_all(permits.iter().enumerate().map(|(i, p)| {
        let number = p["number"].as_str().unwrap().to_string();
        let code = p["code"].as_str().unwrap().to_string();
        let (app, boss, gate) = (&app, &boss, &gate);
        async move {
            let res = if i % 2 == 0 {
                app.post_json(
                    boss,
                    &format!("/api/v1/permits/{number}/revoke"),
                    &json!({"reason": "lost"}),
                )
                .await
            } else {
                app.post_json(
                    gate,
                    "/api/v1/checkpoint/scans",
                    &json!({"code": code, "lane": "YYG-C1", "direction": "exit"}),
                )
                .await
            };
            assert_eq!(res.status(), 200);
        }
    }));
    let done = Cell::new(false);
    let mut seen = std::collections::BTreeMap::new();
    let mut polls = 0;
    let poll = async {
        loop {
            let last = done.get();
            let delta = app.trust(&gate, Some(held)).await;
            let d = payload(&delta);
            assert_eq!(d["since"].as_i64(), Some(held), "a delta, not a full bundle");
            for p in d["permits"].as_array().unwrap() {
                seen.insert(
                    p["number"].as_str().unwrap().to_string(),
                    p["standing"].as_str().unwrap().to_string(),
                );
            }
            held = d["version"].as_i64().unwrap();
            polls += 1;
            if last {
                break;
            }
        }
    };
    let changes = async {
        changes.await;
        done.set(true);
    };
    futures::join!(changes, poll);
    assert!(polls > 1, "the handheld asked while the changes ran");
    for (i, p) in permits.iter().enumerate() {
        let want = if i % 2 == 0 { "revoked" } else { "out" };
        assert_eq!(
            seen.get(p["number"].as_str().unwrap()).map(String::as_str),
            Some(want),
            "{seen:?}"
        );
    }
}

#[actix_web::test]
async fn an_offline_upload_racing_an_online_scan_counts_one_trip() {
    let app = TestApp::spawn().await;
    let officer = app.window();
    let gate = app.gate();
    let hand = app.token("hand", "checkpoint", &[]);
    let permits = app.issued_permits(&officer, 8).await;
    // Each pass leaves twice at once: a handheld that admitted it offline uploads, and a lane
    // scans it online. One exit is counted; both attempts are on record.
    let at = app.clock.now().to_rfc3339();
    let races = permits.iter().enumerate().map(|(i, p)| {
        let code = p["code"].as_str().unwrap().to_string();
        let upload = json!({"crossings": [{"client_id": format!("hand-{i}"), "code": code,
            "lane": "YYG-H1", "direction": "exit", "at": at, "verdict": "admit", "reason": "ok"}]});
        let scan = json!({"code": code, "lane": "YYG-C1", "direction": "exit"});
        let (app, gate, hand) = (&app, &gate, &hand);
        async move {
            let (up, online) = futures::join!(
                app.post_json(hand, "/api/v1/checkpoint/crossings", &upload),
                app.post_json(gate, "/api/v1/checkpoint/scans", &scan)
            );
            assert_eq!(up.status(), 200);
            assert_eq!(online.status(), 200);
            online.json::<Value>().await.unwrap()
        }
    });
    let verdicts = join_all(races).await;
    assert_eq!(app.count("crossings"), 16, "every attempt recorded");
    for (p, v) in permits.iter().zip(verdicts) {
        let number = p["number"].as_str().unwrap();
        let now = app.permit(&officer, number).await;
        assert_eq!(now["entries_used"], 1, "one trip out, whoever was first: {now}");
        // The online lane either counted the exit itself or found it already counted.
        assert!(v["reason"] == "ok" || v["reason"] == "wrong_direction", "{v}");
    }
}

#[actix_web::test]
async fn one_offline_upload_sent_eight_times_at_once_is_recorded_once() {
    let app = TestApp::spawn().await;
    let officer = app.window();
    let hand = app.token("hand", "checkpoint", &[]);
    let permits = app.issued_permits(&officer, 3).await;
    // A handheld whose connection dropped before the answer sends its queue again, and again:
    // the copies arrive together. (Uploads queue on the trust version's row, so each sees the
    // ones before it; the unique index on client_id is the backstop. Without the index this
    // still passes: it proves the rule, not which part of the database keeps it.)
    let at = app.clock.now().to_rfc3339();
    let queue = json!({"crossings": permits.iter().enumerate().map(|(i, p)| json!({
        "client_id": format!("hand-queue-{i}"), "code": p["code"], "lane": "YYG-H1",
        "direction": "exit", "at": at, "verdict": "admit", "reason": "ok"})).collect::<Vec<_>>()});
    let answers = join_all((0..8).map(|_| app.upload_crossings(&hand, &queue))).await;
    let recorded: u64 = answers.iter().map(|a| a["recorded"].as_u64().unwrap()).sum();
    let already: u64 = answers.iter().map(|a| a["already"].as_u64().unwrap()).sum();
    assert_eq!((recorded, already), (3, 21), "{answers:?}");
    assert_eq!(app.count("crossings"), 3);
    for p in &permits {
        let now = app.permit(&officer, p["number"].as_str().unwrap()).await;
        assert_eq!(now["entries_used"], 1, "one trip out: {now}");
    }
}
