//! 一次性告知书: the one complete notice an applicant gets at acceptance of everything missing
//! and when each item is due, on A4, in Chinese, English and Vietnamese.

use chrono::NaiveDate;

use super::PrintError;
use super::font::FontUse;
use super::permit::{Page, assemble};

const MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 210.0 * MM;
const PAGE_H: f32 = 297.0 * MM;

pub struct NoticeItem {
    pub name_zh: String,
    pub name_en: String,
    pub name_vi: String,
    pub due: NaiveDate,
}

pub struct NoticePrint {
    pub application_number: String,
    pub kind_zh: String,
    pub kind_en: String,
    pub holder: String,
    pub office_zh: String,
    pub accepted_at: String,
    pub items: Vec<NoticeItem>,
}

const MISSING_ZH: &str = "您的申请已容缺受理。请在下列期限前补交以下材料（逾期未补交，已签发的证件将被中止使用）：";
const MISSING_EN_VI: [&str; 2] = [
    "Your application was accepted with the items below missing. Supply each by its date, or a permit already",
    "issued is suspended. / Vui lòng bổ sung các giấy tờ dưới đây trước thời hạn.",
];
const FREE_ZH: &str = "补交材料后无需重新排队，窗口将直接续办。照片免费拍摄，证件免费打印。";
const FREE_EN: &str = "Bring the items to any window; no new queue ticket is needed. Photos and printing are free.";

pub fn notice_pdf(n: &NoticePrint) -> Result<Vec<u8>, PrintError> {
    let mut font = FontUse::new()?;
    let mut page = Page::new(&mut font);
    let x = 20.0 * MM;
    let mut y = PAGE_H - 25.0 * MM;
    page.gray(0.0);
    page.text(x, y, 18.0, "一次性告知书");
    y -= 8.0 * MM;
    page.text(x, y, 11.0, "Notice of missing materials · Thông báo bổ sung hồ sơ");
    y -= 12.0 * MM;
    for line in [
        format!("申请编号 Application No. / Số hồ sơ: {}", n.application_number),
        format!("业务 Service: {} {}", n.kind_zh, n.kind_en),
        format!("申请人 Applicant / Người nộp: {}", n.holder),
        format!("受理时间 Accepted / Ngày tiếp nhận: {}", n.accepted_at),
        format!("受理机关 Office: {}", n.office_zh),
    ] {
        page.text(x, y, 10.5, &line);
        y -= 7.0 * MM;
    }
    y -= 4.0 * MM;
    page.text(x, y, 10.5, MISSING_ZH);
    y -= 6.0 * MM;
    for line in MISSING_EN_VI {
        page.text(x, y, 9.5, line);
        y -= 5.0 * MM;
    }
    y -= 5.0 * MM;
    y -= 10.0 * MM;
    page.gray(0.35);
    page.text(x, y, 9.0, "材料 Item / Giấy tờ");
    page.text(x + 120.0 * MM, y, 9.0, "截止日期 Due by / Hạn");
    page.content.set_stroke_gray(0.6);
    page.content.move_to(x, y - 2.5 * MM);
    page.content.line_to(PAGE_W - x, y - 2.5 * MM);
    page.content.stroke();
    page.gray(0.0);
    y -= 9.0 * MM;
    for (i, item) in n.items.iter().enumerate() {
        page.text(x, y, 11.0, &format!("{}. {}", i + 1, item.name_zh));
        page.text(x + 120.0 * MM, y, 11.0, &item.due.to_string());
        y -= 5.5 * MM;
        page.gray(0.35);
        page.text(x + 5.0 * MM, y, 8.5, &format!("{} · {}", item.name_en, item.name_vi));
        page.gray(0.0);
        y -= 8.0 * MM;
    }
    y -= 6.0 * MM;
    page.text(x, y, 9.5, FREE_ZH);
    y -= 5.5 * MM;
    page.text(x, y, 9.0, FREE_EN);
    let content = page.content.finish();
    assemble(
        &content,
        font,
        PAGE_W,
        PAGE_H,
        &format!("Notice {}", n.application_number),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders() {
        let pdf = notice_pdf(&NoticePrint {
            application_number: "YYG202611260001".into(),
            kind_zh: "边境贸易出入境通行证".into(),
            kind_en: "Border Trade Exit-Entry Pass".into(),
            holder: "张伟 ZHANG WEI".into(),
            office_zh: "友谊关口岸出入境一站式办证点".into(),
            accepted_at: "2026-11-26 10:00".into(),
            items: vec![NoticeItem {
                name_zh: "证件照片".into(),
                name_en: "Portrait".into(),
                name_vi: "Ảnh chân dung".into(),
                due: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            }],
        })
        .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
    }
}
