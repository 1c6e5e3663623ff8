//! Checkpoint scans: verdicts with reasons from printed codes, trips on single-entry passes,
//! forged and garbage codes, and one admit when a pass is scanned at two lanes at once.

use std::process::Command;

use borderdesk::clock::Clock;
use chrono::Duration;
use futures::future::join_all;
use serde_json::{Value, json};

use crate::support::{DEFERRING_PORTRAIT, TestApp, payload, photo_png, scan, traveller};

fn reason(v: &Value) -> &str {
    v["reason"].as_str().unwrap()
}

/// The permit's QR code as a scanner reads it from the printed PDF.
async fn printed_qr(app: &TestApp, token: &str, number: &str) -> String {
    let pdf = app.permit_pdf(token, number).await;
    let page = crate::tools::rasterise(&pdf, 300.0);
    crate::tools::decode(&page, rxing::BarcodeFormat::QR_CODE).unwrap_or_default()
}

#[actix_web::test]
async fn a_printed_single_entry_pass_admits_one_trip_then_is_used() {
    let app = TestApp::spawn().await;
    let officer = app.window();
    let gate = app.gate();
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
    let p = app.permit(&officer, number).await;
    assert_eq!(
        (p["status"].as_str(), p["entries_used"].as_i64()),
        (Some("used"), Some(1))
    );
    assert_eq!(app.count("crossings"), 5, "every attempt recorded, admitted or not");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"borderdesk_scans_total{reason="wrong_direction",verdict="reject"} 2"#),
        "{metrics}"
    );
}

#[actix_web::test]
async fn revoked_expired_not_yet_valid_and_unknown_are_refused_with_their_reason() {
    let app = TestApp::spawn().await;
    let officer = app.window();
    let boss = app.boss();
    let gate = app.gate();
    let revoked = app.issued_permit(&officer).await;
    app.revoke(&boss, revoked["number"].as_str().unwrap(), "lost").await;
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
    let body = app
        .refused(
            &gate,
            "/api/v1/checkpoint/scans",
            &json!({"code": code, "lane": "", "direction": "sideways"}),
        )
        .await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn pending_permits_are_refused_at_the_gate() {
    let app = TestApp::spawn().await;
    let li = app.token("li", "officer", &["border_trade"]);
    let wang = app.token("wang", "supervisor", &["border_trade"]);
    let gate = app.gate();
    let body = json!({"kind": "border_trade", "traveller": traveller(1), "plates": ["桂F12345"]});
    let permit = app
        .issued_after_approval((&li, &wang), &body, &DEFERRING_PORTRAIT)
        .await;
    let id = permit["application_id"].as_str().unwrap();
    let v = scan(&app, &gate, permit["code"].as_str().unwrap(), "exit").await;
    assert_eq!(reason(&v), "pending");
    assert_eq!(v["message_en"], "materials/portrait pending");
    assert_eq!(
        v["vehicle"]["plates"],
        json!(["桂F12345"]),
        "the vehicle is shown with the verdict"
    );
    let payload = payload(&app.trust(&gate, None).await);
    let listed = &payload["permits"];
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(
        (&listed[0]["number"], &listed[0]["standing"]),
        (&permit["number"], &json!("pending")),
        "offline verifiers refuse it too"
    );
    assert!(listed[0]["due"].is_string(), "with the date it becomes suspended");
    let version = payload["version"].as_i64().unwrap();
    assert!(
        v["holder"]["photo"].is_null(),
        "no photo yet (容缺: printed first, portrait later)"
    );
    // The portrait is taken and uploaded: that supplies the deferred item, and it is a change
    // offline verifiers get in the next delta.
    let res = app.put_portrait(&gate, id, "image/png", photo_png()).await;
    assert_eq!(res.status(), 403);
    let res = app.put_portrait(&li, id, "image/png", photo_png()).await;
    assert_eq!(res.status(), 204);
    let delta = crate::support::payload(&app.trust(&gate, Some(version)).await);
    assert_eq!(delta["since"].as_i64(), Some(version));
    assert_eq!(
        delta["permits"],
        json!([{"number": permit["number"], "standing": "clear", "until": listed[0]["until"]}])
    );
    let v = scan(&app, &gate, permit["code"].as_str().unwrap(), "exit").await;
    assert_eq!(v["verdict"], "admit");
    // The gate sees the holder's photo; nobody without a need does.
    let photo = v["holder"]["photo"].as_str().unwrap().to_string();
    assert_eq!(
        photo,
        format!("/api/v1/permits/{}/photo", permit["number"].as_str().unwrap())
    );
    let res = app.get(&gate, &photo).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let admin = app.token("root", "admin", &[]);
    assert_eq!(app.get(&admin, &photo).await.status(), 403);
    assert_eq!(app.client.get(app.url(&photo)).send().await.unwrap().status(), 401);
    // The printed permit carries it.
    let pdf = app.permit_pdf(&li, permit["number"].as_str().unwrap()).await;
    assert!(
        String::from_utf8_lossy(&pdf).contains("/DCTDecode"),
        "the portrait as its JPEG"
    );
    if let Some(list) = crate::tools::pdfimages_list(&pdf, "the portrait's size check") {
        assert!(list.contains(" 330   480  rgb ") && list.contains("jpeg"), "{list}");
    }
}

#[actix_web::test]
async fn portraits_refuse_what_is_not_a_photo_and_change_nothing() {
    let app = TestApp::spawn().await;
    let officer = app.window();
    let id = app.application(&officer, traveller(2)).await;
    let put = |ctype: &'static str, body: Vec<u8>| app.put_portrait(&officer, &id, ctype, body);
    let res = put("text/plain", photo_png()).await;
    assert_eq!(res.status(), 415);
    assert!(res.text().await.unwrap().contains("image/jpeg or image/png"));
    let res = put("image/jpeg", b"\xff\xd8 not really".to_vec()).await;
    assert_eq!(res.status(), 422);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "photo", "{problem}");
    let res = put("image/png", vec![0x89; 13 * 1024 * 1024]).await;
    assert_eq!(res.status(), 413);
    let res = app
        .put_portrait(&officer, "no-such-application", "image/png", photo_png())
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(app.count("portraits"), 0);
    let app_json = app.get_json(&officer, &format!("/api/v1/applications/{id}")).await;
    assert!(app_json["portrait_at"].is_null());
    assert_eq!(
        app.get(&officer, &format!("/api/v1/applications/{id}/portrait"))
            .await
            .status(),
        404
    );
}

#[actix_web::test]
async fn forged_altered_and_garbage_codes_are_refused_never_500() {
    let app = TestApp::spawn().await;
    let officer = app.window();
    let gate = app.gate();
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
    let officer = app.window();
    let gate = app.gate();
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
    let officer = app.window();
    let gate = app.gate();
    let boss = app.boss();
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
    let audited = app.count("audit_log");
    let res = app
        .post_json(
            &gate,
            &format!("/api/v1/checkpoint/scans/{}/cleared", ids[2]),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 204);
    // A state change like any other: its audit row is written with it.
    assert_eq!(app.count("audit_log"), audited + 1);
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
    assert_eq!(app.count("audit_log"), audited + 1, "a refused clear writes nothing");
    // A scan at another lane much later does not count as a long check at YYG-C1.
    let stats = app.get_json(&boss, "/api/v1/checkpoint/lanes?window_minutes=30").await;
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
    let officer = app.window();
    let boss = app.boss();
    let gate = app.gate();
    let good = app.issued_permit(&officer).await;
    let revoked = app.issued_permit(&officer).await;
    let rn = revoked["number"].as_str().unwrap();
    app.revoke(&boss, rn, "lost").await;

    // The device takes the bundle and the keys while online.
    let bundle = app.trust(&gate, None).await;
    let payload = payload(&bundle);
    assert_eq!(payload["permits"][0]["number"], json!(rn));
    assert_eq!(payload["permits"][0]["standing"], "revoked");
    assert_eq!(payload["permits"].as_array().unwrap().len(), 1);
    let keys: Value = app.public_json("/api/v1/keys").await;
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("bundle.json"), bundle.to_string()).unwrap();
    std::fs::write(path("keys.json"), keys.to_string()).unwrap();

    // Offline: the CLI reads only its files.
    let (ok, lines, err) = handheld(
        dir.path(),
        "--lane H1 --direction exit --bundle @bundle.json --anchor @keys.json --queue @queue.json",
        &[
            good["code"].as_str().unwrap(),
            revoked["code"].as_str().unwrap(),
            "garbage",
        ],
    );
    assert!(ok, "{err}");
    assert!(
        lines[0].starts_with("ADMIT  ok") && lines[0].contains(" 0h00m old"),
        "{lines:?}"
    );
    assert!(lines[1].starts_with("REJECT revoked"), "{lines:?}");
    assert!(lines[2].starts_with("REJECT malformed"), "{lines:?}");

    // A tampered bundle is refused outright.
    let mut tampered = bundle.clone();
    tampered["payload"] = json!(bundle["payload"].as_str().unwrap().replace(rn, "BT-YYG-2026-999999"));
    std::fs::write(path("bad.json"), tampered.to_string()).unwrap();
    let (ok, _, err) = handheld(
        dir.path(),
        "--bundle @bad.json --anchor @keys.json",
        &[revoked["code"].as_str().unwrap()],
    );
    assert!(!ok);
    assert!(err.contains("does not verify"), "{err}");

    // Back online: the queue uploads once, and the admitted trip counts on the permit.
    let body: Value = serde_json::from_str(&std::fs::read_to_string(path("queue.json")).unwrap()).unwrap();
    let first = app.upload_crossings(&gate, &body).await;
    assert_eq!(
        (first["recorded"].as_u64(), first["already"].as_u64()),
        (Some(3), Some(0))
    );
    let again = app.upload_crossings(&gate, &body).await;
    assert_eq!(
        (again["recorded"].as_u64(), again["already"].as_u64()),
        (Some(0), Some(3))
    );
    assert_eq!(app.count("crossings"), 3);
    let p = app.permit(&officer, good["number"].as_str().unwrap()).await;
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
    let gate = app.gate();
    let old = app.issued_permit(&officer).await;
    let now = app.clock.now();

    // Rotate to a key for trade passes only, while the service runs (no restart); the tourism
    // pass signed before still verifies.
    let (old_kid, new_kid) = app
        .ctx
        .db
        .run_blocking(|c| {
            borderdesk::keys::rotate(
                c,
                app.ctx.keys.kek(),
                &[borderdesk::domain::permit::PermitKind::BorderTrade],
                now,
                1826,
            )
        })
        .unwrap();
    let keys: Value = app.public_json("/api/v1/keys").await;
    assert_eq!(keys.as_array().unwrap().len(), 2);
    assert_eq!(
        scan(&app, &gate, old["code"].as_str().unwrap(), "exit").await["verdict"],
        "admit"
    );
    let id = app.application(&officer, traveller(5)).await;
    let res = app.issue(&officer, &id, None).await;
    assert_eq!(res.status(), 409, "the active key may not sign tourism passes");
    assert!(
        res.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("rotate")
    );
    let payload = payload(&app.trust(&gate, None).await);
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
    app.ctx
        .db
        .run_blocking(|c| borderdesk::keys::remove(c, &old_kid, now))
        .unwrap();
    assert_eq!(
        reason(&scan(&app, &gate, old["code"].as_str().unwrap(), "entry").await),
        "unknown_key"
    );
    assert_eq!(
        reason(&scan(&app, &gate, old["number"].as_str().unwrap(), "entry").await),
        "unknown_key"
    );
}

/// Runs the handheld's `borderdesk verify` with `flags` (split at spaces; `@name` is that file
/// in `dir`) and the scanned `codes` (which may hold spaces), and returns its exit status, lines
/// and errors.
fn handheld(dir: &std::path::Path, flags: &str, codes: &[&str]) -> (bool, Vec<String>, String) {
    let flags = flags.split_whitespace().map(|f| match f.strip_prefix('@') {
        Some(name) => dir.join(name).into_os_string(),
        None => f.into(),
    });
    let out = Command::new(env!("CARGO_BIN_EXE_borderdesk"))
        .env("BORDERDESK_LOG", "error")
        .arg("verify")
        .args(flags)
        .args(codes)
        .output()
        .unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    (
        out.status.success(),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[actix_web::test]
async fn deltas_since_a_version_carry_only_what_changed_and_the_handheld_merges_them() {
    let app = TestApp::spawn().await;
    let officer = app.window();
    let boss = app.boss();
    let gate = app.gate();
    let (a, b, c) = (
        app.issued_permit(&officer).await,
        app.issued_permit(&officer).await,
        app.issued_permit(&officer).await,
    );
    let full = app.trust(&gate, None).await;
    let v0 = payload(&full)["version"].as_i64().unwrap();
    assert_eq!(
        payload(&full)["permits"],
        json!([]),
        "nothing to hold against new passes"
    );
    let key = &payload(&full)["keys"][0];
    assert!(key["not_before"].is_string() && key["not_after"].is_string(), "{key}");

    // Online, A leaves the country and B is revoked.
    assert_eq!(
        scan(&app, &gate, a["code"].as_str().unwrap(), "exit").await["verdict"],
        "admit"
    );
    let bn = b["number"].as_str().unwrap();
    app.revoke(&boss, bn, "lost").await;
    let delta = app.trust(&gate, Some(v0)).await;
    let d = payload(&delta);
    assert!(d["version"].as_i64().unwrap() > v0);
    assert_eq!(d["since"].as_i64(), Some(v0));
    let changed: Vec<(&str, &str)> = d["permits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["number"].as_str().unwrap(), p["standing"].as_str().unwrap()))
        .collect();
    let mut expected = vec![(a["number"].as_str().unwrap(), "out"), (bn, "revoked")];
    expected.sort();
    assert_eq!(changed, expected, "only what changed since the version held");
    let nothing = app.trust(&gate, d["version"].as_i64()).await;
    assert_eq!(payload(&nothing)["permits"], json!([]));
    // A version the hall never gave out (another database): a full bundle replaces the device's data.
    let ahead = app.trust(&gate, Some(999_999_999)).await;
    assert!(payload(&ahead).get("since").is_none());
    assert_eq!(payload(&ahead)["permits"].as_array().unwrap().len(), 2);
    for bad in ["abc", "-1"] {
        let res = app.get(&gate, &format!("/api/v1/checkpoint/trust?since={bad}")).await;
        assert_eq!(res.status(), 422, "{bad}");
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "since", "{problem}");
    }

    // The handheld merges the full bundle and the delta into its own trust data.
    let keys: Value = app.public_json("/api/v1/keys").await;
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("full.json"), full.to_string()).unwrap();
    std::fs::write(path("delta.json"), delta.to_string()).unwrap();
    std::fs::write(path("keys.json"), keys.to_string()).unwrap();
    let (ok, lines, err) = handheld(
        dir.path(),
        "--direction exit --anchor @keys.json --state @state.json --bundle @full.json --bundle @delta.json",
        &[
            a["code"].as_str().unwrap(),
            b["code"].as_str().unwrap(),
            c["code"].as_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    assert!(
        lines[0].starts_with("REJECT wrong_direction"),
        "A is out already: {lines:?}"
    );
    assert!(lines[1].starts_with("REJECT revoked"), "{lines:?}");
    assert!(lines[2].starts_with("ADMIT  ok"), "{lines:?}");
    assert!(lines[2].contains(&format!("bundle v{}", d["version"])), "{lines:?}");
    // Its own offline exit of C is remembered in its state: C cannot leave twice.
    let (ok, lines, err) = handheld(
        dir.path(),
        "--anchor @keys.json --state @state.json",
        &[c["code"].as_str().unwrap()],
    );
    assert!(ok, "{err}");
    assert!(lines[0].starts_with("REJECT wrong_direction"), "{lines:?}");
    // A delta alone cannot start a device, and one with a gap is refused.
    let (ok, _, err) = handheld(
        dir.path(),
        "--anchor @keys.json --bundle @delta.json",
        &[c["code"].as_str().unwrap()],
    );
    assert!(!ok && err.contains("full bundle"), "{err}");
    let later = app.trust(&gate, Some(v0 + 1)).await;
    std::fs::write(path("later.json"), later.to_string()).unwrap();
    let (ok, _, err) = handheld(
        dir.path(),
        "--anchor @keys.json --bundle @full.json --bundle @later.json",
        &[c["code"].as_str().unwrap()],
    );
    assert!(!ok && err.contains("since="), "a gap of one version: {err}");
}

#[actix_web::test]
async fn a_permit_never_outlives_its_signing_key() {
    let app = TestApp::spawn_with(|s| s.key_lifetime_days = 30).await;
    let officer = app.window();
    let gate = app.gate();
    let keys: Value = app.public_json("/api/v1/keys").await;
    let parse = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert_eq!(
        parse(&keys[0]["not_after"]) - parse(&keys[0]["not_before"]),
        Duration::days(30)
    );
    let id = app.application(&officer, traveller(7)).await;
    let res = app.issue(&officer, &id, None).await;
    assert_eq!(res.status(), 409, "a 3-month pass under a 30-day key");
    let detail = res.json::<Value>().await.unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("rotate keys") && detail.contains(keys[0]["kid"].as_str().unwrap()),
        "{detail}"
    );
    assert_eq!(app.count("permits"), 0, "nothing issued, no serial taken");

    let now = app.clock.now();
    let (short, long) = app
        .ctx
        .db
        .run_blocking(|c| borderdesk::keys::rotate(c, app.ctx.keys.kek(), &[], now, 1826))
        .unwrap();
    let res = app.issue(&officer, &id, None).await;
    assert_eq!(res.status(), 201);
    let permit: Value = res.json().await.unwrap();
    assert_eq!(permit["key_id"], json!(long));
    // The short-lived key signed nothing in force: the bundle no longer carries it.
    let kids: Vec<Value> = payload(&app.trust(&gate, None).await)["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert_eq!(kids, vec![json!(long)], "{short} dropped");
}

/// A single-entry pass that expires while its holder is abroad: the return is admitted with the
/// overstay warning from 00:00:00 China time the day after its last day (23:59:59 is still an
/// ordinary return), the warning is in the crossing's audit entry, and the trip ends.
#[actix_web::test]
async fn a_return_on_a_pass_expired_abroad_is_admitted_with_an_overstay_warning() {
    let app = TestApp::spawn().await;
    let officer = app.window();
    let gate = app.gate();
    let on_time = app.issued_permit(&officer).await;
    let late = app.issued_permit(&officer).await;
    let stayed = app.issued_permit(&officer).await;
    for p in [&on_time, &late] {
        let v = scan(&app, &gate, p["code"].as_str().unwrap(), "exit").await;
        assert_eq!(v["verdict"], "admit");
        assert_eq!(v["warning"], Value::Null);
    }
    let until = chrono::DateTime::parse_from_rfc3339(on_time["valid_until"].as_str().unwrap()).unwrap();
    assert_eq!(
        until.format("%H:%M:%S %:z").to_string(),
        "23:59:59 +08:00",
        "validity ends with the China date"
    );
    let last_second = until.with_timezone(&chrono::Utc);

    app.clock.set(last_second);
    let v = scan(&app, &gate, on_time["code"].as_str().unwrap(), "entry").await;
    assert_eq!((v["verdict"].as_str(), reason(&v)), (Some("admit"), "ok"));
    assert_eq!(v["warning"], Value::Null, "still valid at 23:59:59");

    app.clock.set(last_second + Duration::seconds(1));
    let v = scan(&app, &gate, late["code"].as_str().unwrap(), "entry").await;
    assert_eq!((v["verdict"].as_str(), reason(&v)), (Some("admit"), "ok"), "{v}");
    assert_eq!(v["warning"], "overstay");
    assert!(v["message"].as_str().unwrap().contains("overstay"), "{v}");
    assert_eq!(v["permit"]["entries_used"], 1);
    // Leaving on the expired pass is refused; the other holder never left.
    let v = scan(&app, &gate, stayed["code"].as_str().unwrap(), "exit").await;
    assert_eq!(reason(&v), "expired");
    let v = scan(&app, &gate, late["code"].as_str().unwrap(), "exit").await;
    assert_eq!(reason(&v), "used", "the trip is over");

    let trail = app.audit("permit", late["number"].as_str().unwrap());
    let crossings: Vec<Value> = trail
        .iter()
        .filter(|r| r.action == "permit.cross")
        .map(|r| serde_json::from_str(r.after_json.as_deref().unwrap()).unwrap())
        .collect();
    assert_eq!(crossings.len(), 2);
    assert_eq!(crossings[0].get("warning"), None);
    assert_eq!(crossings[1]["direction"], "entry");
    assert_eq!(crossings[1]["warning"], "overstay", "recorded for follow-up");
}

/// The camera's QR decoder ships with the service (nothing fetched from elsewhere), cached for
/// good under its versioned path, with its licence.
#[actix_web::test]
async fn the_qr_decoder_is_served_by_the_app_with_its_licence() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/static/jsqr-1.4.0.js")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/javascript; charset=utf-8");
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    let js = res.text().await.unwrap();
    assert!(js.starts_with("/*! jsQR 1.4.0") && js.contains("Apache License 2.0"));
    let licence = app.public_text("/static/jsqr-1.4.0.LICENSE.txt").await;
    assert!(licence.contains("Apache License"));
    let script = app.public_text("/static/checkpoint.js").await;
    assert!(
        script.contains("\"/static/jsqr-1.4.0.js\""),
        "the page loads it from the app"
    );
}

/// The scan page's route answers the page's script with the API's JSON (the same scan service),
/// and a form posted without the script with the page: the verdict in the announced region,
/// stamped with the code's tail and the time, never the whole code.
#[actix_web::test]
async fn the_scan_page_route_answers_json_to_its_script_and_html_to_a_plain_form() {
    use crate::support::{Session, hidden};
    use reqwest::header::COOKIE;
    let app = TestApp::spawn().await;
    let officer = app.window();
    let permit = app.issued_permit(&officer).await;
    let (user, password) = app.officer("gate", "checkpoint", &[]);
    let mut b = Session::signed_in(&app, &user, &password, None).await;
    let (status, page, _) = b.get("/checkpoint").await;
    assert_eq!(status, 200, "the scan page");
    let jar = b.jar;
    assert!(page.contains(r#"id="verdict" role="status" aria-live="polite""#));
    assert!(page.contains(r#"data-clear-seconds="20""#), "the default setting");
    let csrf = hidden(&page, "csrf");
    let post = |code: &str, lane: &str, json: bool| {
        let mut req = app
            .client
            .post(app.url("/checkpoint"))
            .header(COOKIE, jar.header())
            .form(&[
                ("csrf", csrf.as_str()),
                ("code", code),
                ("lane", lane),
                ("direction", "exit"),
            ]);
        if json {
            req = req.header("Accept", "application/json");
        }
        req.send()
    };
    let code = permit["code"].as_str().unwrap();
    let res = post(code, "YYG-C1", true).await.unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!((v["verdict"].as_str(), reason(&v)), (Some("admit"), "ok"));
    assert_eq!(v["holder"]["name_latin"], "ZHANG WEI");

    let res = post(code, "no lane!", true).await.unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["errors"][0]["field"], "lane", "{p}");

    let number = permit["number"].as_str().unwrap();
    let res = post(number, "YYG-C1", false).await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("拒绝 REJECT") && html.contains("wrong direction"),
        "exit twice"
    );
    let tail = &number[number.len() - 6..];
    assert!(html.contains(&format!("<span class=\"mono\">…{tail}</span>")), "{html}");
    assert!(html.contains("<time>"), "stamped with the time");
    let res = post(number, "", false).await.unwrap();
    assert_eq!(res.status(), 422);
    assert!(
        res.text().await.unwrap().contains("通道编号"),
        "the form says which field"
    );
    assert_eq!(app.count("crossings"), 2, "refused requests record nothing");
}

#[actix_web::test]
async fn an_offline_crossing_dated_ahead_of_the_hall_is_recorded_at_the_halls_time() {
    use borderdesk::db::schema::crossings;
    use chrono::SubsecRound;
    use diesel::prelude::*;

    let app = TestApp::spawn().await;
    let officer = app.window();
    let gate = app.gate();
    let permit = app.issued_permit(&officer).await;
    let number = permit["number"].as_str().unwrap();
    let now = app.clock.now();
    // A handheld whose clock ran a day ahead, and one within the drift allowed (5 minutes).
    let ahead = now + Duration::days(1);
    let drift = now + Duration::minutes(4);
    let body = json!({"crossings": [
        {"client_id": "ahead-1", "code": permit["code"], "lane": "H1", "direction": "exit",
         "at": ahead.to_rfc3339(), "verdict": "admit", "reason": "ok"},
        {"client_id": "drift-1", "code": "garbage", "lane": "H1", "direction": "exit",
         "at": drift.to_rfc3339(), "verdict": "reject", "reason": "malformed"},
    ]});
    let out = app.upload_crossings(&gate, &body).await;
    assert_eq!(
        (&out["recorded"], &out["redated"], &out["already"]),
        (&json!(2), &json!(1), &json!(0)),
        "{out}"
    );
    let dated = |client: &'static str| {
        app.ctx
            .db
            .run_blocking(move |c| {
                Ok(crossings::table
                    .filter(crossings::client_id.eq(client))
                    .select((crossings::id, crossings::at))
                    .first::<(String, chrono::NaiveDateTime)>(c)?)
            })
            .unwrap()
    };
    let (id, at) = dated("ahead-1");
    assert_eq!(at, now.trunc_subsecs(6).naive_utc(), "recorded at the hall's time");
    assert_eq!(
        dated("drift-1").1,
        drift.trunc_subsecs(6).naive_utc(),
        "within the drift: as sent"
    );
    // Still a trip on the permit, and the device's own time kept on record.
    assert_eq!(app.permit(&officer, number).await["entries_used"], 1);
    let trail = app.audit("crossing", &id);
    let after: Value = serde_json::from_str(trail[0].after_json.as_deref().unwrap()).unwrap();
    assert_eq!(trail[0].action, "permit.cross");
    let device_at = chrono::DateTime::parse_from_rfc3339(after["device_at"].as_str().unwrap()).unwrap();
    assert_eq!(device_at, ahead.trunc_subsecs(6));
    // Sent again: nothing recorded twice.
    let again = app.upload_crossings(&gate, &body).await;
    assert_eq!((&again["recorded"], &again["already"]), (&json!(0), &json!(2)));
}

/// Runs one statement on the app's database: the rows it changed, or its error.
fn sql(app: &TestApp, statement: String) -> borderdesk::error::Result<usize> {
    app.ctx
        .db
        .run_blocking(move |c| Ok(diesel::RunQueryDsl::execute(diesel::sql_query(statement), c)?))
}

/// A trip is recorded as its crossing's step, not by rewriting the permit: a permit whose row
/// carries trips (written before steps existed) goes on from there, offline verifiers and the
/// permit's page see the trips, and the database itself refuses a second crossing for one movement.
#[actix_web::test]
async fn trips_go_on_from_the_rows_state_and_each_movement_is_recorded_once() {
    let app = TestApp::spawn().await;
    let officer = app.window();
    let gate = app.gate();
    let v0 = payload(&app.trust(&gate, None).await)["version"].as_i64().unwrap();
    let [abroad, home] = &app.issued_permits(&officer, 2).await[..] else {
        panic!("two permits")
    };
    let (abroad, home) = (abroad["number"].as_str().unwrap(), home["number"].as_str().unwrap());
    // The holder left before the upgrade: the exit is on the permit's row only.
    let legacy = format!("UPDATE permits SET entries_used = 1, last_direction = 'exit' WHERE number = '{abroad}'");
    assert_eq!(sql(&app, legacy).unwrap(), 1);
    assert_eq!(reason(&scan(&app, &gate, abroad, "exit").await), "wrong_direction");
    let v = scan(&app, &gate, abroad, "entry").await;
    assert_eq!((v["verdict"].as_str(), reason(&v)), (Some("admit"), "ok"));
    let p = app.permit(&officer, abroad).await;
    assert_eq!(
        (p["status"].as_str(), p["entries_used"].as_i64()),
        (Some("used"), Some(1))
    );
    assert_eq!(reason(&scan(&app, &gate, abroad, "exit").await), "used");

    let v = scan(&app, &gate, home, "exit").await;
    assert_eq!(v["verdict"], "admit");
    assert_eq!(v["permit"]["entries_used"], 1);
    assert_eq!(app.permit(&officer, home).await["entries_used"], 1);
    assert_eq!(reason(&scan(&app, &gate, home, "exit").await), "wrong_direction");
    // Not on the row: the trip is the crossing's step 1.
    let unchanged = format!(
        "UPDATE permits SET status = status WHERE number = '{home}' AND entries_used = 0 AND last_direction IS NULL"
    );
    assert_eq!(
        sql(&app, unchanged).unwrap(),
        1,
        "the permit's row is not written for a trip"
    );
    let delta = payload(&app.trust(&gate, Some(v0)).await);
    let mut standing: Vec<(&str, &str)> = delta["permits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["number"].as_str().unwrap(), p["standing"].as_str().unwrap()))
        .collect();
    standing.sort();
    let mut expected = vec![(abroad, "used"), (home, "out")];
    expected.sort();
    assert_eq!(standing, expected, "the trips reach offline verifiers");

    // Another decider that read the permit before the exit would write step 1 again: refused.
    let again = format!(
        "INSERT INTO crossings (id, permit_number, code_hash, lane, direction, device, at, verdict, reason, step) \
         SELECT 'dup-' || id, permit_number, code_hash, lane, direction, device, at, verdict, reason, step \
         FROM crossings WHERE permit_number = '{home}' AND step = 1"
    );
    let refused = sql(&app, again).unwrap_err();
    assert!(refused.is_unique_violation(), "{refused}");
    assert_eq!(
        app.count("crossings"),
        5,
        "every scan recorded once, the copy not at all"
    );
}
