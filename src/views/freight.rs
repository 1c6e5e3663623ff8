//! The freight pages' views: the waiting area for staff, the slots page for supervisors and
//! the public board.

use askama::Template;

use super::Nav;
use crate::domain::freight::{CargoCategory, LaneType};
use crate::domain::validation::FieldError;
use crate::domain::verdict::Direction;
use crate::service::bookings::direction_words;
use crate::service::yard::{Board, ChangedSlot, Queue, StruckDriver};

/// Chinese and English words for staff pages.
pub fn direction_zh(d: &Direction) -> String {
    let w = direction_words(*d);
    format!("{} {}", w.zh, w.en)
}

pub fn lane_zh(l: &LaneType) -> String {
    let w = l.words();
    format!("{} {}", w.zh, w.en)
}

pub fn cargo_zh(c: &CargoCategory) -> &'static str {
    c.words().zh
}

/// What the walk-up form showed, to show it again after a refusal.
#[derive(Debug, Clone, Default)]
pub struct WalkUpValues {
    pub plate: String,
    pub trailer_plate: String,
    pub direction: String,
    pub cargo_category: String,
    pub weight: String,
    pub trade_pass: String,
}

#[derive(Template)]
#[template(path = "yard.html")]
pub struct YardPage {
    pub nav: Option<Nav>,
    pub port: String,
    pub port_name: String,
    pub queues: Vec<Queue>,
    /// What the last action did.
    pub notice: Option<String>,
    pub errors: Vec<FieldError>,
    pub walk_up: WalkUpValues,
    pub cargo: &'static [CargoCategory],
}

impl YardPage {
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

#[derive(Template)]
#[template(path = "slots.html")]
pub struct SlotsPage {
    pub nav: Option<Nav>,
    pub port: String,
    pub changed: Vec<ChangedSlot>,
    pub struck: Vec<StruckDriver>,
    pub notice: Option<String>,
    pub errors: Vec<FieldError>,
    pub lanes: &'static [LaneType],
}

#[derive(Template)]
#[template(path = "board.html")]
pub struct BoardPage {
    pub board: Board,
    pub refresh_seconds: u32,
}

impl BoardPage {
    pub fn direction(&self, d: &Direction) -> crate::domain::freight::Words {
        direction_words(*d)
    }
}
