//! Deterministic company generation: a chart of accounts, then customers, vendors and items, then
//! transactions that reference them the way real books do (invoices bill customers for items,
//! payments settle invoices, bill payments settle bills, deposits gather payments, journal
//! entries balance). A `ChaCha8Rng` seeded from the spec makes the same spec give the same data.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use crate::model::*;

/// Which generated accounts play which part, so transactions post to sensible accounts.
#[derive(Clone, Debug, Default)]
pub struct ChartRoles {
    pub checking: u64,
    pub ar: u64,
    pub ap: u64,
    pub undeposited: u64,
    pub credit_card: u64,
    pub equity: u64,
    pub interest: u64,
    pub cogs: u64,
    pub income: Vec<u64>,
    pub expense: Vec<u64>,
}

impl ChartRoles {
    pub fn assign(&mut self, name: &str, account_type: &str, id: u64) {
        match name {
            "Checking" => self.checking = id,
            "Accounts Receivable (A/R)" => self.ar = id,
            "Accounts Payable (A/P)" => self.ap = id,
            "Undeposited Funds" => self.undeposited = id,
            "Visa Credit Card" => self.credit_card = id,
            "Opening Balance Equity" => self.equity = id,
            "Interest Earned" => self.interest = id,
            "Cost of Goods Sold" => self.cogs = id,
            _ => {}
        }
        match account_type {
            "Income" => self.income.push(id),
            "Expense" => self.expense.push(id),
            _ => {}
        }
    }

    pub fn income_for(&self, n: u64) -> u64 {
        if self.income.is_empty() { 0 } else { self.income[n as usize % self.income.len()] }
    }
}

/// What generating a record reads from the books it joins: which accounts play which part, and
/// existing records to reference. The company implements it, so the company calls the generator
/// and the generator never names the company.
pub trait Books {
    fn roles(&self) -> &ChartRoles;

    fn get(&self, entity: EntityType, id: u64) -> Option<&Stored>;

    /// A random existing record of `entity`.
    fn pick(&self, entity: EntityType, rng: &mut ChaCha8Rng) -> Option<&Stored>;

    /// A reference to the record (or a dangling one when a tiny company has none).
    fn ref_to(&self, record: Option<&Stored>) -> Ref {
        match record {
            Some(r) => Ref::to(r.id, r.body.display()),
            None => Ref { value: "0".into(), name: None, kind: None },
        }
    }

    fn account_ref(&self, id: u64) -> Ref {
        Ref::to(id, self.account_name(id))
    }

    fn account_name(&self, id: u64) -> String {
        self.get(EntityType::Account, id).map(|a| a.body.display()).unwrap_or_default()
    }

    /// A random record satisfying `wanted`, by a handful of probes; `None` if none was found.
    fn pick_where(
        &self,
        entity: EntityType,
        rng: &mut ChaCha8Rng,
        wanted: impl Fn(&Stored) -> bool,
    ) -> Option<(u64, Body)> {
        (0..8).filter_map(|_| self.pick(entity, rng)).find(|r| wanted(r)).map(|r| (r.id, r.body.clone()))
    }
}

const GIVEN: [&str; 24] = [
    "Amelia", "Benjamin", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hiro", "Isla", "Jonah", "Keira",
    "Liam", "Maya", "Nikolai", "Olivia", "Pedro", "Quinn", "Rosa", "Samuel", "Tariq", "Uma", "Victor", "Wen",
    "Zara",
];
const FAMILY: [&str; 24] = [
    "Adeyemi",
    "Brennan",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quintero",
    "Rossi",
    "Schmidt",
    "Takahashi",
    "Underwood",
    "Varga",
    "Whitfield",
    "Yilmaz",
];
const TRADES: [&str; 16] = [
    "Dental",
    "Landscaping",
    "Bakery",
    "Plumbing",
    "Design",
    "Consulting",
    "Auto Repair",
    "Florist",
    "Catering",
    "Fitness",
    "Architecture",
    "Printing",
    "Veterinary",
    "Roofing",
    "Bookshop",
    "Brewing",
];
const SUFFIXES: [&str; 4] = ["LLC", "Inc", "Co", "Group"];
const CITIES: [(&str, &str, &str); 8] = [
    ("Portland", "OR", "97201"),
    ("Sacramento", "CA", "95814"),
    ("Boise", "ID", "83702"),
    ("Reno", "NV", "89501"),
    ("Tacoma", "WA", "98402"),
    ("Fresno", "CA", "93721"),
    ("Eugene", "OR", "97401"),
    ("Spokane", "WA", "99201"),
];
const ITEM_WORDS: [&str; 12] = [
    "Hourly Consulting",
    "Installation",
    "Maintenance Plan",
    "Design Session",
    "Repair Service",
    "Annual License",
    "Training Day",
    "Site Visit",
    "Hardware Kit",
    "Replacement Part",
    "Subscription",
    "Rush Fee",
];

/// The chart every company starts with: (name, classification, type, subtype).
const CHART: [(&str, &str, &str, &str); 30] = [
    ("Checking", "Asset", "Bank", "Checking"),
    ("Savings", "Asset", "Bank", "Savings"),
    ("Accounts Receivable (A/R)", "Asset", "Accounts Receivable", "AccountsReceivable"),
    ("Undeposited Funds", "Asset", "Other Current Asset", "UndepositedFunds"),
    ("Inventory Asset", "Asset", "Other Current Asset", "Inventory"),
    ("Furniture and Equipment", "Asset", "Fixed Asset", "FurnitureAndFixtures"),
    ("Accounts Payable (A/P)", "Liability", "Accounts Payable", "AccountsPayable"),
    ("Visa Credit Card", "Liability", "Credit Card", "CreditCard"),
    ("Loan Payable", "Liability", "Long Term Liability", "NotesPayable"),
    ("Opening Balance Equity", "Equity", "Equity", "OpeningBalanceEquity"),
    ("Retained Earnings", "Equity", "Equity", "RetainedEarnings"),
    ("Services", "Revenue", "Income", "ServiceFeeIncome"),
    ("Sales of Product Income", "Revenue", "Income", "SalesOfProductIncome"),
    ("Consulting Income", "Revenue", "Income", "ServiceFeeIncome"),
    ("Interest Earned", "Revenue", "Other Income", "InterestEarned"),
    ("Cost of Goods Sold", "Expense", "Cost of Goods Sold", "SuppliesMaterialsCogs"),
    ("Advertising", "Expense", "Expense", "AdvertisingPromotional"),
    ("Bank Charges", "Expense", "Expense", "BankCharges"),
    ("Insurance", "Expense", "Expense", "Insurance"),
    ("Legal & Professional Fees", "Expense", "Expense", "LegalProfessionalFees"),
    ("Meals and Entertainment", "Expense", "Expense", "EntertainmentMeals"),
    ("Office Expenses", "Expense", "Expense", "OfficeGeneralAdministrativeExpenses"),
    ("Rent or Lease", "Expense", "Expense", "RentOrLeaseOfBuildings"),
    ("Repair & Maintenance", "Expense", "Expense", "RepairMaintenance"),
    ("Utilities", "Expense", "Expense", "Utilities"),
    ("Travel", "Expense", "Expense", "Travel"),
    ("Payroll Expenses", "Expense", "Expense", "PayrollExpenses"),
    ("Supplies", "Expense", "Expense", "SuppliesMaterials"),
    ("Software Subscriptions", "Expense", "Expense", "OtherMiscellaneousServiceCost"),
    ("Automobile", "Expense", "Expense", "Auto"),
];

/// Share (percent) of the non-account entities per type when a company is generated, and the
/// mix of types that "changes over time" create.
pub const MIX: [(EntityType, u32); 10] = [
    (EntityType::Customer, 8),
    (EntityType::Vendor, 3),
    (EntityType::Item, 2),
    (EntityType::Invoice, 30),
    (EntityType::Payment, 15),
    (EntityType::Bill, 12),
    (EntityType::BillPayment, 8),
    (EntityType::Purchase, 12),
    (EntityType::Deposit, 4),
    (EntityType::JournalEntry, 6),
];

pub fn usd() -> Ref {
    Ref { value: "USD".into(), name: Some("United States Dollar".into()), kind: None }
}

fn cents(rng: &mut ChaCha8Rng, low: i64, high: i64) -> Decimal {
    Decimal::new(rng.random_range(low..=high), 2)
}

fn choose<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// A random id from `ids`, or 0 (a dangling reference) when a tiny company lacks the account.
fn choose_id(rng: &mut ChaCha8Rng, ids: &[u64]) -> u64 {
    if ids.is_empty() { 0 } else { ids[rng.random_range(0..ids.len())] }
}

fn address(rng: &mut ChaCha8Rng) -> Address {
    let (city, state, zip) = choose(rng, &CITIES);
    Address {
        line1: format!("{} {} St", rng.random_range(10..9999), choose(rng, &FAMILY)),
        city: city.into(),
        country_sub_division_code: state.into(),
        postal_code: zip.into(),
    }
}

pub fn phone(rng: &mut ChaCha8Rng) -> Phone {
    Phone {
        free_form_number: format!("({}) 555-{:04}", rng.random_range(200..999), rng.random_range(0..10_000)),
    }
}

/// How many entities of each type a company of `entities` gets: the chart of accounts first
/// (30 accounts, plus one sub-account per 1,000 entities), the rest by [`MIX`], with at least one
/// customer, vendor and item whenever transactions exist to reference them.
pub fn plan(entities: usize) -> Vec<(EntityType, usize)> {
    let accounts = entities.min(CHART.len()) + if entities > CHART.len() { entities / 1_000 } else { 0 };
    let accounts = accounts.min(entities);
    let rest = entities - accounts;
    let mut counts: Vec<(EntityType, usize)> =
        MIX.iter().map(|(t, share)| (*t, rest * *share as usize / 100)).collect();
    if rest >= 3 {
        for (_, count) in counts.iter_mut().take(3) {
            *count = (*count).max(1);
        }
    }
    let assigned: usize = counts.iter().map(|(_, n)| n).sum();
    let invoices = &mut counts[3].1;
    if assigned <= rest {
        *invoices += rest - assigned;
    } else {
        *invoices -= (assigned - rest).min(*invoices);
    }
    let mut plan = vec![(EntityType::Account, accounts)];
    plan.extend(counts);
    plan
}

pub fn company_info(rng: &mut ChaCha8Rng, name: &str, as_of: DateTime<Utc>) -> CompanyInfo {
    let addr = address(rng);
    CompanyInfo {
        company_name: name.into(),
        legal_name: format!("{name} {}", choose(rng, &SUFFIXES)),
        company_addr: addr.clone(),
        legal_addr: addr,
        primary_phone: phone(rng),
        email: Email { address: format!("books@{}.example.com", name.to_lowercase().replace(' ', "-")) },
        company_start_date: (as_of - Duration::days(3 * 365)).date_naive(),
        fiscal_year_start_month: "January",
        country: "US",
        supported_languages: "en",
    }
}

/// The account with sequence number `index` (0-based) and the roles the first 30 play.
pub fn account(rng: &mut ChaCha8Rng, index: usize, roles: &mut ChartRoles, id: u64) -> Account {
    let (name, classification, account_type, sub_type, parent) = match CHART.get(index) {
        Some(&(name, classification, account_type, sub_type)) => {
            roles.assign(name, account_type, id);
            (name.to_string(), classification, account_type, sub_type, None)
        }
        None => {
            let parent = CHART[16 + index % 14];
            let project = index - CHART.len() + 1;
            roles.expense.push(id);
            (format!("Project {project}"), parent.1, parent.2, parent.3, Some(parent.0))
        }
    };
    let balance = if classification == "Expense" || classification == "Revenue" {
        Decimal::ZERO
    } else {
        cents(rng, 0, 5_000_000)
    };
    Account {
        fully_qualified_name: parent.map_or_else(|| name.clone(), |p| format!("{p}:{name}")),
        sub_account: parent.is_some(),
        name,
        active: true,
        classification,
        account_type,
        account_sub_type: sub_type,
        current_balance: balance,
        current_balance_with_sub_accounts: balance,
        currency_ref: usd(),
    }
}

pub fn customer(rng: &mut ChaCha8Rng, id: u64) -> Customer {
    let given = choose(rng, &GIVEN);
    let family = choose(rng, &FAMILY);
    let business = rng.random_bool(0.6);
    let display = if business {
        format!("{family} {} {} #{id}", choose(rng, &TRADES), choose(rng, &SUFFIXES))
    } else {
        format!("{given} {family} #{id}")
    };
    Customer {
        fully_qualified_name: display.clone(),
        print_on_check_name: display.clone(),
        company_name: business.then(|| display.clone()),
        display_name: display,
        given_name: given.into(),
        family_name: family.into(),
        active: true,
        job: false,
        taxable: rng.random_bool(0.3),
        primary_email_addr: Email {
            address: format!("{}.{}{id}@example.com", given.to_lowercase(), family.to_lowercase()),
        },
        primary_phone: phone(rng),
        bill_addr: address(rng),
        balance: Decimal::ZERO,
        balance_with_jobs: Decimal::ZERO,
        preferred_delivery_method: "Email",
        currency_ref: usd(),
    }
}

pub fn vendor(rng: &mut ChaCha8Rng, id: u64) -> Vendor {
    let name = format!("{} {} {} #{id}", choose(rng, &FAMILY), choose(rng, &TRADES), choose(rng, &SUFFIXES));
    Vendor {
        print_on_check_name: name.clone(),
        company_name: name.clone(),
        display_name: name,
        active: true,
        vendor1099: rng.random_bool(0.2),
        primary_email_addr: Email { address: format!("ap{id}@vendor.example.com") },
        primary_phone: phone(rng),
        bill_addr: address(rng),
        balance: Decimal::ZERO,
        currency_ref: usd(),
    }
}

pub fn item(rng: &mut ChaCha8Rng, id: u64, company: &impl Books) -> Item {
    let name = format!("{} {id}", choose(rng, &ITEM_WORDS));
    let price = cents(rng, 2_500, 250_000);
    let roles = company.roles();
    Item {
        fully_qualified_name: name.clone(),
        description: format!("{name} as quoted"),
        name,
        active: true,
        item_type: if rng.random_bool(0.7) { "Service" } else { "NonInventory" },
        sku: format!("SKU-{id:06}"),
        unit_price: price,
        purchase_cost: (price * Decimal::new(55, 2)).round_dp(2),
        taxable: rng.random_bool(0.3),
        income_account_ref: company.account_ref(roles.income_for(id)),
        expense_account_ref: company.account_ref(roles.cogs),
    }
}

fn tax_code(taxable: bool) -> Ref {
    Ref { value: if taxable { "TAX" } else { "NON" }.into(), name: None, kind: None }
}

pub fn invoice(rng: &mut ChaCha8Rng, id: u64, date: NaiveDate, company: &impl Books) -> Invoice {
    let customer = company.pick(EntityType::Customer, rng);
    let mut lines = Vec::new();
    let mut total = Decimal::ZERO;
    for n in 1..=rng.random_range(1..=4u32) {
        let item = company.pick(EntityType::Item, rng);
        let (price, taxable) = match item.map(|i| &i.body) {
            Some(Body::Item(item)) => (item.unit_price, item.taxable),
            _ => (cents(rng, 2_500, 50_000), false),
        };
        let qty = Decimal::from(rng.random_range(1..=10));
        let amount = price * qty;
        total += amount;
        lines.push(Line {
            id: Some(n.to_string()),
            line_num: Some(n),
            description: item.map(|i| i.body.display()),
            detail_type: Some("SalesItemLineDetail"),
            sales_item_line_detail: Some(SalesItemLineDetail {
                item_ref: company.ref_to(item),
                unit_price: price,
                qty,
                tax_code_ref: tax_code(taxable),
            }),
            ..Line::amount_only(amount)
        });
    }
    lines.push(Line {
        detail_type: Some("SubTotalLineDetail"),
        sub_total_line_detail: Some(Empty {}),
        ..Line::amount_only(total)
    });
    let email = match customer.map(|c| &c.body) {
        Some(Body::Customer(c)) => c.primary_email_addr.clone(),
        _ => Email { address: "billing@example.com".into() },
    };
    Invoice {
        doc_number: format!("{}", 1000 + id),
        txn_date: date,
        due_date: date + Duration::days(30),
        customer_ref: company.ref_to(customer),
        line: lines,
        txn_tax_detail: TaxDetail { total_tax: Decimal::ZERO },
        total_amt: total,
        balance: total,
        bill_email: email,
        email_status: "EmailSent",
        print_status: "NotSet",
        apply_tax_after_discount: false,
        private_note: None,
        linked_txn: Vec::new(),
        currency_ref: usd(),
    }
}

fn expense_lines(rng: &mut ChaCha8Rng, company: &impl Books, billable: bool) -> (Vec<Line>, Decimal) {
    let roles = company.roles();
    let mut lines = Vec::new();
    let mut total = Decimal::ZERO;
    for n in 1..=rng.random_range(1..=3u32) {
        let amount = cents(rng, 1_500, 400_000);
        total += amount;
        let account = choose_id(rng, &roles.expense);
        lines.push(Line {
            id: Some(n.to_string()),
            line_num: Some(n),
            description: Some(format!("{} expense", company.account_name(account))),
            detail_type: Some("AccountBasedExpenseLineDetail"),
            account_based_expense_line_detail: Some(AccountLineDetail {
                account_ref: company.account_ref(account),
                billable_status: Some(if billable { "Billable" } else { "NotBillable" }),
                tax_code_ref: Some(tax_code(false)),
            }),
            ..Line::amount_only(amount)
        });
    }
    (lines, total)
}

pub fn bill(rng: &mut ChaCha8Rng, id: u64, date: NaiveDate, company: &impl Books) -> Bill {
    let vendor = company.pick(EntityType::Vendor, rng);
    let billable = rng.random_bool(0.1);
    let (line, total) = expense_lines(rng, company, billable);
    Bill {
        doc_number: format!("B-{id:06}"),
        txn_date: date,
        due_date: date + Duration::days(rng.random_range(15..=45)),
        vendor_ref: company.ref_to(vendor),
        ap_account_ref: company.account_ref(company.roles().ap),
        line,
        total_amt: total,
        balance: total,
        private_note: None,
        linked_txn: Vec::new(),
        currency_ref: usd(),
    }
}

pub fn purchase(rng: &mut ChaCha8Rng, id: u64, date: NaiveDate, company: &impl Books) -> Purchase {
    let vendor = company.pick(EntityType::Vendor, rng);
    let roles = company.roles();
    let (payment_type, account) =
        if rng.random_bool(0.4) { ("CreditCard", roles.credit_card) } else { ("Check", roles.checking) };
    let (line, total) = expense_lines(rng, company, false);
    Purchase {
        doc_number: format!("P-{id:06}"),
        txn_date: date,
        account_ref: company.account_ref(account),
        payment_type,
        entity_ref: Ref { kind: Some("Vendor"), ..company.ref_to(vendor) },
        credit: false,
        line,
        total_amt: total,
        private_note: None,
        currency_ref: usd(),
    }
}

pub fn journal_entry(rng: &mut ChaCha8Rng, id: u64, date: NaiveDate, company: &impl Books) -> JournalEntry {
    let roles = company.roles();
    let amount = cents(rng, 5_000, 1_000_000);
    let debit = choose_id(rng, &roles.expense);
    let credit = if rng.random_bool(0.5) { roles.checking } else { roles.equity };
    let line = |n: u32, posting_type: &'static str, account: u64| Line {
        id: Some(n.to_string()),
        description: Some(format!("Adjustment {id}")),
        detail_type: Some("JournalEntryLineDetail"),
        journal_entry_line_detail: Some(JournalLineDetail {
            posting_type,
            account_ref: company.account_ref(account),
        }),
        ..Line::amount_only(amount)
    };
    JournalEntry {
        doc_number: format!("JE-{id:05}"),
        txn_date: date,
        adjustment: false,
        line: vec![line(0, "Debit", debit), line(1, "Credit", credit)],
        total_amt: amount,
        private_note: Some("Month-end accrual".into()),
        currency_ref: usd(),
    }
}

/// A payment against a random open invoice (partly or fully), which lowers that invoice's
/// balance and links it; `None` when the company has no invoice to pay.
pub fn payment(
    rng: &mut ChaCha8Rng,
    id: u64,
    date: NaiveDate,
    company: &impl Books,
) -> (Payment, Option<(u64, Decimal)>) {
    let roles = company.roles().clone();
    let open = company.pick_where(EntityType::Invoice, rng, |s| match &s.body {
        Body::Invoice(i) => i.balance > Decimal::ZERO,
        _ => false,
    });
    let (customer_ref, amount, applied) = match open {
        Some((invoice_id, Body::Invoice(invoice))) => {
            let amount = if rng.random_bool(0.8) {
                invoice.balance
            } else {
                (invoice.balance * Decimal::new(rng.random_range(20..80), 2)).round_dp(2)
            };
            (invoice.customer_ref.clone(), amount, Some((invoice_id, amount)))
        }
        _ => {
            let customer = company.pick(EntityType::Customer, rng);
            (company.ref_to(customer), cents(rng, 1_000, 100_000), None)
        }
    };
    let line = applied
        .map(|(invoice_id, amount)| Line {
            linked_txn: vec![LinkedTxn { txn_id: invoice_id.to_string(), txn_type: "Invoice" }],
            ..Line::amount_only(amount)
        })
        .into_iter()
        .collect();
    let payment = Payment {
        txn_date: date,
        customer_ref,
        deposit_to_account_ref: company.account_ref(roles.undeposited),
        payment_ref_num: format!("{}", 5000 + id),
        line,
        total_amt: amount,
        unapplied_amt: if applied.is_some() { Decimal::ZERO } else { amount },
        process_payment: false,
        private_note: None,
        currency_ref: usd(),
    };
    (payment, applied)
}

/// A payment of a random open bill; returns the bill settled.
pub fn bill_payment(
    rng: &mut ChaCha8Rng,
    id: u64,
    date: NaiveDate,
    company: &impl Books,
) -> (BillPayment, Option<(u64, Decimal)>) {
    let open = company.pick_where(EntityType::Bill, rng, |s| match &s.body {
        Body::Bill(b) => b.balance > Decimal::ZERO,
        _ => false,
    });
    let (vendor_ref, amount, applied) = match open {
        Some((bill_id, Body::Bill(bill))) => {
            (bill.vendor_ref.clone(), bill.balance, Some((bill_id, bill.balance)))
        }
        _ => {
            let vendor = company.pick(EntityType::Vendor, rng);
            (company.ref_to(vendor), cents(rng, 1_000, 100_000), None)
        }
    };
    let line = applied
        .map(|(bill_id, amount)| Line {
            linked_txn: vec![LinkedTxn { txn_id: bill_id.to_string(), txn_type: "Bill" }],
            ..Line::amount_only(amount)
        })
        .into_iter()
        .collect();
    let payment = BillPayment {
        doc_number: format!("BP-{id:06}"),
        txn_date: date,
        vendor_ref,
        pay_type: "Check",
        check_payment: CheckPayment {
            bank_account_ref: company.account_ref(company.roles().checking),
            print_status: "NotSet",
        },
        line,
        total_amt: amount,
        private_note: None,
        currency_ref: usd(),
    };
    (payment, applied)
}

/// A deposit of one to three payments from undeposited funds, or of other income.
pub fn deposit(rng: &mut ChaCha8Rng, date: NaiveDate, company: &impl Books) -> Deposit {
    let roles = company.roles();
    let mut lines = Vec::new();
    let mut total = Decimal::ZERO;
    for _ in 0..rng.random_range(1..=3) {
        match company.pick(EntityType::Payment, rng).map(|s| (s.id, &s.body)) {
            Some((payment_id, Body::Payment(payment))) if rng.random_bool(0.8) => {
                total += payment.total_amt;
                lines.push(Line {
                    linked_txn: vec![LinkedTxn { txn_id: payment_id.to_string(), txn_type: "Payment" }],
                    ..Line::amount_only(payment.total_amt)
                });
            }
            _ => {
                let amount = cents(rng, 100, 50_000);
                total += amount;
                lines.push(Line {
                    detail_type: Some("DepositLineDetail"),
                    deposit_line_detail: Some(AccountLineDetail {
                        account_ref: company.account_ref(roles.interest),
                        billable_status: None,
                        tax_code_ref: None,
                    }),
                    ..Line::amount_only(amount)
                });
            }
        }
    }
    Deposit {
        txn_date: date,
        deposit_to_account_ref: company.account_ref(roles.checking),
        line: lines,
        total_amt: total,
        cash_back_amount: None,
        private_note: None,
        currency_ref: usd(),
    }
}

/// An edit a user might make to an existing record: new contact details, prices, amounts,
/// due dates or notes. `revision` numbers the edit, so notes differ between edits.
pub fn revise(rng: &mut ChaCha8Rng, body: &mut Body, revision: u64) {
    let note = Some(format!("Revised ({revision})"));
    match body {
        Body::CompanyInfo(c) => c.primary_phone = phone(rng),
        Body::Account(a) => {
            a.current_balance += cents(rng, -50_000, 50_000);
            a.current_balance_with_sub_accounts = a.current_balance;
        }
        Body::Customer(c) => {
            c.primary_phone = phone(rng);
            c.bill_addr = address(rng);
        }
        Body::Vendor(v) => v.primary_phone = phone(rng),
        Body::Item(i) => {
            i.unit_price = cents(rng, 2_500, 250_000);
            i.purchase_cost = (i.unit_price * Decimal::new(55, 2)).round_dp(2);
        }
        Body::Invoice(i) => {
            let paid = i.total_amt - i.balance;
            if let Some(line) = i.line.iter_mut().find(|l| l.sales_item_line_detail.is_some()) {
                let detail = line.sales_item_line_detail.as_mut().expect("found by its detail");
                detail.qty += Decimal::ONE;
                line.amount = detail.unit_price * detail.qty;
            }
            let total: Decimal =
                i.line.iter().filter(|l| l.sales_item_line_detail.is_some()).map(|l| l.amount).sum();
            if let Some(subtotal) = i.line.iter_mut().find(|l| l.sub_total_line_detail.is_some()) {
                subtotal.amount = total;
            }
            i.total_amt = total;
            i.balance = (total - paid).max(Decimal::ZERO);
            i.private_note = note;
        }
        Body::Bill(b) => {
            b.due_date += Duration::days(7);
            b.private_note = note;
        }
        Body::Payment(p) => p.private_note = note,
        Body::BillPayment(b) => b.private_note = note,
        Body::JournalEntry(j) => j.private_note = note,
        Body::Purchase(p) => p.private_note = note,
        Body::Deposit(d) => d.private_note = note,
    }
}
