//! Who may see and do what: roles, the calling principal and the data scope derived from it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including settings and users.
    Admin,
    /// The records owned by anyone in their team and its sub-teams.
    Manager,
    /// Their own records.
    Sales,
}

impl Role {
    /// The stable lower-case name stored and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Sales => "sales",
        }
    }

    /// Parses a stored role name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Role::Admin),
            "manager" => Some(Role::Manager),
            "sales" => Some(Role::Sales),
            _ => None,
        }
    }
}

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user's id.
    pub user_id: Uuid,
    /// The user's role at the time of the request.
    pub role: Role,
    /// The user's team, if any.
    pub team_id: Option<Uuid>,
    /// For a manager: their team and every team below it. Empty for other roles.
    pub managed_teams: Vec<Uuid>,
}

/// Which owned records a caller may see, turned into SQL by the persistence layer.
///
/// Pool records (no owner) are visible to every role on top of this scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every record.
    All,
    /// Records owned by the caller or by a member of one of these teams.
    Teams { user_id: Uuid, team_ids: Vec<Uuid> },
    /// Records owned by this user.
    Own(Uuid),
}

impl Principal {
    /// The data scope of this caller.
    pub fn scope(&self) -> Scope {
        match self.role {
            Role::Admin => Scope::All,
            Role::Manager => Scope::Teams {
                user_id: self.user_id,
                team_ids: self.managed_teams.clone(),
            },
            Role::Sales => Scope::Own(self.user_id),
        }
    }

    /// True for admins.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Fails with `forbidden` unless the caller is an admin.
    pub fn require_admin(&self) -> Result<(), DomainError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(DomainError::Forbidden("only admins may do this".into()))
        }
    }

    /// Fails with `forbidden` unless the caller is a manager or an admin.
    pub fn require_manager(&self) -> Result<(), DomainError> {
        match self.role {
            Role::Admin | Role::Manager => Ok(()),
            Role::Sales => Err(DomainError::Forbidden(
                "only managers and admins may do this".into(),
            )),
        }
    }

    /// Whether the caller may change or delete a record in the pool (no owner).
    /// Reps see the pool but only claim from it; managers and admins curate it.
    pub fn may_edit_pool(&self) -> bool {
        self.role != Role::Sales
    }

    /// Whether product cost and order margins are shown to this caller.
    pub fn may_see_cost(&self) -> bool {
        self.role != Role::Sales
    }

    /// Whether the caller may give a record to `new_owner` when creating it.
    /// Reps create for themselves; managers and admins may assign.
    pub fn may_assign_owner(&self, new_owner: Uuid) -> bool {
        new_owner == self.user_id || self.role != Role::Sales
    }
}

impl Scope {
    /// Whether a record owned by `owner` (with that owner's `owner_team`) is inside this
    /// scope. Used for records already in memory; queries apply the same rule in SQL.
    pub fn covers(&self, owner: Option<Uuid>, owner_team: Option<Uuid>) -> bool {
        match (self, owner) {
            (_, None) => true,
            (Scope::All, _) => true,
            (Scope::Own(me), Some(o)) => *me == o,
            (Scope::Teams { user_id, team_ids }, Some(o)) => {
                *user_id == o || owner_team.is_some_and(|t| team_ids.contains(&t))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, teams: Vec<Uuid>) -> Principal {
        Principal {
            user_id: Uuid::now_v7(),
            role,
            team_id: teams.first().copied(),
            managed_teams: if role == Role::Manager { teams } else { vec![] },
        }
    }

    #[test]
    fn roles_round_trip() {
        for r in [Role::Admin, Role::Manager, Role::Sales] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn scope_follows_role() {
        let team = Uuid::now_v7();
        let sub = Uuid::now_v7();
        let other = Uuid::now_v7();
        let admin = principal(Role::Admin, vec![]);
        let manager = principal(Role::Manager, vec![team, sub]);
        let rep = principal(Role::Sales, vec![team]);
        let someone = Uuid::now_v7();

        assert!(admin.scope().covers(Some(someone), Some(other)));
        assert!(manager.scope().covers(Some(someone), Some(sub)));
        assert!(!manager.scope().covers(Some(someone), Some(other)));
        assert!(
            manager.scope().covers(Some(manager.user_id), None),
            "a manager sees their own records"
        );
        assert!(rep.scope().covers(Some(rep.user_id), Some(team)));
        assert!(
            !rep.scope().covers(Some(someone), Some(team)),
            "a rep never sees a teammate's records"
        );
        for p in [&admin, &manager, &rep] {
            assert!(
                p.scope().covers(None, None),
                "the pool is visible to every role"
            );
        }
    }

    #[test]
    fn role_gates() {
        let admin = principal(Role::Admin, vec![]);
        let manager = principal(Role::Manager, vec![]);
        let rep = principal(Role::Sales, vec![]);
        assert!(admin.require_admin().is_ok());
        assert!(manager.require_admin().is_err());
        assert!(manager.require_manager().is_ok());
        assert!(rep.require_manager().is_err());
        assert!(!rep.may_see_cost() && manager.may_see_cost() && admin.may_see_cost());
        assert!(!rep.may_edit_pool() && manager.may_edit_pool());
        assert!(rep.may_assign_owner(rep.user_id));
        assert!(!rep.may_assign_owner(Uuid::now_v7()));
        assert!(manager.may_assign_owner(Uuid::now_v7()));
    }
}
