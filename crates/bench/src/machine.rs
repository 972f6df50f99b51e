//! The machine a figure was measured on, as reported beside every table.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
}

impl Machine {
    pub fn detect() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        let memory_gib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
            .map(|kb| kb / 1024.0 / 1024.0)
            .unwrap_or(0.0);
        let kernel =
            std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned();
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            memory_gib,
            kernel,
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "{} cores ({}), {:.1} GiB RAM, Linux {}; load generator, server and PostgreSQL on the same machine",
            self.cores, self.cpu, self.memory_gib, self.kernel
        )
    }
}

/// The machine's 1-minute load average, read from `/proc/loadavg` (`None` where there is none):
/// sampled immediately before each run, so a figure measured on a busy machine says so.
pub fn load_average() -> Option<f64> {
    parse_loadavg(&std::fs::read_to_string("/proc/loadavg").ok()?)
}

/// The first field of `/proc/loadavg` ("0.52 0.58 0.59 1/467 12345").
pub fn parse_loadavg(text: &str) -> Option<f64> {
    text.split_whitespace().next()?.parse().ok().filter(|l: &f64| l.is_finite() && *l >= 0.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_one_minute_load_is_the_first_field() {
        assert_eq!(super::parse_loadavg("1.75 0.66 0.25 3/412 5120\n"), Some(1.75));
        assert_eq!(super::parse_loadavg(""), None);
        assert_eq!(super::parse_loadavg("busy 0.66"), None);
        // Where /proc exists (Linux, as on every machine we benchmark on), it reads.
        if std::path::Path::new("/proc/loadavg").exists() {
            assert!(super::load_average().is_some());
        }
    }
}
