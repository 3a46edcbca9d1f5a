//! What the audit log records: which kind of record changed, and what was done to it.

crate::stored_enum! {
    /// The kind of record an audit entry is about.
    pub enum AuditEntity {
        Customer => "customer",
        Contact => "contact",
        FollowUp => "follow_up",
        Lead => "lead",
        Opportunity => "opportunity",
        PipelineStage => "pipeline_stage",
        Order => "order",
        Product => "product",
        Warehouse => "warehouse",
        Stock => "stock",
        User => "user",
        Team => "team",
        PoolSettings => "pool_settings",
        ApiKey => "api_key",
        Target => "target",
        Webhook => "webhook",
    }
}

crate::stored_enum! {
    /// What was done to the record.
    pub enum AuditAction {
        Create => "create",
        Update => "update",
        Delete => "delete",
        Import => "import",
        Claim => "claim",
        Release => "release",
        Transfer => "transfer",
        ReturnToPool => "return_to_pool",
        Convert => "convert",
        Stage => "stage",
        Confirm => "confirm",
        Ship => "ship",
        Cancel => "cancel",
        Complete => "complete",
        Payment => "payment",
        PaymentPlan => "payment_plan",
        Receipt => "receipt",
        Return => "return",
        Adjustment => "adjustment",
        Revoke => "revoke",
        Merge => "merge",
        Replay => "replay",
    }
}
