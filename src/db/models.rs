//! Rows as stored, and their conversion to and from domain values.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::*;
use super::types::Grants;
use crate::domain::auth::{Actor, Role};
use crate::domain::calendar::DayKind;
use crate::domain::ids::IdType;
use crate::domain::permit::{ApplicationStatus, PermitKind, PermitStatus};
use crate::domain::traveller::Sex;
use crate::domain::verdict::{Direction, Reason};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = officers)]
pub struct OfficerRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub grants: Grants,
    pub office: String,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
}

impl OfficerRow {
    /// The actor this officer acts as.
    pub fn actor(&self) -> Actor {
        Actor {
            id: self.id.clone(),
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            grants: self.grants.0.clone(),
            office: self.office.clone(),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id_hash: String,
    pub officer_id: String,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct ApiTokenRow {
    pub id: String,
    pub officer_id: String,
    pub token_hash: String,
    pub label: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = travellers)]
pub struct TravellerRow {
    pub id: String,
    pub name_zh: Option<String>,
    pub name_latin: String,
    pub nationality: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub id_type: IdType,
    pub id_number: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = applications)]
pub struct ApplicationRow {
    pub id: String,
    pub kind: PermitKind,
    pub traveller_id: String,
    pub office: String,
    pub status: ApplicationStatus,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub number: Option<String>,
    pub enterprise_name: Option<String>,
    pub credit_code: Option<String>,
    /// Normalised plates, comma-separated.
    pub plates: Option<String>,
    pub validity_option: Option<String>,
    pub fee_waived: Option<bool>,
    pub photo_ref: Option<String>,
    pub accepted_at: Option<NaiveDateTime>,
    pub accepted_by: Option<String>,
    pub due_at: Option<NaiveDateTime>,
    pub decided_at: Option<NaiveDateTime>,
    pub decided_by: Option<String>,
    pub reason: Option<String>,
    pub attention: Option<String>,
    pub export_batch: Option<String>,
    /// When the holder's portrait was (last) taken.
    pub portrait_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = calendar_days)]
pub struct CalendarDayRow {
    pub day: NaiveDate,
    pub kind: DayKind,
    pub name: String,
    pub updated_at: NaiveDateTime,
    pub updated_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = application_materials)]
pub struct MaterialRow {
    pub application_id: String,
    pub item: String,
    pub provided: bool,
    pub due_date: Option<NaiveDate>,
    pub provided_at: Option<NaiveDateTime>,
    pub provided_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = export_batches)]
pub struct ExportBatchRow {
    pub id: String,
    pub kind: PermitKind,
    pub created_at: NaiveDateTime,
    pub payload: String,
    pub signature: String,
    pub acked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = permits, treat_none_as_default_value = false)]
pub struct PermitRow {
    pub number: String,
    pub series: String,
    pub serial: i64,
    pub application_id: String,
    pub kind: PermitKind,
    pub status: PermitStatus,
    pub traveller_id: String,
    pub office: String,
    pub valid_from: NaiveDateTime,
    pub valid_until: NaiveDateTime,
    pub entries_allowed: i32,
    pub entries_used: i32,
    pub key_id: String,
    pub signed_code: String,
    pub issued_by: String,
    pub issued_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
    pub last_direction: Option<Direction>,
    /// The trust version of the permit's last change that offline verifiers must know.
    pub trust_version: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = crossings)]
// None is bound as NULL rather than DEFAULT, so that diesel writes a batch as one multi-row
// INSERT on SQLite too (with DEFAULT it sends one statement per row).
#[diesel(treat_none_as_default_value = false)]
pub struct CrossingRow {
    pub id: String,
    pub client_id: Option<String>,
    pub permit_number: Option<String>,
    pub code_hash: String,
    pub lane: String,
    pub direction: Direction,
    pub device: String,
    pub at: NaiveDateTime,
    pub verdict: String,
    pub reason: Reason,
    pub cleared_at: Option<NaiveDateTime>,
    /// The permit's movement count after this crossing, when it moved the permit (see
    /// `verdict::moves`); unique per permit.
    pub step: Option<i32>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub officer_id: String,
    pub idem_key: String,
    pub request_hash: String,
    pub permit_number: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = audit_log)]
#[diesel(treat_none_as_default_value = false)]
pub struct AuditRow {
    pub id: String,
    pub at: NaiveDateTime,
    pub actor: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = blank_batches)]
pub struct BlankBatchRow {
    pub id: String,
    pub office: String,
    pub first_serial: i64,
    pub last_serial: i64,
    pub received_from: String,
    pub received_by: String,
    pub received_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = blanks)]
pub struct BlankRow {
    pub serial: i64,
    pub office: String,
    pub batch_id: String,
    pub received_at: NaiveDateTime,
    pub status: crate::domain::stock::BlankStatus,
    pub used_at: Option<NaiveDateTime>,
    pub voided_at: Option<NaiveDateTime>,
    pub void_reason: Option<crate::domain::stock::VoidReason>,
    pub void_note: Option<String>,
    pub voided_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = permit_prints)]
pub struct PermitPrintRow {
    pub id: String,
    pub permit_number: String,
    pub office: String,
    pub blank_serial: i64,
    pub printed_by: String,
    pub printed_at: NaiveDateTime,
    pub replaces: Option<String>,
    pub replace_reason: Option<crate::domain::stock::VoidReason>,
    pub replace_note: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = blank_counts)]
pub struct BlankCountRow {
    pub office: String,
    pub day: NaiveDate,
    pub counted: i64,
    pub expected: i64,
    pub counted_by: String,
    pub counted_at: NaiveDateTime,
    pub explanation: Option<String>,
    pub explained_by: Option<String>,
    pub explained_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = free_services)]
pub struct FreeServiceRow {
    pub id: String,
    pub office: String,
    pub service: crate::domain::free::FreeService,
    pub quantity: i32,
    pub unit_price_fen: i64,
    pub price_from: NaiveDate,
    pub day: NaiveDate,
    pub recipient: Option<String>,
    pub enterprise: Option<String>,
    pub application_id: Option<String>,
    pub permit_number: Option<String>,
    pub note: Option<String>,
    pub given_by: String,
    pub given_at: NaiveDateTime,
}
