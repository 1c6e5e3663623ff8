//! Feeds arbitrary scanned text to the signed-code parser: it must answer (Ok or an error),
//! never panic, whatever a scanner or an attacker types.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
    let text = String::from_utf8_lossy(data);
    let _ = borderdesk::domain::seal::verify(&text, |_| Some(key));
    // The same bytes behind the prefix reach the decoder and the body parser.
    let prefixed = format!("{}{}", borderdesk::domain::seal::PREFIX, text);
    let _ = borderdesk::domain::seal::verify(&prefixed, |_| Some(key));
});
