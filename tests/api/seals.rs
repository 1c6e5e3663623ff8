//! The seals and certificates register (issue 13): entries, grants to one holder at a time (the
//! database decides a race), withdrawals and retirement, each audited; each permit card and
//! notice printed records the seal it bears and who held it; refusals change nothing.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::support::{DEFERRING_PORTRAIT, TestApp, expect_json, trade, traveller};

fn first_error(problem: &Value) -> (String, String) {
    let e = &problem["errors"][0];
    (
        e["field"].as_str().unwrap_or("").to_string(),
        e["rule"].as_str().unwrap_or("").to_string(),
    )
}

async fn register(app: &TestApp, token: &str) -> Value {
    expect_json(app.get(token, "/api/v1/seals").await, 200, "the register").await
}

#[actix_web::test]
async fn seals_are_entered_granted_used_by_prints_withdrawn_and_retired() {
    let app = TestApp::spawn().await;
    let boss = app.boss();
    let (_, _) = app.officer("clerk", "officer", &["border_tourism", "border_trade"]);
    let clerk = app.token_for("clerk");
    app.officer("colleague", "officer", &["border_tourism"]);
    let gate = app.gate();

    // The register is the supervisor's.
    assert_eq!(app.get(&clerk, "/api/v1/seals").await.status(), 403);
    assert_eq!(app.get(&gate, "/api/v1/seals").await.status(), 403);

    // Bad entries name their fields and store nothing.
    let audited = app.count("audit_log");
    for (body, field, rule) in [
        (
            json!({"kind": "stamp", "name": "x", "reference": "A1"}),
            "kind",
            "one_of",
        ),
        (
            json!({"kind": "seal", "name": " ", "reference": "A1"}),
            "name",
            "required",
        ),
        (
            json!({"kind": "seal", "name": "x", "reference": "A 1"}),
            "reference",
            "format",
        ),
        (
            json!({"kind": "seal", "name": "x", "reference": "A1", "applies_to": "passport"}),
            "applies_to",
            "one_of",
        ),
        (
            json!({"kind": "certificate", "name": "签名密钥", "reference": "00000000"}),
            "reference",
            "unknown_key",
        ),
    ] {
        let res = app.post_json(&boss, "/api/v1/seals", &body).await;
        assert_eq!(res.status(), 422, "{body}");
        assert_eq!(
            first_error(&res.json().await.expect("problem")),
            (field.into(), rule.into()),
            "{body}"
        );
    }
    let res = app
        .post_json(
            &boss,
            "/api/v1/seals",
            &json!({"kind": "seal", "name": "x", "reference": "A1", "colour": "red"}),
        )
        .await;
    assert_eq!(res.status(), 422, "unknown fields refused");
    assert_eq!((app.count("seals"), app.count("audit_log")), (0, audited));

    // The permit cards' seal and the notices' seal entered; a second seal for the cards is not.
    let name = "凭祥市公安局出入境管理大队业务专用章";
    let body = json!({"kind": "seal", "name": name, "reference": "yyg-2026-01", "applies_to": "permit"});
    let card_seal = expect_json(app.post_json(&boss, "/api/v1/seals", &body).await, 201, "enter").await;
    assert_eq!(card_seal["reference"], "YYG-2026-01");
    let seal_id = card_seal["id"].as_str().expect("id").to_string();
    let twice = json!({"kind": "seal", "name": "另一枚", "reference": "YYG-2026-09", "applies_to": "permit"});
    assert_eq!(app.post_json(&boss, "/api/v1/seals", &twice).await.status(), 409);
    let again = json!({"kind": "seal", "name": name, "reference": "YYG-2026-01"});
    assert_eq!(
        app.post_json(&boss, "/api/v1/seals", &again).await.status(),
        409,
        "a number once"
    );
    let notice_body = json!({"kind": "seal", "name": "告知专用章", "reference": "YYG-2026-02", "applies_to": "notice"});
    let notice_seal = expect_json(app.post_json(&boss, "/api/v1/seals", &notice_body).await, 201, "enter").await;

    // The service's signing key entered as a certificate: no key left unregistered.
    let before = register(&app, &boss).await;
    let kid = before["unregistered_keys"][0].as_str().expect("a key").to_string();
    let cert = json!({"kind": "certificate", "name": "通行证签名密钥", "reference": kid.to_uppercase()});
    expect_json(app.post_json(&boss, "/api/v1/seals", &cert).await, 201, "certificate").await;
    assert_eq!(register(&app, &boss).await["unregistered_keys"], json!([]));

    // Granted to the clerk. Holders are active window officers of the office.
    let grants = format!("/api/v1/seals/{seal_id}/grants");
    for holder in ["gate", "nobody", "  "] {
        let res = app.post_json(&boss, &grants, &json!({"holder": holder})).await;
        assert_eq!(res.status(), 422, "{holder}");
        assert_eq!(first_error(&res.json().await.expect("problem")).0, "holder");
    }
    let grant = expect_json(
        app.post_json(&boss, &grants, &json!({"holder": "Clerk", "note": "窗口1"}))
            .await,
        201,
        "grant",
    )
    .await;
    assert_eq!(grant["holder"], "clerk");
    let res = app.post_json(&boss, &grants, &json!({"holder": "colleague"})).await;
    assert_eq!(res.status(), 409, "one holder at a time");

    // Another office's supervisor cannot see or grant it.
    let (_, _) = app.officer_of("PXH", "pxh-boss", "supervisor", &[]);
    let other = app.token_for("pxh-boss");
    assert_eq!(
        app.post_json(&other, &grants, &json!({"holder": "clerk"}))
            .await
            .status(),
        404
    );
    assert_eq!(register(&app, &other).await["seals"], json!([]));

    // A permit card printed: the seal's use recorded with its holder, in the print's answer.
    expect_json(
        app.post_json(
            &boss,
            "/api/v1/stock/batches",
            &json!({"first_serial": 1, "last_serial": 20, "received_from": "广西公安厅出入境管理局"}),
        )
        .await,
        201,
        "blanks",
    )
    .await;
    let permit = app.issued_permit(&clerk).await;
    let number = permit["number"].as_str().expect("number").to_string();
    let prints = format!("/api/v1/permits/{number}/prints");
    let printed = expect_json(app.post_json(&clerk, &prints, &json!({})).await, 201, "print").await;
    assert_eq!(printed["seal"]["reference"], "YYG-2026-01");
    assert!(printed["seal"]["holder"].is_string(), "{printed}");

    // Withdrawn; the reprint is then made while nobody holds the seal, and the register says so.
    let grant_id = grant["id"].as_str().expect("grant id");
    let withdraw = format!("/api/v1/seals/grants/{grant_id}/withdraw");
    assert_eq!(
        app.post_json(&boss, &withdraw, &json!({"reason": ""})).await.status(),
        422
    );
    let ended = expect_json(
        app.post_json(&boss, &withdraw, &json!({"reason": "调岗"})).await,
        200,
        "withdraw",
    )
    .await;
    assert_eq!(ended["withdraw_reason"], "调岗");
    assert_eq!(
        app.post_json(&boss, &withdraw, &json!({"reason": "调岗"}))
            .await
            .status(),
        409
    );
    let reprinted = expect_json(
        app.post_json(&clerk, &prints, &json!({"reprint_reason": "misprinted"}))
            .await,
        201,
        "reprint",
    )
    .await;
    assert_eq!(reprinted["seal"]["holder"], Value::Null);
    let reg = register(&app, &boss).await;
    let entry = reg["seals"]
        .as_array()
        .expect("seals")
        .iter()
        .find(|s| s["id"] == seal_id.as_str())
        .expect("the card seal")
        .clone();
    assert_eq!(
        (entry["uses"].as_i64(), entry["uses_unheld"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(entry["holder"], Value::Null);
    let uses = reg["uses"].as_array().expect("uses");
    assert_eq!(uses.len(), 2);
    assert!(
        uses.iter()
            .all(|u| u["document"] == "permit" && u["document_ref"] == number.as_str())
    );

    // A notice printed for the applicant records its seal and the free print; viewing does not.
    let trade_app = app
        .accepted(&clerk, &trade(traveller(2), json!(["桂F 12345"])), &DEFERRING_PORTRAIT)
        .await;
    let free_before = app.count("free_services");
    let res = app
        .get(&clerk, &format!("/api/v1/applications/{trade_app}/notice"))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!((app.count("seal_uses"), app.count("free_services")), (2, free_before));
    let res = app
        .post_json(
            &clerk,
            &format!("/api/v1/applications/{trade_app}/notice/print"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(res.bytes().await.expect("pdf").starts_with(b"%PDF"));
    assert_eq!(
        (app.count("seal_uses"), app.count("free_services")),
        (3, free_before + 1)
    );
    let reg = register(&app, &boss).await;
    assert_eq!(reg["uses"][0]["seal_id"], notice_seal["id"]);
    assert_eq!(reg["uses"][0]["document"], "notice");

    // Retired with its reason: no print bears it any more, and a new card seal may be entered.
    let retire = format!("/api/v1/seals/{seal_id}/retire");
    let retired = expect_json(
        app.post_json(&boss, &retire, &json!({"reason": "印章磨损更换"})).await,
        200,
        "retire",
    )
    .await;
    assert!(retired["retired_at"].is_string());
    assert_eq!(
        app.post_json(&boss, &retire, &json!({"reason": "again"}))
            .await
            .status(),
        409
    );
    assert_eq!(
        app.post_json(&boss, &grants, &json!({"holder": "clerk"}))
            .await
            .status(),
        409
    );
    let permit2 = app.issued_permit(&clerk).await;
    let n2 = permit2["number"].as_str().expect("number");
    let printed = expect_json(
        app.post_json(&clerk, &format!("/api/v1/permits/{n2}/prints"), &json!({}))
            .await,
        201,
        "print",
    )
    .await;
    assert!(printed.get("seal").is_none(), "{printed}");
    expect_json(
        app.post_json(&boss, "/api/v1/seals", &twice).await,
        201,
        "the new card seal",
    )
    .await;

    // Every change is in the audit trail of its seal.
    let actions: Vec<String> = app.audit("seal", &seal_id).iter().map(|r| r.action.clone()).collect();
    assert_eq!(actions, ["seal.register", "seal.grant", "seal.withdraw", "seal.retire"]);
}

/// Two supervisors granting the same seal at once to different officers: one holder, and the
/// other is told who holds it; the database's partial unique index decides.
#[actix_web::test]
async fn two_grants_at_once_leave_one_holder() {
    let app = TestApp::spawn().await;
    let boss = app.boss();
    app.officer("ann", "officer", &["border_tourism"]);
    app.officer("bao", "officer", &["border_tourism"]);
    let body = json!({"kind": "seal", "name": "业务专用章", "reference": "R1", "applies_to": "permit"});
    let seal = expect_json(app.post_json(&boss, "/api/v1/seals", &body).await, 201, "enter").await;
    let grants = format!("/api/v1/seals/{}/grants", seal["id"].as_str().expect("id"));
    for round in 0..4 {
        let bodies = ["ann", "bao", "ann", "bao"].map(|h| json!({ "holder": h }));
        let sends = bodies.iter().map(|b| app.post_json(&boss, &grants, b));
        let statuses: Vec<u16> = join_all(sends).await.iter().map(|r| r.status().as_u16()).collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "round {round}: {statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 409).count(),
            3,
            "round {round}: {statuses:?}"
        );
        let reg = register(&app, &boss).await;
        let held = reg["seals"][0]["holder"]["id"].as_str().expect("held").to_string();
        let res = app
            .post_json(
                &boss,
                &format!("/api/v1/seals/grants/{held}/withdraw"),
                &json!({"reason": "轮换"}),
            )
            .await;
        assert_eq!(res.status(), 200);
    }
    assert_eq!(app.count("seal_grants"), 4);
}
