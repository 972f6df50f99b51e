use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::*;

fn raw(json: &str) -> Box<RawValue> {
    RawValue::from_string(json.to_owned()).expect("valid JSON")
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

const INVOICE: &str = r#"{
  "Id": "130", "SyncToken": "3", "domain": "QBO", "sparse": false,
  "MetaData": {"CreateTime": "2024-07-24T10:33:39-07:00", "LastUpdatedTime": "2024-07-25T09:00:01.500-07:00"},
  "DocNumber": "1037", "TxnDate": "2024-07-24", "DueDate": "2024-08-23",
  "CustomerRef": {"value": "20", "name": "Red Rock Diner"},
  "Line": [
    {"Id": "1", "LineNum": 1, "Description": "Rock fountain", "Amount": 12345678901234567.89,
     "DetailType": "SalesItemLineDetail",
     "SalesItemLineDetail": {"ItemRef": {"value": "5", "name": "Rock Fountain"}, "UnitPrice": 0.1, "Qty": 3,
                             "TaxCodeRef": {"value": "TAX"}}},
    {"Amount": 12345678901234567.89, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
  ],
  "TotalAmt": 12345678901234567.89, "Balance": 1.10, "CurrencyRef": {"value": "USD"},
  "LinkedTxn": [{"TxnId": "300", "TxnType": "Payment"}],
  "CustomField": [{"DefinitionId": "1", "Name": "Crew #", "Type": "StringType", "StringValue": "102"}],
  "SomeFutureField": {"nested": [1, 2, 3]}
}"#;

#[test]
fn invoice_amounts_are_exact_and_nothing_is_lost() {
    let record = Record::parse(EntityKind::Invoice, raw(INVOICE)).expect("parses");
    assert_eq!(record.header.id, "130");
    assert_eq!(record.header.sync_token, 3);
    assert_eq!(record.header.active, None);
    assert_eq!(record.header.created, crate::time::parse_datetime("2024-07-24T17:33:39Z"));
    assert_eq!(record.header.last_updated, crate::time::parse_datetime("2024-07-25T16:00:01.5Z"));
    let Entity::Invoice(invoice) = &record.entity else { panic!("an invoice") };
    assert_eq!(invoice.total_amt, Some(dec("12345678901234567.89")), "beyond f64's 15-16 digits");
    assert_eq!(invoice.balance, Some(dec("1.10")));
    assert_eq!(invoice.customer_ref.value, "20");
    assert_eq!(invoice.lines.len(), 2);
    let line = &invoice.lines[0];
    assert_eq!(line.item_ref.as_ref().map(|r| r.value.as_str()), Some("5"));
    assert_eq!(line.unit_price, Some(dec("0.1")));
    assert_eq!(line.qty, Some(dec("3")));
    assert_eq!(line.amount, Some(dec("12345678901234567.89")));
    assert_eq!(invoice.lines[1].detail_type.as_deref(), Some("SubTotalLineDetail"));
    assert_eq!(invoice.linked_txn[0].txn_type, "Payment");
    assert_eq!(record.raw_json(), INVOICE, "the raw JSON is kept byte for byte");
}

#[test]
fn name_lists_carry_active_and_nested_contact_fields() {
    let json = r#"{"Id":"7","SyncToken":"0","Active":false,"DisplayName":"Okafor Dental LLC",
        "PrimaryEmailAddr":{"Address":"books@okafor.example.com"},"PrimaryPhone":{"FreeFormNumber":"(503) 555-0100"},
        "Balance":0,"ParentRef":{"value":"3"},"MetaData":{"CreateTime":"2024-01-01T00:00:00-08:00","LastUpdatedTime":"2024-01-02T00:00:00-08:00"}}"#;
    let record = Record::parse(EntityKind::Customer, raw(json)).expect("parses");
    assert_eq!(record.header.active, Some(false));
    let Entity::Customer(customer) = record.entity else { panic!("a customer") };
    assert_eq!(customer.email.as_deref(), Some("books@okafor.example.com"));
    assert_eq!(customer.phone.as_deref(), Some("(503) 555-0100"));
    assert_eq!(customer.balance, Some(Decimal::ZERO));
    assert_eq!(customer.parent_ref.map(|r| r.value), Some("3".to_owned()));
}

#[test]
fn journal_lines_read_posting_type_and_entity() {
    let json = r#"{"Id":"9","SyncToken":"1","TxnDate":"2024-02-29","TotalAmt":100.00,"Line":[
        {"Id":"0","Amount":100.00,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Debit",
         "AccountRef":{"value":"7","name":"Travel"},"Entity":{"Type":"Vendor","EntityRef":{"value":"56","name":"Bob's"}}}},
        {"Id":"1","Amount":100.00,"DetailType":"JournalEntryLineDetail","JournalEntryLineDetail":{"PostingType":"Credit","AccountRef":{"value":"1"}}}]}"#;
    let record = Record::parse(EntityKind::JournalEntry, raw(json)).expect("parses");
    let Entity::JournalEntry(entry) = record.entity else { panic!("a journal entry") };
    assert_eq!(entry.lines[0].posting_type, Some(PostingType::Debit));
    assert_eq!(entry.lines[0].entity_ref.as_ref().map(|r| r.value.as_str()), Some("56"));
    assert_eq!(entry.lines[1].posting_type, Some(PostingType::Credit));
    assert_eq!(entry.total_amt, Some(dec("100.00")));
}

#[test]
fn malformed_records_are_errors_not_guesses() {
    assert!(Record::parse(EntityKind::Customer, raw(r#"{"DisplayName":"no id"}"#)).is_err());
    assert!(
        Record::parse(EntityKind::Customer, raw(r#"{"Id":"1","SyncToken":"x","DisplayName":"n"}"#)).is_err()
    );
    assert!(
        Record::parse(EntityKind::Invoice, raw(r#"{"Id":"1","CustomerRef":{"value":"2"},"TotalAmt":"abc"}"#))
            .is_err()
    );
    let exponent =
        Record::parse(EntityKind::Bill, raw(r#"{"Id":"1","VendorRef":{"value":"2"},"TotalAmt":1.5E+3}"#))
            .expect("scientific notation is a number");
    let Entity::Bill(bill) = exponent.entity else { panic!("a bill") };
    assert_eq!(bill.total_amt, Some(dec("1500")));
}

#[test]
fn kinds_know_their_names_paths_and_dependencies() {
    for kind in EntityKind::ALL {
        assert_eq!(EntityKind::from_name(&kind.name().to_uppercase()), Some(kind));
        for dependency in kind.depends_on() {
            let position = |k: &EntityKind| EntityKind::ALL.iter().position(|x| x == k);
            assert!(position(dependency) < position(&kind), "{kind:?} after {dependency:?}");
        }
    }
    assert_eq!(EntityKind::BillPayment.path_segment(), "billpayment");
    assert!(EntityKind::Item.has_active() && !EntityKind::Invoice.has_active());
    assert!(!EntityKind::CompanyInfo.supports_cdc() && !EntityKind::CompanyInfo.is_transaction());
}
