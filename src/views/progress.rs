//! The public progress page in 中文, Tiếng Việt and English: the words for each language.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    Vi,
    En,
}

impl Lang {
    pub fn parse(s: Option<&str>) -> Lang {
        s.and_then(Lang::from_code).unwrap_or(Lang::Zh)
    }

    pub fn from_code(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" => Some(Lang::Zh),
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The reader's own choice (the switcher's `lang`, remembered in a cookie) wins; until they
    /// choose, the browser's Accept-Language decides; Chinese when neither names a language
    /// the page has.
    pub fn choose(chosen: Option<&str>, accept_language: Option<&str>) -> Lang {
        chosen
            .and_then(Lang::from_code)
            .or_else(|| accept_language.and_then(Lang::from_accept_language))
            .unwrap_or(Lang::Zh)
    }

    /// The first language of an Accept-Language header, by quality, that the page has.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        use actix_web::http::header::{AcceptLanguage, LanguageTag, Preference, QualityItem};
        let items: Vec<QualityItem<Preference<LanguageTag>>> =
            header.split(',').filter_map(|item| item.trim().parse().ok()).collect();
        AcceptLanguage(items).ranked().into_iter().find_map(|p| match p {
            Preference::Specific(tag) => Lang::from_code(tag.primary_language()),
            Preference::Any => None,
        })
    }

    /// A mail's language: Vietnamese nationals read Vietnamese, Chinese nationals Chinese,
    /// everyone else English.
    pub fn for_nationality(alpha3: &str) -> Lang {
        match alpha3 {
            "VNM" => Lang::Vi,
            "CHN" => Lang::Zh,
            _ => Lang::En,
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
    pub code: &'static str,
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
    /// A permit printed with items outstanding: not valid for crossing yet.
    pub pending: &'static str,
    pub by: &'static str,
    pub suspended: &'static str,
    pub language: &'static str,
    pub office: &'static str,
}

pub fn texts(lang: Lang) -> Texts {
    match lang {
        Lang::Zh => Texts {
            title: "办理进度查询",
            intro: "请输入受理回执上的申请编号（或通行证上的证件编号）、证件号码后4位和回执上的查询码。",
            number: "申请编号或通行证编号",
            last4: "证件号码后4位",
            code: "查询码（回执上，如 7K3M-Q9TX）",
            submit: "查询",
            not_found: "未找到与所填信息相符的申请，请核对后重试。连续输错5次，该申请的查询将暂停30分钟；回执遗失或急需查询，请持证件到办证窗口补打回执或解除暂停。",
            limited: "查询过于频繁，请一分钟后再试。",
            status: "办理状态",
            kind: "业务",
            missing: "待补材料",
            due: "补交期限",
            deadline: "办结时限",
            permit: "证件编号",
            reason: "说明",
            none_missing: "材料齐全",
            pending: "已制证，尚未生效：待补",
            by: "截止",
            suspended: "已中止：材料逾期未补交，暂不能通关",
            language: "语言",
            office: "凭祥·友谊关出入境办证",
        },
        Lang::Vi => Texts {
            title: "Tra cứu tiến độ hồ sơ",
            intro: "Nhập số hồ sơ trên giấy biên nhận (hoặc số in trên giấy thông hành), 4 ký tự cuối của số giấy tờ tùy thân và mã tra cứu in trên giấy biên nhận.",
            number: "Số hồ sơ hoặc số giấy thông hành",
            last4: "4 ký tự cuối của số giấy tờ",
            code: "Mã tra cứu (trên giấy biên nhận, ví dụ 7K3M-Q9TX)",
            submit: "Tra cứu",
            not_found: "Không tìm thấy hồ sơ khớp với thông tin đã nhập. Vui lòng kiểm tra lại. Nhập sai 5 lần liên tiếp, việc tra cứu hồ sơ sẽ tạm khóa 30 phút; nếu mất giấy biên nhận hoặc cần tra cứu gấp, vui lòng mang giấy tờ tùy thân đến quầy để in lại biên nhận hoặc mở khóa.",
            limited: "Tra cứu quá nhiều lần. Vui lòng thử lại sau một phút.",
            status: "Trạng thái",
            kind: "Loại giấy tờ",
            missing: "Giấy tờ cần bổ sung",
            due: "Hạn bổ sung",
            deadline: "Hạn giải quyết",
            permit: "Số giấy thông hành",
            reason: "Ghi chú",
            none_missing: "Hồ sơ đã đầy đủ",
            pending: "Đã in giấy thông hành nhưng chưa có hiệu lực: cần bổ sung",
            by: "hạn",
            suspended: "Đã tạm đình chỉ: quá hạn bổ sung giấy tờ, chưa được qua cửa khẩu",
            language: "Ngôn ngữ",
            office: "Làm giấy tờ xuất nhập cảnh Bằng Tường · Hữu Nghị Quan",
        },
        Lang::En => Texts {
            title: "Application progress",
            intro: "Enter the application number on your receipt (or the number printed on your pass), the last 4 characters of your ID number and the lookup code printed on your receipt.",
            number: "Application or permit number",
            last4: "Last 4 characters of the ID number",
            code: "Lookup code (on your receipt, e.g. 7K3M-Q9TX)",
            submit: "Look up",
            not_found: "No application matches what you entered. Please check and try again. After 5 wrong tries in a row an application's lookup pauses for 30 minutes; if you lost your receipt or cannot wait, bring your ID to the permit window for a new receipt or to lift the pause.",
            limited: "Too many look-ups. Please try again in a minute.",
            status: "Status",
            kind: "Service",
            missing: "Items still to bring",
            due: "Bring by",
            deadline: "Decision due",
            permit: "Permit number",
            reason: "Note",
            none_missing: "All materials received",
            pending: "Printed, not yet valid: still to bring",
            by: "by",
            suspended: "Suspended: items were not brought in time; not valid for crossing",
            language: "Language",
            office: "Pingxiang · Youyiguan exit-entry permits",
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

/// A permit no longer in force, in the applicant's language (None while it is).
pub fn permit_ended(lang: Lang, status: crate::domain::permit::PermitStatus) -> Option<&'static str> {
    use crate::domain::permit::PermitStatus::*;
    let row: [&str; 3] = match status {
        Revoked => [
            "证件已吊销，不能使用",
            "Giấy thông hành đã bị thu hồi",
            "The permit was revoked",
        ],
        Expired => ["证件已过期", "Giấy thông hành đã hết hạn", "The permit has expired"],
        Used => [
            "证件已使用（次数已用完）",
            "Giấy thông hành đã dùng hết số lần",
            "The permit's entries are used up",
        ],
        Issued | Pending | Suspended => return None,
    };
    Some(match lang {
        Lang::Zh => row[0],
        Lang::Vi => row[1],
        Lang::En => row[2],
    })
}

/// The status line of a permit printed before every item arrived: "已制证，尚未生效：待补
/// 证件照片（截止 2026-12-01）", so the holder knows why the checkpoint refuses it and what to
/// bring by when.
pub fn pending_line(lang: Lang, items: &[(String, String)]) -> String {
    let t = texts(lang);
    let list: Vec<String> = items
        .iter()
        .map(|(name, due)| match lang {
            Lang::Zh => format!("{name}（{} {due}）", t.by),
            _ => format!("{name} ({} {due})", t.by),
        })
        .collect();
    let sep = if lang == Lang::Zh { "、" } else { ", " };
    format!("{} {}", t.pending, list.join(sep))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choice_wins_then_accept_language_then_chinese() {
        assert_eq!(Lang::choose(Some("en"), Some("vi-VN,vi;q=0.9")), Lang::En);
        assert_eq!(Lang::choose(None, Some("vi-VN,vi;q=0.9,en;q=0.5")), Lang::Vi);
        assert_eq!(Lang::choose(None, Some("fr-FR, en;q=0.4, vi;q=0.8")), Lang::Vi);
        assert_eq!(Lang::choose(None, Some("en-GB")), Lang::En);
        assert_eq!(Lang::choose(None, Some("fr, *;q=0.1")), Lang::Zh);
        assert_eq!(Lang::choose(Some("xx"), Some("garbage;;q=")), Lang::Zh);
        assert_eq!(Lang::choose(None, None), Lang::Zh);
    }

    #[test]
    fn a_permit_out_of_force_says_so() {
        use crate::domain::permit::PermitStatus;
        assert_eq!(
            permit_ended(Lang::En, PermitStatus::Revoked),
            Some("The permit was revoked")
        );
        assert_eq!(permit_ended(Lang::Zh, PermitStatus::Issued), None);
    }

    #[test]
    fn a_pending_permit_says_what_is_missing_and_by_when() {
        let items = [("证件照片".to_string(), "2026-12-01".to_string())];
        assert_eq!(
            pending_line(Lang::Zh, &items),
            "已制证，尚未生效：待补 证件照片（截止 2026-12-01）"
        );
        let items = [
            ("Portrait photo".to_string(), "2026-12-01".to_string()),
            ("Vehicle licence".to_string(), "2026-12-03".to_string()),
        ];
        assert_eq!(
            pending_line(Lang::En, &items),
            "Printed, not yet valid: still to bring Portrait photo (by 2026-12-01), Vehicle licence (by 2026-12-03)"
        );
    }
}
