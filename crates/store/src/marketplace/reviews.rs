//! Reviews of advisors: written by the client organization of an accepted match, read publicly
//! once published.

use chrono::{DateTime, Utc};
use domain::{AdvisorId, MatchId, ReviewId};
use serde::Serialize;

use crate::{Db, StoreResult, TenantTx};

/// Published reviews of an advisor, newest first.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PublishedReview {
    pub id: ReviewId,
    pub overall: i16,
    pub communication: Option<i16>,
    pub responsiveness: Option<i16>,
    pub expertise: Option<i16>,
    pub value: Option<i16>,
    pub professionalism: Option<i16>,
    pub testimonial: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn published_reviews(db: &Db, advisor: AdvisorId, limit: i64) -> StoreResult<Vec<PublishedReview>> {
    Ok(sqlx::query_as(
        "select id, overall, communication, responsiveness, expertise, value, professionalism, testimonial, created_at
         from marketplace_reviews where advisor_id = $1 and is_published order by created_at desc limit $2",
    )
    .bind(advisor)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}
pub struct NewReview<'a> {
    pub id: ReviewId,
    pub advisor: AdvisorId,
    pub match_id: MatchId,
    pub scores: [Option<i16>; 6],
    pub testimonial: Option<&'a str>,
    pub publish: bool,
}

pub async fn create_review(tx: &mut TenantTx, r: NewReview<'_>) -> StoreResult<PublishedReview> {
    let org = tx.org_uuid();
    let [overall, communication, responsiveness, expertise, value, professionalism] = r.scores;
    Ok(sqlx::query_as(
        "insert into marketplace_reviews (id, advisor_id, reviewer_organization_id, match_id, overall, communication,
             responsiveness, expertise, value, professionalism, testimonial, is_published)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         returning id, overall, communication, responsiveness, expertise, value, professionalism, testimonial, created_at",
    )
    .bind(r.id)
    .bind(r.advisor)
    .bind(org)
    .bind(r.match_id)
    .bind(overall)
    .bind(communication)
    .bind(responsiveness)
    .bind(expertise)
    .bind(value)
    .bind(professionalism)
    .bind(r.testimonial)
    .bind(r.publish)
    .fetch_one(tx.conn())
    .await?)
}
