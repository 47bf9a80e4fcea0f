//! A private PostgreSQL cluster started from the system's binaries.
//!
//! The local stack and the test harness need a real PostgreSQL without asking anyone to set one
//! up. This module finds the installed server binaries, creates a cluster in a data folder of the
//! caller's choosing (`initdb`, once), starts it on a free loopback port and stops it again.
//!
//! `initdb` refuses to run as root, so when this process is root the cluster belongs to the
//! `postgres` system user (as Debian's packages create it) and every binary is run through
//! `runuser`. The server listens on 127.0.0.1 only, with `trust` authentication: it is a
//! development and test database that nothing off this machine can reach.

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The superuser created by `initdb` and used in the URLs this module hands out.
pub const SUPERUSER: &str = "postgres";

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "no PostgreSQL server binaries found (looked for initdb in $PG_BIN_DIR, pg_config --bindir, \
         /usr/lib/postgresql/*/bin and PATH); install Debian's `postgresql` package"
    )]
    BinariesNotFound,
    #[error("{step} failed: {detail}")]
    Command { step: &'static str, detail: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A cluster's data folder and the binaries that run it.
#[derive(Debug, Clone)]
pub struct Cluster {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    log_file: PathBuf,
    run_as_postgres: bool,
}

/// A running cluster's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub port: u16,
    /// True when this call started the server (false when it was already running).
    pub started_here: bool,
}

impl Running {
    /// A connection URL for `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@127.0.0.1:{}/{database}?sslmode=disable",
            self.port
        )
    }
}

impl Cluster {
    /// A cluster kept in `data_dir` (created on first start), run by the system's binaries.
    pub fn new(data_dir: impl Into<PathBuf>) -> Result<Self, ClusterError> {
        let data_dir = data_dir.into();
        let log_file = data_dir.with_extension("log");
        Ok(Self {
            bin_dir: find_bin_dir().ok_or(ClusterError::BinariesNotFound)?,
            data_dir,
            log_file,
            run_as_postgres: is_root(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// Creates the cluster if needed and starts it if it is not running. Safe to call again.
    pub fn ensure_running(&self) -> Result<Running, ClusterError> {
        if let Some(port) = self.running_port() {
            return Ok(Running {
                port,
                started_here: false,
            });
        }
        self.init_if_missing()?;
        let port = free_port()?;
        // A fast, disposable configuration: this cluster holds development and test data only,
        // so durability is traded for speed.
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c max_connections=300 -c shared_buffers=128MB"
        );
        self.run(
            "pg_ctl start",
            "pg_ctl",
            &[
                "-D".as_ref(),
                self.data_dir.as_os_str(),
                "-l".as_ref(),
                self.log_file.as_os_str(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "-o".as_ref(),
                options.as_ref(),
                "start".as_ref(),
            ],
        )?;
        Ok(Running {
            port,
            started_here: true,
        })
    }

    /// Stops the server (fast shutdown) if it is running.
    pub fn stop(&self) -> Result<(), ClusterError> {
        if self.running_port().is_none() {
            return Ok(());
        }
        self.run(
            "pg_ctl stop",
            "pg_ctl",
            &[
                "-D".as_ref(),
                self.data_dir.as_os_str(),
                "-m".as_ref(),
                "fast".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        )?;
        Ok(())
    }

    /// The port of a live postmaster for this data folder, read from `postmaster.pid`.
    fn running_port(&self) -> Option<u16> {
        let pid_file = fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        let mut lines = pid_file.lines();
        let pid: u32 = lines.next()?.trim().parse().ok()?;
        // Line 4 of postmaster.pid is the port.
        let port: u16 = lines.nth(2)?.trim().parse().ok()?;
        Path::new(&format!("/proc/{pid}")).exists().then_some(port)
    }

    fn init_if_missing(&self) -> Result<(), ClusterError> {
        if self.data_dir.join("PG_VERSION").exists() {
            return Ok(());
        }
        fs::create_dir_all(&self.data_dir)?;
        if self.run_as_postgres {
            // The server's user must be able to enter the folder that holds the data folder and
            // the log file; a private (0700) parent, as mktemp makes, would lock it out.
            if let Some(parent) = self.data_dir.parent() {
                use std::os::unix::fs::PermissionsExt;
                let mode = fs::metadata(parent)?.permissions().mode();
                if mode & 0o005 != 0o005 {
                    fs::set_permissions(parent, fs::Permissions::from_mode(mode | 0o755))?;
                }
            }
            self.chown_to_postgres(&self.data_dir)?;
            // The log file lives beside the data folder and must be writable by the server.
            fs::write(&self.log_file, b"")?;
            self.chown_to_postgres(&self.log_file)?;
        }
        self.run(
            "initdb",
            "initdb",
            &[
                "-D".as_ref(),
                self.data_dir.as_os_str(),
                "-U".as_ref(),
                SUPERUSER.as_ref(),
                "--auth=trust".as_ref(),
                "--encoding=UTF8".as_ref(),
                "--locale=C".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        Ok(())
    }

    fn chown_to_postgres(&self, path: &Path) -> Result<(), ClusterError> {
        let output = Command::new("chown")
            .arg("-R")
            .arg(format!("{SUPERUSER}:"))
            .arg(path)
            .output()?;
        check("chown", output)
    }

    fn run(
        &self,
        step: &'static str,
        binary: &str,
        args: &[&std::ffi::OsStr],
    ) -> Result<(), ClusterError> {
        let program = self.bin_dir.join(binary);
        let mut command = if self.run_as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", SUPERUSER, "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        command.args(args);
        // pg_ctl start leaves the server running; it must not hold our stdout open.
        command.stdin(std::process::Stdio::null());
        let output = command.output()?;
        check(step, output)
    }
}

fn check(step: &'static str, output: Output) -> Result<(), ClusterError> {
    if output.status.success() {
        return Ok(());
    }
    let mut detail = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    if detail.is_empty() {
        detail = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    }
    Err(ClusterError::Command { step, detail })
}

fn is_root() -> bool {
    // The owner of /proc/self is this process's effective user.
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// A port the kernel says is free right now on the loopback interface.
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Where `initdb` and `pg_ctl` are: `$PG_BIN_DIR`, then `pg_config --bindir`, then the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian's layout), then `PATH`.
pub fn find_bin_dir() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("PG_BIN_DIR").map(PathBuf::from) {
        return has_server(&dir).then_some(dir);
    }
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if has_server(&dir) {
            return Some(dir);
        }
    }
    let mut debian: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_server(&bin).then_some((version, bin))
        })
        .collect();
    debian.sort();
    if let Some((_, bin)) = debian.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).find(|d| has_server(d)))
}
