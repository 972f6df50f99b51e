//! The firm's everyday reads: client list pages, search, detail, invoices with AR aging.

use std::net::SocketAddr;
use std::sync::Arc;

use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use super::{Credentials, MakeRequest, call, login};
use crate::{BenchError, Request};

/// The firm's read scenarios (`countinghouse bench list` prints each with its help).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FirmScenario {
    /// client list pages: first page, filtered, by revenue, deeper pages by cursor
    ClientsList,
    /// client search by name prefixes, whole words and typos
    ClientsSearch,
    /// one client by id, across a few thousand clients
    ClientDetail,
    /// invoice list pages (all, overdue) and the AR aging summary
    Invoices,
    /// list 40% / detail 40% / search 20%
    ClientsMix,
    /// GET /v1/me: authentication and one read (the floor of any authenticated request)
    Me,
    /// the console's dashboard page, as a signed-in browser loads it
    PageDashboard,
    /// the console's client list pages: first page, filtered, sorted, deeper by cursor
    PageClients,
    /// the console's page of one client (overview tab)
    PageClient,
    /// GET /v1/me/work: each member's open run steps and tasks (first and second pages, to review, overdue, this week)
    MyWork,
}

struct Pools {
    tokens: Vec<Arc<str>>,
    client_ids: Vec<String>,
    cursors: Vec<String>,
    terms: Vec<String>,
}

async fn pools(addr: SocketAddr, creds: &Credentials, want_ids: usize) -> Result<Pools, BenchError> {
    let mut tokens = Vec::new();
    for email in &creds.emails {
        tokens.push(login(addr, &creds.organization, email, &creds.password).await?);
    }
    let token = tokens[0].clone();
    let (mut client_ids, mut cursors, mut names) = (Vec::new(), Vec::new(), Vec::new());
    let mut path = "/v1/clients?limit=200".to_owned();
    while client_ids.len() < want_ids {
        let (status, page): (u16, Value) = call(addr, http::Method::GET, &path, Some(&token), None).await?;
        if status != 200 {
            return Err(BenchError::Setup(format!("listing clients answered {status}: {page}")));
        }
        for c in page["items"].as_array().into_iter().flatten() {
            client_ids.push(c["id"].as_str().unwrap_or_default().to_owned());
            names.push(c["business_name"].as_str().unwrap_or_default().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cur) => {
                cursors.push(cur.to_owned());
                path = format!("/v1/clients?limit=200&cursor={cur}");
            }
            None => break,
        }
    }
    if client_ids.is_empty() {
        return Err(BenchError::Setup(
            "the firm has no clients; seed it first: countinghouse seed --scale seed".into(),
        ));
    }
    // Search terms: whole words, 3–5 letter prefixes, and a typo (a doubled letter).
    let mut terms = Vec::new();
    for n in names.iter().take(400) {
        let first = n.split_whitespace().next().unwrap_or("a").to_lowercase();
        let second = n.split_whitespace().nth(1).unwrap_or("a").to_lowercase();
        terms.push(first.clone());
        terms.push(format!("{} {}", first, &second[..second.len().min(3)]));
        terms.push(first.chars().take(4).collect());
        let mut typo: String = first.clone();
        if let Some(c) = first.chars().nth(2) {
            typo.insert(2, c);
        }
        terms.push(typo);
    }
    terms.sort();
    terms.dedup();
    Ok(Pools { tokens, client_ids, cursors, terms })
}

pub async fn prepare(
    scenario: FirmScenario,
    addr: SocketAddr,
    creds: &Credentials,
) -> Result<MakeRequest, BenchError> {
    if scenario == FirmScenario::MyWork {
        return super::work::prepare(addr, creds).await;
    }
    let p = pools(addr, creds, if scenario == FirmScenario::Me { 1 } else { 4000 }).await?;
    let mut rng = SmallRng::seed_from_u64(42);
    let pick_token =
        |rng: &mut SmallRng, p: &Pools| p.tokens.choose(rng).cloned().unwrap_or_else(|| p.tokens[0].clone());
    let make: MakeRequest = match scenario {
        FirmScenario::ClientsList => Box::new(move |_| list_request(&mut rng, &p, pick_token)),
        FirmScenario::ClientsSearch => Box::new(move |_| search_request(&mut rng, &p, pick_token)),
        FirmScenario::ClientDetail => Box::new(move |_| detail_request(&mut rng, &p, pick_token)),
        FirmScenario::ClientsMix => Box::new(move |_| match rng.random_range(0..10) {
            0..4 => list_request(&mut rng, &p, pick_token),
            4..8 => detail_request(&mut rng, &p, pick_token),
            _ => search_request(&mut rng, &p, pick_token),
        }),
        FirmScenario::Invoices => Box::new(move |_| {
            let t = pick_token(&mut rng, &p);
            match rng.random_range(0..4) {
                0 | 1 => Request::get("/v1/invoices?limit=50", &t),
                2 => Request::get("/v1/invoices/aging", &t),
                _ => Request::get("/v1/invoices?status=overdue&limit=50", &t),
            }
        }),
        FirmScenario::Me => Box::new(move |_| Request::get("/v1/me", &pick_token(&mut rng, &p))),
        FirmScenario::PageDashboard => Box::new(move |_| Request::page("/", &pick_token(&mut rng, &p))),
        FirmScenario::PageClients => Box::new(move |_| {
            let mut r = list_request(&mut rng, &p, pick_token);
            r.path = r
                .path
                .replacen("/v1/clients", "/clients", 1)
                .replace("limit=50&", "")
                .replace("?limit=50", "");
            Request { as_cookie: true, ..r }
        }),
        FirmScenario::PageClient => Box::new(move |_| {
            let id = p.client_ids.choose(&mut rng).cloned().unwrap_or_default();
            Request::page(format!("/clients/{id}"), &pick_token(&mut rng, &p))
        }),
        FirmScenario::MyWork => unreachable!("prepared above"),
    };
    Ok(make)
}

type PickToken = fn(&mut SmallRng, &Pools) -> Arc<str>;

fn list_request(rng: &mut SmallRng, p: &Pools, pick: PickToken) -> Request {
    let t = pick(rng, p);
    match rng.random_range(0..20) {
        0..10 => Request::get("/v1/clients?limit=50", &t),
        10..14 => Request::get("/v1/clients?limit=50&status=active&risk_level=high", &t),
        14..17 => Request::get("/v1/clients?limit=50&sort=revenue&order=desc", &t),
        _ => {
            let c = p.cursors.choose(rng).cloned().unwrap_or_default();
            // Cursors were made with limit=200 pages; a 50-row page from any of them is valid.
            Request::get(format!("/v1/clients?limit=50&cursor={c}"), &t)
        }
    }
}

fn search_request(rng: &mut SmallRng, p: &Pools, pick: PickToken) -> Request {
    let t = pick(rng, p);
    let term = p.terms.choose(rng).cloned().unwrap_or_else(|| "a".into());
    Request::get(format!("/v1/clients?limit=20&q={}", term.replace(' ', "%20")), &t)
}

fn detail_request(rng: &mut SmallRng, p: &Pools, pick: PickToken) -> Request {
    let t = pick(rng, p);
    let id = p.client_ids.choose(rng).cloned().unwrap_or_default();
    Request::get(format!("/v1/clients/{id}"), &t)
}
