//! QuickBooks Online against the local sandbox (crate `qbo-sandbox`, on a random port): the
//! connect flow and its states, full and incremental sync through a real jobs worker, deletes,
//! interruption and resume, throttling and token-expiry storms, webhooks.

use std::collections::BTreeMap;
use std::time::Duration;

use domain::OrganizationId;
use qbo_sandbox::{ChangeOperation, CompanySpec, Faults, Sandbox, SandboxConfig, SandboxHandle};
use qbo_sync::{QuickBooks, QuickBooksConfig};
use serde_json::{Value, json};
use store::sqlx;
use store::{Actor, TenantTx};
use testkit::{Tenant, TestApp, TestConfig};

pub(crate) const REALM: &str = "9130350000000001";
/// The second company of a two-company sandbox.
const REALM2: &str = "9130350000000002";
const VERIFIER: &str = "sandbox-verifier-token";

pub(crate) async fn sandbox(entities: usize, faults: Faults) -> SandboxHandle {
    sandbox_of(1, entities, faults).await
}

/// A sandbox with `companies` companies (realms `REALM`, `REALM2`, …).
async fn sandbox_of(companies: u64, entities: usize, faults: Faults) -> SandboxHandle {
    let companies = (1..=companies)
        .map(|n| CompanySpec {
            realm_id: format!("91303500000000{n:02}"),
            name: format!("Sandbox Company US {n}"),
            entities,
            seed: n,
            as_of: None,
        })
        .collect();
    Sandbox::start(SandboxConfig { companies, faults, ..SandboxConfig::default() }).await.unwrap()
}

/// Small pages (more checkpoints) and short pauses (the sandbox throttles like Intuit, but a test
/// need not wait Intuit's 60 s after each throttle).
pub(crate) fn qb_config(sandbox: &SandboxHandle) -> QuickBooksConfig {
    QuickBooksConfig {
        page_size: 200,
        throttle_pause_ms: 300,
        server_error_backoff_ms: 20,
        ..QuickBooksConfig::for_sandbox(
            sandbox.base_url(),
            "http://127.0.0.1:9/v1/quickbooks/callback".into(),
        )
    }
}

struct Setup {
    app: TestApp,
    sandbox: SandboxHandle,
    tenant: Tenant,
    client: String,
    /// The worker side's service, as `countinghouse worker` builds it.
    qb: QuickBooks,
}

async fn create_client(app: &TestApp, t: &Tenant, email: Option<&str>) -> String {
    let mut body = json!({"business_name": format!("{} books client", t.slug)});
    if let Some(email) = email {
        body["primary_contact_email"] = json!(email);
    }
    let r = app.post("/v1/clients", Some(&t.owner.token), &body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.value()["id"].as_str().unwrap().to_owned()
}

async fn setup(entities: usize, faults: Faults) -> Setup {
    setup_paged(entities, faults, 200).await
}

async fn setup_paged(entities: usize, faults: Faults, page_size: u32) -> Setup {
    setup_companies(1, entities, faults, page_size).await
}

async fn setup_companies(companies: u64, entities: usize, faults: Faults, page_size: u32) -> Setup {
    let sandbox = sandbox_of(companies, entities, faults).await;
    let config = QuickBooksConfig { page_size, ..qb_config(&sandbox) };
    let app =
        TestApp::spawn_with(TestConfig { quickbooks: Some(config.clone()), ..TestConfig::default() }).await;
    let tenant = app.tenant("qbo-firm").await;
    let client = create_client(&app, &tenant, None).await;
    let qb = QuickBooks::new(config, app.db.clone(), app.keys.clone()).await.unwrap();
    Setup { app, sandbox, tenant, client, qb }
}

/// The user's browser at Intuit: the sandbox consents at once and redirects to our callback.
pub(crate) async fn consent(authorization_url: &str) -> String {
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = browser.get(authorization_url).send().await.unwrap();
    assert_eq!(r.status(), 302, "{}", r.text().await.unwrap_or_default());
    r.headers()["location"].to_str().unwrap().to_owned()
}

impl Setup {
    fn token(&self) -> &str {
        &self.tenant.owner.token
    }

    fn org(&self) -> OrganizationId {
        self.tenant.organization_id.parse().unwrap()
    }

    async fn connect_link(&self) -> String {
        self.connect_link_for(&self.client).await
    }

    async fn connect_link_for(&self, client: &str) -> String {
        let r = self
            .app
            .post(&format!("/v1/clients/{client}/quickbooks/connect"), Some(self.token()), &json!({}))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.value()["authorization_url"].as_str().unwrap().to_owned()
    }

    async fn callback(&self, url: &str) -> testkit::TestResponse {
        let r = self.app.http.get(url).send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        testkit::TestResponse { status, headers, body: r.text().await.unwrap() }
    }

    async fn connect(&self) -> Value {
        let link = self.connect_link().await;
        let r = self.callback(&consent(&link).await).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.value()
    }

    fn worker(&self) -> jobs::WorkerHandle {
        let mut registry = jobs::Registry::new();
        qbo_sync::register(&mut registry, self.qb.clone());
        let config = jobs::WorkerConfig {
            queues: vec![jobs::QueueConfig::new(qbo_sync::sync_jobs::QUEUE)],
            poll_interval: Duration::from_millis(50),
            ..jobs::WorkerConfig::default()
        };
        jobs::Worker::new(self.app.db.pool().clone(), registry, config).start()
    }

    /// The first page of the sync history (newest first).
    async fn runs(&self) -> Vec<Value> {
        let r =
            self.app.get(&format!("/v1/clients/{}/quickbooks/sync-runs", self.client), self.token()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.value()["items"].as_array().unwrap().clone()
    }

    async fn connection(&self) -> Value {
        let r = self.app.get(&format!("/v1/clients/{}/quickbooks", self.client), self.token()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.value()
    }

    async fn run(&self, id: &str) -> Value {
        let r = self
            .app
            .get(&format!("/v1/clients/{}/quickbooks/sync-runs/{id}", self.client), self.token())
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.value()
    }

    /// Waits for run `id` to finish (bounded, so a stuck sync fails the test instead of hanging).
    async fn finished(&self, id: &str) -> Value {
        for _ in 0..2400 {
            let run = self.run(id).await;
            if run["status"] == "succeeded" || run["status"] == "failed" {
                return run;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("sync run {id} did not finish: {}", self.run(id).await);
    }

    async fn sync(&self, mode: &str) -> String {
        let r = self
            .app
            .post(
                &format!("/v1/clients/{}/quickbooks/sync", self.client),
                Some(self.token()),
                &json!({"mode": mode}),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
        r.value()["run_id"].as_str().unwrap().to_owned()
    }

    /// Every mirrored entity (CompanyInfo aside) with its SyncToken.
    async fn mirror(&self) -> BTreeMap<(String, String), i64> {
        let mut tx = TenantTx::begin(&self.app.db, self.org(), Actor::system()).await.unwrap();
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "select entity, qbo_id, sync_token from qbo_entities where realm_id = $1 and entity <> 'CompanyInfo'",
        )
        .bind(REALM)
        .fetch_all(tx.conn())
        .await
        .unwrap();
        rows.into_iter().map(|(e, id, t)| ((e, id), t)).collect()
    }

    fn sandbox_snapshot(&self) -> BTreeMap<(String, String), i64> {
        self.sandbox
            .snapshot(REALM)
            .unwrap()
            .into_iter()
            .map(|((t, id), token)| ((t.name().to_owned(), id), token as i64))
            .collect()
    }

    fn assert_within_limits(&self) {
        let c = self.sandbox.counters(REALM);
        assert!(c.max_per_second <= 10 && c.max_per_minute <= 500 && c.max_in_flight <= 10, "{c:?}");
        assert_eq!(c.throttled_by_limit, 0, "the sandbox refused requests over its limits: {c:?}");
    }
}

fn counted(run: &Value, field: &str) -> u64 {
    run["counts"].as_object().unwrap().values().map(|c| c[field].as_u64().unwrap()).sum()
}

#[tokio::test]
async fn connect_uses_single_use_expiring_states_and_seals_the_tokens() {
    let s = setup(50, Faults::default()).await;
    // No state, a forged state, another tenant's prefix: refused, nothing stored.
    for query in [
        "code=x&realmId=9130350000000001".to_owned(),
        format!("code=x&realmId={REALM}&state={}", "A".repeat(76)),
        format!("code=x&realmId={REALM}&state={}.{}", uuid::Uuid::now_v7().simple(), "A".repeat(43)),
    ] {
        let r = s.callback(&s.app.url(&format!("/v1/quickbooks/callback?{query}"))).await;
        assert_eq!(r.status, 422, "{query}: {}", r.body);
        assert_eq!(r.problem().errors[0].field, "state");
    }

    // An expired link is refused.
    let expired = consent(&s.connect_link().await).await;
    sqlx::query("update qbo_oauth_states set expires_at = now() - interval '1 second'")
        .execute(&mut s.app.test_db.owner_conn().await)
        .await
        .unwrap();
    let r = s.callback(&expired).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.problem().errors[0].field, "state");

    // A good one connects once; replaying the callback is refused.
    let link = s.connect_link().await;
    let callback = consent(&link).await;
    let r = s.callback(&callback).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let connection = r.value();
    assert_eq!(connection["status"], "connected");
    assert_eq!(connection["realm_id"], REALM);
    let r = s.callback(&callback).await;
    assert_eq!(r.status, 422, "replayed state: {}", r.body);
    assert_eq!(s.sandbox.oauth_counters().code_exchanges, 1, "a replayed state must not spend the code");

    // The state was bound to the owner, the org and the client; the tokens are sealed.
    let mut owner = s.app.test_db.owner_conn().await;
    let (sealed, key_id, connected_by): (Vec<u8>, i32, uuid::Uuid) = sqlx::query_as(
        "select tokens_sealed, token_key_id, connected_by from qbo_connections where client_id = $1::uuid",
    )
    .bind(&s.client)
    .fetch_one(&mut owner)
    .await
    .unwrap();
    assert_eq!(connected_by.to_string(), s.tenant.owner.user_id);
    assert_eq!(key_id, i32::from(s.app.keys.active_key_id()));
    let text = String::from_utf8_lossy(&sealed);
    assert!(!text.contains("access_token") && !text.contains("refresh_token"), "tokens stored in clear");
    let connection_id: uuid::Uuid = connection["id"].as_str().unwrap().parse().unwrap();
    let aad = format!("qbo-tokens:{}:{connection_id}", s.tenant.organization_id);
    let opened: Value = serde_json::from_slice(&s.app.keys.open(&sealed, aad.as_bytes()).unwrap()).unwrap();
    assert!(opened["refresh_token"].as_str().is_some_and(|t| !t.is_empty()));

    // A second connection of the same client is refused while one is live.
    let r = s.callback(&consent(&s.connect_link().await).await).await;
    assert_eq!(r.status, 409, "{}", r.body);

    // The connect queued the first full sync.
    let runs = s.runs().await;
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0]["mode"].as_str(), runs[0]["trigger"].as_str()), (Some("full"), Some("connect")));

    // Disconnect revokes at Intuit and destroys the tokens.
    let r = s.app.delete(&format!("/v1/clients/{}/quickbooks", s.client), s.token()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.value()["revoked"], true);
    assert_eq!(r.value()["connection"]["status"], "disconnected");
    assert_eq!(s.sandbox.oauth_counters().revocations, 1);
    let sealed: Option<Vec<u8>> =
        sqlx::query_scalar("select tokens_sealed from qbo_connections where id = $1")
            .bind(connection_id)
            .fetch_one(&mut owner)
            .await
            .unwrap();
    assert!(sealed.is_none());
    let r = s.app.get(&format!("/v1/clients/{}/quickbooks", s.client), s.token()).await;
    assert_eq!(r.status, 404);

    // Connecting again revives the same connection with fresh sealed tokens.
    let r = s.callback(&consent(&s.connect_link().await).await).await;
    assert_eq!(r.status, 200, "reconnect: {}", r.body);
    assert_eq!(
        (r.value()["id"].as_str(), r.value()["status"].as_str()),
        (Some(&*connection_id.to_string()), Some("connected"))
    );
    let sealed: Option<Vec<u8>> =
        sqlx::query_scalar("select tokens_sealed from qbo_connections where id = $1")
            .bind(connection_id)
            .fetch_one(&mut owner)
            .await
            .unwrap();
    assert!(sealed.is_some(), "a reconnected connection holds tokens");
    // Every step was audited.
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_log where action like 'quickbooks.%' order by occurred_at, id",
    )
    .fetch_all(&mut owner)
    .await
    .unwrap();
    assert!(
        actions.contains(&"quickbooks.connected".to_owned())
            && actions.contains(&"quickbooks.disconnected".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn full_sync_mirrors_the_sandbox_then_incremental_applies_changes_and_deletes() {
    let s = setup(3_000, Faults::default()).await;
    s.connect().await;
    // Connecting read the company's CompanyInfo once (the realm check); count only the sync.
    s.sandbox.reset_counters();
    let worker = s.worker();
    let first = s.runs().await[0]["id"].as_str().unwrap().to_owned();
    let run = s.finished(&first).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let snapshot = s.sandbox_snapshot();
    assert_eq!(s.mirror().await, snapshot, "the mirror must hold exactly the sandbox's entities");
    assert_eq!(
        counted(&run, "upserted") as usize,
        snapshot.len() + 1,
        "each entity written once (+ CompanyInfo)"
    );
    assert_eq!(run["api_calls"].as_u64().unwrap(), s.sandbox.counters(REALM).requests);
    s.assert_within_limits();
    let connection = s.app.get(&format!("/v1/clients/{}/quickbooks", s.client), s.token()).await.value();
    assert_eq!(connection["company_name"], "Sandbox Company US 1");

    // Re-running a full sync changes nothing.
    let again = s.sync("full").await;
    let run = s.finished(&again).await;
    assert_eq!(
        (run["status"].as_str(), counted(&run, "upserted"), counted(&run, "deleted")),
        (Some("succeeded"), 0, 0)
    );
    assert_eq!(s.mirror().await, snapshot);

    // 200 random changes (creates, updates, deactivations, hard deletes): one CDC call.
    let changes = s.sandbox.apply_random_changes(REALM, 200, 7).unwrap();
    let deletes = changes.changes.iter().filter(|c| c.operation == ChangeOperation::Delete).count();
    assert!(deletes > 0, "the change mix should include hard deletes");
    s.sandbox.reset_counters();
    let incremental = s.sync("incremental").await;
    let run = s.finished(&incremental).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["mode"], "incremental");
    assert_eq!(run["api_calls"], 1, "{run}");
    assert_eq!(s.sandbox.counters(REALM).requests, 1);
    assert_eq!(counted(&run, "deleted") as usize, deletes);
    assert_eq!(s.mirror().await, s.sandbox_snapshot(), "changes and deletes applied");

    // The history pages by keyset cursor, newest first, and every id it shows resolves.
    let all = s.runs().await;
    assert_eq!(all.len(), 3);
    let (mut paged, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let query = cursor.as_ref().map_or("limit=1".to_owned(), |c| format!("limit=1&cursor={c}"));
        let r = s.app.get(&format!("/v1/clients/{}/quickbooks/sync-runs?{query}", s.client), s.token()).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let page = r.value();
        for run in page["items"].as_array().unwrap() {
            assert_eq!(s.run(run["id"].as_str().unwrap()).await["id"], run["id"]);
            paged.push(run["id"].clone());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(paged, all.iter().map(|r| r["id"].clone()).collect::<Vec<_>>());
    let sync_runs = format!("/v1/clients/{}/quickbooks/sync-runs", s.client);
    let r = s.app.get(&format!("{sync_runs}?cursor=not-a-cursor"), s.token()).await;
    assert_eq!((r.status, r.problem_slug()), (400, "invalid-cursor".to_owned()), "{}", r.body);
    let r = s.app.get(&format!("{sync_runs}?limit=0"), s.token()).await;
    assert_eq!(r.status, 422, "{}", r.body);

    // The read model over the mirror.
    let r = s
        .app
        .get(&format!("/v1/clients/{}/quickbooks/summary?from=2000-01-01&to=2100-01-01", s.client), s.token())
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let summary = r.value();
    let counts = s.sandbox.counts(REALM).unwrap();
    for (kind, n) in counts {
        assert_eq!(summary["entities"][kind.name()].as_u64().unwrap_or(0) as usize, n, "{}", kind.name());
    }
    let mut tx = TenantTx::begin(&s.app.db, s.org(), Actor::system()).await.unwrap();
    let expected: (String, String) = sqlx::query_as(
        "select to_char(coalesce(sum(total_amount) filter (where entity = 'Invoice'), 0), 'FM999999999990.00'),
                to_char(coalesce(sum(balance) filter (where entity = 'Invoice' and balance > 0), 0), 'FM999999999990.00')
         from qbo_entities",
    )
    .fetch_one(tx.conn())
    .await
    .unwrap();
    assert_eq!(
        (summary["income"].as_str().unwrap(), summary["receivables"].as_str().unwrap()),
        (expected.0.as_str(), expected.1.as_str())
    );
    let r = s
        .app
        .get(&format!("/v1/clients/{}/quickbooks/summary?from=2026-02-01&to=2026-01-01", s.client), s.token())
        .await;
    assert_eq!(r.status, 422);
    worker.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn an_interrupted_full_sync_resumes_where_it_stopped_without_duplicates() {
    // Latency makes the sync long enough to stop it in the middle.
    let s = setup(4_000, Faults { latency_ms: 40, ..Faults::default() }).await;
    s.connect().await;
    let run_id = s.runs().await[0]["id"].as_str().unwrap().to_owned();
    let worker = s.worker();
    // Wait until some pages are committed, then stop the worker abruptly (its job is released).
    loop {
        let run = s.run(&run_id).await;
        let read: u64 =
            run["progress"].as_object().unwrap().values().filter_map(|p| p["read"].as_u64()).sum();
        if read >= 1_000 {
            break;
        }
        assert_ne!(run["status"], "succeeded", "the sync finished before it could be interrupted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.shutdown(Duration::ZERO).await;
    let stopped = s.run(&run_id).await;
    assert_eq!(stopped["status"], "running", "{stopped}");
    let partial = s.mirror().await.len();
    assert!(partial > 0 && partial < s.sandbox_snapshot().len(), "stopped half way: {partial}");

    s.sandbox.set_faults(Faults::default());
    s.sandbox.reset_counters();
    let worker = s.worker();
    let run = s.finished(&run_id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["attempts"], 2);
    assert_eq!(s.mirror().await, s.sandbox_snapshot());
    assert_eq!(
        counted(&run, "upserted") as usize,
        s.sandbox_snapshot().len() + 1,
        "each entity written once"
    );
    s.assert_within_limits();
    let resumed_requests = s.sandbox.counters(REALM).requests;

    // The second attempt started at the stored pages: it needed fewer requests than reading
    // everything again (measured: a full sync of the same company from the start).
    s.sandbox.reset_counters();
    let again = s.sync("full").await;
    assert_eq!(s.finished(&again).await["status"], "succeeded");
    let from_scratch = s.sandbox.counters(REALM).requests;
    assert!(
        resumed_requests + 5 <= from_scratch,
        "resumed with {resumed_requests} requests, from scratch {from_scratch}"
    );
    worker.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn throttle_5xx_and_token_expiry_storms_end_complete_and_within_limits() {
    let faults = Faults {
        throttle_rate: 0.1,
        server_error_rate: 0.1,
        access_token_uses: Some(15),
        ..Faults::default()
    };
    let s = setup_paged(2_000, faults, 50).await;
    s.connect().await;
    let worker = s.worker();
    let run_id = s.runs().await[0]["id"].as_str().unwrap().to_owned();
    let run = s.finished(&run_id).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(s.mirror().await, s.sandbox_snapshot());
    s.assert_within_limits();
    let c = s.sandbox.counters(REALM);
    assert!(c.throttled_injected > 0 && c.server_errors_injected > 0 && c.unauthorized > 0, "{c:?}");
    let refreshes = s.sandbox.oauth_counters().refreshes;
    assert!(refreshes > 0);
    assert_eq!(s.sandbox.oauth_counters().invalid_grants, 0, "a refresh token was spent twice");
    // The rotated refresh token was stored: a new sync still works.
    let again = s.sync("incremental").await;
    assert_eq!(s.finished(&again).await["status"], "succeeded");

    // invalid_grant on refresh: the connection needs reconnecting, the run fails for good.
    s.sandbox.set_faults(Faults { refresh_invalid_grant_rate: 1.0, ..Faults::default() });
    s.sandbox.expire_access_tokens();
    let doomed = s.sync("incremental").await;
    let run = s.finished(&doomed).await;
    assert_eq!(run["status"], "failed", "{run}");
    let connection = s.app.get(&format!("/v1/clients/{}/quickbooks", s.client), s.token()).await.value();
    assert_eq!(connection["status"], "reconnect_needed", "{connection}");
    let r =
        s.app.post(&format!("/v1/clients/{}/quickbooks/sync", s.client), Some(s.token()), &json!({})).await;
    assert_eq!(r.status, 409);
    worker.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn incremental_sync_past_the_cdc_cap_or_the_look_back_still_ends_complete() {
    let s = setup(3_000, Faults::default()).await;
    s.connect().await;
    let worker = s.worker();
    let first = s.runs().await[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(s.finished(&first).await["status"], "succeeded");

    // More changes than one CDC answer holds (1,000 objects): the engine asks again per kind and,
    // for a kind still truncated, reads a LastUpdatedTime window; the mirror ends equal.
    let changes = s.sandbox.apply_random_changes(REALM, 2_500, 11).unwrap();
    assert!(changes.changes.len() > 1_000, "{} changes", changes.changes.len());
    s.sandbox.reset_counters();
    let run = s.finished(&s.sync("incremental").await).await;
    assert_eq!(
        (run["status"].as_str(), run["mode"].as_str()),
        (Some("succeeded"), Some("incremental")),
        "{run}"
    );
    assert!(run["api_calls"].as_u64().unwrap() > 1, "a truncated answer must be followed up: {run}");
    assert_eq!(s.mirror().await, s.sandbox_snapshot(), "every change of a truncated CDC applied");
    s.assert_within_limits();

    // A watermark older than CDC's 30-day look-back: the run becomes a full sync.
    sqlx::query("update qbo_sync_state set watermark = now() - interval '31 days'")
        .execute(&mut s.app.test_db.owner_conn().await)
        .await
        .unwrap();
    s.sandbox.apply_random_changes(REALM, 100, 12).unwrap();
    s.sandbox.reset_counters();
    let run = s.finished(&s.sync("incremental").await).await;
    assert_eq!((run["status"].as_str(), run["mode"].as_str()), (Some("succeeded"), Some("full")), "{run}");
    assert_eq!(s.sandbox.counters(REALM).requests, run["api_calls"].as_u64().unwrap());
    assert_eq!(s.mirror().await, s.sandbox_snapshot());
    worker.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn customers_link_to_clients_by_link_then_by_email_without_touching_the_client() {
    let s = setup(600, Faults::default()).await;
    // Two QuickBooks customers with emails: one matches a client's contact email, the other is
    // named by a client's stored link.
    let emails: Vec<(String, String)> = s
        .sandbox_snapshot()
        .keys()
        .filter(|(kind, _)| kind == "Customer")
        .filter_map(|(_, id)| {
            let json = s
                .sandbox
                .entity_json(REALM, qbo_sandbox::EntityType::Customer, id.parse().unwrap())
                .unwrap()?;
            let v: Value = serde_json::from_str(&json).unwrap();
            Some((id.clone(), v["PrimaryEmailAddr"]["Address"].as_str()?.to_owned()))
        })
        .take(2)
        .collect();
    assert_eq!(emails.len(), 2, "the sandbox company has customers with emails");
    let by_email = create_client(&s.app, &s.tenant, Some(&emails[0].1)).await;
    let by_link = create_client(&s.app, &s.tenant, None).await;
    sqlx::query("update clients set quickbooks_customer_id = $1 where id = $2::uuid")
        .bind(&emails[1].0)
        .bind(&by_link)
        .execute(&mut s.app.test_db.owner_conn().await)
        .await
        .unwrap();
    let before = s.app.get(&format!("/v1/clients/{by_email}"), s.token()).await.value();

    s.connect().await;
    let worker = s.worker();
    let first = s.runs().await[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(s.finished(&first).await["status"], "succeeded");

    let mut tx = TenantTx::begin(&s.app.db, s.org(), Actor::system()).await.unwrap();
    let links: BTreeMap<String, Option<uuid::Uuid>> = sqlx::query_as(
        "select qbo_id, linked_client_id from qbo_entities where entity = 'Customer' and qbo_id = any($1)",
    )
    .bind(vec![emails[0].0.clone(), emails[1].0.clone()])
    .fetch_all(tx.conn())
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert_eq!(links[&emails[0].0].map(|u| u.to_string()), Some(by_email.clone()), "linked by email");
    assert_eq!(
        links[&emails[1].0].map(|u| u.to_string()),
        Some(by_link.clone()),
        "linked by the stored link"
    );
    let linked: i64 =
        sqlx::query_scalar("select count(*) from qbo_entities where linked_client_id is not null")
            .fetch_one(tx.conn())
            .await
            .unwrap();
    assert_eq!(linked, 2, "no other customer is linked");
    drop(tx);
    // The email match recorded the link on the client and changed nothing else of it.
    let after = s.app.get(&format!("/v1/clients/{by_email}"), s.token()).await.value();
    assert_eq!(after["quickbooks_customer_id"].as_str(), Some(emails[0].0.as_str()));
    for field in ["business_name", "primary_contact_email", "status", "tax_id", "industry"] {
        assert_eq!(after[field], before[field], "{field} was changed by the sync");
    }
    worker.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn webhooks_are_verified_and_become_targeted_incremental_syncs() {
    let s = setup(500, Faults::default()).await;
    s.connect().await;
    let worker = s.worker();
    let first = s.runs().await[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(s.finished(&first).await["status"], "succeeded");

    let changes = s.sandbox.apply_random_changes(REALM, 30, 11).unwrap();
    let notification = qbo_sandbox::webhook_notification(REALM, &changes, VERIFIER);
    let post = |signature: String| {
        s.app
            .http
            .post(s.app.url("/v1/quickbooks/webhooks"))
            .header("intuit-signature", signature)
            .header("content-type", "application/json")
            .body(notification.body.clone())
            .send()
    };
    // A wrong signature, and the right one over other bytes, are refused and change nothing.
    let forged = qbo_sandbox::sign_webhook(notification.body.as_bytes(), "not-the-verifier");
    assert_eq!(post(forged).await.unwrap().status(), 401);
    let r = s
        .app
        .http
        .post(s.app.url("/v1/quickbooks/webhooks"))
        .header("intuit-signature", &notification.signature)
        .body(format!("{} ", notification.body))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = s
        .app
        .http
        .post(s.app.url("/v1/quickbooks/webhooks"))
        .body(notification.body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "no signature");
    assert_eq!(s.runs().await.len(), 1);

    let r = post(notification.signature.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["syncs_queued"], 1);
    let runs = s.runs().await;
    assert_eq!(
        (runs[0]["trigger"].as_str(), runs[0]["mode"].as_str()),
        (Some("webhook"), Some("incremental"))
    );
    let run = s.finished(runs[0]["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["api_calls"], 1);
    let kinds: std::collections::BTreeSet<&str> = changes.changes.iter().map(|c| c.entity.name()).collect();
    let synced: std::collections::BTreeSet<&str> =
        run["counts"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(synced, kinds, "only the kinds the webhook named");
    assert_eq!(s.mirror().await, s.sandbox_snapshot());
    let mut owner = s.app.test_db.owner_conn().await;
    let events: i64 =
        sqlx::query_scalar("select count(*) from qbo_webhook_events").fetch_one(&mut owner).await.unwrap();
    assert_eq!(events, 1);
    worker.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn the_callback_binds_the_realm_to_the_authorization_and_a_company_feeds_one_client() {
    let s = setup_companies(2, 40, Faults::default(), 200).await;
    // The user consented to REALM; a callback whose realmId was changed to the other company, or
    // to one that does not exist, stores nothing.
    for other in [REALM2, "9130359999999999"] {
        let callback = consent(&format!("{}&realm_id={REALM}", s.connect_link().await)).await;
        assert!(callback.contains(&format!("realmId={REALM}")), "{callback}");
        let tampered = callback.replace(&format!("realmId={REALM}"), &format!("realmId={other}"));
        let r = s.callback(&tampered).await;
        assert_eq!(r.status, 422, "{other}: {}", r.body);
        let problem = r.problem();
        assert_eq!(problem.errors[0].field, "realmId");
        assert!(problem.errors[0].message.contains(other), "{}", r.body);
        let r = s.app.get(&format!("/v1/clients/{}/quickbooks", s.client), s.token()).await;
        assert_eq!(r.status, 404, "a refused callback must store nothing: {}", r.body);
    }
    let mut owner = s.app.test_db.owner_conn().await;
    let rows: i64 =
        sqlx::query_scalar("select count(*) from qbo_connections").fetch_one(&mut owner).await.unwrap();
    assert_eq!(rows, 0);

    // The untouched callback connects, with the company's name read through the new tokens.
    let r = s.callback(&consent(&format!("{}&realm_id={REALM}", s.connect_link().await)).await).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let connection = r.value();
    assert_eq!(
        (connection["realm_id"].as_str(), connection["status"].as_str()),
        (Some(REALM), Some("connected"))
    );
    assert_eq!(connection["company_name"], "Sandbox Company US 1");

    // Another client picking the company already connected is told so; the sandbox's consent
    // otherwise picks the next company, which connects.
    let other = create_client(&s.app, &s.tenant, None).await;
    let link = s.connect_link_for(&other).await;
    let r = s.callback(&consent(&format!("{link}&realm_id={REALM}")).await).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let detail = r.problem().detail;
    assert!(detail.contains("already connected to another client"), "{detail}");
    let r = s.callback(&consent(&s.connect_link_for(&other).await).await).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.value()["realm_id"].as_str(), r.value()["client_id"].as_str()),
        (Some(REALM2), Some(&*other))
    );
    // A client with a live connection is still told that.
    let r = s.callback(&consent(&format!("{}&realm_id={REALM}", s.connect_link().await)).await).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.problem().detail.contains("the client already has a live QuickBooks connection"), "{}", r.body);
}

#[tokio::test]
async fn a_connection_intuit_refuses_needs_reconnecting_and_stops_syncing_until_connected_again() {
    let s = setup_companies(2, 40, Faults::default(), 200).await;
    let connection = s.connect().await;
    let connection_id: uuid::Uuid = connection["id"].as_str().unwrap().parse().unwrap();
    let worker = s.worker();
    let first = s.runs().await[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(s.finished(&first).await["status"], "succeeded");
    let routed = |qb: QuickBooks| async move {
        qbo_sync::connections::all_routes(&qb).await.unwrap().iter().any(|(_, c)| *c == connection_id)
    };
    assert!(routed(s.qb.clone()).await, "a live connection is scheduled");

    // The realm the connection names is one its tokens are not for (what a trusted, edited
    // callback used to store): Intuit answers 403, and the connection needs reconnecting.
    sqlx::query("update qbo_connections set realm_id = $1 where id = $2")
        .bind(REALM2)
        .bind(connection_id)
        .execute(&mut s.app.test_db.owner_conn().await)
        .await
        .unwrap();
    let run = s.finished(&s.sync("incremental").await).await;
    assert_eq!(run["status"], "failed", "{run}");
    let refused = s.connection().await;
    assert_eq!(refused["status"], "reconnect_needed", "{refused}");
    assert!(refused["status_reason"].as_str().unwrap().contains("AuthorizationFault"), "{refused}");
    assert!(!routed(s.qb.clone()).await, "no schedule or webhook may queue syncs for it");
    let sync = format!("/v1/clients/{}/quickbooks/sync", s.client);
    let r = s.app.post(&sync, Some(s.token()), &json!({})).await;
    assert_eq!(r.status, 409, "{}", r.body);

    // Connecting that company again revives the connection, and it syncs.
    let link = s.connect_link().await;
    let r = s.callback(&consent(&format!("{link}&realm_id={REALM2}")).await).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.value()["id"].as_str(), r.value()["status"].as_str()),
        (Some(&*connection_id.to_string()), Some("connected"))
    );
    assert!(routed(s.qb.clone()).await);
    let run = s.runs().await[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(s.finished(&run).await["status"], "succeeded");

    // Access tokens refused even right after a refresh (401 twice): reconnect too.
    s.sandbox.set_faults(Faults { access_token_uses: Some(0), ..Faults::default() });
    s.sandbox.expire_access_tokens();
    let run = s.finished(&s.sync("incremental").await).await;
    assert_eq!(run["status"], "failed", "{run}");
    assert!(s.sandbox.oauth_counters().refreshes > 0, "a 401 is answered by a refresh first");
    assert_eq!(s.connection().await["status"], "reconnect_needed");
    assert!(!routed(s.qb.clone()).await);
    worker.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_sync_asked_for_while_a_jobs_key_is_held_answers_with_a_run_that_resolves() {
    let s = setup(40, Faults::default()).await;
    s.connect().await;
    let first = s.runs().await[0]["id"].as_str().unwrap().to_owned();
    // The run is recorded as ended while its job still holds the connection's unique key (the
    // moment between a worker's last write and the job's completion).
    sqlx::query("update qbo_sync_runs set status = 'failed', finished_at = now() where id = $1::uuid")
        .bind(&first)
        .execute(&mut s.app.test_db.owner_conn().await)
        .await
        .unwrap();
    let sync = format!("/v1/clients/{}/quickbooks/sync", s.client);
    let r = s.app.post(&sync, Some(s.token()), &json!({"mode": "full"})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let answered = r.value();
    assert_eq!(answered["already_queued"], true, "{answered}");
    let id = answered["run_id"].as_str().unwrap();
    assert_eq!(s.run(id).await["id"], id, "the run the API answered with must resolve");
    assert!(s.runs().await.iter().any(|r| r["id"] == id), "and be listed");
    assert_eq!(id, first, "the run of the job holding the key");

    // Bodies that are not JSON objects are refused and queue nothing.
    for body in [json!([]), json!(["full"]), json!("full"), json!(1), json!(null)] {
        let r = s.app.post(&sync, Some(s.token()), &body).await;
        assert_eq!((r.status, r.problem_slug()), (422, "validation".to_owned()), "{body}: {}", r.body);
        assert!(r.problem().detail.contains("must be a JSON object"), "{}", r.body);
    }
    let r = s.app.post(&sync, Some(s.token()), &json!({"mode": "sideways"})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(s.runs().await.len(), 1);
}

/// For the isolation proofs: a QuickBooks connection of `client` with a synced mirror, a run
/// history, an unused connect state and a webhook event, made through the library (the proofs'
/// app has no QuickBooks configured). Returns (connection id, a sync run id).
pub(crate) async fn populate(app: &TestApp, t: &Tenant, client: &str) -> (String, String) {
    let sandbox = sandbox(60, Faults::default()).await;
    let qb = QuickBooks::new(qb_config(&sandbox), app.db.clone(), app.keys.clone()).await.unwrap();
    let org: OrganizationId = t.organization_id.parse().unwrap();
    let client_id = domain::ClientId::from_uuid(client.parse().unwrap());
    let user = domain::UserId::from_uuid(t.owner.user_id.parse().unwrap());
    let mut links = Vec::new();
    for _ in 0..2 {
        let mut tx = TenantTx::begin(&app.db, org, Actor::system()).await.unwrap();
        links.push(qbo_sync::connect::start_connect(&qb, &mut tx, client_id, user).await.unwrap());
        tx.commit().await.unwrap();
    }
    let callback = reqwest::Url::parse(&consent(&links[0].authorization_url).await).unwrap();
    let param = |name: &str| callback.query_pairs().find(|(k, _)| k == name).unwrap().1.into_owned();
    let (_, connection) =
        qbo_sync::connect::complete_connect(&qb, &param("state"), &param("code"), &param("realmId"))
            .await
            .unwrap();
    let mut tx = TenantTx::begin(&app.db, org, Actor::system()).await.unwrap();
    let run: uuid::Uuid = sqlx::query_scalar("select id from qbo_sync_runs where connection_id = $1")
        .bind(connection.id)
        .fetch_one(tx.conn())
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    qbo_sync::engine::run(&qb, org, run, None, None).await.unwrap();
    let changes = sandbox.apply_random_changes(REALM, 5, 3).unwrap();
    let notification = qbo_sandbox::webhook_notification(REALM, &changes, VERIFIER);
    qbo_sync::webhooks::receive(&qb, notification.body.as_bytes(), &notification.signature).await.unwrap();
    (connection.id.to_string(), run.to_string())
}
