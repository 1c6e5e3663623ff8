//! The ID photo's crop box and quality rules: where the 33×48 box sits on the uploaded picture,
//! how a nudge moves it, and what the measured picture says to the officer (pass or warn, never a
//! silent fix of a face). Pure: the measuring itself is in `service::portraits`.

use serde::{Deserialize, Serialize};

use super::validation::FieldErrors;

/// The stored photo's shape, 33 wide to 48 high.
pub const ASPECT_W: u32 = 33;
pub const ASPECT_H: u32 = 48;
/// The stored photo's pixel height: a crop shorter than this is enlarged, which blurs it.
pub const OUTPUT_HEIGHT: u32 = 480;
/// A crop box this small holds no recognisable face at any distance from the camera.
pub const MIN_CROP_HEIGHT: u32 = 160;

/// The crop box on the working picture, in its pixels; the width follows from the height.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Crop {
    /// Left edge, pixels from the picture's left.
    #[schema(minimum = 0, maximum = 6000)]
    pub x: u32,
    /// Top edge, pixels from the picture's top.
    #[schema(minimum = 0, maximum = 6000)]
    pub y: u32,
    /// The box's height in pixels (its width is height × 33 ÷ 48).
    #[schema(minimum = 160, maximum = 6000)]
    pub height: u32,
}

/// One step of the officer's adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Nudge {
    Up,
    Down,
    Left,
    Right,
    /// A bigger box: more of the picture, the face smaller.
    Wider,
    /// A smaller box: the face larger.
    Closer,
}

impl Nudge {
    pub fn parse(s: &str) -> Option<Nudge> {
        Some(match s {
            "up" => Nudge::Up,
            "down" => Nudge::Down,
            "left" => Nudge::Left,
            "right" => Nudge::Right,
            "wider" => Nudge::Wider,
            "closer" => Nudge::Closer,
            _ => return None,
        })
    }
}

impl Crop {
    pub fn width(&self) -> u32 {
        width_for(self.height)
    }

    /// The largest box on a `w`×`h` picture, centred: what an upload gets before any nudge.
    pub fn centred(w: u32, h: u32) -> Crop {
        let height = h.min(height_for(w)).max(1);
        let width = width_for(height);
        Crop {
            x: w.saturating_sub(width) / 2,
            y: h.saturating_sub(height) / 2,
            height,
        }
    }

    /// The box moved or resized by one step (a twentieth of its height to move, a tenth to
    /// resize about its centre), kept whole on the picture.
    pub fn nudged(self, n: Nudge, w: u32, h: u32) -> Crop {
        let step = (self.height / 20).max(1);
        let mut c = self;
        match n {
            Nudge::Up => c.y = c.y.saturating_sub(step),
            Nudge::Down => c.y = c.y.saturating_add(step),
            Nudge::Left => c.x = c.x.saturating_sub(step),
            Nudge::Right => c.x = c.x.saturating_add(step),
            Nudge::Wider | Nudge::Closer => {
                let (cx, cy) = (
                    u64::from(c.x) * 2 + u64::from(c.width()),
                    u64::from(c.y) * 2 + u64::from(c.height),
                );
                let delta = (c.height / 10).max(2);
                c.height = if n == Nudge::Wider {
                    c.height.saturating_add(delta)
                } else {
                    c.height.saturating_sub(delta).max(MIN_CROP_HEIGHT)
                };
                c.height = c.height.min(h).min(height_for(w));
                c.x = (cx.saturating_sub(u64::from(c.width())) / 2) as u32;
                c.y = (cy.saturating_sub(u64::from(c.height)) / 2) as u32;
            }
        }
        c.clamped(w, h)
    }

    /// Moved back inside a `w`×`h` picture (a box larger than the picture is shrunk to fit).
    pub fn clamped(self, w: u32, h: u32) -> Crop {
        let height = self.height.min(h).min(height_for(w)).max(1);
        let width = width_for(height);
        Crop {
            x: self.x.min(w.saturating_sub(width)),
            y: self.y.min(h.saturating_sub(height)),
            height,
        }
    }

    /// A box the officer sent: it must lie whole on the `w`×`h` picture, as drawn on the page.
    pub fn check(self, w: u32, h: u32) -> Result<Crop, FieldErrors> {
        let mut errs = FieldErrors::new();
        let smallest = MIN_CROP_HEIGHT.min(h).min(height_for(w));
        if self.height < smallest {
            errs.add(
                "crop.height",
                "minimum",
                format!("裁剪框至少高{smallest}像素 / the crop box must be at least {smallest} pixels high"),
            );
        } else if u64::from(self.y) + u64::from(self.height) > u64::from(h) {
            errs.add(
                "crop.y",
                "inside_picture",
                format!("裁剪框超出照片下边（照片高{h}像素）/ the crop box goes past the photo's bottom edge ({h} pixels high)"),
            );
        }
        if self.height >= smallest && u64::from(self.x) + u64::from(self.width()) > u64::from(w) {
            errs.add(
                "crop.x",
                "inside_picture",
                format!("裁剪框超出照片右边（照片宽{w}像素）/ the crop box goes past the photo's right edge ({w} pixels wide)"),
            );
        }
        errs.finish(self)
    }
}

/// A box as a page or client asks for it: all three figures or none (the centred box), and
/// perhaps a nudge to apply to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CropAsk {
    /// Left edge in the working picture's pixels.
    #[param(minimum = 0, maximum = 6000)]
    pub x: Option<u32>,
    /// Top edge in the working picture's pixels.
    #[param(minimum = 0, maximum = 6000)]
    pub y: Option<u32>,
    /// The box's height (its width is height × 33 ÷ 48).
    #[param(minimum = 160, maximum = 6000)]
    pub height: Option<u32>,
    /// One step to apply: up, down, left, right, wider or closer.
    #[param(pattern = "^(up|down|left|right|wider|closer)$")]
    pub nudge: Option<String>,
}

/// A box as a page's form or link sends it: text, read into a [`CropAsk`] (a page answers a
/// figure that is no whole number with the rule, not the framework's bare 400).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CropText {
    pub x: Option<String>,
    pub y: Option<String>,
    pub height: Option<String>,
    pub nudge: Option<String>,
}

impl CropText {
    pub fn read(&self) -> Result<CropAsk, FieldErrors> {
        let mut errs = FieldErrors::new();
        let mut figure = |field: &str, text: &Option<String>| match text.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(t) => match t.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errs.add(
                        field,
                        "whole_number",
                        "应为0或正整数（像素）/ a whole number of pixels, 0 or more",
                    );
                    None
                }
            },
        };
        let ask = CropAsk {
            x: figure("crop.x", &self.x),
            y: figure("crop.y", &self.y),
            height: figure("crop.height", &self.height),
            nudge: self.nudge.clone(),
        };
        errs.finish(ask)
    }
}

impl CropAsk {
    /// The box on a `w`×`h` picture, or every rule the request broke.
    pub fn resolve(&self, w: u32, h: u32) -> Result<Crop, FieldErrors> {
        let nudge = match self.nudge.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(n) => match Nudge::parse(n) {
                Some(n) => Some(n),
                None => {
                    let mut errs = FieldErrors::new();
                    errs.add(
                        "nudge",
                        "one_of",
                        "调整方式应为 up、down、left、right、wider 或 closer / the nudge must be up, down, left, right, wider or closer",
                    );
                    return Err(errs);
                }
            },
        };
        let crop = match (self.x, self.y, self.height) {
            (None, None, None) => Crop::centred(w, h),
            (Some(x), Some(y), Some(height)) => Crop { x, y, height }.check(w, h)?,
            _ => {
                let mut errs = FieldErrors::new();
                errs.add(
                    "crop",
                    "all_or_none",
                    "裁剪框需同时给出 x、y 和 height，或都不给 / give the crop's x, y and height together, or none of them",
                );
                return Err(errs);
            }
        };
        Ok(match nudge {
            Some(n) => crop.nudged(n, w, h),
            None => crop,
        })
    }
}

fn width_for(height: u32) -> u32 {
    ((u64::from(height) * u64::from(ASPECT_W) + u64::from(ASPECT_H) / 2) / u64::from(ASPECT_H)) as u32
}

fn height_for(width: u32) -> u32 {
    (u64::from(width) * u64::from(ASPECT_H) / u64::from(ASPECT_W)) as u32
}

/// What was measured on the photo as it would be stored (the crop at 330×480). Lightness is
/// luma 0–255; colour is the mean spread between a pixel's strongest and weakest channel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measures {
    /// The band above and beside the head: the top tenth, and the outer tenths of the upper half.
    pub background_luma: f32,
    pub background_colour: f32,
    /// How much the background's lightness varies (standard deviation): shadows, objects.
    pub background_spread: f32,
    /// The face's lightness, from the middle of the photo: its skin's (the level three quarters
    /// of the skin is darker than), or every pixel's that stands out when little skin shows.
    pub face_luma: f32,
    /// Shares of the face area that are burnt out (≥ 250) or lost in black (≤ 12).
    pub face_burnt: f32,
    pub face_black: f32,
    /// Variance of the Laplacian over the face area: low when the picture is blurred or shaken.
    pub sharpness: f32,
    /// The crop's height in the uploaded picture's pixels.
    pub source_height: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    Background,
    Exposure,
    Sharpness,
    Size,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Warn,
}

/// One line shown to the officer: what was checked, the verdict, and why in words.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Line {
    pub check: Check,
    pub verdict: Verdict,
    /// 中文 / English, with the figure measured.
    pub message: String,
}

/// The thresholds. A warning asks the officer to look again; the photo may still be saved
/// (a traveller in a wheelchair against a grey wall still gets a pass).
pub const BACKGROUND_MIN_LUMA: f32 = 185.0;
pub const BACKGROUND_MAX_COLOUR: f32 = 30.0;
pub const BACKGROUND_MAX_SPREAD: f32 = 32.0;
pub const FACE_MIN_LUMA: f32 = 80.0;
pub const FACE_MAX_LUMA: f32 = 235.0;
pub const FACE_MAX_CLIPPED: f32 = 0.12;
pub const MIN_SHARPNESS: f32 = 40.0;

/// The four lines, in the order the officer reads them.
pub fn lines(m: &Measures) -> Vec<Line> {
    let background = if m.background_luma < BACKGROUND_MIN_LUMA {
        warn(
            Check::Background,
            format!(
                "背景偏暗（亮度{:.0}），应为白色或近白色 / the background is too dark (lightness {:.0}): it should be white or nearly white",
                m.background_luma, m.background_luma
            ),
        )
    } else if m.background_colour > BACKGROUND_MAX_COLOUR {
        warn(
            Check::Background,
            format!(
                "背景有颜色（色度{:.0}），应为白色 / the background is coloured ({:.0}): it should be white",
                m.background_colour, m.background_colour
            ),
        )
    } else if m.background_spread > BACKGROUND_MAX_SPREAD {
        warn(
            Check::Background,
            format!(
                "背景不均匀（有阴影或杂物，起伏{:.0}）/ the background is uneven: shadows or objects (variation {:.0})",
                m.background_spread, m.background_spread
            ),
        )
    } else {
        pass(
            Check::Background,
            format!(
                "背景近白色（亮度{:.0}）/ the background is near-white (lightness {:.0})",
                m.background_luma, m.background_luma
            ),
        )
    };
    let exposure = if m.face_luma < FACE_MIN_LUMA || m.face_black > FACE_MAX_CLIPPED {
        warn(
            Check::Exposure,
            format!(
                "面部偏暗（亮度{:.0}），请补光后重拍 / the face is too dark (lightness {:.0}): add light and take it again",
                m.face_luma, m.face_luma
            ),
        )
    } else if m.face_luma > FACE_MAX_LUMA || m.face_burnt > FACE_MAX_CLIPPED {
        warn(
            Check::Exposure,
            format!(
                "面部过亮（亮度{:.0}，过曝{:.0}%）/ the face is too bright (lightness {:.0}, {:.0}% burnt out)",
                m.face_luma,
                m.face_burnt * 100.0,
                m.face_luma,
                m.face_burnt * 100.0
            ),
        )
    } else {
        pass(
            Check::Exposure,
            format!(
                "曝光正常（面部亮度{:.0}）/ the exposure is right (face lightness {:.0})",
                m.face_luma, m.face_luma
            ),
        )
    };
    let sharpness = if m.sharpness < MIN_SHARPNESS {
        warn(
            Check::Sharpness,
            format!(
                "照片模糊（清晰度{:.0}，应不低于{:.0}），请对焦、拿稳后重拍 / the photo is blurred (sharpness {:.0}, at least {:.0} wanted): focus, hold still and take it again",
                m.sharpness, MIN_SHARPNESS, m.sharpness, MIN_SHARPNESS
            ),
        )
    } else {
        pass(
            Check::Sharpness,
            format!("清晰（清晰度{:.0}）/ sharp (sharpness {:.0})", m.sharpness, m.sharpness),
        )
    };
    let size = if m.source_height < OUTPUT_HEIGHT {
        warn(
            Check::Size,
            format!(
                "裁剪部分只有{}像素高，打印时会放大变糊（需{}像素）：请靠近拍摄或放大裁剪框 / the cropped part is only {} pixels high and will be enlarged ({} wanted): come closer or widen the box",
                m.source_height, OUTPUT_HEIGHT, m.source_height, OUTPUT_HEIGHT
            ),
        )
    } else {
        pass(
            Check::Size,
            format!(
                "尺寸足够（裁剪部分{}像素高）/ large enough ({} pixels high)",
                m.source_height, m.source_height
            ),
        )
    };
    vec![background, exposure, sharpness, size]
}

fn warn(check: Check, message: String) -> Line {
    Line {
        check,
        verdict: Verdict::Warn,
        message,
    }
}

fn pass(check: Check, message: String) -> Line {
    Line {
        check,
        verdict: Verdict::Pass,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Measures {
        Measures {
            background_luma: 240.0,
            background_colour: 6.0,
            background_spread: 5.0,
            face_luma: 140.0,
            face_burnt: 0.0,
            face_black: 0.0,
            sharpness: 300.0,
            source_height: 900,
        }
    }

    fn verdicts(m: &Measures) -> Vec<(Check, Verdict)> {
        lines(m).iter().map(|l| (l.check, l.verdict)).collect()
    }

    #[test]
    fn a_good_photo_passes_every_line() {
        assert!(lines(&good()).iter().all(|l| l.verdict == Verdict::Pass));
    }

    #[test]
    fn each_fault_warns_on_its_own_line_with_the_figure() {
        let cases = [
            (
                Measures {
                    background_luma: 120.0,
                    ..good()
                },
                Check::Background,
                "120",
            ),
            (
                Measures {
                    background_colour: 60.0,
                    ..good()
                },
                Check::Background,
                "60",
            ),
            (
                Measures {
                    background_spread: 50.0,
                    ..good()
                },
                Check::Background,
                "50",
            ),
            (
                Measures {
                    face_luma: 40.0,
                    ..good()
                },
                Check::Exposure,
                "40",
            ),
            (
                Measures {
                    face_luma: 240.0,
                    ..good()
                },
                Check::Exposure,
                "240",
            ),
            (
                Measures {
                    face_burnt: 0.3,
                    ..good()
                },
                Check::Exposure,
                "30%",
            ),
            (
                Measures {
                    sharpness: 12.0,
                    ..good()
                },
                Check::Sharpness,
                "12",
            ),
            (
                Measures {
                    source_height: 300,
                    ..good()
                },
                Check::Size,
                "300",
            ),
        ];
        for (m, check, figure) in cases {
            let all = lines(&m);
            let warned: Vec<_> = all.iter().filter(|l| l.verdict == Verdict::Warn).collect();
            assert_eq!(warned.len(), 1, "{m:?}");
            assert_eq!(warned[0].check, check);
            assert!(warned[0].message.contains(figure), "{}", warned[0].message);
        }
        assert_eq!(
            verdicts(&Measures {
                face_black: 0.5,
                ..good()
            })[1],
            (Check::Exposure, Verdict::Warn)
        );
    }

    #[test]
    fn the_centred_box_is_the_largest_33_by_48_that_fits() {
        // Landscape: full height, centred across.
        let c = Crop::centred(1600, 1200);
        assert_eq!((c.height, c.width()), (1200, 825));
        assert_eq!((c.x, c.y), ((1600 - 825) / 2, 0));
        // Portrait narrower than 33:48: full width, centred down.
        let c = Crop::centred(660, 1200);
        assert_eq!((c.width(), c.height), (660, 960));
        assert_eq!((c.x, c.y), (0, 120));
    }

    #[test]
    fn nudges_move_and_resize_but_never_leave_the_picture() {
        let (w, h) = (1600, 1200);
        let c = Crop {
            x: 400,
            y: 200,
            height: 800,
        };
        assert_eq!(c.nudged(Nudge::Up, w, h), Crop { y: 160, ..c });
        assert_eq!(c.nudged(Nudge::Down, w, h), Crop { y: 240, ..c });
        assert_eq!(c.nudged(Nudge::Left, w, h), Crop { x: 360, ..c });
        assert_eq!(c.nudged(Nudge::Right, w, h), Crop { x: 440, ..c });
        let closer = c.nudged(Nudge::Closer, w, h);
        assert_eq!(closer.height, 720);
        // About the centre: the middle stays where it was (to a pixel).
        let mid = |c: Crop| (c.x * 2 + c.width(), c.y * 2 + c.height);
        let (a, b) = (mid(c), mid(closer));
        assert!(a.0.abs_diff(b.0) <= 1 && a.1.abs_diff(b.1) <= 1, "{a:?} {b:?}");
        assert_eq!(c.nudged(Nudge::Wider, w, h).height, 880);
        // At the edges and the limits.
        let top = Crop {
            x: 0,
            y: 0,
            height: 1200,
        };
        assert_eq!(top.nudged(Nudge::Up, w, h), top);
        assert_eq!(top.nudged(Nudge::Left, w, h), top);
        assert_eq!(top.nudged(Nudge::Down, w, h), top, "a full-height box cannot go down");
        assert_eq!(top.nudged(Nudge::Wider, w, h).height, 1200);
        let right = top.nudged(Nudge::Right, w, h);
        assert_eq!(right.x, 60);
        let mut small = Crop {
            x: 0,
            y: 0,
            height: 170,
        };
        for _ in 0..5 {
            small = small.nudged(Nudge::Closer, w, h);
        }
        assert_eq!(small.height, MIN_CROP_HEIGHT);
        let far = Crop {
            x: 5000,
            y: 5000,
            height: 400,
        }
        .clamped(w, h);
        assert_eq!((far.x + far.width(), far.y + far.height), (w, h));
    }

    #[test]
    fn a_box_sent_must_lie_on_the_picture() {
        let (w, h) = (1600, 1200);
        assert!(
            Crop {
                x: 775,
                y: 0,
                height: 1200
            }
            .check(w, h)
            .is_ok()
        );
        let e = Crop {
            x: 776,
            y: 0,
            height: 1200,
        }
        .check(w, h)
        .unwrap_err();
        assert!(e.has("crop.x"), "{e:?}");
        let e = Crop {
            x: 0,
            y: 1,
            height: 1200,
        }
        .check(w, h)
        .unwrap_err();
        assert!(e.has("crop.y"), "{e:?}");
        let e = Crop { x: 0, y: 0, height: 10 }.check(w, h).unwrap_err();
        assert!(e.has("crop.height"), "{e:?}");
        // Huge numbers do not overflow.
        assert!(
            Crop {
                x: u32::MAX,
                y: u32::MAX,
                height: u32::MAX
            }
            .check(w, h)
            .is_err()
        );
        for n in ["up", "down", "left", "right", "wider", "closer"] {
            assert!(Nudge::parse(n).is_some());
        }
        assert_eq!(Nudge::parse("zoom"), None);
    }

    #[test]
    fn a_box_typed_on_a_page_is_read_as_whole_numbers() {
        let text = |x: &str, y: &str, h: &str| CropText {
            x: Some(x.into()),
            y: Some(y.into()),
            height: Some(h.into()),
            nudge: Some("up".into()),
        };
        let ask = text(" 10", "20 ", "300").read().unwrap();
        assert_eq!(
            (ask.x, ask.y, ask.height, ask.nudge.as_deref()),
            (Some(10), Some(20), Some(300), Some("up"))
        );
        let e = text("-1", "2147483648000", "1.5").read().unwrap_err();
        assert!(e.has("crop.x") && e.has("crop.y") && e.has("crop.height"), "{e:?}");
        assert_eq!(CropText::default().read().unwrap(), CropAsk::default());
    }

    #[test]
    fn an_asked_box_is_all_three_figures_or_none_and_a_known_nudge() {
        let (w, h) = (1600, 1200);
        assert_eq!(CropAsk::default().resolve(w, h), Ok(Crop::centred(w, h)));
        let ask = CropAsk {
            x: Some(400),
            y: Some(200),
            height: Some(800),
            nudge: Some("up".into()),
        };
        assert_eq!(
            ask.resolve(w, h),
            Ok(Crop {
                x: 400,
                y: 160,
                height: 800
            })
        );
        let half = CropAsk {
            x: Some(1),
            ..CropAsk::default()
        };
        assert!(half.resolve(w, h).unwrap_err().has("crop"));
        let odd = CropAsk {
            nudge: Some("sideways".into()),
            ..CropAsk::default()
        };
        assert!(odd.resolve(w, h).unwrap_err().has("nudge"));
        let blank = CropAsk {
            nudge: Some(" ".into()),
            ..CropAsk::default()
        };
        assert_eq!(blank.resolve(w, h), Ok(Crop::centred(w, h)));
        let outside = CropAsk {
            x: Some(0),
            y: Some(900),
            height: Some(800),
            nudge: None,
        };
        assert!(outside.resolve(w, h).unwrap_err().has("crop.y"));
    }
}
