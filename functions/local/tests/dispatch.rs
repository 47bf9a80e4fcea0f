//! Local job dispatch: a committed job reaches its consumer in-process within a second, through
//! the same publisher and runner code Lambda uses.

use domain::ids::{LeadId, WorkspaceId};
use domain::jobs::{Job, Queue};
use local::dispatch::{Consumers, start_in_process};
use platform::jobs::{Consumer, FnConsumer, JobFailed, Publisher};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::testing::TestDb;

/// A consumer that accepts every job and records it.
fn recording_consumer() -> (Arc<Mutex<Vec<Job>>>, Arc<dyn Consumer>) {
    let seen: Arc<Mutex<Vec<Job>>> = Arc::default();
    let recorder = seen.clone();
    let consumer = FnConsumer(move |jobs: Vec<Job>| {
        let recorder = recorder.clone();
        async move {
            let outcomes = jobs.iter().map(|_| Ok::<(), JobFailed>(())).collect();
            recorder.lock().expect("lock").extend(jobs);
            outcomes
        }
    });
    (seen, Arc::new(consumer))
}

#[tokio::test]
async fn a_committed_job_reaches_its_consumer_in_process_within_a_second() {
    let test = TestDb::new().await;
    let (seen, consumer) = recording_consumer();
    let sink = start_in_process(Consumers::new().with(Queue::Scoring, consumer));
    let publisher = Publisher::new(test.db().clone(), sink);
    let job = Job::score_lead(
        WorkspaceId::from_uuid(uuid::Uuid::new_v4()),
        LeadId::from_uuid(uuid::Uuid::new_v4()),
        "test",
    );

    let mut client = test.client().await;
    let tx = client.transaction().await.expect("begin");
    let rows = store::outbox::enqueue(&*tx, std::slice::from_ref(&job))
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    publisher.publish_committed(&rows).await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    while seen.lock().expect("lock").is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not consumed within a second"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(*seen.lock().expect("lock"), vec![job]);
    let published: bool = client
        .query_one("SELECT published_at IS NOT NULL FROM outbox", &[])
        .await
        .expect("read")
        .get(0);
    assert!(published, "the row is marked published");
}

#[tokio::test]
async fn with_an_sqs_endpoint_jobs_go_through_real_queues_to_the_same_consumer() {
    let test = TestDb::new().await;
    let moto = lead_engine_tests::moto::MotoServer::start().await;
    let (seen, consumer) = recording_consumer();
    let sink = local::dispatch::start_sqs(
        &moto.endpoint,
        Consumers::new().with(Queue::Scoring, consumer),
    )
    .await
    .expect("queues are created on the SQS endpoint");
    let publisher = Publisher::new(test.db().clone(), sink);
    let job = Job::score_lead(
        WorkspaceId::from_uuid(uuid::Uuid::new_v4()),
        LeadId::from_uuid(uuid::Uuid::new_v4()),
        "test",
    );

    let client = test.client().await;
    let rows = store::outbox::enqueue(&**client, std::slice::from_ref(&job))
        .await
        .expect("enqueue");
    publisher.publish_committed(&rows).await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while seen.lock().expect("lock").is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not consumed through SQS within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(*seen.lock().expect("lock"), vec![job]);
}
