//! Usage metering without a hot row (billing/usage.sql, migrations/V18): totals exact to the
//! unit under concurrent deliveries of one workspace, a quiet workspace kept to one row, and a
//! closed period that never changes, whoever is still running.
//!
//! No timing is asserted anywhere: the speed is the benches' business (functions/*/benches).

use chrono::{DateTime, Utc};
use domain::ids::WorkspaceId;
use domain::web_agent::WebAgentCommand;
use serde_json::{Value, json};
use std::sync::Arc;
use store::testing::TestDb;
use store::web_agent::{IngestOutcome, event_key, ingest};
use uuid::Uuid;

const CONNECTIONS: usize = 50;
const DELIVERIES_PER_CONNECTION: usize = 40;
/// People the 2,000 deliveries come from: each one's first delivery opens their chat session
/// (a conversation), every delivery stores a message.
const PEOPLE: usize = 300;
const WHATSAPP_PHONE_NUMBER_ID: &str = "106540352242922";

async fn workspace(test_db: &TestDb, slug: &str, limit: Option<i32>) -> Uuid {
    test_db
        .client()
        .await
        .query_one(
            "WITH plan AS (
                 INSERT INTO pricing_plans (code, name, conversation_limit)
                 VALUES ($1, 'Plan', $2) RETURNING id
             )
             INSERT INTO workspaces (slug, name, default_region, plan_id)
             SELECT $1, 'Usage', 'IN', id FROM plan RETURNING id",
            &[&slug, &limit],
        )
        .await
        .expect("arrange a workspace")
        .get(0)
}

fn web_body(person: usize, message_id: &str) -> Value {
    json!({
        "name": format!("Person {person}"),
        "phone": format!("+9198{person:08}"),
        "external_session_id": format!("s-{person}"),
        "message_id": message_id,
        "message": "Is the 2 BHK still available?",
        "sender": "customer",
    })
}

/// (conversations, messages, counter rows) of the period containing `at`.
async fn period_totals(test_db: &TestDb, workspace: Uuid, at: &str) -> (i32, i32, i32) {
    let at: DateTime<Utc> = at.parse().expect("an instant");
    let row = test_db
        .client()
        .await
        .query_one(
            "SELECT coalesce(sum(u.conversations), 0)::int, coalesce(sum(u.messages), 0)::int,
                    count(u.*)::int
             FROM usage_period($1, $2) p
             LEFT JOIN workspace_usage u
               ON u.workspace_id = $1 AND u.period_start = p.period_start",
            &[&workspace, &at],
        )
        .await
        .expect("read the period's counters");
    (row.get(0), row.get(1), row.get(2))
}

#[tokio::test]
async fn two_thousand_web_deliveries_over_fifty_connections_are_counted_to_the_unit() {
    let test_db = Arc::new(TestDb::with_pool_size(CONNECTIONS).await);
    let ws = workspace(&test_db, "busy", Some(100)).await;

    let mut tasks = Vec::new();
    for connection in 0..CONNECTIONS {
        let test_db = test_db.clone();
        tasks.push(tokio::spawn(async move {
            let client = test_db.client().await;
            let mut answers = Vec::new();
            for n in 0..DELIVERIES_PER_CONNECTION {
                let k = connection * DELIVERIES_PER_CONNECTION + n;
                let body = web_body(k * 7 % PEOPLE, &format!("m-{k}"));
                let command = WebAgentCommand::parse(&body, "IN").expect("a valid body");
                let workspace_id = WorkspaceId::from_uuid(ws);
                let key = event_key(workspace_id, &command);
                match ingest(&client, workspace_id, &key, &command, &body)
                    .await
                    .expect("ingest")
                {
                    IngestOutcome::Ingested(ingested) => answers.push(ingested.usage),
                    IngestOutcome::Rejected(errors) => panic!("rejected: {errors:?}"),
                }
            }
            answers
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.extend(task.await.expect("a delivery loop"));
    }

    let now = Utc::now().to_rfc3339();
    let (conversations, messages, counters) = period_totals(&test_db, ws, &now).await;
    assert_eq!(
        (conversations, messages),
        (
            PEOPLE as i32,
            (CONNECTIONS * DELIVERIES_PER_CONNECTION) as i32
        ),
        "one conversation per chat session, one message per delivery, none lost or doubled"
    );
    // How many counters depends on how the deliveries overlapped (about one per delivery
    // running at once); every one of them is in the totals above.
    assert!(counters >= 1, "the period has its counters");
    assert!(
        counters <= CONNECTIONS as i32,
        "a delivery only creates a counter when every other one is held, so never more \
         counters than deliveries running at once: {counters}"
    );
    let stored = test_db
        .client()
        .await
        .query_one(
            "SELECT (SELECT count(*) FROM web_sessions WHERE workspace_id = $1)::int,
                    (SELECT count(*) FROM conversations WHERE workspace_id = $1)::int,
                    (SELECT conversations FROM workspace_period_usage WHERE workspace_id = $1)",
            &[&ws],
        )
        .await
        .expect("count what was stored");
    assert_eq!(
        (
            stored.get::<_, i32>(0),
            stored.get::<_, i32>(1),
            stored.get::<_, i32>(2)
        ),
        (conversations, messages, conversations),
        "the counters agree with the rows they count, and the view with the counters"
    );
    assert_eq!(answers.len(), CONNECTIONS * DELIVERIES_PER_CONNECTION);
    for usage in &answers {
        assert!(
            (1..=conversations).contains(&usage.conversations),
            "an answer counts its own delivery and nothing that never happened: {usage:?}"
        );
        assert_eq!(usage.limit, Some(100));
        assert_eq!(usage.over_limit, usage.conversations > 100);
    }
    assert!(
        answers.iter().any(|usage| usage.over_limit),
        "300 conversations on a plan of 100 go over the limit"
    );
}

/// A signed-free Meta delivery (signature checks belong to the handler) of one text message.
fn whatsapp_body(person: usize, message: usize, at: i64) -> Vec<u8> {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881",
                                 "phone_number_id": WHATSAPP_PHONE_NUMBER_ID},
                    "contacts": [{"profile": {"name": format!("Person {person}")},
                                  "wa_id": format!("9198{person:08}")}],
                    "messages": [{
                        "from": format!("9198{person:08}"),
                        "id": format!("wamid.usage-{message}"),
                        "timestamp": at.to_string(),
                        "type": "text",
                        "text": {"body": "Is the 2 BHK still available?"}
                    }]
                }
            }]
        }]
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn concurrent_whatsapp_deliveries_are_counted_to_the_unit() {
    const WA_CONNECTIONS: usize = 20;
    const WA_PER_CONNECTION: usize = 25;
    const WA_PEOPLE: usize = 60;
    let test_db = Arc::new(TestDb::with_pool_size(WA_CONNECTIONS).await);
    let ws = workspace(&test_db, "busywa", None).await;
    test_db
        .client()
        .await
        .execute(
            "INSERT INTO whatsapp_channels (workspace_id, phone_number_id) VALUES ($1, $2)",
            &[&ws, &WHATSAPP_PHONE_NUMBER_ID],
        )
        .await
        .expect("arrange the channel");
    let at = Utc::now().timestamp();

    let mut tasks = Vec::new();
    for connection in 0..WA_CONNECTIONS {
        let test_db = test_db.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..WA_PER_CONNECTION {
                let k = connection * WA_PER_CONNECTION + n;
                let delivery =
                    store::whatsapp::Delivery::from_body(&whatsapp_body(k % WA_PEOPLE, k, at));
                store::whatsapp::ingest(test_db.db(), &delivery)
                    .await
                    .expect("ingest");
            }
        }));
    }
    for task in tasks {
        task.await.expect("a delivery loop");
    }

    let now = Utc::now().to_rfc3339();
    let (conversations, messages, _) = period_totals(&test_db, ws, &now).await;
    assert_eq!(
        (conversations, messages),
        (
            WA_PEOPLE as i32,
            (WA_CONNECTIONS * WA_PER_CONNECTION) as i32
        ),
        "one customer-service window per person, one message per delivery"
    );
}

#[tokio::test]
async fn a_quiet_workspace_counts_in_one_row_per_period() {
    let test_db = TestDb::new().await;
    let ws = workspace(&test_db, "quiet", None).await;
    let client = test_db.client().await;

    for k in 0..5 {
        let body = web_body(k % 2, &format!("q-{k}"));
        let command = WebAgentCommand::parse(&body, "IN").expect("a valid body");
        let workspace_id = WorkspaceId::from_uuid(ws);
        ingest(
            &client,
            workspace_id,
            &event_key(workspace_id, &command),
            &command,
            &body,
        )
        .await
        .expect("ingest");
    }

    let now = Utc::now().to_rfc3339();
    assert_eq!(
        period_totals(&test_db, ws, &now).await,
        (2, 5, 1),
        "deliveries one after another never need a second counter"
    );
}

#[tokio::test]
async fn a_closed_period_never_changes_and_late_usage_counts_in_the_current_one() {
    let test_db = TestDb::new().await;
    let ws = workspace(&test_db, "closing", None).await;
    let client = test_db.client().await;
    client
        .query_one(
            "SELECT * FROM add_usage($1, '2026-10-20T10:00:00Z', 2, 5)",
            &[&ws],
        )
        .await
        .expect("count in October");

    let closed: i32 = client
        .query_one("SELECT close_usage_periods('2026-11-01T00:05:00Z')", &[])
        .await
        .expect("close October")
        .get(0);
    let late = client
        .query_one(
            "SELECT conversations, messages FROM add_usage($1, '2026-10-31T23:59:59Z', 1, 1)",
            &[&ws],
        )
        .await
        .expect("a late delivery for October");

    assert_eq!(closed, 1);
    assert_eq!(
        period_totals(&test_db, ws, "2026-10-15T00:00:00Z").await,
        (2, 5, 1),
        "October stays as it was closed"
    );
    let now = Utc::now().to_rfc3339();
    let (conversations, messages, _) = period_totals(&test_db, ws, &now).await;
    assert_eq!(
        (late.get::<_, i32>(0), late.get::<_, i32>(1)),
        (conversations, messages),
        "the late delivery is answered with the period it was counted in"
    );
    assert_eq!(
        (conversations, messages),
        (1, 1),
        "and counted in the current period"
    );
}

#[tokio::test]
async fn closing_a_period_waits_for_the_delivery_still_counting_in_it() {
    let test_db = TestDb::new().await;
    let ws = workspace(&test_db, "racing", None).await;
    let counting = test_db.client().await;
    let closing = test_db.client().await;
    let observer = test_db.client().await;
    counting
        .batch_execute("BEGIN")
        .await
        .expect("begin the delivery");
    counting
        .query_one(
            "SELECT * FROM add_usage($1, '2026-10-31T23:59:59Z', 1, 3)",
            &[&ws],
        )
        .await
        .expect("count in October, not committed yet");
    let closer_pid: i32 = closing
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .expect("pid")
        .get(0);

    let close = tokio::spawn(async move {
        closing
            .query_one("SELECT close_usage_periods('2026-11-01T00:05:00Z')", &[])
            .await
            .expect("close October")
            .get::<_, i32>(0)
    });
    // The closer is waiting on the delivery's counter (a lock wait, observed, not timed).
    loop {
        let waiting: bool = observer
            .query_one(
                "SELECT coalesce((SELECT wait_event_type = 'Lock' FROM pg_stat_activity
                                  WHERE pid = $1), false)",
                &[&closer_pid],
            )
            .await
            .expect("observe the closer")
            .get(0);
        if waiting {
            break;
        }
        tokio::task::yield_now().await;
    }
    counting
        .batch_execute("COMMIT")
        .await
        .expect("commit the delivery");

    assert_eq!(close.await.expect("the closer"), 1);
    assert_eq!(
        period_totals(&test_db, ws, "2026-10-15T00:00:00Z").await,
        (1, 3, 1),
        "the delivery that was counting is in the closed total"
    );
    let open: i64 = observer
        .query_one(
            "SELECT count(*) FROM workspace_usage WHERE workspace_id = $1 AND closed_at IS NULL
               AND period_end <= '2026-11-01T00:05:00Z'",
            &[&ws],
        )
        .await
        .expect("count open counters")
        .get(0);
    assert_eq!(open, 0, "every counter of the ended period is closed");
}
