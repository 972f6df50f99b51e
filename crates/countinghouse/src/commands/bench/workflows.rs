//! `countinghouse bench workflows`: the workflow engine through its use cases, in this process,
//! against DATABASE_URL.
//!
//! Each run: a fresh firm with `--members` staff members and scored routing; the 1040 system
//! template (seven steps in a chain) started for each of `--clients` clients — the first step
//! routed in the starting transaction — then every step of every run completed in turn, each
//! completion readying and routing the next. One call at a time: the figures are the latency of
//! one use case (lock the run, apply the state machine, write the steps, route, audit, commit)
//! and what one connection sustains.
//!
//! Then the bulk start: the same template for 1,000 further clients in one request, through the
//! use case that answers 202 and a real job worker (`workflow.bulk_start`), timed from the request
//! until the bulk start reads `done` — every run created, routed and audited.

use std::process::ExitCode;
use std::time::Instant;

use api_types::workflows::{RoutingSettingsBody, StartRunRequest};
use chrono::{Days, Utc};
use domain::Role;
use domain::workflow::StepAction;
use domain::workflow::routing::Routing;
use domain::workflow::system::system_templates;

use super::harness;
use crate::cli::BenchArgs;
use crate::config::Config;
use crate::runtime::{self, Database};

struct RunFigures {
    start_ms: Vec<f64>,
    complete_ms: Vec<f64>,
    steps_per_second: f64,
    routed_share: f64,
    bulk_seconds: f64,
}

/// Clients in the bulk start (the figure: 1,000 clients in one request, ≤ 2 s).
const BULK_CLIENTS: usize = 1000;

pub async fn run(args: &BenchArgs, config: &Config) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.runs > 0 && args.clients > 0 && args.members > 0,
        "runs, clients and members must be positive"
    );
    harness::with_database(config, async |database| runs(args, config, database).await).await
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn runs(args: &BenchArgs, config: &Config, database: &Database) -> anyhow::Result<ExitCode> {
    let db = database.connect().await?;
    let keys = runtime::key_ring(config)?;
    let cache = runtime::cache(config)?;
    let identity = runtime::identity(config, db.clone(), keys.clone(), cache)?;
    let practice = practice::Practice::new(db.clone(), keys);
    let mut registry = jobs::Registry::new();
    workflow_recurrence::register(&mut registry, practice.clone());
    let worker = jobs::Worker::new(
        db.pool().clone(),
        registry,
        jobs::WorkerConfig {
            queues: vec![jobs::QueueConfig::new(practice::workflow_jobs::QUEUE)],
            ..jobs::WorkerConfig::default()
        },
    )
    .start();
    let mut all = Vec::new();
    for run in 1..=args.runs {
        let f = one_run(args, &identity, &practice).await?;
        eprintln!(
            "run {run}/{}: start p50 {:.2} ms, complete p50 {:.2} ms, {:.0} steps/s, {:.0}% routed, \
             bulk start of {BULK_CLIENTS} clients {:.2} s",
            args.runs,
            percentile(&f.start_ms, 0.5),
            percentile(&f.complete_ms, 0.5),
            f.steps_per_second,
            f.routed_share * 100.0,
            f.bulk_seconds
        );
        all.push(f);
    }
    worker.shutdown(std::time::Duration::from_secs(10)).await;
    println!(
        "Scenario: {} clients, the 1040 template (7 steps), {} members, scored routing; then a bulk start \
         of the same template for {BULK_CLIENTS} more clients through the job queue.",
        args.clients, args.members
    );
    harness::print_median_table(&[
        ("start a run (ms), p50".into(), all.iter().map(|f| percentile(&f.start_ms, 0.5)).collect()),
        ("start a run (ms), p99".into(), all.iter().map(|f| percentile(&f.start_ms, 0.99)).collect()),
        ("complete a step (ms), p50".into(), all.iter().map(|f| percentile(&f.complete_ms, 0.5)).collect()),
        ("complete a step (ms), p99".into(), all.iter().map(|f| percentile(&f.complete_ms, 0.99)).collect()),
        (
            "steps completed per second, one connection".into(),
            all.iter().map(|f| f.steps_per_second).collect(),
        ),
        ("steps routed on becoming ready (%)".into(), all.iter().map(|f| f.routed_share * 100.0).collect()),
        (
            format!("bulk start, {BULK_CLIENTS} clients: request → all runs created (s)"),
            all.iter().map(|f| f.bulk_seconds).collect(),
        ),
    ]);
    Ok(ExitCode::SUCCESS)
}

async fn one_run(
    args: &BenchArgs,
    identity: &identity::Identity,
    practice: &practice::Practice,
) -> anyhow::Result<RunFigures> {
    let firm = harness::bench_firm(identity, practice, "wf-bench", "Client 0").await?;
    let owner = &firm.caller;
    let meta = identity::RequestMeta::default();
    for i in 0..args.members {
        let role = if i % 3 == 0 { Role::Cpa } else { Role::Staff };
        let invited = identity.invite(owner, &format!("member{i}@wf-bench.test"), None, role).await?;
        identity.accept_invitation(&invited.token, None, "bench-password-2026", &meta).await?;
    }
    practice
        .save_workflow_settings(
            owner,
            RoutingSettingsBody {
                routing: Routing::Scored,
                ab_routing: None,
                ab_percent: 0,
                time_zone: None,
            },
        )
        .await?;
    let template = system_templates().into_iter().find(|t| t.code == "tax_return_1040").map(|t| t.id());
    let template = template.ok_or_else(|| anyhow::anyhow!("the 1040 system template is missing"))?;
    let due = Utc::now().date_naive() + Days::new(120);
    let mut clients = vec![firm.client];
    for i in 1..args.clients {
        let req = api_types::clients::CreateClientRequest {
            business_name: format!("Client {i}"),
            ..Default::default()
        };
        clients.push(practice.create_client(owner, req).await?.id);
    }
    let mut start_ms = Vec::new();
    let mut runs = Vec::new();
    for client in clients {
        let req = StartRunRequest {
            client_id: client,
            template_id: template,
            engagement_id: None,
            due_date: due,
            name: None,
        };
        let t = Instant::now();
        let run = practice.start_workflow_run(owner, req).await?;
        start_ms.push(t.elapsed().as_secs_f64() * 1e3);
        runs.push(run);
    }
    let (mut complete_ms, mut routed, mut steps) = (Vec::new(), 0usize, 0usize);
    let began = Instant::now();
    for run in &runs {
        routed += usize::from(run.steps[0].assignee.is_some());
        for (i, step) in run.steps.iter().enumerate() {
            let t = Instant::now();
            let after =
                practice.act_on_workflow_step(owner, run.summary.id, &step.key, StepAction::Complete).await?;
            complete_ms.push(t.elapsed().as_secs_f64() * 1e3);
            steps += 1;
            if let Some(next) = after.steps.get(i + 1) {
                routed += usize::from(next.assignee.is_some());
            }
        }
    }
    let steps_per_second = steps as f64 / began.elapsed().as_secs_f64();

    let mut bulk = Vec::with_capacity(BULK_CLIENTS);
    for i in 0..BULK_CLIENTS {
        let req = api_types::clients::CreateClientRequest {
            business_name: format!("Bulk client {i}"),
            ..Default::default()
        };
        bulk.push(practice.create_client(owner, req).await?.id);
    }
    let t = Instant::now();
    let req = api_types::workflow_recurrence::BulkStartRequest {
        template_id: template,
        client_ids: bulk,
        all_active: false,
        due_date: due,
        name: None,
    };
    let accepted = practice.start_workflow_bulk(owner, req).await?;
    loop {
        let b = practice.workflow_bulk(owner, accepted.id).await?;
        if b.status == domain::workflow::recurrence::BulkStatus::Done {
            anyhow::ensure!(b.started as usize == BULK_CLIENTS, "the bulk start created {} runs", b.started);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let bulk_seconds = t.elapsed().as_secs_f64();
    Ok(RunFigures {
        start_ms,
        complete_ms,
        steps_per_second,
        routed_share: routed as f64 / steps.max(1) as f64,
        bulk_seconds,
    })
}
