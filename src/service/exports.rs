//! The outbound queue to the national passport review system: accepted applications are handed
//! over in signed batches that the upstream system pulls and then acknowledges; acknowledgement
//! is the upload, and starts the review clock.

use base64::Engine;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ed25519_dalek::Signer;
use serde::Serialize;

use super::calendar;
use crate::db::models::{ApplicationRow, ExportBatchRow, TravellerRow};
use crate::db::schema::{applications, export_batches, travellers};
use crate::db::{DbConnection, audit, new_id, ts, utc, write_tx};
use crate::domain::auth::{Action, Actor, authorize};
use crate::domain::calendar::OfficeHours;
use crate::domain::ids::IdType;
use crate::domain::permit::{ApplicationStatus, PermitKind};
use crate::domain::traveller::Sex;
use crate::domain::validation::plausible_key;
use crate::domain::{DomainError, local};
use crate::error::{Error, Result};
use crate::keys::KeyRing;

/// One application as the review system needs it: the full identity number is part of the
/// hand-off (this is the system of record), so exports are for integration accounts only.
#[derive(Debug, Serialize)]
struct ExportedApplication {
    id: String,
    number: Option<String>,
    office: String,
    accepted_at: Option<String>,
    fee_waived: Option<bool>,
    photo_ref: Option<String>,
    name_zh: Option<String>,
    name_latin: String,
    nationality: String,
    sex: Sex,
    birth_date: String,
    id_type: IdType,
    id_number: String,
}

#[derive(Debug, Serialize)]
struct Payload {
    batch_id: String,
    kind: &'static str,
    created_at: String,
    applications: Vec<ExportedApplication>,
}

/// A batch as served: the payload text exactly as signed, and its signature.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Batch {
    pub batch_id: String,
    /// The signed JSON document (verify the signature over these exact bytes).
    pub payload: String,
    /// Ed25519 signature of `payload`, base64url without padding.
    pub signature: String,
    pub key_id: String,
    pub acknowledged: bool,
}

fn out(row: ExportBatchRow, key_id: String) -> Batch {
    Batch {
        batch_id: row.id,
        payload: row.payload,
        signature: row.signature,
        key_id,
        acknowledged: row.acked_at.is_some(),
    }
}

/// The office's batch waiting for acknowledgement, or a new one of every accepted passport
/// application of the actor's office not yet handed over; None when there is nothing to send. Pulling again before acknowledging
/// returns the same batch.
pub fn pull(conn: &mut DbConnection, now: DateTime<Utc>, actor: &Actor, keys: &KeyRing) -> Result<Option<Batch>> {
    authorize(actor, Action::Integrate)?;
    // Only the supervisor's own office's applications go into the batch.
    write_tx(conn, |c| {
        let open: Option<ExportBatchRow> = export_batches::table
            .filter(export_batches::kind.eq(PermitKind::Passport))
            .filter(export_batches::acked_at.is_null())
            // A batch is made of one office's applications (its supervisor pulls it):
            // another office's batch answers as a missing one.
            .filter(
                export_batches::id.nullable().eq_any(
                    applications::table
                        .filter(applications::office.eq(&actor.office))
                        .select(applications::export_batch),
                ),
            )
            .order(export_batches::created_at.asc())
            .select(ExportBatchRow::as_select())
            .first(c)
            .optional()?;
        if let Some(open) = open {
            return Ok(Some(out(open, keys.active_id())));
        }
        let rows: Vec<(ApplicationRow, TravellerRow)> = applications::table
            .inner_join(travellers::table)
            .filter(applications::kind.eq(PermitKind::Passport))
            .filter(applications::office.eq(&actor.office))
            .filter(applications::status.eq(ApplicationStatus::Accepted))
            .filter(applications::export_batch.is_null())
            .order(applications::accepted_at.asc())
            .limit(500)
            .select((ApplicationRow::as_select(), TravellerRow::as_select()))
            .load(c)?;
        if rows.is_empty() {
            return Ok(None);
        }
        let batch_id = new_id();
        let fmt = |t: chrono::NaiveDateTime| local(utc(t)).to_rfc3339();
        let payload = Payload {
            batch_id: batch_id.clone(),
            kind: PermitKind::Passport.as_str(),
            created_at: local(now).to_rfc3339(),
            applications: rows
                .iter()
                .map(|(a, t)| ExportedApplication {
                    id: a.id.clone(),
                    number: a.number.clone(),
                    office: a.office.clone(),
                    accepted_at: a.accepted_at.map(fmt),
                    fee_waived: a.fee_waived,
                    photo_ref: a.photo_ref.clone(),
                    name_zh: t.name_zh.clone(),
                    name_latin: t.name_latin.clone(),
                    nationality: t.nationality.clone(),
                    sex: t.sex,
                    birth_date: t.birth_date.to_string(),
                    id_type: t.id_type,
                    id_number: t.id_number.clone(),
                })
                .collect(),
        };
        let text = serde_json::to_string(&payload).map_err(Error::internal)?;
        let signature =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(keys.active().sign(text.as_bytes()).to_bytes());
        let row = ExportBatchRow {
            id: batch_id.clone(),
            kind: PermitKind::Passport,
            created_at: ts(now),
            payload: text,
            signature,
            acked_at: None,
        };
        diesel::insert_into(export_batches::table).values(&row).execute(c)?;
        let ids: Vec<&String> = rows.iter().map(|(a, _)| &a.id).collect();
        diesel::update(applications::table.filter(applications::id.eq_any(&ids)))
            .set(applications::export_batch.eq(Some(&batch_id)))
            .execute(c)?;
        let after = serde_json::json!({"applications": ids.len()});
        audit::entry(now, Some(&actor.id), "export.create", "export_batch", &batch_id)
            .after(&after)
            .write(c)?;
        Ok(Some(out(row, keys.active_id())))
    })
}

/// The review system has the batch: its applications are uploaded, and each review result is
/// due `sla_working_days` working days from now. Acknowledging twice changes nothing.
pub fn acknowledge(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    policy: &crate::domain::policy::Policy,
    hours: &OfficeHours,
    batch_id: &str,
) -> Result<usize> {
    authorize(actor, Action::Integrate)?;
    if !plausible_key(batch_id) {
        return Err(DomainError::NotFound { what: "export batch" }.into());
    }
    let cal = calendar::load(conn)?;
    let days = policy
        .kind(PermitKind::Passport)
        .map(|k| k.sla_working_days)
        .unwrap_or(1);
    let due = cal.deadline(now, days, hours);
    write_tx(conn, |c| {
        let batch: ExportBatchRow = export_batches::table
            .find(batch_id)
            // A batch is made of one office's applications (its supervisor pulls it):
            // another office's batch answers as a missing one.
            .filter(
                export_batches::id.nullable().eq_any(
                    applications::table
                        .filter(applications::office.eq(&actor.office))
                        .select(applications::export_batch),
                ),
            )
            .select(ExportBatchRow::as_select())
            .first(c)
            .optional()?
            .ok_or(DomainError::NotFound { what: "export batch" })?;
        if batch.acked_at.is_some() {
            return Ok(0);
        }
        diesel::update(export_batches::table.find(batch_id))
            .set(export_batches::acked_at.eq(Some(ts(now))))
            .execute(c)?;
        let n = diesel::update(
            applications::table
                .filter(applications::export_batch.eq(batch_id))
                .filter(applications::status.eq(ApplicationStatus::Accepted)),
        )
        .set((
            applications::status.eq(ApplicationStatus::Uploaded),
            applications::due_at.eq(Some(ts(due))),
            applications::updated_at.eq(ts(now)),
        ))
        .execute(c)?;
        let after = serde_json::json!({"uploaded": n, "review_due": due});
        audit::entry(now, Some(&actor.id), "export.acknowledge", "export_batch", batch_id)
            .after(&after)
            .write(c)?;
        Ok(n)
    })
}

impl super::Ctx {
    /// The batch to hand to the review system (the same one until acknowledged); None when
    /// nothing waits.
    pub async fn pull_export(&self, actor: Actor) -> Result<Option<Batch>> {
        self.tx(move |c, ctx, now| {
            let ring = ctx.keys.ring(c)?;
            pull(c, now, &actor, &ring)
        })
        .await
    }

    /// The review system has the batch; returns how many applications this call marked uploaded.
    pub async fn acknowledge_export(&self, actor: Actor, batch_id: String) -> Result<usize> {
        self.tx(move |c, ctx, now| acknowledge(c, now, &actor, &ctx.policy, &ctx.hours, &batch_id))
            .await
    }
}
