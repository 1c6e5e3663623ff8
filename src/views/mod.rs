//! Page models for the server-rendered templates in `templates/` (askama, checked at compile
//! time). Chinese first, English beside it.

pub mod actions;
pub mod chart;
pub mod driver_bookings;
pub mod drivers;
pub mod freight;
pub mod progress;
pub mod words;

use askama::Template;

use crate::domain::validation::FieldError;
use crate::service::applications::ApplicationOut;
use crate::service::permits::PermitOut;

/// The signed-in officer, shown in the header of every page.
pub struct Nav {
    pub display_name: String,
    pub role: String,
    /// The office's name.
    pub office: String,
    pub csrf: String,
    /// Holds a grant for some kind: the desk is offered.
    pub can_take: bool,
    /// The SLA and approvals view of the office.
    pub can_supervise: bool,
    pub can_edit_calendar: bool,
    pub can_scan: bool,
    pub can_yard: bool,
    pub can_manage_slots: bool,
    pub can_stock: bool,
    pub can_free: bool,
    pub can_seals: bool,
}

impl Nav {
    pub fn role_words(&self) -> &'static str {
        match self.role.as_str() {
            "officer" => "窗口民警",
            "supervisor" => "审批领导",
            "checkpoint" => "查验民警",
            "admin" => "系统管理员",
            _ => "",
        }
    }

    pub fn role_en(&self) -> &'static str {
        match self.role.as_str() {
            "officer" => "Officer",
            "supervisor" => "Supervisor",
            "checkpoint" => "Checkpoint",
            "admin" => "Admin",
            _ => "",
        }
    }
}

/// Where each role's work is: the page `/` and a login without `next` lead to.
pub fn landing(role: crate::domain::auth::Role) -> &'static str {
    use crate::domain::auth::Role;
    match role {
        Role::Officer => "/desk",
        Role::Supervisor => "/supervisor/sla",
        Role::Admin => "/admin/calendar",
        Role::Checkpoint => "/checkpoint",
    }
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
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::ToSchema)]
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
    /// "yes" once the officer has seen the warning about an open application for the same
    /// document and takes this one all the same.
    #[serde(default)]
    pub confirm_duplicate: String,
}

/// The open application the same document already has, shown as a warning on the desk.
pub struct DuplicateWarning {
    pub id: String,
    pub number: String,
    pub status: words::Label,
}

pub struct OpenApplication {
    pub id: String,
    pub kind: words::Label,
    pub status: words::Label,
    pub name: String,
    pub id_number: String,
    pub created_at: String,
}

pub struct RecentPermit {
    pub number: String,
    pub name: String,
    pub id_number: String,
    /// The code, for the colour class.
    pub status: String,
    pub status_words: words::Label,
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
    /// (code, label) of the documents the offered kinds accept.
    pub id_types: Vec<(String, String)>,
    pub form: ApplicationForm,
    pub errors: Vec<FieldError>,
    pub duplicate: Option<DuplicateWarning>,
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
    /// The kinds the field belongs to (space-separated); empty for every kind.
    pub kinds: &'static str,
    /// Not part of the chosen kind: hidden and disabled (the page's script shows it when the
    /// kind changes).
    pub hidden: bool,
    pub autofocus: bool,
}

impl FieldView {
    /// A hint that is a sentence is shown under the field; an example value is a placeholder.
    pub fn hint_shown(&self) -> bool {
        self.hint.contains(" / ")
    }

    /// The ids of the field's error messages and shown hint, for `aria-describedby`.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.errors.is_empty() {
            ids.push(format!("err-{}", self.name));
        }
        if self.hint_shown() {
            ids.push(format!("hint-{}", self.name));
        }
        ids.join(" ")
    }
}

/// One line of the error summary: the field's label (not its API path) and the message.
pub struct SummaryLine {
    pub name: &'static str,
    pub label: &'static str,
    pub message: String,
}

/// The form field an API error path belongs to (the inverse of `error_key`).
fn field_of(error_field: &str) -> &str {
    match error_field {
        "enterprise.name" => "enterprise_name",
        "enterprise.credit_code" => "credit_code",
        f if f.starts_with("plates") => "plates",
        f => f.strip_prefix("traveller.").unwrap_or(f),
    }
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
        let field = |name, label, en, value: &str, input_type, options, hint, kinds: &'static str| FieldView {
            name,
            label,
            en,
            value: value.to_string(),
            input_type,
            options,
            errors: self.errors_for(name),
            hint,
            kinds,
            hidden: !kinds.is_empty() && !kinds.split(' ').any(|k| k == f.kind),
            autofocus: false,
        };
        let trade = "border_trade";
        let passport = "passport";
        let mut fields = vec![
            field(
                "kind",
                "业务类型",
                "Kind",
                &f.kind,
                "select",
                self.kinds.clone(),
                "",
                "",
            ),
            field(
                "id_type",
                "证件类型",
                "Document type",
                &f.id_type,
                "select",
                self.id_types.clone(),
                "",
                "",
            ),
            field(
                "id_number",
                "证件号码",
                "Document number",
                &f.id_number,
                "text",
                vec![],
                "身份证号码可自动得出出生日期和性别 / a resident ID fills in birth date and sex",
                "",
            ),
            field(
                "name_zh",
                "中文姓名",
                "Chinese name",
                &f.name_zh,
                "text",
                vec![],
                "张伟",
                "",
            ),
            field(
                "name_latin",
                "拼音/拉丁字母姓名",
                "Name in Latin script",
                &f.name_latin,
                "text",
                vec![],
                "ZHANG WEI",
                "",
            ),
            field(
                "nationality",
                "国籍",
                "Nationality (ISO 3166)",
                &f.nationality,
                "text",
                vec![],
                "CHN",
                "",
            ),
            field(
                "sex",
                "性别",
                "Sex",
                &f.sex,
                "select",
                opts(&[
                    ("", "由证件号码得出 from the ID"),
                    ("M", "男 Male"),
                    ("F", "女 Female"),
                    ("X", "未指明 Unspecified"),
                ]),
                "",
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
                "",
            ),
            field("phone", "手机", "Phone", &f.phone, "tel", vec![], "+8613800000000", ""),
            field("email", "电子邮箱", "E-mail", &f.email, "email", vec![], "", ""),
            field(
                "enterprise_name",
                "企业名称",
                "Enterprise",
                &f.enterprise_name,
                "text",
                vec![],
                "个体经营者可不填 / blank for an individual trader",
                trade,
            ),
            field(
                "credit_code",
                "统一社会信用代码",
                "Unified social credit code",
                &f.credit_code,
                "text",
                vec![],
                "91450681MA5XXXXXXX",
                trade,
            ),
            field(
                "plates",
                "车牌（驾驶员）",
                "Plates (drivers)",
                &f.plates,
                "text",
                vec![],
                "桂A12345 12C-123.45",
                trade,
            ),
            field(
                "validity_option",
                "有效期",
                "Validity",
                &f.validity_option,
                "select",
                self.validity_options.clone(),
                "",
                trade,
            ),
            field(
                "photo_ref",
                "照片编号",
                "Photo reference",
                &f.photo_ref,
                "text",
                vec![],
                "PH-0001",
                passport,
            ),
            field(
                "fee_waived",
                "免收费用",
                "Fee waived",
                &f.fee_waived,
                "select",
                opts(&[("", "否 No"), ("yes", "是 Yes")]),
                "",
                passport,
            ),
        ];
        // Fields of kinds this officer does not take are not on the page at all.
        fields.retain(|v| v.kinds.is_empty() || v.kinds.split(' ').any(|k| self.kinds.iter().any(|(c, _)| c == k)));
        // The first field with an error, else the first field to type in (the kind only when
        // there is a choice to make).
        let first = fields
            .iter()
            .position(|v| !v.errors.is_empty() && !v.hidden)
            .or_else(|| {
                fields
                    .iter()
                    .position(|v| !v.hidden && (v.name != "kind" || self.kinds.len() > 1))
            });
        if let Some(i) = first {
            fields[i].autofocus = true;
        }
        fields
    }

    /// The errors in the order of the form, each named by its label; links go to the field.
    pub fn summary(&self) -> Vec<SummaryLine> {
        let fields = self.fields();
        let mut lines: Vec<(usize, SummaryLine)> = self
            .errors
            .iter()
            .map(|e| {
                let name = field_of(&e.field);
                let at = fields.iter().position(|v| v.name == name);
                let view = at.map(|i| &fields[i]);
                let line = SummaryLine {
                    name: view.map_or("", |v| v.name),
                    label: view.map_or("", |v| v.label),
                    message: e.message.clone(),
                };
                (at.unwrap_or(usize::MAX), line)
            })
            .collect();
        lines.sort_by_key(|(at, _)| *at);
        lines.into_iter().map(|(_, l)| l).collect()
    }
}

#[derive(Template)]
#[template(path = "application.html")]
pub struct ApplicationPage {
    pub nav: Option<Nav>,
    pub app: ApplicationOut,
    pub kind_title: String,
    /// The steps this user may take now (the service's own rules).
    pub offer: actions::Offer,
    /// Portraits are served to the window, supervisors and the checkpoint only.
    pub can_see_portrait: bool,
    pub words: ApplicationWords,
    /// (code, label, deferrable) of the kind's materials checklist.
    pub checklist: Vec<(String, String, bool)>,
    /// A fresh idempotency key per rendering: a double-clicked or resent form issues once.
    pub idempotency_key: String,
    pub error: Option<String>,
    /// The public lookup's standing (None: no receipt printed yet), and whether this user may
    /// print a receipt or lift a lock.
    pub lookup: Option<LookupView>,
    pub can_receipt: bool,
}

/// The progress lookup on the application page, times in China time.
pub struct LookupView {
    pub code_issued_at: String,
    pub failures: i32,
    pub locked_until: Option<String>,
}

/// The receipt handed to the applicant: the number and the lookup code (shown this once).
#[derive(Template)]
#[template(path = "receipt.html")]
pub struct ReceiptPage {
    pub nav: Option<Nav>,
    pub receipt: crate::service::progress::Receipt,
    pub kind_zh: String,
    pub kind_vi: String,
    pub kind_en: String,
    pub issued_at: String,
    /// Where applicants look their progress up, e.g. https://desk.example.cn/progress.
    pub progress_url: String,
}

/// The application's codes in words.
pub struct ApplicationWords {
    pub status: words::Label,
    pub id_type: words::Label,
    pub sex: words::Label,
    pub validity: Option<words::Label>,
    pub office: words::Label,
}

impl ApplicationPage {
    pub fn csrf(&self) -> &str {
        self.nav.as_ref().map_or("", |n| n.csrf.as_str())
    }

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
    /// Printing needs the kind's grant.
    pub can_print: bool,
    pub status: words::Label,
    pub id_type: words::Label,
    pub office: words::Label,
    /// Outstanding items in words, with their due dates.
    pub outstanding: Vec<(words::Label, String)>,
    pub valid_from: String,
    pub valid_until: String,
    pub issued_at: String,
    pub can_revoke: bool,
    pub errors: Vec<FieldError>,
    pub notice: Option<String>,
    /// The permit's prints on blanks, newest first; the first one not replaced is the card in force.
    pub prints: Vec<crate::service::stock::PrintOut>,
    /// The permit may be printed on a blank now (in force, and the actor may print it).
    pub can_print_on_blank: bool,
    /// Errors of the print and reprint forms (kept apart from the revocation's).
    pub print_errors: Vec<FieldError>,
}

impl PermitPage {
    /// The card in force: the newest print not replaced.
    pub fn current_print(&self) -> Option<&crate::service::stock::PrintOut> {
        self.prints.iter().find(|p| !p.replaced)
    }

    pub fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        crate::domain::local(*t).format("%Y-%m-%d %H:%M").to_string()
    }

    /// The reasons a reprint may give, in words.
    pub fn reprint_reasons(&self) -> Vec<(&'static str, crate::domain::freight::Words)> {
        crate::domain::stock::VoidReason::ALL
            .into_iter()
            .filter(|r| r.fits_reprint())
            .map(|r| (r.as_str(), r.words()))
            .collect()
    }
}

#[derive(Template)]
#[template(path = "stock.html")]
pub struct StockPage {
    pub nav: Option<Nav>,
    pub office: words::Label,
    pub stock: crate::service::stock::StockOut,
    pub today: String,
    pub is_today: bool,
    pub can_manage: bool,
    pub errors: Vec<FieldError>,
    pub notice: Option<String>,
    /// What was typed into a refused form, shown again.
    pub form: StockFormValues,
}

#[derive(Debug, Clone, Default)]
pub struct StockFormValues {
    pub first_serial: String,
    pub last_serial: String,
    pub received_from: String,
    pub serial: String,
    pub reason: String,
    pub note: String,
    pub counted: String,
}

impl StockPage {
    pub fn error_for(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field)
    }

    pub fn void_reasons(&self) -> Vec<(&'static str, crate::domain::freight::Words)> {
        crate::domain::stock::VoidReason::ALL
            .into_iter()
            .map(|r| (r.as_str(), r.words()))
            .collect()
    }

    pub fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        crate::domain::local(*t).format("%Y-%m-%d %H:%M").to_string()
    }
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
    pub status: String,
    /// The status is a warning (a pending or suspended permit): shown as such.
    pub warn: bool,
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
#[template(path = "mail_outbox.html")]
pub struct MailPage {
    pub nav: Option<Nav>,
    pub view: crate::service::outbox::OutboxView,
}

impl MailPage {
    /// A stored UTC time on the office's clock (UTC+08:00), as the other pages show times.
    pub fn local(&self, t: &chrono::NaiveDateTime) -> String {
        (*t + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M").to_string()
    }
}

#[derive(Template)]
#[template(path = "sla.html")]
pub struct SlaPage {
    pub nav: Option<Nav>,
    pub view: crate::service::sla::SlaView,
    pub policy: std::sync::Arc<crate::domain::policy::Policy>,
}

impl SlaPage {
    pub fn kind(&self, kind: &crate::domain::permit::PermitKind) -> words::Label {
        words::kind(&self.policy, *kind)
    }

    pub fn status(&self, status: &crate::domain::permit::ApplicationStatus) -> words::Label {
        words::application_status(*status)
    }

    pub fn office(&self, code: &str) -> words::Label {
        words::office(&self.policy, code)
    }

    pub fn material(&self, kind: &crate::domain::permit::PermitKind, code: &str) -> words::Label {
        words::material(&self.policy, *kind, code)
    }
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
    pub office_en: String,
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
    /// Seconds before the page clears a verdict (0 = never).
    pub clear_seconds: u32,
    /// The verdict's stamp when rendered by the server: the code's tail and the local time.
    pub stamp: Option<VerdictStamp>,
}

pub struct VerdictStamp {
    pub tail: String,
    pub time: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desk(kinds: &[&str], kind: &str, errors: Vec<FieldError>) -> DeskPage {
        DeskPage {
            nav: None,
            kinds: kinds.iter().map(|k| (k.to_string(), k.to_string())).collect(),
            validity_options: Vec::new(),
            id_types: Vec::new(),
            form: ApplicationForm {
                kind: kind.into(),
                ..Default::default()
            },
            errors,
            duplicate: None,
            open: Vec::new(),
            recent: Vec::new(),
        }
    }

    fn error(field: &str, message: &str) -> FieldError {
        FieldError {
            field: field.into(),
            rule: "r".into(),
            message: message.into(),
        }
    }

    #[test]
    fn only_the_kinds_fields_and_focus_on_the_first_field_to_type() {
        let page = desk(&["border_tourism"], "border_tourism", Vec::new());
        let names: Vec<&str> = page.fields().iter().map(|f| f.name).collect();
        assert!(
            !names.contains(&"credit_code") && !names.contains(&"photo_ref"),
            "{names:?}"
        );
        let focused: Vec<&str> = page.fields().iter().filter(|f| f.autofocus).map(|f| f.name).collect();
        assert_eq!(focused, ["id_type"], "no choice of kind: the first field to fill");

        let page = desk(&["border_tourism", "border_trade"], "border_tourism", Vec::new());
        let credit = page.fields().into_iter().find(|f| f.name == "credit_code").unwrap();
        assert!(credit.hidden, "another kind's field is on the page but hidden");
        assert!(page.fields()[0].autofocus && page.fields()[0].name == "kind");
    }

    #[test]
    fn errors_are_named_by_label_in_form_order_and_focus_the_first() {
        let page = desk(
            &["border_trade"],
            "border_trade",
            vec![
                error("plates[1]", "bad plate"),
                error("traveller.id_number", "bad number"),
                error("enterprise.credit_code", "bad code"),
            ],
        );
        let summary: Vec<(&str, &str)> = page.summary().iter().map(|l| (l.name, l.label)).collect();
        assert_eq!(
            summary,
            [
                ("id_number", "证件号码"),
                ("credit_code", "统一社会信用代码"),
                ("plates", "车牌（驾驶员）")
            ]
        );
        let fields = page.fields();
        let focused: Vec<&str> = fields.iter().filter(|f| f.autofocus).map(|f| f.name).collect();
        assert_eq!(focused, ["id_number"]);
        let number = fields.iter().find(|f| f.name == "id_number").unwrap();
        assert_eq!(number.described_by(), "err-id_number hint-id_number");
    }
}

#[derive(Template)]
#[template(path = "free_services.html")]
pub struct FreeServicesPage {
    pub nav: Option<Nav>,
    pub today: Vec<crate::service::free::FreeServiceOut>,
    pub errors: Vec<FieldError>,
    pub notice: Option<String>,
    pub form: FreeFormValues,
}

#[derive(Debug, Clone, Default)]
pub struct FreeFormValues {
    pub service: String,
    pub quantity: String,
    pub application_id: String,
    pub recipient_name: String,
    pub note: String,
}

impl FreeServicesPage {
    pub fn error_for(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field)
    }

    /// The services recorded by hand, in words, with their units.
    pub fn services(&self) -> Vec<(&'static str, crate::domain::freight::Words, &'static str)> {
        crate::domain::free::FreeService::ALL
            .into_iter()
            .filter(|s| s.recorded_by_hand())
            .map(|s| (s.as_str(), s.words(), s.unit_zh()))
            .collect()
    }

    pub fn yuan(&self, fen: &i64) -> String {
        crate::domain::free::yuan_text(*fen)
    }

    pub fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        crate::domain::local(*t).format("%H:%M").to_string()
    }
}

#[derive(Template)]
#[template(path = "savings.html")]
pub struct SavingsPage {
    pub nav: Option<Nav>,
    pub office: words::Label,
    pub savings: crate::service::free::SavingsOut,
    /// The bar chart of yuan saved per period, drawn on the server.
    pub chart: chart::BarChart,
    pub errors: Vec<FieldError>,
}

impl SavingsPage {
    pub fn is_period(&self, code: &str) -> bool {
        self.savings.period.as_str() == code
    }

    pub fn periods(&self) -> Vec<(&'static str, crate::domain::freight::Words)> {
        crate::domain::free::Period::ALL
            .into_iter()
            .map(|p| (p.as_str(), p.words()))
            .collect()
    }
}

/// Adjusting the ID photo before it is saved: the working picture with the 33×48 box drawn on
/// it, the quality lines of the photo the box makes, nudges and save.
#[derive(Template)]
#[template(path = "portrait.html")]
pub struct PortraitPage {
    pub nav: Option<Nav>,
    pub application_id: String,
    pub draft: crate::service::portraits::DraftView,
    pub errors: Vec<FieldError>,
}

impl PortraitPage {
    /// The box as percentages of the picture, for drawing it over the picture at any width.
    pub fn box_style(&self) -> String {
        let (w, h) = (f64::from(self.draft.width), f64::from(self.draft.height));
        let c = &self.draft.crop;
        format!(
            "left:{:.3}%;top:{:.3}%;width:{:.3}%;height:{:.3}%",
            f64::from(c.x) * 100.0 / w,
            f64::from(c.y) * 100.0 / h,
            f64::from(c.width()) * 100.0 / w,
            f64::from(c.height) * 100.0 / h
        )
    }

    pub fn passed(&self, line: &crate::domain::portrait::Line) -> bool {
        line.verdict == crate::domain::portrait::Verdict::Pass
    }

    pub fn check_code(&self, line: &crate::domain::portrait::Line) -> &'static str {
        use crate::domain::portrait::Check;
        match line.check {
            Check::Background => "background",
            Check::Exposure => "exposure",
            Check::Sharpness => "sharpness",
            Check::Size => "size",
        }
    }

    pub fn check_words(&self, line: &crate::domain::portrait::Line) -> &'static str {
        use crate::domain::portrait::Check;
        match line.check {
            Check::Background => "背景 Background",
            Check::Exposure => "曝光 Exposure",
            Check::Sharpness => "清晰度 Sharpness",
            Check::Size => "尺寸 Size",
        }
    }
}

/// The register of seals and certificates (授权登记), for the office's supervisors.
#[derive(Template)]
#[template(path = "seals.html")]
pub struct SealsPage {
    pub nav: Option<Nav>,
    pub register: crate::service::seals::RegisterOut,
    pub errors: Vec<FieldError>,
    pub notice: Option<String>,
    pub form: SealFormValues,
}

/// What a refused form sent, to show it again.
#[derive(Debug, Clone, Default)]
pub struct SealFormValues {
    pub kind: String,
    pub name: String,
    pub reference: String,
    pub applies_to: String,
    /// The entry a refused grant or retirement was for.
    pub seal: String,
    pub holder: String,
    pub reason: String,
}

impl SealsPage {
    pub fn error_for(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field)
    }

    pub fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        crate::domain::local(*t).format("%Y-%m-%d %H:%M").to_string()
    }

    pub fn kinds(&self) -> Vec<(&'static str, crate::domain::freight::Words)> {
        crate::domain::seals::SealKind::ALL
            .into_iter()
            .map(|k| (k.as_str(), k.words()))
            .collect()
    }

    pub fn documents(&self) -> Vec<(&'static str, crate::domain::freight::Words)> {
        crate::domain::seals::SealDocument::ALL
            .into_iter()
            .map(|d| (d.as_str(), d.words()))
            .collect()
    }

    /// The entry's name and number, for the uses and grants tables.
    pub fn seal_name(&self, id: &str) -> String {
        self.register
            .seals
            .iter()
            .find(|s| s.id == id)
            .map(|s| format!("{}（{}）", s.name, s.reference))
            .unwrap_or_default()
    }
}
