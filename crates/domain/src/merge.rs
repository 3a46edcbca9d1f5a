//! Merging duplicate customers (合并): which ids may be merged, what the surviving
//! customer keeps, and which contact stays primary.

use uuid::Uuid;

use crate::customer::{Customer, MAX_TAGS};
use crate::error::{DomainError, FieldViolation, Violations};

/// Most customers one merge folds in.
pub const MAX_MERGED: usize = 20;

/// Checks the ids of a merge into `target`: one to [`MAX_MERGED`] of them, each once,
/// none the target itself.
pub fn check_ids(target: Uuid, from_ids: &[Uuid]) -> Result<(), DomainError> {
    let mut v = Violations::new();
    if from_ids.is_empty() {
        v.push(FieldViolation::new(
            "from_ids",
            "required",
            "name at least one customer to merge",
        ));
    }
    if from_ids.len() > MAX_MERGED {
        v.push(FieldViolation::new(
            "from_ids",
            "too_many",
            format!("at most {MAX_MERGED} customers in one merge"),
        ));
    }
    for (i, id) in from_ids.iter().enumerate() {
        let field = format!("from_ids[{i}]");
        if *id == target {
            v.push(FieldViolation::new(
                field,
                "invalid_reference",
                "a customer cannot be merged into itself",
            ));
        } else if from_ids[..i].contains(id) {
            v.push(FieldViolation::new(field, "duplicate", "named twice"));
        }
    }
    v.finish()
}

/// The target after taking in `merged`, in order: a field the target leaves empty takes
/// the value of the first merged customer that has one, and the tags are united (the
/// target's first). Its name and kind stay. More than [`MAX_TAGS`] tags together is
/// refused on `from_ids`: the merge changes nothing until some are removed.
pub fn absorb(mut target: Customer, merged: &[Customer]) -> Result<Customer, DomainError> {
    for m in merged {
        fill(&mut target.level, &m.level);
        fill(&mut target.industry, &m.industry);
        fill(&mut target.source, &m.source);
        fill(&mut target.phone, &m.phone);
        fill(&mut target.email, &m.email);
        fill(&mut target.province, &m.province);
        fill(&mut target.city, &m.city);
        fill(&mut target.address, &m.address);
        fill(&mut target.notes, &m.notes);
        for tag in &m.tags {
            if !target.tags.contains(tag) {
                target.tags.push(tag.clone());
            }
        }
    }
    if target.tags.len() > MAX_TAGS {
        return Err(DomainError::field(
            "from_ids",
            "too_many",
            format!(
                "together these customers carry {} tags, more than {MAX_TAGS}; remove some first",
                target.tags.len()
            ),
        ));
    }
    Ok(target)
}

fn fill<T: Clone>(slot: &mut Option<T>, from: &Option<T>) {
    if slot.is_none() {
        slot.clone_from(from);
    }
}

/// The contact that stays primary: the target's primary contact, else the first merged
/// customer's (in merge order) that has one. Every other contact is not primary.
pub fn surviving_primary(target: Option<Uuid>, merged: &[Option<Uuid>]) -> Option<Uuid> {
    target.or_else(|| merged.iter().flatten().next().copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::{CustomerInput, CustomerLevel};

    fn customer(name: &str, f: impl FnOnce(&mut CustomerInput)) -> Customer {
        let mut input = CustomerInput {
            name: Some(name.into()),
            ..Default::default()
        };
        f(&mut input);
        match Customer::create(input) {
            Ok(c) => c,
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn ids_are_one_to_twenty_distinct_others() {
        let target = Uuid::now_v7();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(check_ids(target, &[a, b]), Ok(()));
        let fields = |r: Result<(), DomainError>| match r {
            Err(DomainError::Validation(v)) => {
                v.into_iter().map(|v| (v.field, v.code)).collect::<Vec<_>>()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(
            fields(check_ids(target, &[])),
            [("from_ids".into(), "required".into())]
        );
        assert_eq!(
            fields(check_ids(target, &[a, target, a])),
            [
                ("from_ids[1]".into(), "invalid_reference".into()),
                ("from_ids[2]".into(), "duplicate".into())
            ]
        );
        let many: Vec<Uuid> = (0..=MAX_MERGED).map(|_| Uuid::now_v7()).collect();
        assert_eq!(
            fields(check_ids(target, &many)),
            [("from_ids".into(), "too_many".into())]
        );
    }

    #[test]
    fn empty_fields_take_the_first_merged_value_and_tags_unite() {
        let target = customer("Target", |c| {
            c.city = Some("杭州".into());
            c.tags = Some(vec!["vip".into()]);
        });
        let first = customer("First", |c| {
            c.city = Some("上海".into());
            c.phone = Some("13800138000".into());
            c.tags = Some(vec!["vip".into(), "east".into()]);
        });
        let second = customer("Second", |c| {
            c.phone = Some("13900139000".into());
            c.email = Some("second@example.com".into());
            c.level = Some(CustomerLevel::A);
            c.tags = Some(vec!["late".into()]);
        });
        let Ok(merged) = absorb(target.clone(), &[first.clone(), second]) else {
            panic!("the merge is refused");
        };
        assert_eq!(merged.name, "Target");
        assert_eq!(
            merged.city.as_deref(),
            Some("杭州"),
            "the target's value stays"
        );
        assert_eq!(merged.phone, first.phone, "the first merged value wins");
        assert_eq!(merged.email.as_deref(), Some("second@example.com"));
        assert_eq!(merged.level, Some(CustomerLevel::A));
        assert_eq!(merged.tags, ["vip", "east", "late"]);
    }

    #[test]
    fn too_many_tags_together_refuse_the_merge() {
        let tags = |prefix: &str| (0..15).map(|i| format!("{prefix}{i}")).collect();
        let target = customer("Target", |c| c.tags = Some(tags("a")));
        let other = customer("Other", |c| c.tags = Some(tags("b")));
        assert!(matches!(
            absorb(target, &[other]),
            Err(DomainError::Validation(v)) if v[0].field == "from_ids" && v[0].code == "too_many"
        ));
    }

    #[test]
    fn one_primary_contact_survives() {
        let (t, a, b) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(surviving_primary(Some(t), &[Some(a)]), Some(t));
        assert_eq!(surviving_primary(None, &[None, Some(a), Some(b)]), Some(a));
        assert_eq!(surviving_primary(None, &[None]), None);
    }
}
