//! The stock ledger of the seeded orders. Every movement goes through the domain's
//! [`Level::apply`], so no level is ever written that the API would refuse, and the levels
//! written at the end are exactly the sums of the movements written for them.
//!
//! Each product opens with stock in every warehouse before the first order and is
//! replenished just in time: before a reservation would take available stock below the
//! reorder point, a purchase receipt of one lot arrives. Products marked low are only ever
//! replenished by what an order is short of, so they stay at or below their reorder point
//! (the low-stock list and the inventory report's `low` rows). A few stocktake
//! adjustments, both ways, finish the ledger.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use sims_domain::stock::{Level, MovementKind};
use uuid::Uuid;

use super::SeedError;
use super::clock::{between, days};
use super::fake::chance;
use super::generate::Gen;
use crate::entities::{stock_levels, stock_movements};

/// The order a movement belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OrderRef<'a> {
    pub id: Uuid,
    pub number: &'a str,
    /// Who acted: the order's owner.
    pub by: Uuid,
}

/// Rounds a quantity in thousandths up to whole units.
fn whole_units(milli: i64) -> i64 {
    (milli.max(0) + 999) / 1_000 * 1_000
}

impl Gen<'_> {
    /// Writes one movement of product `p` in warehouse `w` and applies it to the level.
    #[allow(clippy::too_many_arguments)]
    fn movement(
        &mut self,
        (p, w): (usize, usize),
        kind: MovementKind,
        (on_hand, reserved): (i64, i64),
        at: DateTime<Utc>,
        (reference, reason): (Option<String>, Option<String>),
        order: Option<Uuid>,
        by: Uuid,
    ) -> Result<(), SeedError> {
        let slot = self.catalog.slot(p, w);
        let (level, last) = self.catalog.levels[slot];
        let next = level.apply(on_hand, reserved).ok_or_else(|| {
            SeedError::Generator(format!(
                "a {} of {on_hand}/{reserved} would take stock below zero",
                kind.as_str()
            ))
        })?;
        self.catalog.levels[slot] = (next, Some(last.map_or(at, |l| l.max(at))));
        self.out.put(stock_movements::Model {
            id: self.ids.at(at),
            product_id: self.catalog.products[p].id,
            warehouse_id: self.catalog.warehouses[w].id,
            kind: kind.as_str().to_owned(),
            on_hand_delta_milli: on_hand,
            reserved_delta_milli: reserved,
            reference,
            reason,
            order_id: order,
            created_by: by,
            at,
        })
    }

    fn receipt(
        &mut self,
        slot: (usize, usize),
        qty: i64,
        at: DateTime<Utc>,
    ) -> Result<(), SeedError> {
        self.catalog.receipts += 1;
        let reference = format!("PO-{}-{:05}", at.format("%Y%m"), self.catalog.receipts);
        let admin = self.admin();
        self.movement(
            slot,
            MovementKind::Receipt,
            (qty, 0),
            at,
            (Some(reference), None),
            None,
            admin,
        )
    }

    /// Opening stock of every product in every warehouse at `at`.
    pub(super) fn open_stock(&mut self, at: DateTime<Utc>) -> Result<(), SeedError> {
        let warehouses = self.catalog.warehouses.len();
        for p in 0..self.catalog.products.len() {
            for w in 0..warehouses {
                let product = &self.catalog.products[p];
                let qty = if product.low {
                    let cap = product.reorder_point.unwrap_or(0) / (2 * warehouses.max(1) as i64);
                    self.rng.random_range(0..=cap / 1_000) * 1_000
                } else {
                    whole_units(product.lot + product.reorder_point.unwrap_or(0))
                };
                if qty > 0 {
                    let t = at + Duration::minutes((p * warehouses + w) as i64 % 600);
                    self.receipt((p, w), qty, t)?;
                }
            }
        }
        Ok(())
    }

    /// Reserves `qty` for an order at `at`, receiving stock first where the reservation
    /// would leave less than the product keeps in reserve.
    pub(super) fn reserve(
        &mut self,
        (p, w): (usize, usize),
        qty: i64,
        at: DateTime<Utc>,
        order: OrderRef<'_>,
        opened: DateTime<Utc>,
    ) -> Result<(), SeedError> {
        let product = &self.catalog.products[p];
        let (low, lot, reorder) = (product.low, product.lot, product.reorder_point);
        let keep = if low {
            0
        } else {
            reorder.map_or(lot / 4, |r| r + 1_000)
        };
        let available = self.catalog.levels[self.catalog.slot(p, w)].0.available();
        if available - qty < keep {
            let short = qty + keep - available;
            let amount = if low {
                let cap = reorder.unwrap_or(0) / (2 * self.catalog.warehouses.len().max(1) as i64);
                whole_units(short) + self.rng.random_range(0..=cap / 1_000) * 1_000
            } else {
                whole_units(short.max(lot))
            };
            let received = (at - Duration::hours(self.rng.random_range(2..96))).max(opened);
            self.receipt((p, w), amount, received)?;
        }
        self.movement(
            (p, w),
            MovementKind::Reserve,
            (0, qty),
            at,
            (Some(order.number.to_owned()), None),
            Some(order.id),
            order.by,
        )
    }

    /// Ships `qty` of an order's reserved stock at `at`.
    pub(super) fn ship(
        &mut self,
        slot: (usize, usize),
        qty: i64,
        at: DateTime<Utc>,
        order: OrderRef<'_>,
    ) -> Result<(), SeedError> {
        self.movement(
            slot,
            MovementKind::Shipment,
            (-qty, -qty),
            at,
            (Some(order.number.to_owned()), None),
            Some(order.id),
            order.by,
        )
    }

    /// Releases `qty` of an order's reservation at `at` (a cancellation).
    pub(super) fn release(
        &mut self,
        slot: (usize, usize),
        qty: i64,
        at: DateTime<Utc>,
        order: OrderRef<'_>,
    ) -> Result<(), SeedError> {
        self.movement(
            slot,
            MovementKind::Release,
            (0, -qty),
            at,
            (Some(order.number.to_owned()), None),
            Some(order.id),
            order.by,
        )
    }

    /// Stocktake adjustments, then one level row per product and warehouse that moved.
    pub(super) fn close_stock(&mut self) -> Result<(), SeedError> {
        let admin = self.admin();
        let warehouses = self.catalog.warehouses.len();
        for p in 0..self.catalog.products.len() {
            for w in 0..warehouses {
                let slot = self.catalog.slot(p, w);
                let available = self.catalog.levels[slot].0.available();
                let at = between(&mut self.rng, self.now - days(60), self.now - days(1));
                if available >= 1_000 && chance(&mut self.rng, 0.05) {
                    let units = self.rng.random_range(1..=5).min(available / 1_000);
                    self.movement(
                        (p, w),
                        MovementKind::Adjustment,
                        (-units * 1_000, 0),
                        at,
                        (None, Some("盘点损耗 Stocktake shrinkage".into())),
                        None,
                        admin,
                    )?;
                } else if chance(&mut self.rng, 0.02) {
                    let units = self.rng.random_range(1..=5);
                    self.movement(
                        (p, w),
                        MovementKind::Adjustment,
                        (units * 1_000, 0),
                        at,
                        (None, Some("盘盈 Stocktake surplus".into())),
                        None,
                        admin,
                    )?;
                }
            }
        }
        for p in 0..self.catalog.products.len() {
            for w in 0..warehouses {
                let (level, last): (Level, _) = self.catalog.levels[self.catalog.slot(p, w)];
                if let Some(updated_at) = last {
                    self.out.put(stock_levels::Model {
                        product_id: self.catalog.products[p].id,
                        warehouse_id: self.catalog.warehouses[w].id,
                        on_hand_milli: level.on_hand,
                        reserved_milli: level.reserved,
                        updated_at,
                    })?;
                }
            }
        }
        Ok(())
    }
}
