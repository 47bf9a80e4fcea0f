//! What every handler benchmark shares (`functions/*/benches`): drive a handler from N
//! concurrent loops for a bounded time, run `pgbench` on the same SQL for the same time, and
//! print both side by side, so our code's overhead over the database is a visible ratio.
//!
//! Everything is bounded: a measurement stops at its deadline and pgbench is killed if it
//! overruns by [`PGBENCH_OVERRUN`].

#![allow(
    clippy::print_stdout,
    reason = "a benchmark's report is its output on stdout"
)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Prints a handler-only table's warm-up line and header (req/s, p50, p99, errors); rows follow
/// with [`print_handler_row`].
pub fn print_handler_table(label: &str, warm_up: &Stats) {
    println!();
    println!(
        "{label}: warm-up {} requests, {} errors",
        warm_up.requests, warm_up.errors
    );
    println!(
        "{:>11} | {:>13} {:>8} {:>8} | {:>6}",
        "concurrency", "handler req/s", "p50 ms", "p99 ms", "errors"
    );
}

/// One row of the table [`print_handler_table`] began.
pub fn print_handler_row(concurrency: usize, stats: &Stats) {
    println!(
        "{:>11} | {:>13.0} {:>8} {:>8} | {:>6}",
        concurrency,
        stats.per_second,
        ms(stats.p50),
        ms(stats.p99),
        stats.errors
    );
}

/// Grace given to pgbench beyond its own `-T` before it is killed.
pub const PGBENCH_OVERRUN: Duration = Duration::from_secs(30);

/// Throughput and latency of one measurement.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub requests: u64,
    pub errors: u64,
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
}

impl Stats {
    pub fn from_latencies(mut latencies: Vec<Duration>, errors: u64, elapsed: Duration) -> Self {
        latencies.sort_unstable();
        let at = |q: usize| {
            latencies
                .get((latencies.len() * q / 100).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        Self {
            requests: latencies.len() as u64,
            errors,
            per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
            p50: at(50),
            p99: at(99),
        }
    }
}

/// An environment variable parsed, else `default`.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The concurrencies to measure: `BENCH_CONCURRENCY` (`1,4,16`), else `default`.
pub fn concurrencies(default: &str) -> Vec<usize> {
    std::env::var("BENCH_CONCURRENCY")
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .filter(|c| *c > 0)
        .collect()
}

/// Milliseconds with two decimals.
pub fn ms(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1000.0)
}

pub fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A `.sql` file of the store as one pgbench command: comment lines dropped, lines joined.
pub fn sql_command(sql: &str) -> String {
    sql.lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `concurrency` loops calling `request(k)` (k = 0, 1, 2, … across all loops) until
/// `duration` has passed or `limit` requests were sent. `request(k)` builds the call and returns
/// it as a future answering whether it succeeded; only awaiting that future is timed.
pub async fn drive<F, Fut>(
    concurrency: usize,
    duration: Duration,
    limit: Option<u64>,
    request: F,
) -> Stats
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let request = request.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                while Instant::now() < deadline {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if limit.is_some_and(|limit| k >= limit) {
                        break;
                    }
                    // The closure's own work (building a request) is the client's; only the
                    // future it returns is timed.
                    let call = request(k);
                    let sent = Instant::now();
                    let ok = call.await;
                    latencies.push(sent.elapsed());
                    if !ok {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (mut worker_latencies, worker_errors) = worker.await.expect("a bench worker");
        latencies.append(&mut worker_latencies);
        errors += worker_errors;
    }
    Stats::from_latencies(latencies, errors, started.elapsed())
}

/// pgbench: `$PG_BIN_DIR/pgbench`, else the newest of Debian's `/usr/lib/postgresql/*/bin`.
pub fn pgbench_binary() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN_DIR") {
        let path = Path::new(&dir).join("pgbench");
        return path.exists().then_some(path);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin/pgbench")))
        .filter(|path| path.exists())
        .collect();
    found.sort();
    found.pop()
}

/// Runs pgbench for `seconds` (prepared statements, no vacuum) and reads its per-transaction
/// log for the latency percentiles.
pub fn run_pgbench(
    binary: &Path,
    url: &str,
    script: &str,
    concurrency: usize,
    seconds: u64,
) -> Result<Stats, String> {
    let dir = std::env::temp_dir().join(format!("lead-engine-pgbench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let script_path = dir.join("script.sql");
    std::fs::write(&script_path, script).map_err(|e| e.to_string())?;
    let threads = concurrency.min(std::thread::available_parallelism().map_or(1, usize::from));
    let started = Instant::now();
    let mut child = Command::new(binary)
        .args(["-n", "-M", "prepared", "-l"])
        .arg(format!("--log-prefix={}", dir.join("log").display()))
        .arg(format!("-c{concurrency}"))
        .arg(format!("-j{threads}"))
        .arg(format!("-T{seconds}"))
        .arg("-f")
        .arg(&script_path)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start pgbench: {e}"))?;
    let limit = Duration::from_secs(seconds) + PGBENCH_OVERRUN;
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(_) => break,
            None if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("pgbench overran its time and was stopped".into());
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let reason = stderr
            .lines()
            .find(|line| line.contains("ERROR") || line.contains("error"))
            .unwrap_or_default();
        return Err(format!("pgbench failed: {reason}"));
    }
    let failed = stdout
        .lines()
        .find_map(|line| line.strip_prefix("number of failed transactions: "))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("log."))
        {
            continue;
        }
        let log = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        // client_id transaction_no time_us script_no epoch epoch_us
        latencies.extend(log.lines().filter_map(|line| {
            let micros: u64 = line.split_whitespace().nth(2)?.parse().ok()?;
            Some(Duration::from_micros(micros))
        }));
    }
    let _ = std::fs::remove_dir_all(&dir);
    // pgbench's own -T is the measured span; the process also spent time connecting.
    Ok(Stats::from_latencies(
        latencies,
        failed,
        Duration::from_secs(seconds),
    ))
}

/// Measures the handler and pgbench at each concurrency for `seconds` and prints one table row
/// each: `handler(concurrency, duration)` runs the handler's measurement (usually [`drive`]).
pub async fn compare<H, Fut>(
    database_url: &str,
    script: &str,
    concurrencies: &[usize],
    seconds: u64,
    mut handler: H,
) where
    H: FnMut(usize, Duration) -> Fut,
    Fut: Future<Output = Stats>,
{
    let pgbench = pgbench_binary();
    println!(
        "{:>11} | {:>13} {:>8} {:>8} | {:>13} {:>8} {:>8} | {:>16}",
        "concurrency",
        "handler req/s",
        "p50 ms",
        "p99 ms",
        "pgbench tps",
        "p50 ms",
        "p99 ms",
        "handler/pgbench"
    );
    for &concurrency in concurrencies {
        let handler = handler(concurrency, Duration::from_secs(seconds)).await;
        let sql = match &pgbench {
            Some(binary) => run_pgbench(binary, database_url, script, concurrency, seconds),
            None => Err("pgbench not found (set PG_BIN_DIR)".to_owned()),
        };
        let (pg_tps, pg_p50, pg_p99, ratio) = match &sql {
            Ok(sql) => (
                format!("{:.0}", sql.per_second),
                ms(sql.p50),
                ms(sql.p99),
                format!("{:.2}", handler.per_second / sql.per_second),
            ),
            Err(_) => ("n/a".into(), "n/a".into(), "n/a".into(), "n/a".into()),
        };
        println!(
            "{:>11} | {:>13.0} {:>8} {:>8} | {:>13} {:>8} {:>8} | {:>16}",
            concurrency,
            handler.per_second,
            ms(handler.p50),
            ms(handler.p99),
            pg_tps,
            pg_p50,
            pg_p99,
            ratio
        );
        if handler.errors > 0 {
            println!(
                "            handler errors: {} of {}",
                handler.errors, handler.requests
            );
        }
        match sql {
            Ok(sql) if sql.errors > 0 => {
                println!("            pgbench failed transactions: {}", sql.errors)
            }
            Err(error) => println!("            pgbench: {error}"),
            Ok(_) => {}
        }
    }
}
