//! An order's moves through its states: confirmation that reserves every line's stock
//! all or nothing, shipments, cancellation and completion, each sent with its audit entry,
//! its reporting rows and its webhook event in as few round trips as the database allows.

use super::*;

/// Moves a locked order with `lines` to `to`, audited as `action`, and sends it with
/// the writes already in `pending`, in one round trip.
async fn set_status<C: ConnectionTrait>(
    conn: &C,
    mut pending: Pending,
    actor: &Actor,
    action: AuditAction,
    o: orders::Model,
    to: OrderStatus,
    lines: &[order_lines::Model],
) -> Result<orders::Model> {
    let order = keep_status(&mut pending, actor, action, o, to, lines)?;
    pending.send(conn).await?;
    Ok(order)
}

/// Keeps in `pending` the move of a locked order with `lines` to `to`, audited as
/// `action`, with its webhook event: the order as it will be stored. An order that
/// starts to count in reports writes its rows of `product_sales` (net sales per
/// product); one that stops counting removes them.
fn keep_status(
    pending: &mut Pending,
    actor: &Actor,
    action: AuditAction,
    o: orders::Model,
    to: OrderStatus,
    lines: &[order_lines::Model],
) -> Result<orders::Model> {
    let counted = (status_of(&o)?.counts_in_reports(), to.counts_in_reports());
    if counted.0 != counted.1 {
        let sales = Alias::new("product_sales");
        if counted.1 {
            let mut net: Vec<(Uuid, i64)> = vec![];
            for l in lines {
                match net.iter_mut().find(|(p, _)| *p == l.product_id) {
                    Some((_, sum)) => *sum += l.net_minor,
                    None => net.push((l.product_id, l.net_minor)),
                }
            }
            let mut insert = Query::insert();
            insert.into_table(sales).columns(
                [
                    "order_id",
                    "product_id",
                    "order_date",
                    "owner_id",
                    "currency",
                    "net_minor",
                ]
                .map(Alias::new),
            );
            for (product, sum) in net {
                insert
                    .values([
                        o.id.into(),
                        product.into(),
                        o.order_date.into(),
                        o.owner_id.into(),
                        o.currency.clone().into(),
                        sum.into(),
                    ])
                    .map_err(|e| DbErr::Custom(e.to_string()))?;
            }
            pending.insert_statement(insert.to_owned());
        } else {
            pending.delete_statement(
                Query::delete()
                    .from_table(sales)
                    .and_where(Expr::col(Alias::new("order_id")).eq(o.id))
                    .to_owned(),
            );
        }
    }
    let order = pending.save(Some(actor), action, o, |am| {
        am.status = Set(to.as_str().to_owned());
        if to == OrderStatus::Confirmed {
            am.confirmed_at = Set(Some(now()));
        }
    })?;
    let event = match to {
        OrderStatus::Confirmed => Some(EventType::OrderConfirmed),
        OrderStatus::Shipped => Some(EventType::OrderShipped),
        OrderStatus::Cancelled => Some(EventType::OrderCancelled),
        OrderStatus::Completed => Some(EventType::OrderCompleted),
        OrderStatus::Draft | OrderStatus::PartiallyShipped => None,
    };
    if let Some(t) = event {
        pending.event(t, &record(order.clone(), lines.to_vec())?)?;
    }
    Ok(order)
}

/// A movement of an order's line in its warehouse.
fn line_movement(
    o: &orders::Model,
    product_id: Uuid,
    kind: MovementKind,
    (on_hand_delta, reserved_delta): (i64, i64),
) -> Movement {
    Movement {
        product_id,
        warehouse_id: o.warehouse_id,
        kind,
        on_hand_delta,
        reserved_delta,
        reference: Some(o.number.clone()),
        reason: None,
        order_id: Some(o.id),
    }
}

/// Confirms a draft: reserves every line's stock in one transaction, all or nothing.
/// Lines that stock cannot cover are listed in `InsufficientStock` and nothing changes.
/// Two round trips: the order with its lines, locked; then the reservation with the
/// ledger, `product_sales`, the order's next version and its audit entry, rolled back
/// when a product could not be reserved.
pub async fn confirm(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    if_match: Option<i64>,
) -> Result<OrderRecord> {
    let (order, lines) = db
        .write(async |tx| {
            let (o, lines) = lock_with_lines(tx, actor, id, if_match).await?;
            status_of(&o)?.transition(OrderStatus::Confirmed)?;
            let at = now();
            let mut pending = Pending::default();
            pending.insert_rows(
                lines
                    .iter()
                    .map(|l| {
                        let m = line_movement(
                            &o,
                            l.product_id,
                            MovementKind::Reserve,
                            (0, l.quantity_milli),
                        );
                        stock::movement_row(actor.principal.user_id, &m, at)
                    })
                    .collect(),
            );
            let reservation = stock::reservation_of_order_lines(
                tx.get_database_backend(),
                o.id,
                o.warehouse_id,
                at,
            );
            let order = keep_status(
                &mut pending,
                actor,
                AuditAction::Confirm,
                o.clone(),
                OrderStatus::Confirmed,
                &lines,
            )?;
            let reserved = stock::reserved_products(&pending.send_after(tx, reservation).await?)?;
            let mut products: Vec<Uuid> = lines.iter().map(|l| l.product_id).collect();
            products.sort();
            products.dedup();
            if reserved.len() < products.len() {
                // The error rolls the whole transaction back, the writes sent with the
                // reservation too.
                let short = short_lines(tx, &o, &lines, &reserved).await?;
                return Err(PersistenceError::InsufficientStock(short));
            }
            Ok((order, lines))
        })
        .await?;
    record(order, lines)
}

/// The lines a confirmation cannot cover, as if reserved one after another in order
/// (what a line finds available is what the lines before it left), from the levels
/// after [`stock::reservation_of_order_lines`] reserved the `reserved` products.
async fn short_lines<C: ConnectionTrait>(
    conn: &C,
    o: &orders::Model,
    lines: &[order_lines::Model],
    reserved: &[Uuid],
) -> Result<Vec<ShortLine>> {
    let mut available: HashMap<Uuid, i64> = HashMap::new();
    for l in lines {
        if available.contains_key(&l.product_id) {
            continue;
        }
        let now = stock::level(conn, l.product_id, o.warehouse_id)
            .await?
            .map_or(0, |s| s.available.0);
        let taken: i64 = if reserved.contains(&l.product_id) {
            lines
                .iter()
                .filter(|m| m.product_id == l.product_id)
                .map(|m| m.quantity_milli - m.shipped_milli)
                .sum()
        } else {
            0
        };
        available.insert(l.product_id, now + taken);
    }
    let mut short = vec![];
    for (index, l) in lines.iter().enumerate() {
        let left = available.entry(l.product_id).or_default();
        if l.quantity_milli <= *left {
            *left -= l.quantity_milli;
        } else {
            short.push(ShortLine {
                index,
                line_id: l.id,
                product_id: l.product_id,
                requested_milli: l.quantity_milli,
                available_milli: *left,
            });
        }
    }
    Ok(short)
}

/// Ships part or all of a confirmed order: moves reserved stock out. Shipping more than
/// is left on a line is refused and nothing changes. Answered by `render` at most once
/// per idempotency key.
pub async fn ship(
    db: &Database,
    actor: &Actor,
    (id, if_match): (Uuid, Option<i64>),
    shipment: Vec<(Uuid, i64)>,
    key: Option<&IdempotencyKey>,
    render: impl Fn(&OrderRecord) -> Result<Answer>,
) -> Result<Answered> {
    let work = async |tx: &DatabaseTransaction| {
        let o = lock(tx, actor, id, if_match).await?;
        let status = status_of(&o)?;
        status.check_shippable()?;
        let lines = lines_of(tx, id).await?;
        let shipped = shipment
            .iter()
            .filter_map(|(line_id, _)| lines.iter().find(|l| l.id == *line_id))
            .map(|l| l.product_id);
        stock::lock_levels(tx, o.warehouse_id, shipped).await?;
        for (i, (line_id, q)) in shipment.iter().enumerate() {
            let Some(line) = lines.iter().find(|l| l.id == *line_id) else {
                return Err(PersistenceError::unusable(
                    format!("lines[{i}].line_id"),
                    "no such line on this order",
                ));
            };
            // Guarded in SQL too, so that two concurrent shipments cannot both pass.
            let updated = order_lines::Entity::update_many()
                .col_expr(
                    order_lines::Column::ShippedMilli,
                    Expr::col(order_lines::Column::ShippedMilli).add(*q),
                )
                .filter(order_lines::Column::Id.eq(*line_id))
                .filter(
                    Expr::col(order_lines::Column::ShippedMilli)
                        .add(*q)
                        .lte(Expr::col(order_lines::Column::QuantityMilli)),
                )
                .exec(tx)
                .await?;
            if updated.rows_affected != 1 {
                return Err(DomainError::field(
                    &format!("lines[{i}].quantity"),
                    "exceeds_remaining",
                    "more than is left to ship on this line",
                )
                .into());
            }
            let m = line_movement(&o, line.product_id, MovementKind::Shipment, (-q, -q));
            if apply_movement(tx, actor.principal.user_id, &m)
                .await?
                .is_none()
            {
                return Err(PersistenceError::Conflict(
                    "the reserved stock for this line is gone".into(),
                ));
            }
        }
        let lines = lines_of(tx, id).await?;
        let done = lines.iter().all(|l| l.shipped_milli == l.quantity_milli);
        let to = status.after_shipment(done)?;
        let order = set_status(
            tx,
            Pending::default(),
            actor,
            AuditAction::Ship,
            o,
            to,
            &lines,
        )
        .await?;
        record(order, lines)
    };
    db.write_once(key, work, render).await
}

/// Cancels a draft or confirmed order, releasing what is still reserved.
pub async fn cancel(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    if_match: Option<i64>,
) -> Result<OrderRecord> {
    let (order, lines) = db
        .write(async |tx| {
            let o = lock(tx, actor, id, if_match).await?;
            let status = status_of(&o)?;
            status.transition(OrderStatus::Cancelled)?;
            let lines = lines_of(tx, id).await?;
            if status.holds_reservation() {
                stock::lock_levels(tx, o.warehouse_id, lines.iter().map(|l| l.product_id)).await?;
                for l in &lines {
                    let left = l.quantity_milli - l.shipped_milli;
                    if left > 0 {
                        let m = line_movement(&o, l.product_id, MovementKind::Release, (0, -left));
                        if apply_movement(tx, actor.principal.user_id, &m)
                            .await?
                            .is_none()
                        {
                            return Err(PersistenceError::Conflict(
                                "the reserved stock for this order is inconsistent".into(),
                            ));
                        }
                    }
                }
            }
            let order = set_status(
                tx,
                Pending::default(),
                actor,
                AuditAction::Cancel,
                o,
                OrderStatus::Cancelled,
                &lines,
            )
            .await?;
            Ok((order, lines))
        })
        .await?;
    record(order, lines)
}

/// Completes a shipped order.
pub async fn complete(
    db: &Database,
    actor: &Actor,
    id: Uuid,
    if_match: Option<i64>,
) -> Result<OrderRecord> {
    let (order, lines) = db
        .write(async |tx| {
            let (o, lines) = lock_with_lines(tx, actor, id, if_match).await?;
            status_of(&o)?.transition(OrderStatus::Completed)?;
            let order = set_status(
                tx,
                Pending::default(),
                actor,
                AuditAction::Complete,
                o,
                OrderStatus::Completed,
                &lines,
            )
            .await?;
            Ok((order, lines))
        })
        .await?;
    record(order, lines)
}
