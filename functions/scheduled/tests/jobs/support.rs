//! A test world: one cloned database, verbs to arrange rows in plain SQL, the jobs at a pinned
//! "now", and a snapshot of everything a job may write, to show a second run changes nothing.

use chrono::{DateTime, Utc};
use platform::clock::Clock;
use platform::jobs::{JobSink, Publisher, RelaySettings};
use scheduled::{Jobs, ScheduledJob};
use store::Db;
use store::testing::TestDb;
use uuid::Uuid;

pub fn at(instant: &str) -> DateTime<Utc> {
    instant.parse().expect("an RFC 3339 instant")
}

pub struct World {
    pub test: TestDb,
}

/// A lead to arrange; `Lead::silent_since(…)` is an active lead that last wrote then.
#[derive(Debug, Clone)]
pub struct Lead {
    pub name: Option<&'static str>,
    pub last_customer_message_at: Option<&'static str>,
    pub last_scored_at: Option<&'static str>,
    pub stage: &'static str,
    pub status: &'static str,
    pub opted_out: bool,
    pub agent: Option<Uuid>,
}

impl Lead {
    pub fn silent_since(instant: &'static str) -> Self {
        Self {
            name: Some("Priya Sharma"),
            last_customer_message_at: Some(instant),
            last_scored_at: None,
            stage: "Engaged",
            status: "active",
            opted_out: false,
            agent: None,
        }
    }
}

/// A task to arrange: `Task::new("pending")` with nothing due, then set what the case needs.
#[derive(Debug, Clone)]
pub struct Task {
    pub status: &'static str,
    pub due_at: Option<&'static str>,
    pub postponed_until: Option<&'static str>,
    pub deleted: bool,
    pub lead: Option<Uuid>,
    pub generation_rule: Option<&'static str>,
    pub created_at: &'static str,
}

impl Task {
    pub fn new(status: &'static str) -> Self {
        Self {
            status,
            due_at: None,
            postponed_until: None,
            deleted: false,
            lead: None,
            generation_rule: None,
            created_at: "2026-11-01T00:00:00Z",
        }
    }

    pub fn due(mut self, instant: &'static str) -> Self {
        self.due_at = Some(instant);
        self
    }

    pub fn postponed_until(mut self, instant: &'static str) -> Self {
        self.postponed_until = Some(instant);
        self
    }

    pub fn deleted(mut self) -> Self {
        self.deleted = true;
        self
    }

    /// An automatic follow-up for `lead`, created at `created_at`.
    pub fn auto_follow_up(mut self, lead: Uuid, created_at: &'static str) -> Self {
        self.lead = Some(lead);
        self.generation_rule = Some("lead_inactive");
        self.created_at = created_at;
        self
    }
}

/// Everything the jobs may write, as digests of whole rows (so `updated_at` counts) and counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub digests: Vec<(String, i64, Option<String>)>,
}

impl World {
    pub async fn new() -> Self {
        Self {
            test: TestDb::new().await,
        }
    }

    pub fn db(&self) -> &Db {
        self.test.db()
    }

    /// The jobs with the clock pinned at `now` and publishing disabled.
    pub fn jobs(&self, now: &str) -> Jobs {
        jobs_on(self.db().clone(), now)
    }

    pub async fn run(&self, job: ScheduledJob, now: &str) -> serde_json::Value {
        self.jobs(now)
            .run(job)
            .await
            .unwrap_or_else(|e| panic!("{} runs: {e:?}", job.name()))
    }

    pub async fn execute(&self, sql: &str) {
        self.test
            .client()
            .await
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    }

    pub async fn one<T>(
        &self,
        sql: &str,
        params: &[&(dyn store::tokio_postgres::types::ToSql + Sync)],
    ) -> T
    where
        T: for<'a> store::tokio_postgres::types::FromSql<'a>,
    {
        self.test
            .client()
            .await
            .query_one(sql, params)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
            .get(0)
    }

    pub async fn workspace(&self, timezone: &str) -> Uuid {
        let id = Uuid::new_v4();
        let slug = format!("ws-{}", &id.simple().to_string()[..12]);
        self.test
            .client()
            .await
            .execute(
                "INSERT INTO workspaces (id, slug, name, timezone) VALUES ($1, $2, 'Test', $3)",
                &[&id, &slug, &timezone],
            )
            .await
            .expect("arrange a workspace");
        id
    }

    /// The workspace's lead_inactive rule with `config` (JSON text), active or not.
    pub async fn rule(&self, workspace: Uuid, config: &str, active: bool) {
        self.test
            .client()
            .await
            .execute(
                "INSERT INTO task_automation_rules (workspace_id, rule_type, config, is_active)
                 VALUES ($1, 'lead_inactive', $2::text::jsonb, $3)",
                &[&workspace, &config, &active],
            )
            .await
            .expect("arrange a rule");
    }

    pub async fn agent(&self, workspace: Uuid) -> Uuid {
        self.one(
            "INSERT INTO agents (workspace_id, name) VALUES ($1, 'Agent') RETURNING id",
            &[&workspace],
        )
        .await
    }

    pub async fn lead(&self, workspace: Uuid, lead: Lead) -> Uuid {
        self.one(
            "INSERT INTO leads (workspace_id, name, first_touchpoint, last_touchpoint,
                                last_customer_message_at, last_scored_at, lead_stage, status,
                                opted_out_at, assigned_agent_id)
             VALUES ($1, $2, 'web', 'web', $3::text::timestamptz, $4::text::timestamptz, $5, $6,
                     CASE WHEN $7 THEN now() END, $8)
             RETURNING id",
            &[
                &workspace,
                &lead.name,
                &lead.last_customer_message_at,
                &lead.last_scored_at,
                &lead.stage,
                &lead.status,
                &lead.opted_out,
                &lead.agent,
            ],
        )
        .await
    }

    pub async fn task(&self, workspace: Uuid, task: Task) -> Uuid {
        self.one(
            "INSERT INTO tasks (workspace_id, lead_id, title, status, due_at, postponed_until,
                                deleted_at, auto_generated, generation_rule, completed_at,
                                task_type, created_at)
             VALUES ($1, $2, 'A task', $3, $4::text::timestamptz, $5::text::timestamptz,
                     CASE WHEN $6 THEN now() END, $7::text IS NOT NULL, $7,
                     CASE WHEN $3 = 'completed' THEN now() END,
                     CASE WHEN $7::text IS NULL THEN 'general' ELSE 'follow_up' END,
                     $8::text::timestamptz)
             RETURNING id",
            &[
                &workspace,
                &task.lead,
                &task.status,
                &task.due_at,
                &task.postponed_until,
                &task.deleted,
                &task.generation_rule,
                &task.created_at,
            ],
        )
        .await
    }

    pub async fn task_status(&self, task: Uuid) -> String {
        self.one("SELECT status FROM tasks WHERE id = $1", &[&task])
            .await
    }

    /// Digests of every table a job writes: a second run must leave each exactly as it was.
    pub async fn snapshot(&self) -> Snapshot {
        let mut digests = Vec::new();
        for table in [
            "tasks",
            "audit_logs",
            "workspace_usage",
            "agent_scrape_quotas",
            "outbox",
            "leads",
            "lead_stage_changes",
        ] {
            let row = self
                .test
                .client()
                .await
                .query_one(
                    &format!(
                        "SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {table} t"
                    ),
                    &[],
                )
                .await
                .expect("digest a table");
            digests.push((table.to_owned(), row.get(0), row.get(1)));
        }
        Snapshot { digests }
    }
}

pub fn jobs_on(db: Db, now: &str) -> Jobs {
    Jobs {
        publisher: Publisher::new(db.clone(), JobSink::Disabled),
        db,
        relay: RelaySettings::default(),
        clock: Clock::Fixed(at(now)),
    }
}
