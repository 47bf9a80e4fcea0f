//! Agents' daily scrape quotas (`agent_scrape_quotas`): check and consume in one statement.
//!
//! The whole rule is the SQL function `consume_scrape_quota` (`scrape_quota/consume.sql`, a
//! schema source), called as one unnamed statement in one round trip: the
//! window restarts when `reset_at` has passed (at the next midnight in the workspace's timezone),
//! then the units are granted only if they fit the limit (the row's override, else the plan's
//! `scrape_daily_limit` through `effective_plan_id`), and the row is created on first use. The
//! check is the upsert's `WHERE` on the locked row, so concurrent requests can never both take
//! the last unit. Reading ([`read`]) is the same statement asking for no units, so GET and POST
//! can never disagree about where a window ends.

use crate::StoreError;
use chrono::{DateTime, Utc};
use domain::ids::{AgentId, WorkspaceId};
use domain::quota::{QuotaWindow, Units};
use tokio_postgres::types::Type;

/// The one statement of both methods (public for the benchmark, which runs it in pgbench).
pub const STATEMENT: &str = "SELECT agent_id, daily_limit, used_today, reset_at, consumed \
                       FROM consume_scrape_quota($1, $2, $3, $4)";

/// What a consume did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumption {
    /// The units were granted; the window now includes them.
    Granted(QuotaWindow),
    /// The units did not fit; nothing was written. The window is as it stands.
    Refused(QuotaWindow),
}

impl Consumption {
    pub fn window(&self) -> &QuotaWindow {
        match self {
            Self::Granted(window) | Self::Refused(window) => window,
        }
    }
}

/// Consumes `units` of `agent_id`'s quota at `now`, if they fit. `None`: the workspace has no
/// such agent (nothing was written).
pub async fn consume(
    client: &tokio_postgres::Client,
    workspace_id: WorkspaceId,
    agent_id: AgentId,
    units: Units,
    now: DateTime<Utc>,
) -> Result<Option<Consumption>, StoreError> {
    let row = run(client, workspace_id, agent_id, i32::from(units.get()), now).await?;
    Ok(row.map(|(window, consumed)| {
        if consumed {
            Consumption::Granted(window)
        } else {
            Consumption::Refused(window)
        }
    }))
}

/// `agent_id`'s window as it stands at `now`, without writing. `None`: no such agent in the
/// workspace.
pub async fn read(
    client: &tokio_postgres::Client,
    workspace_id: WorkspaceId,
    agent_id: AgentId,
    now: DateTime<Utc>,
) -> Result<Option<QuotaWindow>, StoreError> {
    let row = run(client, workspace_id, agent_id, 0, now).await?;
    Ok(row.map(|(window, _)| window))
}

async fn run(
    client: &tokio_postgres::Client,
    workspace_id: WorkspaceId,
    agent_id: AgentId,
    units: i32,
    now: DateTime<Utc>,
) -> Result<Option<(QuotaWindow, bool)>, StoreError> {
    let rows = client
        .query_typed(
            STATEMENT,
            &[
                (&workspace_id.as_uuid(), Type::UUID),
                (&agent_id.as_uuid(), Type::UUID),
                (&units, Type::INT4),
                (&now, Type::TIMESTAMPTZ),
            ],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let count = |column: &str| -> Result<u32, StoreError> {
        let value: i32 = row.try_get(column)?;
        u32::try_from(value).map_err(|e| StoreError::Decode {
            context: "agent_scrape_quotas",
            source: Box::new(e),
        })
    };
    let window = QuotaWindow {
        daily_limit: count("daily_limit")?,
        used_today: count("used_today")?,
        reset_at: row.try_get("reset_at")?,
    };
    Ok(Some((window, row.try_get("consumed")?)))
}
