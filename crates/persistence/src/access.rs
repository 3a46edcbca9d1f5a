//! Explaining access: whether a user reads a record, by the same scope condition that
//! filters every query, and why, by the domain's rule.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use sims_domain::access::{AccessEntity, AccessReason};
use sims_domain::team::path_down;
use uuid::Uuid;

use crate::entities::{customers, leads, opportunities, orders, users};
use crate::uow::Scoped;
use crate::{PersistenceError, Result};

/// Whether a user reads a record, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The user's own queries return the record.
    pub allowed: bool,
    pub reason: AccessReason,
    /// The record's owner (`None`: a customer in the pool, or no such record).
    pub owner_id: Option<Uuid>,
    /// For `team`: the teams from the manager's team down to the owner's.
    pub team_path: Option<Vec<Uuid>>,
}

/// Explains whether `user_id` reads the record `id` of kind `entity`. A user that does
/// not exist is `422` naming `user_id`; a missing record is the reason `not_found`.
pub async fn explain<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    entity: AccessEntity,
    id: Uuid,
) -> Result<Explanation> {
    let user = users::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .ok_or_else(|| PersistenceError::unusable("user_id", "no such user"))?;
    let principal = crate::users::principal_of(conn, &user).await?;
    let scope = principal.scope();
    let (owner, allowed) = match entity {
        AccessEntity::Customer => {
            look::<customers::Entity, _>(conn, &scope, id, customers::Column::OwnerId).await?
        }
        AccessEntity::Lead => {
            look::<leads::Entity, _>(conn, &scope, id, leads::Column::OwnerId).await?
        }
        AccessEntity::Opportunity => {
            look::<opportunities::Entity, _>(conn, &scope, id, opportunities::Column::OwnerId)
                .await?
        }
        AccessEntity::Order => {
            look::<orders::Entity, _>(conn, &scope, id, orders::Column::OwnerId).await?
        }
    };
    let Some(owner) = owner else {
        return Ok(Explanation {
            allowed: false,
            reason: AccessReason::NotFound,
            owner_id: None,
            team_path: None,
        });
    };
    let owner_team = match owner {
        Some(o) => users::Entity::find_by_id(o)
            .select_only()
            .column(users::Column::TeamId)
            .into_tuple::<Option<Uuid>>()
            .one(conn)
            .await?
            .flatten(),
        None => None,
    };
    let reason = principal.explain(owner, owner_team);
    if reason.allows() != allowed {
        tracing::error!(
            %user_id, entity = entity.as_str(), %id, reason = reason.as_str(), allowed,
            "the scope query and the access rule disagree"
        );
        return Err(PersistenceError::Database(DbErr::Custom(
            "the scope query and the access rule disagree".into(),
        )));
    }
    let team_path = match (reason, principal.team_id, owner_team) {
        (AccessReason::Team, Some(top), Some(team)) => {
            path_down(&crate::teams::parent_map(conn).await?, top, team)
        }
        _ => None,
    };
    Ok(Explanation {
        allowed,
        reason,
        owner_id: owner,
        team_path,
    })
}

/// The record's owner (`None` when there is no such record; `Some(None)` for one in the
/// pool), and whether `scope`'s own condition admits it.
async fn look<E, C>(
    conn: &C,
    scope: &sims_domain::Scope,
    id: Uuid,
    owner_column: E::Column,
) -> Result<(Option<Option<Uuid>>, bool)>
where
    E: Scoped,
    E::Column: ColumnTrait,
    E::PrimaryKey: sea_orm::PrimaryKeyTrait<ValueType = Uuid>,
    C: ConnectionTrait,
{
    let owner = E::find_by_id(id)
        .select_only()
        .column(owner_column)
        .into_tuple::<Option<Uuid>>()
        .one(conn)
        .await?;
    if owner.is_none() {
        return Ok((None, false));
    }
    let admitted = E::find_by_id(id)
        .filter(E::in_scope(scope))
        .select_only()
        .column(owner_column)
        .into_tuple::<Option<Uuid>>()
        .one(conn)
        .await?
        .is_some();
    Ok((owner, admitted))
}
