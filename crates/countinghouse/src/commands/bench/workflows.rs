//! `countinghouse bench workflows`: the workflow engine through its use cases, in this process,
//! against DATABASE_URL.
//!
//! Each run: a fresh firm with `--members` staff members and scored routing; the 1040 system
//! template (seven steps in a chain) started for each of `--clients` clients one call at a time
//! (the latency of one start: copy the steps, route the first, audit). Then the steps are
//! completed in waves — step 1 of every run, then step 2, … — paced at `--rate` completions per
//! second, open loop, each latency counted from when the call was due: a completion locks the
//! run, applies the state machine, writes the steps, routes the one it made ready, notifies and
//! audits, all in one transaction.
//!
//! Then the bulk start: the same template for 1,000 further clients in one request, through the
//! use case that answers 202 and a real job worker (`workflow.bulk_start`), timed from the request
//! until the bulk start reads `done` — every run created, routed and audited.
//!
//! Last, routing decisions on their own: the scorer over `--members` candidates, no I/O.

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
    routing_per_second: f64,
}

/// Clients in the bulk start (the figure: 1,000 clients in one request, ≤ 2 s).
const BULK_CLIENTS: usize = 1000;
/// Decisions timed for the routing figure (the target: ≥ 5,000 per second).
const ROUTING_DECISIONS: usize = 200_000;

pub async fn run(args: &BenchArgs, config: &Config) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.runs > 0 && args.clients > 0 && args.members > 0,
        "runs, clients and members must be positive"
    );
    harness::with_database(config, async |database| runs(args, config, database).await).await
}

/// Calls `call` once per item at `rate` per second (open loop: a slow call does not delay the
/// next), and returns each call's latency in ms — counted from when it was due, so a backlog
/// shows — with its result.
async fn paced<T, R, F, Fut>(rate: f64, items: &[T], call: F) -> anyhow::Result<Vec<(f64, R)>>
where
    F: Fn(&T) -> Fut,
    Fut: Future<Output = anyhow::Result<R>> + Send + 'static,
    R: Send + 'static,
{
    let gap = std::time::Duration::from_secs_f64(1.0 / rate);
    let mut ticks = tokio::time::interval(gap);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut calls = tokio::task::JoinSet::new();
    let began = Instant::now();
    for (n, item) in items.iter().enumerate() {
        ticks.tick().await;
        let due = began + gap * n as u32;
        let fut = call(item);
        calls.spawn(async move {
            let r = fut.await?;
            anyhow::Ok((due.elapsed().as_secs_f64() * 1e3, r))
        });
    }
    let mut out = Vec::with_capacity(items.len());
    while let Some(done) = calls.join_next().await {
        out.push(done??);
    }
    Ok(out)
}

/// Routing decisions per second, on their own: the firm's scorer choosing among `members`
/// candidates (varied roles, loads, skills and past hours) for `decisions` steps in turn, each
/// decision adding its hours to the chosen member as the engine does. One core, no I/O.
fn routing_decisions_per_second(members: usize, decisions: usize) -> anyhow::Result<f64> {
    use domain::workflow::routing::{Candidate, TaskNeeds, rank};
    use rust_decimal::Decimal;
    let mut candidates: Vec<Candidate> = (0..members)
        .map(|i| Candidate {
            user: domain::UserId::new(),
            role: [Role::Cpa, Role::Staff, Role::Manager][i % 3],
            open_hours: Decimal::from(i as i64 * 3 % 40),
            weekly_capacity: Decimal::from(40),
            skills: if i % 2 == 0 { vec!["tax".into(), "1040".into()] } else { vec!["bookkeeping".into()] },
            past_hours: (i % 4 != 0).then(|| Decimal::new(15 + i as i64 % 20, 1)),
            away: i % 11 == 5,
            last_assigned_at: None,
        })
        .collect();
    let needs = [
        TaskNeeds {
            role: Some(Role::Staff),
            skill: Some("tax".into()),
            estimated_hours: Decimal::new(15, 1),
            priority: domain::Priority::Normal,
        },
        TaskNeeds {
            role: Some(Role::Cpa),
            skill: None,
            estimated_hours: Decimal::from(2),
            priority: domain::Priority::High,
        },
    ];
    let began = Instant::now();
    let mut chosen = 0usize;
    for n in 0..decisions {
        let task = &needs[n % needs.len()];
        if let Some(best) = rank(task, &candidates).into_iter().next() {
            chosen += 1;
            if let Some(c) = candidates.iter_mut().find(|c| c.user == best.user) {
                c.open_hours += task.estimated_hours;
            }
        }
    }
    anyhow::ensure!(chosen == decisions, "the scorer chose nobody for {} steps", decisions - chosen);
    Ok(decisions as f64 / began.elapsed().as_secs_f64())
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
    let mut loads = Vec::new();
    for run in 1..=args.runs {
        let load = harness::load_before();
        let f = one_run(args, &identity, &practice).await?;
        eprintln!(
            "run {run}/{}: load {} before; start p50 {:.2} ms, complete p50 {:.2} / p99 {:.2} ms at {:.0} steps/s, \
             {:.0}% routed, bulk start of {BULK_CLIENTS} clients {:.2} s, {:.0} routing decisions/s",
            args.runs,
            harness::show_load(load),
            percentile(&f.start_ms, 0.5),
            percentile(&f.complete_ms, 0.5),
            percentile(&f.complete_ms, 0.99),
            f.steps_per_second,
            f.routed_share * 100.0,
            f.bulk_seconds,
            f.routing_per_second,
        );
        all.push(f);
        loads.push(load);
    }
    worker.shutdown(std::time::Duration::from_secs(10)).await;
    println!(
        "Scenario: {} clients, the 1040 template (7 steps), {} members, scored routing; completions \
         paced at {}/s (open loop); then a bulk start of the same template for {BULK_CLIENTS} more clients \
         through the job queue; then {ROUTING_DECISIONS} routing decisions on their own.",
        args.clients, args.members, args.rate
    );
    harness::print_median_table(&[
        ("start a run (ms), p50".into(), all.iter().map(|f| percentile(&f.start_ms, 0.5)).collect()),
        ("start a run (ms), p99".into(), all.iter().map(|f| percentile(&f.start_ms, 0.99)).collect()),
        ("complete a step (ms), p50".into(), all.iter().map(|f| percentile(&f.complete_ms, 0.5)).collect()),
        ("complete a step (ms), p99".into(), all.iter().map(|f| percentile(&f.complete_ms, 0.99)).collect()),
        ("steps completed per second (achieved)".into(), all.iter().map(|f| f.steps_per_second).collect()),
        ("steps routed on becoming ready (%)".into(), all.iter().map(|f| f.routed_share * 100.0).collect()),
        (
            format!("bulk start, {BULK_CLIENTS} clients: request → all runs created (s)"),
            all.iter().map(|f| f.bulk_seconds).collect(),
        ),
        ("routing decisions per second, one core".into(), all.iter().map(|f| f.routing_per_second).collect()),
        harness::load_row(&loads),
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
    let steps_per_run = runs.first().map_or(0, |r| r.steps.len());
    let mut routed: usize = runs.iter().map(|r| usize::from(r.steps[0].assignee.is_some())).sum();
    let (mut complete_ms, mut steps) = (Vec::new(), 0usize);
    let began = Instant::now();
    // Step i of every run, paced at --rate; a run's next step is ready once this wave is done.
    for i in 0..steps_per_run {
        let wave = paced(args.rate, &runs, |run| {
            let (practice, owner, key) = (practice.clone(), owner.clone(), run.steps[i].key.clone());
            let id = run.summary.id;
            async move {
                let after = practice.act_on_workflow_step(&owner, id, &key, StepAction::Complete).await?;
                Ok(after.steps.get(i + 1).is_some_and(|s| s.assignee.is_some()))
            }
        })
        .await?;
        for (ms, routed_next) in wave {
            complete_ms.push(ms);
            routed += usize::from(routed_next);
            steps += 1;
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
        routing_per_second: routing_decisions_per_second(args.members, ROUTING_DECISIONS)?,
    })
}
