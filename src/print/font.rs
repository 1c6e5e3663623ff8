//! Embedding the shipped CJK font as a subset Type0/CID font, so Chinese names and Vietnamese
//! diacritics print on any machine. Written here because pdf-writer leaves font embedding to
//! its users; the steps follow the PDF 1.7 spec §9.7 (CID-keyed fonts).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Chunk, Filter, Finish, Name, Rect, Ref, Str};
use skrifa::charmap::Charmap;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::{GlyphMetrics, Metrics};
use skrifa::outline::DrawSettings;
use skrifa::outline::pen::ControlBoundsPen;
use skrifa::{FontRef, GlyphId, MetadataProvider, OutlineGlyphCollection};
use subsetter::GlyphRemapper;

use super::PrintError;

/// Noto Sans CJK SC Regular (SIL Open Font License 1.1; see fixtures/fonts/OFL.txt).
static FONT_DATA: &[u8] = include_bytes!("../../fixtures/fonts/NotoSansCJKsc-Regular.otf");

/// What printing needs of the font, in font units. Read with skrifa, the parser subsetter
/// already uses (ttf-parser, used before, is unmaintained: RUSTSEC-2026-0192).
pub struct Face {
    charmap: Charmap<'static>,
    glyphs: GlyphMetrics<'static>,
    outlines: OutlineGlyphCollection<'static>,
    metrics: Metrics,
}

impl Face {
    fn parse(data: &'static [u8]) -> Result<Face, String> {
        let font = FontRef::new(data).map_err(|e| e.to_string())?;
        let metrics = font.metrics(Size::unscaled(), LocationRef::default());
        if metrics.units_per_em == 0 {
            return Err("the font has no units per em".into());
        }
        Ok(Face {
            charmap: font.charmap(),
            glyphs: font.glyph_metrics(Size::unscaled(), LocationRef::default()),
            outlines: font.outline_glyphs(),
            metrics,
        })
    }

    pub fn units_per_em(&self) -> f32 {
        f32::from(self.metrics.units_per_em)
    }

    /// The glyph of `ch`, if the font has one (the subset keeps glyph ids to 16 bits).
    pub fn glyph(&self, ch: char) -> Option<u16> {
        self.charmap.map(ch).and_then(|g| u16::try_from(g.to_u32()).ok())
    }

    pub fn advance(&self, glyph: u16) -> f32 {
        self.glyphs.advance_width(GlyphId::from(glyph)).unwrap_or(0.0)
    }

    /// The lowest and highest point of the glyph's outline, control points included (as the
    /// layout has always measured ink); None for a glyph without ink, such as a space.
    pub fn ink(&self, glyph: u16) -> Option<(f32, f32)> {
        let outline = self.outlines.get(GlyphId::from(glyph))?;
        let mut pen = ControlBoundsPen::new();
        outline
            .draw(
                DrawSettings::unhinted(Size::unscaled(), LocationRef::default()),
                &mut pen,
            )
            .ok()?;
        pen.bounding_box().map(|b| (b.y_min, b.y_max))
    }
}

/// The parsed font, shared by every print: parsing once keeps a print to a few milliseconds.
pub fn face() -> Result<&'static Face, PrintError> {
    static FACE: OnceLock<Result<Face, String>> = OnceLock::new();
    FACE.get_or_init(|| Face::parse(FONT_DATA))
        .as_ref()
        .map_err(|e| PrintError::Font(e.clone()))
}

/// Glyphs used by one document, in the order first used, with their text.
pub struct FontUse {
    face: &'static Face,
    remapper: GlyphRemapper,
    /// new glyph id → (old glyph id, character)
    used: BTreeMap<u16, (u16, char)>,
}

impl FontUse {
    pub fn new() -> Result<FontUse, PrintError> {
        Ok(FontUse {
            face: face()?,
            remapper: GlyphRemapper::new(),
            used: BTreeMap::new(),
        })
    }

    /// Encodes `text` as 2-byte glyph ids of the subset (Identity-H).
    pub fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for ch in text.chars() {
            let old = self.face.glyph(ch).unwrap_or(0);
            let new = self.remapper.remap(old);
            self.used.entry(new).or_insert((old, ch));
            out.extend_from_slice(&new.to_be_bytes());
        }
        out
    }

    /// Width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let upem = self.face.units_per_em();
        text.chars()
            .map(|ch| self.face.advance(self.face.glyph(ch).unwrap_or(0)) / upem * size)
            .sum()
    }

    /// The lowest and highest ink of `text`'s glyphs, in ems above the baseline (0 for none):
    /// what a text box must hold, diacritics included.
    pub fn ink_extent(&self, text: &str) -> (f32, f32) {
        let upem = self.face.units_per_em();
        text.chars()
            .filter_map(|ch| self.face.glyph(ch))
            .filter_map(|g| self.face.ink(g))
            .fold((0.0, 0.0), |(lo, hi): (f32, f32), (y_min, y_max)| {
                (lo.min(y_min / upem), hi.max(y_max / upem))
            })
    }

    /// Writes the font objects; `type0` is the reference the page resources point at.
    pub fn write(self, chunk: &mut Chunk, type0: Ref, next: &mut impl FnMut() -> Ref) -> Result<(), PrintError> {
        let cid_ref = next();
        let descriptor_ref = next();
        let cmap_ref = next();
        let file_ref = next();
        let base_font = Name(b"BDSUBS+NotoSansCJKsc-Regular");
        let system_info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };

        chunk
            .type0_font(type0)
            .base_font(base_font)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid_ref)
            .to_unicode(cmap_ref);

        let upem = self.face.units_per_em();
        let scale = |v: f32| v / upem * 1000.0;
        let mut cid = chunk.cid_font(cid_ref);
        cid.subtype(CidFontType::Type0)
            .base_font(base_font)
            .system_info(system_info)
            .font_descriptor(descriptor_ref)
            .default_width(0.0);
        {
            let mut widths = cid.widths();
            for (new, (old, _)) in &self.used {
                widths.consecutive(*new, [scale(self.face.advance(*old))]);
            }
        }
        cid.finish();

        let metrics = &self.face.metrics;
        let bbox = metrics.bounds.unwrap_or_default();
        chunk
            .font_descriptor(descriptor_ref)
            .name(base_font)
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(Rect::new(
                scale(bbox.x_min),
                scale(bbox.y_min),
                scale(bbox.x_max),
                scale(bbox.y_max),
            ))
            .italic_angle(0.0)
            .ascent(scale(metrics.ascent))
            .descent(scale(metrics.descent))
            .cap_height(scale(metrics.cap_height.unwrap_or(metrics.ascent)))
            .stem_v(80.0)
            .font_file3(file_ref);

        let mut cmap = UnicodeCmap::new(Name(b"Custom"), system_info);
        for (new, (_, ch)) in &self.used {
            cmap.pair(*new, *ch);
        }
        chunk.cmap(cmap_ref, &cmap.finish());

        // The subset of a CFF font is itself an OpenType file with CID-keyed CFF whose CIDs are
        // the new glyph ids, hence FontFile3 with subtype OpenType.
        let subset = subsetter::subset(FONT_DATA, 0, &self.remapper).map_err(|e| PrintError::Font(e.to_string()))?;
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&subset, 6);
        chunk
            .stream(file_ref, &compressed)
            .filter(Filter::FlateDecode)
            .pair(Name(b"Subtype"), Name(b"OpenType"));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values every permit's layout was tuned with, read with ttf-parser before the move to
    /// skrifa: a different reading would move or reflow text on the printed permit.
    #[test]
    fn metrics_are_the_ones_the_layout_was_tuned_with() {
        let font = FontUse::new().unwrap();
        for (text, width, ink) in [
            ("A", 608.0, (0.0, 0.733)),
            ("g", 564.0, (-0.25, 0.557)),
            ("Ặ", 608.0, (-0.23, 0.942)),
            ("张", 1000.0, (-0.085, 0.82)),
            (" ", 224.0, (0.0, 0.0)),
            // Not in the font: printed as .notdef, which the ink measure leaves out.
            ("😀", 1000.0, (0.0, 0.0)),
        ] {
            assert_eq!(font.width(text, 1000.0), width, "{text}");
            assert_eq!(font.ink_extent(text), ink, "{text}");
        }
    }

    #[test]
    fn the_descriptor_states_the_fonts_own_metrics() {
        let mut font = FontUse::new().unwrap();
        font.encode("张");
        let mut chunk = Chunk::new();
        let mut id = 1;
        font.write(&mut chunk, Ref::new(1), &mut || {
            id += 1;
            Ref::new(id)
        })
        .unwrap();
        let text = String::from_utf8_lossy(chunk.as_bytes());
        for expected in [
            "/FontBBox [-1002 -1048 2928 1808]",
            "/Ascent 1160",
            "/Descent -288",
            "/CapHeight 733",
            "/W [1 [1000]]",
        ] {
            assert!(text.contains(expected), "{expected} in {text:.600}");
        }
    }
}
