//! The CSV import benchmark: a fresh firm per run, one import request of N clients, timed end to
//! end (upload, validation of every row, sealing tax ids, insert, audit, commit).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::BenchError;
use crate::scenarios::call;

/// A deterministic CSV of `rows` valid clients with unique EINs.
pub fn csv(rows: usize, seed: u64) -> String {
    const INDUSTRIES: &[&str] =
        &["construction", "dental", "retail", "technology", "real_estate", "restaurants"];
    const STATUSES: &[&str] = &["active", "active", "active", "prospect", "inactive"];
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut out = String::with_capacity(rows * 160);
    out.push_str(
        "business_name,legal_name,tax_id,primary_contact_name,primary_contact_email,primary_contact_phone,\
         business_type,industry,status,risk_level,annual_revenue,tags\n",
    );
    for i in 0..rows {
        out.push_str(&format!(
            "Client {i:06} LLC,Client {i:06} Holdings LLC,{:02}-{:07},Contact {i},contact{i}@client{i}.test,\
             +1 (415) 555-{:04},llc,{},{},{},{}.{:02},{}\n",
            [12, 20, 33, 45, 61, 74][i % 6],
            i,
            rng.random_range(0..10_000),
            INDUSTRIES[i % INDUSTRIES.len()],
            STATUSES[i % STATUSES.len()],
            ["low", "medium", "high"][i % 3],
            rng.random_range(10_000..5_000_000),
            rng.random_range(0..100),
            if i % 4 == 0 { "vip;quarterly" } else { "" },
        ));
    }
    out
}

/// Signs up a fresh firm and imports `rows` clients into it; returns the import's wall time.
pub async fn run_once(addr: SocketAddr, rows: usize, run: usize) -> Result<Duration, BenchError> {
    let slug = format!("import-bench-{}-{run}", std::process::id());
    let (status, body) = call(
        addr,
        http::Method::POST,
        "/v1/signup",
        None,
        Some(json!({"organization_name": "Import Bench", "slug": slug, "name": "Owner",
                    "email": format!("owner@{slug}.test"), "password": "import-bench-password"})),
    )
    .await?;
    let token = body["token"]
        .as_str()
        .ok_or_else(|| BenchError::Setup(format!("signup failed ({status}): {body}")))?;
    let csv = csv(rows, run as u64);
    let started = Instant::now();
    let (status, report) =
        crate::scenarios::call_raw(addr, "/v1/clients/import", token, "text/csv", csv.into_bytes()).await?;
    let took = started.elapsed();
    if status != 200 || report["imported"] != true {
        return Err(BenchError::Setup(format!("import answered {status}: {report}")));
    }
    Ok(took)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_csv_has_a_header_and_unique_tax_ids() {
        let csv = super::csv(1000, 1);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 1001);
        let mut ids: Vec<&str> = lines[1..].iter().map(|l| l.split(',').nth(2).unwrap()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 1000);
    }
}
