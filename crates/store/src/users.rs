//! Users (identities within one firm) and their memberships (the role they hold there).

use chrono::{DateTime, Utc};
use domain::{Email, Role, UserId, UserStatus};
use serde::{Deserialize, Serialize};

use crate::cursor::{self, Page};
use crate::{Change, StoreResult, TenantTx};

/// A member as others see them (never the password hash or MFA secret).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Member {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub status: UserStatus,
    pub mfa_enabled: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

macro_rules! member_select {
    () => {
        "select u.id, u.email::text as email, u.name, m.role, u.status,
                u.mfa_enabled_at is not null as mfa_enabled, u.last_login_at, u.created_at
         from users u join memberships m on m.user_id = u.id and m.organization_id = u.organization_id "
    };
}

/// What sign-in needs to know about an account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginUser {
    pub id: UserId,
    pub password_hash: String,
    pub status: UserStatus,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub mfa_secret: Option<Vec<u8>>,
    pub mfa_enabled_at: Option<DateTime<Utc>>,
    pub mfa_last_step: Option<i64>,
    pub role: Role,
}

pub struct NewUser<'a> {
    pub id: UserId,
    pub email: &'a Email,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
}

/// Creates a user and their membership. A taken email is `Conflict("users_organization_id_email_key")`.
pub async fn create(tx: &mut TenantTx, new: NewUser<'_>) -> StoreResult<Member> {
    let org = tx.org_uuid();
    sqlx::query(
        "insert into users (id, organization_id, email, name, password_hash) values ($1, $2, $3, $4, $5)",
    )
    .bind(new.id)
    .bind(org)
    .bind(new.email.as_str())
    .bind(new.name)
    .bind(new.password_hash)
    .execute(tx.conn())
    .await?;
    sqlx::query("insert into memberships (id, organization_id, user_id, role) values ($1, $2, $3, $4)")
        .bind(uuid::Uuid::now_v7())
        .bind(org)
        .bind(new.id)
        .bind(new.role)
        .execute(tx.conn())
        .await?;
    get(tx, new.id).await
}

pub async fn get(tx: &mut TenantTx, id: UserId) -> StoreResult<Member> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(member_select!(), "where u.organization_id = $1 and u.id = $2"))
        .bind(org)
        .bind(id)
        .fetch_one(tx.conn())
        .await?)
}

pub async fn find_for_login(tx: &mut TenantTx, email: &Email) -> StoreResult<Option<LoginUser>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select u.id, u.password_hash, u.status, u.failed_logins, u.locked_until, u.mfa_secret,
                u.mfa_enabled_at, u.mfa_last_step, m.role
         from users u join memberships m on m.user_id = u.id and m.organization_id = u.organization_id
         where u.organization_id = $1 and u.email = $2",
    )
    .bind(org)
    .bind(email.as_str())
    .fetch_optional(tx.conn())
    .await?)
}

/// Counts a failed sign-in; at the threshold the account locks for `lock_for`.
/// Returns the lock's end if this failure locked the account.
pub async fn record_login_failure(
    tx: &mut TenantTx,
    id: UserId,
    threshold: i32,
    lock_for: chrono::TimeDelta,
) -> StoreResult<Option<DateTime<Utc>>> {
    let org = tx.org_uuid();
    let locked_until: Option<DateTime<Utc>> = sqlx::query_scalar(
        "update users set
             failed_logins = case when failed_logins + 1 >= $3 then 0 else failed_logins + 1 end,
             locked_until = case when failed_logins + 1 >= $3 then now() + $4 * interval '1 second'
                                 else locked_until end
         where organization_id = $1 and id = $2
         returning case when failed_logins = 0 then locked_until end",
    )
    .bind(org)
    .bind(id)
    .bind(threshold)
    .bind(lock_for.num_seconds() as f64)
    .fetch_one(tx.conn())
    .await?;
    Ok(locked_until)
}

pub async fn record_login_success(tx: &mut TenantTx, id: UserId) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "update users set failed_logins = 0, locked_until = null, last_login_at = now()
         where organization_id = $1 and id = $2",
    )
    .bind(org)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Lifts a sign-in lockout and forgets counted failures (after a password reset).
pub async fn clear_lockout(tx: &mut TenantTx, id: UserId) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query(
        "update users set failed_logins = 0, locked_until = null where organization_id = $1 and id = $2",
    )
    .bind(org)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
}

#[derive(Serialize, Deserialize)]
struct MemberKey(DateTime<Utc>, UserId);

pub async fn list(
    tx: &mut TenantTx,
    filter: &MemberFilter,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<Member>> {
    let org = tx.org_uuid();
    let after: Option<MemberKey> = after.map(cursor::decode).transpose()?;
    let (after_time, after_id) = after.map(|k| (Some(k.0), Some(k.1))).unwrap_or((None, None));
    let rows: Vec<Member> = sqlx::query_as(concat!(
        member_select!(),
        "where u.organization_id = $1
           and ($2::text is null or m.role = $2)
           and ($3::text is null or u.status = $3)
           and ($4::timestamptz is null or (u.created_at, u.id) > ($4, $5))
         order by u.created_at, u.id limit $6"
    ))
    .bind(org)
    .bind(filter.role)
    .bind(filter.status)
    .bind(after_time)
    .bind(after_id)
    .bind(limit as i64 + 1)
    .fetch_all(tx.conn())
    .await?;
    Ok(Page::from_overfetch(rows, limit, |m| MemberKey(m.created_at, m.id)))
}

/// Changes a member's role or status. Disabling also revokes their sessions. Returns the member
/// before and after.
pub async fn update(
    tx: &mut TenantTx,
    id: UserId,
    role: Option<Role>,
    status: Option<UserStatus>,
) -> StoreResult<Change<Member>> {
    let before = get(tx, id).await?;
    let org = tx.org_uuid();
    if let Some(role) = role {
        sqlx::query("update memberships set role = $3 where organization_id = $1 and user_id = $2")
            .bind(org)
            .bind(id)
            .bind(role)
            .execute(tx.conn())
            .await?;
    }
    if let Some(status) = status {
        sqlx::query("update users set status = $3 where organization_id = $1 and id = $2")
            .bind(org)
            .bind(id)
            .bind(status)
            .execute(tx.conn())
            .await?;
        if status == UserStatus::Disabled {
            crate::sessions::revoke_all_for_user(tx, id, None).await?;
        }
    }
    let after = get(tx, id).await?;
    Ok(Change { before, after })
}

/// Active owners: the last one may not be demoted or disabled.
pub async fn count_active_owners(tx: &mut TenantTx) -> StoreResult<i64> {
    let org = tx.org_uuid();
    Ok(sqlx::query_scalar(
        "select count(*) from memberships m join users u on u.id = m.user_id
         where m.organization_id = $1 and m.role = 'owner' and u.status = 'active'",
    )
    .bind(org)
    .fetch_one(tx.conn())
    .await?)
}

pub async fn set_password(tx: &mut TenantTx, id: UserId, password_hash: &str) -> StoreResult<()> {
    let org = tx.org_uuid();
    sqlx::query("update users set password_hash = $3 where organization_id = $1 and id = $2")
        .bind(org)
        .bind(id)
        .bind(password_hash)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Active staff members' emails and ids (to resolve assignees by email in imports).
pub async fn staff_emails(tx: &mut TenantTx) -> StoreResult<Vec<(String, UserId)>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select lower(u.email::text), u.id from users u
         join memberships m on m.user_id = u.id and m.organization_id = u.organization_id
         where u.organization_id = $1 and u.status = 'active' and m.role <> 'client'",
    )
    .bind(org)
    .fetch_all(tx.conn())
    .await?)
}
