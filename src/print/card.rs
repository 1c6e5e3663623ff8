//! The permit on a card printer's blank: ISO/IEC 7810 ID-1 (CR80, 85.6 × 54 mm), both sides.
//! The front is what a guard compares and scans (photo, name, document number, validity, the
//! signed QR and the Code128 of the number); the back says who issued it and, for a trade pass,
//! the enterprise and the vehicles. Labelled in 中文, Tiếng Việt and English as the A6 permit.

use super::font::FontUse;
use super::layout::{Rect, Style};
use super::permit::{Facts, Field, MM, Page, PermitPrint, Placed, assemble_pages};
use super::{PrintError, codes};

pub const CARD_W: f32 = 85.6 * MM;
pub const CARD_H: f32 = 54.0 * MM;

/// The QR on a card: smaller than the A6 permit's 38 mm (the card has no room for more); the
/// print tests read it from the rasterised card at 150 and 300 dpi.
const QR_SIZE: f32 = 20.0 * MM;
/// The Code128 runs across the card's foot: 8 mm tall, modules of at most 0.30 mm.
const BAR_HEIGHT: f32 = 8.0 * MM;
const BAR_MODULE: f32 = 0.30 * MM;

/// A box in millimetres from the card's left and top edges.
fn card_box(left: f32, right: f32, top: f32, height: f32) -> Rect {
    Rect::new(
        left * MM,
        CARD_H - (top + height) * MM,
        (right - left) * MM,
        height * MM,
    )
}

/// Where the fixed parts of the front go.
pub struct CardFrame {
    pub header: Rect,
    pub photo: Rect,
    /// The QR with its quiet zone of four modules.
    pub qr: Rect,
    qr_module: f32,
    /// The Code128 with its quiet zone of ten modules, the number printed below.
    pub code128: Rect,
    pub bars: Rect,
    bar_module: f32,
}

impl CardFrame {
    pub fn new(qr_width: usize, bar_modules: usize) -> CardFrame {
        let qr_module = QR_SIZE / qr_width.max(1) as f32;
        let qr_x = CARD_W - 3.0 * MM - QR_SIZE;
        let qr_top = CARD_H - 17.5 * MM;
        let zone_x = 2.0 * MM;
        let zone_w = CARD_W - 2.0 * zone_x;
        let bar_module = BAR_MODULE.min(zone_w / (bar_modules + 20) as f32);
        let bars = Rect::new(
            zone_x + 10.0 * bar_module,
            5.5 * MM,
            bar_modules as f32 * bar_module,
            BAR_HEIGHT,
        );
        CardFrame {
            header: card_box(0.0, 85.6, 0.0, 7.0),
            photo: card_box(3.0, 19.0, 15.9, 16.0 * 48.0 / 33.0),
            qr: Rect::new(
                qr_x - 4.0 * qr_module,
                qr_top - QR_SIZE - 4.0 * qr_module,
                QR_SIZE + 8.0 * qr_module,
                QR_SIZE + 8.0 * qr_module,
            ),
            qr_module,
            code128: Rect::new(
                zone_x,
                1.0 * MM,
                (bar_modules + 20) as f32 * bar_module,
                bars.top() + 0.5 * MM - 1.0 * MM,
            ),
            bars,
            bar_module,
        }
    }
}

/// A field's style on the card: values down to 6 pt, as on the A6 permit.
const CARD_VALUE: Style = Style {
    max: 7.5,
    min: 6.0,
    max_lines: 1,
};

/// A label on the card: the A6 permit's sizes, on two lines where a column is narrow.
const CARD_LABEL: Style = Style {
    max: 5.5,
    min: 4.5,
    max_lines: 2,
};

/// The labelled fields of the front: the name across the card (the longest names need its
/// width), then a column between the photo and the QR, above the Code128.
pub fn front_fields(p: &PermitPrint) -> Vec<Field> {
    let f = Facts::of(p);
    let name = Style {
        max: 8.0,
        min: 6.0,
        max_lines: 2,
    };
    vec![
        f.name.at(card_box(3.0, 82.6, 7.8, 7.8), name),
        f.nationality.at(card_box(21.0, 58.5, 15.8, 5.3), CARD_VALUE),
        f.sex.at(card_box(21.0, 36.0, 21.2, 7.6), CARD_VALUE),
        f.birth_date.at(card_box(36.0, 58.5, 21.2, 7.6), CARD_VALUE),
        f.id_number.at(card_box(21.0, 58.5, 28.9, 5.3), CARD_VALUE),
        f.validity.at(card_box(21.0, 58.5, 34.3, 5.3), CARD_VALUE),
    ]
}

/// The labelled fields of the back: the issuing office and time, the application's number and,
/// for a trade pass, the enterprise and the plates.
pub fn back_fields(p: &PermitPrint) -> Vec<Field> {
    let f = Facts::of(p);
    let wide = Style {
        max: 7.0,
        min: 6.0,
        max_lines: 2,
    };
    let mut fields = vec![
        f.office.at(card_box(3.0, 82.6, 9.0, 8.5), wide),
        f.application.at(card_box(3.0, 40.0, 18.0, 5.3), CARD_VALUE),
        f.issued.at(card_box(40.0, 82.6, 18.0, 5.3), CARD_VALUE),
        f.entries.at(card_box(3.0, 40.0, 23.4, 5.3), CARD_VALUE),
    ];
    fields.extend(f.enterprise.map(|e| e.at(card_box(3.0, 82.6, 28.8, 8.5), wide)));
    fields.extend(f.plates.map(|e| e.at(card_box(3.0, 82.6, 37.4, 8.5), wide)));
    fields
}

/// A label in small grey type (two lines where the column is narrow) with its value below, both
/// inside the field's box, clear of the next field by a gutter.
fn card_field(page: &mut Page<'_>, field: &Field) {
    let f = field.frame;
    let inner = Rect::new(f.x, f.y, f.w - 1.5 * MM, f.h);
    page.gray(0.35);
    let used = page.fitted(inner, &[field.label], CARD_LABEL);
    page.gray(0.0);
    let parts: Vec<&str> = field.value.iter().map(String::as_str).collect();
    page.fitted(
        Rect::new(inner.x, inner.y, inner.w, inner.h - used),
        &parts,
        field.style,
    );
}

/// Renders the permit as a two-page PDF at card size: front, then back.
pub fn card_pdf(p: &PermitPrint) -> Result<Vec<u8>, PrintError> {
    let mut font = FontUse::new()?;
    let (front, _) = draw_front(p, &mut font)?;
    let (back, _) = draw_back(p, &mut font)?;
    let title = format!("{} {}", p.title_en, p.number);
    assemble_pages(&[&front, &back], font, CARD_W, CARD_H, &title, p.photo.as_ref())
}

/// The header band: the title left, the number right (front), or a side's caption (back).
fn header(page: &mut Page<'_>, p: &PermitPrint, right: &str) {
    page.content.set_fill_rgb(0.09, 0.27, 0.55);
    let h = card_box(0.0, 85.6, 0.0, 7.0);
    page.content.rect(h.x, h.y, h.w, h.h);
    page.content.fill_nonzero();
    page.gray(1.0);
    let right_w = page.font.width(right, 6.5);
    let right_x = CARD_W - 3.0 * MM - right_w;
    page.text(right_x, CARD_H - 4.2 * MM, 6.5, right);
    let title_w = right_x - 2.0 * MM - 3.0 * MM;
    page.fitted(
        card_box(3.0, 3.0 + title_w / MM, 0.6, 4.0),
        &[p.title_zh.as_str()],
        Style {
            max: 8.0,
            min: 6.0,
            max_lines: 1,
        },
    );
    let subtitle = format!("{} · {}", p.title_vi, p.title_en.to_uppercase());
    page.fitted(
        card_box(3.0, 3.0 + title_w / MM, 4.4, 2.4),
        &[subtitle.as_str()],
        Style {
            max: 4.5,
            min: 3.5,
            max_lines: 1,
        },
    );
}

/// The front's content stream and its lines of text as placed.
pub fn draw_front(p: &PermitPrint, font: &mut FontUse) -> Result<(pdf_writer::Buf, Vec<Placed>), PrintError> {
    let bars = codes::code128(&p.number)?;
    let (grid, qr_width) = codes::qr(&p.code)?;
    let frame = CardFrame::new(qr_width, bars.len());
    let mut page = Page::new(font);
    header(&mut page, p, &p.number);
    for field in front_fields(p) {
        card_field(&mut page, &field);
    }

    page.photo(frame.photo, p.photo.is_some(), 0.4, 5.0);

    page.gray(0.0);
    let qm = frame.qr_module;
    page.modules(frame.qr.x + 4.0 * qm, frame.qr.top() - 4.0 * qm, qm, &grid, qr_width);
    page.bars(frame.bars.x, frame.bars.y, frame.bar_module, frame.bars.h, &bars);
    page.text(frame.bars.x, 2.0 * MM, 5.0, &p.number);

    if let Some(banner) = &p.banner {
        page.banner(banner, CARD_W, CARD_H, 3.0 * MM, 14.0);
    }
    let placed = std::mem::take(&mut page.placed);
    Ok((page.content.finish(), placed))
}

/// The back's content stream and its lines of text as placed.
pub fn draw_back(p: &PermitPrint, font: &mut FontUse) -> Result<(pdf_writer::Buf, Vec<Placed>), PrintError> {
    let mut page = Page::new(font);
    header(&mut page, p, "背面 Mặt sau Back");
    for field in back_fields(p) {
        card_field(&mut page, &field);
    }
    page.gray(0.35);
    let note = "持证人应随身携带，出入境时出示 · Mang theo khi xuất nhập cảnh · Carry it at each crossing";
    page.fitted(
        card_box(3.0, 82.6, 47.0, 5.0),
        &[note],
        Style {
            max: 5.0,
            min: 4.0,
            max_lines: 2,
        },
    );
    let placed = std::mem::take(&mut page.placed);
    Ok((page.content.finish(), placed))
}

#[cfg(test)]
mod tests {
    use super::super::permit::LABEL;
    use super::super::permit::tests::{long_names, sample};
    use super::*;

    fn ink(font: &FontUse, t: &Placed) -> Rect {
        super::super::permit::tests::ink(font, t)
    }

    fn frame_of(p: &PermitPrint) -> (CardFrame, usize) {
        let bars = codes::code128(&p.number).unwrap();
        let (_, w) = codes::qr(&p.code).unwrap();
        (CardFrame::new(w, bars.len()), w)
    }

    #[test]
    fn a_card_is_two_pages_at_cr80_size() {
        let pdf = card_pdf(&sample()).unwrap();
        let text = String::from_utf8_lossy(&pdf);
        let pages = text.matches("/Type /Page").count() - text.matches("/Type /Pages").count();
        assert_eq!(pages, 2, "front and back");
        assert_eq!(text.matches("/MediaBox [0 0 242.6").count(), 2, "85.6 mm wide");
    }

    #[test]
    fn the_fixed_parts_are_inside_the_card_and_apart() {
        let (f, qr_width) = frame_of(&sample());
        let card = Rect::new(0.0, 0.0, CARD_W, CARD_H);
        let all = [f.header, f.photo, f.qr, f.code128];
        for (i, a) in all.iter().enumerate() {
            assert!(card.contains(a), "{a:?}");
            for b in &all[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} overlaps {b:?}");
            }
        }
        assert!((f.qr_module * qr_width as f32 / MM - 20.0).abs() < 0.01);
        assert!(f.qr_module / MM > 0.3, "{} mm a module", f.qr_module / MM);
        assert!(f.bar_module / MM >= 0.25, "{} mm a bar module", f.bar_module / MM);
    }

    #[test]
    fn no_field_overlaps_another_or_the_fixed_parts_on_either_side() {
        let p = sample();
        let (f, _) = frame_of(&p);
        let card = Rect::new(0.0, 0.0, CARD_W, CARD_H);
        for (side, fields) in [("front", front_fields(&p)), ("back", back_fields(&p))] {
            for (i, a) in fields.iter().enumerate() {
                assert!(card.contains(&a.frame), "{side}: {} outside the card", a.label);
                assert!(!a.frame.overlaps(&f.header), "{side}: {} on the header", a.label);
                if side == "front" {
                    for fixed in [f.photo, f.qr, f.code128] {
                        assert!(!a.frame.overlaps(&fixed), "{} overlaps {fixed:?}", a.label);
                    }
                }
                for b in &fields[i + 1..] {
                    assert!(!a.frame.overlaps(&b.frame), "{side}: {} overlaps {}", a.label, b.label);
                }
            }
        }
        assert_eq!(back_fields(&p).len(), 6, "a trade pass's enterprise and plates");
    }

    #[test]
    fn long_names_print_whole_inside_their_boxes_on_both_sides() {
        let squeeze = |t: &str| t.replace(' ', "");
        let card = Rect::new(0.0, 0.0, CARD_W, CARD_H);
        for p in long_names() {
            let (f, _) = frame_of(&p);
            for (side, fields) in [("front", front_fields(&p)), ("back", back_fields(&p))] {
                let mut font = FontUse::new().unwrap();
                let (_, placed) = if side == "front" {
                    draw_front(&p, &mut font).unwrap()
                } else {
                    draw_back(&p, &mut font).unwrap()
                };
                for field in fields {
                    let inside: Vec<&Placed> = placed
                        .iter()
                        // A label may wrap: its lines are parts of it.
                        .filter(|t| !field.label.contains(t.text.as_str()) && field.frame.contains(&ink(&font, t)))
                        .collect();
                    let printed: String = inside.iter().map(|t| squeeze(&t.text)).collect();
                    assert_eq!(printed, squeeze(&field.value.concat()), "{side}: {}", field.label);
                    assert!(inside.iter().all(|t| t.size >= 6.0), "{side}: {inside:?}");
                }
                for t in &placed {
                    let r = ink(&font, t);
                    assert!(card.contains(&r), "{side}: {:?} off the card", t.text);
                    if side == "front" {
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
        }
    }

    #[test]
    fn every_label_is_trilingual_and_legible() {
        let p = sample();
        let mut font = FontUse::new().unwrap();
        let (_, front) = draw_front(&p, &mut font).unwrap();
        let (_, back) = draw_back(&p, &mut font).unwrap();
        for (placed, fields) in [(&front, front_fields(&p)), (&back, back_fields(&p))] {
            for f in fields {
                let lines: Vec<&Placed> = placed.iter().filter(|t| f.label.contains(t.text.as_str())).collect();
                let set: String = lines.iter().map(|t| t.text.replace(' ', "")).collect();
                assert_eq!(set, f.label.replace(' ', ""), "the whole label");
                assert!(lines.iter().all(|t| t.size >= LABEL.min), "{} at {lines:?}", f.label);
            }
        }
        let texts: Vec<&str> = front.iter().map(|t| t.text.as_str()).collect();
        assert!(texts.contains(&"450102199003071234"), "the full ID number: {texts:?}");
    }
}
