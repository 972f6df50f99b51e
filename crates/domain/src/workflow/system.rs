//! The eight system templates every firm starts with (the reference's, with its roles, hours
//! and due offsets). Firms copy one to change it; the originals are read-only.

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::template::{StepDef, StepKind, TaskType, Template, TemplateCategory};
use crate::{Role, WorkflowTemplateId};

/// A system template's stable identifier (its `type` in the reference) and its content.
pub struct SystemTemplate {
    pub code: &'static str,
    pub template: Template,
}

impl SystemTemplate {
    /// The same id in every firm and every release: a UUIDv8 from the SHA-256 of the code, so a
    /// run can name the system template it came from without a row per firm.
    pub fn id(&self) -> WorkflowTemplateId {
        system_id(self.code)
    }

    /// Content revision: bumped by hand when a system template's steps change.
    pub const VERSION: i32 = 1;
}

fn system_id(code: &str) -> WorkflowTemplateId {
    let digest = Sha256::digest(format!("countinghouse:system-template:{code}"));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    WorkflowTemplateId::from_uuid(uuid::Builder::from_custom_bytes(bytes).into_uuid())
}

/// The system template with this id, if it is one.
pub fn system_template(id: WorkflowTemplateId) -> Option<SystemTemplate> {
    system_templates().into_iter().find(|t| t.id() == id)
}

/// `(key, name, role, hours ×10, due offset days, depends on)`; `None` dependencies mean "the
/// step before", as in all but one of the reference's templates.
type Row = (&'static str, &'static str, Role, i64, u16, Option<&'static [&'static str]>, TaskType);

use Role::{Cpa, SeniorCpa, Staff};
use TaskType::{
    ClientMeeting as Meet, DataEntry as Entry, DocumentReview as Docs, Preparation as Prep, Review,
};

const MONTHLY_BOOKKEEPING: &[Row] = &[
    ("collect_documents", "Collect bank and card statements", Staff, 10, 25, None, Docs),
    ("bank_reconciliation", "Reconcile bank accounts", Cpa, 20, 20, None, Entry),
    ("categorize", "Categorize transactions", Staff, 20, 18, None, Entry),
    ("review_entries", "Review journal entries", Cpa, 10, 15, None, Review),
    ("reports", "Generate financial reports", Cpa, 10, 10, None, Prep),
    ("client_review", "Client review meeting", Cpa, 10, 5, None, Meet),
];

const TAX_RETURN_1040: &[Row] = &[
    ("send_organizer", "Send tax organizer", Staff, 5, 90, None, Prep),
    ("receive_documents", "Receive client documents", Staff, 10, 60, None, Docs),
    ("data_entry", "Enter tax data", Cpa, 30, 45, None, Entry),
    ("calculations", "Review calculations", Cpa, 25, 30, None, Prep),
    ("review", "Senior review", SeniorCpa, 10, 20, None, Review),
    ("client_approval", "Client approval", Cpa, 5, 15, None, Meet),
    ("file", "E-file the return", Cpa, 5, 5, None, Prep),
];

const TAX_RETURN_1120: &[Row] = &[
    ("planning", "Planning meeting", Cpa, 20, 0, None, Meet),
    ("financial_statements", "Prepare financial statements", Cpa, 80, 0, None, Prep),
    ("book_tax_differences", "Book-tax differences", Cpa, 40, 0, None, Prep),
    ("depreciation", "Depreciation schedules", Cpa, 30, 0, None, Entry),
    ("form_1120", "Prepare Form 1120", Cpa, 60, 0, None, Prep),
    ("senior_review", "Senior review", SeniorCpa, 30, 0, None, Review),
    ("client_presentation", "Client presentation", Cpa, 20, 0, None, Meet),
    ("file", "File the return", Cpa, 10, 0, None, Prep),
];

const TAX_RETURN_1065: &[Row] = &[
    ("partnership_agreement", "Review partnership agreement", Cpa, 20, 0, None, Docs),
    ("k1s", "Prepare K-1s", Cpa, 40, 0, None, Prep),
    ("form_1065", "Prepare Form 1065", Cpa, 40, 0, None, Prep),
    ("review", "Senior review", SeniorCpa, 20, 0, None, Review),
    ("distribute_k1s", "Distribute K-1s", Staff, 10, 0, None, Prep),
    ("file", "File the return", Cpa, 15, 0, None, Prep),
];

const ONBOARDING: &[Row] = &[
    ("consultation", "Initial consultation", Cpa, 15, 0, None, Meet),
    ("engagement_letter", "Engagement letter", Cpa, 10, 0, None, Prep),
    ("portal_setup", "Set up portal access", Staff, 5, 0, None, Entry),
    ("collect_documents", "Collect documents", Staff, 20, 0, None, Docs),
    ("accounting_setup", "Accounting system setup", Cpa, 30, 0, None, Entry),
    ("training", "Client training", Cpa, 15, 0, None, Meet),
    ("first_deliverable", "First deliverable", Cpa, 40, 0, None, Prep),
];

const YEAR_END: &[Row] = &[
    ("preliminary_review", "Preliminary review", Cpa, 20, 0, None, Review),
    ("adjusting_entries", "Adjusting entries", Cpa, 30, 0, None, Entry),
    ("depreciation", "Depreciation", Cpa, 20, 0, None, Entry),
    ("accruals", "Accruals", Cpa, 20, 0, None, Entry),
    ("trial_balance", "Trial balance", Cpa, 20, 0, None, Prep),
    ("financial_statements", "Financial statements", Cpa, 40, 0, None, Prep),
    ("closing_entries", "Closing entries", Cpa, 10, 0, None, Entry),
    ("present_results", "Present results", Cpa, 20, 0, None, Meet),
];

const QUARTERLY_ESTIMATES: &[Row] = &[
    ("gather_data", "Gather year-to-date data", Staff, 10, 0, None, Docs),
    ("calculate", "Calculate the estimate", Cpa, 15, 0, None, Prep),
    ("vouchers", "Prepare vouchers", Staff, 10, 0, None, Prep),
    ("notify", "Notify the client", Staff, 5, 0, None, Meet),
];

const FINANCIAL_STATEMENTS: &[Row] = &[
    ("chart_of_accounts", "Analyze the chart of accounts", Cpa, 20, 0, Some(&[]), Review),
    ("balance_sheet", "Balance sheet", Cpa, 20, 0, Some(&["chart_of_accounts"]), Prep),
    ("income_statement", "Income statement", Cpa, 20, 0, Some(&["chart_of_accounts"]), Prep),
    ("cash_flow", "Cash flow statement", Cpa, 20, 0, Some(&["balance_sheet", "income_statement"]), Prep),
    ("notes", "Notes to the statements", Cpa, 20, 0, Some(&["cash_flow"]), Prep),
    ("final_review", "Final review", SeniorCpa, 20, 0, Some(&["notes"]), Review),
];

/// All eight, in the reference's order.
pub fn system_templates() -> Vec<SystemTemplate> {
    use TemplateCategory::*;
    [
        ("monthly_bookkeeping", "Monthly Bookkeeping Process", Bookkeeping, MONTHLY_BOOKKEEPING),
        ("tax_return_1040", "Individual Tax Return (1040)", TaxPreparation, TAX_RETURN_1040),
        ("tax_return_1120", "Corporate Tax Return (1120)", TaxPreparation, TAX_RETURN_1120),
        ("tax_return_1065", "Partnership Tax Return (1065)", TaxPreparation, TAX_RETURN_1065),
        ("new_client_onboarding", "New Client Onboarding", Onboarding, ONBOARDING),
        ("year_end_closing", "Year-End Closing Process", YearEnd, YEAR_END),
        ("quarterly_tax_estimates", "Quarterly Tax Estimates", Compliance, QUARTERLY_ESTIMATES),
        (
            "financial_statement_preparation",
            "Financial Statement Preparation",
            Bookkeeping,
            FINANCIAL_STATEMENTS,
        ),
    ]
    .into_iter()
    .map(|(code, name, category, rows)| SystemTemplate {
        code,
        template: Template { name: name.into(), category, description: None, steps: steps(rows) },
    })
    .collect()
}

fn steps(rows: &[Row]) -> Vec<StepDef> {
    rows.iter()
        .enumerate()
        .map(|(i, &(key, name, role, tenths, offset, deps, task_type))| StepDef {
            key: key.into(),
            name: name.into(),
            kind: if task_type == Review && role == SeniorCpa { StepKind::Approval } else { StepKind::Task },
            task_type,
            automation: None,
            depends_on: match deps {
                Some(d) => d.iter().map(|k| (*k).to_owned()).collect(),
                None if i == 0 => Vec::new(),
                None => vec![rows[i - 1].0.to_owned()],
            },
            role: Some(role),
            skill: None,
            estimated_hours: Decimal::new(tenths, 1),
            due_offset_days: offset,
            wait_days: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_system_template_is_valid_and_has_the_reference_hours() {
        let all = system_templates();
        assert_eq!(all.len(), 8);
        let hours: Vec<String> =
            all.iter().map(|t| t.template.estimated_hours().normalize().to_string()).collect();
        assert_eq!(hours, ["8", "9", "29", "14.5", "13.5", "18", "4", "12"]);
        for t in &all {
            assert_eq!(t.template.validate(), Ok(()), "{}", t.code);
        }
        let fsp = &all[7].template;
        assert_eq!(fsp.stages()[1], vec![1, 2], "balance sheet and income statement run in parallel");
        let id = all[1].id();
        assert_eq!(id.as_uuid().get_version_num(), 8);
        assert_eq!(system_template(id).map(|t| t.code), Some("tax_return_1040"));
        assert!(system_template(WorkflowTemplateId::new()).is_none());
    }
}
