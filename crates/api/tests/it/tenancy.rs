//! The three isolation proofs.
//!
//! 1. As the app role with no tenant set, every tenant table reads empty and rejects writes.
//! 2. With tenant A set, no row of tenant B is visible, even to a query with no filter of its own.
//! 3. Through the HTTP API, tenant A's credentials get 404 for every one of tenant B's resources on
//!    every route; the route table is checked against the OpenAPI document, so a new route cannot
//!    be added without joining it.

use std::collections::BTreeSet;

use domain::{OrganizationId, Role};
use serde_json::{Value, json};
use store::sqlx::{self, AssertSqlSafe, Row};
use store::{Actor, TenantTx};
use testkit::{Tenant, TestApp};

use crate::marketplace::{assessment, listed_advisor, needs, profile};

/// Tables that carry an organization id but are not tenant-owned, each for a stated reason:
/// - `organization_directory`: the slug → organization map sign-in reads before any tenant is
///   known (it holds no tenant data);
/// - `jobs`: the platform's queue, claimed across tenants by workers (migration 0010 explains);
///   a job's handler opens a `TenantTx` for the job's organization before touching tenant data.
/// - `qbo_realm_routes`: QuickBooks realm → organization, read by webhooks (which name only a
///   realm) and the scheduler before any tenant is known (migration 0040 explains).
const PUBLIC_TABLES: &[&str] = &["organization_directory", "jobs", "qbo_realm_routes"];

/// Tenant-owned tables: every table with an `organization_id` column (partitions excluded, they
/// are reached only through their parent), plus `organizations` itself.
async fn tenant_tables(app: &TestApp) -> Vec<String> {
    let mut conn = app.test_db.owner_conn().await;
    let mut tables: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c
         join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
         join pg_attribute a on a.attrelid = c.oid and a.attname = 'organization_id' and not a.attisdropped
         where c.relkind in ('r', 'p') and not c.relispartition
         order by 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    tables.retain(|t| !PUBLIC_TABLES.contains(&t.as_str()));
    tables.push("organizations".to_owned());
    tables
}

/// The column a table's policy compares with the tenant.
fn tenant_column(table: &str) -> &'static str {
    if table == "organizations" { "id" } else { "organization_id" }
}

/// The rows tenant `$1` may see: its own; for matches, also those addressed to its advisors once
/// the client has made contact (migration 0020).
fn visible_to(table: &str) -> String {
    match table {
        "advisor_matches" => "(organization_id = $1::uuid or (advisor_organization_id = $1::uuid \
                              and status not in ('suggested', 'viewed')))"
            .to_owned(),
        _ => format!("{} = $1::uuid", tenant_column(table)),
    }
}

/// Two tenants with a member, an invitation, a password reset, an API key, MFA codes and audit
/// entries each.
async fn two_populated_tenants(app: &TestApp) -> (Tenant, Tenant) {
    let mut tenants = Vec::new();
    for slug in ["firm-a", "firm-b"] {
        let t = app.tenant(slug).await;
        let staff = app.member(&t, Role::Staff).await;
        // A password-reset link for the member (its mail job is platform data, not the tenant's).
        let r = app
            .post(&format!("/v1/members/{}/password-reset", staff.user_id), Some(&t.owner.token), &json!({}))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = app
            .post(
                "/v1/invitations",
                Some(&t.owner.token),
                &json!({"email": format!("x@{slug}.test"), "role": "cpa"}),
            )
            .await;
        assert_eq!(r.status, 201);
        let r = app
            .post("/v1/api-keys", Some(&t.owner.token), &json!({"name": "k", "scopes": ["clients:read"]}))
            .await;
        assert_eq!(r.status, 201);
        let ids = populate_firm_core(app, &t).await;
        crate::workflow_recurrence::populate(app, &t.owner.token, &ids).await;
        crate::quickbooks::populate(app, &t, &ids.client).await;
        let document = populate_documents(app, &t, &ids.client).await;
        crate::tasks::populate(app, &t, &ids.client, Some(&document)).await;
        crate::workflow_automation::populate(app, &t, &ids.client).await;
        // A POST with an Idempotency-Key leaves its stored response.
        let r = app
            .http
            .post(app.url("/v1/clients"))
            .bearer_auth(&t.owner.token)
            .header("idempotency-key", format!("{slug}-once"))
            .json(&json!({"business_name": "Keyed Client"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let r = app.post("/v1/me/mfa/enrolment", Some(&t.owner.token), &json!({})).await;
        assert_eq!(r.status, 201);
        let secret = r.value()["secret"].as_str().unwrap().to_owned();
        let code = identity::totp::code_for_base32(&secret, chrono::Utc::now().timestamp() as u64).unwrap();
        let r = app.post("/v1/me/mfa/confirm", Some(&t.owner.token), &json!({"code": code})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        tenants.push(t);
    }
    let b = tenants.pop().unwrap();
    let a = tenants.pop().unwrap();
    populate_marketplace(app, &a, &b).await;
    (a, b)
}

/// A finished upload batch with a document, an extracted field, pipeline and batch events, the
/// uploader's notification and the blob key, written as the database owner: these proofs are about the tables.
/// Returns the document's id.
async fn populate_documents(app: &TestApp, t: &Tenant, client: &str) -> String {
    let mut owner = app.test_db.owner_conn().await;
    let document = uuid::Uuid::now_v7();
    let batch = uuid::Uuid::now_v7();
    sqlx::query(
        "insert into document_batches (id, organization_id, client_id, uploaded_by, source, accepted, finished_at)
         values ($1, $2::uuid, $3::uuid, $4::uuid, 'files', 1, now())",
    )
    .bind(batch)
    .bind(&t.organization_id)
    .bind(client)
    .bind(&t.owner.user_id)
    .execute(&mut owner)
    .await
    .unwrap();
    sqlx::query(
        "insert into documents (id, organization_id, client_id, file_name, kind, content_sha256, size_bytes, pages,
             batch_id)
         values ($1, $2::uuid, $3::uuid, 'w2-2025.pdf', 'pdf', sha256('w2'::bytea), 1024, 1, $4)",
    )
    .bind(document)
    .bind(&t.organization_id)
    .bind(client)
    .bind(batch)
    .execute(&mut owner)
    .await
    .unwrap();
    sqlx::query(
        "insert into document_events (organization_id, batch_id, event) values ($1::uuid, $2, 'batch_finished')",
    )
    .bind(&t.organization_id)
    .bind(batch)
    .execute(&mut owner)
    .await
    .unwrap();
    sqlx::query(
        "insert into notifications (id, organization_id, user_id, kind, title, body, payload, dedupe_key)
         values ($1, $2::uuid, $3::uuid, 'document_batch_finished', 'Upload done', '1 approved.',
                 jsonb_build_object('batch_id', $4::uuid), 'document_batch:' || $4::text)",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(&t.organization_id)
    .bind(&t.owner.user_id)
    .bind(batch)
    .execute(&mut owner)
    .await
    .unwrap();
    sqlx::query(
        "insert into document_fields (organization_id, document_id, key, value, display, confidence)
         values ($1::uuid, $2, 'box1_wages', '{\"money\": \"52000.00\"}', '52,000.00', 0.93)",
    )
    .bind(&t.organization_id)
    .bind(document)
    .execute(&mut owner)
    .await
    .unwrap();
    sqlx::query(
        "insert into document_events (organization_id, document_id, event) values ($1::uuid, $2, 'uploaded')",
    )
    .bind(&t.organization_id)
    .bind(document)
    .execute(&mut owner)
    .await
    .unwrap();
    insert_vendor_memory(app, t, &document.to_string()).await;
    // The organization's sealed blob key (opaque bytes here).
    sqlx::query(
        "insert into blob_data_keys (organization_id, sealed, master_key_id) values ($1::uuid, '\\x00', 1)",
    )
    .bind(&t.organization_id)
    .execute(&mut owner)
    .await
    .unwrap();
    document.to_string()
}

/// A vendor memory learnt from `document`, written as the database owner; returns its id.
pub(crate) async fn insert_vendor_memory(app: &TestApp, t: &Tenant, document: &str) -> String {
    let mut owner = app.test_db.owner_conn().await;
    let id = uuid::Uuid::now_v7();
    sqlx::query(
        "insert into vendor_memories (id, organization_id, key_kind, key_value, vendor_name, doc_type, memory,
             learned_from, corrections)
         values ($1, $2::uuid, 'name', 'ACME TOOLING LTD', 'Acme Tooling Ltd', 'invoice',
                 '{\"vendor_name\": \"Acme Tooling Ltd\", \"fields\": []}', $3::uuid, 1)",
    )
    .bind(id)
    .bind(&t.organization_id)
    .bind(document)
    .execute(&mut owner)
    .await
    .unwrap();
    id.to_string()
}

/// An advisor in each firm; each firm's assessment matched with both advisors; A contacts B's
/// advisor (so B sees that match), B contacts nobody (so A's advisor sees none of B's).
async fn populate_marketplace(app: &TestApp, a: &Tenant, b: &Tenant) {
    let platform = app.tenant(testkit::PLATFORM_SLUG).await;
    let (_, _) = listed_advisor(app, &platform, a, profile("A's advisor", json!({}))).await;
    let (_, b_advisor) = listed_advisor(app, &platform, b, profile("B's advisor", json!({}))).await;
    for t in [a, b] {
        let id = assessment(app, t, needs()).await;
        let r = app
            .post(
                &format!("/v1/marketplace/needs-assessments/{id}/matches"),
                Some(&t.owner.token),
                &json!({}),
            )
            .await;
        assert_eq!(r.value().as_array().unwrap().len(), 2, "{}", r.body);
        if t.slug == a.slug {
            let to_b =
                r.value().as_array().unwrap().iter().find(|m| m["advisor_id"] == b_advisor.as_str()).cloned();
            let to_b = to_b.unwrap()["id"].as_str().unwrap().to_owned();
            let r = app
                .post(
                    &format!("/v1/marketplace/matches/{to_b}/status"),
                    Some(&t.owner.token),
                    &json!({"status": "contacted"}),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
    }
}

/// A client with a tax id, an engagement, notes, a sent and part-paid invoice, a portal user.
/// Returns the ids: (client, engagement, invoice, note, portal access, portal user token).
pub(crate) async fn populate_firm_core(app: &TestApp, t: &Tenant) -> FirmIds {
    let token = Some(t.owner.token.as_str());
    let client = app
        .post(
            "/v1/clients",
            token,
            &json!({"business_name": format!("{} client", t.slug), "tax_id": "12-3456789"}),
        )
        .await;
    assert_eq!(client.status, 201, "{}", client.body);
    let client = client.value()["id"].as_str().unwrap().to_owned();
    let engagement = app
        .post(
            "/v1/engagements",
            token,
            &json!({"client_id": client, "name": "2026 return", "engagement_type": "tax_preparation"}),
        )
        .await
        .value()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let note = app
        .post(&format!("/v1/clients/{client}/notes"), token, &json!({"body": "called about K-1s"}))
        .await
        .value()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .post(&format!("/v1/engagements/{engagement}/notes"), token, &json!({"body": "waiting on docs"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let invoice = app
        .post(
            "/v1/invoices",
            token,
            &json!({"client_id": client, "engagement_id": engagement,
            "lines": [{"description": "Return", "quantity": "1", "unit_price": "500.00"}]}),
        )
        .await;
    assert_eq!(invoice.status, 201, "{}", invoice.body);
    let invoice = invoice.value()["id"].as_str().unwrap().to_owned();
    assert_eq!(app.post(&format!("/v1/invoices/{invoice}/send"), token, &json!({})).await.status, 200);
    let r = app.post(&format!("/v1/invoices/{invoice}/payments"), token, &json!({"amount": "100.00"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let portal_user = app.member(t, Role::Client).await;
    let access = app
        .post(&format!("/v1/clients/{client}/portal-access"), token, &json!({"user_id": portal_user.user_id}))
        .await;
    assert_eq!(access.status, 201, "{}", access.body);
    // A firm template (a copy of the first system template) and a run of it, its first step
    // assigned to the owner.
    let templates = app.get("/v1/workflow-templates", &t.owner.token).await;
    assert_eq!(templates.status, 200, "{}", templates.body);
    let system = templates.value()[0]["id"].as_str().unwrap().to_owned();
    let template = app.post(&format!("/v1/workflow-templates/{system}/copy"), token, &json!({})).await;
    assert_eq!(template.status, 201, "{}", template.body);
    let template = template.value()["id"].as_str().unwrap().to_owned();
    let run = app
        .post(
            "/v1/workflow-runs",
            token,
            &json!({"client_id": client, "template_id": template, "engagement_id": engagement,
                    "due_date": "2099-12-31"}),
        )
        .await;
    assert_eq!(run.status, 201, "{}", run.body);
    let run = run.value()["id"].as_str().unwrap().to_owned();
    let r = app
        .request(
            reqwest::Method::PUT,
            &format!("/v1/workflow-runs/{run}/steps/collect_documents/assignee"),
            token,
            Some(&json!({"assignee": t.owner.user_id})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Time on the run's first step (a timer, started and stopped) and a manual entry on the
    // engagement.
    let step = r.value()["steps"][0]["id"].as_str().unwrap().to_owned();
    let r = app.post("/v1/time-entries/timer", token, &json!({"step_id": step})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app.post("/v1/time-entries/timer/stop", token, &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let at = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let time_entry = app
        .post(
            "/v1/time-entries",
            token,
            &json!({"engagement_id": engagement, "started_at": at, "minutes": 45, "hourly_rate": "100.00"}),
        )
        .await;
    assert_eq!(time_entry.status, 201, "{}", time_entry.body);
    // Routing on, and the owner's capacity and skills.
    let r = app
        .request(reqwest::Method::PUT, "/v1/workflow-settings", token, Some(&json!({"routing": "scored"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .request(
            reqwest::Method::PUT,
            &format!("/v1/members/{}/capacity", t.owner.user_id),
            token,
            Some(&json!({"weekly_hours": "30", "skills": ["payroll"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A firm holiday, and a reminder: a week on, the run has had no progress.
    let r = app
        .post("/v1/workflow-holidays", token, &json!({"date": "2099-12-24", "name": "Christmas Eve"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let org: OrganizationId = t.organization_id.parse().unwrap();
    let sent = workflow_reminders::Reminders::new(app.db.clone(), app.keys.clone(), app.url(""))
        .tick_organization(org, chrono::Utc::now() + chrono::Duration::days(8))
        .await
        .unwrap();
    assert_eq!(sent.stuck_runs, 1, "{sent:?}");
    FirmIds {
        step,
        time_entry: time_entry.value()["id"].as_str().unwrap().to_owned(),
        client,
        engagement,
        invoice,
        note,
        portal_access: access.value()["id"].as_str().unwrap().to_owned(),
        portal_token: portal_user.token,
        template,
        run,
    }
}

pub(crate) struct FirmIds {
    pub client: String,
    pub engagement: String,
    pub invoice: String,
    pub note: String,
    pub portal_access: String,
    pub portal_token: String,
    pub template: String,
    pub run: String,
    pub step: String,
    pub time_entry: String,
}

#[tokio::test]
async fn every_tenant_table_is_under_forced_rls_and_the_app_role_owns_nothing() {
    let app = TestApp::spawn().await;
    let mut conn = app.test_db.owner_conn().await;
    let tables = tenant_tables(&app).await;
    assert!(tables.len() >= 9, "expected the foundation's tenant tables, found {tables:?}");
    for table in &tables {
        let (enabled, forced): (bool, bool) =
            sqlx::query_as("select relrowsecurity, relforcerowsecurity from pg_class where relname = $1")
                .bind(table)
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert!(enabled && forced, "{table}: row-level security must be enabled and forced");
        let policies: i64 = sqlx::query_scalar("select count(*) from pg_policies where tablename = $1")
            .bind(table)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert!(policies >= 1, "{table} has no policy");
    }
    let role = sqlx::query("select rolsuper, rolbypassrls from pg_roles where rolname = 'countinghouse_app'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(
        !role.get::<bool, _>(0) && !role.get::<bool, _>(1),
        "app role must be neither superuser nor BYPASSRLS"
    );
    let owned: i64 = sqlx::query_scalar(
        "select count(*) from pg_class where relowner = (select oid from pg_roles where rolname = 'countinghouse_app')",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(owned, 0, "the app role must own nothing");
    // Partitions are reachable only through their parent.
    let partition_grants: i64 = sqlx::query_scalar(
        "select count(*) from information_schema.role_table_grants g
         join pg_class c on c.relname = g.table_name and c.relispartition
         where g.grantee = 'countinghouse_app'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(partition_grants, 0);
}

#[tokio::test]
async fn proof_1_without_a_tenant_every_table_reads_empty_and_rejects_writes() {
    let app = TestApp::spawn().await;
    let (a, _b) = two_populated_tenants(&app).await;
    let mut owner = app.test_db.owner_conn().await;
    let pool = app.db.pool();
    for table in tenant_tables(&app).await {
        let col = tenant_column(&table);
        let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!("select count(*) from {table}")))
            .fetch_one(&mut owner)
            .await
            .unwrap();
        assert!(total > 0, "{table} should hold data for this proof to mean something");

        // Read: nothing, both with no setting at all and with the setting reset to ''.
        let seen: i64 = sqlx::query_scalar(AssertSqlSafe(format!("select count(*) from {table}")))
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(seen, 0, "{table}: the app role saw rows with no tenant set");
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("select set_config('app.organization_id', '', true)").execute(&mut *tx).await.unwrap();
        let seen: i64 = sqlx::query_scalar(AssertSqlSafe(format!("select count(*) from {table}")))
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        assert_eq!(seen, 0, "{table}: rows visible with an empty tenant");
        tx.rollback().await.unwrap();

        // Update and delete: touch nothing (audit_log is append-only: not even granted).
        let upd = sqlx::query(AssertSqlSafe(format!("update {table} set {col} = {col}"))).execute(pool).await;
        match upd {
            Ok(done) => assert_eq!(done.rows_affected(), 0, "{table}: update reached rows"),
            Err(e) => assert_eq!(sqlstate(&e), "42501", "{table}: {e}"),
        }
        let del = sqlx::query(AssertSqlSafe(format!("delete from {table}"))).execute(pool).await;
        match del {
            Ok(done) => assert_eq!(done.rows_affected(), 0, "{table}: delete reached rows"),
            Err(e) => assert_eq!(sqlstate(&e), "42501", "{table}: {e}"),
        }

        // Insert: a copy of a real row of tenant A (new id) is refused by the policy.
        let row: Value = sqlx::query_scalar(AssertSqlSafe(format!(
            "select to_jsonb(t) from {table} t where {col} = $1::uuid limit 1"
        )))
        .bind(&a.organization_id)
        .fetch_one(&mut owner)
        .await
        .unwrap();
        let mut row = row;
        // A uuid id gets a fresh one; an identity id is left to the database (not copied below).
        if row.get("id").is_some_and(Value::is_string) && table != "organizations" {
            row["id"] = json!(uuid::Uuid::now_v7());
        }
        if row.get("seq").is_some() {
            row["seq"] = json!(1_000_000);
        }
        // Generated columns (search vectors, balances) and identities cannot be written: copy the others.
        let cols: Vec<String> = sqlx::query_scalar(
            "select attname::text from pg_attribute
             where attrelid = $1::regclass and attnum > 0 and not attisdropped and attgenerated = ''
               and attidentity <> 'a'",
        )
        .bind(&table)
        .fetch_all(&mut owner)
        .await
        .unwrap();
        let cols = cols.join(", ");
        let ins = sqlx::query(AssertSqlSafe(format!(
            "insert into {table} ({cols}) select {cols} from jsonb_populate_record(null::{table}, $1)"
        )))
        .bind(&row)
        .execute(pool)
        .await;
        let err = ins.expect_err(&format!("{table}: insert without a tenant must fail"));
        assert_eq!(sqlstate(&err), "42501", "{table}: expected an RLS refusal, got {err}");
    }
}

#[tokio::test]
async fn proof_2_with_tenant_a_set_no_row_of_b_is_visible_or_writable() {
    let app = TestApp::spawn().await;
    let (a, b) = two_populated_tenants(&app).await;
    let a_id: OrganizationId = a.organization_id.parse().unwrap();
    let mut owner = app.test_db.owner_conn().await;
    for table in tenant_tables(&app).await {
        let col = tenant_column(&table);
        let visible = visible_to(&table);
        let count = |filter: String| AssertSqlSafe(format!("select count(*) from {table} where {filter}"));
        let a_rows: i64 = sqlx::query_scalar(count(visible.clone()))
            .bind(&a.organization_id)
            .fetch_one(&mut owner)
            .await
            .unwrap();
        let others: i64 = sqlx::query_scalar(count(format!("not {visible}")))
            .bind(&a.organization_id)
            .fetch_one(&mut owner)
            .await
            .unwrap();
        assert!(others > 0, "{table}: other tenants must have rows for this proof to mean something");

        let mut tx = TenantTx::begin(&app.db, a_id, Actor::system()).await.unwrap();
        // A query that forgot its tenant filter sees exactly what A may see.
        let seen: i64 = sqlx::query_scalar(AssertSqlSafe(format!("select count(*) from {table}")))
            .fetch_one(tx.conn())
            .await
            .unwrap();
        assert_eq!(seen, a_rows, "{table}: an unfiltered query must see only tenant A's rows");
        let others_seen: i64 = sqlx::query_scalar(count(format!("not {visible}")))
            .bind(&a.organization_id)
            .fetch_one(tx.conn())
            .await
            .unwrap();
        assert_eq!(others_seen, 0, "{table}: another tenant's rows are visible to tenant A");
        if table != "audit_log" {
            let moved =
                sqlx::query(AssertSqlSafe(format!("update {table} set {col} = {col} where not {visible}")))
                    .bind(&a.organization_id)
                    .execute(tx.conn())
                    .await;
            match moved {
                Ok(done) => {
                    assert_eq!(done.rows_affected(), 0, "{table}: tenant A updated another tenant's rows");
                    // Moving one of A's rows into B is refused by WITH CHECK.
                    let hijack = sqlx::query(AssertSqlSafe(format!("update {table} set {col} = $1::uuid")))
                        .bind(&b.organization_id)
                        .execute(tx.conn())
                        .await;
                    let err = hijack.expect_err(&format!("{table}: moving rows to tenant B must fail"));
                    assert!(["42501", "23503", "23505"].contains(&sqlstate(&err).as_str()), "{table}: {err}");
                }
                // The tenant column is not updatable at all (a column grant): stronger still.
                Err(e) => assert_eq!(sqlstate(&e), "42501", "{table}: {e}"),
            }
        }
        tx.rollback().await.unwrap();
    }
}

fn sqlstate(e: &sqlx::Error) -> String {
    e.as_database_error().and_then(|d| d.code()).map(|c| c.to_string()).unwrap_or_default()
}

/// How a route is exercised across tenants.
enum Probe {
    /// A's credentials on B's resource: must be 404, and B's data unchanged.
    Resource { method: &'static str, path: String, body: Value },
    /// A list (or a create that lists nothing back): A's credentials must not show any of B's ids.
    List { path: String },
}

fn resource(method: &'static str, path: String, body: Value) -> Probe {
    Probe::Resource { method, path, body }
}

fn list(path: &str) -> Probe {
    Probe::List { path: path.to_owned() }
}

/// Routes that are not tenant resources (public, or about the caller only), exempt from the table.
const NOT_TENANT_ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/signup"),
    ("post", "/v1/sessions"),
    // Asked for before sign-in: the answer is the same for every organization and address, and a
    // reset token names its own organization (a moved one finds nothing, password_resets.rs).
    ("post", "/v1/password-resets"),
    ("post", "/v1/password-resets/complete"),
    ("delete", "/v1/sessions/current"),
    ("get", "/v1/me"),
    ("post", "/v1/me/password"),
    ("post", "/v1/me/mfa/enrolment"),
    ("post", "/v1/me/mfa/confirm"),
    ("post", "/v1/me/mfa/disable"),
    ("post", "/v1/me/mfa/recovery-codes"),
    ("get", "/v1/permissions"),
    ("get", "/v1/organization"),
    ("patch", "/v1/organization"),
    // The caller's own organization's storage figures (no id; blobs.rs).
    ("get", "/v1/documents/storage"),
    ("post", "/v1/audit-log/verify"),
    ("get", "/v1/invoices/aging"),
    // The public marketplace: listings and published reviews are public by design.
    ("get", "/v1/marketplace/advisors"),
    ("get", "/v1/marketplace/advisors/{id}"),
    ("get", "/v1/marketplace/advisors/{id}/reviews"),
    ("get", "/v1/marketplace/featured"),
    ("get", "/v1/marketplace/compare"),
    ("get", "/v1/marketplace/vocabulary"),
    // The caller's own advisor profile (found by the signed-in user, never by id).
    ("post", "/v1/marketplace/profile"),
    ("get", "/v1/marketplace/profile"),
    ("patch", "/v1/marketplace/profile"),
    ("post", "/v1/marketplace/profile/submit"),
    ("put", "/v1/marketplace/profile/availability"),
    // Platform administration: 403 for every firm but the platform's own (marketplace tests).
    ("get", "/v1/marketplace/admin/review-queue"),
    ("post", "/v1/marketplace/admin/advisors/{id}/{decision}"),
    // The job queue and health are platform infrastructure (jobs have no RLS; a job's tenant is a
    // column): 403 for every firm but the platform's own (admin_jobs.rs).
    ("get", "/v1/admin/jobs"),
    ("post", "/v1/admin/jobs/{id}/retry"),
    ("post", "/v1/admin/jobs/{id}/cancel"),
    ("get", "/v1/admin/health"),
    // The cache's counters are per process and name no tenant's data (cache.rs).
    ("get", "/v1/admin/cache"),
    // QuickBooks' redirect and webhooks carry no credentials of ours: the callback's single-use
    // state names its organization (a forged or other tenant's state is refused, quickbooks.rs),
    // and webhooks are authenticated by their HMAC signature.
    ("get", "/v1/quickbooks/callback"),
    ("post", "/v1/quickbooks/webhooks"),
    // A signed download link is its own credential: the signature covers organization, document
    // and expiry, so another tenant's id under any link is 403 `invalid-link` (documents.rs).
    ("get", "/v1/document-files/{id}"),
];

#[tokio::test]
async fn proof_3_over_http_tenant_a_gets_404_for_every_resource_of_tenant_b() {
    let app = TestApp::spawn().await;
    let a = app.tenant("firm-a").await;
    let b = app.tenant("firm-b").await;
    let a_ids = populate_firm_core(&app, &a).await;
    let bi = populate_firm_core(&app, &b).await;
    let (b_qbo_connection, b_qbo_run) = crate::quickbooks::populate(&app, &b, &bi.client).await;
    let b_staff = app.member(&b, Role::Staff).await;
    let inv = app
        .post("/v1/invitations", Some(&b.owner.token), &json!({"email": "new@firm-b.test", "role": "cpa"}))
        .await;
    let b_inv = inv.value()["invitation"]["id"].as_str().unwrap().to_owned();
    let key = app
        .post("/v1/api-keys", Some(&b.owner.token), &json!({"name": "k", "scopes": ["clients:read"]}))
        .await;
    let b_key = key.value()["api_key"]["id"].as_str().unwrap().to_owned();
    let platform = app.tenant(testkit::PLATFORM_SLUG).await;
    let (_, b_advisor) = listed_advisor(&app, &platform, &b, profile("B's advisor", json!({}))).await;
    let b_assessment = assessment(&app, &b, needs()).await;
    let r = app
        .post(
            &format!("/v1/marketplace/needs-assessments/{b_assessment}/matches"),
            Some(&b.owner.token),
            &json!({}),
        )
        .await;
    let b_match = r.value()[0]["id"].as_str().unwrap().to_owned();
    let b_pdf = crate::documents::receipt_pdf("9.99");
    let b_uploaded = crate::documents::upload_one(&app, &b.owner.token, &bi.client, "b.pdf", &b_pdf).await;
    let b_doc = b_uploaded["id"].as_str().unwrap().to_owned();
    let b_batch = b_uploaded["batch_id"].as_str().unwrap().to_owned();
    // A copy: a batch of one duplicate, finished at once, so B's owner has a notification.
    let copy = crate::documents::upload_one(&app, &b.owner.token, &bi.client, "copy.pdf", &b_pdf).await;
    assert_eq!(copy["status"], "duplicate");
    let bt = crate::tasks::populate(&app, &b, &bi.client, Some(&b_doc)).await;
    let b_memory = insert_vendor_memory(&app, &b, &b_doc).await;
    let b_notes = app.get("/v1/notifications", &b.owner.token).await.value();
    let b_note = b_notes["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(r.value()[0]["advisor_id"], b_advisor.as_str());
    // B's staff member has a timer running on B's step: A's stop must not reach it.
    let r = app.post("/v1/time-entries/timer", Some(&b_staff.token), &json!({"step_id": bi.step})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let b_timer = r.value()["id"].as_str().unwrap().to_owned();
    // B's recurring schedule and bulk start.
    let (b_schedule, b_bulk) = crate::workflow_recurrence::schedule_and_bulk(&app, &b.owner.token, &bi).await;
    // B closes a day of its own: A neither sees nor removes it.
    let r = app
        .post(
            "/v1/workflow-holidays",
            Some(&b.owner.token),
            &json!({"date": "2099-12-28", "name": "B-only closing"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let b_ids: BTreeSet<String> = [
        b.owner.user_id.clone(),
        b_staff.user_id.clone(),
        b_inv.clone(),
        b_key.clone(),
        b.organization_id.clone(),
        bi.client.clone(),
        bi.engagement.clone(),
        bi.invoice.clone(),
        bi.note.clone(),
        bi.portal_access.clone(),
        b_assessment.clone(),
        b_match.clone(),
        b_qbo_connection.clone(),
        b_qbo_run.clone(),
        b_doc.clone(),
        b_batch.clone(),
        b_memory.clone(),
        b_note.clone(),
        bi.template.clone(),
        bi.run.clone(),
        bi.step.clone(),
        bi.time_entry.clone(),
        b_timer.clone(),
        b_schedule.clone(),
        b_bulk.clone(),
        bt.task.clone(),
        bt.checklist_item.clone(),
        bt.comment.clone(),
        "B-only closing".to_owned(),
    ]
    .into_iter()
    .collect();
    let (c, e, i, n) = (&bi.client, &bi.engagement, &bi.invoice, &bi.note);
    let forged_invitation = format!("chi_{}{}", b.organization_id.replace('-', ""), "A".repeat(43));
    let mut probes: Vec<(&str, &str, Probe)> = vec![
        ("get", "/v1/members/{id}", resource("GET", format!("/v1/members/{}", b_staff.user_id), json!(null))),
        (
            "patch",
            "/v1/members/{id}",
            resource("PATCH", format!("/v1/members/{}", b_staff.user_id), json!({"role": "cpa"})),
        ),
        (
            "post",
            "/v1/members/{id}/password-reset",
            resource("POST", format!("/v1/members/{}/password-reset", b_staff.user_id), json!({})),
        ),
        (
            "delete",
            "/v1/invitations/{id}",
            resource("DELETE", format!("/v1/invitations/{b_inv}"), json!(null)),
        ),
        ("delete", "/v1/api-keys/{id}", resource("DELETE", format!("/v1/api-keys/{b_key}"), json!(null))),
        (
            "post",
            "/v1/invitations/accept",
            resource(
                "POST",
                "/v1/invitations/accept".into(),
                json!({"token": forged_invitation, "password": testkit::PASSWORD}),
            ),
        ),
        ("get", "/v1/clients/{id}", resource("GET", format!("/v1/clients/{c}"), json!(null))),
        (
            "patch",
            "/v1/clients/{id}",
            resource("PATCH", format!("/v1/clients/{c}"), json!({"business_name": "Hijacked"})),
        ),
        ("delete", "/v1/clients/{id}", resource("DELETE", format!("/v1/clients/{c}"), json!(null))),
        ("post", "/v1/clients/{id}/archive", resource("POST", format!("/v1/clients/{c}/archive"), json!({}))),
        ("post", "/v1/clients/{id}/restore", resource("POST", format!("/v1/clients/{c}/restore"), json!({}))),
        (
            "get",
            "/v1/clients/{id}/engagements",
            resource("GET", format!("/v1/clients/{c}/engagements"), json!(null)),
        ),
        ("get", "/v1/clients/{id}/notes", resource("GET", format!("/v1/clients/{c}/notes"), json!(null))),
        (
            "post",
            "/v1/clients/{id}/notes",
            resource("POST", format!("/v1/clients/{c}/notes"), json!({"body": "x"})),
        ),
        (
            "get",
            "/v1/clients/{id}/portal-access",
            resource("GET", format!("/v1/clients/{c}/portal-access"), json!(null)),
        ),
        (
            "post",
            "/v1/clients/{id}/portal-access",
            resource("POST", format!("/v1/clients/{c}/portal-access"), json!({"user_id": b_staff.user_id})),
        ),
        (
            "post",
            "/v1/clients/bulk",
            resource("POST", "/v1/clients/bulk".into(), json!({"action": "archive", "ids": [c]})),
        ),
        (
            "post",
            "/v1/engagements",
            resource(
                "POST",
                "/v1/engagements".into(),
                json!({"client_id": c, "name": "x", "engagement_type": "audit"}),
            ),
        ),
        ("get", "/v1/engagements/{id}", resource("GET", format!("/v1/engagements/{e}"), json!(null))),
        (
            "patch",
            "/v1/engagements/{id}",
            resource("PATCH", format!("/v1/engagements/{e}"), json!({"status": "cancelled"})),
        ),
        ("delete", "/v1/engagements/{id}", resource("DELETE", format!("/v1/engagements/{e}"), json!(null))),
        (
            "get",
            "/v1/engagements/{id}/notes",
            resource("GET", format!("/v1/engagements/{e}/notes"), json!(null)),
        ),
        (
            "post",
            "/v1/engagements/{id}/notes",
            resource("POST", format!("/v1/engagements/{e}/notes"), json!({"body": "x"})),
        ),
        ("patch", "/v1/notes/{id}", resource("PATCH", format!("/v1/notes/{n}"), json!({"body": "x"}))),
        ("delete", "/v1/notes/{id}", resource("DELETE", format!("/v1/notes/{n}"), json!(null))),
        (
            "post",
            "/v1/invoices",
            resource(
                "POST",
                "/v1/invoices".into(),
                json!({"client_id": c, "lines": [{"description": "x", "quantity": "1", "unit_price": "1"}]}),
            ),
        ),
        ("get", "/v1/invoices/{id}", resource("GET", format!("/v1/invoices/{i}"), json!(null))),
        ("patch", "/v1/invoices/{id}", resource("PATCH", format!("/v1/invoices/{i}"), json!({"title": "x"}))),
        ("delete", "/v1/invoices/{id}", resource("DELETE", format!("/v1/invoices/{i}"), json!(null))),
        ("post", "/v1/invoices/{id}/send", resource("POST", format!("/v1/invoices/{i}/send"), json!({}))),
        ("post", "/v1/invoices/{id}/cancel", resource("POST", format!("/v1/invoices/{i}/cancel"), json!({}))),
        (
            "post",
            "/v1/invoices/{id}/payments",
            resource("POST", format!("/v1/invoices/{i}/payments"), json!({"amount": "1.00"})),
        ),
        (
            "delete",
            "/v1/portal-access/{id}",
            resource("DELETE", format!("/v1/portal-access/{}", bi.portal_access), json!(null)),
        ),
        (
            "post",
            "/v1/marketplace/needs-assessments",
            resource("POST", "/v1/marketplace/needs-assessments".into(), {
                let mut body = needs();
                body["client_id"] = json!(c);
                body
            }),
        ),
        (
            "get",
            "/v1/marketplace/needs-assessments/{id}/matches",
            resource("GET", format!("/v1/marketplace/needs-assessments/{b_assessment}/matches"), json!(null)),
        ),
        (
            "post",
            "/v1/marketplace/needs-assessments/{id}/matches",
            resource("POST", format!("/v1/marketplace/needs-assessments/{b_assessment}/matches"), json!({})),
        ),
        (
            "post",
            "/v1/marketplace/matches/{id}/status",
            resource(
                "POST",
                format!("/v1/marketplace/matches/{b_match}/status"),
                json!({"status": "declined"}),
            ),
        ),
        (
            "post",
            "/v1/marketplace/matches/{id}/review",
            resource("POST", format!("/v1/marketplace/matches/{b_match}/review"), json!({"overall": 1})),
        ),
        ("get", "/v1/marketplace/needs-assessments", list("/v1/marketplace/needs-assessments?limit=200")),
        ("get", "/v1/marketplace/matches/incoming", list("/v1/marketplace/matches/incoming")),
        ("get", "/v1/members", list("/v1/members?limit=200")),
        ("get", "/v1/invitations", list("/v1/invitations?open=false")),
        ("post", "/v1/invitations", list("/v1/invitations?open=false")),
        ("get", "/v1/api-keys", list("/v1/api-keys")),
        ("post", "/v1/api-keys", list("/v1/api-keys")),
        ("get", "/v1/audit-log", list("/v1/audit-log?limit=200")),
        ("get", "/v1/clients", list("/v1/clients?limit=200&status=prospect,active,inactive,archived")),
        ("post", "/v1/clients", list("/v1/clients?limit=200")),
        ("get", "/v1/clients/export", list("/v1/clients/export")),
        ("post", "/v1/clients/import", list("/v1/clients?limit=200")),
        ("get", "/v1/engagements", list("/v1/engagements?limit=200")),
        ("get", "/v1/invoices", list("/v1/invoices?limit=200")),
        (
            "get",
            "/v1/clients/{id}/quickbooks",
            resource("GET", format!("/v1/clients/{c}/quickbooks"), json!(null)),
        ),
        (
            "delete",
            "/v1/clients/{id}/quickbooks",
            resource("DELETE", format!("/v1/clients/{c}/quickbooks"), json!(null)),
        ),
        (
            "post",
            "/v1/clients/{id}/quickbooks/connect",
            resource("POST", format!("/v1/clients/{c}/quickbooks/connect"), json!({})),
        ),
        (
            "post",
            "/v1/clients/{id}/quickbooks/sync",
            resource("POST", format!("/v1/clients/{c}/quickbooks/sync"), json!({"mode": "full"})),
        ),
        (
            "get",
            "/v1/clients/{id}/quickbooks/sync-runs",
            resource("GET", format!("/v1/clients/{c}/quickbooks/sync-runs"), json!(null)),
        ),
        (
            "get",
            "/v1/clients/{id}/quickbooks/sync-runs/{run_id}",
            resource("GET", format!("/v1/clients/{c}/quickbooks/sync-runs/{b_qbo_run}"), json!(null)),
        ),
        (
            "get",
            "/v1/clients/{id}/quickbooks/summary",
            resource("GET", format!("/v1/clients/{c}/quickbooks/summary"), json!(null)),
        ),
    ];

    let d = &b_doc;
    probes.extend([
        (
            "post",
            "/v1/clients/{id}/documents",
            resource("POST", format!("/v1/clients/{c}/documents"), json!({})),
        ),
        (
            "post",
            "/v1/clients/{id}/documents/batch",
            resource("POST", format!("/v1/clients/{c}/documents/batch"), json!({})),
        ),
        ("get", "/v1/documents", list("/v1/documents")),
        ("get", "/v1/documents", list(&format!("/v1/documents?client_id={c}"))),
        ("get", "/v1/documents/review-queue", list("/v1/documents/review-queue")),
        ("get", "/v1/documents/{id}", resource("GET", format!("/v1/documents/{d}"), json!(null))),
        ("delete", "/v1/documents/{id}", resource("DELETE", format!("/v1/documents/{d}"), json!(null))),
        (
            "put",
            "/v1/documents/{id}/fields/{key}",
            resource("PUT", format!("/v1/documents/{d}/fields/total"), json!({"value": "1.00"})),
        ),
        (
            "post",
            "/v1/documents/{id}/approve",
            resource("POST", format!("/v1/documents/{d}/approve"), json!({})),
        ),
        (
            "post",
            "/v1/documents/{id}/reprocess",
            resource("POST", format!("/v1/documents/{d}/reprocess"), json!({})),
        ),
        (
            "post",
            "/v1/documents/{id}/download-link",
            resource("POST", format!("/v1/documents/{d}/download-link"), json!({})),
        ),
        (
            "get",
            "/v1/documents/{id}/thumbnail",
            resource("GET", format!("/v1/documents/{d}/thumbnail"), json!(null)),
        ),
        (
            "get",
            "/v1/document-batches/{id}",
            resource("GET", format!("/v1/document-batches/{b_batch}"), json!(null)),
        ),
        ("get", "/v1/document-batches", list("/v1/document-batches")),
        ("get", "/v1/vendor-memories", list("/v1/vendor-memories")),
        (
            "get",
            "/v1/vendor-memories/{id}",
            resource("GET", format!("/v1/vendor-memories/{b_memory}"), json!(null)),
        ),
        (
            "delete",
            "/v1/vendor-memories/{id}",
            resource("DELETE", format!("/v1/vendor-memories/{b_memory}"), json!(null)),
        ),
        ("get", "/v1/document-batches", list("/v1/document-batches?unfinished=true")),
        ("get", "/v1/notifications", list("/v1/notifications")),
        ("get", "/v1/notifications", list("/v1/notifications?unread=true")),
        (
            "post",
            "/v1/notifications/{id}/read",
            resource("POST", format!("/v1/notifications/{b_note}/read"), json!({})),
        ),
        // Marks only the caller's own: checked below, B's stays unread.
        ("post", "/v1/notifications/read-all", list("/v1/notifications")),
    ]);

    let (tp, run) = (&bi.template, &bi.run);
    let template_body = json!({"name": "Hijacked", "category": "bookkeeping",
        "steps": [{"key": "a", "name": "A", "kind": "task", "estimated_hours": "1"}]});
    probes.extend([
        ("get", "/v1/workflow-templates", list("/v1/workflow-templates?archived=true")),
        ("post", "/v1/workflow-templates", list("/v1/workflow-templates?archived=true")),
        (
            "get",
            "/v1/workflow-templates/{id}",
            resource("GET", format!("/v1/workflow-templates/{tp}"), json!(null)),
        ),
        (
            "put",
            "/v1/workflow-templates/{id}",
            resource("PUT", format!("/v1/workflow-templates/{tp}"), template_body.clone()),
        ),
        (
            "post",
            "/v1/workflow-templates/{id}/copy",
            resource("POST", format!("/v1/workflow-templates/{tp}/copy"), json!({})),
        ),
        (
            "post",
            "/v1/workflow-templates/{id}/archive",
            resource("POST", format!("/v1/workflow-templates/{tp}/archive"), json!({"archived": true})),
        ),
        (
            "post",
            "/v1/workflow-runs",
            resource(
                "POST",
                "/v1/workflow-runs".into(),
                json!({"client_id": c, "template_id": tp, "due_date": "2099-12-31"}),
            ),
        ),
        ("get", "/v1/workflow-runs/{id}", resource("GET", format!("/v1/workflow-runs/{run}"), json!(null))),
        (
            "post",
            "/v1/workflow-runs/{id}/command",
            resource("POST", format!("/v1/workflow-runs/{run}/command"), json!({"command": "cancel"})),
        ),
        (
            "post",
            "/v1/workflow-runs/{id}/steps/{key}",
            resource(
                "POST",
                format!("/v1/workflow-runs/{run}/steps/collect_documents"),
                json!({"action": "complete"}),
            ),
        ),
        (
            "put",
            "/v1/workflow-runs/{id}/steps/{key}/assignee",
            resource(
                "PUT",
                format!("/v1/workflow-runs/{run}/steps/collect_documents/assignee"),
                json!({"assignee": null}),
            ),
        ),
        (
            "get",
            "/v1/clients/{id}/workflow-runs",
            resource("GET", format!("/v1/clients/{c}/workflow-runs"), json!(null)),
        ),
        (
            "get",
            "/v1/clients/{id}/workflow-schedules",
            resource("GET", format!("/v1/clients/{c}/workflow-schedules"), json!(null)),
        ),
        (
            "post",
            "/v1/clients/{id}/workflow-schedules",
            resource(
                "POST",
                format!("/v1/clients/{c}/workflow-schedules"),
                json!({"template_id": tp, "cron": "0 0 1 * *", "due_business_day": 5}),
            ),
        ),
        (
            "get",
            "/v1/workflow-schedules/preview",
            list("/v1/workflow-schedules/preview?cron=0%200%201%20*%20*"),
        ),
        (
            "delete",
            "/v1/workflow-schedules/{id}",
            resource("DELETE", format!("/v1/workflow-schedules/{b_schedule}"), json!(null)),
        ),
        (
            "post",
            "/v1/workflow-schedules/{id}/pause",
            resource("POST", format!("/v1/workflow-schedules/{b_schedule}/pause"), json!({"paused": true})),
        ),
        (
            "post",
            "/v1/workflow-schedules/{id}/periods/start",
            resource(
                "POST",
                format!("/v1/workflow-schedules/{b_schedule}/periods/start"),
                json!({"period_start": "2027-01-01T05:00:00Z"}),
            ),
        ),
        (
            "post",
            "/v1/workflow-bulk-starts",
            resource(
                "POST",
                "/v1/workflow-bulk-starts".into(),
                json!({"template_id": tp, "client_ids": [c], "due_date": "2099-01-29"}),
            ),
        ),
        (
            "get",
            "/v1/workflow-bulk-starts/{id}",
            resource("GET", format!("/v1/workflow-bulk-starts/{b_bulk}"), json!(null)),
        ),
        ("get", "/v1/workflow-settings", list("/v1/workflow-settings")),
        ("put", "/v1/workflow-settings", list("/v1/workflow-settings")),
        ("get", "/v1/team/workload", list("/v1/team/workload")),
        ("get", "/v1/workflow-routing/figures", list("/v1/workflow-routing/figures")),
        (
            "put",
            "/v1/members/{id}/capacity",
            resource(
                "PUT",
                format!("/v1/members/{}/capacity", b_staff.user_id),
                json!({"weekly_hours": "1"}),
            ),
        ),
    ]);

    let (step, entry) = (&bi.step, &bi.time_entry);
    let at = chrono::Utc::now().to_rfc3339();
    probes.extend([
        (
            "post",
            "/v1/time-entries",
            resource(
                "POST",
                "/v1/time-entries".into(),
                json!({"step_id": step, "started_at": at, "minutes": 30}),
            ),
        ),
        (
            "post",
            "/v1/time-entries",
            resource(
                "POST",
                "/v1/time-entries".into(),
                json!({"engagement_id": e, "started_at": at, "minutes": 30}),
            ),
        ),
        (
            "post",
            "/v1/time-entries/timer",
            resource("POST", "/v1/time-entries/timer".into(), json!({"step_id": step})),
        ),
        (
            "post",
            "/v1/time-entries/timer",
            resource("POST", "/v1/time-entries/timer".into(), json!({"engagement_id": e})),
        ),
        // A has no timer running; B's running timer is not A's to stop (checked below).
        (
            "post",
            "/v1/time-entries/timer/stop",
            resource("POST", "/v1/time-entries/timer/stop".into(), json!({})),
        ),
        (
            "patch",
            "/v1/time-entries/{id}",
            resource("PATCH", format!("/v1/time-entries/{entry}"), json!({"minutes": 1})),
        ),
        (
            "delete",
            "/v1/time-entries/{id}",
            resource("DELETE", format!("/v1/time-entries/{entry}"), json!(null)),
        ),
        ("get", "/v1/me/timesheet", list("/v1/me/timesheet")),
        (
            "get",
            "/v1/engagements/{id}/time-entries",
            resource("GET", format!("/v1/engagements/{e}/time-entries"), json!(null)),
        ),
        (
            "post",
            "/v1/engagements/{id}/bill-time",
            resource("POST", format!("/v1/engagements/{e}/bill-time"), json!({})),
        ),
    ]);

    let (task, item) = (&bt.task, &bt.checklist_item);
    probes.extend([
        (
            "post",
            "/v1/tasks",
            resource(
                "POST",
                "/v1/tasks".into(),
                json!({"title": "x", "due_date": "2099-01-01", "client_id": c}),
            ),
        ),
        ("get", "/v1/tasks/{id}", resource("GET", format!("/v1/tasks/{task}"), json!(null))),
        ("patch", "/v1/tasks/{id}", resource("PATCH", format!("/v1/tasks/{task}"), json!({"title": "x"}))),
        (
            "post",
            "/v1/tasks/{id}/action",
            resource("POST", format!("/v1/tasks/{task}/action"), json!({"action": "cancel"})),
        ),
        (
            "put",
            "/v1/tasks/{id}/dependencies",
            resource("PUT", format!("/v1/tasks/{task}/dependencies"), json!({"depends_on": []})),
        ),
        ("get", "/v1/me/work", list("/v1/me/work?limit=200")),
        ("get", "/v1/me/work", list("/v1/me/work?view=overdue&limit=200")),
        ("get", "/v1/me/work", list("/v1/me/work?view=week&limit=200")),
        ("get", "/v1/me/work", list("/v1/me/work?view=review&limit=200")),
        (
            "get",
            "/v1/me/work",
            resource("GET", format!("/v1/me/work?view=client&client_id={c}"), json!(null)),
        ),
        ("get", "/v1/work-items/{id}", resource("GET", format!("/v1/work-items/{task}"), json!(null))),
        ("get", "/v1/work-items/{id}", resource("GET", format!("/v1/work-items/{}", bi.step), json!(null))),
        (
            "post",
            "/v1/work-items/{id}/checklist",
            resource("POST", format!("/v1/work-items/{task}/checklist"), json!({"text": "x"})),
        ),
        (
            "patch",
            "/v1/work-items/{id}/checklist/{item}",
            resource("PATCH", format!("/v1/work-items/{task}/checklist/{item}"), json!({"done": true})),
        ),
        (
            "delete",
            "/v1/work-items/{id}/checklist/{item}",
            resource("DELETE", format!("/v1/work-items/{task}/checklist/{item}"), json!(null)),
        ),
        (
            "put",
            "/v1/work-items/{id}/checklist/order",
            resource("PUT", format!("/v1/work-items/{task}/checklist/order"), json!({"items": [item]})),
        ),
        (
            "post",
            "/v1/work-items/{id}/comments",
            resource("POST", format!("/v1/work-items/{task}/comments"), json!({"body": "x"})),
        ),
        (
            "get",
            "/v1/work-items/{id}/comments",
            resource("GET", format!("/v1/work-items/{task}/comments?limit=200"), json!(null)),
        ),
        (
            "patch",
            "/v1/work-items/{id}/comments/{comment_id}",
            resource("PATCH", format!("/v1/work-items/{task}/comments/{}", bt.comment), json!({"body": "x"})),
        ),
        (
            "delete",
            "/v1/work-items/{id}/comments/{comment_id}",
            resource("DELETE", format!("/v1/work-items/{task}/comments/{}", bt.comment), json!(null)),
        ),
        (
            "post",
            "/v1/work-items/{id}/attachments",
            resource("POST", format!("/v1/work-items/{task}/attachments"), json!({"document_id": b_doc})),
        ),
        (
            "delete",
            "/v1/work-items/{id}/attachments/{document}",
            resource("DELETE", format!("/v1/work-items/{task}/attachments/{b_doc}"), json!(null)),
        ),
        (
            "post",
            "/v1/work-items/reassign",
            resource(
                "POST",
                "/v1/work-items/reassign".into(),
                json!({"items": [task, bi.step], "assignee": a.owner.user_id}),
            ),
        ),
    ]);
    probes.extend([
        ("get", "/v1/workflow-holidays", list("/v1/workflow-holidays")),
        ("post", "/v1/workflow-holidays", list("/v1/workflow-holidays")),
        (
            "delete",
            "/v1/workflow-holidays/{date}",
            resource("DELETE", "/v1/workflow-holidays/2099-12-28".into(), json!(null)),
        ),
        (
            "get",
            "/v1/workflow-runs/{id}/reminders",
            resource("GET", format!("/v1/workflow-runs/{}/reminders", bi.run), json!(null)),
        ),
        ("get", "/v1/workflow-stuck", list("/v1/workflow-stuck")),
    ]);

    // Every documented operation is either in the table or declared not tenant-scoped.
    let covered: BTreeSet<(String, String)> = probes
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .chain(NOT_TENANT_ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())))
        .collect();
    let spec = app.request(reqwest::Method::GET, "/openapi.json", None, None).await.value();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            assert!(
                covered.contains(&(method.clone(), path.clone())),
                "route {method} {path} is not in the cross-tenant table: add a probe for it"
            );
        }
    }

    let audit_before = audit_len(&app, &b).await;
    let r = app.post("/v1/notifications/read-all", Some(&a.owner.token), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for (method, route, probe) in &probes {
        match probe {
            Probe::Resource { method: m, path, body } => {
                let m = reqwest::Method::from_bytes(m.as_bytes()).unwrap();
                let body = (!body.is_null()).then_some(body);
                let r = app.request(m, path, Some(&a.owner.token), body).await;
                assert_eq!(
                    r.status, 404,
                    "{method} {route}: tenant A reached tenant B's resource: {}",
                    r.body
                );
                assert_eq!(r.problem_slug(), "not-found");
            }
            Probe::List { path } => {
                let r = app.get(path, &a.owner.token).await;
                assert_eq!(r.status, 200, "{method} {route}: {}", r.body);
                for id in &b_ids {
                    assert!(
                        !r.body.contains(id.as_str()),
                        "{method} {route}: tenant B's id {id} leaked into A's list"
                    );
                }
            }
        }
    }
    // A's aging does not count B's receivables: A has one part-paid invoice of its own (400.00 open).
    let aging = app.get("/v1/invoices/aging", &a.owner.token).await.value();
    assert_eq!(aging["open_invoices"], 1);
    assert_eq!(aging["total_open"], "400.00");
    // A's portal user sees only A's client.
    let seen = app.get("/v1/clients", &a_ids.portal_token).await.value();
    assert_eq!(seen["items"].as_array().unwrap().len(), 1);
    assert_eq!(seen["items"][0]["id"], a_ids.client.as_str());

    // And nothing of B's changed: B's audit log has no new entries and B still sees its data.
    assert_eq!(audit_len(&app, &b).await, audit_before, "A's attempts wrote to B's audit log");
    let r = app.get(&format!("/v1/members/{}", b_staff.user_id), &b.owner.token).await;
    assert_eq!(r.value()["role"], "staff");
    assert_eq!(
        app.get(&format!("/v1/clients/{c}"), &b.owner.token).await.value()["business_name"],
        "firm-b client"
    );
    assert_eq!(app.get(&format!("/v1/invoices/{i}"), &b.owner.token).await.value()["paid_amount"], "100.00");
    assert_eq!(app.get(&format!("/v1/engagements/{e}"), &b.owner.token).await.value()["status"], "planning");
    let m =
        app.get(&format!("/v1/marketplace/needs-assessments/{b_assessment}/matches"), &b.owner.token).await;
    assert_eq!(m.value()[0]["status"], "suggested");
    let keys = app.get("/v1/api-keys", &b.owner.token).await.value();
    assert!(keys[0]["revoked_at"].is_null());
    let doc = app.get(&format!("/v1/documents/{d}"), &b.owner.token).await.value();
    assert_eq!(doc["document"]["status"], "uploaded");
    assert_eq!(doc["events"].as_array().unwrap().len(), 1);
    let sheet = app.get("/v1/me/timesheet", &b_staff.token).await.value();
    assert_eq!(sheet["running"]["id"], b_timer.as_str(), "A's stop reached B's timer");
    let time = app.get(&format!("/v1/engagements/{e}/time-entries"), &b.owner.token).await.value();
    assert!(
        time["items"].as_array().unwrap().iter().any(|x| x["id"] == entry.as_str() && x["minutes"] == 45)
    );
    assert!(time["items"].as_array().unwrap().iter().all(|x| x["invoice_id"].is_null()), "A billed B's time");
    let holidays = app.get("/v1/workflow-holidays", &b.owner.token).await.value();
    assert!(
        holidays.as_array().unwrap().iter().any(|h| h["name"] == "B-only closing"),
        "A's delete reached B's holiday: {holidays}"
    );
    let unread = app.get("/v1/notifications?unread=true", &b.owner.token).await.value();
    assert_eq!(unread["items"][0]["id"], b_note.as_str(), "A's read-all or read reached B's notification");
}

async fn audit_len(app: &TestApp, t: &Tenant) -> i64 {
    let org: OrganizationId = t.organization_id.parse().unwrap();
    let mut tx = TenantTx::begin(&app.db, org, Actor::system()).await.unwrap();
    let n: i64 = sqlx::query_scalar("select count(*) from audit_log").fetch_one(tx.conn()).await.unwrap();
    tx.rollback().await.unwrap();
    n
}
