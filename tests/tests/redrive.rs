//! Redriving a dead-letter queue, against a real SQS-compatible server (moto): what failed five
//! times goes back to its source queue once, and nothing is lost or doubled.

use lead_engine_tests::moto::MotoServer;
use platform::jobs::{RedriveError, ensure_queues, redrive};
use std::collections::BTreeSet;

async fn bodies(client: &aws_sdk_sqs::Client, url: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for _ in 0..3 {
        let received = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .visibility_timeout(60)
            .send()
            .await
            .expect("receive");
        for message in received.messages.unwrap_or_default() {
            seen.insert(message.body.unwrap_or_default());
        }
    }
    seen
}

#[tokio::test]
async fn a_redrive_moves_every_dead_letter_back_to_its_source_queue_once() {
    let sqs = MotoServer::start().await;
    let client = sqs.client();
    let urls = ensure_queues(&client, "redrive", 5, 30)
        .await
        .expect("queues");
    let scoring = &urls[&domain::jobs::Queue::Scoring];
    let parked: BTreeSet<String> = (0..13).map(|i| format!(r#"{{"job":{i}}}"#)).collect();
    for body in &parked {
        client
            .send_message()
            .queue_url(&scoring.dead_letter_url)
            .message_body(body)
            .send()
            .await
            .expect("park a message");
    }

    let report = redrive(&client, &scoring.url).await.expect("redrive");
    let again = redrive(&client, &scoring.url).await.expect("redrive again");

    assert_eq!(report.moved, 13);
    assert_eq!(report.failed, 0);
    assert_eq!(again.moved, 0, "the dead-letter queue was drained");
    assert_eq!(
        bodies(&client, &scoring.url).await,
        parked,
        "each body once"
    );
    assert!(bodies(&client, &scoring.dead_letter_url).await.is_empty());
}

#[tokio::test]
async fn a_queue_without_a_dead_letter_queue_is_refused() {
    let sqs = MotoServer::start().await;
    let client = sqs.client();
    let url = client
        .create_queue()
        .queue_name("no-redrive-policy")
        .send()
        .await
        .expect("create")
        .queue_url
        .expect("a url");

    let error = redrive(&client, &url)
        .await
        .expect_err("nothing to redrive from");

    assert!(
        matches!(error, RedriveError::NoDeadLetterQueue),
        "{error:?}"
    );
}
