//! site-rebuild against real PostgreSQL: the producer triggers, the consumer's versions, and
//! what a visitor is served, arranged and checked with plain SQL.

use domain::ids::{AgentId, WorkspaceId};
use domain::jobs::Job;
use platform::jobs::Consumer;
use site_rebuild::SiteRebuild;
use store::sites::{Build, Loaded, PublishOutcome, live_html, load_inputs, publish};
use store::testing::TestDb;
use uuid::Uuid;

/// The ids of the sample event (events/sqs-site-rebuild.json) and the local demo.
const WORKSPACE: &str = "00000000-0000-4000-8000-00000000d001";
const AGENT: &str = "00000000-0000-4000-8000-00000000a001";

/// A workspace with one agent, its site config and listings, and verbs to edit and rebuild.
struct World {
    test: TestDb,
    workspace: Uuid,
    agent: Uuid,
}

impl World {
    /// The agent with a config and two visible listings; every job the arranging wrote is
    /// marked published, as if the relay had taken it.
    async fn new() -> Self {
        Self::with_pool(8).await
    }

    async fn with_pool(size: usize) -> Self {
        let test = TestDb::with_pool_size(size).await;
        let world = Self {
            test,
            workspace: WORKSPACE.parse().expect("uuid"),
            agent: AGENT.parse().expect("uuid"),
        };
        world
            .sql(&format!(
                "INSERT INTO workspaces (id, slug, name, default_region) VALUES ('{WORKSPACE}', 'demo', 'Demo', 'IN');
                 INSERT INTO agents (id, workspace_id, name, email, phone_e164)
                 VALUES ('{AGENT}', '{WORKSPACE}', 'Asha Verma', 'asha@demo.test', '+919800000001');
                 INSERT INTO agent_configs (agent_id, site_slug, bio, languages, areas, theme, cta)
                 VALUES ('{AGENT}', 'asha-verma', 'Helping families find homes in Pune.', '{{en,hi}}',
                         '{{Baner,Aundh}}', '{{\"primary\": \"#0f766e\"}}',
                         '{{\"label\": \"Book a visit\", \"action\": \"whatsapp\"}}');
                 INSERT INTO property_listings (workspace_id, agent_id, external_ref, title, status, price, currency, bedrooms)
                 VALUES ('{WORKSPACE}', '{AGENT}', 'l1', '2 BHK with balcony, Baner', 'active', 8500000, 'INR', 2),
                        ('{WORKSPACE}', '{AGENT}', 'l2', '3 BHK near Aundh IT park', 'under_offer', 14200000, 'INR', 3);"
            ))
            .await;
        world.relay_everything().await;
        world
    }

    async fn sql(&self, statements: &str) {
        self.test
            .client()
            .await
            .batch_execute(statements)
            .await
            .expect("the arranging SQL runs");
    }

    async fn count(&self, query: &str) -> i64 {
        self.test
            .client()
            .await
            .query_one(query, &[])
            .await
            .expect("the counting query runs")
            .get(0)
    }

    /// What the relay does for the rows it publishes.
    async fn relay_everything(&self) {
        self.sql("UPDATE outbox SET published_at = now() WHERE published_at IS NULL")
            .await;
    }

    async fn pending_site_jobs(&self) -> Vec<serde_json::Value> {
        self.test
            .client()
            .await
            .query(
                "SELECT payload FROM outbox WHERE queue = 'sites' AND published_at IS NULL ORDER BY id",
                &[],
            )
            .await
            .expect("pending jobs")
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    async fn versions(&self) -> Vec<i32> {
        self.test
            .client()
            .await
            .query(
                "SELECT version FROM agent_site_documents WHERE agent_id = $1 ORDER BY version",
                &[&self.agent],
            )
            .await
            .expect("versions")
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    async fn needs_rebuild(&self) -> bool {
        self.test
            .client()
            .await
            .query_one(
                "SELECT needs_site_rebuild FROM agent_configs WHERE agent_id = $1",
                &[&self.agent],
            )
            .await
            .expect("the config")
            .get(0)
    }

    fn job(&self) -> Job {
        Job::site_rebuild(
            WorkspaceId::from_uuid(self.workspace),
            AgentId::from_uuid(self.agent),
            "test",
        )
    }

    fn consumer(&self) -> SiteRebuild {
        SiteRebuild::template_only(self.test.db().clone())
    }

    /// One delivery of the agent's job; panics unless it is acknowledged.
    async fn rebuild(&self) {
        let outcomes = self.consumer().consume(vec![self.job()]).await;
        assert!(
            outcomes.iter().all(Result::is_ok),
            "acknowledged: {outcomes:?}"
        );
    }

    async fn live_page(&self) -> Option<String> {
        let slug = domain::site::values::SiteSlug::parse("asha-verma").expect("slug");
        live_html(&**self.test.client().await, &slug)
            .await
            .expect("the live page query runs")
    }
}

// Producers.

#[tokio::test]
async fn a_new_config_writes_one_pending_job_that_is_exactly_the_shared_job_json() {
    let world = World::new().await;
    world
        .sql(&format!(
            "DELETE FROM agent_configs; DELETE FROM outbox;
             INSERT INTO agent_configs (agent_id, site_slug) VALUES ('{AGENT}', 'asha-verma');"
        ))
        .await;

    let pending = world.pending_site_jobs().await;

    let expected = Job::site_rebuild(
        WorkspaceId::from_uuid(world.workspace),
        AgentId::from_uuid(world.agent),
        "agent_config_changed",
    );
    assert_eq!(pending, [expected.to_value()]);
    assert_eq!(Job::from_value(pending[0].clone()), Ok(expected));
    assert!(world.needs_rebuild().await);
}

#[tokio::test]
async fn a_hundred_listing_edits_in_one_import_are_one_job() {
    let world = World::new().await;

    world
        .sql(&format!(
            "INSERT INTO property_listings (workspace_id, agent_id, external_ref, title, price, currency)
             SELECT '{WORKSPACE}', '{AGENT}', 'import-' || i, 'Flat ' || i, 5000000 + i, 'INR'
             FROM generate_series(1, 100) AS i;
             UPDATE property_listings SET price = price + 1 WHERE external_ref LIKE 'import-%';"
        ))
        .await;
    for i in 1..=5 {
        world
            .sql(&format!(
                "UPDATE property_listings SET title = 'Flat {i} renamed' WHERE external_ref = 'import-{i}'"
            ))
            .await;
    }

    let pending = world.pending_site_jobs().await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0]["reason"], "listing_changed");
    assert_eq!(
        world
            .count("SELECT count(*) FROM outbox WHERE queue = 'sites' AND needs_relay AND published_at IS NULL")
            .await,
        1,
        "the relay is told no producer publishes it"
    );
}

#[tokio::test]
async fn changes_that_do_not_show_on_the_site_write_no_job() {
    let world = World::new().await;

    world
        .sql(&format!(
            "UPDATE agent_configs SET updated_at = now() - interval '1 day', last_built_at = now();
             UPDATE property_listings SET updated_at = now() - interval '1 day';
             UPDATE agents SET is_active = true, updated_at = now();
             INSERT INTO property_listings (workspace_id, agent_id, external_ref, title, status)
             VALUES ('{WORKSPACE}', '{AGENT}', 'draft-1', 'Draft', 'draft');
             UPDATE property_listings SET title = 'Still a draft' WHERE external_ref = 'draft-1';
             UPDATE property_listings SET status = 'sold' WHERE external_ref = 'l2';
             UPDATE property_listings SET title = 'Sold, renamed' WHERE external_ref = 'l2';"
        ))
        .await;
    // Only the sold one showed (it leaves the site): one job; the rest wrote nothing more.
    world.relay_everything().await;
    world
        .sql("UPDATE property_listings SET price = 1 WHERE external_ref IN ('l2', 'draft-1')")
        .await;

    assert_eq!(
        world.pending_site_jobs().await,
        Vec::<serde_json::Value>::new()
    );
}

#[tokio::test]
async fn every_change_that_shows_writes_a_job() {
    let world = World::new().await;
    let cases = [
        (
            "agent name",
            "UPDATE agents SET name = 'Asha V.'",
            "agent_changed",
        ),
        (
            "agent phone",
            "UPDATE agents SET phone_e164 = '+919800000002'",
            "agent_changed",
        ),
        (
            "config theme",
            "UPDATE agent_configs SET theme = '{\"primary\": \"#000000\"}'",
            "agent_config_changed",
        ),
        (
            "listing price",
            "UPDATE property_listings SET price = 9000000 WHERE external_ref = 'l1'",
            "listing_changed",
        ),
        (
            "listing deleted",
            "DELETE FROM property_listings WHERE external_ref = 'l1'",
            "listing_changed",
        ),
        (
            "listing inserted",
            "INSERT INTO property_listings (workspace_id, agent_id, title) VALUES ('00000000-0000-4000-8000-00000000d001', '00000000-0000-4000-8000-00000000a001', 'New')",
            "listing_changed",
        ),
        (
            "config deleted",
            "DELETE FROM agent_configs",
            "agent_config_deleted",
        ),
    ];
    for (what, statement, reason) in cases {
        world.relay_everything().await;
        world.sql(statement).await;
        let pending = world.pending_site_jobs().await;
        assert_eq!(pending.len(), 1, "{what}: {pending:?}");
        assert_eq!(pending[0]["reason"], reason, "{what}");
    }
}

#[tokio::test]
async fn deleting_an_agent_with_listings_and_versions_just_works() {
    let world = World::new().await;
    world.rebuild().await;

    world
        .sql(&format!("DELETE FROM agents WHERE id = '{AGENT}'"))
        .await;

    assert_eq!(
        world.pending_site_jobs().await,
        Vec::<serde_json::Value>::new()
    );
    world.rebuild().await;
}

// Consumer.

#[tokio::test]
async fn twenty_deliveries_of_the_same_job_make_exactly_one_version() {
    let world = World::new().await;

    for _ in 0..20 {
        world.rebuild().await;
    }

    assert_eq!(world.versions().await, [1]);
    assert!(!world.needs_rebuild().await, "the flag is cleared");
    assert_eq!(
        world
            .count("SELECT count(*) FROM agent_configs WHERE last_built_at IS NOT NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn concurrent_jobs_for_one_agent_make_at_most_one_new_version() {
    let world = World::with_pool(12).await;

    let consumer = world.consumer();
    let runs = (0..10).map(|_| {
        let consumer = consumer.clone();
        let job = world.job();
        tokio::spawn(async move { consumer.rebuild(vec![job]).await })
    });
    for run in runs {
        let outcomes = run.await.expect("the task ran");
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    }

    assert_eq!(world.versions().await, [1]);
}

#[tokio::test]
async fn an_edit_makes_a_new_version_and_the_live_page_shows_it() {
    let world = World::new().await;
    world.rebuild().await;
    let first = world.live_page().await.expect("version 1 is live");
    assert!(first.contains("2 BHK with balcony, Baner"));

    world
        .sql("UPDATE property_listings SET title = '2 BHK with garden, Baner' WHERE external_ref = 'l1'")
        .await;
    assert!(world.needs_rebuild().await);
    world.rebuild().await;

    assert_eq!(world.versions().await, [1, 2]);
    let live = world.live_page().await.expect("version 2 is live");
    assert!(live.contains("2 BHK with garden, Baner"));
    assert!(!live.contains("2 BHK with balcony"));
    assert!(!world.needs_rebuild().await);
    assert_eq!(
        world
            .count("SELECT count(*) FROM agent_site_documents WHERE html IS NULL OR generator <> 'template'")
            .await,
        0
    );
}

#[tokio::test]
async fn the_stored_hash_is_the_sha256_of_the_document_and_sold_listings_leave_the_page() {
    let world = World::new().await;
    world
        .sql("UPDATE property_listings SET status = 'sold' WHERE external_ref = 'l2'")
        .await;
    world.rebuild().await;

    let row = world
        .test
        .client()
        .await
        .query_one(
            "SELECT content_sha256, document, html FROM agent_site_documents WHERE agent_id = $1",
            &[&world.agent],
        )
        .await
        .expect("one version");
    let document: serde_json::Value = row.get(1);
    let html: String = row.get(2);
    assert_eq!(document["listings"].as_array().map(Vec::len), Some(1));
    assert_eq!(document["listings"][0]["price"]["formatted"], "₹85,00,000");
    assert!(!html.contains("3 BHK near Aundh"));
    let sha: Vec<u8> = row.get(0);
    assert_eq!(sha.len(), 32);
}

#[tokio::test]
async fn an_edit_during_a_build_keeps_the_flag_and_leaves_a_job_for_the_next_build() {
    let world = World::new().await;
    let client = world.test.client().await;
    let loaded = load_inputs(
        &**client,
        &[(
            WorkspaceId::from_uuid(world.workspace),
            AgentId::from_uuid(world.agent),
        )],
    )
    .await
    .expect("inputs");
    let Some((agent_id, Loaded::Ready { input, revision })) = loaded.into_iter().next() else {
        panic!("the agent is ready to build");
    };
    let build = Build {
        agent_id,
        revision,
        site: domain::site::BuiltSite::from_template(&input),
    };

    // An edit lands after the input was read, and its own job was already taken by the relay.
    world
        .sql("UPDATE property_listings SET price = 1 WHERE external_ref = 'l1'")
        .await;
    world.relay_everything().await;
    let published = publish(&**client, &[build]).await.expect("publish");

    assert_eq!(published[0].outcome, PublishOutcome::Created);
    assert!(published[0].rebuild_pending);
    assert!(world.needs_rebuild().await, "the flag stays");
    let pending = world.pending_site_jobs().await;
    assert_eq!(pending.len(), 1, "a job follows: {pending:?}");
    assert_eq!(pending[0]["reason"], "input_changed_during_build");

    // The follow-up build publishes the edit and clears the flag.
    world.rebuild().await;
    assert_eq!(world.versions().await, [1, 2]);
    assert!(!world.needs_rebuild().await);
}

#[tokio::test]
async fn an_older_build_never_replaces_a_newer_one() {
    let world = World::new().await;
    let client = world.test.client().await;
    let target = [(
        WorkspaceId::from_uuid(world.workspace),
        AgentId::from_uuid(world.agent),
    )];
    let Some((agent_id, Loaded::Ready { input, revision })) = load_inputs(&**client, &target)
        .await
        .expect("inputs")
        .into_iter()
        .next()
    else {
        panic!("ready");
    };
    world
        .sql("UPDATE property_listings SET title = 'Newer title' WHERE external_ref = 'l1'")
        .await;
    world.rebuild().await;

    let stale = Build {
        agent_id,
        revision,
        site: domain::site::BuiltSite::from_template(&input),
    };
    let published = publish(&**client, &[stale]).await.expect("publish");

    assert_eq!(published[0].outcome, PublishOutcome::Superseded);
    assert!(!published[0].rebuild_pending);
    assert_eq!(world.versions().await, [1]);
    assert!(
        world
            .live_page()
            .await
            .expect("live")
            .contains("Newer title")
    );
}

#[tokio::test]
async fn a_missing_agent_or_config_is_acknowledged_not_retried() {
    let world = World::new().await;
    let stranger = Job::site_rebuild(
        WorkspaceId::from_uuid(world.workspace),
        AgentId::from_uuid(Uuid::new_v4()),
        "test",
    );
    let other_workspace = Job::site_rebuild(
        WorkspaceId::from_uuid(Uuid::new_v4()),
        AgentId::from_uuid(world.agent),
        "test",
    );
    let outcomes = world
        .consumer()
        .consume(vec![stranger, other_workspace])
        .await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(
        world.versions().await,
        Vec::<i32>::new(),
        "another workspace's job builds nothing"
    );

    world.sql("DELETE FROM agent_configs").await;
    world.rebuild().await;
    assert_eq!(world.versions().await, Vec::<i32>::new());
}

#[tokio::test]
async fn a_scoring_job_on_the_sites_queue_fails_alone() {
    let world = World::new().await;
    let wrong = Job::score_lead(
        WorkspaceId::from_uuid(world.workspace),
        domain::ids::LeadId::from_uuid(Uuid::new_v4()),
        "test",
    );
    let outcomes = world.consumer().consume(vec![wrong, world.job()]).await;
    assert!(outcomes[0].is_err());
    assert!(outcomes[1].is_ok());
    assert_eq!(world.versions().await, [1]);
}

#[tokio::test]
async fn the_sample_sqs_event_builds_the_demo_site() {
    let world = World::new().await;
    let path = format!(
        "{}/../../events/sqs-site-rebuild.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let event: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the sample exists"))
            .expect("an SQS event");
    let consumer = world.consumer();

    let response = platform::jobs::run_batch(event, |jobs| consumer.consume(jobs)).await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(world.versions().await, [1]);
    let page = world.live_page().await.expect("live");
    assert!(page.contains("Asha Verma"));
}

#[tokio::test]
async fn the_relay_takes_trigger_written_jobs_without_the_producer_grace_period() {
    let world = World::new().await;
    let client = world.test.client().await;
    let producer_row = store::outbox::enqueue(
        &**client,
        &[Job::score_lead(
            WorkspaceId::from_uuid(world.workspace),
            domain::ids::LeadId::from_uuid(Uuid::new_v4()),
            "test",
        )],
    )
    .await
    .expect("a producer's row");
    world.sql("UPDATE agents SET name = 'Asha V.'").await;

    let hour = std::time::Duration::from_secs(3600);
    let claimed = store::outbox::claim_due(&**client, 10, hour, hour)
        .await
        .expect("claim");

    assert_eq!(claimed.len(), 1, "{claimed:?}");
    assert_eq!(claimed[0].payload["kind"], "site_rebuild");
    assert_ne!(
        claimed[0].id, producer_row[0].id,
        "the producer's fresh row waits"
    );
}

#[tokio::test]
async fn an_edit_after_the_relay_claimed_the_pending_job_gets_a_job_of_its_own() {
    let world = World::new().await;
    world.sql("UPDATE agents SET name = 'Asha V.'").await;
    let hour = std::time::Duration::from_secs(3600);
    let claimed = store::outbox::claim_due(&**world.test.client().await, 10, hour, hour)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);

    // The claimed job may already be with a consumer that read the old name.
    world.sql("UPDATE agents SET name = 'Asha Verma'").await;

    assert_eq!(
        world
            .count("SELECT count(*) FROM outbox WHERE queue = 'sites' AND published_at IS NULL")
            .await,
        2
    );
}

#[tokio::test]
async fn a_duplicate_job_with_a_different_copy_writer_answer_makes_no_new_version() {
    let world = World::new().await;
    let client = world.test.client().await;
    let target = [(
        WorkspaceId::from_uuid(world.workspace),
        AgentId::from_uuid(world.agent),
    )];
    let Some((agent_id, Loaded::Ready { input, revision })) = load_inputs(&**client, &target)
        .await
        .expect("inputs")
        .into_iter()
        .next()
    else {
        panic!("ready");
    };
    let mut copy = domain::site::template::copy(&input);
    let first = Build {
        agent_id,
        revision,
        site: domain::site::BuiltSite::with_copy(
            &input,
            copy.clone(),
            domain::site::Generator::Ai("m".into()),
        ),
    };
    copy.headline = "A different answer from the model".to_owned();
    let second = Build {
        agent_id,
        revision,
        site: domain::site::BuiltSite::with_copy(
            &input,
            copy,
            domain::site::Generator::Ai("m".into()),
        ),
    };

    publish(&**client, &[first]).await.expect("publish");
    let published = publish(&**client, &[second]).await.expect("publish again");

    assert_eq!(published[0].outcome, PublishOutcome::Unchanged);
    assert_eq!(world.versions().await, [1]);
    let reloaded = load_inputs(&**client, &target).await.expect("inputs");
    assert!(
        matches!(reloaded[0].1, Loaded::UpToDate),
        "the next duplicate skips the build"
    );
}
