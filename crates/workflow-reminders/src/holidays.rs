//! The firm's holidays: its own closed days, on top of the US federal ones, that due dates of
//! new runs skip. Anyone in workflows reads them; changing them is a setting (`workflows:update`).

use api_types::workflow_reminders::{HolidayRequest, HolidayResponse};
use chrono::NaiveDate;
use domain::Permission;
use identity::Caller;
use store::firm_holidays::{self, Holiday};
use store::{AuditRecord, StoreError};

use crate::{Reminders, RemindersError, RemindersResult};

fn response(h: Holiday) -> HolidayResponse {
    HolidayResponse { date: h.day, name: h.name, created_at: h.created_at }
}

impl Reminders {
    /// The firm's holidays by date.
    pub async fn list_holidays(&self, caller: &Caller) -> RemindersResult<Vec<HolidayResponse>> {
        caller.require(Permission::WorkflowsRead)?;
        let mut tx = caller.begin(&self.db).await?;
        let rows = firm_holidays::list(&mut tx).await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(response).collect())
    }

    /// Adds a closed day; runs started from now on count it out of their due dates (runs already
    /// started keep theirs). A day the firm already has is a conflict.
    pub async fn add_holiday(
        &self,
        caller: &Caller,
        req: HolidayRequest,
    ) -> RemindersResult<HolidayResponse> {
        caller.require(Permission::WorkflowsUpdate)?;
        let name = req.name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(RemindersError::invalid("name", "must be 1 to 120 characters"));
        }
        let mut tx = caller.begin(&self.db).await?;
        let row = firm_holidays::insert(&mut tx, req.date, name, Some(caller.user_id())).await.map_err(
            |e| match e {
                StoreError::Conflict(_) => {
                    RemindersError::Conflict(format!("{} is already a holiday of the firm", req.date))
                }
                other => other.into(),
            },
        )?;
        tx.audit(AuditRecord::new("firm_holiday.create", "firm_holiday", row.day).after(&row));
        tx.commit().await?;
        Ok(response(row))
    }

    /// Removes the holiday on `day`.
    pub async fn remove_holiday(&self, caller: &Caller, day: NaiveDate) -> RemindersResult<HolidayResponse> {
        caller.require(Permission::WorkflowsUpdate)?;
        let mut tx = caller.begin(&self.db).await?;
        let row = firm_holidays::delete(&mut tx, day).await.map_err(|e| match e {
            StoreError::NotFound => RemindersError::NotFound("holiday"),
            other => other.into(),
        })?;
        tx.audit(AuditRecord::new("firm_holiday.delete", "firm_holiday", row.day).before(&row));
        tx.commit().await?;
        Ok(response(row))
    }
}
