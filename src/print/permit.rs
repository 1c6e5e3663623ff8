//! The permit document: A6 landscape, labelled in 中文, Tiếng Việt and English (Vietnamese
//! border guards read it), with a Code128 of the number and a QR of the signed code.

use chrono::NaiveDate;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect as PdfRect, Ref, Str};

use super::font::FontUse;
use super::layout::{self, ASCENT, LEADING, Rect, Style};
use super::{PrintError, codes};
use crate::domain::traveller::Sex;

pub(super) const MM: f32 = 72.0 / 25.4;
pub const PAGE_W: f32 = 148.0 * MM;
pub const PAGE_H: f32 = 105.0 * MM;
/// The card is folded down the middle for the pocket: a crease through a Code128 breaks it.
pub const FOLD_X: f32 = PAGE_W / 2.0;

/// Everything printed on a permit; built by the caller from the stored permit.
#[derive(Clone)]
pub struct PermitPrint {
    pub title_zh: String,
    pub title_vi: String,
    pub title_en: String,
    pub number: String,
    /// The application's number, the one the public progress page asks for.
    pub application_number: String,
    pub name_zh: Option<String>,
    pub name_latin: String,
    pub nationality: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    /// In full: a travel document is matched against the holder's ID card by its number.
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
    /// A6 paper or the office's card blanks.
    pub media: crate::domain::policy::PermitMedia,
}

/// Masked: the full ID number belongs on the document, not in a log line.
impl std::fmt::Debug for PermitPrint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PermitPrint")
            .field("number", &self.number)
            .field("application_number", &self.application_number)
            .field("id_number", &crate::domain::mask::mask_id(&self.id_number))
            .finish_non_exhaustive()
    }
}

/// A JPEG placed as it is (DCTDecode): no decoding at print time.
#[derive(Debug, Clone)]
pub struct Photo {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// One line of text as set on the page, kept so the layout can be checked.
#[derive(Debug, Clone)]
pub struct Placed {
    pub text: String,
    pub x: f32,
    pub baseline: f32,
    pub size: f32,
    pub width: f32,
}

pub(super) struct Page<'a> {
    pub(super) content: Content,
    pub(super) font: &'a mut FontUse,
    pub(super) placed: Vec<Placed>,
}

impl<'a> Page<'a> {
    pub(super) fn new(font: &'a mut FontUse) -> Page<'a> {
        Page {
            content: Content::new(),
            font,
            placed: Vec::new(),
        }
    }

    /// A Code128 symbol's bars (runs of dark modules as one rectangle each) from (x, y) up.
    pub(super) fn bars(&mut self, x: f32, y: f32, module: f32, height: f32, bars: &[bool]) {
        let mut i = 0;
        while i < bars.len() {
            if bars[i] {
                let start = i;
                while i < bars.len() && bars[i] {
                    i += 1;
                }
                self.content
                    .rect(x + start as f32 * module, y, (i - start) as f32 * module, height);
            } else {
                i += 1;
            }
        }
        self.content.fill_nonzero();
    }

    pub(super) fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        let encoded = self.font.encode(text);
        self.content.begin_text();
        self.content.set_font(Name(b"F1"), size);
        self.content.next_line(x, y);
        self.content.show(Str(&encoded));
        self.content.end_text();
        self.placed.push(Placed {
            text: text.to_string(),
            x,
            baseline: y,
            size,
            width: self.font.width(text, size),
        });
    }

    pub(super) fn gray(&mut self, level: f32) {
        self.content.set_fill_gray(level);
    }

    /// `parts` fitted into `frame` and set from its top-left corner; returns the height used.
    pub(super) fn fitted(&mut self, frame: Rect, parts: &[&str], style: Style) -> f32 {
        let font = &*self.font;
        let fit = layout::fit(parts, frame.w, frame.h, style, |t, s| font.width(t, s));
        let mut baseline = frame.top() - ASCENT * fit.size;
        for line in &fit.lines {
            self.text(frame.x, baseline, fit.size, line);
            baseline -= fit.size * LEADING;
        }
        fit.lines.len() as f32 * fit.size * LEADING
    }

    /// A label in small grey type with its value below, both kept inside `frame` and clear of
    /// the next field to the right by a gutter.
    pub(super) fn field(&mut self, field: &Field) {
        let f = field.frame;
        let inner = Rect::new(f.x, f.y, f.w - GUTTER, f.h);
        self.gray(0.35);
        let used = self.fitted(inner, &[field.label], LABEL);
        self.gray(0.0);
        let parts: Vec<&str> = field.value.iter().map(String::as_str).collect();
        let value = Rect::new(inner.x, inner.y, inner.w, inner.h - used);
        self.fitted(value, &parts, field.style);
    }

    pub(super) fn modules(&mut self, x: f32, y_top: f32, module: f32, grid: &[bool], width: usize) {
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

impl Page<'_> {
    /// The holder's photo (the document's `Im1`) in its frame; without one (容缺: printed before
    /// the portrait was taken) the empty frame says where it belongs.
    pub(super) fn photo(&mut self, frame: Rect, has_photo: bool, line: f32, label_size: f32) {
        if has_photo {
            self.content.save_state();
            self.content.transform([frame.w, 0.0, 0.0, frame.h, frame.x, frame.y]);
            self.content.x_object(Name(b"Im1"));
            self.content.restore_state();
        }
        self.content.set_stroke_gray(0.6);
        self.content.set_line_width(line);
        self.content.rect(frame.x, frame.y, frame.w, frame.h);
        self.content.stroke();
        if !has_photo {
            self.gray(0.5);
            let label = "照片 Ảnh Photo";
            let w = self.font.width(label, label_size);
            self.text(
                frame.x + (frame.w - w) / 2.0,
                frame.y + frame.h / 2.0,
                label_size,
                label,
            );
        }
    }

    /// A permit no longer in force says so in red across the middle of a `width`×`height`
    /// page, as large as fits up to `max` points.
    pub(super) fn banner(&mut self, banner: &str, width: f32, height: f32, margin: f32, max: f32) {
        self.content.set_fill_rgb(0.8, 0.0, 0.0);
        let font = &*self.font;
        let fit = layout::fit(
            &[banner],
            width - 2.0 * margin,
            max + 2.0,
            Style {
                max,
                min: 5.0,
                max_lines: 1,
            },
            |t, s| font.width(t, s),
        );
        let w = self.font.width(banner, fit.size);
        self.text((width - w) / 2.0, height / 2.0, fit.size, banner);
    }
}

const GUTTER: f32 = 2.0 * MM;
pub(super) const LABEL: Style = Style {
    max: 5.5,
    min: 4.5,
    max_lines: 1,
};
pub(super) const VALUE: Style = Style {
    max: 9.5,
    min: 6.5,
    max_lines: 2,
};

/// A labelled value and the box it must stay in.
pub struct Field {
    pub label: &'static str,
    pub value: Vec<String>,
    pub frame: Rect,
    pub(super) style: Style,
}

/// A box given in millimetres from the page's left and top edges.
fn mm_box(left: f32, right: f32, top: f32, height: f32) -> Rect {
    Rect::new(
        left * MM,
        PAGE_H - (top + height) * MM,
        (right - left) * MM,
        height * MM,
    )
}

/// Where the fixed parts of the card go. The codes are sized from what a field trial of
/// cameras, cheap printers and pockets showed to read: QR at level Q, ~38 mm; Code128 18 mm
/// tall, modules of 0.30 mm, left of the centre fold.
pub struct Frame {
    pub header: Rect,
    pub photo: Rect,
    /// The QR with its quiet zone of four modules.
    pub qr: Rect,
    qr_module: f32,
    /// The Code128 with its quiet zone of ten modules and its number printed below.
    pub code128: Rect,
    bars: Rect,
    bar_module: f32,
}

const QR_SIZE: f32 = 38.0 * MM;
const BAR_HEIGHT: f32 = 18.0 * MM;
const BAR_MODULE: f32 = 0.30 * MM;

impl Frame {
    pub fn new(qr_width: usize, bar_modules: usize) -> Frame {
        let photo_w = 24.0 * MM;
        let photo_h = photo_w * 48.0 / 33.0;
        let qr_module = QR_SIZE / qr_width.max(1) as f32;
        let qr_x = PAGE_W - 6.0 * MM - QR_SIZE;
        let qr_y = 5.0 * MM;
        // The quiet zone starts 3 mm in from the edge and ends 1.5 mm short of the fold; a
        // longer number than today's gets narrower modules rather than crossing the fold.
        let zone_x = 3.0 * MM;
        let zone_w = FOLD_X - 1.5 * MM - zone_x;
        let bar_module = BAR_MODULE.min(zone_w / (bar_modules + 20) as f32);
        let bars = Rect::new(
            zone_x + 10.0 * bar_module,
            8.5 * MM,
            bar_modules as f32 * bar_module,
            BAR_HEIGHT,
        );
        Frame {
            header: Rect::new(0.0, PAGE_H - 16.0 * MM, PAGE_W, 16.0 * MM),
            photo: Rect::new(
                PAGE_W - 6.0 * MM - photo_w,
                PAGE_H - 19.0 * MM - photo_h,
                photo_w,
                photo_h,
            ),
            qr: Rect::new(
                qr_x - 4.0 * qr_module,
                qr_y - 4.0 * qr_module,
                QR_SIZE + 8.0 * qr_module,
                QR_SIZE + 8.0 * qr_module,
            ),
            qr_module,
            code128: Rect::new(
                zone_x,
                2.5 * MM,
                (bar_modules + 20) as f32 * bar_module,
                bars.top() + 0.5 * MM - 2.5 * MM,
            ),
            bars,
            bar_module,
        }
    }
}

fn entries_text(n: i32) -> String {
    match n {
        0 => "多次 Nhiều lần Multiple".to_string(),
        1 => "1 次 Một lần Single".to_string(),
        n => format!("{n} 次 {n} lần {n} entries"),
    }
}

fn sex_text(sex: Sex) -> String {
    match sex {
        Sex::M => "男 Nam M".to_string(),
        Sex::F => "女 Nữ F".to_string(),
        Sex::X => "X".to_string(),
    }
}

fn nationality_text(code: &str) -> String {
    match code {
        "CHN" => "中国 Trung Quốc CHN".to_string(),
        "VNM" => "越南 Việt Nam VNM".to_string(),
        other => other.to_string(),
    }
}

/// One thing a permit states, with its trilingual label.
pub(super) struct Fact {
    label: &'static str,
    value: Vec<String>,
}

impl Fact {
    fn one(label: &'static str, value: String) -> Fact {
        Fact {
            label,
            value: vec![value],
        }
    }

    /// The fact placed in `frame`, fitted in `style`.
    pub(super) fn at(self, frame: Rect, style: Style) -> Field {
        Field {
            label: self.label,
            value: self.value,
            frame,
            style,
        }
    }
}

/// What a permit states, the same on every media: the A6 page ([`fields`]) and the card's two
/// sides (`card::front_fields`, `card::back_fields`) only place them differently. A kind without
/// enterprise or plates has none.
pub(super) struct Facts {
    pub name: Fact,
    pub nationality: Fact,
    pub sex: Fact,
    pub birth_date: Fact,
    pub id_number: Fact,
    pub validity: Fact,
    pub entries: Fact,
    pub application: Fact,
    pub issued: Fact,
    pub office: Fact,
    pub enterprise: Option<Fact>,
    pub plates: Option<Fact>,
}

impl Facts {
    pub(super) fn of(p: &PermitPrint) -> Facts {
        Facts {
            name: Fact {
                label: "姓名 Họ tên Name",
                value: p.name_zh.iter().cloned().chain([p.name_latin.clone()]).collect(),
            },
            nationality: Fact::one("国籍 Quốc tịch Nationality", nationality_text(&p.nationality)),
            sex: Fact::one("性别 Giới tính Sex", sex_text(p.sex)),
            birth_date: Fact::one("出生日期 Ngày sinh Date of birth", p.birth_date.to_string()),
            id_number: Fact::one("证件号码 Số giấy tờ ID No.", p.id_number.clone()),
            validity: Fact::one(
                "有效期限 Thời hạn hiệu lực Validity",
                format!("{} — {}", p.valid_from, p.valid_until),
            ),
            entries: Fact::one("次数 Số lần Entries", entries_text(p.entries_allowed)),
            application: Fact::one("受理编号 Số hồ sơ Application No.", p.application_number.clone()),
            issued: Fact::one("签发时间 Ngày cấp Issued", p.issued_at.clone()),
            office: Fact {
                label: "签发机关 Cơ quan cấp Issuing office",
                value: vec![p.office_zh.clone(), p.office_en.clone()],
            },
            enterprise: p
                .enterprise
                .clone()
                .map(|e| Fact::one("企业 Doanh nghiệp Enterprise", e)),
            plates: (!p.plates.is_empty()).then(|| Fact::one("车牌 Biển số xe Plates", p.plates.join("  "))),
        }
    }
}

/// The labelled fields of a permit and their boxes: left of the photo, above the QR and the
/// Code128. Fields a kind does not have (enterprise, plates) are left out.
pub fn fields(p: &PermitPrint) -> Vec<Field> {
    let f = Facts::of(p);
    let name = Style {
        max: 12.0,
        min: 8.0,
        max_lines: 2,
    };
    let office = Style {
        max: 8.0,
        min: 6.0,
        max_lines: 2,
    };
    let mut fields = vec![
        f.name.at(mm_box(6.0, 114.0, 18.0, 14.5), name),
        f.nationality.at(mm_box(6.0, 38.0, 33.0, 8.5), VALUE),
        f.sex.at(mm_box(38.0, 58.0, 33.0, 8.5), VALUE),
        f.birth_date.at(mm_box(58.0, 88.0, 33.0, 8.5), VALUE),
        f.entries.at(mm_box(88.0, 114.0, 33.0, 8.5), VALUE),
        f.id_number.at(mm_box(6.0, 60.0, 41.5, 8.5), VALUE),
        f.application.at(mm_box(60.0, 114.0, 41.5, 8.5), VALUE),
        f.validity.at(mm_box(6.0, 60.0, 50.0, 8.5), VALUE),
        f.issued.at(mm_box(60.0, 114.0, 50.0, 8.5), Style { max: 8.0, ..VALUE }),
        f.office.at(mm_box(6.0, 100.0, 58.5, 10.0), office),
    ];
    let small = Style { max: 8.5, ..VALUE };
    fields.extend(f.enterprise.map(|e| e.at(mm_box(6.0, 56.0, 68.5, 8.5), small)));
    fields.extend(f.plates.map(|e| e.at(mm_box(56.0, 100.0, 68.5, 8.5), small)));
    fields
}

/// Renders the permit on its media: one A6 page, or a card's two sides.
pub fn permit_pdf(p: &PermitPrint) -> Result<Vec<u8>, PrintError> {
    match p.media {
        crate::domain::policy::PermitMedia::A6 => a6_pdf(p),
        crate::domain::policy::PermitMedia::Cr80 => super::card::card_pdf(p),
    }
}

/// Renders the permit as a one-page A6 PDF.
fn a6_pdf(p: &PermitPrint) -> Result<Vec<u8>, PrintError> {
    let mut font = FontUse::new()?;
    let (content, _) = draw(p, &mut font)?;
    let title = format!("{} {}", p.title_en, p.number);
    assemble(&content, font, PAGE_W, PAGE_H, &title, p.photo.as_ref())
}

/// The page's content stream and every line of text as placed.
pub fn draw(p: &PermitPrint, font: &mut FontUse) -> Result<(pdf_writer::Buf, Vec<Placed>), PrintError> {
    let bars = codes::code128(&p.number)?;
    let (grid, qr_width) = codes::qr(&p.code)?;
    let frame = Frame::new(qr_width, bars.len());
    let mut page = Page::new(font);

    // Header band: the titles left, the number right.
    let h = frame.header;
    page.content.set_fill_rgb(0.09, 0.27, 0.55);
    page.content.rect(h.x, h.y, h.w, h.h);
    page.content.fill_nonzero();
    page.gray(1.0);
    let number_w = page.font.width(&p.number, 10.0);
    let number_x = PAGE_W - 6.0 * MM - number_w;
    page.text(number_x, PAGE_H - 8.5 * MM, 10.0, &p.number);
    let no = "编号 Số No.";
    page.text(
        PAGE_W - 6.0 * MM - page.font.width(no, 6.0),
        PAGE_H - 13.5 * MM,
        6.0,
        no,
    );
    let title_w = number_x - 4.0 * MM - 6.0 * MM;
    page.fitted(
        Rect::new(6.0 * MM, PAGE_H - 10.5 * MM, title_w, 8.0 * MM),
        &[p.title_zh.as_str()],
        Style {
            max: 14.0,
            min: 10.0,
            max_lines: 1,
        },
    );
    let subtitle = format!("{} · {}", p.title_vi, p.title_en.to_uppercase());
    page.fitted(
        Rect::new(6.0 * MM, h.y + 1.0 * MM, title_w, 4.5 * MM),
        &[subtitle.as_str()],
        Style {
            max: 7.0,
            min: 5.0,
            max_lines: 1,
        },
    );

    for field in fields(p) {
        page.field(&field);
    }

    // Code128 of the permit number on a white ground (its quiet zone), the number below.
    page.gray(1.0);
    let c = frame.code128;
    page.content.rect(c.x, c.y, c.w, c.h);
    page.content.fill_nonzero();
    page.gray(0.0);
    page.bars(frame.bars.x, frame.bars.y, frame.bar_module, frame.bars.h, &bars);
    page.text(frame.bars.x, 4.0 * MM, 7.0, &p.number);

    // Photo frame (33×48 at print scale) and the signed QR code, right column.
    page.photo(frame.photo, p.photo.is_some(), 0.5, 6.5);

    let qm = frame.qr_module;
    page.gray(0.0);
    page.modules(frame.qr.x + 4.0 * qm, frame.qr.top() - 4.0 * qm, qm, &grid, qr_width);

    if let Some(banner) = &p.banner {
        page.banner(banner, PAGE_W, PAGE_H, 6.0 * MM, 28.0);
    }

    let placed = std::mem::take(&mut page.placed);
    Ok((page.content.finish(), placed))
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
    assemble_pages(&[content], font, width, height, title, photo)
}

/// Wraps pages of content (all the same size, sharing the font and the photo) into a PDF
/// document: a card's front and back.
pub(super) fn assemble_pages(
    contents: &[&[u8]],
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
    let pages: Vec<(Ref, Ref)> = contents.iter().map(|_| (next(), next())).collect();
    let font_id = next();
    let info_id = next();
    let image_id = photo.map(|_| next());

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(pages.iter().map(|(page, _)| *page))
        .count(pages.len() as i32);
    for ((page_id, content_id), content) in pages.iter().zip(contents) {
        let mut pg = pdf.page(*page_id);
        pg.media_box(PdfRect::new(0.0, 0.0, width, height))
            .parent(tree)
            .contents(*content_id);
        let mut resources = pg.resources();
        resources.fonts().pair(Name(b"F1"), font_id);
        if let Some(id) = image_id {
            resources.x_objects().pair(Name(b"Im1"), id);
        }
        resources.finish();
        pg.finish();
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(content, 6);
        pdf.stream(*content_id, &compressed).filter(Filter::FlateDecode);
    }
    if let (Some(id), Some(photo)) = (image_id, photo) {
        let mut image = pdf.image_xobject(id, &photo.jpeg);
        image.filter(Filter::DctDecode);
        image.width(photo.width as i32);
        image.height(photo.height as i32);
        image.color_space().device_rgb();
        image.bits_per_component(8);
        image.finish();
    }
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
            title_vi: "Giấy thông hành du lịch biên giới".into(),
            title_en: "Border Tourism Pass".into(),
            number: "BT-YYG-2026-000001".into(),
            application_number: "YYG202611260001".into(),
            name_zh: Some("张伟".into()),
            name_latin: "NGUYỄN THỊ ÁNH".into(),
            nationality: "CHN".into(),
            sex: Sex::M,
            birth_date: NaiveDate::from_ymd_opt(1990, 3, 7).unwrap(),
            id_number: "450102199003071234".into(),
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
            media: crate::domain::policy::PermitMedia::A6,
        }
    }

    /// The longest names the field trial met, and longer.
    pub(crate) fn long_names() -> Vec<PermitPrint> {
        let latin = "MUHAMMAD ABDURRAHMAN NGUYỄN THỊ HOÀNG ANH"; // 41 characters
        let cases = [
            (Some("阿卜杜热合曼·买买提艾力·阿不都克力木"), latin),
            (None, "NGUYỄNTHỊHOÀNGANHMUHAMMADABDURRAHMANBINX"),
            (Some("欧阳娜娜"), latin),
            (
                Some("爱新觉罗·溥仪爱新觉罗·溥仪爱新觉罗·溥仪爱新觉罗·溥仪"),
                "AISIN GIORO PUYI",
            ),
            // The longest the form takes: 32 and 64 characters.
            (
                Some("爱新觉罗溥仪爱新觉罗溥仪爱新觉罗溥仪爱新觉罗溥仪爱新觉罗溥仪爱新"),
                "AISIN GIORO PUYI AISIN GIORO PUYI AISIN GIORO PUYI AISIN GIORO P",
            ),
        ];
        let kinds = [
            (
                true,
                Some("广西凭祥市友谊关边境贸易进出口有限责任公司第一分公司".to_string()),
            ),
            (false, None),
        ];
        let mut out = Vec::new();
        for (zh, latin) in cases {
            for (plates, enterprise) in &kinds {
                out.push(PermitPrint {
                    name_zh: zh.map(String::from),
                    name_latin: latin.into(),
                    enterprise: enterprise.clone(),
                    plates: if *plates {
                        vec!["桂F12345".into(), "12C-123.45".into(), "桂FA1234".into()]
                    } else {
                        Vec::new()
                    },
                    entries_allowed: 12,
                    ..sample()
                });
            }
        }
        out
    }

    /// Where a placed line's ink actually is.
    pub(crate) fn ink(font: &FontUse, t: &Placed) -> Rect {
        let (lo, hi) = font.ink_extent(&t.text);
        Rect::new(t.x, t.baseline + lo * t.size, t.width, (hi - lo) * t.size)
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

    /// The sample pass, its frame, and its QR code's width in modules.
    fn sample_frame() -> (PermitPrint, Frame, usize) {
        let p = sample();
        let bars = codes::code128(&p.number).unwrap();
        let (_, qr_width) = codes::qr(&p.code).unwrap();
        let f = Frame::new(qr_width, bars.len());
        (p, f, qr_width)
    }

    #[test]
    fn the_fixed_parts_are_inside_the_card_apart_and_clear_of_the_fold() {
        let (_, f, qr_width) = sample_frame();
        let page = Rect::new(0.0, 0.0, PAGE_W, PAGE_H);
        for r in [f.header, f.photo, f.qr, f.code128] {
            assert!(page.contains(&r), "{r:?}");
        }
        let all = [f.header, f.photo, f.qr, f.code128];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} overlaps {b:?}");
            }
        }
        // The measured sizes: QR ~38 mm, bars 18 mm tall, 0.30 mm modules, clear of the fold.
        assert!((f.qr_module * qr_width as f32 / MM - 38.0).abs() < 0.01);
        assert!((f.bars.h / MM - 18.0).abs() < 0.01);
        assert!((f.bar_module / MM - 0.30).abs() < 0.001);
        assert!(f.code128.right() < FOLD_X - 1.0 * MM && f.qr.x > FOLD_X + 1.0 * MM);
        assert!(f.bars.w / MM < 64.0, "{} mm", f.bars.w / MM);
    }

    #[test]
    fn no_field_overlaps_another_the_photo_or_the_codes() {
        let (p, f, _) = sample_frame();
        let page = Rect::new(0.0, 0.0, PAGE_W, PAGE_H);
        let fields = fields(&p);
        assert!(fields.len() >= 12, "every field of a trade pass");
        for (i, a) in fields.iter().enumerate() {
            assert!(page.contains(&a.frame), "{} outside the page", a.label);
            for fixed in [f.header, f.photo, f.qr, f.code128] {
                assert!(!a.frame.overlaps(&fixed), "{} overlaps {fixed:?}", a.label);
            }
            for b in &fields[i + 1..] {
                assert!(!a.frame.overlaps(&b.frame), "{} overlaps {}", a.label, b.label);
            }
        }
    }

    #[test]
    fn long_names_print_whole_inside_their_boxes_on_every_kind() {
        let squeeze = |t: &str| t.replace(' ', "");
        let page = Rect::new(0.0, 0.0, PAGE_W, PAGE_H);
        for p in long_names() {
            let mut font = FontUse::new().unwrap();
            let (_, placed) = draw(&p, &mut font).unwrap();
            let bars = codes::code128(&p.number).unwrap();
            let (_, w) = codes::qr(&p.code).unwrap();
            let f = Frame::new(w, bars.len());
            // Each field's value, all of it, set inside the field's box.
            for field in fields(&p) {
                let inside: Vec<&Placed> = placed
                    .iter()
                    .filter(|t| t.text != field.label && field.frame.contains(&ink(&font, t)))
                    .collect();
                let printed: String = inside.iter().map(|t| squeeze(&t.text)).collect();
                assert_eq!(printed, squeeze(&field.value.concat()), "{}", field.label);
                assert!(inside.iter().all(|t| t.size >= 6.0), "{inside:?}");
            }
            // No line's ink off the card, on the photo or on a code.
            for t in &placed {
                let r = ink(&font, t);
                assert!(page.contains(&r), "{:?} off the card", t.text);
                assert!(
                    !r.overlaps(&f.photo) || t.text.contains("Photo"),
                    "{:?} on the photo",
                    t.text
                );
                assert!(!r.overlaps(&f.qr), "{:?} on the QR", t.text);
                assert!(!r.overlaps(&f.bars), "{:?} on the Code128", t.text);
            }
        }
    }

    #[test]
    fn the_model_keeps_the_number_out_of_debug_output() {
        let shown = format!("{:?}", sample());
        assert!(
            !shown.contains("450102199003071234") && shown.contains("BT-YYG-2026-000001"),
            "{shown}"
        );
    }

    #[test]
    fn every_label_is_trilingual_and_legible() {
        let mut font = FontUse::new().unwrap();
        let (_, placed) = draw(&sample(), &mut font).unwrap();
        for f in fields(&sample()) {
            let label = placed.iter().find(|t| t.text == f.label).expect(f.label);
            assert!(label.size >= LABEL.min, "{} at {}", f.label, label.size);
            assert!(f.label.split(' ').count() >= 3, "{}", f.label);
        }
        let texts: Vec<&str> = placed.iter().map(|t| t.text.as_str()).collect();
        assert!(texts.contains(&"450102199003071234"), "the full ID number: {texts:?}");
        assert!(texts.contains(&"YYG202611260001"), "the application number: {texts:?}");
        assert!(texts.iter().any(|t| t.contains("Giấy thông hành du lịch biên giới")));
    }
}
