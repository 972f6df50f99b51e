//! `countinghouse bench workflows`: the workflow engine through its use cases, in this process,
//! against DATABASE_URL.
//!
//! Each run: a fresh firm with `--members` staff members and scored routing; the 1040 system
//! template (seven steps in a chain) started for each of `--clients` clients — the first step
//! routed in the starting transaction — then every step of every run completed in turn, each
//! completion readying and routing the next. One call at a time: the figures are the latency of
//! one use case (lock the run, apply the state machine, write the steps, route, audit, commit)
//! and what one connection sustains.

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
}

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
    let mut all = Vec::new();
    for run in 1..=args.runs {
        let f = one_run(args, &identity, &practice).await?;
        eprintln!(
            "run {run}/{}: start p50 {:.2} ms, complete p50 {:.2} ms, {:.0} steps/s, {:.0}% routed",
            args.runs,
            percentile(&f.start_ms, 0.5),
            percentile(&f.complete_ms, 0.5),
            f.steps_per_second,
            f.routed_share * 100.0
        );
        all.push(f);
    }
    println!(
        "Scenario: {} clients, the 1040 template (7 steps), {} members, scored routing.",
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
            RoutingSettingsBody { routing: Routing::Scored, ab_routing: None, ab_percent: 0 },
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
    Ok(RunFigures {
        start_ms,
        complete_ms,
        steps_per_second,
        routed_share: routed as f64 / steps.max(1) as f64,
    })
}
