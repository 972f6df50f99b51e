//! Client use cases: create, read, update, archive/restore, delete, list and search, bulk
//! actions, CSV import (all or nothing) and streamed CSV export.

use std::collections::HashMap;

use api_types::Page;
use api_types::clients::{
    BulkAction, BulkClientRequest, BulkClientResponse, ClientExportParams, ClientListParams, ClientResponse,
    ClientSummaryResponse, CreateClientRequest, ImportReport, UpdateClientRequest,
};
use bytes::Bytes;
use domain::tax_id::masked;
use domain::{ClientId, ClientScope, ClientStatus, OrganizationId, Permission, TaxId, TaxIdKind, UserId};
use identity::Caller;
use store::clients::{
    self, BulkChange, Client, ClientFields, ClientFilter, ClientQuery, ClientSort, ClientSummary,
};
use store::{AuditRecord, TenantTx, users};

use crate::error::NotFoundAs;
use crate::{Practice, PracticeError, PracticeResult};
use crate::{csv_io, tax};
use domain::validate::Problems;

/// The most ids one bulk action takes.
pub const MAX_BULK: usize = 1000;
/// The most rows one import takes.
pub const MAX_IMPORT_ROWS: usize = 100_000;

/// Streamed CSV export body.
pub type ExportStream = futures::stream::BoxStream<'static, Result<Bytes, std::io::Error>>;

impl Practice {
    pub(crate) async fn tx(&self, caller: &Caller) -> PracticeResult<TenantTx> {
        Ok(caller.begin(&self.db).await?)
    }

    /// The response shape, with the tax id unsealed for those allowed and masked for the rest.
    /// A tax id as this caller may see it: whole with `clients:tax_id`, else the last four digits.
    fn tax_display(
        &self,
        caller: &Caller,
        client: ClientId,
        kind: Option<TaxIdKind>,
        last4: Option<&str>,
        sealed: Option<&[u8]>,
    ) -> Option<String> {
        match (kind, last4, sealed) {
            (Some(kind), Some(last4), Some(sealed)) if caller.has(Permission::ClientsTaxId) => self
                .keys
                .open(sealed, tax::aad(caller.organization_id, client).as_bytes())
                .ok()
                .and_then(|digits| TaxId::parse(&String::from_utf8_lossy(&digits), Some(kind)).ok())
                .map(|t| t.formatted())
                .or_else(|| Some(masked(kind, last4))),
            (Some(kind), Some(last4), _) => Some(masked(kind, last4)),
            _ => None,
        }
    }

    fn summary_response(&self, caller: &Caller, c: ClientSummary) -> ClientSummaryResponse {
        ClientSummaryResponse {
            tax_id: self.tax_display(
                caller,
                c.id,
                c.tax_id_kind,
                c.tax_id_last4.as_deref(),
                c.tax_id_sealed.as_deref(),
            ),
            id: c.id,
            business_name: c.business_name,
            primary_contact_name: c.primary_contact_name,
            primary_contact_email: c.primary_contact_email,
            business_type: c.business_type,
            industry: c.industry,
            status: c.status,
            risk_level: c.risk_level,
            annual_revenue: c.annual_revenue,
            assigned_to: c.assigned_to,
            tags: c.tags,
            created_at: c.created_at,
        }
    }

    pub(crate) fn client_response(&self, caller: &Caller, c: Client) -> ClientResponse {
        let tax_id = self.tax_display(
            caller,
            c.id,
            c.tax_id_kind,
            c.tax_id_last4.as_deref(),
            c.tax_id_sealed.as_deref(),
        );
        ClientResponse {
            id: c.id,
            business_name: c.business_name,
            legal_name: c.legal_name,
            tax_id,
            tax_id_kind: c.tax_id_kind,
            primary_contact_name: c.primary_contact_name,
            primary_contact_email: c.primary_contact_email,
            primary_contact_phone: c.primary_contact_phone,
            business_type: c.business_type,
            industry: c.industry,
            website: c.website,
            status: c.status,
            risk_level: c.risk_level,
            annual_revenue: c.annual_revenue,
            assigned_to: c.assigned_to,
            tags: c.tags,
            business_address: c.business_address,
            quickbooks_customer_id: c.quickbooks_customer_id,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }

    pub async fn create_client(
        &self,
        caller: &Caller,
        req: CreateClientRequest,
    ) -> PracticeResult<ClientResponse> {
        caller.require(Permission::ClientsCreate)?;
        let id = ClientId::new();
        let mut p = Problems::default();
        let mut fields = self.client_fields(caller.organization_id, id, &req, &mut p, "");
        p.into_result()?;
        let mut tx = self.tx(caller).await?;
        if let Some(user) = fields.assigned_to.flatten() {
            check_assignee(&mut tx, user, "assigned_to").await?;
        }
        if let Some(Some(tax)) = &fields.tax_id {
            reject_known_tax_ids(&mut tx, std::slice::from_ref(&tax.index)).await?;
        }
        fields.status = Some(req.status.unwrap_or(ClientStatus::Active));
        clients::insert_many(&mut tx, &[(id, fields)]).await?;
        let client = clients::get(&mut tx, id, &ClientScope::All).await?;
        tx.audit(AuditRecord::new("client.create", "client", id).after(&client));
        tx.commit().await?;
        Ok(self.client_response(caller, client))
    }

    /// Validates a create request into storable fields (tax id sealed), collecting problems
    /// under `prefix` (e.g. `rows[3].` for imports).
    pub(crate) fn client_fields(
        &self,
        org: OrganizationId,
        id: ClientId,
        req: &CreateClientRequest,
        p: &mut Problems,
        prefix: &str,
    ) -> ClientFields {
        let f = |name: &str| format!("{prefix}{name}");
        let tax_id =
            req.tax_id.as_deref().filter(|t| !t.trim().is_empty()).and_then(|raw| {
                match TaxId::parse(raw, req.tax_id_kind) {
                    Ok(t) => Some(tax::seal(&self.keys, org, id, &t)),
                    Err(e) => {
                        p.add(f("tax_id"), e.to_string());
                        None
                    }
                }
            });
        ClientFields {
            business_name: Some(p.required(&f("business_name"), &req.business_name, 300)),
            legal_name: Some(p.text(&f("legal_name"), req.legal_name.as_deref(), 300)),
            tax_id: Some(tax_id),
            primary_contact_name: Some(p.text(
                &f("primary_contact_name"),
                req.primary_contact_name.as_deref(),
                200,
            )),
            primary_contact_email: Some(
                p.email(&f("primary_contact_email"), req.primary_contact_email.as_deref()),
            ),
            primary_contact_phone: Some(
                p.phone(&f("primary_contact_phone"), req.primary_contact_phone.as_deref()),
            ),
            business_type: Some(req.business_type),
            industry: Some(p.text(&f("industry"), req.industry.as_deref(), 100)),
            website: Some(p.website(&f("website"), req.website.as_deref())),
            status: req.status,
            risk_level: req.risk_level,
            annual_revenue: Some(p.money(&f("annual_revenue"), req.annual_revenue, 100_000_000_000_000)),
            assigned_to: Some(req.assigned_to),
            tags: Some(p.tags(&f("tags"), &req.tags)),
            business_address: Some(p.text(&f("business_address"), req.business_address.as_deref(), 500)),
        }
    }

    pub async fn get_client(&self, caller: &Caller, id: ClientId) -> PracticeResult<ClientResponse> {
        caller.require(Permission::ClientsRead)?;
        let mut tx = self.tx(caller).await?;
        let client = clients::get(&mut tx, id, &caller.client_scope()).await.or_not_found("client")?;
        tx.commit().await?;
        Ok(self.client_response(caller, client))
    }

    pub async fn update_client(
        &self,
        caller: &Caller,
        id: ClientId,
        req: UpdateClientRequest,
    ) -> PracticeResult<ClientResponse> {
        caller.require(Permission::ClientsUpdate)?;
        if req.status == Some(ClientStatus::Archived) {
            return Err(PracticeError::invalid("status", "archive with POST /v1/clients/{id}/archive"));
        }
        let mut p = Problems::default();
        let tax_id = match &req.tax_id {
            None => None,
            Some(None) => Some(None),
            Some(Some(raw)) if raw.trim().is_empty() => Some(None),
            Some(Some(raw)) => match TaxId::parse(raw, req.tax_id_kind) {
                Ok(t) => Some(Some(tax::seal(&self.keys, caller.organization_id, id, &t))),
                Err(e) => {
                    p.add("tax_id", e.to_string());
                    None
                }
            },
        };
        let fields = ClientFields {
            business_name: req.business_name.as_deref().map(|n| p.required("business_name", n, 300)),
            legal_name: req.legal_name.as_ref().map(|v| p.text("legal_name", v.as_deref(), 300)),
            tax_id,
            primary_contact_name: req
                .primary_contact_name
                .as_ref()
                .map(|v| p.text("primary_contact_name", v.as_deref(), 200)),
            primary_contact_email: req
                .primary_contact_email
                .as_ref()
                .map(|v| p.email("primary_contact_email", v.as_deref())),
            primary_contact_phone: req
                .primary_contact_phone
                .as_ref()
                .map(|v| p.phone("primary_contact_phone", v.as_deref())),
            business_type: req.business_type,
            industry: req.industry.as_ref().map(|v| p.text("industry", v.as_deref(), 100)),
            website: req.website.as_ref().map(|v| p.website("website", v.as_deref())),
            status: req.status,
            risk_level: req.risk_level,
            annual_revenue: req.annual_revenue.map(|v| p.money("annual_revenue", v, 100_000_000_000_000)),
            assigned_to: req.assigned_to,
            tags: req.tags.as_ref().map(|t| p.tags("tags", t)),
            business_address: req
                .business_address
                .as_ref()
                .map(|v| p.text("business_address", v.as_deref(), 500)),
        };
        p.into_result()?;
        let mut tx = self.tx(caller).await?;
        if let Some(Some(user)) = fields.assigned_to {
            check_assignee(&mut tx, user, "assigned_to").await?;
        }
        if let Some(Some(tax)) = &fields.tax_id {
            let existing = clients::with_tax_index(&mut tx, std::slice::from_ref(&tax.index)).await?;
            if existing.iter().any(|other| *other != id) {
                return Err(PracticeError::Conflict("another client already has this tax id".into()));
            }
        }
        let change = clients::update(&mut tx, id, &fields).await.or_not_found("client")?;
        tx.audit(AuditRecord::new("client.update", "client", id).before(&change.before).after(&change.after));
        tx.commit().await?;
        Ok(self.client_response(caller, change.after))
    }

    pub async fn delete_client(&self, caller: &Caller, id: ClientId) -> PracticeResult<()> {
        caller.require(Permission::ClientsDelete)?;
        let mut tx = self.tx(caller).await?;
        let before = clients::soft_delete(&mut tx, id).await.or_not_found("client")?;
        tx.audit(AuditRecord::new("client.delete", "client", id).before(&before));
        tx.commit().await?;
        Ok(())
    }

    /// Archives or restores one client.
    pub async fn set_client_archived(
        &self,
        caller: &Caller,
        id: ClientId,
        archived: bool,
    ) -> PracticeResult<ClientResponse> {
        caller.require(Permission::ClientsUpdate)?;
        let mut tx = self.tx(caller).await?;
        clients::get(&mut tx, id, &ClientScope::All).await.or_not_found("client")?;
        archive_or_restore(&mut tx, &[id], archived).await?;
        let client = clients::get(&mut tx, id, &ClientScope::All).await?;
        tx.commit().await?;
        Ok(self.client_response(caller, client))
    }

    pub async fn list_clients(
        &self,
        caller: &Caller,
        q: &ClientListParams,
        limit: usize,
    ) -> PracticeResult<Page<ClientSummaryResponse>> {
        caller.require(Permission::ClientsRead)?;
        let mut p = Problems::default();
        let filter = parse_filter(caller, &mut p, FilterArgs::from(q));
        let sort = match q.sort.as_deref() {
            None | Some("name") => ClientSort::Name,
            Some("created") => ClientSort::Created,
            Some("revenue") => ClientSort::Revenue,
            Some(_) => {
                p.add("sort", "must be name, created or revenue");
                ClientSort::Name
            }
        };
        let descending = match q.order.as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(_) => {
                p.add("order", "must be asc or desc");
                false
            }
        };
        let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let query = search.map(|s| self.client_query(caller.organization_id, s, &mut p));
        if search.is_some() && q.cursor.is_some() {
            p.add("cursor", "search results are one ranked page; refine `q` instead of paging");
        }
        p.into_result()?;
        let mut tx = self.tx(caller).await?;
        let scope = caller.client_scope();
        let page = match query.flatten() {
            Some(query) => {
                let rows = clients::search(&mut tx, &scope, &filter, &query, limit).await?;
                store::cursor::Page { items: rows, next_cursor: None }
            }
            None => {
                clients::list(&mut tx, &scope, &filter, sort, descending, q.cursor.as_deref(), limit).await?
            }
        };
        tx.commit().await?;
        Ok(Page {
            items: page.items.into_iter().map(|c| self.summary_response(caller, c)).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// A search: an exact tax id, or words (prefix full text plus trigram similarity).
    fn client_query(&self, org: OrganizationId, q: &str, p: &mut Problems) -> Option<ClientQuery> {
        if q.chars().count() > 200 {
            p.add("q", "must be at most 200 characters");
            return None;
        }
        // A formatted number names its kind; nine bare digits may be either.
        let candidates: Vec<TaxId> = match TaxId::parse(q, None) {
            Ok(t) => vec![t],
            Err(_) => [domain::TaxIdKind::Ein, domain::TaxIdKind::Ssn]
                .into_iter()
                .filter_map(|k| TaxId::parse(q, Some(k)).ok())
                .collect(),
        };
        if !candidates.is_empty() {
            let indexes = candidates.iter().map(|t| tax::index(&self.keys, org, t).to_vec()).collect();
            return Some(ClientQuery::TaxId { indexes });
        }
        let words: Vec<String> = q
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .take(8)
            .map(|w| w.to_lowercase())
            .collect();
        if words.is_empty() {
            p.add("q", "needs at least one letter or digit");
            return None;
        }
        let tsquery = words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & ");
        let prefix = q.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        Some(ClientQuery::Words { raw: q.to_owned(), prefix, tsquery })
    }

    pub async fn bulk_clients(
        &self,
        caller: &Caller,
        req: BulkClientRequest,
    ) -> PracticeResult<BulkClientResponse> {
        caller.require(Permission::ClientsUpdate)?;
        let mut ids = req.ids.clone();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() || ids.len() > MAX_BULK {
            return Err(PracticeError::invalid("ids", format!("give 1 to {MAX_BULK} client ids")));
        }
        let mut tx = self.tx(caller).await?;
        let found = clients::existing(&mut tx, &ids).await?;
        if found.len() != ids.len() {
            let missing: Vec<String> =
                ids.iter().filter(|id| !found.contains(id)).map(|id| id.to_string()).collect();
            return Err(PracticeError::Missing(format!(
                "no such client: {}; nothing was changed",
                missing.join(", ")
            )));
        }
        let changed = match req.action {
            BulkAction::Archive => archive_or_restore(&mut tx, &ids, true).await?,
            BulkAction::Restore => archive_or_restore(&mut tx, &ids, false).await?,
            BulkAction::Activate => {
                bulk_change(&mut tx, &ids, &BulkChange::Status(ClientStatus::Active)).await?
            }
            BulkAction::SetStatus => {
                let status = req.status.filter(|s| *s != ClientStatus::Archived).ok_or_else(|| {
                    PracticeError::invalid("status", "set_status needs a status other than archived")
                })?;
                bulk_change(&mut tx, &ids, &BulkChange::Status(status)).await?
            }
            BulkAction::Assign => {
                if let Some(user) = req.assigned_to {
                    check_assignee(&mut tx, user, "assigned_to").await?;
                }
                bulk_change(&mut tx, &ids, &BulkChange::Assign(req.assigned_to)).await?
            }
        };
        tx.commit().await?;
        Ok(BulkClientResponse { changed: changed.len(), unchanged: ids.len() - changed.len() })
    }

    /// Imports clients from CSV: every row valid ⇒ all imported in one transaction; any row
    /// rejected ⇒ nothing imported and a report of each rejected row's reasons.
    pub async fn import_clients(
        &self,
        caller: &Caller,
        body: &[u8],
        dry_run: bool,
    ) -> PracticeResult<ImportReport> {
        caller.require(Permission::ClientsCreate)?;
        let parsed = csv_io::parse_import(body, MAX_IMPORT_ROWS)?;
        let mut tx = self.tx(caller).await?;
        let members: HashMap<String, UserId> = users::staff_emails(&mut tx).await?.into_iter().collect();
        let mut report =
            ImportReport { rows: parsed.len(), accepted: 0, rejected: Vec::new(), imported: false, dry_run };
        let mut rows: Vec<(ClientId, ClientFields)> = Vec::with_capacity(parsed.len());
        let mut seen_tax: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut row_of_index: Vec<(Vec<u8>, usize)> = Vec::new();
        for row in &parsed {
            let id = ClientId::new();
            let mut p = Problems::default();
            let assigned_to = match row.assigned_to_email.as_deref() {
                Some(email) => match members.get(&email.to_lowercase()) {
                    Some(user) => Some(*user),
                    None => {
                        p.add("assigned_to_email", format!("no staff member with email {email}"));
                        None
                    }
                },
                None => None,
            };
            let mut req = row.request.clone();
            req.assigned_to = assigned_to;
            for (field, message) in &row.problems {
                p.add(field.clone(), message.clone());
            }
            let mut fields = self.client_fields(caller.organization_id, id, &req, &mut p, "");
            fields.status = Some(req.status.unwrap_or(ClientStatus::Active));
            if let Some(Some(tax)) = &fields.tax_id {
                if let Some(first) = seen_tax.insert(tax.index.clone(), row.line) {
                    p.add("tax_id", format!("the same tax id is on line {first}"));
                } else {
                    row_of_index.push((tax.index.clone(), row.line));
                }
            }
            if p.0.is_empty() {
                rows.push((id, fields));
            } else {
                report.rejected.push(api_types::clients::RejectedRow {
                    line: row.line,
                    errors: p.0.into_iter().map(|(f, m)| api_types::FieldError::new(f, m)).collect(),
                });
            }
        }
        let indexes: Vec<Vec<u8>> = row_of_index.iter().map(|(i, _)| i.clone()).collect();
        let known = clients::known_tax_indexes(&mut tx, &indexes).await?;
        for (index, line) in &row_of_index {
            if known.contains(index) {
                report.rejected.push(api_types::clients::RejectedRow {
                    line: *line,
                    errors: vec![api_types::FieldError::new(
                        "tax_id",
                        "a client with this tax id already exists",
                    )],
                });
            }
        }
        report.rejected.sort_by_key(|r| r.line);
        report.accepted = report.rows - report.rejected.len();
        if !report.rejected.is_empty() {
            return Err(PracticeError::ImportRejected(Box::new(report)));
        }
        if dry_run {
            return Ok(report);
        }
        clients::insert_many(&mut tx, &rows).await?;
        for (id, f) in &rows {
            tx.audit(AuditRecord::new("client.create", "client", id).after(serde_json::json!({
                "business_name": f.business_name, "source": "csv_import",
            })));
        }
        tx.commit().await?;
        report.imported = true;
        Ok(report)
    }

    /// Streams the clients matching the filters as CSV, in name order, a thousand rows at a time
    /// from one read transaction.
    pub async fn export_clients(
        &self,
        caller: &Caller,
        q: &ClientExportParams,
    ) -> PracticeResult<ExportStream> {
        caller.require(Permission::ClientsExport)?;
        let mut p = Problems::default();
        let filter = parse_filter(caller, &mut p, FilterArgs::from(q));
        p.into_result()?;
        // The export itself is audited (who took which data out), in its own transaction.
        let mut audit_tx = self.tx(caller).await?;
        audit_tx.audit(AuditRecord {
            action: "client.export",
            entity_type: "client",
            entity_id: None,
            before: None,
            after: serde_json::to_value(q).ok(),
        });
        audit_tx.commit().await?;

        let tx = self.tx(caller).await?;
        let firm = self.clone();
        let caller = caller.clone();
        let scope = caller.client_scope();
        struct State {
            tx: Option<TenantTx>,
            after: Option<(String, ClientId)>,
            header: bool,
        }
        let state = State { tx: Some(tx), after: None, header: false };
        let stream = futures::stream::try_unfold(state, move |mut st| {
            let firm = firm.clone();
            let caller = caller.clone();
            let scope = scope.clone();
            let filter = filter.clone();
            async move {
                if !st.header {
                    st.header = true;
                    return Ok(Some((Bytes::from(csv_io::export_header()), st)));
                }
                let Some(mut tx) = st.tx.take() else {
                    return Ok(None);
                };
                let batch = clients::export_batch(&mut tx, &scope, &filter, st.after.clone(), 1000)
                    .await
                    .map_err(std::io::Error::other)?;
                if batch.is_empty() {
                    tx.commit().await.map_err(std::io::Error::other)?;
                    return Ok(None);
                }
                st.after = batch.last().map(|c| (c.business_name.clone(), c.id));
                let rows: Vec<ClientResponse> =
                    batch.into_iter().map(|c| firm.client_response(&caller, c)).collect();
                st.tx = Some(tx);
                Ok(Some((Bytes::from(csv_io::export_rows(&rows)), st)))
            }
        });
        Ok(Box::pin(stream))
    }
}

/// Archives or restores clients, recording each one that changed; returns those.
async fn archive_or_restore(
    tx: &mut TenantTx,
    ids: &[ClientId],
    archived: bool,
) -> PracticeResult<Vec<ClientId>> {
    let changed = clients::set_archived(tx, ids, archived).await?;
    let action = if archived { "client.archive" } else { "client.restore" };
    for id in &changed {
        tx.audit(AuditRecord::new(action, "client", id));
    }
    Ok(changed)
}

/// Sets one field on many clients, recording each one that changed; returns those.
async fn bulk_change(
    tx: &mut TenantTx,
    ids: &[ClientId],
    change: &BulkChange,
) -> PracticeResult<Vec<ClientId>> {
    let changed = clients::bulk_set(tx, ids, change).await?;
    let (action, after) = match change {
        BulkChange::Status(s) => ("client.set_status", serde_json::json!({ "status": s })),
        BulkChange::Assign(u) => ("client.assign", serde_json::json!({ "assigned_to": u })),
    };
    for id in &changed {
        tx.audit(AuditRecord::new(action, "client", id).after(after.clone()));
    }
    Ok(changed)
}

/// The assignee must be an active staff member of this organization.
async fn check_assignee(tx: &mut TenantTx, user: UserId, field: &str) -> PracticeResult<()> {
    match users::get(tx, user).await {
        Ok(m) if m.role.is_staff() && m.status == domain::UserStatus::Active => Ok(()),
        Ok(_) | Err(store::StoreError::NotFound) => {
            Err(PracticeError::invalid(field, "must be an active staff member of this organization"))
        }
        Err(e) => Err(e.into()),
    }
}

async fn reject_known_tax_ids(tx: &mut TenantTx, indexes: &[Vec<u8>]) -> PracticeResult<()> {
    if !clients::known_tax_indexes(tx, indexes).await?.is_empty() {
        return Err(PracticeError::Conflict("a client with this tax id already exists".into()));
    }
    Ok(())
}

/// The filter parameters shared by the list and the export.
struct FilterArgs<'a> {
    status: Option<&'a str>,
    business_type: Option<domain::BusinessType>,
    industry: Option<&'a str>,
    risk_level: Option<domain::RiskLevel>,
    assigned_to: Option<&'a str>,
    tags: Option<&'a str>,
    created_from: Option<chrono::DateTime<chrono::Utc>>,
    created_to: Option<chrono::DateTime<chrono::Utc>>,
}

macro_rules! filter_args_from {
    ($t:ty) => {
        impl<'a> From<&'a $t> for FilterArgs<'a> {
            fn from(q: &'a $t) -> Self {
                FilterArgs {
                    status: q.status.as_deref(),
                    business_type: q.business_type,
                    industry: q.industry.as_deref(),
                    risk_level: q.risk_level,
                    assigned_to: q.assigned_to.as_deref(),
                    tags: q.tags.as_deref(),
                    created_from: q.created_from,
                    created_to: q.created_to,
                }
            }
        }
    };
}
filter_args_from!(ClientListParams);
filter_args_from!(ClientExportParams);

fn parse_filter(caller: &Caller, p: &mut Problems, a: FilterArgs<'_>) -> ClientFilter {
    let FilterArgs {
        status,
        business_type,
        industry,
        risk_level,
        assigned_to,
        tags,
        created_from,
        created_to,
    } = a;
    let status = status.map(|s| {
        s.split(',')
            .filter(|v| !v.trim().is_empty())
            .filter_map(|v| match v.parse::<ClientStatus>() {
                Ok(st) => Some(st),
                Err(e) => {
                    p.add("status", e);
                    None
                }
            })
            .collect::<Vec<_>>()
    });
    let assigned_to = assigned_to.and_then(|a| match a {
        "me" => Some(caller.user_id()),
        other => match other.parse::<UserId>() {
            Ok(u) => Some(u),
            Err(_) => {
                p.add("assigned_to", "must be a member id or `me`");
                None
            }
        },
    });
    let tags =
        tags.map(|t| t.split(',').map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()).collect());
    ClientFilter {
        status,
        business_type,
        industry: industry.map(str::to_owned),
        risk_level,
        assigned_to,
        tags,
        created_from,
        created_to,
    }
}
