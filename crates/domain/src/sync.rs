//! What a mobile client needs to mirror its records: which deletions it is told of.

use crate::audit::AuditEntity;

crate::stored_enum! {
    /// The kind of record a deletion (tombstone) is about: the records a client mirrors.
    pub enum DeletedEntity {
        Customer => "customer",
        Contact => "contact",
        FollowUp => "follow_up",
        Lead => "lead",
        Opportunity => "opportunity",
        Order => "order",
    }
}

impl DeletedEntity {
    /// The kind of tombstone a deleted record of kind `entity` leaves, if it leaves one
    /// (stages, teams and targets are not mirrored: a client reads them whole).
    pub fn of(entity: AuditEntity) -> Option<Self> {
        match entity {
            AuditEntity::Customer => Some(Self::Customer),
            AuditEntity::Contact => Some(Self::Contact),
            AuditEntity::FollowUp => Some(Self::FollowUp),
            AuditEntity::Lead => Some(Self::Lead),
            AuditEntity::Opportunity => Some(Self::Opportunity),
            AuditEntity::Order => Some(Self::Order),
            AuditEntity::PipelineStage
            | AuditEntity::Product
            | AuditEntity::Warehouse
            | AuditEntity::Stock
            | AuditEntity::User
            | AuditEntity::Team
            | AuditEntity::PoolSettings
            | AuditEntity::ApiKey
            | AuditEntity::Target
            | AuditEntity::Webhook => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mirrored_kind_leaves_a_tombstone_of_its_own_name() {
        for kind in DeletedEntity::ALL {
            let audited = AuditEntity::parse(kind.as_str());
            assert_eq!(audited.and_then(DeletedEntity::of), Some(*kind));
        }
        assert_eq!(DeletedEntity::of(AuditEntity::Team), None);
        assert_eq!(DeletedEntity::of(AuditEntity::PipelineStage), None);
    }
}
