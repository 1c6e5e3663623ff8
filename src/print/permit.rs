//! The permit document: A6 landscape, bilingual, with a Code128 of the number and a QR of the
//! signed code.

use chrono::NaiveDate;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};

use super::font::FontUse;
use super::{PrintError, codes};

const MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 148.0 * MM;
const PAGE_H: f32 = 105.0 * MM;

/// Everything printed on a permit; built by the caller from the stored permit.
#[derive(Debug, Clone)]
pub struct PermitPrint {
    pub title_zh: String,
    pub title_en: String,
    pub number: String,
    pub name_zh: Option<String>,
    pub name_latin: String,
    pub nationality: String,
    pub sex: String,
    pub birth_date: NaiveDate,
    /// Already masked.
    pub id_number: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub entries_allowed: i32,
    pub office_zh: String,
    pub office_en: String,
    /// Issue time as printed, e.g. `2026-11-26 10:15 UTC+08:00`.
    pub issued_at: String,
    /// The signed payload for the 2D code.
    pub code: String,
    /// Border trade: the enterprise the holder acts for, and the vehicles they drive.
    pub enterprise: Option<String>,
    pub plates: Vec<String>,
    /// A banner across the permit when it is not in force (e.g. REVOKED), or None.
    pub banner: Option<String>,
    /// The holder's portrait (baseline JPEG, RGB), when one was taken.
    pub photo: Option<Photo>,
}

/// A JPEG placed as it is (DCTDecode): no decoding at print time.
#[derive(Debug, Clone)]
pub struct Photo {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

pub(super) struct Page<'a> {
    pub(super) content: Content,
    pub(super) font: &'a mut FontUse,
}

impl Page<'_> {
    pub(super) fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        let encoded = self.font.encode(text);
        self.content.begin_text();
        self.content.set_font(Name(b"F1"), size);
        self.content.next_line(x, y);
        self.content.show(Str(&encoded));
        self.content.end_text();
    }

    pub(super) fn gray(&mut self, level: f32) {
        self.content.set_fill_gray(level);
    }

    /// A label in small grey type with its value below.
    fn field(&mut self, x: f32, y: f32, label: &str, value: &str, size: f32) {
        self.gray(0.35);
        self.text(x, y, 6.0, label);
        self.gray(0.0);
        self.text(x, y - size - 1.5, size, value);
    }

    fn modules(&mut self, x: f32, y_top: f32, module: f32, grid: &[bool], width: usize) {
        for (i, dark) in grid.iter().enumerate() {
            if *dark {
                let (col, row) = (i % width, i / width);
                self.content.rect(
                    x + col as f32 * module,
                    y_top - (row + 1) as f32 * module,
                    module,
                    module,
                );
            }
        }
        self.content.fill_nonzero();
    }
}

fn entries_text(n: i32) -> String {
    match n {
        0 => "多次 multiple entries".to_string(),
        1 => "1 次 (单次 single entry)".to_string(),
        n => format!("{n} 次 ({n} entries)"),
    }
}

/// Renders the permit as a one-page PDF.
pub fn permit_pdf(p: &PermitPrint) -> Result<Vec<u8>, PrintError> {
    let mut font = FontUse::new()?;
    let mut page = Page {
        content: Content::new(),
        font: &mut font,
    };

    // Header band.
    page.content.set_fill_rgb(0.09, 0.27, 0.55);
    page.content.rect(0.0, PAGE_H - 16.0 * MM, PAGE_W, 16.0 * MM);
    page.content.fill_nonzero();
    page.content.set_fill_gray(1.0);
    page.text(8.0 * MM, PAGE_H - 8.5 * MM, 14.0, &p.title_zh);
    page.text(8.0 * MM, PAGE_H - 13.5 * MM, 8.0, &p.title_en.to_uppercase());
    let number_w = page.font.width(&p.number, 10.0);
    page.text(PAGE_W - 8.0 * MM - number_w, PAGE_H - 8.5 * MM, 10.0, &p.number);
    page.text(
        PAGE_W - 8.0 * MM - page.font.width("No.", 7.0),
        PAGE_H - 13.5 * MM,
        7.0,
        "No.",
    );

    // Holder and validity, left column.
    let x = 8.0 * MM;
    let mut y = PAGE_H - 22.0 * MM;
    let name = match &p.name_zh {
        Some(zh) => format!("{zh}  {}", p.name_latin),
        None => p.name_latin.clone(),
    };
    page.field(x, y, "姓名 Name", &name, 12.0);
    y -= 10.5 * MM;
    page.field(x, y, "国籍 Nationality", &p.nationality, 9.5);
    page.field(x + 27.0 * MM, y, "性别 Sex", &p.sex, 9.5);
    page.field(
        x + 45.0 * MM,
        y,
        "出生日期 Date of birth",
        &p.birth_date.to_string(),
        9.5,
    );
    y -= 9.0 * MM;
    page.field(x, y, "证件号码 ID number", &p.id_number, 9.5);
    page.field(
        x + 45.0 * MM,
        y,
        "入出境次数 Entries",
        &entries_text(p.entries_allowed),
        9.5,
    );
    y -= 9.0 * MM;
    page.field(
        x,
        y,
        "有效期限 Valid",
        &format!("{} — {}", p.valid_from, p.valid_until),
        9.5,
    );
    if let Some(enterprise) = &p.enterprise {
        page.field(x + 45.0 * MM, y, "企业 Enterprise", enterprise, 8.5);
    }
    y -= 9.0 * MM;
    page.field(x, y, "签发机关 Issuing office", &p.office_zh, 8.5);
    page.gray(0.0);
    page.text(x, y - 20.0, 7.0, &p.office_en);
    y -= 11.5 * MM;
    page.field(x, y, "签发时间 Issued", &p.issued_at, 8.0);
    if !p.plates.is_empty() {
        page.field(x + 45.0 * MM, y, "车牌 Plates", &p.plates.join("  "), 8.5);
    }

    // Code128 of the permit number, bottom left, with a quiet zone of 10 modules each side.
    let bars = codes::code128(&p.number)?;
    let module = 0.3 * MM;
    let bar_h = 9.0 * MM;
    let bar_x = x;
    let bar_y = 6.0 * MM;
    page.gray(1.0);
    page.content.rect(
        bar_x - 10.0 * module,
        bar_y - 1.0,
        (bars.len() + 20) as f32 * module,
        bar_h + 2.0,
    );
    page.content.fill_nonzero();
    page.gray(0.0);
    let mut i = 0;
    while i < bars.len() {
        if bars[i] {
            let start = i;
            while i < bars.len() && bars[i] {
                i += 1;
            }
            page.content
                .rect(bar_x + start as f32 * module, bar_y, (i - start) as f32 * module, bar_h);
        } else {
            i += 1;
        }
    }
    page.content.fill_nonzero();
    page.text(bar_x, bar_y - 3.5 * MM, 7.0, &p.number);

    // Photo frame (33×48 mm at print scale ½) and the signed QR code, right column.
    let photo_w = 24.0 * MM;
    let photo_h = photo_w * 48.0 / 33.0;
    let photo_x = PAGE_W - 8.0 * MM - photo_w;
    let photo_top = PAGE_H - 20.0 * MM;
    if p.photo.is_some() {
        page.content.save_state();
        page.content
            .transform([photo_w, 0.0, 0.0, photo_h, photo_x, photo_top - photo_h]);
        page.content.x_object(Name(b"Im1"));
        page.content.restore_state();
    }
    page.content.set_stroke_gray(0.6);
    page.content.set_line_width(0.5);
    page.content.rect(photo_x, photo_top - photo_h, photo_w, photo_h);
    page.content.stroke();
    if p.photo.is_none() {
        // 容缺: printed before the portrait was taken; the frame says where it belongs.
        page.gray(0.5);
        page.text(photo_x + 7.0 * MM, photo_top - photo_h / 2.0, 7.0, "照片 Photo");
    }

    let (grid, width) = codes::qr(&p.code)?;
    let qr_size = 30.0 * MM;
    let qm = qr_size / width as f32;
    let qr_x = PAGE_W - 8.0 * MM - qr_size;
    let qr_top = 4.0 * MM + qr_size;
    page.gray(0.0);
    page.modules(qr_x, qr_top, qm, &grid, width);

    if let Some(banner) = &p.banner {
        page.content.set_fill_rgb(0.8, 0.0, 0.0);
        let w = page.font.width(banner, 28.0);
        page.text((PAGE_W - w) / 2.0, PAGE_H / 2.0, 28.0, banner);
    }

    let content = page.content.finish();
    let title = format!("{} {}", p.title_en, p.number);
    assemble(&content, font, PAGE_W, PAGE_H, &title, p.photo.as_ref())
}

/// Wraps one page of content and its font into a PDF document.
pub(super) fn assemble(
    content: &[u8],
    font: FontUse,
    width: f32,
    height: f32,
    title: &str,
    photo: Option<&Photo>,
) -> Result<Vec<u8>, PrintError> {
    let mut next_id = 1;
    let mut next = || {
        let r = Ref::new(next_id);
        next_id += 1;
        r
    };
    let catalog = next();
    let tree = next();
    let page_id = next();
    let content_id = next();
    let font_id = next();
    let info_id = next();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    let mut pg = pdf.page(page_id);
    pg.media_box(Rect::new(0.0, 0.0, width, height))
        .parent(tree)
        .contents(content_id);
    let image_id = photo.map(|_| next());
    let mut resources = pg.resources();
    resources.fonts().pair(Name(b"F1"), font_id);
    if let Some(id) = image_id {
        resources.x_objects().pair(Name(b"Im1"), id);
    }
    resources.finish();
    pg.finish();
    if let (Some(id), Some(photo)) = (image_id, photo) {
        let mut image = pdf.image_xobject(id, &photo.jpeg);
        image.filter(Filter::DctDecode);
        image.width(photo.width as i32);
        image.height(photo.height as i32);
        image.color_space().device_rgb();
        image.bits_per_component(8);
        image.finish();
    }
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(content, 6);
    pdf.stream(content_id, &compressed).filter(Filter::FlateDecode);
    font.write(&mut pdf, font_id, &mut next)?;
    pdf.document_info(info_id)
        .title(pdf_writer::TextStr(title))
        .producer(pdf_writer::TextStr("borderdesk"));
    Ok(pdf.finish())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample() -> PermitPrint {
        PermitPrint {
            title_zh: "边境旅游通行证".into(),
            title_en: "Border Tourism Pass".into(),
            number: "BT-YYG-2026-000001".into(),
            name_zh: Some("张伟".into()),
            name_latin: "NGUYỄN THỊ ÁNH".into(),
            nationality: "CHN".into(),
            sex: "M".into(),
            birth_date: NaiveDate::from_ymd_opt(1990, 3, 7).unwrap(),
            id_number: "45************123X".into(),
            valid_from: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            valid_until: NaiveDate::from_ymd_opt(2027, 2, 25).unwrap(),
            entries_allowed: 1,
            office_zh: "友谊关口岸出入境一站式办证点".into(),
            office_en: "Youyiguan (Friendship Pass) one-window permit office".into(),
            issued_at: "2026-11-26 10:15 UTC+08:00".into(),
            code: format!("BD1:{}", "0".repeat(180)),
            enterprise: Some("凭祥市友谊边贸有限公司".into()),
            plates: vec!["桂F12345".into(), "12C-123.45".into()],
            banner: None,
            photo: None,
        }
    }

    #[test]
    fn renders_a_small_pdf_with_an_embedded_subset() {
        let pdf = permit_pdf(&sample()).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.len() < 80_000, "{} bytes", pdf.len());
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/FontFile3"));
        assert!(text.contains("/Identity-H"));
    }
}
