//! The holder's ID photo: normalised once at upload (turned upright, cropped to 33×48, resized,
//! re-encoded as JPEG without metadata), stored with the application, shown only to staff who
//! need it (window, supervisors, checkpoint) and printed on the permit.

use std::io::Cursor;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::db::schema::{applications, permits, portraits};
use crate::db::{DbConnection, audit, ts, write_tx};
use crate::domain::DomainError;
use crate::domain::auth::{Action, Actor, authorize, authorize_role};
use crate::domain::validation::{FieldErrors, plausible_key};
use crate::error::{Error, Result};

/// 33×48 mm at 254 dpi: sharp on the A6 permit and on a checkpoint tablet.
pub const WIDTH: u32 = 330;
pub const HEIGHT: u32 = 480;
/// Smaller than this cannot make a recognisable ID photo.
const MIN_WIDTH: u32 = 240;
const MIN_HEIGHT: u32 = 320;
/// Uploads above this are refused before decoding (a phone photo is 2–6 MB).
pub const MAX_BYTES: usize = 12 * 1024 * 1024;
/// Decoding limits: a small file claiming huge dimensions is refused, not allocated.
const MAX_SIDE: u32 = 10_000;
const MAX_ALLOC: u64 = 512 * 1024 * 1024;

/// A normalised portrait, ready to store and print.
#[derive(Debug, Clone)]
pub struct Portrait {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

fn refuse(rule: &str, message: &str) -> Error {
    let mut errs = FieldErrors::new();
    errs.add("photo", rule, message);
    errs.into()
}

/// Decodes a JPEG or PNG upload and normalises it. Every refusal names the field `photo`.
pub fn normalise(bytes: &[u8]) -> Result<Portrait> {
    if bytes.len() > MAX_BYTES {
        return Err(refuse(
            "max_size",
            "照片文件不超过12 MB / the photo file must be at most 12 MB",
        ));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(Error::internal)?;
    if !matches!(reader.format(), Some(ImageFormat::Jpeg | ImageFormat::Png)) {
        return Err(refuse(
            "format",
            "照片应为JPEG或PNG / the photo must be a JPEG or PNG image",
        ));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    let mut reader = reader;
    reader.limits(limits);
    let unreadable = |_| {
        refuse(
            "image",
            "无法读取照片 / the photo could not be read (damaged or too large)",
        )
    };
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    // Phone cameras store the picture sideways and say so in EXIF: turn it upright first.
    let orientation = decoder.orientation().map_err(unreadable)?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    img.apply_orientation(orientation);
    let (w, h) = (img.width(), img.height());
    if w < MIN_WIDTH || h < MIN_HEIGHT {
        return Err(refuse(
            "min_size",
            "照片至少240×320像素 / the photo must be at least 240×320 pixels",
        ));
    }
    // Centre crop to 33:48, then scale to the stored size.
    let (cw, ch) = if u64::from(w) * 48 > u64::from(h) * 33 {
        ((u64::from(h) * 33 / 48) as u32, h)
    } else {
        (w, (u64::from(w) * 48 / 33) as u32)
    };
    let cropped = img.crop_imm((w - cw) / 2, (h - ch) / 2, cw, ch);
    let rgb = cropped
        .resize_exact(WIDTH, HEIGHT, image::imageops::FilterType::Triangle)
        .to_rgb8();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 88)
        .encode_image(&rgb)
        .map_err(Error::internal)?;
    Ok(Portrait {
        jpeg,
        width: WIDTH,
        height: HEIGHT,
    })
}

/// Stores (or retakes) the portrait of an application. When the portrait was a deferred item
/// (容缺), it is supplied by the same transaction, and offline verifiers learn of it.
pub fn store(conn: &mut DbConnection, now: DateTime<Utc>, actor: &Actor, id: &str, p: &Portrait) -> Result<()> {
    write_tx(conn, |c| {
        let before = super::applications::open_for_supply(c, actor, id)?.portrait_at;
        diesel::delete(portraits::table.find(id)).execute(c)?;
        diesel::insert_into(portraits::table)
            .values((
                portraits::application_id.eq(id),
                portraits::jpeg.eq(&p.jpeg),
                portraits::width.eq(p.width as i32),
                portraits::height.eq(p.height as i32),
                portraits::taken_at.eq(ts(now)),
                portraits::taken_by.eq(&actor.id),
            ))
            .execute(c)?;
        diesel::update(applications::table.find(id))
            .set((
                applications::portrait_at.eq(Some(ts(now))),
                applications::updated_at.eq(ts(now)),
            ))
            .execute(c)?;
        // A deferred portrait (容缺) is supplied by this upload, as by the supply step.
        let supplied = super::applications::supplied(c, now, actor, id, "portrait")?;
        let before = before.map(|at| serde_json::json!({"taken_at": at}));
        let after = serde_json::json!({"bytes": p.jpeg.len(), "width": p.width, "height": p.height, "supplied_deferred_item": supplied});
        audit::record(
            c,
            audit::Change {
                at: now,
                actor: Some(&actor.id),
                action: "application.portrait",
                entity: "application",
                entity_id: id,
                before: before.as_ref(),
                after: Some(&after),
            },
        )
    })
}

/// The stored JPEG for printing (the caller has authorised the print).
pub fn stored(conn: &mut DbConnection, application_id: &str) -> Result<Option<Vec<u8>>> {
    Ok(portraits::table
        .find(application_id)
        .select(portraits::jpeg)
        .first(conn)
        .optional()?)
}

/// The stored JPEG of an application's portrait: window staff of the application's office.
pub fn for_application(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<Vec<u8>> {
    authorize_role(actor, Action::ViewPortrait { office: &actor.office })?;
    if !plausible_key(id) {
        return Err(DomainError::NotFound { what: "portrait" }.into());
    }
    let found: Option<(Vec<u8>, String)> = portraits::table
        .inner_join(applications::table.on(applications::id.eq(portraits::application_id)))
        .filter(portraits::application_id.eq(id))
        .select((portraits::jpeg, applications::office))
        .first(conn)
        .optional()?;
    let (jpeg, office) = found.ok_or(DomainError::NotFound { what: "portrait" })?;
    authorize(actor, Action::ViewPortrait { office: &office })?;
    Ok(jpeg)
}

/// The portrait of a permit's holder (the one taken for the permit's application): for window
/// staff of the permit's office, and for the checkpoint, whose verdicts link to it.
pub fn for_permit(conn: &mut DbConnection, actor: &Actor, number: &str) -> Result<Vec<u8>> {
    let at_window = authorize_role(actor, Action::ViewPortrait { office: &actor.office });
    if at_window.is_err() {
        authorize(actor, Action::VerdictPhoto)?;
    }
    if !plausible_key(number) {
        return Err(DomainError::NotFound { what: "portrait" }.into());
    }
    let found: Option<(Vec<u8>, String)> = portraits::table
        .inner_join(permits::table.on(permits::application_id.eq(portraits::application_id)))
        .filter(permits::number.eq(number))
        .select((portraits::jpeg, permits::office))
        .first(conn)
        .optional()?;
    let (jpeg, office) = found.ok_or(DomainError::NotFound { what: "portrait" })?;
    if at_window.is_ok() {
        authorize(actor, Action::ViewPortrait { office: &office })?;
    }
    Ok(jpeg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, _| image::Rgb([(x % 256) as u8, 200, 255]));
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    fn rule(e: Error) -> String {
        match e {
            Error::Domain(DomainError::Validation(errs)) => {
                assert_eq!(errs.0[0].field, "photo");
                errs.0[0].rule.clone()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_landscape_photo_is_cropped_to_33_by_48_and_stored_as_jpeg() {
        let p = normalise(&png(1200, 900)).unwrap();
        assert_eq!((p.width, p.height), (WIDTH, HEIGHT));
        let back = image::load_from_memory(&p.jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (330, 480));
        assert_eq!(image::guess_format(&p.jpeg).unwrap(), ImageFormat::Jpeg);
        assert!(p.jpeg.len() < 100_000, "{} bytes", p.jpeg.len());
    }

    #[test]
    fn bad_photos_are_refused_with_the_rule() {
        assert_eq!(rule(normalise(&png(200, 300)).unwrap_err()), "min_size");
        assert_eq!(rule(normalise(b"GIF89a....").unwrap_err()), "format");
        assert_eq!(rule(normalise(b"hello").unwrap_err()), "format");
        let mut cut = png(400, 600);
        cut.truncate(cut.len() / 2);
        assert_eq!(rule(normalise(&cut).unwrap_err()), "image");
        assert_eq!(rule(normalise(&vec![0; MAX_BYTES + 1]).unwrap_err()), "max_size");
    }

    #[test]
    fn a_small_file_claiming_huge_dimensions_is_refused_without_allocating_them() {
        // A valid PNG header (CRC mended) for 60,000 × 60,000 pixels: 10.8 GB decoded.
        let mut bomb = png(300, 400);
        bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        let started = std::time::Instant::now();
        assert_eq!(rule(normalise(&bomb).unwrap_err()), "image");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "refused, not decoded"
        );
    }

    /// The PNG chunk checksum (CRC-32, ISO 3309), for the forged header above.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for b in bytes {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
