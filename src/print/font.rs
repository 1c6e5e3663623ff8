//! Embedding the shipped CJK font as a subset Type0/CID font, so Chinese names and Vietnamese
//! diacritics print on any machine. Written here because pdf-writer leaves font embedding to
//! its users; the steps follow the PDF 1.7 spec §9.7 (CID-keyed fonts).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Chunk, Filter, Finish, Name, Rect, Ref, Str};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

use super::PrintError;

/// Noto Sans CJK SC Regular (SIL Open Font License 1.1; see fixtures/fonts/OFL.txt).
static FONT_DATA: &[u8] = include_bytes!("../../fixtures/fonts/NotoSansCJKsc-Regular.otf");

/// The parsed font, shared by every print: parsing once keeps a print to a few milliseconds.
pub fn face() -> Result<&'static Face<'static>, PrintError> {
    static FACE: OnceLock<Result<Face<'static>, String>> = OnceLock::new();
    FACE.get_or_init(|| Face::parse(FONT_DATA, 0).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| PrintError::Font(e.clone()))
}

/// Glyphs used by one document, in the order first used, with their text.
pub struct FontUse {
    face: &'static Face<'static>,
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
            let old = self.face.glyph_index(ch).map(|g| g.0).unwrap_or(0);
            let new = self.remapper.remap(old);
            self.used.entry(new).or_insert((old, ch));
            out.extend_from_slice(&new.to_be_bytes());
        }
        out
    }

    /// Width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let upem = f32::from(self.face.units_per_em());
        text.chars()
            .map(|ch| {
                let g = self.face.glyph_index(ch).unwrap_or(GlyphId(0));
                f32::from(self.face.glyph_hor_advance(g).unwrap_or(0)) / upem * size
            })
            .sum()
    }

    /// The lowest and highest ink of `text`'s glyphs, in ems above the baseline (0 for none):
    /// what a text box must hold, diacritics included.
    pub fn ink_extent(&self, text: &str) -> (f32, f32) {
        let upem = f32::from(self.face.units_per_em());
        text.chars()
            .filter_map(|ch| self.face.glyph_index(ch))
            .filter_map(|g| self.face.glyph_bounding_box(g))
            .fold((0.0, 0.0), |(lo, hi): (f32, f32), b| {
                (lo.min(f32::from(b.y_min) / upem), hi.max(f32::from(b.y_max) / upem))
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

        let upem = f32::from(self.face.units_per_em());
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
                let advance = self.face.glyph_hor_advance(GlyphId(*old)).unwrap_or(0);
                widths.consecutive(*new, [scale(f32::from(advance))]);
            }
        }
        cid.finish();

        let bbox = self.face.global_bounding_box();
        chunk
            .font_descriptor(descriptor_ref)
            .name(base_font)
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(Rect::new(
                scale(f32::from(bbox.x_min)),
                scale(f32::from(bbox.y_min)),
                scale(f32::from(bbox.x_max)),
                scale(f32::from(bbox.y_max)),
            ))
            .italic_angle(0.0)
            .ascent(scale(f32::from(self.face.ascender())))
            .descent(scale(f32::from(self.face.descender())))
            .cap_height(scale(f32::from(
                self.face.capital_height().unwrap_or(self.face.ascender()),
            )))
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
