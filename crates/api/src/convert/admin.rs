//! The job queue's figures and jobs, this process's circuit breakers and the query cache's
//! counters, to their API shapes; the job list's query to the queue's filter.

use api_types::admin::{
    BreakerResponse, CacheL2Response, CacheUseResponse, JobListParams, JobResponse, JobState,
    QueueStatsResponse,
};
use jobs::JobId;
use jobs::admin::{JobFilter, JobSummary, QueueStats};

use super::IntoApi;

impl_into_api!(QueueStats => QueueStatsResponse {
    queue, ready, scheduled, running, retrying, dead, cancelled, oldest_ready_age_seconds, window_seconds,
    completed_in_window, failed_in_window, dead_in_window, rescued_in_window, throughput_per_second
});

impl IntoApi<JobResponse> for JobSummary {
    fn into_api(self) -> JobResponse {
        let j = self;
        JobResponse {
            id: j.id.0,
            queue: j.queue,
            kind: j.kind,
            organization_id: j.organization_id,
            state: j.state.into_api(),
            priority: j.priority,
            attempt: j.attempt,
            max_attempts: j.max_attempts,
            run_at: j.run_at,
            unique_key: j.unique_key,
            limit_key: j.limit_key,
            leased_by: j.leased_by,
            lease_expires_at: j.lease_expires_at,
            last_error: j.last_error,
            created_at: j.created_at,
            started_at: j.started_at,
            finished_at: j.finished_at,
            payload: j.payload,
        }
    }
}

impl IntoApi<JobState> for jobs::JobState {
    fn into_api(self) -> JobState {
        match self {
            jobs::JobState::Available => JobState::Available,
            jobs::JobState::Running => JobState::Running,
            jobs::JobState::Retrying => JobState::Retrying,
            jobs::JobState::Dead => JobState::Dead,
            jobs::JobState::Cancelled => JobState::Cancelled,
        }
    }
}

fn queue_state(state: JobState) -> jobs::JobState {
    match state {
        JobState::Available => jobs::JobState::Available,
        JobState::Running => jobs::JobState::Running,
        JobState::Retrying => jobs::JobState::Retrying,
        JobState::Dead => jobs::JobState::Dead,
        JobState::Cancelled => jobs::JobState::Cancelled,
    }
}

/// The queue's filter from the list's query, with the page size the handler checked.
pub(crate) fn job_filter(q: JobListParams, limit: u32) -> JobFilter {
    JobFilter {
        queue: q.queue,
        kind: q.kind,
        state: q.state.map(queue_state),
        organization: q.organization_id,
        before: q.before.map(JobId),
        limit: Some(limit),
    }
}

impl IntoApi<BreakerResponse> for resilience::BreakerSnapshot {
    fn into_api(self) -> BreakerResponse {
        BreakerResponse {
            name: self.name,
            state: self.state.as_str().to_owned(),
            calls: self.calls,
            failures: self.failures,
            retry_after_seconds: self.retry_after.map(|d| d.as_secs_f64()),
        }
    }
}

impl_into_api!(cache::UseCounts => CacheUseResponse {
    name, hits_l1, hits_l2, misses, stale, refreshes, errors, bypassed
});
impl_into_api!(cache::L2State => CacheL2Response { connected, breaker, subscribed, errors, skipped });

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use domain::OrganizationId;
    use serde::Serialize;
    use serde_json::json;

    use super::*;

    /// The API shape serializes byte for byte as the queue's own value did when it was the answer
    /// itself, so clients see no change.
    fn same_json<T: Serialize + Clone + IntoApi<U>, U: Serialize>(value: T) {
        let api = value.clone().into_api();
        assert_eq!(serde_json::to_string(&api).unwrap(), serde_json::to_string(&value).unwrap());
    }

    #[test]
    fn jobs_and_queue_figures_serialize_as_before() {
        for state in jobs::JobState::ALL {
            let now = Utc::now();
            same_json(JobSummary {
                id: JobId(42),
                queue: "mail".into(),
                kind: "mail.send".into(),
                organization_id: Some(OrganizationId::new()),
                state,
                priority: -1,
                attempt: 2,
                max_attempts: 3,
                run_at: now,
                unique_key: Some("invoice-7".into()),
                limit_key: None,
                leased_by: Some(uuid::Uuid::now_v7()),
                lease_expires_at: Some(now),
                last_error: Some("smtp 451".into()),
                created_at: now,
                started_at: None,
                finished_at: Some(now),
                payload: json!({"invoice": 7, "to": ["a@example.test"]}),
            });
            assert_eq!(queue_state(state.into_api()), state);
        }
        same_json(QueueStats {
            queue: "ocr".into(),
            ready: 1,
            scheduled: 2,
            running: 3,
            retrying: 4,
            dead: 5,
            cancelled: 6,
            oldest_ready_age_seconds: Some(1.5),
            window_seconds: 300,
            completed_in_window: 7,
            failed_in_window: 8,
            dead_in_window: 9,
            rescued_in_window: 10,
            throughput_per_second: 0.25,
        });
    }
}
