//! Rules that must exist on both sides of the database boundary — a Rust enum and a CHECK list,
//! a Rust predicate and the SQL function production runs, a job body built in SQL and decoded in
//! Rust — are compared here over the same cases, so the two can never drift apart silently.

use domain::ids::{LeadId, WorkspaceId};
use domain::jobs::{Job, Queue};
use domain::stage::{ChangeReason, Stage, SubStage};
use domain::whatsapp::DeliveryStatus;
use std::collections::BTreeSet;
use store::testing::TestDb;
use tokio_postgres::Client;

/// The quoted values of the CHECK constraints on `table.column` (every `'…'` literal in them).
/// Constraints over that column alone, unless it has none: then those that involve it with
/// others (a sub-stage constraint also names its stage).
async fn check_values(client: &Client, table: &str, column: &str) -> BTreeSet<String> {
    let rows = client
        .query(
            "WITH involving AS (
                 SELECT c.oid, cardinality(c.conkey) = 1 AS alone
                 FROM pg_constraint c
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
                 WHERE c.contype = 'c' AND c.conrelid = $1::text::regclass AND a.attname = $2)
             SELECT pg_get_constraintdef(oid) FROM involving
             WHERE alone OR NOT EXISTS (SELECT 1 FROM involving WHERE alone)",
            &[&table, &column],
        )
        .await
        .expect("read the CHECK constraints");
    assert!(!rows.is_empty(), "{table}.{column} has no CHECK constraint");
    rows.iter()
        .flat_map(|row| {
            let definition: String = row.get(0);
            definition
                .split('\'')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn texts<T: Copy>(values: &[T], as_str: impl Fn(T) -> &'static str) -> BTreeSet<String> {
    values.iter().map(|v| as_str(*v).to_owned()).collect()
}

#[tokio::test]
async fn stage_lists_in_the_schema_equal_the_stage_enum() {
    let test = TestDb::new().await;
    let client = test.client().await;
    let stages = texts(&Stage::ALL, Stage::as_str);
    let sub_stages = texts(&SubStage::ALL, SubStage::as_str);

    for (table, column) in [("leads", "lead_stage"), ("lead_stage_overrides", "stage")] {
        assert_eq!(
            check_values(&client, table, column).await,
            stages,
            "{table}.{column}"
        );
    }
    // The sub-stage constraints also name the one stage that has sub-stages.
    let with_high_intent: BTreeSet<String> = sub_stages
        .iter()
        .cloned()
        .chain([Stage::HighIntent.as_str().to_owned()])
        .collect();
    for (table, column) in [
        ("leads", "sub_stage"),
        ("lead_stage_overrides", "sub_stage"),
    ] {
        let values = check_values(&client, table, column).await;
        assert!(
            values == sub_stages || values == with_high_intent,
            "{table}.{column}: {values:?}"
        );
    }
    for stage in Stage::ALL {
        let valid: bool = client
            .query_one("SELECT lead_stage_is_valid($1)", &[&stage.as_str()])
            .await
            .expect("lead_stage_is_valid")
            .get(0);
        assert!(valid, "{stage} is valid in SQL");
        for sub_stage in SubStage::ALL {
            let valid: bool = client
                .query_one(
                    "SELECT lead_sub_stage_is_valid($1, $2)",
                    &[&stage.as_str(), &sub_stage.as_str()],
                )
                .await
                .expect("lead_sub_stage_is_valid")
                .get(0);
            assert_eq!(
                valid,
                stage.allows_sub_stage(),
                "{stage} / {sub_stage}: SQL and Rust agree"
            );
        }
    }
    let unknown: bool = client
        .query_one("SELECT lead_stage_is_valid('Hot')", &[])
        .await
        .expect("lead_stage_is_valid")
        .get(0);
    assert!(!unknown);
}

#[tokio::test]
async fn stage_change_reasons_in_the_schema_equal_the_reason_enum() {
    let test = TestDb::new().await;
    let client = test.client().await;

    assert_eq!(
        check_values(&client, "lead_stage_changes", "reason").await,
        texts(&ChangeReason::ALL, ChangeReason::as_str)
    );
}

#[tokio::test]
async fn delivery_statuses_in_the_schema_equal_the_enum_and_rank_forward_with_failed_final() {
    let test = TestDb::new().await;
    let client = test.client().await;

    assert_eq!(
        check_values(&client, "conversations", "delivery_status").await,
        texts(&DeliveryStatus::ALL, DeliveryStatus::as_str)
    );
    let mut ranks = Vec::new();
    for status in DeliveryStatus::ALL {
        let rank: i32 = client
            .query_one("SELECT delivery_status_rank($1)", &[&status.as_str()])
            .await
            .expect("delivery_status_rank")
            .get(0);
        ranks.push(rank);
    }
    assert!(
        ranks.windows(2).all(|pair| pair[0] < pair[1]),
        "sent < delivered < read < played < failed: {ranks:?}"
    );
}

#[tokio::test]
async fn substantive_messages_are_the_same_in_sql_and_rust() {
    let test = TestDb::new().await;
    let client = test.client().await;
    let cases = [
        "ok",
        "Is it available?",
        "¿Está disponible",
        "kitna price hai",
        &"a".repeat(59),
        &"a".repeat(60),
        &"é".repeat(60),
        "  padded question ?  ",
        "",
    ];

    for text in cases {
        let sql: bool = client
            .query_one("SELECT is_substantive_message($1)", &[&text])
            .await
            .expect("is_substantive_message")
            .get(0);
        assert_eq!(
            sql,
            domain::scoring::is_substantive(text),
            "{text:?}: SQL and Rust agree"
        );
    }
}

#[tokio::test]
async fn the_score_lead_job_sql_writes_is_the_job_rust_decodes() {
    let test = TestDb::new().await;
    let client = test.client().await;
    let workspace: uuid::Uuid = client
        .query_one(
            "INSERT INTO workspaces (slug, name) VALUES ('parity', 'P') RETURNING id",
            &[],
        )
        .await
        .expect("a workspace")
        .get(0);
    let lead = uuid::Uuid::new_v4();

    let id: i64 = client
        .query_one(
            "SELECT id FROM enqueue_score_lead($1, $2, 'parity')",
            &[&workspace, &lead],
        )
        .await
        .expect("enqueue_score_lead")
        .get(0);
    let row = client
        .query_one("SELECT queue, payload FROM outbox WHERE id = $1", &[&id])
        .await
        .expect("the outbox row");
    let queue: String = row.get(0);
    let payload: serde_json::Value = row.get(1);

    let expected = Job::score_lead(
        WorkspaceId::from_uuid(workspace),
        LeadId::from_uuid(lead),
        "parity",
    );
    assert_eq!(queue.parse::<Queue>(), Ok(expected.queue()));
    assert_eq!(
        payload,
        expected.to_value(),
        "the same JSON, member for member"
    );
    assert_eq!(Job::from_value(payload).expect("decodes"), expected);
}
