//! Page models for the server-rendered templates in `templates/` (askama, checked at compile
//! time). Chinese first, English beside it.

pub mod progress;

use askama::Template;

use crate::domain::validation::FieldError;
use crate::service::applications::ApplicationOut;
use crate::service::permits::PermitOut;

/// The signed-in officer, shown in the header of every page.
pub struct Nav {
    pub display_name: String,
    pub role: String,
    pub office: String,
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub nav: Option<Nav>,
    pub error: Option<String>,
    pub username: String,
    pub csrf: String,
    pub next: String,
}

/// Values of the application form, echoed back when it is redisplayed with errors.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct ApplicationForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name_zh: String,
    #[serde(default)]
    pub name_latin: String,
    #[serde(default)]
    pub nationality: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub id_type: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub enterprise_name: String,
    #[serde(default)]
    pub credit_code: String,
    /// Plates separated by spaces or commas.
    #[serde(default)]
    pub plates: String,
    #[serde(default)]
    pub validity_option: String,
    #[serde(default)]
    pub photo_ref: String,
    /// "yes" when the passport fee is waived.
    #[serde(default)]
    pub fee_waived: String,
}

pub struct OpenApplication {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub id_number: String,
    pub created_at: String,
}

pub struct RecentPermit {
    pub number: String,
    pub name: String,
    pub id_number: String,
    pub status: String,
    pub valid_until: String,
}

#[derive(Template)]
#[template(path = "desk.html")]
pub struct DeskPage {
    pub nav: Option<Nav>,
    /// (value, label) of the kinds this officer may take and the office offers.
    pub kinds: Vec<(String, String)>,
    /// (code, label) of the trade pass validity options, with "" for the default.
    pub validity_options: Vec<(String, String)>,
    pub form: ApplicationForm,
    pub errors: Vec<FieldError>,
    pub open: Vec<OpenApplication>,
    pub recent: Vec<RecentPermit>,
}

/// One input of the application form, with its value and its errors.
pub struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    pub en: &'static str,
    pub value: String,
    pub input_type: &'static str,
    /// For selects: (value, label).
    pub options: Vec<(String, String)>,
    pub errors: Vec<String>,
    pub hint: &'static str,
}

/// Where a form field's errors are reported in the API's terms.
fn error_key(name: &str) -> String {
    match name {
        "enterprise_name" => "enterprise.name".into(),
        "credit_code" => "enterprise.credit_code".into(),
        "kind" | "validity_option" | "photo_ref" => name.into(),
        other => format!("traveller.{other}"),
    }
}

impl DeskPage {
    fn errors_for(&self, field: &str) -> Vec<String> {
        let key = error_key(field);
        self.errors
            .iter()
            .filter(|e| e.field == key || (field == "plates" && e.field.starts_with("plates")))
            .map(|e| e.message.clone())
            .collect()
    }

    pub fn fields(&self) -> Vec<FieldView> {
        let f = &self.form;
        let opts = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(v, l)| (v.to_string(), l.to_string()))
                .collect::<Vec<_>>()
        };
        let field = |name, label, en, value: &str, input_type, options, hint| FieldView {
            name,
            label,
            en,
            value: value.to_string(),
            input_type,
            options,
            errors: self.errors_for(name),
            hint,
        };
        vec![
            field("kind", "业务类型", "Kind", &f.kind, "select", self.kinds.clone(), ""),
            field(
                "name_zh",
                "中文姓名",
                "Chinese name",
                &f.name_zh,
                "text",
                vec![],
                "张伟",
            ),
            field(
                "name_latin",
                "拼音/拉丁字母姓名",
                "Name in Latin script",
                &f.name_latin,
                "text",
                vec![],
                "ZHANG WEI",
            ),
            field(
                "nationality",
                "国籍",
                "Nationality (ISO 3166)",
                &f.nationality,
                "text",
                vec![],
                "CHN",
            ),
            field(
                "sex",
                "性别",
                "Sex",
                &f.sex,
                "select",
                opts(&[("M", "男 M"), ("F", "女 F"), ("X", "X")]),
                "",
            ),
            field(
                "birth_date",
                "出生日期",
                "Date of birth",
                &f.birth_date,
                "date",
                vec![],
                "",
            ),
            field(
                "id_type",
                "证件类型",
                "Document type",
                &f.id_type,
                "select",
                opts(&[
                    ("cn_resident_id", "居民身份证 Resident ID"),
                    ("vn_citizen_id", "越南公民身份证 CCCD"),
                    ("passport", "护照 Passport"),
                ]),
                "",
            ),
            field(
                "id_number",
                "证件号码",
                "Document number",
                &f.id_number,
                "text",
                vec![],
                "",
            ),
            field("phone", "手机", "Phone", &f.phone, "tel", vec![], "+8613800000000"),
            field("email", "电子邮箱", "E-mail", &f.email, "email", vec![], ""),
            field(
                "enterprise_name",
                "企业名称（边贸）",
                "Enterprise (trade)",
                &f.enterprise_name,
                "text",
                vec![],
                "个体经营者可不填 / blank for an individual trader",
            ),
            field(
                "credit_code",
                "统一社会信用代码",
                "Unified social credit code",
                &f.credit_code,
                "text",
                vec![],
                "91450681MA5XXXXXXX",
            ),
            field(
                "plates",
                "车牌（驾驶员）",
                "Plates (drivers)",
                &f.plates,
                "text",
                vec![],
                "桂A12345 12C-123.45",
            ),
            field(
                "validity_option",
                "有效期（边贸）",
                "Validity (trade)",
                &f.validity_option,
                "select",
                self.validity_options.clone(),
                "",
            ),
            field(
                "photo_ref",
                "照片编号（护照）",
                "Photo reference (passport)",
                &f.photo_ref,
                "text",
                vec![],
                "PH-0001",
            ),
            field(
                "fee_waived",
                "免收费用（护照）",
                "Fee waived (passport)",
                &f.fee_waived,
                "select",
                opts(&[("", "否 no"), ("yes", "是 yes")]),
                "",
            ),
        ]
    }
}

#[derive(Template)]
#[template(path = "application.html")]
pub struct ApplicationPage {
    pub nav: Option<Nav>,
    pub app: ApplicationOut,
    pub kind_title: String,
    /// on_the_spot, approval or external_review.
    pub workflow: &'static str,
    pub can_issue: bool,
    /// May accept, supply, withdraw (holds the kind's grant).
    pub can_handle: bool,
    /// (code, label, deferrable) of the kind's materials checklist.
    pub checklist: Vec<(String, String, bool)>,
    /// A fresh idempotency key per rendering: a double-clicked or resent form issues once.
    pub idempotency_key: String,
    pub error: Option<String>,
}

impl ApplicationPage {
    pub fn has_missing(&self) -> bool {
        self.app.materials.iter().any(|m| !m.provided)
    }
}

#[derive(Template)]
#[template(path = "permit.html")]
pub struct PermitPage {
    pub nav: Option<Nav>,
    pub permit: PermitOut,
    pub kind_title: String,
    pub valid_from: String,
    pub valid_until: String,
    pub issued_at: String,
    pub can_revoke: bool,
    pub errors: Vec<FieldError>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub nav: Option<Nav>,
    pub status: u16,
    pub title: String,
    pub detail: String,
}

/// A missing item as the applicant sees it.
pub struct ProgressItem {
    pub name: String,
    pub due: String,
}

/// What the public progress page shows once the number and the last four match.
pub struct ProgressResult {
    pub number: String,
    pub kind: String,
    pub status: &'static str,
    pub deadline: Option<String>,
    pub missing: Vec<ProgressItem>,
    pub permit: Option<String>,
    pub reason: Option<String>,
}

#[derive(Template)]
#[template(path = "progress.html")]
pub struct ProgressPage {
    pub nav: Option<Nav>,
    pub lang: progress::Lang,
    pub t: progress::Texts,
    pub number: String,
    pub message: Option<&'static str>,
    pub result: Option<ProgressResult>,
}

#[derive(Template)]
#[template(path = "sla.html")]
pub struct SlaPage {
    pub nav: Option<Nav>,
    pub view: crate::service::sla::SlaView,
}

#[derive(Template)]
#[template(path = "calendar.html")]
pub struct CalendarPage {
    pub nav: Option<Nav>,
    pub year: i32,
    pub view: crate::domain::calendar::YearView,
    pub errors: Vec<FieldError>,
    pub notice: Option<String>,
    pub form: CalendarFormValues,
}

/// What the admin typed, shown again when the save was refused or needs confirming.
#[derive(Debug, Clone, Default)]
pub struct CalendarFormValues {
    pub date: String,
    pub kind: String,
    pub name: String,
    /// A published day the admin asked to remove: the page asks to confirm.
    pub pending_remove: Option<String>,
}

impl CalendarPage {
    pub fn error_for(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field)
    }

    /// The save would replace an existing day: offer the confirmation box.
    pub fn needs_confirm(&self) -> bool {
        self.form.pending_remove.is_none() && self.error_for("confirm").is_some()
    }
}

#[derive(Template)]
#[template(path = "notice.html")]
pub struct NoticePage {
    pub nav: Option<Nav>,
    pub id: String,
    pub notice: crate::print::notice::NoticePrint,
}

pub struct RecentScan {
    pub at: String,
    pub number: String,
    pub direction: String,
    pub admit: bool,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "checkpoint.html")]
pub struct CheckpointPage {
    pub nav: Option<Nav>,
    pub lane: String,
    pub direction: String,
    pub result: Option<crate::service::checkpoint::ScanOut>,
    pub error: Option<String>,
    pub recent: Vec<RecentScan>,
}
