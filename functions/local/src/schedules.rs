//! The local stack's scheduler: runs each scheduled job on its interval, as EventBridge
//! Scheduler does in AWS, through the same `scheduled` crate the Lambda function runs.

use scheduled::{Jobs, ScheduledJob};
use std::time::Duration;

/// How often each job runs locally: its own schedule's interval (the one template.yaml is
/// checked against), so the local stack and AWS cannot drift apart. A daily job runs once a day
/// from start-up rather than at its UTC hour; locally only the rhythm matters.
pub fn interval(job: ScheduledJob) -> Duration {
    job.schedule().interval()
}

/// Starts one timer per job.
pub fn start(jobs: Jobs) {
    for job in ScheduledJob::ALL {
        let jobs = jobs.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval(job));
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                if let Err(err) = jobs.run(job).await {
                    // A database error's detail can quote row values (personal data): log its
                    // kind and SQLSTATE only, as the journal stores them.
                    let error = match &err {
                        scheduled::ScheduledError::Store(store) => {
                            store::journal::failure_reason(store)
                        }
                        other => platform::problem::error_chain(other),
                    };
                    tracing::warn!(job = job.name(), %error, "scheduled job failed");
                }
            }
        });
    }
}
