//! Bar charts drawn on the server as SVG, so a page shows its figures without JavaScript.
//!
//! Written here rather than taken from a crate: a handful of rectangles and labels, and the
//! charting crates on crates.io draw through their own backends for far more than this needs.

/// A chart of labelled values, ready for the template (`{{ chart.svg()|safe }}`).
#[derive(Debug, Clone)]
pub struct BarChart {
    pub title: String,
    pub bars: Vec<(String, i64)>,
    /// How a value is written above its bar.
    pub format: fn(i64) -> String,
}

const W: i64 = 720;
const H: i64 = 260;
const TOP: i64 = 28;
const BOTTOM: i64 = 40;
const LEFT: i64 = 12;

/// Text for SVG: the five characters XML gives meaning to, escaped.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

impl BarChart {
    /// The SVG element: one bar per value scaled to the largest, its value above and its label
    /// below (labels thinned out when there are too many to read), titled for screen readers.
    pub fn svg(&self) -> String {
        let n = i64::try_from(self.bars.len()).unwrap_or(i64::MAX).max(1);
        let max = self.bars.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
        let slot = (W - 2 * LEFT) / n;
        let bar = (slot * 7 / 10).max(1);
        let plot = H - TOP - BOTTOM;
        // At most about 16 labels fit under the axis.
        let every = usize::try_from((n + 15) / 16).unwrap_or(1).max(1);
        let title = escape(&self.title);
        let mut out = format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="100%" role="img" aria-labelledby="chart-title"><title id="chart-title">{title}</title><line x1="{LEFT}" y1="{y}" x2="{x2}" y2="{y}" stroke="#5b6676"/>"##,
            y = H - BOTTOM,
            x2 = W - LEFT
        );
        for (i, (label, value)) in self.bars.iter().enumerate() {
            let i64i = i64::try_from(i).unwrap_or(0);
            let h = (value.max(&0) * plot) / max;
            let x = LEFT + i64i * slot + (slot - bar) / 2;
            let y = H - BOTTOM - h;
            let cx = x + bar / 2;
            out += &format!(
                r##"<rect x="{x}" y="{y}" width="{bar}" height="{h}" fill="#17468c"><title>{}: {}</title></rect>"##,
                escape(label),
                escape(&(self.format)(*value))
            );
            if *value > 0 && n <= 16 {
                out += &format!(
                    r##"<text x="{cx}" y="{}" font-size="11" text-anchor="middle" fill="#1c2430">{}</text>"##,
                    y - 4,
                    escape(&(self.format)(*value))
                );
            }
            if i % every == 0 {
                out += &format!(
                    r##"<text x="{cx}" y="{}" font-size="11" text-anchor="middle" fill="#3b4656">{}</text>"##,
                    H - BOTTOM + 16,
                    escape(label)
                );
            }
        }
        out + "</svg>"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_labels_are_escaped() {
        let chart = BarChart {
            title: "节省 <yuan>".into(),
            bars: vec![("01".into(), 50), ("02".into(), 100), ("<x>".into(), 0)],
            format: |v| v.to_string(),
        };
        let svg = chart.svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("节省 &lt;yuan&gt;") && svg.contains("&lt;x&gt;") && !svg.contains("<x>"));
        let plot = H - TOP - BOTTOM;
        assert!(
            svg.contains(&format!(r#"height="{plot}""#)),
            "the largest bar is full height"
        );
        assert!(
            svg.contains(&format!(r#"height="{}""#, plot / 2)),
            "half the largest, half the height"
        );
        assert_eq!(svg.matches("<rect").count(), 3);
    }

    #[test]
    fn an_empty_chart_is_still_an_image() {
        let chart = BarChart {
            title: "t".into(),
            bars: Vec::new(),
            format: |v| v.to_string(),
        };
        assert!(chart.svg().contains("</svg>"));
    }
}
