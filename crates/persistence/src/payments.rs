//! Payments received on orders (回款) and payment plans.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;
use sims_domain::Scope;
use sims_domain::audit::{AuditAction, AuditEntity};
use sims_domain::money::Money;
use sims_domain::order::OrderRecord;
use sims_domain::order::PaymentMethod;
use sims_domain::payment::{PaymentDraft, PaymentPlan, PaymentRecord, accept_payment};
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::entities::{payment_plan_instalments as plan, payments};
use crate::idempotency::{Answer, Answered, IdempotencyKey};
use crate::orders::status_of;
use crate::records::stored;
use crate::uow;
use crate::{Actor, Database, Result, now, orders};

/// A stored payment, as sent.
fn record(p: payments::Model) -> Result<PaymentRecord> {
    Ok(PaymentRecord {
        method: stored("payments", "method", &p.method)?,
        amount: Money::from_minor(p.amount_minor),
        id: p.id,
        order_id: p.order_id,
        received_at: p.received_at,
        reference: p.reference,
        created_by: p.created_by,
        created_at: p.created_at,
    })
}

/// One dated instalment of a payment plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instalment {
    pub due_date: NaiveDate,
    pub amount: Money,
}

/// A payment to record.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub draft: PaymentDraft,
    pub received_at: DateTime<Utc>,
    pub method: PaymentMethod,
}

/// Records a payment on a confirmed (or later, not cancelled) order. A payment that
/// would take the paid amount past the total is refused (`overpayment`). Answered by
/// `render` (the payment and the order after it) at most once per idempotency key.
pub async fn add(
    db: &Database,
    actor: &Actor,
    order_id: Uuid,
    p: NewPayment,
    key: Option<&IdempotencyKey>,
    render: impl Fn(&(PaymentRecord, OrderRecord)) -> Result<Answer>,
) -> Result<Answered> {
    let work = async |tx: &DatabaseTransaction| {
        let o = orders::lock(tx, actor, order_id, None).await?;
        let paid = accept_payment(
            status_of(&o)?,
            o.total_minor,
            o.paid_minor,
            p.draft.amount_minor,
        )?;
        let t = now();
        let payment = payments::ActiveModel {
            id: Set(Uuid::now_v7()),
            order_id: Set(order_id),
            amount_minor: Set(p.draft.amount_minor),
            received_at: Set(p.received_at),
            method: Set(p.method.as_str().to_owned()),
            reference: Set(p.draft.reference.clone()),
            created_by: Set(actor.principal.user_id),
            created_at: Set(t),
        };
        let payment = sea_orm::ActiveModelTrait::insert(payment, tx).await?;
        let order = uow::save(tx, Some(actor), AuditAction::Payment, o, |am| {
            am.paid_minor = Set(paid);
        })
        .await?;
        let payment = record(payment)?;
        crate::webhooks::emit(
            tx,
            sims_domain::webhook::EventType::PaymentReceived,
            &payment,
        )
        .await?;
        Ok((payment, orders::record(order, vec![])?))
    };
    db.write_once(key, work, render).await
}

/// An order's payments, oldest first.
pub async fn of_order<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    order_id: Uuid,
) -> Result<Vec<PaymentRecord>> {
    orders::find(conn, scope, order_id).await?;
    payments::Entity::find()
        .filter(payments::Column::OrderId.eq(order_id))
        .order_by_asc(payments::Column::ReceivedAt)
        .limit(10_000)
        .all(conn)
        .await?
        .into_iter()
        .map(record)
        .collect()
}

async fn instalments<C: ConnectionTrait>(conn: &C, order_id: Uuid) -> Result<Vec<Instalment>> {
    Ok(plan::Entity::find()
        .filter(plan::Column::OrderId.eq(order_id))
        .order_by_asc(plan::Column::Position)
        .all(conn)
        .await?
        .into_iter()
        .map(|i| Instalment {
            due_date: i.due_date,
            amount: Money::from_minor(i.amount_minor),
        })
        .collect())
}

/// An order's payment plan, by due date.
pub async fn plan_of<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    order_id: Uuid,
) -> Result<(OrderRecord, Vec<Instalment>)> {
    let o = orders::find(conn, scope, order_id).await?;
    let items = instalments(conn, order_id).await?;
    Ok((orders::record(o, vec![])?, items))
}

/// Replaces an order's payment plan. The instalments must add up to the order total
/// exactly, in date order; a cancelled order has no plan.
pub async fn set_plan(
    db: &Database,
    actor: &Actor,
    order_id: Uuid,
    new: PaymentPlan,
) -> Result<(OrderRecord, Vec<Instalment>)> {
    let (o, items) = db
        .write(async |tx| {
            let o = orders::lock(tx, actor, order_id, None).await?;
            new.check_fits(status_of(&o)?, o.total_minor)?;
            plan::Entity::delete_many()
                .filter(plan::Column::OrderId.eq(order_id))
                .exec(tx)
                .await?;
            let rows = new
                .instalments
                .iter()
                .enumerate()
                .map(|(i, (due, amount))| plan::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    order_id: Set(order_id),
                    position: Set(i as i32),
                    due_date: Set(*due),
                    amount_minor: Set(*amount),
                });
            plan::Entity::insert_many(rows).exec(tx).await?;
            let listed: Vec<serde_json::Value> = new
                .instalments
                .iter()
                .map(|(d, a)| json!({"due_date": d, "amount_minor": a}))
                .collect();
            let change = Change::of(AuditEntity::Order, order_id, AuditAction::PaymentPlan)
                .after(json!({ "instalments": listed }));
            audit::record(tx, Some(actor), change).await?;
            Ok((o, instalments(tx, order_id).await?))
        })
        .await?;
    Ok((orders::record(o, vec![])?, items))
}
