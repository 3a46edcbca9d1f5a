//! Who may see and do what: roles, the calling principal and the data scope derived from it.

use uuid::Uuid;

use crate::error::{DomainError, Refusal};

crate::stored_enum! {
    /// A user's role.
    pub enum Role {
        /// Everything, including settings and users.
        Admin => "admin",
        /// The records owned by anyone in their team and its sub-teams.
        Manager => "manager",
        /// Their own records.
        Sales => "sales",
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

    /// Whether the caller may make `user` (a member of `user_team`) the owner of a
    /// record: admins anyone, managers themselves and members of the teams they manage,
    /// reps only themselves.
    pub fn may_give_to(&self, user: Uuid, user_team: Option<Uuid>) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Manager => {
                user == self.user_id || user_team.is_some_and(|t| self.managed_teams.contains(&t))
            }
            Role::Sales => user == self.user_id,
        }
    }

    /// Whether the caller may change a follow-up written by `author` (its author only).
    pub fn may_edit_follow_up(&self, author: Uuid) -> Result<(), DomainError> {
        if author == self.user_id {
            Ok(())
        } else {
            Err(DomainError::Forbidden(
                "only the author may change a follow-up".into(),
            ))
        }
    }

    /// Whether the caller may delete a follow-up written by `author` (its author, or an admin).
    pub fn may_delete_follow_up(&self, author: Uuid) -> Result<(), DomainError> {
        if self.is_admin() {
            Ok(())
        } else {
            self.may_edit_follow_up(author)
        }
    }

    /// Whether the caller may change a customer owned by `owner` that is in their scope:
    /// a pool customer (`None`) is changed by managers and admins only.
    pub fn may_change_customer(&self, owner: Option<Uuid>) -> Result<(), DomainError> {
        if owner.is_none() && !self.may_edit_pool() {
            Err(DomainError::Forbidden(
                "pool customers are changed by managers and admins; claim it first".into(),
            ))
        } else {
            Ok(())
        }
    }

    /// Whether the caller may change `user` in this way: admins never deactivate or
    /// demote themselves.
    pub fn may_change_user(
        &self,
        user: Uuid,
        deactivate: bool,
        new_role: Option<Role>,
    ) -> Result<(), DomainError> {
        if user == self.user_id && (deactivate || new_role.is_some_and(|r| r != Role::Admin)) {
            Err(Refusal::SelfDemotion.into())
        } else {
            Ok(())
        }
    }
}

crate::stored_enum! {
    /// The kinds of record whose access an admin can have explained.
    pub enum AccessEntity {
        Customer => "customer",
        Lead => "lead",
        Opportunity => "opportunity",
        Order => "order",
    }
}

crate::stored_enum! {
    /// Why a user may or may not read a record.
    pub enum AccessReason {
        /// The user is an admin, who sees every record.
        Admin => "admin",
        /// The user owns the record.
        Owner => "owner",
        /// The user manages the team of the record's owner, or a team above it.
        Team => "team",
        /// The customer is in the pool, which every role sees.
        Pool => "pool",
        /// The record's owner is outside the user's scope.
        OutsideScope => "outside_scope",
        /// There is no such record.
        NotFound => "not_found",
    }
}

impl AccessReason {
    /// Whether a user with this reason reads the record.
    pub fn allows(self) -> bool {
        !matches!(self, AccessReason::OutsideScope | AccessReason::NotFound)
    }
}

impl Principal {
    /// Why this user may or may not read a record owned by `owner` (`None`: a customer in
    /// the pool) who belongs to `owner_team`: the rule [`Scope::covers`] applies, with
    /// its reason.
    pub fn explain(&self, owner: Option<Uuid>, owner_team: Option<Uuid>) -> AccessReason {
        let reason = match (self.role, owner) {
            (Role::Admin, _) => AccessReason::Admin,
            (_, None) => AccessReason::Pool,
            (_, Some(o)) if o == self.user_id => AccessReason::Owner,
            (Role::Manager, Some(_))
                if owner_team.is_some_and(|t| self.managed_teams.contains(&t)) =>
            {
                AccessReason::Team
            }
            _ => AccessReason::OutsideScope,
        };
        debug_assert_eq!(reason.allows(), self.scope().covers(owner, owner_team));
        reason
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
    fn access_is_explained_by_the_rule_that_grants_it() {
        let team = Uuid::now_v7();
        let sub = Uuid::now_v7();
        let other = Uuid::now_v7();
        let admin = principal(Role::Admin, vec![]);
        let manager = principal(Role::Manager, vec![team, sub]);
        let rep = principal(Role::Sales, vec![team]);
        let someone = Uuid::now_v7();
        let cases = [
            (&admin, Some(someone), Some(other), AccessReason::Admin),
            (&admin, None, None, AccessReason::Admin),
            (&manager, Some(someone), Some(sub), AccessReason::Team),
            (&manager, Some(someone), Some(team), AccessReason::Team),
            (
                &manager,
                Some(someone),
                Some(other),
                AccessReason::OutsideScope,
            ),
            (&manager, Some(someone), None, AccessReason::OutsideScope),
            (&manager, Some(manager.user_id), None, AccessReason::Owner),
            (&manager, None, None, AccessReason::Pool),
            (&rep, Some(rep.user_id), Some(team), AccessReason::Owner),
            (&rep, Some(someone), Some(team), AccessReason::OutsideScope),
            (&rep, None, None, AccessReason::Pool),
        ];
        for (who, owner, owner_team, want) in cases {
            let got = who.explain(owner, owner_team);
            assert_eq!(got, want, "{:?} on {owner:?} in {owner_team:?}", who.role);
            assert_eq!(got.allows(), who.scope().covers(owner, owner_team));
        }
        assert!(!AccessReason::NotFound.allows());
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

    #[test]
    fn who_may_receive_records() {
        let team = Uuid::now_v7();
        let sub = Uuid::now_v7();
        let other = Uuid::now_v7();
        let admin = principal(Role::Admin, vec![]);
        let manager = principal(Role::Manager, vec![team, sub]);
        let rep = principal(Role::Sales, vec![team]);
        let someone = Uuid::now_v7();
        assert!(admin.may_give_to(someone, None));
        assert!(admin.may_give_to(someone, Some(other)));
        assert!(manager.may_give_to(someone, Some(sub)));
        assert!(manager.may_give_to(manager.user_id, None));
        assert!(!manager.may_give_to(someone, Some(other)));
        assert!(!manager.may_give_to(someone, None));
        assert!(rep.may_give_to(rep.user_id, Some(team)));
        assert!(!rep.may_give_to(someone, Some(team)), "not even a teammate");
    }

    #[test]
    fn follow_ups_customers_and_users() {
        let admin = principal(Role::Admin, vec![]);
        let rep = principal(Role::Sales, vec![]);
        let author = Uuid::now_v7();
        assert!(rep.may_edit_follow_up(rep.user_id).is_ok());
        assert!(rep.may_edit_follow_up(author).is_err());
        assert!(
            admin.may_edit_follow_up(author).is_err(),
            "admins do not rewrite"
        );
        assert!(admin.may_delete_follow_up(author).is_ok());
        assert!(rep.may_delete_follow_up(author).is_err());
        assert!(rep.may_change_customer(None).is_err());
        assert!(rep.may_change_customer(Some(rep.user_id)).is_ok());
        assert!(admin.may_change_customer(None).is_ok());
        assert_eq!(
            admin.may_change_user(admin.user_id, true, None),
            Err(Refusal::SelfDemotion.into())
        );
        assert!(
            admin
                .may_change_user(admin.user_id, false, Some(Role::Sales))
                .is_err()
        );
        assert!(
            admin
                .may_change_user(admin.user_id, false, Some(Role::Admin))
                .is_ok()
        );
        assert!(
            admin
                .may_change_user(author, true, Some(Role::Sales))
                .is_ok()
        );
    }
}
