//! Payments received on orders (回款) and payment plans.

use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sims_domain::Money;
use sims_domain::order::{PaymentMethod, PaymentStatus};
use sims_domain::payment::{PaymentDraft, PaymentPlan as PlanDraft};

use sims_domain::order::OrderRecord;
use sims_domain::payment::PaymentRecord;
use sims_persistence::payments::{self, Instalment as StoredInstalment, NewPayment};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::caller::Ctx;
use crate::error::{ApiResult, Problem};
use crate::extract::{Id, Json, KeyedJson};
use crate::idempotency::{answer, respond};
use crate::responses::{Authenticated, WithBody, WithId};
use crate::routes::Routes;

/// A payment to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": "1000.00", "received_at": "2026-11-25T08:00:00Z", "method": "bank_transfer", "reference": "工行回单 0001"}))]
pub struct CreatePayment {
    #[schema(value_type = String)]
    #[serde(deserialize_with = "crate::extract::decimal")]
    pub amount: Decimal,
    pub received_at: DateTime<Utc>,
    pub method: PaymentMethod,
    pub reference: Option<String>,
}

/// A recorded payment and the order after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentResult {
    pub payment: PaymentRecord,
    pub payment_status: PaymentStatus,
    pub paid_amount: Money,
    pub total: Money,
}

/// Records a payment on a confirmed (or later) order; more than is owed is `409 overpayment`.
#[utoipa::path(tag = "payments", operation_id = "create_payment", params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Same key and body within 24 h: the first response again; another body: 422")), request_body = CreatePayment, responses(
    Authenticated,
    WithId,
    WithBody,
    (status = 201, description = "The payment, and the order's payment status after it", body = PaymentResult),
    (status = 409, description = "overpayment, or a draft or cancelled order", body = Problem, content_type = "application/problem+json"),
))]
#[post("/orders/{id}/payments")]
pub async fn create_payment(
    ctx: Ctx,
    id: Id,
    body: KeyedJson<CreatePayment>,
) -> ApiResult<HttpResponse> {
    let b = &body.value;
    let p = NewPayment {
        draft: PaymentDraft::parse(b.amount, b.reference.as_deref())?,
        received_at: b.received_at,
        method: b.method,
    };
    let answered = payments::add(
        &ctx.db,
        &ctx.actor(),
        id.0,
        p,
        body.key_of(ctx.principal.user_id).as_ref(),
        |(payment, order)| {
            answer(
                actix_web::http::StatusCode::CREATED,
                &PaymentResult {
                    payment: payment.clone(),
                    payment_status: order.payment_status,
                    paid_amount: order.paid_amount,
                    total: order.total,
                },
            )
        },
    )
    .await?;
    Ok(respond(answered))
}

/// An order's payments.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentList {
    pub items: Vec<PaymentRecord>,
}

/// Lists an order's payments, oldest first.
#[utoipa::path(tag = "payments", operation_id = "list_payments", params(("id" = Uuid, Path)), responses(
    Authenticated,
    WithId,
    (status = 200, description = "The payments, oldest first", body = PaymentList),
))]
#[get("/orders/{id}/payments")]
pub async fn list_payments(ctx: Ctx, id: Id) -> ApiResult<web::Json<PaymentList>> {
    let items = payments::of_order(ctx.db.conn(), &ctx.scope(), id.0)
        .await?
        .into_iter()
        .collect();
    Ok(web::Json(PaymentList { items }))
}

/// One dated instalment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Instalment {
    pub due_date: NaiveDate,
    #[schema(value_type = String, example = "500.00")]
    #[serde(deserialize_with = "crate::extract::decimal")]
    pub amount: Decimal,
}

/// An order's payment plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentPlan {
    pub order_id: Uuid,
    pub instalments: Vec<Instalment>,
    pub total: Money,
    pub paid_amount: Money,
}

/// New instalments.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"instalments": [{"due_date": "2026-12-31", "amount": "500.00"}, {"due_date": "2027-01-31", "amount": "500.00"}]}))]
pub struct SetPaymentPlan {
    pub instalments: Vec<Instalment>,
}

fn plan_view(o: OrderRecord, items: Vec<StoredInstalment>) -> PaymentPlan {
    PaymentPlan {
        order_id: o.id,
        instalments: items
            .into_iter()
            .map(|i| Instalment {
                due_date: i.due_date,
                amount: i.amount.to_decimal(),
            })
            .collect(),
        total: o.total,
        paid_amount: o.paid_amount,
    }
}

/// An order's payment plan (dated instalments), which feeds the receivables report.
#[utoipa::path(tag = "payments", operation_id = "get_payment_plan", params(("id" = Uuid, Path)), responses(
    Authenticated,
    WithId,
    (status = 200, description = "The payment plan", body = PaymentPlan),
))]
#[get("/orders/{id}/payment-plan")]
pub async fn get_payment_plan(ctx: Ctx, id: Id) -> ApiResult<web::Json<PaymentPlan>> {
    let (o, items) = payments::plan_of(ctx.db.conn(), &ctx.scope(), id.0).await?;
    Ok(web::Json(plan_view(o, items)))
}

/// Replaces an order's payment plan; the instalments, in date order, add up to the
/// order total exactly.
#[utoipa::path(tag = "payments", operation_id = "set_payment_plan", params(("id" = Uuid, Path)), request_body = SetPaymentPlan, responses(
    Authenticated,
    WithId,
    WithBody,
    (status = 200, description = "The payment plan", body = PaymentPlan),
    (status = 409, description = "A cancelled order", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Amounts that do not add up, or out of date order", body = Problem, content_type = "application/problem+json"),
))]
#[put("/orders/{id}/payment-plan")]
pub async fn set_payment_plan(
    ctx: Ctx,
    id: Id,
    body: Json<SetPaymentPlan>,
) -> ApiResult<web::Json<PaymentPlan>> {
    let sent: Vec<(NaiveDate, Decimal)> = body
        .0
        .instalments
        .iter()
        .map(|i| (i.due_date, i.amount))
        .collect();
    let plan = PlanDraft::parse(&sent)?;
    let (o, items) = payments::set_plan(&ctx.db, &ctx.actor(), id.0, plan).await?;
    Ok(web::Json(plan_view(o, items)))
}

/// Registers the payment routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(create_payment)
        .service(list_payments)
        .service(get_payment_plan)
        .service(set_payment_plan);
}
