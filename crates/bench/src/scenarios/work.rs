//! "My work" (`GET /v1/me/work`): each signed-in member's open run steps and tasks, soonest due
//! first, and the other views of the board (to review, overdue, due this week).
//!
//! Setup, once per firm: every client gets a run of a system template (thousands of open steps in
//! the firm), and each member who has fewer than [`PER_MEMBER`] open items gets tasks
//! (due dates spread over four months around today, reviewed by the next member) and the first
//! steps of runs of a system template, given to them by bulk reassignment — so the lists merge
//! both kinds and the views have rows.

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{Days, Utc};
use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use super::{Credentials, MakeRequest, call, login};
use crate::{BenchError, Request};

/// Open items per member: a few pages of 50.
const PER_MEMBER: usize = 150;
/// Of them, run steps (the rest are tasks).
const STEPS_PER_MEMBER: usize = 30;

async fn ok(
    addr: SocketAddr,
    method: http::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Result<Value, BenchError> {
    let (status, v) = call(addr, method, path, Some(token), body).await?;
    if !(200..300).contains(&status) {
        return Err(BenchError::Setup(format!("{path} answered {status}: {v}")));
    }
    Ok(v)
}

/// Gives each member enough open work; `tokens[0]` must run workflows (the seeded owner does).
async fn seed_work(addr: SocketAddr, tokens: &[Arc<str>]) -> Result<(), BenchError> {
    let admin = tokens[0].as_ref();
    let mut members = Vec::new();
    for t in tokens {
        members.push(
            ok(addr, http::Method::GET, "/v1/me", t, None).await?["user"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    let clients = ok(addr, http::Method::GET, "/v1/clients?limit=200", admin, None).await?;
    let clients: Vec<String> = clients["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["id"].as_str().map(str::to_owned))
        .collect();
    if clients.is_empty() {
        return Err(BenchError::Setup(
            "the firm has no clients; seed it first: countinghouse seed --scale seed".into(),
        ));
    }
    let templates = ok(addr, http::Method::GET, "/v1/workflow-templates", admin, None).await?;
    let template = templates[0]["id"].as_str().unwrap_or_default().to_owned();
    let today = Utc::now().date_naive();
    run_for_every_client(addr, admin, &template, today + Days::new(60)).await?;
    let mut rng = SmallRng::seed_from_u64(7);
    for (m, (member, token)) in members.iter().zip(tokens).enumerate() {
        let have = ok(addr, http::Method::GET, "/v1/me/work?limit=200", token, None).await?;
        let have = have["items"].as_array().map_or(0, Vec::len);
        if have >= PER_MEMBER {
            continue;
        }
        let reviewer = &members[(m + 1) % members.len()];
        for i in 0..PER_MEMBER - STEPS_PER_MEMBER {
            let due = today - Days::new(30) + Days::new(rng.random_range(0..120));
            let client = clients.choose(&mut rng).cloned().unwrap_or_default();
            let body = json!({"title": format!("Bench task {i}"), "client_id": client, "assignee": member,
                "reviewer": reviewer, "due_date": due, "estimated_hours": "1.5"});
            ok(addr, http::Method::POST, "/v1/tasks", admin, Some(body)).await?;
        }
        let mut steps = Vec::new();
        for _ in 0..STEPS_PER_MEMBER {
            let client = clients.choose(&mut rng).cloned().unwrap_or_default();
            let due = today + Days::new(rng.random_range(14..90));
            let body = json!({"client_id": client, "template_id": template, "due_date": due});
            let run = ok(addr, http::Method::POST, "/v1/workflow-runs", admin, Some(body)).await?;
            if let Some(s) = run["steps"][0]["id"].as_str() {
                steps.push(s.to_owned());
            }
        }
        let body = json!({"items": steps, "assignee": member});
        ok(addr, http::Method::POST, "/v1/work-items/reassign", admin, Some(body)).await?;
    }
    Ok(())
}

/// Every client of the firm gets a run of `template` (if it has none yet), as a firm in season
/// has: the lists then read among thousands of open steps, not only the members' own.
async fn run_for_every_client(
    addr: SocketAddr,
    token: &str,
    template: &str,
    due: chrono::NaiveDate,
) -> Result<(), BenchError> {
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/clients?limit=200&cursor={c}"),
            None => "/v1/clients?limit=200".to_owned(),
        };
        let page = ok(addr, http::Method::GET, &path, token, None).await?;
        for id in page["items"].as_array().into_iter().flatten().filter_map(|c| c["id"].as_str()) {
            let runs =
                ok(addr, http::Method::GET, &format!("/v1/clients/{id}/workflow-runs"), token, None).await?;
            if runs["items"].as_array().is_none_or(Vec::is_empty) {
                let body = json!({"client_id": id, "template_id": template, "due_date": due});
                ok(addr, http::Method::POST, "/v1/workflow-runs", token, Some(body)).await?;
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return Ok(()),
        }
    }
}

pub async fn prepare(addr: SocketAddr, creds: &Credentials) -> Result<MakeRequest, BenchError> {
    let mut tokens = Vec::new();
    for email in &creds.emails {
        tokens.push(login(addr, &creds.organization, email, &creds.password).await?);
    }
    seed_work(addr, &tokens).await?;
    // Second pages: each member's cursor after the first 50.
    let mut cursors = Vec::new();
    for t in &tokens {
        let first = ok(addr, http::Method::GET, "/v1/me/work?limit=50", t, None).await?;
        cursors.push(first["next_cursor"].as_str().map(str::to_owned));
    }
    let mut rng = SmallRng::seed_from_u64(42);
    Ok(Box::new(move |_| {
        let i = rng.random_range(0..tokens.len());
        let t = &tokens[i];
        match (rng.random_range(0..10), &cursors[i]) {
            (0..6, _) => Request::get("/v1/me/work?limit=50", t),
            (6, Some(c)) => Request::get(format!("/v1/me/work?limit=50&cursor={c}"), t),
            (7, _) => Request::get("/v1/me/work?view=review&limit=50", t),
            (8, _) => Request::get("/v1/me/work?view=overdue&limit=50", t),
            _ => Request::get("/v1/me/work?view=week&limit=50", t),
        }
    }))
}
