//! Engagement use cases: create, read, update, delete, lists per client and per assignee.

use api_types::Page;
use api_types::engagements::{
    CreateEngagementRequest, EngagementListParams, EngagementResponse, UpdateEngagementRequest,
};
use domain::{ClientId, EngagementId, Permission, UserId};
use identity::Caller;
use rust_decimal::Decimal;
use store::engagements::{self, Engagement, EngagementFields, EngagementFilter};
use store::{AuditRecord, TenantTx, users};

use crate::error::NotFoundAs;
use crate::{Practice, PracticeError, PracticeResult};
use domain::validate::Problems;

pub(crate) fn engagement_response(e: Engagement) -> EngagementResponse {
    EngagementResponse {
        id: e.id,
        client_id: e.client_id,
        name: e.name,
        engagement_type: e.engagement_type,
        status: e.status,
        priority: e.priority,
        description: e.description,
        start_date: e.start_date,
        due_date: e.due_date,
        completed_at: e.completed_at,
        estimated_hours: e.estimated_hours,
        actual_hours: e.actual_hours,
        hourly_rate: e.hourly_rate,
        fixed_fee: e.fixed_fee,
        tax_year: e.tax_year,
        assigned_to: e.assigned_to,
        created_at: e.created_at,
        updated_at: e.updated_at,
    }
}

fn hours(p: &mut Problems, field: &str, v: Option<Decimal>) -> Option<Decimal> {
    let h = v?;
    if h < Decimal::ZERO || h > Decimal::from(100_000) || h.scale() > 2 {
        p.add(field, "must be 0 to 100,000 hours with at most 2 decimals");
    }
    Some(h)
}

fn tax_year(p: &mut Problems, v: Option<i32>) -> Option<i32> {
    let y = v?;
    if !(1900..=2200).contains(&y) {
        p.add("tax_year", "must be a year such as 2026");
    }
    Some(y)
}

impl Practice {
    pub async fn create_engagement(
        &self,
        caller: &Caller,
        req: CreateEngagementRequest,
    ) -> PracticeResult<EngagementResponse> {
        caller.require(Permission::EngagementsCreate)?;
        let mut p = Problems::default();
        let fields = EngagementFields {
            client_id: Some(req.client_id),
            name: Some(p.required("name", &req.name, 300)),
            engagement_type: Some(req.engagement_type),
            status: req.status,
            priority: req.priority,
            description: Some(p.text("description", req.description.as_deref(), 10_000)),
            start_date: Some(req.start_date),
            due_date: Some(req.due_date),
            estimated_hours: Some(hours(&mut p, "estimated_hours", req.estimated_hours)),
            actual_hours: None,
            hourly_rate: Some(p.money("hourly_rate", req.hourly_rate, 1_000_000)),
            fixed_fee: Some(p.money("fixed_fee", req.fixed_fee, 1_000_000_000)),
            tax_year: Some(tax_year(&mut p, req.tax_year)),
            assigned_to: Some(req.assigned_to),
        };
        if let (Some(s), Some(d)) = (req.start_date, req.due_date)
            && d < s
        {
            p.add("due_date", "must not be before start_date");
        }
        p.into_result()?;
        let mut tx = self.tx(caller).await?;
        if let Some(user) = req.assigned_to {
            check_staff(&mut tx, user).await?;
        }
        let id = EngagementId::new();
        let e = engagements::create(&mut tx, id, &fields).await.or_not_found("client")?;
        tx.audit(AuditRecord::new("engagement.create", "engagement", id).after(&e));
        tx.commit().await?;
        Ok(engagement_response(e))
    }

    pub async fn get_engagement(
        &self,
        caller: &Caller,
        id: EngagementId,
    ) -> PracticeResult<EngagementResponse> {
        caller.require(Permission::EngagementsRead)?;
        let mut tx = self.tx(caller).await?;
        let e = engagements::get(&mut tx, id, &caller.client_scope()).await.or_not_found("engagement")?;
        tx.commit().await?;
        Ok(engagement_response(e))
    }

    pub async fn update_engagement(
        &self,
        caller: &Caller,
        id: EngagementId,
        req: UpdateEngagementRequest,
    ) -> PracticeResult<EngagementResponse> {
        caller.require(Permission::EngagementsUpdate)?;
        let mut p = Problems::default();
        let fields = EngagementFields {
            client_id: None,
            name: req.name.as_deref().map(|n| p.required("name", n, 300)),
            engagement_type: req.engagement_type,
            status: req.status,
            priority: req.priority,
            description: req.description.as_ref().map(|d| p.text("description", d.as_deref(), 10_000)),
            start_date: req.start_date,
            due_date: req.due_date,
            estimated_hours: req.estimated_hours.map(|h| hours(&mut p, "estimated_hours", h)),
            actual_hours: hours(&mut p, "actual_hours", req.actual_hours),
            hourly_rate: req.hourly_rate.map(|r| p.money("hourly_rate", r, 1_000_000)),
            fixed_fee: req.fixed_fee.map(|f| p.money("fixed_fee", f, 1_000_000_000)),
            tax_year: req.tax_year.map(|y| tax_year(&mut p, y)),
            assigned_to: req.assigned_to,
        };
        p.into_result()?;
        let mut tx = self.tx(caller).await?;
        if let Some(Some(user)) = req.assigned_to {
            check_staff(&mut tx, user).await?;
        }
        let change = engagements::update(&mut tx, id, &fields).await.map_err(|e| match e {
            store::StoreError::NotFound => PracticeError::NotFound("engagement"),
            store::StoreError::Constraint(c) if c.contains("check") => {
                PracticeError::invalid("due_date", "must not be before start_date")
            }
            other => other.into(),
        })?;
        tx.audit(
            AuditRecord::new("engagement.update", "engagement", id)
                .before(&change.before)
                .after(&change.after),
        );
        tx.commit().await?;
        Ok(engagement_response(change.after))
    }

    pub async fn delete_engagement(&self, caller: &Caller, id: EngagementId) -> PracticeResult<()> {
        caller.require(Permission::EngagementsDelete)?;
        let mut tx = self.tx(caller).await?;
        let before = engagements::delete(&mut tx, id).await.or_not_found("engagement")?;
        tx.audit(AuditRecord::new("engagement.delete", "engagement", id).before(&before));
        tx.commit().await?;
        Ok(())
    }

    /// A client's engagements (newest first), or with `assigned_to`, a member's open work by due date.
    pub async fn list_engagements(
        &self,
        caller: &Caller,
        client: Option<ClientId>,
        q: &EngagementListParams,
        limit: usize,
    ) -> PracticeResult<Page<EngagementResponse>> {
        caller.require(Permission::EngagementsRead)?;
        let assigned_to = match q.assigned_to.as_deref() {
            None => None,
            Some("me") => Some(caller.user_id()),
            Some(other) => Some(
                other
                    .parse::<UserId>()
                    .map_err(|_| PracticeError::invalid("assigned_to", "must be a member id or `me`"))?,
            ),
        };
        let scope = caller.client_scope();
        let mut tx = self.tx(caller).await?;
        if let Some(c) = client {
            store::clients::get(&mut tx, c, &scope).await.or_not_found("client")?;
        }
        let filter = EngagementFilter {
            client_id: client,
            assigned_to,
            status: q.status,
            engagement_type: q.engagement_type,
        };
        let page = engagements::list(&mut tx, &scope, &filter, q.cursor.as_deref(), limit).await?;
        tx.commit().await?;
        Ok(Page {
            items: page.items.into_iter().map(engagement_response).collect(),
            next_cursor: page.next_cursor,
        })
    }
}

pub(crate) async fn check_staff(tx: &mut TenantTx, user: UserId) -> PracticeResult<()> {
    match users::get(tx, user).await {
        Ok(m) if m.role.is_staff() => Ok(()),
        Ok(_) | Err(store::StoreError::NotFound) => {
            Err(PracticeError::invalid("assigned_to", "must be a staff member of this organization"))
        }
        Err(e) => Err(e.into()),
    }
}
