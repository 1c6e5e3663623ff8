//! Fitting text into boxes on a printed page: shrink to a minimum size, then wrap to more lines,
//! so that long names stay whole and inside their box instead of running into the photo.

/// A rectangle in PDF points, origin bottom-left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl Rect {
    pub fn new(x: f32, y: f32, w: f32, h: f32) -> Rect {
        Rect { x, y, w, h }
    }

    pub fn right(&self) -> f32 {
        self.x + self.w
    }

    pub fn top(&self) -> f32 {
        self.y + self.h
    }

    /// Whether `other` lies within this rectangle (a rounding tolerance of 0.01 pt).
    pub fn contains(&self, other: &Rect) -> bool {
        const EPS: f32 = 0.01;
        other.x >= self.x - EPS
            && other.y >= self.y - EPS
            && other.right() <= self.right() + EPS
            && other.top() <= self.top() + EPS
    }

    /// Whether the two rectangles share any area (touching edges, within 0.01 pt, do not count).
    pub fn overlaps(&self, other: &Rect) -> bool {
        const EPS: f32 = 0.01;
        self.x < other.right() - EPS
            && other.x < self.right() - EPS
            && self.y < other.top() - EPS
            && other.y < self.top() - EPS
    }
}

/// Distance between baselines, as a multiple of the size; room for Vietnamese stacked
/// diacritics above and descenders below.
pub const LEADING: f32 = 1.25;
/// Where a line's baseline sits below the top of its line box, as a multiple of the size.
pub const ASCENT: f32 = 1.0;

/// Text fitted into a box: the size chosen and the lines, top to bottom.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub size: f32,
    pub lines: Vec<String>,
}

/// How a piece of text may be set.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub max: f32,
    pub min: f32,
    pub max_lines: usize,
}

const STEP: f32 = 0.25;
/// Below this nothing is legible; text still longer is set here rather than clipped.
const FLOOR: f32 = 3.0;

/// Fits `parts` (joined by two spaces on one line; each part a preferred line of its own when
/// wrapped) into a box `width` × `height` points. `measure(text, size)` is the advance width.
///
/// The largest size from `max` down to `min` at which the text is one line; failing that, the
/// largest at which it wraps into `max_lines`; failing that, smaller than `min` down to a floor
/// — never clipped.
pub fn fit(parts: &[&str], width: f32, height: f32, style: Style, measure: impl Fn(&str, f32) -> f32) -> Fit {
    let parts: Vec<&str> = parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).collect();
    let joined = parts.join("  ");
    let fits_lines = |lines: &[String], size: f32| {
        lines.len() as f32 * size * LEADING <= height + 0.01 && lines.iter().all(|l| measure(l, size) <= width + 0.01)
    };
    let sizes = |from: f32, to: f32| {
        let n = ((from - to) / STEP).floor().max(0.0) as usize;
        (0..=n).map(move |i| from - i as f32 * STEP)
    };
    for size in sizes(style.max, style.min) {
        let one = [joined.clone()];
        if fits_lines(&one, size) {
            return Fit {
                size,
                lines: one.to_vec(),
            };
        }
    }
    let wrapped = |size: f32| -> Option<Vec<String>> {
        // Each part on its own line first (a Chinese name above the Latin one), else greedy.
        if parts.len() > 1 && parts.len() <= style.max_lines {
            let lines: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
            if fits_lines(&lines, size) {
                return Some(lines);
            }
        }
        let lines = wrap(&joined, width, size, &measure);
        (lines.len() <= style.max_lines && fits_lines(&lines, size)).then_some(lines)
    };
    if style.max_lines > 1 {
        for size in sizes(style.max, style.min) {
            if let Some(lines) = wrapped(size) {
                return Fit { size, lines };
            }
        }
    }
    for size in sizes(style.min - STEP, FLOOR) {
        let lines = if style.max_lines > 1 {
            wrapped(size)
        } else {
            let one = vec![joined.clone()];
            fits_lines(&one, size).then_some(one)
        };
        if let Some(lines) = lines {
            return Fit { size, lines };
        }
    }
    Fit {
        size: FLOOR,
        lines: wrap(&joined, width, FLOOR, &measure),
    }
}

/// Greedy line breaking at spaces; a word wider than the line (a Chinese name has no spaces)
/// breaks between characters.
fn wrap(text: &str, width: f32, size: f32, measure: &impl Fn(&str, f32) -> f32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if measure(&candidate, size) <= width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if measure(word, size) <= width {
            line = word.to_string();
            continue;
        }
        for ch in word.chars() {
            let mut next = line.clone();
            next.push(ch);
            if !line.is_empty() && measure(&next, size) > width {
                lines.push(std::mem::take(&mut line));
                line.push(ch);
            } else {
                line = next;
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character one em wide: easy to reason about.
    fn em(text: &str, size: f32) -> f32 {
        text.chars().count() as f32 * size
    }

    const NAME: Style = Style {
        max: 12.0,
        min: 8.0,
        max_lines: 2,
    };

    #[test]
    fn short_text_keeps_its_largest_size() {
        let f = fit(&["ABC"], 100.0, 20.0, NAME, em);
        assert_eq!((f.size, f.lines), (12.0, vec!["ABC".to_string()]));
    }

    #[test]
    fn longer_text_shrinks_before_it_wraps() {
        // 10 characters in 100 pt: 10 pt on one line.
        let f = fit(&["ABCDE FGHI"], 100.0, 30.0, NAME, em);
        assert_eq!((f.size, f.lines), (10.0, vec!["ABCDE FGHI".to_string()]));
    }

    #[test]
    fn text_too_long_at_the_minimum_wraps_at_spaces_then_between_characters() {
        let f = fit(&["ABCDEFGH IJKLMNOP QRST"], 110.0, 30.0, NAME, em);
        assert_eq!(f.lines, vec!["ABCDEFGH".to_string(), "IJKLMNOP QRST".into()]);
        assert_eq!(f.size, 8.25);
        let f = fit(&["一二三四五六七八九十一二三四五六"], 100.0, 30.0, NAME, em);
        assert_eq!(f.lines.concat(), "一二三四五六七八九十一二三四五六");
        assert_eq!(f.lines.len(), 2);
    }

    #[test]
    fn two_parts_take_a_line_each_when_wrapped() {
        let f = fit(&["一二三四五", "ABCDEFGHIJK"], 100.0, 30.0, NAME, em);
        assert_eq!(f.lines, vec!["一二三四五".to_string(), "ABCDEFGHIJK".into()]);
        assert_eq!(f.size, 9.0);
    }

    #[test]
    fn what_fits_nowhere_goes_below_the_minimum_but_is_never_cut() {
        let text = "A".repeat(60);
        let f = fit(&[&text], 100.0, 30.0, NAME, em);
        assert!(f.size < NAME.min);
        assert_eq!(f.lines.concat(), text);
        assert!(f.lines.len() <= 2 && f.lines.iter().all(|l| em(l, f.size) <= 100.0));
        assert!(f.lines.len() as f32 * f.size * LEADING <= 30.0);
    }

    #[test]
    fn one_line_styles_shrink_only() {
        let one = Style {
            max: 6.0,
            min: 4.0,
            max_lines: 1,
        };
        let f = fit(&["ABCDEFGHIJ"], 30.0, 10.0, one, em);
        assert_eq!((f.size, f.lines), (3.0, vec!["ABCDEFGHIJ".to_string()]));
    }

    #[test]
    fn rectangles_know_containment_and_overlap() {
        let page = Rect::new(0.0, 0.0, 100.0, 50.0);
        let a = Rect::new(10.0, 10.0, 20.0, 10.0);
        let b = Rect::new(30.0, 10.0, 20.0, 10.0);
        assert!(page.contains(&a) && !a.contains(&page));
        assert!(!a.overlaps(&b), "touching is not overlapping");
        assert!(a.overlaps(&Rect::new(29.0, 19.0, 5.0, 5.0)));
        assert!(!page.contains(&Rect::new(90.0, 45.0, 20.0, 2.0)));
    }
}
