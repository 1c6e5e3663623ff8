//! Feeds arbitrary uploads to the portrait normaliser: it must answer (a portrait or a refusal
//! naming the photo), never panic, and never allocate what a forged header claims.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The same bytes as a JPEG and as a PNG: a fuzzed body rarely keeps its signature.
    let _ = borderdesk::service::portraits::normalise(data);
    for magic in [
        &[0xFF, 0xD8, 0xFF][..],
        &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..],
    ] {
        let mut upload = magic.to_vec();
        upload.extend_from_slice(data);
        if let Ok(p) = borderdesk::service::portraits::normalise(&upload) {
            assert_eq!((p.width, p.height), (330, 480));
        }
    }
});
