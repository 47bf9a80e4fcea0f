//! Where the local stack's database comes from.
//!
//! With `DATABASE_URL` set, that server is used as it is. Without it, a private cluster is kept in
//! `.local/pgdata` under the workspace (git-ignored, kept between runs so demo data survives),
//! started on a free port and stopped when the stack exits. When this process is root and the
//! `postgres` user cannot reach that folder (a checkout under a private home), the cluster is kept
//! under `/var/tmp` instead and the stack says where. `LOCAL_PGDATA` puts the cluster in another
//! folder (a throwaway one for `scripts/api-contract`); its parent must let the server's user in.

use std::path::{Path, PathBuf};
use std::process::Command;
use store::cluster::{Cluster, ClusterError, Running};

/// The database the stack runs on, and the cluster to stop on exit when we started one.
#[derive(Debug)]
pub struct LocalDatabase {
    pub url: String,
    pub cluster: Option<(Cluster, Running)>,
}

/// The workspace root (two levels above this crate's manifest).
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The role the functions connect as (V19, docs/architecture.md §7.3): it reads and writes rows
/// and executes functions, and owns nothing.
pub const FUNCTIONS_ROLE: &str = "lead_engine_app";

impl LocalDatabase {
    /// The URL migrations run with: the cluster's superuser, or `DATABASE_URL` as given.
    pub fn owner_url(&self) -> &str {
        &self.url
    }

    /// The URL the handlers, consumers and jobs use. On the private cluster every session runs
    /// as [`FUNCTIONS_ROLE`], as the Lambda functions do in production, so the local stack
    /// proves the grants and row-level security policies are enough. A `DATABASE_URL` is used
    /// as given: its owner decides which role it logs in as.
    pub fn functions_url(&self) -> String {
        if self.cluster.is_none() {
            return self.url.clone();
        }
        let separator = if self.url.contains('?') { '&' } else { '?' };
        format!(
            "{}{separator}options=-c%20role%3D{FUNCTIONS_ROLE}",
            self.url
        )
    }
}

pub fn open() -> Result<LocalDatabase, ClusterError> {
    if let Some(url) = platform::config::optional("DATABASE_URL") {
        return Ok(LocalDatabase { url, cluster: None });
    }
    let cluster = Cluster::new(data_dir())?;
    let running = cluster.ensure_running()?;
    Ok(LocalDatabase {
        url: running.url("postgres"),
        cluster: Some((cluster, running)),
    })
}

fn data_dir() -> PathBuf {
    if let Some(dir) = platform::config::optional("LOCAL_PGDATA") {
        return PathBuf::from(dir);
    }
    let preferred = workspace_root().join(".local").join("pgdata");
    let parent = preferred
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let _ = std::fs::create_dir_all(&parent);
    if postgres_can_reach(&parent) {
        preferred
    } else {
        PathBuf::from("/var/tmp/lead-engine-local/pgdata")
    }
}

/// Whether the server's user can enter `dir` (always true when we are not root).
fn postgres_can_reach(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let root = std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false);
    if !root {
        return true;
    }
    Command::new("runuser")
        .args(["-u", store::cluster::SUPERUSER, "--", "test", "-x"])
        .arg(dir)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
