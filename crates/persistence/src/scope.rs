//! Turns a caller's [`Scope`] into SQL, so that out-of-scope rows are never loaded.

use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition};
use sims_domain::Scope;

use crate::entities::users;

/// Whether pool records (no owner) are part of what the condition admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pool {
    /// Reads: the pool is visible to every role.
    Visible,
    /// Records that must have an owner in scope (records with no pool: opportunities, orders).
    #[allow(dead_code)]
    Excluded,
}

/// The condition on an owner column that admits exactly the rows `scope` covers.
pub(crate) fn owned_by<C: ColumnTrait>(scope: &Scope, owner: C, pool: Pool) -> Condition {
    let owned = match scope {
        Scope::All => {
            return match pool {
                Pool::Visible => Condition::all(),
                Pool::Excluded => Condition::all().add(owner.is_not_null()),
            };
        }
        Scope::Own(me) => Condition::any().add(owner.eq(*me)),
        Scope::Teams { user_id, team_ids } => {
            let mut c = Condition::any().add(owner.eq(*user_id));
            if !team_ids.is_empty() {
                c = c.add(
                    owner.in_subquery(
                        Query::select()
                            .column(users::Column::Id)
                            .from(users::Entity)
                            .and_where(users::Column::TeamId.is_in(team_ids.iter().copied()))
                            .take(),
                    ),
                );
            }
            c
        }
    };
    match pool {
        Pool::Visible => owned.add(owner.is_null()),
        Pool::Excluded => owned,
    }
}

/// What [`owned_by`] admits for a rep with the pool visible, as two parts no row belongs
/// to both of: their own rows and the pool's (`None` for any other scope). A page can then
/// be read from each part through an index of its own.
pub(crate) fn own_and_pool<C: ColumnTrait>(scope: &Scope, owner: C) -> Option<[Condition; 2]> {
    match scope {
        Scope::Own(me) => Some([
            Condition::all().add(owner.eq(*me)),
            Condition::all().add(owner.is_null()),
        ]),
        Scope::All | Scope::Teams { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, Expr, PostgresQueryBuilder, Query};
    use uuid::Uuid;

    use super::*;

    #[test]
    fn a_reps_two_parts_admit_exactly_what_their_scope_does() {
        let owner = crate::entities::customers::Column::OwnerId;
        let scope = Scope::Own(Uuid::nil());
        let sql = |c: Condition| {
            Query::select()
                .expr(Expr::val(1))
                .from(Alias::new("customers"))
                .cond_where(c)
                .to_string(PostgresQueryBuilder)
        };
        let Some([own, pool]) = own_and_pool(&scope, owner) else {
            panic!("a rep's scope has two parts");
        };
        assert_eq!(
            sql(Condition::any().add(own).add(pool)),
            sql(owned_by(&scope, owner, Pool::Visible))
        );
        assert!(own_and_pool(&Scope::All, owner).is_none());
    }
}
