//! The printed permit, read back the way a scanner would: rasterised at 300 dpi and decoded by
//! zbarimg (Code128 and QR), the QR's signed payload verified against the published key.

use std::process::Command;

use base64::Engine;
use borderdesk::domain::seal::{self, SealBody, SealError};
use serde_json::Value;

use crate::support::TestApp;

/// Verifies a scanned code against the keys served at /api/v1/keys.
pub fn verify_code(keys: &Value, code: &str) -> Result<SealBody, SealError> {
    let keys: Vec<(String, ed25519_dalek::VerifyingKey)> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(k["public_key"].as_str().unwrap())
                .unwrap();
            (
                k["kid"].as_str().unwrap().to_string(),
                ed25519_dalek::VerifyingKey::from_bytes(&raw.try_into().unwrap()).unwrap(),
            )
        })
        .collect();
    seal::verify(code, |id| {
        keys.iter()
            .find(|(kid, _)| *kid == seal::key_id_hex(id))
            .map(|(_, k)| *k)
    })
}

fn tool(name: &str) -> Command {
    let probe = Command::new(name).arg("-h").output();
    assert!(
        probe.is_ok(),
        "{name} is required for this test (apt-get install poppler-utils zbar-tools)"
    );
    Command::new(name)
}

#[actix_web::test]
async fn printed_codes_decode_and_verify() {
    let app = TestApp::spawn().await;
    let token = app.token("window", "officer", &["border_tourism"]);
    let vietnamese_name = serde_json::json!({
        "name_zh": "阮氏英", "name_latin": "Nguyễn Thị Ánh", "nationality": "CHN", "sex": "F",
        "birth_date": "1990-03-07", "id_type": "cn_resident_id", "id_number": crate::support::cn_id("19900307", 24)
    });
    let id = app.application(&token, vietnamese_name).await;
    let permit: Value = app.issue(&token, &id, None).await.json().await.unwrap();
    let number = permit["number"].as_str().unwrap();

    let res = app.get(&token, &format!("/api/v1/permits/{number}/pdf")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = res.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));

    let dir = tempfile::tempdir().unwrap();
    let pdf_path = dir.path().join("permit.pdf");
    std::fs::write(&pdf_path, &pdf).unwrap();

    // The text layer carries both scripts, diacritics included (the font is embedded and mapped).
    let text = tool("pdftotext").arg(&pdf_path).arg("-").output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("阮氏英"), "{text}");
    assert!(text.contains("NGUYỄN THỊ ÁNH"), "{text}");
    assert!(
        !text.contains(&crate::support::cn_id("19900307", 24)),
        "full ID number printed"
    );

    let out = tool("pdftoppm")
        .args(["-r", "300", "-png", "-singlefile"])
        .arg(&pdf_path)
        .arg(dir.path().join("page"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = tool("zbarimg")
        .args(["--raw", "-q"])
        .arg(dir.path().join("page.png"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "zbarimg found no code: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoded = String::from_utf8(out.stdout).unwrap();
    let symbols: Vec<&str> = decoded.lines().collect();
    assert!(symbols.contains(&number), "Code128 should read {number}: {symbols:?}");
    let qr = symbols
        .iter()
        .find(|s| s.starts_with(seal::PREFIX))
        .expect("a signed QR code");

    let keys: Value = app.public_json("/api/v1/keys").await;
    let body = verify_code(&keys, qr).expect("QR payload verifies against the published key");
    assert_eq!(body.number, number);
    assert_eq!(body.holder, "NGUYỄN THỊ ÁNH");
    assert_eq!(seal::key_id_hex(body.key_id), permit["key_id"].as_str().unwrap());
}
