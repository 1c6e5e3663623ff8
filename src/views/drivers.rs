//! The drivers' phone pages in 中文, Tiếng Việt and English: their words and page models.

use askama::Template;

use crate::domain::freight::VehicleType;
use crate::domain::validation::FieldError;
use crate::service::drivers::{Profile, Vehicle};
use crate::views::progress::Lang;

pub struct DriverTexts {
    pub service: &'static str,
    pub language: &'static str,
    pub start_title: &'static str,
    pub start_intro: &'static str,
    pub email: &'static str,
    pub send_code: &'static str,
    pub code_title: &'static str,
    pub code_sent: &'static str,
    pub code_hint: &'static str,
    pub code: &'static str,
    pub sign_in: &'static str,
    pub new_code: &'static str,
    pub home_title: &'static str,
    pub profile: &'static str,
    pub edit_profile: &'static str,
    pub profile_missing: &'static str,
    pub vehicles: &'static str,
    pub manage_vehicles: &'static str,
    pub no_vehicles: &'static str,
    pub bookings: &'static str,
    pub sign_out: &'static str,
    pub name_zh: &'static str,
    pub name_latin: &'static str,
    pub nationality: &'static str,
    pub nationality_hint: &'static str,
    pub id_type: &'static str,
    pub id_number: &'static str,
    pub phone: &'static str,
    pub phone_hint: &'static str,
    pub trade_pass: &'static str,
    pub trade_pass_hint: &'static str,
    pub save: &'static str,
    pub saved: &'static str,
    pub fix: &'static str,
    pub plate: &'static str,
    pub plate_hint: &'static str,
    pub trailer_plate: &'static str,
    pub vehicle_type: &'static str,
    pub country: &'static str,
    pub add_vehicle: &'static str,
    pub remove: &'static str,
    pub back_home: &'static str,
    pub choose: &'static str,
    pub cn_resident_id: &'static str,
    pub vn_citizen_id: &'static str,
    pub passport: &'static str,
    pub expired_title: &'static str,
    pub expired_detail: &'static str,
    pub gone_title: &'static str,
    pub gone_detail: &'static str,
    pub start_again: &'static str,
}

const ZH: DriverTexts = DriverTexts {
    service: "友谊关货车司机服务",
    language: "语言",
    start_title: "司机登录",
    start_intro: "输入您的电子邮箱，我们会发送一个6位数验证码。无需密码，首次登录即自动注册。",
    email: "电子邮箱",
    send_code: "发送验证码",
    code_title: "输入验证码",
    code_sent: "验证码已发送至",
    code_hint: "请查看邮箱（包括垃圾邮件）。验证码10分钟内有效，最多可输错5次。",
    code: "6位验证码",
    sign_in: "登录",
    new_code: "没收到？重新发送验证码",
    home_title: "我的主页",
    profile: "个人资料",
    edit_profile: "修改个人资料",
    profile_missing: "请先填写个人资料（姓名、国籍、证件），才能预约通关时段。",
    vehicles: "我的车辆",
    manage_vehicles: "添加或删除车辆",
    no_vehicles: "还没有登记车辆。",
    bookings: "通关预约",
    sign_out: "退出登录",
    name_zh: "中文姓名",
    name_latin: "拉丁字母姓名（与证件一致）",
    nationality: "国籍",
    nationality_hint: "三字母代码：CHN 中国，VNM 越南",
    id_type: "证件类型",
    id_number: "证件号码",
    phone: "手机号码",
    phone_hint: "国际格式，如 +8613800000000",
    trade_pass: "边贸通行证号码（中国籍司机）",
    trade_pass_hint: "如 TR-YYG-2026-000001，须为本人有效证件",
    save: "保存",
    saved: "已保存。",
    fix: "请更正以下内容：",
    plate: "车牌号",
    plate_hint: "如 桂A12345 或 12C-123.45",
    trailer_plate: "挂车车牌（可选）",
    vehicle_type: "车辆类型",
    country: "国家",
    add_vehicle: "添加车辆",
    remove: "删除",
    back_home: "返回我的主页",
    choose: "请选择",
    cn_resident_id: "中国居民身份证",
    vn_citizen_id: "越南公民身份证（12位）",
    passport: "护照",
    expired_title: "页面已过期",
    expired_detail: "请返回，刷新页面后重新提交。",
    gone_title: "找不到这辆车",
    gone_detail: "这辆车已不在您的车辆列表中（可能已删除）。",
    start_again: "重新开始",
};

const VI: DriverTexts = DriverTexts {
    service: "Dịch vụ tài xế xe hàng cửa khẩu Hữu Nghị",
    language: "Ngôn ngữ",
    start_title: "Đăng nhập tài xế",
    start_intro: "Nhập e-mail của bạn, chúng tôi sẽ gửi một mã 6 chữ số. Không cần mật khẩu; lần đăng nhập đầu tiên sẽ tự tạo tài khoản.",
    email: "E-mail",
    send_code: "Gửi mã",
    code_title: "Nhập mã",
    code_sent: "Mã đã được gửi tới",
    code_hint: "Hãy kiểm tra hộp thư (cả thư rác). Mã có hiệu lực 10 phút, được nhập sai tối đa 5 lần.",
    code: "Mã 6 chữ số",
    sign_in: "Đăng nhập",
    new_code: "Chưa nhận được? Gửi lại mã",
    home_title: "Trang của tôi",
    profile: "Hồ sơ cá nhân",
    edit_profile: "Sửa hồ sơ",
    profile_missing: "Hãy điền hồ sơ (họ tên, quốc tịch, giấy tờ) trước khi đặt khung giờ thông quan.",
    vehicles: "Xe của tôi",
    manage_vehicles: "Thêm hoặc xóa xe",
    no_vehicles: "Chưa có xe nào.",
    bookings: "Đặt chỗ thông quan",
    sign_out: "Đăng xuất",
    name_zh: "Tên chữ Hán",
    name_latin: "Họ tên chữ Latinh (như trên giấy tờ)",
    nationality: "Quốc tịch",
    nationality_hint: "Mã 3 chữ cái: VNM Việt Nam, CHN Trung Quốc",
    id_type: "Loại giấy tờ",
    id_number: "Số giấy tờ",
    phone: "Số điện thoại",
    phone_hint: "Định dạng quốc tế, ví dụ +84912345678",
    trade_pass: "Số giấy thông hành biên mậu (tài xế Trung Quốc)",
    trade_pass_hint: "Ví dụ TR-YYG-2026-000001, phải là giấy còn hiệu lực của chính bạn",
    save: "Lưu",
    saved: "Đã lưu.",
    fix: "Vui lòng sửa các mục sau:",
    plate: "Biển số xe",
    plate_hint: "Ví dụ 12C-123.45 hoặc 桂A12345",
    trailer_plate: "Biển số rơ-moóc (không bắt buộc)",
    vehicle_type: "Loại xe",
    country: "Quốc gia",
    add_vehicle: "Thêm xe",
    remove: "Xóa",
    back_home: "Về trang của tôi",
    choose: "Chọn",
    cn_resident_id: "Chứng minh thư cư dân Trung Quốc",
    vn_citizen_id: "Căn cước công dân Việt Nam (12 số)",
    passport: "Hộ chiếu",
    expired_title: "Trang đã hết hạn",
    expired_detail: "Hãy quay lại, tải lại trang rồi gửi lại.",
    gone_title: "Không tìm thấy xe",
    gone_detail: "Xe này không còn trong danh sách của bạn (có thể đã bị xóa).",
    start_again: "Bắt đầu lại",
};

const EN: DriverTexts = DriverTexts {
    service: "Youyiguan freight driver service",
    language: "Language",
    start_title: "Driver sign-in",
    start_intro: "Enter your e-mail address and we will send you a 6-digit code. No password; your first sign-in creates your account.",
    email: "E-mail",
    send_code: "Send me a code",
    code_title: "Enter your code",
    code_sent: "We sent a code to",
    code_hint: "Check your inbox (and spam folder). The code works for 10 minutes; 5 wrong tries end it.",
    code: "6-digit code",
    sign_in: "Sign in",
    new_code: "Nothing arrived? Send a new code",
    home_title: "My page",
    profile: "Profile",
    edit_profile: "Edit profile",
    profile_missing: "Fill in your profile (name, nationality, document) before booking a clearance slot.",
    vehicles: "My vehicles",
    manage_vehicles: "Add or remove vehicles",
    no_vehicles: "No vehicles yet.",
    bookings: "Clearance bookings",
    sign_out: "Sign out",
    name_zh: "Name in Chinese",
    name_latin: "Name in Latin letters (as in your document)",
    nationality: "Nationality",
    nationality_hint: "Three letters: CHN China, VNM Vietnam",
    id_type: "Document type",
    id_number: "Document number",
    phone: "Phone",
    phone_hint: "International format, e.g. +84912345678",
    trade_pass: "Border-trade pass number (Chinese drivers)",
    trade_pass_hint: "e.g. TR-YYG-2026-000001: your own, in force",
    save: "Save",
    saved: "Saved.",
    fix: "Please correct the following:",
    plate: "Plate",
    plate_hint: "e.g. 12C-123.45 or 桂A12345",
    trailer_plate: "Trailer plate (optional)",
    vehicle_type: "Vehicle type",
    country: "Country",
    add_vehicle: "Add vehicle",
    remove: "Remove",
    back_home: "Back to my page",
    choose: "Choose",
    cn_resident_id: "Chinese resident ID",
    vn_citizen_id: "Vietnamese citizen ID (12 digits)",
    passport: "Passport",
    expired_title: "This page has expired",
    expired_detail: "Go back, reload the page and send the form again.",
    gone_title: "Vehicle not found",
    gone_detail: "This vehicle is no longer in your list (it may have been removed).",
    start_again: "Start again",
};

pub fn texts(lang: Lang) -> &'static DriverTexts {
    match lang {
        Lang::Zh => &ZH,
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

/// What every driver page's frame needs: the language, its words, and (signed in) the form token.
pub struct Frame {
    pub lang: Lang,
    pub t: &'static DriverTexts,
    /// Signed in: the session's form token (the switcher and sign-out are forms).
    pub csrf: Option<String>,
    /// Where the switcher returns to.
    pub here: &'static str,
}

impl Frame {
    pub fn new(lang: Lang, csrf: Option<String>, here: &'static str) -> Frame {
        Frame {
            lang,
            t: texts(lang),
            csrf,
            here,
        }
    }
}

/// Messages of a refused form, each beside its field.
#[derive(Default)]
pub struct Problems(pub Vec<FieldError>);

impl Problems {
    pub fn of(&self, field: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect()
    }

    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }
}

/// A refusal a driver can act on (an expired form, a vehicle already gone), in their language.
#[derive(Template)]
#[template(path = "driver_error.html")]
pub struct DriverErrorPage {
    pub f: Frame,
    pub title: &'static str,
    pub detail: &'static str,
    pub back: &'static str,
    pub back_words: &'static str,
}

#[derive(Template)]
#[template(path = "driver_start.html")]
pub struct DriverStartPage {
    pub f: Frame,
    pub csrf: String,
    pub email: String,
    pub message: Option<String>,
}

#[derive(Template)]
#[template(path = "driver_code.html")]
pub struct DriverCodePage {
    pub f: Frame,
    pub csrf: String,
    pub email: String,
    pub message: Option<String>,
}

/// A vehicle as the pages list it.
pub struct VehicleLine {
    pub id: String,
    pub plate: String,
    pub trailer_plate: Option<String>,
    pub kind: &'static str,
    pub country: String,
}

impl VehicleLine {
    pub fn new(v: &Vehicle, lang: Lang) -> VehicleLine {
        VehicleLine {
            id: v.id.clone(),
            plate: v.plate.clone(),
            trailer_plate: v.trailer_plate.clone(),
            kind: v.vehicle_type.words().pick(lang.code()),
            country: v.country.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "driver_home.html")]
pub struct DriverHomePage {
    pub f: Frame,
    pub profile: Profile,
    pub id_type: &'static str,
    pub vehicles: Vec<VehicleLine>,
}

/// The profile form's values as shown (as typed, after a refusal).
#[derive(Default)]
pub struct ProfileValues {
    pub name_zh: String,
    pub name_latin: String,
    pub nationality: String,
    pub id_type: String,
    pub id_number: String,
    pub phone: String,
    pub trade_pass: String,
}

#[derive(Template)]
#[template(path = "driver_profile.html")]
pub struct DriverProfilePage {
    pub f: Frame,
    pub v: ProfileValues,
    pub problems: Problems,
}

#[derive(Template)]
#[template(path = "driver_vehicles.html")]
pub struct DriverVehiclesPage {
    pub f: Frame,
    pub vehicles: Vec<VehicleLine>,
    pub plate: String,
    pub trailer_plate: String,
    pub vehicle_type: String,
    /// (code, words) of each vehicle type.
    pub types: Vec<(&'static str, &'static str)>,
    pub problems: Problems,
}

/// Each vehicle type with its words in `lang`, for the form's choice.
pub fn vehicle_types(lang: Lang) -> Vec<(&'static str, &'static str)> {
    VehicleType::ALL
        .iter()
        .map(|t| (t.as_str(), t.words().pick(lang.code())))
        .collect()
}

/// A document type in words.
pub fn id_type_words(t: &DriverTexts, id_type: Option<crate::domain::ids::IdType>) -> &'static str {
    use crate::domain::ids::IdType;
    match id_type {
        Some(IdType::CnResidentId) => t.cn_resident_id,
        Some(IdType::VnCitizenId) => t.vn_citizen_id,
        Some(IdType::Passport) => t.passport,
        None => "",
    }
}
