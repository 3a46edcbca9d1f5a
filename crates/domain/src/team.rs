//! Users and teams: a tree in which each team may have a manager. A manager's scope is
//! their team and every team below it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::access::Role;
use crate::error::{DomainError, Refusal};

/// A team as stored and sent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = TeamView))]
pub struct TeamRecord {
    pub id: Uuid,
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub manager_id: Option<Uuid>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user as stored and sent (never with a password).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = UserView))]
pub struct UserRecord {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub team_id: Option<Uuid>,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `root` and every team below it, given each team's parent.
pub fn subtree(parents: &HashMap<Uuid, Option<Uuid>>, root: Uuid) -> Vec<Uuid> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let current = out[i];
        for (id, parent) in parents {
            if *parent == Some(current) && !out.contains(id) {
                out.push(*id);
            }
        }
        i += 1;
    }
    out
}

/// The teams from `top` down to `team` (both included), given each team's parent;
/// `None` when `team` is neither `top` nor below it.
pub fn path_down(
    parents: &HashMap<Uuid, Option<Uuid>>,
    top: Uuid,
    team: Uuid,
) -> Option<Vec<Uuid>> {
    let mut path = vec![team];
    let mut current = team;
    // A tree has no cycles (`check_parent`), but stored data is not trusted to be one.
    while current != top && path.len() <= parents.len() {
        current = (*parents.get(&current)?)?;
        path.push(current);
    }
    if current != top {
        return None;
    }
    path.reverse();
    Some(path)
}

/// Whether `team` may hang below `new_parent`: never below itself or a team under it.
pub fn check_parent(
    parents: &HashMap<Uuid, Option<Uuid>>,
    team: Uuid,
    new_parent: Option<Uuid>,
) -> Result<(), DomainError> {
    match new_parent {
        Some(p) if subtree(parents, team).contains(&p) => Err(DomainError::field(
            "parent_id",
            "invalid_reference",
            "a team cannot sit below itself",
        )),
        _ => Ok(()),
    }
}

/// A team is deleted only when it has no members and no sub-teams.
pub fn check_removal(members: u64, sub_teams: u64) -> Result<(), DomainError> {
    if members > 0 || sub_teams > 0 {
        Err(Refusal::TeamNotEmpty.into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtree_walks_down_only() {
        let (a, b, c, d) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let parents = HashMap::from([(a, None), (b, Some(a)), (c, Some(b)), (d, None)]);
        let mut s = subtree(&parents, a);
        s.sort();
        let mut want = vec![a, b, c];
        want.sort();
        assert_eq!(s, want);
        assert_eq!(subtree(&parents, c), vec![c]);
        assert!(check_parent(&parents, a, Some(c)).is_err(), "no cycles");
        assert!(check_parent(&parents, a, Some(a)).is_err());
        assert!(check_parent(&parents, c, Some(d)).is_ok());
        assert!(check_parent(&parents, c, None).is_ok());
    }

    #[test]
    fn a_path_runs_down_from_the_top_team() {
        let (a, b, c, d) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let parents = HashMap::from([(a, None), (b, Some(a)), (c, Some(b)), (d, None)]);
        assert_eq!(path_down(&parents, a, c), Some(vec![a, b, c]));
        assert_eq!(path_down(&parents, b, c), Some(vec![b, c]));
        assert_eq!(path_down(&parents, c, c), Some(vec![c]));
        assert_eq!(path_down(&parents, c, a), None, "never upwards");
        assert_eq!(path_down(&parents, d, c), None);
        let looped = HashMap::from([(a, Some(b)), (b, Some(a))]);
        assert_eq!(path_down(&looped, d, a), None, "a loop ends");
    }

    #[test]
    fn only_empty_teams_go() {
        assert_eq!(check_removal(0, 0), Ok(()));
        assert_eq!(check_removal(1, 0), Err(Refusal::TeamNotEmpty.into()));
        assert_eq!(check_removal(0, 2), Err(Refusal::TeamNotEmpty.into()));
    }
}
