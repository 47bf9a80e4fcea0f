//! score-lead against real PostgreSQL: scores, stages, overrides and their audit trail, with the
//! conversation arranged in SQL and time pinned by the clock.

use chrono::{DateTime, Duration, Utc};
use domain::ids::{LeadId, WorkspaceId};
use domain::jobs::Job;
use platform::clock::Clock;
use score_lead::ScoreLead;
use store::testing::TestDb;
use uuid::Uuid;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("an RFC 3339 instant")
}

/// A scoring world: a database, one workspace, and verbs to arrange a lead's history.
struct World {
    test: TestDb,
    workspace: Uuid,
}

impl World {
    async fn new() -> Self {
        let test = TestDb::new().await;
        let workspace = test
            .client()
            .await
            .query_one(
                "INSERT INTO workspaces (slug, name) VALUES ('scoring', 'S') RETURNING id",
                &[],
            )
            .await
            .expect("a workspace")
            .get(0);
        Self { test, workspace }
    }

    async fn lead(&self) -> Uuid {
        self.test
            .client()
            .await
            .query_one(
                "INSERT INTO leads (workspace_id, name, first_touchpoint, last_touchpoint)
                 VALUES ($1, 'Lead', 'web', 'web') RETURNING id",
                &[&self.workspace],
            )
            .await
            .expect("a lead")
            .get(0)
    }

    /// A customer message at `sent_at`, with the intents detected in it.
    async fn customer_says(
        &self,
        lead: Uuid,
        text: &str,
        sent_at: DateTime<Utc>,
        intents: &[&str],
    ) {
        let client = self.test.client().await;
        let message: Uuid = client
            .query_one(
                "INSERT INTO conversations (workspace_id, lead_id, channel, sender, content, external_id, sent_at)
                 VALUES ($1, $2, 'web', 'customer', $3, gen_random_uuid()::text, $4) RETURNING id",
                &[&self.workspace, &lead, &text, &sent_at],
            )
            .await
            .expect("a message")
            .get(0);
        // The webhooks keep this column; arranging in SQL must too.
        client
            .execute(
                "UPDATE leads SET last_customer_message_at = greatest(last_customer_message_at, $2) WHERE id = $1",
                &[&lead, &sent_at],
            )
            .await
            .expect("last customer message");
        for intent in intents {
            client
                .execute(
                    "INSERT INTO lead_intents_log (lead_id, conversation_id, intent, confidence, matched)
                     VALUES ($1, $2, $3, 0.9, $3)",
                    &[&lead, &message, intent],
                )
                .await
                .expect("an intent");
        }
    }

    async fn book(&self, lead: Uuid) {
        self.test
            .client()
            .await
            .execute("UPDATE leads SET booking_status = 'confirmed', booking_date = '2026-12-01' WHERE id = $1", &[&lead])
            .await
            .expect("a booking");
    }

    fn workspace_id(&self) -> WorkspaceId {
        WorkspaceId::from_uuid(self.workspace)
    }

    fn job(&self, lead: Uuid) -> Job {
        Job::score_lead(
            WorkspaceId::from_uuid(self.workspace),
            LeadId::from_uuid(lead),
            "test",
        )
    }

    async fn score_at(&self, now: DateTime<Utc>, leads: &[Uuid]) -> Vec<bool> {
        let consumer = ScoreLead {
            db: self.test.db().clone(),
            clock: Clock::Fixed(now),
        };
        consumer
            .score(leads.iter().map(|l| self.job(*l)).collect())
            .await
            .iter()
            .map(Result::is_ok)
            .collect()
    }

    async fn state(&self, lead: Uuid) -> (String, Option<String>, i16, bool) {
        let row = self
            .test
            .client()
            .await
            .query_one(
                "SELECT lead_stage, sub_stage, lead_score, stage_override FROM leads WHERE id = $1",
                &[&lead],
            )
            .await
            .expect("the lead");
        (row.get(0), row.get(1), row.get(2), row.get(3))
    }

    async fn audit(&self, lead: Uuid) -> Vec<(Option<String>, String, String)> {
        self.test
            .client()
            .await
            .query(
                "SELECT old_stage, new_stage, reason FROM lead_stage_changes WHERE lead_id = $1 ORDER BY created_at, new_stage",
                &[&lead],
            )
            .await
            .expect("audit rows")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    }
}

#[tokio::test]
async fn a_conversation_moves_a_lead_new_engaged_qualified_high_intent_booking_made() {
    let world = World::new().await;
    let lead = world.lead().await;
    let t0 = at("2026-11-20T10:00:00Z");

    world.score_at(t0, &[lead]).await;
    assert_eq!(world.state(lead).await.0, "New", "no customer message yet");

    world.customer_says(lead, "hi", t0, &[]).await;
    world.score_at(t0 + Duration::minutes(1), &[lead]).await;
    assert_eq!(
        world.state(lead).await.0,
        "Engaged",
        "a message in the last 24 h"
    );

    for (i, text) in [
        "what is the price of the 2 BHK in Baner?",
        "is it still available?",
        "we are interested, what is the budget range?",
    ]
    .iter()
    .enumerate()
    {
        world
            .customer_says(
                lead,
                text,
                t0 + Duration::minutes(2 + i as i64),
                &["pricing", "interest"],
            )
            .await;
    }
    world.score_at(t0 + Duration::minutes(10), &[lead]).await;
    let (stage, _, score, _) = world.state(lead).await;
    assert_eq!(stage, "Qualified", "score {score} is at least 31");

    for i in 0..8 {
        world
            .customer_says(
                lead,
                "Can we book a site visit this Saturday morning, and do you have the floor plans?",
                t0 + Duration::minutes(20 + i),
                &["site_visit", "booking"],
            )
            .await;
    }
    world.score_at(t0 + Duration::minutes(40), &[lead]).await;
    let (stage, _, score, _) = world.state(lead).await;
    assert_eq!(stage, "High Intent", "score {score} is at least 61");

    world.book(lead).await;
    world.score_at(t0 + Duration::minutes(50), &[lead]).await;
    assert_eq!(world.state(lead).await.0, "Booking Made");

    let reasons: Vec<(Option<String>, String, String)> = world.audit(lead).await;
    assert_eq!(
        reasons,
        vec![
            (Some("New".into()), "Engaged".into(), "auto_scoring".into()),
            (
                Some("Engaged".into()),
                "Qualified".into(),
                "auto_scoring".into()
            ),
            (
                Some("Qualified".into()),
                "High Intent".into(),
                "auto_scoring".into()
            ),
            (
                Some("High Intent".into()),
                "Booking Made".into(),
                "booking_made".into()
            ),
        ],
        "one audit row per change"
    );
}

#[tokio::test]
async fn replaying_the_same_job_changes_nothing() {
    let world = World::new().await;
    let lead = world.lead().await;
    let now = at("2026-11-20T10:00:00Z");
    world
        .customer_says(lead, "what's the price?", now, &["pricing"])
        .await;
    world.score_at(now, &[lead]).await;
    let client = world.test.client().await;
    let before: (Option<DateTime<Utc>>, serde_json::Value) = {
        let r = client
            .query_one(
                "SELECT last_scored_at, score_breakdown FROM leads WHERE id = $1",
                &[&lead],
            )
            .await
            .expect("lead");
        (r.get(0), r.get(1))
    };

    world.score_at(now, &[lead]).await;

    let after: (Option<DateTime<Utc>>, serde_json::Value) = {
        let r = client
            .query_one(
                "SELECT last_scored_at, score_breakdown FROM leads WHERE id = $1",
                &[&lead],
            )
            .await
            .expect("lead");
        (r.get(0), r.get(1))
    };
    assert_eq!(before, after, "nothing was written");
    assert_eq!(
        world.audit(lead).await.len(),
        1,
        "only the first scoring's change"
    );
    assert_eq!(
        before.1["total"],
        world.state(lead).await.2,
        "the breakdown is stored with its total"
    );
}

#[tokio::test]
async fn a_job_for_a_missing_lead_or_another_workspaces_lead_is_acknowledged_not_scored() {
    let world = World::new().await;
    let other = World::new().await;
    let foreign = other.lead().await;

    let outcomes = world.score_at(Utc::now(), &[Uuid::new_v4()]).await;
    assert_eq!(outcomes, vec![true], "acknowledged, not retried");

    let consumer = ScoreLead {
        db: other.test.db().clone(),
        clock: Clock::System,
    };
    let forged = Job::score_lead(
        WorkspaceId::from_uuid(world.workspace),
        LeadId::from_uuid(foreign),
        "forged",
    );
    assert!(consumer.score(vec![forged]).await[0].is_ok());
    assert!(
        other.audit(foreign).await.is_empty(),
        "a job naming the wrong workspace scores nothing"
    );
}

#[tokio::test]
async fn a_database_failure_fails_every_record_of_the_batch_for_a_retry() {
    let db = store::Db::new(&store::PoolSettings {
        url: "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1".into(),
        max_size: 1,
        root_cert_path: None,
    })
    .expect("a pool");
    let consumer = ScoreLead {
        db,
        clock: Clock::System,
    };
    let job = Job::score_lead(
        WorkspaceId::from_uuid(Uuid::new_v4()),
        LeadId::from_uuid(Uuid::new_v4()),
        "x",
    );

    let outcomes = consumer.score(vec![job.clone(), job]).await;

    assert!(outcomes.iter().all(Result::is_err));
}

#[tokio::test]
async fn an_override_holds_its_stage_while_the_score_updates_until_a_booking_clears_it() {
    let world = World::new().await;
    let lead = world.lead().await;
    let now = at("2026-11-20T10:00:00Z");
    store::scoring::set_override(
        world.test.db(),
        world.workspace_id(),
        LeadId::from_uuid(lead),
        "Qualified",
        None,
        None,
        Some("call went well"),
    )
    .await
    .expect("set override");
    world.customer_says(lead, "hello", now, &[]).await;

    world.score_at(now, &[lead]).await;
    let (stage, _, score, pinned) = world.state(lead).await;
    assert_eq!(
        (stage.as_str(), pinned),
        ("Qualified", true),
        "the override keeps its stage"
    );
    assert!(score > 0, "the score still updates");

    world.book(lead).await;
    world.score_at(now + Duration::minutes(1), &[lead]).await;
    let (stage, _, _, pinned) = world.state(lead).await;
    assert_eq!(
        (stage.as_str(), pinned),
        ("Booking Made", false),
        "a new booking clears the override"
    );
    let active: i64 = world
        .test
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM lead_stage_overrides WHERE lead_id = $1 AND removed_at IS NULL",
            &[&lead],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(active, 0);
    let reasons: Vec<String> = world.audit(lead).await.into_iter().map(|a| a.2).collect();
    assert_eq!(reasons, vec!["manual_override", "booking_made"]);
}

#[tokio::test]
async fn clearing_an_override_logs_it_and_enqueues_a_rescore() {
    let world = World::new().await;
    let lead = world.lead().await;
    let id = LeadId::from_uuid(lead);
    store::scoring::set_override(
        world.test.db(),
        world.workspace_id(),
        id,
        "High Intent",
        Some("negotiation"),
        None,
        None,
    )
    .await
    .expect("set");

    let cleared = store::scoring::clear_override(
        world.test.db(),
        world.workspace_id(),
        id,
        None,
        Some("done"),
    )
    .await
    .expect("clear");
    let again =
        store::scoring::clear_override(world.test.db(), world.workspace_id(), id, None, None)
            .await
            .expect("clear again");

    assert!(cleared && !again, "clearing twice is harmless");
    let (_, _, _, pinned) = world.state(lead).await;
    assert!(!pinned);
    let reasons: Vec<String> = world.audit(lead).await.into_iter().map(|a| a.2).collect();
    assert_eq!(reasons, vec!["manual_override", "override_cleared"]);
    let job: serde_json::Value = world
        .test
        .client()
        .await
        .query_one("SELECT payload FROM outbox WHERE queue = 'scoring'", &[])
        .await
        .expect("one job")
        .get(0);
    assert_eq!(job["kind"], "score_lead");
    assert_eq!(job["lead_id"], lead.to_string());
}

#[tokio::test]
async fn an_invalid_override_is_refused_with_the_field_named() {
    let world = World::new().await;
    let lead = LeadId::from_uuid(world.lead().await);
    let cases = [
        ("Hot", None, "stage"),
        ("Qualified", Some("proposal"), "sub_stage"),
        ("High Intent", Some("pending"), "sub_stage"),
    ];
    for (stage, sub_stage, field) in cases {
        let err = store::scoring::set_override(
            world.test.db(),
            world.workspace_id(),
            lead,
            stage,
            sub_stage,
            None,
            None,
        )
        .await
        .expect_err("refused");
        let message = match &err {
            store::StoreError::Database(e) => e
                .as_db_error()
                .map(|d| d.message().to_owned())
                .unwrap_or_default(),
            other => other.to_string(),
        };
        assert!(
            message.starts_with(field),
            "{stage}/{sub_stage:?}: {message}"
        );
    }
}

#[tokio::test]
async fn terminal_stages_are_never_moved_by_scoring() {
    let world = World::new().await;
    let lead = world.lead().await;
    world
        .test
        .client()
        .await
        .execute(
            "UPDATE leads SET lead_stage = 'Converted' WHERE id = $1",
            &[&lead],
        )
        .await
        .expect("convert");
    world
        .customer_says(lead, "thanks again!", Utc::now(), &["booking"])
        .await;
    world.book(lead).await;

    world.score_at(Utc::now(), &[lead]).await;

    assert_eq!(world.state(lead).await.0, "Converted");
}

#[tokio::test]
async fn cold_leads_go_cold_after_thirty_silent_days_once_and_come_back_when_they_write() {
    let world = World::new().await;
    let now = at("2026-11-20T10:00:00Z");
    let silent = world.lead().await;
    let recent = world.lead().await;
    world
        .customer_says(silent, "ok", now - Duration::days(31), &[])
        .await;
    world
        .customer_says(recent, "ok", now - Duration::days(29), &[])
        .await;
    world.score_at(now, &[silent, recent]).await;
    assert_eq!(world.state(silent).await.0, "In Sequence");
    assert_eq!(world.state(recent).await.0, "In Sequence");

    let first = store::scoring::mark_cold_leads(world.test.db(), now, 1000)
        .await
        .expect("cold");
    let second = store::scoring::mark_cold_leads(world.test.db(), now, 1000)
        .await
        .expect("cold again");

    assert_eq!(
        (first, second),
        (1, 0),
        "idempotent: the second run changes nothing"
    );
    assert_eq!(world.state(silent).await.0, "Cold");
    assert_eq!(
        world.state(recent).await.0,
        "In Sequence",
        "29 days is not cold yet"
    );
    world.score_at(now + Duration::hours(1), &[silent]).await;
    assert_eq!(
        world.state(silent).await.0,
        "Cold",
        "scoring does not undo the cold job"
    );

    world
        .customer_says(silent, "hi, still looking!", now + Duration::hours(2), &[])
        .await;
    world.score_at(now + Duration::hours(3), &[silent]).await;
    let (stage, _, score, _) = world.state(silent).await;
    // Writing after 31 silent days earns the +20 re-engagement boost: Qualified, not just Engaged.
    assert_eq!(stage, "Qualified", "a Cold lead re-engages (score {score})");
    let last = world.audit(silent).await.pop().expect("audit rows");
    assert_eq!(
        last,
        (
            Some("Cold".into()),
            "Qualified".into(),
            "re_engagement".into()
        )
    );
}

#[tokio::test]
async fn the_sample_sqs_event_runs_through_the_batch_runner() {
    let world = World::new().await;
    let path = format!(
        "{}/../../events/sqs-score-lead.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let event: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the sample exists"))
            .expect("an SQS event");
    let consumer = ScoreLead {
        db: world.test.db().clone(),
        clock: Clock::System,
    };

    let response = platform::jobs::run_batch(event, |jobs| {
        platform::jobs::Consumer::consume(&consumer, jobs)
    })
    .await;

    assert!(
        response.batch_item_failures.is_empty(),
        "the sample's lead does not exist: acknowledged"
    );
}

#[tokio::test]
async fn an_override_committed_while_scoring_waits_for_the_lead_is_respected() {
    let world = World::new().await;
    let lead = world.lead().await;
    let now = at("2026-11-20T10:00:00Z");
    world
        .customer_says(lead, "hello, is it available?", now, &[])
        .await;
    // Connection 1: a person sets an override; the override function holds the lead's lock
    // until this transaction commits.
    let mut person = world.test.client().await;
    let tx = person.transaction().await.expect("begin");
    tx.query_one(
        "SELECT id FROM pin_lead_stage($1, $2, 'Closed Lost', NULL, NULL, 'lost to a rival')",
        &[&world.workspace, &lead],
    )
    .await
    .expect("set the override inside the open transaction");

    // Connection 2: scoring starts while the lock is held, so it waits for it.
    let scoring = tokio::spawn({
        let db = world.test.db().clone();
        let job = world.job(lead);
        async move {
            ScoreLead {
                db,
                clock: Clock::Fixed(now),
            }
            .score(vec![job])
            .await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        !scoring.is_finished(),
        "scoring waits for the person's lock"
    );
    tx.commit().await.expect("the person commits");
    let outcomes = scoring.await.expect("scoring ran");

    assert!(outcomes.iter().all(Result::is_ok));
    let (stage, _, score, pinned) = world.state(lead).await;
    assert_eq!(
        (stage.as_str(), pinned),
        ("Closed Lost", true),
        "the override committed while scoring waited keeps its stage"
    );
    assert!(score > 0, "the score still updates");
}
