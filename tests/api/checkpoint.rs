//! Checkpoint scans: verdicts with reasons from printed codes, trips on single-entry passes,
//! forged and garbage codes, and one admit when a pass is scanned at two lanes at once.

use std::process::Command;

use borderdesk::clock::Clock;
use chrono::Duration;
use futures::future::join_all;
use serde_json::{Value, json};

use crate::support::{TestApp, traveller};

async fn scan(app: &TestApp, token: &str, code: &str, direction: &str) -> Value {
    let res = app
        .post_json(
            token,
            "/api/v1/checkpoint/scans",
            &json!({"code": code, "lane": "YYG-C1", "direction": direction}),
        )
        .await;
    assert_eq!(res.status(), 200, "a rejection is an answer, not an error");
    res.json().await.unwrap()
}

fn reason(v: &Value) -> &str {
    v["reason"].as_str().unwrap()
}

/// The permit's QR code as a scanner reads it from the printed PDF.
async fn printed_qr(app: &TestApp, token: &str, number: &str) -> String {
    let pdf = app
        .get(token, &format!("/api/v1/permits/{number}/pdf"))
        .await
        .bytes()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.pdf"), &pdf).unwrap();
    let out = Command::new("pdftoppm")
        .args(["-r", "300", "-png", "-singlefile"])
        .arg(dir.path().join("p.pdf"))
        .arg(dir.path().join("p"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", "--set", "*.enable=0", "--set", "qrcode.enable=1"])
        .arg(dir.path().join("p.png"))
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[actix_web::test]
async fn a_printed_single_entry_pass_admits_one_trip_then_is_used() {
    let app = TestApp::spawn().await;
    let officer = app.token("window", "officer", &["border_tourism"]);
    let gate = app.token("gate", "checkpoint", &[]);
    let permit = app.issued_permit(&officer).await;
    let number = permit["number"].as_str().unwrap();
    let qr = printed_qr(&app, &officer, number).await;
    assert!(qr.starts_with("BD1:"), "{qr}");

    let v = scan(&app, &gate, &qr, "entry").await;
    assert_eq!(reason(&v), "wrong_direction", "no exit recorded yet");
    let v = scan(&app, &gate, &qr, "exit").await;
    assert_eq!((v["verdict"].as_str(), reason(&v)), (Some("admit"), "ok"));
    assert_eq!(v["holder"]["name_latin"], "ZHANG WEI");
    assert_eq!(v["permit"]["number"], number);
    assert!(v["message"].as_str().unwrap().contains("准予通行"));
    let v = scan(&app, &gate, number, "exit").await;
    assert_eq!(
        reason(&v),
        "wrong_direction",
        "the Code128 number works too; exit twice is refused"
    );
    let v = scan(&app, &gate, number, "entry").await;
    assert_eq!(v["verdict"], "admit");
    let v = scan(&app, &gate, &qr, "exit").await;
    assert_eq!(reason(&v), "used");
    let p: Value = app
        .get(&officer, &format!("/api/v1/permits/{number}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (p["status"].as_str(), p["entries_used"].as_i64()),
        (Some("used"), Some(1))
    );
    assert_eq!(app.count("crossings"), 5, "every attempt recorded, admitted or not");
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"borderdesk_scans_total{reason="wrong_direction",verdict="reject"} 2"#),
        "{metrics}"
    );
}

#[actix_web::test]
async fn revoked_expired_not_yet_valid_and_unknown_are_refused_with_their_reason() {
    let app = TestApp::spawn().await;
    let officer = app.token("window", "officer", &["border_tourism"]);
    let boss = app.token("boss", "supervisor", &[]);
    let gate = app.token("gate", "checkpoint", &[]);
    let revoked = app.issued_permit(&officer).await;
    let n = revoked["number"].as_str().unwrap();
    app.post_json(
        &boss,
        &format!("/api/v1/permits/{n}/revoke"),
        &json!({"reason": "lost"}),
    )
    .await;
    assert_eq!(
        reason(&scan(&app, &gate, revoked["code"].as_str().unwrap(), "exit").await),
        "revoked"
    );

    let p = app.issued_permit(&officer).await;
    let code = p["code"].as_str().unwrap();
    let issued = app.clock.now();
    app.clock.set(issued - Duration::hours(2));
    assert_eq!(reason(&scan(&app, &gate, code, "exit").await), "not_yet_valid");
    app.clock.set(issued + Duration::days(100));
    assert_eq!(reason(&scan(&app, &gate, code, "exit").await), "expired");
    app.clock.set(issued);

    assert_eq!(
        reason(&scan(&app, &gate, "BT-YYG-2026-999999", "exit").await),
        "unknown_permit"
    );
    assert_eq!(
        app.post_json(
            &officer,
            "/api/v1/checkpoint/scans",
            &json!({"code": code, "lane": "L1", "direction": "exit"})
        )
        .await
        .status(),
        403
    );
    let res = app
        .post_json(
            &gate,
            "/api/v1/checkpoint/scans",
            &json!({"code": code, "lane": "", "direction": "sideways"}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn pending_permits_are_refused_at_the_gate() {
    let app = TestApp::spawn().await;
    let li = app.token("li", "officer", &["border_trade"]);
    let wang = app.token("wang", "supervisor", &["border_trade"]);
    let gate = app.token("gate", "checkpoint", &[]);
    let res = app
        .post_json(
            &li,
            "/api/v1/applications",
            &json!({"kind": "border_trade", "traveller": traveller(1), "plates": ["桂F12345"]}),
        )
        .await;
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    app.post_json(
        &li,
        &format!("/api/v1/applications/{id}/accept"),
        &json!({"materials": ["application_form", "resident_id", "trade_proof", "vehicle_licence"]}),
    )
    .await;
    app.post_json(&wang, &format!("/api/v1/applications/{id}/approve"), &json!({}))
        .await;
    let permit: Value = app.issue(&wang, &id, None).await.json().await.unwrap();
    let v = scan(&app, &gate, permit["code"].as_str().unwrap(), "exit").await;
    assert_eq!(reason(&v), "pending");
    assert_eq!(v["message_en"], "materials/portrait pending");
    assert_eq!(
        v["vehicle"]["plates"],
        json!(["桂F12345"]),
        "the vehicle is shown with the verdict"
    );
    let bundle: Value = app.get(&gate, "/api/v1/checkpoint/trust").await.json().await.unwrap();
    let payload: Value = serde_json::from_str(bundle["payload"].as_str().unwrap()).unwrap();
    assert_eq!(
        payload["blocked"],
        json!([{"number": permit["number"], "reason": "pending"}]),
        "offline verifiers refuse it too"
    );
    app.post_json(
        &li,
        &format!("/api/v1/applications/{id}/materials/portrait/supply"),
        &json!({}),
    )
    .await;
    assert_eq!(
        scan(&app, &gate, permit["code"].as_str().unwrap(), "exit").await["verdict"],
        "admit"
    );
}

#[actix_web::test]
async fn forged_altered_and_garbage_codes_are_refused_never_500() {
    let app = TestApp::spawn().await;
    let officer = app.token("window", "officer", &["border_tourism"]);
    let gate = app.token("gate", "checkpoint", &[]);
    let code = app.issued_permit(&officer).await["code"].as_str().unwrap().to_string();
    let raw = base45::decode(code.strip_prefix("BD1:").unwrap()).unwrap();

    // A sample of single-bit flips across the whole payload (all flips are covered, without
    // HTTP, by the seal's unit tests).
    for i in (0..raw.len() * 8).step_by(23) {
        let mut flipped = raw.clone();
        flipped[i / 8] ^= 1 << (i % 8);
        let v = scan(&app, &gate, &format!("BD1:{}", base45::encode(&flipped)), "exit").await;
        assert_eq!(v["verdict"], "reject", "bit {i}");
        assert!(
            ["bad_signature", "malformed", "unknown_key"].contains(&reason(&v)),
            "bit {i}: {v}"
        );
    }
    // Signed by a key the checkpoint does not know.
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let forged = borderdesk::domain::seal::sign(
        &stranger,
        &borderdesk::domain::seal::SealInput {
            kind: borderdesk::domain::permit::PermitKind::BorderTourism,
            number: "BT-YYG-2026-000001",
            holder: "ZHANG WEI",
            nationality: "CHN",
            valid_from: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            valid_until: chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
            entries: 0,
        },
    );
    assert_eq!(reason(&scan(&app, &gate, &forged, "exit").await), "unknown_key");
    let too_long = format!("BD1:{}", "A".repeat(2000));
    for garbage in [
        &code[..code.len() / 2],
        too_long.as_str(),
        "BD1:",
        "BD1:!!!",
        "5901234123457",
        "\u{0}\u{1}",
        "张伟",
        "' OR 1=1 --",
    ] {
        let v = scan(&app, &gate, garbage, "exit").await;
        assert_eq!(v["verdict"], "reject", "{garbage:?}");
        assert!(
            ["malformed", "unknown_permit", "bad_signature"].contains(&reason(&v)),
            "{garbage:?}: {v}"
        );
    }
}

#[actix_web::test]
async fn one_pass_scanned_at_many_lanes_at_once_is_admitted_once() {
    let app = TestApp::spawn().await;
    let officer = app.token("window", "officer", &["border_tourism"]);
    let gate = app.token("gate", "checkpoint", &[]);
    let code = app.issued_permit(&officer).await["code"].as_str().unwrap().to_string();
    let bodies: Vec<Value> = (0..10)
        .map(|i| json!({"code": code, "lane": format!("L{i}"), "direction": "exit"}))
        .collect();
    let scans = bodies
        .iter()
        .map(|b| app.post_json(&gate, "/api/v1/checkpoint/scans", b));
    let mut admitted = 0;
    for res in join_all(scans).await {
        assert_eq!(res.status(), 200);
        let v: Value = res.json().await.unwrap();
        if v["verdict"] == "admit" {
            admitted += 1;
        } else {
            assert_eq!(reason(&v), "wrong_direction", "{v}");
        }
    }
    assert_eq!(admitted, 1);
    assert_eq!(app.count("crossings"), 10);
}

#[actix_web::test]
async fn check_times_per_lane_end_at_cleared_or_the_next_scan() {
    let app = TestApp::spawn().await;
    let officer = app.token("window", "officer", &["border_tourism"]);
    let gate = app.token("gate", "checkpoint", &[]);
    let boss = app.token("boss", "supervisor", &[]);
    let start = app.clock.now();
    let mut ids = Vec::new();
    // Scans at +0 s, +12 s and +30 s; the third vehicle is marked cleared at +40 s.
    for offset in [0, 12, 30] {
        app.clock.set(start + Duration::seconds(offset));
        let number = app.issued_permit(&officer).await["number"]
            .as_str()
            .unwrap()
            .to_string();
        let v = scan(&app, &gate, &number, "exit").await;
        ids.push(v["crossing_id"].as_str().unwrap().to_string());
    }
    app.clock.set(start + Duration::seconds(40));
    let res = app
        .post_json(
            &gate,
            &format!("/api/v1/checkpoint/scans/{}/cleared", ids[2]),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        app.post_json(
            &gate,
            &format!("/api/v1/checkpoint/scans/{}/cleared", ids[2]),
            &json!({})
        )
        .await
        .status(),
        404
    );
    // A scan at another lane much later does not count as a long check at YYG-C1.
    let stats: Value = app
        .get(&boss, "/api/v1/checkpoint/lanes?window_minutes=30")
        .await
        .json()
        .await
        .unwrap();
    let lane = stats
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lane"] == "YYG-C1")
        .unwrap();
    assert_eq!(lane["checks"], 3);
    let mean = lane["mean_seconds"].as_f64().unwrap();
    assert!((mean - (12.0 + 18.0 + 10.0) / 3.0).abs() < 0.01, "{mean}");
    assert_eq!(app.get(&officer, "/api/v1/checkpoint/lanes").await.status(), 403);
}

#[actix_web::test]
async fn offline_verification_from_the_bundle_and_queued_crossings_upload_once() {
    let app = TestApp::spawn().await;
    let officer = app.token("window", "officer", &["border_tourism"]);
    let boss = app.token("boss", "supervisor", &[]);
    let gate = app.token("gate", "checkpoint", &[]);
    let good = app.issued_permit(&officer).await;
    let revoked = app.issued_permit(&officer).await;
    let rn = revoked["number"].as_str().unwrap();
    app.post_json(
        &boss,
        &format!("/api/v1/permits/{rn}/revoke"),
        &json!({"reason": "lost"}),
    )
    .await;

    // The device takes the bundle and the keys while online.
    let bundle: Value = app.get(&gate, "/api/v1/checkpoint/trust").await.json().await.unwrap();
    let payload: Value = serde_json::from_str(bundle["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["revoked"], json!([rn]));
    let keys: Value = app
        .client
        .get(app.url("/api/v1/keys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bundle.json"), bundle.to_string()).unwrap();
    std::fs::write(dir.path().join("keys.json"), keys.to_string()).unwrap();
    let queue = dir.path().join("queue.json");

    // Offline: the CLI reads only its files.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_borderdesk"))
        .env("BORDERDESK_LOG", "error")
        .args(["verify", "--lane", "H1", "--direction", "exit", "--bundle"])
        .arg(dir.path().join("bundle.json"))
        .arg("--anchor")
        .arg(dir.path().join("keys.json"))
        .arg("--queue")
        .arg(&queue)
        .args([
            good["code"].as_str().unwrap(),
            revoked["code"].as_str().unwrap(),
            "garbage",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert!(
        lines[0].starts_with("ADMIT  ok") && lines[0].contains("bundle 0h00m old"),
        "{lines:?}"
    );
    assert!(lines[1].starts_with("REJECT revoked"), "{lines:?}");
    assert!(lines[2].starts_with("REJECT malformed"), "{lines:?}");

    // A tampered bundle is refused outright.
    let mut tampered = bundle.clone();
    tampered["payload"] = json!(bundle["payload"].as_str().unwrap().replace(rn, "BT-YYG-2026-999999"));
    std::fs::write(dir.path().join("bad.json"), tampered.to_string()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_borderdesk"))
        .args(["verify", "--bundle"])
        .arg(dir.path().join("bad.json"))
        .arg("--anchor")
        .arg(dir.path().join("keys.json"))
        .arg(revoked["code"].as_str().unwrap())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not verify"));

    // Back online: the queue uploads once, and the admitted trip counts on the permit.
    let body: Value = serde_json::from_str(&std::fs::read_to_string(&queue).unwrap()).unwrap();
    let first: Value = app
        .post_json(&gate, "/api/v1/checkpoint/crossings", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (first["recorded"].as_u64(), first["already"].as_u64()),
        (Some(3), Some(0))
    );
    let again: Value = app
        .post_json(&gate, "/api/v1/checkpoint/crossings", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (again["recorded"].as_u64(), again["already"].as_u64()),
        (Some(0), Some(3))
    );
    assert_eq!(app.count("crossings"), 3);
    let p: Value = app
        .get(
            &officer,
            &format!("/api/v1/permits/{}", good["number"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p["entries_used"], 1);
    assert_eq!(
        reason(&scan(&app, &gate, good["code"].as_str().unwrap(), "exit").await),
        "wrong_direction",
        "the offline exit is known online"
    );
}

#[actix_web::test]
async fn rotated_keys_keep_verifying_and_removed_keys_fail_their_permits() {
    let app = TestApp::spawn().await;
    let officer = app.token("window", "officer", &["border_tourism", "border_trade"]);
    let gate = app.token("gate", "checkpoint", &[]);
    let old = app.issued_permit(&officer).await;
    let dir = app._dir.path().to_path_buf();

    // Rotate to a key for trade passes only; the tourism pass signed before still verifies.
    let (old_kid, new_kid) =
        borderdesk::keys::KeyRing::rotate(&dir, &[borderdesk::domain::permit::PermitKind::BorderTrade]).unwrap();
    let app = app.restart().await;
    let keys: Value = app
        .client
        .get(app.url("/api/v1/keys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys.as_array().unwrap().len(), 2);
    assert_eq!(
        scan(&app, &gate, old["code"].as_str().unwrap(), "exit").await["verdict"],
        "admit"
    );
    let res = app
        .post_json(
            &officer,
            "/api/v1/applications",
            &json!({"kind": "border_tourism", "traveller": traveller(5)}),
        )
        .await;
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let res = app.issue(&officer, &id, None).await;
    assert_eq!(res.status(), 409, "the active key may not sign tourism passes");
    assert!(
        res.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("rotate")
    );
    let bundle: Value = app.get(&gate, "/api/v1/checkpoint/trust").await.json().await.unwrap();
    let payload: Value = serde_json::from_str(bundle["payload"].as_str().unwrap()).unwrap();
    let kids: Vec<&str> = payload["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(
        kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()),
        "the retired key stays while its permits are in force"
    );

    // The old key is compromised and removed: its permits fail, by QR and by number.
    borderdesk::keys::KeyRing::remove(&dir, &old_kid).unwrap();
    let app = app.restart().await;
    assert_eq!(
        reason(&scan(&app, &gate, old["code"].as_str().unwrap(), "entry").await),
        "unknown_key"
    );
    assert_eq!(
        reason(&scan(&app, &gate, old["number"].as_str().unwrap(), "entry").await),
        "unknown_key"
    );
}
