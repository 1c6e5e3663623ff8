//! The public progress page in 中文, Tiếng Việt and English: the words for each language.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    Vi,
    En,
}

impl Lang {
    pub fn parse(s: Option<&str>) -> Lang {
        match s {
            Some("vi") => Lang::Vi,
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }
}

pub struct Texts {
    pub title: &'static str,
    pub intro: &'static str,
    pub number: &'static str,
    pub last4: &'static str,
    pub submit: &'static str,
    pub not_found: &'static str,
    pub limited: &'static str,
    pub status: &'static str,
    pub kind: &'static str,
    pub missing: &'static str,
    pub due: &'static str,
    pub deadline: &'static str,
    pub permit: &'static str,
    pub reason: &'static str,
    pub none_missing: &'static str,
}

pub fn texts(lang: Lang) -> Texts {
    match lang {
        Lang::Zh => Texts {
            title: "办理进度查询",
            intro: "请输入受理回执上的申请编号和证件号码后4位。",
            number: "申请编号",
            last4: "证件号码后4位",
            submit: "查询",
            not_found: "未找到与所填信息相符的申请，请核对后重试。",
            limited: "查询过于频繁，请一分钟后再试。",
            status: "办理状态",
            kind: "业务",
            missing: "待补材料",
            due: "补交期限",
            deadline: "办结时限",
            permit: "证件编号",
            reason: "说明",
            none_missing: "材料齐全",
        },
        Lang::Vi => Texts {
            title: "Tra cứu tiến độ hồ sơ",
            intro: "Nhập số hồ sơ trên giấy biên nhận và 4 ký tự cuối của số giấy tờ tùy thân.",
            number: "Số hồ sơ",
            last4: "4 ký tự cuối của số giấy tờ",
            submit: "Tra cứu",
            not_found: "Không tìm thấy hồ sơ khớp với thông tin đã nhập. Vui lòng kiểm tra lại.",
            limited: "Tra cứu quá nhiều lần. Vui lòng thử lại sau một phút.",
            status: "Trạng thái",
            kind: "Loại giấy tờ",
            missing: "Giấy tờ cần bổ sung",
            due: "Hạn bổ sung",
            deadline: "Hạn giải quyết",
            permit: "Số giấy thông hành",
            reason: "Ghi chú",
            none_missing: "Hồ sơ đã đầy đủ",
        },
        Lang::En => Texts {
            title: "Application progress",
            intro: "Enter the application number on your receipt and the last 4 characters of your ID number.",
            number: "Application number",
            last4: "Last 4 characters of the ID number",
            submit: "Look up",
            not_found: "No application matches what you entered. Please check and try again.",
            limited: "Too many look-ups. Please try again in a minute.",
            status: "Status",
            kind: "Service",
            missing: "Items still to bring",
            due: "Bring by",
            deadline: "Decision due",
            permit: "Permit number",
            reason: "Note",
            none_missing: "All materials received",
        },
    }
}

/// An application state in the applicant's language.
pub fn status_text(lang: Lang, status: &str) -> &'static str {
    let row: [&str; 3] = match status {
        "submitted" => ["已提交", "Đã nộp hồ sơ", "Submitted"],
        "accepted" => [
            "已受理，审批中",
            "Đã tiếp nhận, đang xét duyệt",
            "Accepted, being decided",
        ],
        "approved" => ["已批准", "Đã phê duyệt", "Approved"],
        "issued" => ["已制证，可领取", "Đã cấp, có thể nhận", "Issued, ready to collect"],
        "collected" => ["已领取", "Đã nhận", "Collected"],
        "uploaded" => ["已上报审核", "Đang thẩm định", "Sent for review"],
        "rejected" => ["不予办理", "Không được chấp thuận", "Refused"],
        "withdrawn" => ["已撤回", "Đã rút hồ sơ", "Withdrawn"],
        _ => ["—", "—", "—"],
    };
    match lang {
        Lang::Zh => row[0],
        Lang::Vi => row[1],
        Lang::En => row[2],
    }
}
