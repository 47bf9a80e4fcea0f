//! `POST /local/jobs/{name}`: runs one scheduled job now and answers its JSON summary.
//!
//! Only the local stack has this route: in AWS, EventBridge Scheduler is the only caller of the
//! scheduled function. It lets a developer (and the end-to-end tests) run `usage_reset` or
//! `journal_replay` without waiting for its interval. An unknown name is a 404 problem.

use lambda_http::{Body, Request, RequestExt, Response};
use platform::ApiError;
use platform::http::json_response;
use scheduled::{Jobs, ScheduledError, ScheduledJob};

pub async fn handle(jobs: &Jobs, request: Request) -> Response<Body> {
    let request_id = platform::http::request_id(&request);
    let name = request
        .path_parameters()
        .first("name")
        .unwrap_or_default()
        .to_owned();
    let result = match ScheduledJob::parse(&name) {
        Err(_) => Err(ApiError::NotFound("scheduled job")),
        Ok(job) => match jobs.run(job).await {
            Ok(summary) => Ok(json_response(200, &summary)),
            Err(ScheduledError::UnknownJob(_)) => Err(ApiError::NotFound("scheduled job")),
            Err(error) => Err(ApiError::Internal(Box::new(error))),
        },
    };
    platform::http::respond(&request_id, result)
}
