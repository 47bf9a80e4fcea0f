//! The jobs that travel through the outbox and SQS, defined once for producers and consumers.
//!
//! A job body is versioned JSON: `{"v":1,"kind":"score_lead","workspace_id":…,"lead_id":…,
//! "reason":…}`. The version and the kind are checked before anything else, so a message from a
//! newer producer (or a stray body) is a decode error that the consumer reports and the queue's
//! redrive policy parks in the dead-letter queue, never a panic or a silent misreading.

use crate::ids::{AgentId, LeadId, WorkspaceId};
use serde::{Deserialize, Serialize};

/// The body version this build writes and reads.
pub const JOB_VERSION: u64 = 1;

crate::text_enum! {
    /// A queue, by the name stored in `outbox.queue`.
    #[derive(PartialOrd, Ord)]
    Queue, UnknownQueue {
        /// Lead scoring (`SCORING_QUEUE_URL`), consumed by score-lead.
        Scoring => "scoring",
        /// Microsite generation (`SITES_QUEUE_URL`), consumed by site-rebuild.
        Sites => "sites",
    }
}

/// A unit of deferred work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Job {
    /// Recompute a lead's score and stage.
    ScoreLead {
        workspace_id: WorkspaceId,
        lead_id: LeadId,
        reason: String,
    },
    /// Regenerate an agent's microsite document.
    SiteRebuild {
        workspace_id: WorkspaceId,
        agent_id: AgentId,
        reason: String,
    },
}

/// What a job is about: two jobs with the same subject need to run only once per batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    Lead(LeadId),
    Agent(AgentId),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobDecodeError {
    #[error("job body is not JSON: {0}")]
    NotJson(String),
    #[error("job body has no numeric \"v\"")]
    MissingVersion,
    #[error("job version {0} is not supported (this build reads version {JOB_VERSION})")]
    UnsupportedVersion(u64),
    #[error("job body is not a known job: {0}")]
    Invalid(String),
}

impl Job {
    pub fn score_lead(workspace_id: WorkspaceId, lead_id: LeadId, reason: &str) -> Self {
        Self::ScoreLead {
            workspace_id,
            lead_id,
            reason: reason.to_owned(),
        }
    }

    pub fn site_rebuild(workspace_id: WorkspaceId, agent_id: AgentId, reason: &str) -> Self {
        Self::SiteRebuild {
            workspace_id,
            agent_id,
            reason: reason.to_owned(),
        }
    }

    /// The queue this kind of job goes to.
    pub fn queue(&self) -> Queue {
        match self {
            Self::ScoreLead { .. } => Queue::Scoring,
            Self::SiteRebuild { .. } => Queue::Sites,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::ScoreLead { .. } => "score_lead",
            Self::SiteRebuild { .. } => "site_rebuild",
        }
    }

    pub fn workspace_id(&self) -> WorkspaceId {
        match self {
            Self::ScoreLead { workspace_id, .. } | Self::SiteRebuild { workspace_id, .. } => {
                *workspace_id
            }
        }
    }

    pub fn subject(&self) -> Subject {
        match self {
            Self::ScoreLead { lead_id, .. } => Subject::Lead(*lead_id),
            Self::SiteRebuild { agent_id, .. } => Subject::Agent(*agent_id),
        }
    }

    /// The versioned body, as stored in `outbox.payload` and sent to SQS.
    pub fn to_value(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(object) = value.as_object_mut() {
            object.insert("v".to_owned(), JOB_VERSION.into());
        }
        value
    }

    pub fn to_body(&self) -> String {
        self.to_value().to_string()
    }

    /// Reads a body: the version first, then the kind and its fields.
    pub fn from_value(mut value: serde_json::Value) -> Result<Self, JobDecodeError> {
        let object = value
            .as_object_mut()
            .ok_or_else(|| JobDecodeError::Invalid("not a JSON object".to_owned()))?;
        let version = object
            .remove("v")
            .and_then(|v| v.as_u64())
            .ok_or(JobDecodeError::MissingVersion)?;
        if version != JOB_VERSION {
            return Err(JobDecodeError::UnsupportedVersion(version));
        }
        serde_json::from_value(value).map_err(|e| JobDecodeError::Invalid(e.to_string()))
    }

    pub fn from_body(body: &str) -> Result<Self, JobDecodeError> {
        let value: serde_json::Value =
            serde_json::from_str(body).map_err(|e| JobDecodeError::NotJson(e.to_string()))?;
        Self::from_value(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const WS: &str = "0191c1a2-7b3c-7d4e-8f50-000000000001";
    const LEAD: &str = "0191c1a2-7b3c-7d4e-8f50-000000000002";

    fn score_job() -> Job {
        Job::score_lead(
            WS.parse().expect("uuid"),
            LEAD.parse().expect("uuid"),
            "web_agent_message",
        )
    }

    #[test]
    fn a_job_is_written_as_versioned_json_with_its_kind() {
        assert_eq!(
            score_job().to_value(),
            json!({"v": 1, "kind": "score_lead", "workspace_id": WS, "lead_id": LEAD,
                   "reason": "web_agent_message"})
        );
    }

    #[test]
    fn a_job_reads_back_what_it_wrote() {
        let job = score_job();
        assert_eq!(Job::from_body(&job.to_body()), Ok(job));
        let site = Job::site_rebuild(WS.parse().expect("uuid"), LEAD.parse().expect("uuid"), "x");
        assert_eq!(Job::from_body(&site.to_body()), Ok(site));
    }

    #[test]
    fn bad_bodies_are_decode_errors_not_panics() {
        let cases = [
            ("not json", "{", "NotJson"),
            ("no version", r#"{"kind":"score_lead"}"#, "MissingVersion"),
            (
                "future version",
                r#"{"v":2,"kind":"score_lead"}"#,
                "UnsupportedVersion",
            ),
            (
                "unknown kind",
                r#"{"v":1,"kind":"launch_rocket"}"#,
                "Invalid",
            ),
            (
                "missing field",
                r#"{"v":1,"kind":"score_lead","workspace_id":"x"}"#,
                "Invalid",
            ),
            ("array", "[1]", "Invalid"),
        ];
        for (why, body, want) in cases {
            let err = Job::from_body(body).expect_err(why);
            assert!(format!("{err:?}").starts_with(want), "{why}: got {err:?}");
        }
    }

    #[test]
    fn each_kind_goes_to_its_queue() {
        assert_eq!(score_job().queue(), Queue::Scoring);
        let site = Job::site_rebuild(WS.parse().expect("uuid"), LEAD.parse().expect("uuid"), "x");
        assert_eq!(site.queue(), Queue::Sites);
        for queue in Queue::ALL {
            assert_eq!(queue.as_str().parse::<Queue>(), Ok(queue));
        }
    }
}
