//! Editing a client (`clients:update`): its names, contact, kind of business, status and risk, and
//! a new tax id (the stored one is sealed, so the form never shows it back: left blank, it stays).
//! Archiving has its own action on the clients list.

use api_types::clients::{ClientResponse, UpdateClientRequest};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use domain::{BusinessType, ClientId, ClientStatus, Permission, RiskLevel};
use maud::{Markup, html};
use serde::Deserialize;

use api::AppState;

use crate::error::{PageError, PageResult, fixable};
use crate::form::{self, Refusal};
use crate::layout::{self, Nav, csrf};
use crate::session::{CsrfForm, Viewer, see_other};

#[derive(Debug, Default, Deserialize)]
pub struct ClientForm {
    business_name: String,
    legal_name: Option<String>,
    primary_contact_name: Option<String>,
    primary_contact_email: Option<String>,
    primary_contact_phone: Option<String>,
    industry: Option<String>,
    website: Option<String>,
    business_address: Option<String>,
    business_type: Option<String>,
    status: Option<String>,
    risk_level: Option<String>,
    tax_id: Option<String>,
}

impl ClientForm {
    fn from_client(c: &ClientResponse) -> Self {
        ClientForm {
            business_name: c.business_name.clone(),
            legal_name: c.legal_name.clone(),
            primary_contact_name: c.primary_contact_name.clone(),
            primary_contact_email: c.primary_contact_email.clone(),
            primary_contact_phone: c.primary_contact_phone.clone(),
            industry: c.industry.clone(),
            website: c.website.clone(),
            business_address: c.business_address.clone(),
            business_type: c.business_type.map(|b| b.to_string()),
            status: Some(c.status.to_string()),
            risk_level: Some(c.risk_level.to_string()),
            tax_id: None,
        }
    }

    /// The change: every field as the form has it (an emptied one is cleared), the tax id only when
    /// a new one was typed.
    fn request(&self) -> Result<UpdateClientRequest, PageError> {
        Ok(UpdateClientRequest {
            business_name: Some(self.business_name.trim().to_owned()),
            legal_name: Some(form::text(&self.legal_name)),
            tax_id: form::text(&self.tax_id).map(Some),
            primary_contact_name: Some(form::text(&self.primary_contact_name)),
            primary_contact_email: Some(form::text(&self.primary_contact_email)),
            primary_contact_phone: Some(form::text(&self.primary_contact_phone)),
            business_type: Some(parsed(&self.business_type)?),
            industry: Some(form::text(&self.industry)),
            website: Some(form::text(&self.website)),
            status: parsed::<ClientStatus>(&self.status)?.filter(|s| *s != ClientStatus::Archived),
            risk_level: parsed(&self.risk_level)?,
            business_address: Some(form::text(&self.business_address)),
            ..Default::default()
        })
    }
}

fn parsed<T: std::str::FromStr<Err = String>>(value: &Option<String>) -> Result<Option<T>, PageError> {
    form::text(value).map(|v| v.parse::<T>()).transpose().map_err(PageError::BadForm)
}

fn edit_form(viewer: &Viewer, id: ClientId, f: &ClientForm, error: Option<&api::ApiError>) -> Markup {
    let refusal = Refusal(error);
    let text = |name: &str, label: &str, value: &Option<String>, kind: &str| {
        form::input(refusal, name, label, value.as_deref().unwrap_or(""), kind)
    };
    let statuses: Vec<ClientStatus> =
        ClientStatus::ALL.iter().copied().filter(|s| *s != ClientStatus::Archived).collect();
    let back = format!("/clients/{id}");
    let body = html! {
        (layout::head_row("Edit client", Some(html! { a href=(back) { (f.business_name) } }), None))
        form class="card form" method="post" action={ "/clients/" (id) "/edit" } {
            (csrf(viewer))
            (refusal.alert())
            (form::input(refusal, "business_name", "Business name", &f.business_name, "text"))
            (text("legal_name", "Legal name", &f.legal_name, "text"))
            (form::select(refusal, "business_type", "Business type", BusinessType::ALL, form::chosen(&f.business_type), Some("Not recorded")))
            (text("industry", "Industry", &f.industry, "text"))
            (text("primary_contact_name", "Contact name", &f.primary_contact_name, "text"))
            (text("primary_contact_email", "Contact email", &f.primary_contact_email, "email"))
            (text("primary_contact_phone", "Contact phone", &f.primary_contact_phone, "tel"))
            (text("website", "Website", &f.website, "url"))
            (text("business_address", "Business address", &f.business_address, "text"))
            @if f.status.as_deref() != Some(ClientStatus::Archived.as_str()) {
                (form::select(refusal, "status", "Status", &statuses, form::chosen(&f.status), None))
            }
            (form::select(refusal, "risk_level", "Risk", RiskLevel::ALL, form::chosen(&f.risk_level), None))
            (text("tax_id", "New tax id (EIN or SSN; leave blank to keep the current one)", &f.tax_id, "text"))
            div { button class="btn primary" type="submit" { "Save changes" } " " a class="btn" href=(back) { "Cancel" } }
        }
    };
    layout::page(viewer, Nav::Clients, "Edit client", body)
}

/// `GET /clients/{id}/edit`.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<ClientId>,
) -> PageResult<Response> {
    viewer.caller.require(Permission::ClientsUpdate)?;
    let client = state.practice.get_client(&viewer.caller, id).await?;
    Ok(edit_form(&viewer, id, &ClientForm::from_client(&client), None).into_response())
}

/// `POST /clients/{id}/edit`: saves, or shows the form again with each field's problem.
pub async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<ClientId>,
    CsrfForm(f): CsrfForm<ClientForm>,
) -> PageResult<Response> {
    match state.practice.update_client(&viewer.caller, id, f.request()?).await {
        Ok(_) => Ok(see_other(&format!("/clients/{id}"))),
        Err(e) => {
            let e = fixable(e)?;
            Ok((e.status(), edit_form(&viewer, id, &f, Some(&e))).into_response())
        }
    }
}
