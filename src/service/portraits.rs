//! The holder's ID photo: normalised once at upload (turned upright, cropped to 33×48, resized,
//! re-encoded as JPEG without metadata), stored with the application, shown only to staff who
//! need it (window, supervisors, checkpoint) and printed on the permit.

use std::io::Cursor;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::db::schema::{applications, crossings, permits, portraits};
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
/// A portrait needs a few megapixels; a 12 MP photo (4000×3000) is accepted, anything larger is
/// refused by its declared size before a pixel is decoded, so a small file cannot claim gigabytes.
pub const MAX_PIXELS: u64 = 12_000_000;
const MAX_SIDE: u32 = 6_000;
/// What one decode may allocate: 12 MP at 16 bits × RGBA is 96 MB.
const MAX_ALLOC: u64 = 100 * 1024 * 1024;

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

fn unreadable<E>(_: E) -> Error {
    refuse(
        "image",
        "无法读取照片 / the photo could not be read (damaged or incomplete)",
    )
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
    let format = reader.format();
    if !matches!(format, Some(ImageFormat::Jpeg | ImageFormat::Png)) {
        return Err(refuse(
            "format",
            "照片应为JPEG或PNG / the photo must be a JPEG or PNG image",
        ));
    }
    // The header alone: what the file claims decides whether it is decoded at all.
    let (w, h) = reader.into_dimensions().map_err(unreadable)?;
    if w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(refuse(
            "max_pixels",
            "照片不超过1200万像素、每边不超过6000像素 / the photo must be at most 12 megapixels and 6000 pixels a side",
        ));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.unwrap_or(ImageFormat::Png));
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(unreadable)?;
    // `from_decoder` does not apply `max_alloc` itself: check what the decode will allocate.
    if decoder.total_bytes() > MAX_ALLOC {
        return Err(refuse(
            "max_pixels",
            "照片不超过1200万像素、每边不超过6000像素 / the photo must be at most 12 megapixels and 6000 pixels a side",
        ));
    }
    let mut decoder = decoder;
    // Phone cameras store the picture sideways and say so in EXIF.
    let orientation = decoder.orientation().map_err(unreadable)?;
    let (ow, oh) = if swaps_axes(orientation) { (h, w) } else { (w, h) };
    if ow < MIN_WIDTH || oh < MIN_HEIGHT {
        return Err(refuse(
            "min_size",
            "照片至少240×320像素 / the photo must be at least 240×320 pixels",
        ));
    }
    let rgb = if format == Some(ImageFormat::Jpeg) {
        drop(decoder);
        decode_whole_jpeg(bytes)?
    } else {
        DynamicImage::from_decoder(decoder).map_err(unreadable)?.into_rgb8()
    };
    if rgb.dimensions() != (w, h) {
        return Err(unreadable(()));
    }
    // Crop and scale in the stored orientation, then turn upright: only the small image is
    // rotated, never a second copy of the large one.
    let (tw, th) = if swaps_axes(orientation) {
        (HEIGHT, WIDTH)
    } else {
        (WIDTH, HEIGHT)
    };
    let (cw, ch) = if u64::from(w) * u64::from(th) > u64::from(h) * u64::from(tw) {
        ((u64::from(h) * u64::from(tw) / u64::from(th)) as u32, h)
    } else {
        (w, (u64::from(w) * u64::from(th) / u64::from(tw)) as u32)
    };
    let cropped = image::imageops::crop_imm(&rgb, (w - cw) / 2, (h - ch) / 2, cw, ch);
    let small = image::imageops::resize(&*cropped, tw, th, image::imageops::FilterType::Triangle);
    drop(rgb);
    let mut small = DynamicImage::ImageRgb8(small);
    small.apply_orientation(orientation);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 88)
        .encode_image(&small.to_rgb8())
        .map_err(Error::internal)?;
    Ok(Portrait {
        jpeg,
        width: WIDTH,
        height: HEIGHT,
    })
}

fn swaps_axes(o: image::metadata::Orientation) -> bool {
    use image::metadata::Orientation::*;
    matches!(o, Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH)
}

/// Decodes a JPEG, refusing a partial one. `image` runs zune-jpeg leniently, painting whatever
/// the file lacks grey, so a cut-off upload would become a half-grey portrait: here the decoder
/// is strict, and the last scan must be followed by the end-of-image marker.
fn decode_whole_jpeg(bytes: &[u8]) -> Result<image::RgbImage> {
    if !ends_last_scan(bytes) {
        return Err(unreadable(()));
    }
    let options = zune_core::options::DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(MAX_SIDE as usize)
        .set_max_height(MAX_SIDE as usize)
        .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::RGB);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(bytes, options);
    decoder.decode_headers().map_err(unreadable)?;
    let (w, h) = decoder.dimensions().ok_or(()).map_err(unreadable)?;
    let size = decoder.output_buffer_size().ok_or(()).map_err(unreadable)?;
    if size as u64 > MAX_ALLOC {
        return Err(unreadable(()));
    }
    let mut pixels = vec![0; size];
    decoder.decode_into(&mut pixels).map_err(unreadable)?;
    image::RgbImage::from_raw(w as u32, h as u32, pixels).ok_or_else(|| unreadable(()))
}

/// Whether an end-of-image marker follows the last start-of-scan. Inside entropy-coded data a
/// 0xFF byte is always stuffed (FF 00), so FF D9 there can only be the real marker; the last
/// SOS is the main image's (an EXIF thumbnail comes before it).
fn ends_last_scan(bytes: &[u8]) -> bool {
    bytes
        .windows(2)
        .rposition(|w| w == [0xFF, 0xDA])
        .is_some_and(|sos| bytes[sos..].windows(2).any(|w| w == [0xFF, 0xD9]))
}

/// Stores (or retakes) the portrait of an application. When the portrait was a deferred item
/// (容缺), it is supplied by the same transaction, and offline verifiers learn of it.
pub fn store(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    prices: &crate::domain::free::FreePolicy,
    actor: &Actor,
    id: &str,
    p: &Portrait,
) -> Result<()> {
    write_tx(conn, |c| {
        let app = super::applications::open_for_supply(c, actor, id)?;
        let before = app.portrait_at;
        // The free ID photo (证件照免费): one sitting per application, however many retakes.
        if before.is_none() {
            super::free::record(
                c,
                now,
                prices,
                actor,
                super::free::Given {
                    office: &app.office,
                    service: crate::domain::free::FreeService::IdPhoto,
                    quantity: 1,
                    recipient: None,
                    enterprise: app.enterprise_name.clone(),
                    application_id: Some(id.to_string()),
                    permit_number: None,
                    note: None,
                },
            )?;
        }
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
        // The checkpoint shows the photo link from its scan index: a permit already issued on
        // this application is marked changed so the index reads it again.
        super::trust::touch_application(c, id)?;
        // A deferred portrait (容缺) is supplied by this upload, as by the supply step.
        let supplied = super::applications::supplied(c, now, actor, id, "portrait")?;
        let before = before.map(|at| serde_json::json!({"taken_at": at}));
        let after = serde_json::json!({"bytes": p.jpeg.len(), "width": p.width, "height": p.height, "supplied_deferred_item": supplied});
        audit::entry(now, Some(&actor.id), "application.portrait", "application", id)
            .before_if(before.as_ref())
            .after(&after)
            .write(c)
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

/// How long after its scan a checkpoint device may still open the photo its verdict showed
/// (the guard looks again while the vehicle is at the lane).
pub const VERDICT_PHOTO_MINUTES: i64 = 30;

/// The portrait of a permit's holder (the one taken for the permit's application): for window
/// staff of the permit's office, and for a checkpoint device that scanned the permit in the
/// last `VERDICT_PHOTO_MINUTES` (the photo its verdict links to), not any permit by number.
pub fn for_permit(conn: &mut DbConnection, now: DateTime<Utc>, actor: &Actor, number: &str) -> Result<Vec<u8>> {
    let at_window = authorize_role(actor, Action::ViewPortrait { office: &actor.office });
    if at_window.is_err() {
        authorize(actor, Action::VerdictPhoto)?;
    }
    if !plausible_key(number) {
        return Err(DomainError::NotFound { what: "portrait" }.into());
    }
    if at_window.is_err() {
        let scanned: i64 = crossings::table
            .filter(crossings::permit_number.eq(number))
            .filter(crossings::device.eq(&actor.id))
            .filter(crossings::at.ge(ts(now - chrono::Duration::minutes(VERDICT_PHOTO_MINUTES))))
            .count()
            .get_result(conn)?;
        if scanned == 0 {
            // Answered as a missing photo: the device learns nothing about permits it has not
            // just scanned.
            return Err(DomainError::NotFound { what: "portrait" }.into());
        }
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

impl super::Ctx {
    /// Normalises an uploaded photo and stores it. Decoding is CPU work of tens of milliseconds,
    /// so it runs off the async workers and outside any database connection, at most
    /// `Limits::portraits` at once (beyond that the caller is told to come back: 503).
    pub async fn save_portrait(
        &self,
        actor: Actor,
        id: String,
        upload: impl AsRef<[u8]> + Send + 'static,
    ) -> Result<()> {
        // A role that may not take photos is refused before its upload costs a decode.
        authorize_role(
            &actor,
            crate::domain::auth::on::handle(crate::domain::permit::PermitKind::BorderTourism, &actor.office),
        )?;
        let slot = self
            .limits
            .portraits
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::Busy("every photo slot is in use"))?;
        let portrait = tokio::task::spawn_blocking(move || {
            // Held until the decode's memory is freed, even if the request is dropped meanwhile.
            let _slot = slot;
            normalise(upload.as_ref())
        })
        .await
        .map_err(Error::internal)??;
        self.tx(move |c, ctx, now| store(c, now, &ctx.policy.free_services, &actor, &id, &portrait))
            .await
    }

    /// An application's stored portrait, for staff of its office.
    pub async fn application_portrait(&self, actor: Actor, id: String) -> Result<Vec<u8>> {
        self.tx(move |c, _, _| for_application(c, &actor, &id)).await
    }

    /// A permit holder's portrait (see [`for_permit`] for who may see it).
    pub async fn permit_photo(&self, actor: Actor, number: String) -> Result<Vec<u8>> {
        self.tx(move |c, _, now| for_permit(c, now, &actor, &number)).await
    }
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
        assert_eq!(rule(normalise(&bomb).unwrap_err()), "max_pixels");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "refused, not decoded"
        );
    }

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
            .encode_image(&img)
            .unwrap();
        out
    }

    /// A JPEG whose frame header claims `w`×`h`: what a decoder would allocate for it.
    pub(crate) fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
        let mut bomb = jpeg(320, 400);
        let sof = bomb.windows(2).position(|m| m == [0xFF, 0xC0]).unwrap();
        bomb[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
        bomb[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
        bomb
    }

    #[test]
    fn a_whole_jpeg_is_accepted() {
        let p = normalise(&jpeg(600, 800)).unwrap();
        let back = image::load_from_memory(&p.jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (WIDTH, HEIGHT));
    }

    #[test]
    fn a_truncated_jpeg_is_refused_not_stored_half_grey() {
        let whole = jpeg(600, 800);
        for cut in [700, whole.len() / 2, whole.len() - 40, whole.len() - 2] {
            assert_eq!(
                rule(normalise(&whole[..cut]).unwrap_err()),
                "image",
                "cut at {cut} of {}",
                whole.len()
            );
        }
    }

    #[test]
    fn photos_declaring_more_than_a_portrait_needs_are_refused_before_decoding() {
        let png_claiming = |w: u32, h: u32, depth: u8, colour: u8| {
            let mut bomb = png(300, 400);
            bomb[16..20].copy_from_slice(&w.to_be_bytes());
            bomb[20..24].copy_from_slice(&h.to_be_bytes());
            bomb[24] = depth;
            bomb[25] = colour;
            let crc = crc32(&bomb[12..29]);
            bomb[29..33].copy_from_slice(&crc.to_be_bytes());
            bomb
        };
        for (what, bomb) in [
            ("8-bit PNG 10000²", png_claiming(10_000, 10_000, 8, 2)),
            ("16-bit RGBA PNG 10000²", png_claiming(10_000, 10_000, 16, 6)),
            ("PNG 6001 wide", png_claiming(6_001, 400, 8, 2)),
            ("JPEG 10000²", jpeg_claiming(10_000, 10_000)),
            ("JPEG 4000×3001", jpeg_claiming(4_000, 3_001)),
        ] {
            assert_eq!(rule(normalise(&bomb).unwrap_err()), "max_pixels", "{what}");
        }
    }

    #[test]
    fn a_12_megapixel_photo_is_still_a_photo() {
        let p = normalise(&jpeg(3000, 4000)).unwrap();
        assert_eq!((p.width, p.height), (WIDTH, HEIGHT));
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
