//! The holder's ID photo: normalised once at upload (turned upright, cropped to 33×48, resized,
//! re-encoded as JPEG without metadata), stored with the application, shown only to staff who
//! need it (window, supervisors, checkpoint) and printed on the permit.

use std::io::Cursor;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::db::schema::{applications, crossings, permits, portrait_drafts, portraits};
use crate::db::{DbConnection, audit, ts, write_tx};
use crate::domain::DomainError;
use crate::domain::auth::{Action, Actor, authorize, authorize_role};
use crate::domain::portrait::{Crop, Measures};
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

/// The working picture's longest side: enough for any crop the officer makes to keep the stored
/// 480 pixels of height (a face is more than a quarter of an ID photo's frame), small enough to
/// decode again in milliseconds each time the crop moves.
pub const WORK_SIDE: u32 = 2000;

/// Decodes a JPEG or PNG upload and normalises it with the centred crop (the API's one-step
/// upload). Every refusal names the field `photo`.
pub fn normalise(bytes: &[u8]) -> Result<Portrait> {
    let upright = decode_upright(bytes)?;
    let crop = Crop::centred(upright.width(), upright.height());
    finish(&upright, crop)
}

/// The upload as a working picture the officer adjusts the crop on: upright, at most
/// `WORK_SIDE` on its long side, re-encoded without metadata.
pub fn draft(bytes: &[u8]) -> Result<Draft> {
    draft_of(&decode_upright(bytes)?)
}

fn draft_of(upright: &image::RgbImage) -> Result<Draft> {
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 92)
        .encode_image(upright)
        .map_err(Error::internal)?;
    Ok(Draft {
        jpeg,
        width: upright.width(),
        height: upright.height(),
    })
}

/// A working picture awaiting its crop.
#[derive(Debug, Clone)]
pub struct Draft {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// The stored photo from a working picture: the crop scaled to 330×480 and encoded.
pub fn finish(upright: &image::RgbImage, crop: Crop) -> Result<Portrait> {
    let small = cropped(upright, crop);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 88)
        .encode_image(&small)
        .map_err(Error::internal)?;
    Ok(Portrait {
        jpeg,
        width: WIDTH,
        height: HEIGHT,
    })
}

/// The crop at the stored size; `crop` is clamped to the picture, so it cannot read outside it.
fn cropped(upright: &image::RgbImage, crop: Crop) -> image::RgbImage {
    let c = crop.clamped(upright.width(), upright.height());
    let part = image::imageops::crop_imm(upright, c.x, c.y, c.width(), c.height);
    image::imageops::resize(&*part, WIDTH, HEIGHT, image::imageops::FilterType::Triangle)
}

/// Measures the photo as it would be stored with `crop` (see `domain::portrait::Measures`).
pub fn measure(upright: &image::RgbImage, crop: Crop) -> Measures {
    let c = crop.clamped(upright.width(), upright.height());
    let out = cropped(upright, c);
    let (w, h) = (out.width(), out.height());
    let luma = |p: &image::Rgb<u8>| 0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]);
    let colour =
        |p: &image::Rgb<u8>| f32::from(p.0.iter().max().copied().unwrap_or(0) - p.0.iter().min().copied().unwrap_or(0));
    // Above the head, and beside it in the upper half.
    let mut bg = Stats::default();
    let mut bg_rgb = [0f64; 3];
    for (x, y, p) in out.enumerate_pixels() {
        let beside = y < h / 2 && (x < w / 10 || x >= w - w / 10);
        if y < h / 10 || beside {
            bg.add(luma(p), colour(p));
            for (sum, c) in bg_rgb.iter_mut().zip(p.0) {
                *sum += f64::from(c);
            }
        }
    }
    let bg_rgb = bg_rgb.map(|sum| (sum / bg.n.max(1) as f64) as f32);
    // The face: the middle half across, from a fifth to seven tenths down; its exposure from the
    // pixels that are not background (a white wall beside a narrow face is not a burnt face),
    // or from all of them when hardly any stand out.
    let (x0, x1, y0, y1) = (w / 4, w - w / 4, h / 5, h * 7 / 10);
    let stands_out = |p: &image::Rgb<u8>| p.0.iter().zip(bg_rgb).any(|(c, b)| (f32::from(*c) - b).abs() > 40.0);
    let area = u64::from(x1 - x0) * u64::from(y1 - y0);
    let subject = (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .filter(|&(x, y)| stands_out(out.get_pixel(x, y)))
        .count() as u64;
    let only_subject = subject * 20 >= area;
    let mut face = Stats::default();
    let (mut burnt, mut black) = (0u32, 0u32);
    let mut skin = Vec::new();
    for y in y0..y1 {
        for x in x0..x1 {
            let p = out.get_pixel(x, y);
            if only_subject && !stands_out(p) {
                continue;
            }
            let l = luma(p);
            face.add(l, 0.0);
            burnt += u32::from(l >= 250.0);
            black += u32::from(l <= 12.0);
            if skin_like(p) {
                skin.push(l);
            }
        }
    }
    // The face's lightness is its skin's (hair, a dark collar or an orange uniform beside it
    // would pull a plain mean down): the lightness three quarters of the skin stays under, the
    // lit cheek and forehead. Without enough skin to go by, every pixel that stands out.
    let (face_luma, face_black) = if skin.len() as u64 * 30 >= area {
        // A face in shadow shows in its skin's lightness; black pixels beside the skin are a
        // collar or hair, not a face lost in shadow.
        skin.sort_by(f32::total_cmp);
        (skin[skin.len() * 3 / 4], 0.0)
    } else {
        (face.mean(), black as f32 / face.n.max(1) as f32)
    };
    // Variance of the 4-neighbour Laplacian over the face area.
    let mut lap = Stats::default();
    for y in y0.max(1)..y1.min(h - 1) {
        for x in x0.max(1)..x1.min(w - 1) {
            let at = |x: u32, y: u32| luma(out.get_pixel(x, y));
            let v = at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) - 4.0 * at(x, y);
            lap.add(v, 0.0);
        }
    }
    let n = face.n.max(1) as f32;
    Measures {
        background_luma: bg.mean(),
        background_colour: bg.mean_colour(),
        background_spread: bg.deviation(),
        face_luma,
        face_burnt: burnt as f32 / n,
        face_black,
        sharpness: lap.deviation().powi(2),
        source_height: c.height,
    }
}

/// Skin of any tone, lit or in shadow: red over green over blue in the proportions faces have
/// (an orange uniform has too little green, grey and white walls too little red over blue).
fn skin_like(p: &image::Rgb<u8>) -> bool {
    let [r, g, b] = p.0.map(f32::from);
    r >= 30.0 && r > g && g >= b * 0.9 && (0.5..=0.95).contains(&(g / r)) && (0.3..=0.9).contains(&(b / r))
}

/// Running sums for a mean and a standard deviation.
#[derive(Default)]
struct Stats {
    n: u64,
    sum: f64,
    squares: f64,
    colour: f64,
}

impl Stats {
    fn add(&mut self, v: f32, colour: f32) {
        self.n += 1;
        self.sum += f64::from(v);
        self.squares += f64::from(v) * f64::from(v);
        self.colour += f64::from(colour);
    }
    fn mean(&self) -> f32 {
        (self.sum / self.n.max(1) as f64) as f32
    }
    fn mean_colour(&self) -> f32 {
        (self.colour / self.n.max(1) as f64) as f32
    }
    fn deviation(&self) -> f32 {
        let n = self.n.max(1) as f64;
        let mean = self.sum / n;
        (self.squares / n - mean * mean).max(0.0).sqrt() as f32
    }
}

/// Decodes a JPEG or PNG upload, bounded before decoding, into an upright picture at most
/// `WORK_SIDE` on its long side. Every refusal names the field `photo`.
fn decode_upright(bytes: &[u8]) -> Result<image::RgbImage> {
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
    // Scaled down in the stored orientation, then turned upright: only the smaller picture is
    // rotated, never a second copy of the large one.
    let long = w.max(h);
    let small = if long > WORK_SIDE {
        let sw = (u64::from(w) * u64::from(WORK_SIDE) / u64::from(long)).max(1) as u32;
        let sh = (u64::from(h) * u64::from(WORK_SIDE) / u64::from(long)).max(1) as u32;
        let small = image::imageops::resize(&rgb, sw, sh, image::imageops::FilterType::Triangle);
        drop(rgb);
        small
    } else {
        rgb
    };
    let mut small = DynamicImage::ImageRgb8(small);
    small.apply_orientation(orientation);
    Ok(small.into_rgb8())
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

/// A working picture that is no longer wanted after this long is treated as gone (a photo is
/// personal data: a draft left by an interrupted sitting is not kept).
pub const DRAFT_MINUTES: i64 = 120;

/// A stored working picture, with when it was made (to notice a replacement meanwhile).
struct DraftRow {
    jpeg: Vec<u8>,
    width: u32,
    height: u32,
    made_at: chrono::NaiveDateTime,
}

/// What the officer sees while adjusting the crop: the working picture's size, the box and the
/// quality lines of the photo that box would make.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DraftView {
    /// The working picture, upright, in pixels.
    pub width: u32,
    pub height: u32,
    pub crop: Crop,
    pub lines: Vec<crate::domain::portrait::Line>,
}

impl DraftView {
    pub fn warnings(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| l.verdict == crate::domain::portrait::Verdict::Warn)
            .count()
    }
}

/// Stores (or replaces) an application's working picture, for staff who may take its photo.
pub fn store_draft(conn: &mut DbConnection, now: DateTime<Utc>, actor: &Actor, id: &str, d: &Draft) -> Result<()> {
    write_tx(conn, |c| {
        super::applications::open_for_supply(c, actor, id)?;
        diesel::delete(portrait_drafts::table.find(id)).execute(c)?;
        diesel::insert_into(portrait_drafts::table)
            .values((
                portrait_drafts::application_id.eq(id),
                portrait_drafts::jpeg.eq(&d.jpeg),
                portrait_drafts::width.eq(d.width as i32),
                portrait_drafts::height.eq(d.height as i32),
                portrait_drafts::made_at.eq(ts(now)),
                portrait_drafts::made_by.eq(&actor.id),
            ))
            .execute(c)?;
        let after = serde_json::json!({"bytes": d.jpeg.len(), "width": d.width, "height": d.height});
        audit::entry(now, Some(&actor.id), "application.portrait_draft", "application", id)
            .after(&after)
            .write(c)
    })
}

/// Deletes the working pictures older than `DRAFT_MINUTES` (a sitting left unfinished): a
/// photo of a person is not kept past its use. One audit row per sweep that deleted any, naming
/// the applications. Returns how many.
pub fn sweep_drafts(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize> {
    let cutoff = ts(now - chrono::Duration::minutes(DRAFT_MINUTES));
    write_tx(conn, |c| {
        let gone: Vec<String> = diesel::delete(portrait_drafts::table.filter(portrait_drafts::made_at.lt(cutoff)))
            .returning(portrait_drafts::application_id)
            .get_results(c)?;
        if !gone.is_empty() {
            audit::entry(now, None, "portrait_draft.sweep", "portrait_draft", "expired")
                .after(&serde_json::json!({"applications": gone, "older_than_minutes": DRAFT_MINUTES}))
                .write(c)?;
        }
        Ok(gone.len())
    })
}

/// Runs [`sweep_drafts`] every `every` on this instance (each instance does; one is enough, and
/// two at once delete nothing twice).
pub fn start_sweeper(ctx: super::Ctx, every: std::time::Duration) {
    super::every(every, move || {
        let ctx = ctx.clone();
        async move {
            match ctx.sweep_portrait_drafts().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(drafts = n, "working pictures past their time deleted"),
                Err(e) => tracing::warn!(error = %e, "portrait draft sweep"),
            }
        }
    });
}

/// The application's working picture, for staff who may take its photo; none older than
/// `DRAFT_MINUTES`.
fn load_draft(c: &mut DbConnection, now: DateTime<Utc>, actor: &Actor, id: &str) -> Result<DraftRow> {
    authorize_role(actor, Action::ViewPortrait { office: &actor.office })?;
    if !plausible_key(id) {
        return Err(DomainError::NotFound { what: "photo draft" }.into());
    }
    super::applications::open_for_supply(c, actor, id)?;
    let row: Option<(Vec<u8>, i32, i32, chrono::NaiveDateTime)> = portrait_drafts::table
        .find(id)
        .filter(portrait_drafts::made_at.ge(ts(now - chrono::Duration::minutes(DRAFT_MINUTES))))
        .select((
            portrait_drafts::jpeg,
            portrait_drafts::width,
            portrait_drafts::height,
            portrait_drafts::made_at,
        ))
        .first(c)
        .optional()?;
    let (jpeg, width, height, made_at) = row.ok_or(DomainError::NotFound { what: "photo draft" })?;
    Ok(DraftRow {
        jpeg,
        width: u32::try_from(width).map_err(Error::internal)?,
        height: u32::try_from(height).map_err(Error::internal)?,
        made_at,
    })
}

/// The photo a box made on a working picture, and when that picture was made (to notice a
/// replacement meanwhile).
struct Cropped {
    made_at: chrono::NaiveDateTime,
    crop: Crop,
    portrait: Portrait,
}

/// Stores the photo a box made as the application's portrait, if the working picture is still
/// the one the box was set on, and deletes the working picture, in one transaction.
fn save_draft(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    prices: &crate::domain::free::FreePolicy,
    actor: &Actor,
    id: &str,
    done: &Cropped,
) -> Result<()> {
    write_tx(conn, |c| {
        let gone = diesel::delete(
            portrait_drafts::table
                .find(id)
                .filter(portrait_drafts::made_at.eq(done.made_at)),
        )
        .execute(c)?;
        if gone == 0 {
            return Err(DomainError::Conflict {
                message: "照片已被重新上传或已保存，请查看最新照片 / the photo was uploaded again or saved meanwhile: look at the latest one".into(),
                current_state: "replaced".into(),
            }
            .into());
        }
        store(c, now, prices, actor, id, &done.portrait)?;
        let after = serde_json::json!({"crop": done.crop});
        audit::entry(now, Some(&actor.id), "application.portrait_crop", "application", id)
            .after(&after)
            .write(c)
    })
}

/// A working picture decoded again (it is our own JPEG; the bounds still apply).
fn decode_draft(d: &DraftRow) -> Result<image::RgbImage> {
    let img = decode_upright(&d.jpeg)?;
    if img.dimensions() != (d.width, d.height) {
        return Err(Error::internal("a photo draft's size differs from its record"));
    }
    Ok(img)
}

/// A role that may not take photos is refused before its upload costs a decode (the office and
/// the application are checked when it is stored).
fn may_take_photos(actor: &Actor) -> Result<()> {
    authorize_role(
        actor,
        crate::domain::auth::on::handle(crate::domain::permit::PermitKind::BorderTourism, &actor.office),
    )?;
    Ok(())
}

impl super::Ctx {
    /// See [`sweep_drafts`].
    pub async fn sweep_portrait_drafts(&self) -> Result<usize> {
        self.tx(|c, _, now| sweep_drafts(c, now)).await
    }

    /// One of the `Limits::portraits` slots a decode holds, or 503 when every one is in use.
    fn photo_slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit> {
        self.limits
            .portraits
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::Busy("every photo slot is in use"))
    }

    /// Normalises an uploaded photo and stores it. Decoding is CPU work of tens of milliseconds,
    /// so it runs off the async workers and outside any database connection, at most
    /// `Limits::portraits` at once (beyond that the caller is told to come back: 503).
    pub async fn save_portrait(
        &self,
        actor: Actor,
        id: String,
        upload: impl AsRef<[u8]> + Send + 'static,
    ) -> Result<()> {
        may_take_photos(&actor)?;
        let slot = self.photo_slot()?;
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

    /// Takes an upload as a working picture to adjust before saving: stored with its centred
    /// box, answered with the quality lines of the photo that box makes. Nothing is stored from
    /// a refused upload.
    pub async fn draft_portrait(
        &self,
        actor: Actor,
        id: String,
        upload: impl AsRef<[u8]> + Send + 'static,
    ) -> Result<DraftView> {
        may_take_photos(&actor)?;
        let slot = self.photo_slot()?;
        let (d, view) = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let upright = decode_upright(upload.as_ref())?;
            let d = draft_of(&upright)?;
            let crop = Crop::centred(d.width, d.height);
            let view = DraftView {
                width: d.width,
                height: d.height,
                crop,
                lines: crate::domain::portrait::lines(&measure(&upright, crop)),
            };
            Ok::<_, Error>((d, view))
        })
        .await
        .map_err(Error::internal)??;
        self.tx(move |c, _, now| store_draft(c, now, &actor, &id, &d)).await?;
        Ok(view)
    }

    /// The working picture with the box asked for (checked to lie on the picture, moved by a
    /// nudge if one is asked for; the centred box when none is sent), with that photo's
    /// quality lines.
    pub async fn portrait_draft(
        &self,
        actor: Actor,
        id: String,
        ask: crate::domain::portrait::CropAsk,
    ) -> Result<DraftView> {
        let d = self.tx(move |c, _, now| load_draft(c, now, &actor, &id)).await?;
        let crop = ask.resolve(d.width, d.height)?;
        let slot = self.photo_slot()?;
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let upright = decode_draft(&d)?;
            Ok(DraftView {
                width: d.width,
                height: d.height,
                crop,
                lines: crate::domain::portrait::lines(&measure(&upright, crop)),
            })
        })
        .await
        .map_err(Error::internal)?
    }

    /// The working picture itself (JPEG), for the page that draws the box on it.
    pub async fn portrait_draft_image(&self, actor: Actor, id: String) -> Result<Vec<u8>> {
        self.tx(move |c, _, now| Ok(load_draft(c, now, &actor, &id)?.jpeg))
            .await
    }

    /// Saves the photo the box makes on the working picture, and drops the working picture.
    pub async fn save_portrait_draft(
        &self,
        actor: Actor,
        id: String,
        ask: crate::domain::portrait::CropAsk,
    ) -> Result<()> {
        let (who, app) = (actor.clone(), id.clone());
        let d = self.tx(move |c, _, now| load_draft(c, now, &who, &app)).await?;
        let crop = ask.resolve(d.width, d.height)?;
        let slot = self.photo_slot()?;
        let made_at = d.made_at;
        let portrait = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            finish(&decode_draft(&d)?, crop)
        })
        .await
        .map_err(Error::internal)??;
        let done = Cropped {
            made_at,
            crop,
            portrait,
        };
        self.tx(move |c, ctx, now| save_draft(c, now, &ctx.policy.free_services, &actor, &id, &done))
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

    /// A head and shoulders centred on `bg`, already 33:48 (660×960), with texture.
    fn sitting(bg: [u8; 3], skin: [i32; 3]) -> image::RgbImage {
        image::RgbImage::from_fn(660, 960, |x, y| {
            let t = {
                let h = (x / 3).wrapping_mul(0x9E37_79B1) ^ (y / 3).wrapping_mul(0x85EB_CA77);
                ((h ^ (h >> 15)) % 61) as i32 - 30
            };
            let inside = |cx: f32, cy: f32, rx: f32, ry: f32| {
                let (dx, dy) = ((x as f32 - cx) / rx, (y as f32 - cy) / ry);
                dx * dx + dy * dy <= 1.0
            };
            if inside(330.0, 420.0, 160.0, 210.0) {
                image::Rgb(skin.map(|c| (c + t).clamp(0, 255) as u8))
            } else if inside(330.0, 960.0, 300.0, 260.0) {
                image::Rgb([40, 50, 80].map(|c: i32| (c + t).clamp(0, 255) as u8))
            } else {
                image::Rgb(bg)
            }
        })
    }

    fn verdicts(img: &image::RgbImage, crop: Crop) -> Vec<crate::domain::portrait::Verdict> {
        crate::domain::portrait::lines(&measure(img, crop))
            .iter()
            .map(|l| l.verdict)
            .collect()
    }

    #[test]
    fn the_measures_tell_a_good_sitting_from_a_grey_wall_a_dark_face_a_blur_and_a_small_crop() {
        use crate::domain::portrait::Verdict::{Pass, Warn};
        let whole = Crop::centred(660, 960);
        let skin = [200, 160, 130];
        let good = sitting([248, 248, 248], skin);
        assert_eq!(verdicts(&good, whole), [Pass, Pass, Pass, Pass]);
        assert_eq!(
            verdicts(&sitting([130, 135, 140], skin), whole),
            [Warn, Pass, Pass, Pass],
            "a grey wall"
        );
        assert_eq!(
            verdicts(&sitting([200, 230, 250], skin), whole),
            [Warn, Pass, Pass, Pass],
            "a blue wall"
        );
        assert_eq!(
            verdicts(&sitting([248, 248, 248], [50, 35, 30]), whole),
            [Pass, Warn, Pass, Pass],
            "a face in shadow"
        );
        assert_eq!(
            verdicts(&sitting([248, 248, 248], [255, 255, 250]), whole),
            [Pass, Warn, Pass, Pass],
            "a face burnt out by the flash"
        );
        let shaken = image::imageops::blur(&good, 6.0);
        assert_eq!(verdicts(&shaken, whole), [Pass, Pass, Warn, Pass], "a shaken camera");
        let small = Crop {
            x: 230,
            y: 250,
            height: 300,
        };
        assert_eq!(verdicts(&good, small)[3], Warn, "300 pixels enlarged to 480");
    }

    #[test]
    fn a_draft_is_upright_and_its_box_saves_at_the_stored_size() {
        let d = draft(&png(2400, 1800)).unwrap();
        assert_eq!((d.width, d.height), (WORK_SIDE, 1500), "scaled to the working size");
        let img = image::load_from_memory(&d.jpeg).unwrap().to_rgb8();
        let p = finish(
            &img,
            Crop {
                x: 0,
                y: 0,
                height: 800,
            },
        )
        .unwrap();
        let back = image::load_from_memory(&p.jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (WIDTH, HEIGHT));
        // A box past the edge is clamped, never read outside the picture.
        assert!(
            finish(
                &img,
                Crop {
                    x: 5000,
                    y: 5000,
                    height: 5000
                }
            )
            .is_ok()
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
