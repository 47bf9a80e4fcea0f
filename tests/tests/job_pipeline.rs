//! The job pipeline end to end: outbox rows in PostgreSQL, published to a real SQS-compatible
//! server (moto), relayed when publishing failed, consumed with partial batch failures.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use domain::ids::{LeadId, WorkspaceId};
use domain::jobs::{Job, Queue};
use lead_engine_tests::moto::{MotoServer, publisher_client_for};
use platform::jobs::{
    FnConsumer, JobFailed, JobSink, Publisher, RelaySettings, SqsSink, ensure_queues, poll_once,
    run_batch,
};
use std::collections::HashMap;
use std::time::Duration;
use store::outbox;
use store::testing::TestDb;

fn score_job() -> Job {
    Job::score_lead(
        WorkspaceId::from_uuid(uuid::Uuid::new_v4()),
        LeadId::from_uuid(uuid::Uuid::new_v4()),
        "test",
    )
}

/// A relay that does not wait for the producer's grace period (tests publish at once).
fn eager_relay() -> RelaySettings {
    RelaySettings {
        grace: Duration::ZERO,
        ..RelaySettings::default()
    }
}

async fn enqueue(test: &TestDb, jobs: &[Job]) -> Vec<outbox::OutboxMessage> {
    let mut client = test.client().await;
    let tx = client.transaction().await.expect("begin");
    let rows = outbox::enqueue(&*tx, jobs).await.expect("enqueue");
    tx.commit().await.expect("commit");
    rows
}

async fn receive_all(client: &aws_sdk_sqs::Client, url: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    loop {
        let out = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return bodies;
        }
        for message in messages {
            bodies.push(message.body.clone().unwrap_or_default());
            client
                .delete_message()
                .queue_url(url)
                .receipt_handle(message.receipt_handle.unwrap_or_default())
                .send()
                .await
                .expect("delete");
        }
    }
}

async fn unpublished(test: &TestDb) -> i64 {
    test.client()
        .await
        .query_one(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL",
            &[],
        )
        .await
        .expect("count")
        .get(0)
}

/// The functions' publishing path (`platform::aws`), to queues the SDK created.
fn sqs_sink(moto: &MotoServer, urls: &HashMap<Queue, platform::jobs::QueueUrls>) -> JobSink {
    JobSink::Sqs(SqsSink::new(
        moto.publisher_client(),
        urls.iter().map(|(q, u)| (*q, u.url.clone())).collect(),
    ))
}

#[tokio::test]
async fn committed_jobs_are_published_received_and_deleted() {
    let test = TestDb::new().await;
    let moto = MotoServer::start().await;
    let sqs = moto.client();
    let urls = ensure_queues(&sqs, "publish", 5, 30).await.expect("queues");
    let jobs: Vec<Job> = (0..23).map(|_| score_job()).collect();

    let rows = enqueue(&test, &jobs).await;
    Publisher::new(test.db().clone(), sqs_sink(&moto, &urls))
        .publish_committed(&rows)
        .await;

    assert_eq!(unpublished(&test).await, 0, "every row is marked published");
    let bodies = receive_all(&sqs, &urls[&Queue::Scoring].url).await;
    assert_eq!(bodies.len(), 23, "23 jobs in batches of at most ten");
    let mut received: Vec<Job> = bodies
        .iter()
        .map(|b| Job::from_body(b).expect("decodes"))
        .collect();
    let mut sent = jobs.clone();
    received.sort_by_key(|j| format!("{:?}", j.subject()));
    sent.sort_by_key(|j| format!("{:?}", j.subject()));
    assert_eq!(received, sent);
    assert!(
        receive_all(&sqs, &urls[&Queue::Scoring].url)
            .await
            .is_empty(),
        "deleted"
    );
}

#[tokio::test]
async fn a_publish_sqs_refuses_is_recorded_with_its_error_code_and_left_for_the_relay() {
    let test = TestDb::new().await;
    let moto = MotoServer::start().await;
    let missing: HashMap<Queue, String> = Queue::ALL
        .iter()
        .map(|q| {
            (
                *q,
                format!("{}/123456789012/no-such-queue-{q}", moto.endpoint),
            )
        })
        .collect();
    let rows = enqueue(&test, &[score_job(), score_job()]).await;

    Publisher::new(
        test.db().clone(),
        JobSink::Sqs(SqsSink::new(moto.publisher_client(), missing)),
    )
    .publish_committed(&rows)
    .await;

    assert_eq!(unpublished(&test).await, 2, "nothing is lost");
    let errors: Vec<String> = test
        .client()
        .await
        .query("SELECT last_error FROM outbox ORDER BY id", &[])
        .await
        .expect("errors")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(errors.len(), 2);
    for error in &errors {
        assert!(
            error.starts_with("sqs answered 400: QueueDoesNotExist"),
            "SQS's own code is kept: {error}"
        );
    }
}

#[tokio::test]
async fn a_poison_message_reaches_the_dead_letter_queue_after_the_redrive_count() {
    let moto = MotoServer::start().await;
    let sqs = moto.client();
    // Visibility 0 so a failed message is received again at once; two receives before redrive.
    let urls = ensure_queues(&sqs, "poison", 2, 0).await.expect("queues");
    let scoring = &urls[&Queue::Scoring];
    sqs.send_message()
        .queue_url(&scoring.url)
        .message_body("{\"v\":1,\"kind\":\"launch_rocket\"}")
        .send()
        .await
        .expect("send poison");
    let consumer =
        FnConsumer(|jobs: Vec<Job>| async move { jobs.iter().map(|_| Ok(())).collect() });

    for _ in 0..5 {
        poll_once(&sqs, &scoring.url, 0, &consumer)
            .await
            .expect("poll");
    }

    let dead = receive_all(&sqs, &scoring.dead_letter_url).await;
    assert_eq!(
        dead,
        vec!["{\"v\":1,\"kind\":\"launch_rocket\"}".to_owned()]
    );
    assert!(
        receive_all(&sqs, &scoring.url).await.is_empty(),
        "gone from the main queue"
    );
}

#[tokio::test]
async fn with_sqs_unreachable_a_job_waits_in_the_outbox_and_the_relay_publishes_it_once() {
    let test = TestDb::new().await;
    // Nothing listens on port 1.
    let dead_sqs = publisher_client_for("http://127.0.0.1:1");
    let dead_urls: HashMap<Queue, String> = Queue::ALL
        .iter()
        .map(|q| (*q, format!("http://127.0.0.1:1/000000000000/{q}")))
        .collect();
    let rows = enqueue(&test, &(0..30).map(|_| score_job()).collect::<Vec<_>>()).await;

    Publisher::new(
        test.db().clone(),
        JobSink::Sqs(SqsSink::new(dead_sqs, dead_urls)),
    )
    .publish_committed(&rows)
    .await;

    assert_eq!(
        unpublished(&test).await,
        30,
        "nothing is lost while SQS is down"
    );
    let errors: i64 = test
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM outbox WHERE last_error IS NOT NULL AND attempts = 1",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(errors, 30, "each failure is recorded");

    // SQS is back. The failed rows wait out their backoff; make them due now.
    test.client()
        .await
        .execute("UPDATE outbox SET available_at = now()", &[])
        .await
        .expect("expire backoff");
    let moto = MotoServer::start().await;
    let sqs = moto.client();
    let urls = ensure_queues(&sqs, "relay", 5, 30).await.expect("queues");
    let settings = RelaySettings {
        batch: 7,
        ..eager_relay()
    };
    let first = Publisher::new(test.db().clone(), sqs_sink(&moto, &urls));
    let second = first.clone();
    let (a, b) = tokio::join!(first.relay(settings), second.relay(settings));
    let (a, b) = (a.expect("relay a"), b.expect("relay b"));

    assert_eq!(
        a.published + b.published,
        30,
        "two relays together publish each row once"
    );
    assert_eq!(unpublished(&test).await, 0);
    let bodies = receive_all(&sqs, &urls[&Queue::Scoring].url).await;
    assert_eq!(bodies.len(), 30, "no row was published twice");
}

#[tokio::test]
async fn a_row_that_keeps_failing_is_retried_at_the_longest_backoff_and_never_dropped() {
    let test = TestDb::new().await;
    let rows = enqueue(&test, &[score_job()]).await;
    test.client()
        .await
        .execute("UPDATE outbox SET attempts = 40", &[])
        .await
        .expect("a row that failed forty times");

    let report = Publisher::new(test.db().clone(), JobSink::Disabled)
        .relay(eager_relay())
        .await
        .expect("relay");

    assert_eq!(report.claimed, 1, "still retried after forty failures");
    let row = test
        .client()
        .await
        .query_one(
            "SELECT published_at IS NULL, attempts,
                    extract(epoch FROM available_at - now())::float8
             FROM outbox WHERE id = $1",
            &[&rows[0].id],
        )
        .await
        .expect("the row is still there");
    assert!(row.get::<_, bool>(0), "unpublished");
    assert_eq!(row.get::<_, i32>(1), 41, "the attempt counted");
    let wait: f64 = row.get(2);
    assert!(
        (3_500.0..=3_600.0).contains(&wait),
        "the next try is an hour away (the longest backoff), not {wait} s"
    );
}

#[tokio::test]
async fn rolling_back_the_producer_leaves_no_job() {
    let test = TestDb::new().await;
    let mut client = test.client().await;
    let tx = client.transaction().await.expect("begin");
    outbox::enqueue(&*tx, &[score_job()])
        .await
        .expect("enqueue");
    tx.rollback().await.expect("rollback");

    let count: i64 = client
        .query_one("SELECT count(*) FROM outbox", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(count, 0);
}

#[tokio::test]
async fn published_rows_are_pruned_after_the_retention_period() {
    let test = TestDb::new().await;
    let rows = enqueue(&test, &[score_job(), score_job()]).await;
    let client = test.client().await;
    client
        .execute(
            "UPDATE outbox SET published_at = now() - interval '8 days' WHERE id = $1",
            &[&rows[0].id],
        )
        .await
        .expect("age one row");

    let report = Publisher::new(test.db().clone(), JobSink::Disabled)
        .relay(RelaySettings {
            grace: Duration::from_secs(3600),
            ..RelaySettings::default()
        })
        .await
        .expect("relay");

    assert_eq!(report.pruned, 1, "only the old published row goes");
    let left: i64 = client
        .query_one("SELECT count(*) FROM outbox", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(left, 1, "the unpublished row stays");
}

fn record(id: &str, body: &str) -> SqsMessage {
    let mut message = SqsMessage::default();
    message.message_id = Some(id.to_owned());
    message.body = Some(body.to_owned());
    message
}

#[tokio::test]
async fn a_batch_with_one_bad_record_reports_exactly_that_record() {
    let good = score_job();
    let mut event = SqsEvent::default();
    event.records = vec![
        record("m1", &good.to_body()),
        record("m2", "{not json"),
        record("m3", &score_job().to_body()),
    ];

    let response = run_batch(event, |jobs: Vec<Job>| async move {
        jobs.iter().map(|_| Ok::<(), JobFailed>(())).collect()
    })
    .await;

    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec!["m2"]);
}

#[tokio::test]
async fn duplicate_jobs_for_one_subject_in_a_batch_run_once_and_fail_together() {
    let job = score_job();
    let other = score_job();
    let mut event = SqsEvent::default();
    event.records = vec![
        record("a1", &job.to_body()),
        record("b1", &other.to_body()),
        record("a2", &job.to_body()),
    ];
    let failing_subject = job.subject();

    let response = run_batch(event, |jobs: Vec<Job>| async move {
        assert_eq!(
            jobs.len(),
            2,
            "the duplicate is folded before the consumer runs"
        );
        jobs.iter()
            .map(|j| {
                if j.subject() == failing_subject {
                    Err(JobFailed("transient".into()))
                } else {
                    Ok(())
                }
            })
            .collect()
    })
    .await;

    let mut failed: Vec<String> = response
        .batch_item_failures
        .into_iter()
        .map(|f| f.item_identifier)
        .collect();
    failed.sort();
    assert_eq!(failed, vec!["a1".to_owned(), "a2".to_owned()]);
}
