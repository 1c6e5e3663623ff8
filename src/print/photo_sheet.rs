//! The free photo sheet: the traveller's ID photo at true size, as many copies as fit on a
//! 6-inch photo sheet or A4, each with cut marks, to take away.

use pdf_writer::Name;
use serde::{Deserialize, Serialize};

use super::PrintError;
use super::font::FontUse;
use super::permit::{Page, Photo, assemble};

const MM: f32 = 72.0 / 25.4;
/// Room around each photo for its cut marks.
const GUTTER: f32 = 6.0;
const MARGIN: f32 = 6.0;
/// A line of caption at the foot of the sheet.
const FOOTER: f32 = 8.0;

/// The photo sizes offices ask for, in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum PhotoSize {
    /// 33×48, the size the permit and the exit-entry administration use.
    #[serde(rename = "33x48")]
    Permit,
    /// 35×45, visas and many passports.
    #[serde(rename = "35x45")]
    Visa,
    /// 二寸, 35×49.
    #[serde(rename = "2inch")]
    TwoInch,
}

impl PhotoSize {
    pub const ALL: [PhotoSize; 3] = [PhotoSize::Permit, PhotoSize::Visa, PhotoSize::TwoInch];

    pub fn as_str(self) -> &'static str {
        match self {
            PhotoSize::Permit => "33x48",
            PhotoSize::Visa => "35x45",
            PhotoSize::TwoInch => "2inch",
        }
    }

    pub fn parse(s: &str) -> Option<PhotoSize> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Width and height in millimetres.
    pub fn mm(self) -> (f32, f32) {
        match self {
            PhotoSize::Permit => (33.0, 48.0),
            PhotoSize::Visa => (35.0, 45.0),
            PhotoSize::TwoInch => (35.0, 49.0),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PhotoSize::Permit => "33×48 mm",
            PhotoSize::Visa => "35×45 mm",
            PhotoSize::TwoInch => "二寸 35×49 mm",
        }
    }
}

/// The paper the sheet is printed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Paper {
    /// 4×6 inch photo paper (102×152 mm), portrait.
    SixInch,
    A4,
}

impl Paper {
    pub fn parse(s: &str) -> Option<Paper> {
        match s {
            "six_inch" => Some(Paper::SixInch),
            "a4" => Some(Paper::A4),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Paper::SixInch => "six_inch",
            Paper::A4 => "a4",
        }
    }

    pub fn mm(self) -> (f32, f32) {
        match self {
            Paper::SixInch => (101.6, 152.4),
            Paper::A4 => (210.0, 297.0),
        }
    }
}

/// What a sheet prints.
#[derive(Debug, Clone)]
pub struct PhotoSheet {
    pub photo: Photo,
    pub size: PhotoSize,
    pub paper: Paper,
    /// The caption: whose photo (the application number, no personal data).
    pub caption: String,
}

/// Where each photo goes, in points from the bottom left: columns × rows that fit.
pub fn cells(size: PhotoSize, paper: Paper) -> Vec<(f32, f32)> {
    let (w, h) = size.mm();
    let (pw, ph) = paper.mm();
    let fits = |room: f32, each: f32| ((room - 2.0 * MARGIN + GUTTER) / (each + GUTTER)).floor().max(0.0) as usize;
    let cols = fits(pw, w);
    let rows = fits(ph - FOOTER, h);
    // Centred on the sheet, above the caption.
    let used_w = cols as f32 * (w + GUTTER) - GUTTER;
    let used_h = rows as f32 * (h + GUTTER) - GUTTER;
    let x0 = (pw - used_w) / 2.0;
    let y0 = FOOTER + (ph - FOOTER - used_h) / 2.0;
    let mut out = Vec::with_capacity(cols * rows);
    for r in 0..rows {
        for c in 0..cols {
            out.push((
                (x0 + c as f32 * (w + GUTTER)) * MM,
                (y0 + (rows - 1 - r) as f32 * (h + GUTTER)) * MM,
            ));
        }
    }
    out
}

/// Renders the sheet: the photo in every cell, scaled to the cell's width and clipped to its
/// height (the stored 33×48 crop covers the other sizes with a little off the top and bottom),
/// short cut marks outside each corner, and the caption.
pub fn photo_sheet_pdf(s: &PhotoSheet) -> Result<Vec<u8>, PrintError> {
    let mut font = FontUse::new()?;
    let (w, h) = s.size.mm();
    let (w, h) = (w * MM, h * MM);
    let (pw, ph) = s.paper.mm();
    let drawn_h = w * s.photo.height as f32 / s.photo.width.max(1) as f32;
    let mut page = Page::new(&mut font);
    for (x, y) in cells(s.size, s.paper) {
        page.content.save_state();
        page.content.rect(x, y, w, h);
        page.content.clip_nonzero();
        page.content.end_path();
        page.content
            .transform([w, 0.0, 0.0, drawn_h, x, y - (drawn_h - h) / 2.0]);
        page.content.x_object(Name(b"Im1"));
        page.content.restore_state();
        let (gap, len) = (1.0 * MM, 3.0 * MM);
        page.content.set_line_width(0.3);
        page.content.set_stroke_gray(0.0);
        for (cx, cy, dx, dy) in [
            (x, y, -1.0, -1.0),
            (x + w, y, 1.0, -1.0),
            (x, y + h, -1.0, 1.0),
            (x + w, y + h, 1.0, 1.0),
        ] {
            page.content.move_to(cx + dx * gap, cy);
            page.content.line_to(cx + dx * (gap + len), cy);
            page.content.move_to(cx, cy + dy * gap);
            page.content.line_to(cx, cy + dy * (gap + len));
        }
        page.content.stroke();
    }
    page.gray(0.3);
    let caption = format!(
        "{} · {} · 免费冲印 In ảnh miễn phí Free of charge",
        s.caption,
        s.size.label()
    );
    page.text(MARGIN * MM, 3.0 * MM, 7.0, &caption);
    let content = page.content.finish();
    let title = format!("Photo sheet {}", s.caption);
    assemble(&content, font, pw * MM, ph * MM, &title, Some(&s.photo))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_six_inch_sheet_holds_four_to_six_and_a4_many_more_all_inside_the_paper() {
        for size in PhotoSize::ALL {
            for paper in [Paper::SixInch, Paper::A4] {
                let (w, h) = size.mm();
                let (pw, ph) = paper.mm();
                let cells = cells(size, paper);
                assert!(!cells.is_empty(), "{size:?} on {paper:?}");
                for (x, y) in &cells {
                    assert!(*x >= 0.0 && *y >= FOOTER * MM, "{size:?} {paper:?}: ({x}, {y})");
                    assert!(x + w * MM <= pw * MM + 0.01 && y + h * MM <= ph * MM + 0.01);
                }
            }
        }
        assert_eq!(cells(PhotoSize::Permit, Paper::SixInch).len(), 4);
        assert_eq!(cells(PhotoSize::Permit, Paper::A4).len(), 25);
        assert!(PhotoSize::ALL.iter().all(|s| PhotoSize::parse(s.as_str()) == Some(*s)));
    }
}
