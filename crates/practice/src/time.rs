//! Time use cases: a member's timer (one at a time), manual entries, editing and deleting
//! entries, the week's time sheet, an engagement's time and billing it (work in progress to a
//! draft invoice).
//!
//! Members with `workflows:read` log their own time; changing someone else's entry needs
//! `workflows:update`. Every change of an entry on an engagement (directly, or on a step of a
//! run started for it) recomputes the engagement's `actual_hours` in the same transaction, so
//! the figure never disagrees with the entries.

use std::collections::BTreeSet;

use api_types::invoices::{CreateInvoiceRequest, InvoiceLineInput, InvoiceResponse};
use api_types::time::{
    BillTimeRequest, EngagementTimeResponse, ManualEntryRequest, StartTimerRequest, TimeEntryResponse,
    TimesheetDay, TimesheetResponse, UpdateTimeEntryRequest,
};
use chrono::{NaiveDate, Utc};
use domain::time::{self as rules, Week};
use domain::validate::Problems;
use domain::{EngagementId, Permission, TimeEntryId, WorkflowStepId};
use identity::Caller;
use rust_decimal::Decimal;
use serde_json::json;
use store::time_entries::{self as te, EntryFields, NewEntry, Target, TimeEntryRow};
use store::{AuditRecord, StoreError, TenantTx};

use crate::error::NotFoundAs;
use crate::invoices::{detail_response, insert_invoice, prepare};
use crate::{Practice, PracticeError, PracticeResult};

impl Practice {
    /// Starts the caller's timer on a step or an engagement; a timer already running is
    /// stopped first (both in one transaction).
    pub async fn start_timer(
        &self,
        caller: &Caller,
        req: StartTimerRequest,
    ) -> PracticeResult<TimeEntryResponse> {
        caller.require(Permission::WorkflowsRead)?;
        let mut p = Problems::default();
        let note = p.text("note", req.note.as_deref(), rules::MAX_NOTE);
        p.into_result()?;
        let scope = caller.client_scope();
        let mut tx = self.tx(caller).await?;
        let target = target(&mut tx, &scope, req.step_id, req.engagement_id).await?;
        stop_running(&mut tx, caller).await?;
        let entry = NewEntry {
            id: TimeEntryId::new(),
            user_id: caller.user_id(),
            client_id: target.client_id,
            engagement_id: target.engagement_id,
            step_id: req.step_id,
            started_at: Utc::now(),
            ended_at: None,
            minutes: None,
            billable: req.billable.unwrap_or(true),
            hourly_rate: target.hourly_rate,
            note,
        };
        let row = te::insert(&mut tx, &entry).await.map_err(one_timer)?;
        tx.audit(AuditRecord::new("time_entry.start", "time_entry", row.id).after(&row));
        tx.commit().await?;
        Ok(response(row))
    }

    /// Stops the caller's running timer (404 when none runs).
    pub async fn stop_timer(&self, caller: &Caller) -> PracticeResult<TimeEntryResponse> {
        caller.require(Permission::WorkflowsRead)?;
        let mut tx = self.tx(caller).await?;
        let row = stop_running(&mut tx, caller).await?.ok_or(PracticeError::NotFound("running timer"))?;
        tx.commit().await?;
        Ok(response(row))
    }

    /// The caller's running timer, if one runs.
    pub async fn running_timer(&self, caller: &Caller) -> PracticeResult<Option<TimeEntryResponse>> {
        caller.require(Permission::WorkflowsRead)?;
        let mut tx = self.tx(caller).await?;
        let row = te::running_of(&mut tx, caller.user_id()).await?;
        tx.commit().await?;
        Ok(row.map(response))
    }

    /// Logs finished time by hand: 1 minute to 24 hours, started no later than now.
    pub async fn log_time(
        &self,
        caller: &Caller,
        req: ManualEntryRequest,
    ) -> PracticeResult<TimeEntryResponse> {
        caller.require(Permission::WorkflowsRead)?;
        let mut p = Problems::default();
        rules::check_manual(&mut p, req.started_at, req.minutes, Utc::now());
        rules::check_rate(&mut p, req.hourly_rate);
        let note = p.text("note", req.note.as_deref(), rules::MAX_NOTE);
        if req.step_id.is_none() && req.engagement_id.is_none() {
            p.add("step_id", "name a workflow step or an engagement");
        }
        p.into_result()?;
        let scope = caller.client_scope();
        let mut tx = self.tx(caller).await?;
        let target = target(&mut tx, &scope, req.step_id, req.engagement_id).await?;
        let entry = NewEntry {
            id: TimeEntryId::new(),
            user_id: caller.user_id(),
            client_id: target.client_id,
            engagement_id: target.engagement_id,
            step_id: req.step_id,
            started_at: req.started_at,
            ended_at: Some(req.started_at + chrono::Duration::minutes(req.minutes)),
            minutes: Some(req.minutes as i32),
            billable: req.billable.unwrap_or(true),
            hourly_rate: req.hourly_rate.or(target.hourly_rate),
            note,
        };
        let row = te::insert(&mut tx, &entry).await?;
        let hours = recompute(&mut tx, [row.engagement_id]).await?;
        tx.audit(
            AuditRecord::new("time_entry.create", "time_entry", row.id)
                .after(json!({"entry": row, "engagement_hours": hours})),
        );
        tx.commit().await?;
        Ok(response(row))
    }

    /// Changes an entry: the caller's own, or anyone's with `workflows:update`.
    pub async fn update_time_entry(
        &self,
        caller: &Caller,
        id: TimeEntryId,
        req: UpdateTimeEntryRequest,
    ) -> PracticeResult<TimeEntryResponse> {
        caller.require(Permission::WorkflowsRead)?;
        let scope = caller.client_scope();
        let mut tx = self.tx(caller).await?;
        let row = te::lock(&mut tx, id, &scope).await.or_not_found("time entry")?;
        require_owner(caller, &row)?;
        unbilled(&row)?;
        let running = row.ended_at.is_none();
        if running && (req.started_at.is_some() || req.minutes.is_some()) {
            return Err(PracticeError::Conflict(
                "the timer is running: stop it before changing its start or minutes".into(),
            ));
        }
        let mut p = Problems::default();
        let started_at = req.started_at.unwrap_or(row.started_at);
        let minutes = req.minutes.or(row.minutes.map(i64::from));
        if let Some(m) = minutes
            && (req.started_at.is_some() || req.minutes.is_some())
        {
            rules::check_manual(&mut p, started_at, m, Utc::now());
        }
        let hourly_rate = req.hourly_rate.unwrap_or(row.hourly_rate);
        rules::check_rate(&mut p, hourly_rate);
        let note = match &req.note {
            Some(n) => p.text("note", n.as_deref(), rules::MAX_NOTE),
            None => row.note.clone(),
        };
        p.into_result()?;
        let fields = EntryFields {
            started_at,
            minutes: minutes.map(|m| m as i32),
            billable: req.billable.unwrap_or(row.billable),
            hourly_rate,
            note,
        };
        let change = te::update(&mut tx, id, &fields).await?;
        let hours = recompute(&mut tx, [change.after.engagement_id]).await?;
        tx.audit(
            AuditRecord::new("time_entry.update", "time_entry", id)
                .before(&change.before)
                .after(json!({"entry": change.after, "engagement_hours": hours})),
        );
        tx.commit().await?;
        Ok(response(change.after))
    }

    /// Deletes an entry (a running timer too): the caller's own, or anyone's with
    /// `workflows:update`.
    pub async fn delete_time_entry(&self, caller: &Caller, id: TimeEntryId) -> PracticeResult<()> {
        caller.require(Permission::WorkflowsRead)?;
        let scope = caller.client_scope();
        let mut tx = self.tx(caller).await?;
        let row = te::lock(&mut tx, id, &scope).await.or_not_found("time entry")?;
        require_owner(caller, &row)?;
        unbilled(&row)?;
        let before = te::delete(&mut tx, id).await?;
        let hours = recompute(&mut tx, [before.engagement_id]).await?;
        tx.audit(
            AuditRecord::new("time_entry.delete", "time_entry", id)
                .before(&before)
                .after(json!({"engagement_hours": hours})),
        );
        tx.commit().await?;
        Ok(())
    }

    /// The caller's week (the one holding `day`, default today): each day's finished entries
    /// with totals, billable against not, and the running timer.
    pub async fn timesheet(
        &self,
        caller: &Caller,
        day: Option<NaiveDate>,
    ) -> PracticeResult<TimesheetResponse> {
        caller.require(Permission::WorkflowsRead)?;
        let week = Week::of(day.unwrap_or_else(|| Utc::now().date_naive()));
        let (from, to) = week.bounds();
        let mut tx = self.tx(caller).await?;
        let rows = te::of_user_between(&mut tx, caller.user_id(), from, to).await?;
        let running = te::running_of(&mut tx, caller.user_id()).await?;
        tx.commit().await?;
        let mut days: Vec<TimesheetDay> = week
            .days()
            .map(|date| TimesheetDay {
                date,
                minutes: 0,
                hours: Decimal::ZERO,
                billable_minutes: 0,
                billable_amount: Decimal::ZERO,
                entries: Vec::new(),
            })
            .collect();
        for row in rows.into_iter().filter(|r| r.minutes.is_some()) {
            let Some(i) = week.day_index(row.started_at) else { continue };
            let entry = response(row);
            let day = &mut days[i];
            let minutes = i64::from(entry.minutes.unwrap_or(0));
            day.minutes += minutes;
            if entry.billable {
                day.billable_minutes += minutes;
                day.billable_amount += entry.amount.unwrap_or_default();
            }
            day.entries.push(entry);
        }
        for day in &mut days {
            day.hours = rules::hours(day.minutes);
        }
        let total_minutes = days.iter().map(|d| d.minutes).sum();
        let billable_minutes = days.iter().map(|d| d.billable_minutes).sum();
        Ok(TimesheetResponse {
            week_start: week.monday,
            week_end: week.sunday(),
            previous_week: week.previous().monday,
            next_week: week.next().monday,
            total_minutes,
            total_hours: rules::hours(total_minutes),
            billable_minutes,
            billable_hours: rules::hours(billable_minutes),
            billable_amount: days.iter().map(|d| d.billable_amount).sum(),
            days,
            running: running.map(response),
        })
    }

    /// Bills the engagement's work in progress: its finished billable entries with a rate and no
    /// invoice become the lines of a new draft invoice (one per member and rate), and each entry
    /// names that invoice — in one transaction, the entries locked, so nothing is billed twice.
    /// 422 when there is nothing to bill.
    pub async fn bill_engagement_time(
        &self,
        caller: &Caller,
        id: EngagementId,
        req: BillTimeRequest,
    ) -> PracticeResult<InvoiceResponse> {
        caller.require(Permission::BillingCreate)?;
        let mut tx = self.tx(caller).await?;
        let engagement =
            store::engagements::get(&mut tx, id, &caller.client_scope()).await.or_not_found("engagement")?;
        let entries = te::lock_unbilled(&mut tx, id).await?;
        if entries.is_empty() {
            return Err(PracticeError::invalid(
                "engagement",
                "has no unbilled billable time with a rate: log time (with a rate) first",
            ));
        }
        let invoice = CreateInvoiceRequest {
            client_id: engagement.client_id,
            engagement_id: Some(id),
            number: None,
            title: Some(format!("{}: time", engagement.name)),
            issue_date: None,
            due_date: req.due_date,
            currency: None,
            tax_rate: None,
            discount: None,
            lines: bill_lines(&entries),
            notes: None,
            total: None,
        };
        let prepared = prepare(&invoice)?;
        let detail = insert_invoice(&mut tx, &invoice, prepared).await?;
        let ids: Vec<TimeEntryId> = entries.iter().map(|e| e.id).collect();
        te::mark_billed(&mut tx, &ids, detail.invoice.id).await?;
        tx.audit(AuditRecord::new("engagement.bill_time", "engagement", id).after(json!({
            "invoice_id": detail.invoice.id, "entries": ids, "total": detail.invoice.total})));
        tx.commit().await?;
        Ok(detail_response(detail))
    }

    /// An engagement's entries (newest first) with its hours and work in progress.
    pub async fn engagement_time(
        &self,
        caller: &Caller,
        id: EngagementId,
        cursor: Option<&str>,
        limit: usize,
    ) -> PracticeResult<EngagementTimeResponse> {
        caller.require(Permission::WorkflowsRead)?;
        let mut tx = self.tx(caller).await?;
        let engagement =
            store::engagements::get(&mut tx, id, &caller.client_scope()).await.or_not_found("engagement")?;
        let groups = te::engagement_minutes(&mut tx, id).await?;
        let page = te::of_engagement(&mut tx, id, cursor, limit).await?;
        tx.commit().await?;
        let billable: Vec<_> = groups.iter().filter(|g| g.billable).collect();
        let billable_minutes: i64 = billable.iter().map(|g| i64::from(g.minutes) * g.entries).sum();
        let amount = |billed: bool| -> Decimal {
            billable
                .iter()
                .filter(|g| g.billed == billed)
                .filter_map(|g| {
                    g.hourly_rate.map(|r| rules::amount(i64::from(g.minutes), r) * Decimal::from(g.entries))
                })
                .sum()
        };
        Ok(EngagementTimeResponse {
            engagement_id: id,
            actual_hours: engagement.actual_hours,
            billable_hours: rules::hours(billable_minutes),
            wip_amount: amount(false),
            billed_amount: amount(true),
            items: page.items.into_iter().map(response).collect(),
            next_cursor: page.next_cursor,
        })
    }
}

/// The invoice lines of billed time: one per member and rate, oldest first. A line reads as
/// hours × rate when that product is the entries' amount to the cent; otherwise (rounding per
/// entry) as one amount, the hours in its description.
fn bill_lines(entries: &[TimeEntryRow]) -> Vec<InvoiceLineInput> {
    let mut groups: Vec<(&str, Decimal, i64, Decimal)> = Vec::new();
    for e in entries {
        let (Some(rate), Some(minutes)) = (e.hourly_rate, e.minutes) else { continue };
        let amount = rules::amount(i64::from(minutes), rate);
        match groups.iter_mut().find(|g| g.0 == e.user_name && g.1 == rate) {
            Some(g) => {
                g.2 += i64::from(minutes);
                g.3 += amount;
            }
            None => groups.push((&e.user_name, rate, i64::from(minutes), amount)),
        }
    }
    groups
        .into_iter()
        .map(|(who, rate, minutes, amount)| {
            let hours = rules::hours(minutes);
            let exact = (hours * rate).round_dp(2) == amount;
            InvoiceLineInput {
                description: format!("Time: {who}, {} h at {}/h", hours.normalize(), rate.round_dp(2)),
                quantity: if exact { hours } else { Decimal::ONE },
                unit_price: if exact { rate } else { amount },
            }
        })
        .collect()
}

/// What an entry counts against: a step (and its run's engagement) or an engagement.
async fn target(
    tx: &mut TenantTx,
    scope: &domain::ClientScope,
    step: Option<WorkflowStepId>,
    engagement: Option<EngagementId>,
) -> PracticeResult<Target> {
    match (step, engagement) {
        (None, None) => Err(PracticeError::invalid("step_id", "name a workflow step or an engagement")),
        (Some(s), e) => {
            let t = te::step_target(tx, s, scope).await.or_not_found("workflow step")?;
            if e.is_some() && t.engagement_id != e {
                return Err(PracticeError::invalid(
                    "engagement_id",
                    "is not the engagement of the step's workflow",
                ));
            }
            Ok(t)
        }
        (None, Some(e)) => te::engagement_target(tx, e, scope).await.or_not_found("engagement"),
    }
}

/// Stops the caller's running timer, if any, recomputing its engagement's hours and recording
/// the stop.
async fn stop_running(tx: &mut TenantTx, caller: &Caller) -> PracticeResult<Option<TimeEntryRow>> {
    let Some(running) = te::running_of(tx, caller.user_id()).await? else { return Ok(None) };
    let now = Utc::now();
    let minutes = rules::timer_minutes(running.started_at, now) as i32;
    let row = te::stop(tx, running.id, now, minutes).await?;
    let hours = recompute(tx, [row.engagement_id]).await?;
    tx.audit(
        AuditRecord::new("time_entry.stop", "time_entry", row.id)
            .before(&running)
            .after(json!({"entry": row, "engagement_hours": hours})),
    );
    Ok(Some(row))
}

/// Recomputes each named engagement's `actual_hours`; returns (engagement, before, after).
async fn recompute(
    tx: &mut TenantTx,
    engagements: impl IntoIterator<Item = Option<EngagementId>>,
) -> PracticeResult<Vec<(EngagementId, Decimal, Decimal)>> {
    let mut out = Vec::new();
    for e in engagements.into_iter().flatten().collect::<BTreeSet<_>>() {
        match te::recompute_engagement_hours(tx, e).await {
            Ok(c) => out.push((e, c.before, c.after)),
            // Deleted meanwhile: its entries lost their engagement with it.
            Err(StoreError::NotFound) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(out)
}

fn require_owner(caller: &Caller, row: &TimeEntryRow) -> PracticeResult<()> {
    if row.user_id == caller.user_id() {
        Ok(())
    } else {
        caller.require(Permission::WorkflowsUpdate).map_err(Into::into)
    }
}

/// Billed time is what the invoice says: changing it means deleting that draft invoice first.
fn unbilled(row: &TimeEntryRow) -> PracticeResult<()> {
    match row.invoice_id {
        Some(invoice) => Err(PracticeError::Conflict(format!(
            "this time is billed on invoice {invoice}; delete that draft invoice to change it"
        ))),
        None => Ok(()),
    }
}

/// A second timer started at the same moment by the same member (two tabs) loses the race.
fn one_timer(e: StoreError) -> PracticeError {
    if e.is_conflict_on("time_entries_one_running") {
        PracticeError::Conflict("another timer was started at the same time; stop it first".into())
    } else {
        e.into()
    }
}

pub(crate) fn response(r: TimeEntryRow) -> TimeEntryResponse {
    let minutes = r.minutes.map(i64::from);
    TimeEntryResponse {
        hours: minutes.map(rules::hours),
        amount: match (minutes, r.hourly_rate) {
            (Some(m), Some(rate)) if r.billable => Some(rules::amount(m, rate)),
            _ => None,
        },
        running: r.ended_at.is_none(),
        id: r.id,
        user_id: r.user_id,
        user_name: r.user_name,
        client_id: r.client_id,
        client_name: r.client_name,
        engagement_id: r.engagement_id,
        engagement_name: r.engagement_name,
        step_id: r.step_id,
        step_name: r.step_name,
        run_id: r.run_id,
        started_at: r.started_at,
        ended_at: r.ended_at,
        minutes: r.minutes,
        billable: r.billable,
        hourly_rate: r.hourly_rate,
        note: r.note,
        invoice_id: r.invoice_id,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}
