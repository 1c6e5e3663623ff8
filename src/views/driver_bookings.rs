//! The driver's booking page in 中文, Tiếng Việt and English: free slots, the booking form, the
//! driver's bookings with their slip, move and cancel.

use askama::Template;

use super::drivers::{Frame, Problems, VehicleLine};
use crate::domain::freight::{CargoCategory, SlotOffer};
use crate::service::bookings::{BookingOut, SlotOut};
use crate::views::progress::Lang;

pub struct BookingTexts {
    pub title: &'static str,
    pub book_title: &'static str,
    pub direction: &'static str,
    pub exit: &'static str,
    pub entry: &'static str,
    pub cargo: &'static str,
    pub show_slots: &'static str,
    pub vehicle: &'static str,
    pub weight: &'static str,
    pub customs_ref: &'static str,
    pub customs_hint: &'static str,
    pub slot: &'static str,
    pub free: &'static str,
    pub full: &'static str,
    pub book: &'static str,
    pub booked: &'static str,
    pub mine: &'static str,
    pub none: &'static str,
    pub number: &'static str,
    pub status: &'static str,
    pub plate: &'static str,
    pub lane: &'static str,
    pub report_by: &'static str,
    pub slip: &'static str,
    pub move_to: &'static str,
    pub move_once: &'static str,
    pub cancel: &'static str,
    pub cancelled: &'static str,
    pub moved: &'static str,
    pub offers: &'static str,
    pub need_profile: &'static str,
    pub need_vehicle: &'static str,
    pub check_in: &'static str,
    pub board: &'static str,
}

const ZH: BookingTexts = BookingTexts {
    title: "通关预约",
    book_title: "预约通关时段",
    direction: "方向",
    exit: "出境（往越南）",
    entry: "入境（往中国）",
    cargo: "货物类别",
    show_slots: "查看可约时段",
    vehicle: "车辆",
    weight: "货物重量（千克）",
    customs_ref: "报关单号（可选）",
    customs_hint: "字母、数字、- 或 /，最多40位",
    slot: "时段（中国时间）",
    free: "剩余",
    full: "已满",
    book: "确认预约",
    booked: "预约成功，确认邮件已发送（附预约凭证PDF）。",
    mine: "我的预约",
    none: "暂无预约。",
    number: "预约号",
    status: "状态",
    plate: "车牌",
    lane: "通道",
    report_by: "最迟到达",
    slip: "下载预约凭证（PDF）",
    move_to: "改约到",
    move_once: "改约（仅一次）",
    cancel: "取消预约",
    cancelled: "预约已取消。",
    moved: "已改约。",
    offers: "以下时段还有空位：",
    need_profile: "请先填写个人资料。",
    need_vehicle: "请先添加车辆。",
    check_in: "请在时段开始前后{grace}分钟内到友谊关候检区签到：出示预约码或报车牌号。",
    board: "候检动态",
};

const VI: BookingTexts = BookingTexts {
    title: "Đặt chỗ thông quan",
    book_title: "Đặt khung giờ thông quan",
    direction: "Hướng",
    exit: "Xuất cảnh (sang Việt Nam)",
    entry: "Nhập cảnh (sang Trung Quốc)",
    cargo: "Loại hàng",
    show_slots: "Xem giờ còn chỗ",
    vehicle: "Xe",
    weight: "Khối lượng hàng (kg)",
    customs_ref: "Số tờ khai hải quan (không bắt buộc)",
    customs_hint: "Chữ cái, chữ số, - hoặc /, tối đa 40 ký tự",
    slot: "Khung giờ (giờ Trung Quốc)",
    free: "còn",
    full: "hết chỗ",
    book: "Xác nhận đặt chỗ",
    booked: "Đặt chỗ thành công; e-mail xác nhận đã được gửi (kèm phiếu đặt chỗ PDF).",
    mine: "Lượt đặt của tôi",
    none: "Chưa có lượt đặt nào.",
    number: "Mã đặt chỗ",
    status: "Trạng thái",
    plate: "Biển số",
    lane: "Làn",
    report_by: "Có mặt trước",
    slip: "Tải phiếu đặt chỗ (PDF)",
    move_to: "Đổi sang",
    move_once: "Đổi giờ (một lần)",
    cancel: "Hủy đặt chỗ",
    cancelled: "Đã hủy đặt chỗ.",
    moved: "Đã đổi giờ.",
    offers: "Các khung giờ sau còn chỗ:",
    need_profile: "Hãy điền thông tin cá nhân trước.",
    need_vehicle: "Hãy thêm xe trước.",
    check_in: "Hãy đến khu chờ cửa khẩu Hữu Nghị trong khoảng {grace} phút trước hoặc sau giờ đã đặt; xuất trình mã đặt chỗ hoặc báo biển số.",
    board: "Bảng chờ",
};

const EN: BookingTexts = BookingTexts {
    title: "Clearance booking",
    book_title: "Book a clearance slot",
    direction: "Direction",
    exit: "Exit (to Vietnam)",
    entry: "Entry (to China)",
    cargo: "Cargo",
    show_slots: "Show free times",
    vehicle: "Vehicle",
    weight: "Cargo weight (kg)",
    customs_ref: "Customs declaration (optional)",
    customs_hint: "Letters, digits, - or /, up to 40",
    slot: "Slot (China time)",
    free: "free",
    full: "full",
    book: "Book",
    booked: "Booked; the confirmation mail (with the booking slip PDF) is on its way.",
    mine: "My bookings",
    none: "No bookings yet.",
    number: "Booking",
    status: "Status",
    plate: "Plate",
    lane: "Lane",
    report_by: "Report by",
    slip: "Download the booking slip (PDF)",
    move_to: "Move to",
    move_once: "Move (once)",
    cancel: "Cancel the booking",
    cancelled: "Booking cancelled.",
    moved: "Booking moved.",
    offers: "These slots still have places:",
    need_profile: "Fill in your profile first.",
    need_vehicle: "Add a vehicle first.",
    check_in: "Check in at the Youyiguan waiting area within {grace} minutes either side of the slot: show the booking code or give your plate.",
    board: "Queue board",
};

pub fn texts(lang: Lang) -> &'static BookingTexts {
    match lang {
        Lang::Zh => &ZH,
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

/// The form as it was sent, to show it again.
#[derive(Default)]
pub struct BookingValues {
    pub direction: String,
    pub cargo: String,
    pub vehicle_id: String,
    pub weight: String,
    pub customs_ref: String,
}

#[derive(Template)]
#[template(path = "driver_bookings.html")]
pub struct DriverBookingsPage {
    pub f: Frame,
    pub b: &'static BookingTexts,
    pub complete: bool,
    pub vehicles: Vec<VehicleLine>,
    pub cargo: &'static [CargoCategory],
    /// Free slots for the chosen direction and cargo (none before they are chosen).
    pub slots: Vec<SlotOut>,
    /// Free slots to move an active booking to.
    pub move_slots: Vec<SlotOut>,
    pub mine: Vec<BookingOut>,
    pub values: BookingValues,
    pub problems: Problems,
    pub notice: Option<String>,
    pub offers: Vec<SlotOffer>,
    /// The policy's check-in grace, in minutes.
    pub grace: u32,
}

impl DriverBookingsPage {
    pub fn lang(&self) -> &'static str {
        self.f.lang.code()
    }

    /// When to check in, with the policy's grace.
    pub fn check_in(&self) -> String {
        self.b.check_in.replace("{grace}", &self.grace.to_string())
    }

    pub fn chosen(&self) -> bool {
        !self.values.direction.is_empty() && !self.values.cargo.is_empty()
    }
}
