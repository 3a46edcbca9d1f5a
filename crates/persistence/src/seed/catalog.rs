//! Warehouses and products: SKUs unique against what is stored, prices with two (now and
//! then four) decimals, mostly 13% VAT with some 9% and 6%, reorder points on three
//! products in four, a few retired products, and a popularity curve that makes some
//! products sell far more than others.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::seq::SliceRandom;
use rust_decimal::Decimal;
use sea_orm::TryIntoModel;
use sims_domain::catalog::{Product, ProductInput, Warehouse};
use uuid::Uuid;

use super::SeedError;
use super::clock::days;
use super::fake::*;
use super::generate::Gen;
use super::names::{FAMILIES, Region, WAREHOUSES};
use crate::entities::warehouses;

/// A product as orders and stock need it.
#[derive(Debug, Clone)]
pub(crate) struct ProductRef {
    pub id: Uuid,
    pub list_price_e4: i64,
    pub tax_rate_bp: i64,
    /// Quantities may have a fractional part (kg, metres).
    pub fractional: bool,
    pub reorder_point: Option<i64>,
    /// Kept below its reorder point: restocked only by what orders need.
    pub low: bool,
    /// When it was deactivated; no order after that names it.
    pub retired_at: Option<DateTime<Utc>>,
    /// Whole units one order line takes, least and most.
    pub units: (i64, i64),
    /// How much one replenishment brings, in thousandths.
    pub lot: i64,
}

/// A warehouse as orders need it.
#[derive(Debug, Clone)]
pub(crate) struct WarehouseRef {
    pub id: Uuid,
    pub region: Region,
}

/// The catalogue and the stock it holds.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    pub products: Vec<ProductRef>,
    pub warehouses: Vec<WarehouseRef>,
    /// Cumulative popularity of the products, for drawing order lines.
    pub popularity: Vec<u64>,
    /// Per product × warehouse: the level and the time of its last movement.
    pub levels: Vec<(sims_domain::stock::Level, Option<DateTime<Utc>>)>,
    /// Purchase receipts written so far (their references count up).
    pub receipts: u64,
    /// The SKUs made in this run.
    pub skus: HashSet<String>,
}

impl Catalog {
    /// The level slot of product `p` in warehouse `w`.
    pub(crate) fn slot(&self, p: usize, w: usize) -> usize {
        p * self.warehouses.len() + w
    }
}

/// Whole units per order line and the reorder point, by unit price (whole CNY).
fn quantities(price_yuan: i64) -> ((i64, i64), (i64, i64)) {
    match price_yuan {
        1_000.. => ((1, 8), (3, 10)),
        200.. => ((1, 30), (5, 30)),
        50.. => ((2, 80), (20, 80)),
        10.. => ((5, 300), (50, 300)),
        _ => ((20, 1_500), (200, 1_500)),
    }
}

impl Gen<'_> {
    /// `base`, or `base-2`, `base-3`, … : the first that is neither stored (`stored`) nor
    /// made earlier in this run (`made`, which it joins).
    fn free_code(base: &str, stored: &HashSet<String>, made: &mut HashSet<String>) -> String {
        let mut n = 1;
        loop {
            let code = match n {
                1 => base.to_owned(),
                n => format!("{base}-{n}"),
            };
            if !stored.contains(&code) && made.insert(code.clone()) {
                return code;
            }
            n += 1;
        }
    }

    /// Warehouses, then products.
    pub(super) fn catalog(&mut self) -> Result<(), SeedError> {
        let start = self.now - days(1_160);
        let mut codes = HashSet::new();
        for w in 0..self.plan.sizes.warehouses {
            let (code, name, region) = WAREHOUSES[w % WAREHOUSES.len()];
            let base = match self.plan.run {
                0 | 1 => code.to_owned(),
                n => format!("{code}-R{n}"),
            };
            let code = Self::free_code(&base, &self.plan.taken.warehouse_codes, &mut codes);
            let wh = Warehouse::new(&code, name)
                .map_err(|e| SeedError::Generator(format!("warehouse {code}: {e}")))?;
            let at = start + Duration::hours(w as i64);
            let id = self.ids.at(at);
            self.out.put(warehouses::Model {
                id,
                code: wh.code,
                name: wh.name,
                version: 1,
                created_at: at,
                updated_at: at,
            })?;
            self.catalog.warehouses.push(WarehouseRef { id, region });
        }
        let count = self.plan.sizes.products;
        let mut ranks: Vec<u64> = (0..count as u64).collect();
        ranks.shuffle(&mut self.rng);
        let weights: Vec<u64> = ranks.iter().map(|r| 1_000_000 / (r + 8)).collect();
        let total_weight: u64 = weights.iter().sum::<u64>().max(1);
        for (i, weight) in weights.iter().enumerate() {
            self.product(i, *weight, total_weight)?;
        }
        let mut sum = 0;
        self.catalog.popularity = weights
            .iter()
            .map(|w| {
                sum += w;
                sum
            })
            .collect();
        let slots = self.catalog.products.len() * self.catalog.warehouses.len();
        self.catalog.levels = vec![(Default::default(), None); slots];
        Ok(())
    }

    fn product(&mut self, i: usize, weight: u64, total_weight: u64) -> Result<(), SeedError> {
        let rng = &mut self.rng;
        let family = &FAMILIES[i % FAMILIES.len()];
        let spec = *pick(rng, family.specs);
        let name = format!("{} {spec} · {}", family.cn, family.en);
        let prefix = match self.plan.run {
            0 | 1 => String::new(),
            n => format!("R{n}-"),
        };
        let base = format!("{prefix}{}-{:05}", family.code, 10_001 + i);
        let yuan = rng.random_range(family.price_yuan.0..=family.price_yuan.1);
        let mut price_e4 = yuan * 10_000 + rng.random_range(0..100) * 100;
        if chance(rng, 0.05) {
            price_e4 += rng.random_range(1..100);
        }
        let cost_e4 = price_e4 * rng.random_range(55..86) / 100;
        let tax_bp = *weighted(rng, &[(1_300i64, 90), (900, 7), (600, 3)]);
        let (units, reorder_units) = quantities(yuan);
        let reorder =
            chance(rng, 0.75).then(|| rng.random_range(reorder_units.0..=reorder_units.1) * 1_000);
        let low = reorder.is_some() && chance(rng, 0.08);
        let active = chance(rng, 0.96);
        let at = self.now - days(1_150) + Duration::minutes(i as i64);
        let retired_at = (!active).then(|| self.now - days(rng.random_range(20..180)));
        let sku = Self::free_code(&base, &self.plan.taken.skus, &mut self.catalog.skus);
        let product = Product::create(ProductInput {
            sku: Some(sku.clone()),
            name: Some(name),
            unit: Some(family.unit.to_owned()),
            category: Some(family.category.to_owned()),
            list_price: Some(Decimal::new(price_e4, 4)),
            cost: Some(Decimal::new(cost_e4, 4)),
            tax_rate: Some(Decimal::new(tax_bp, 2)),
            reorder_point: reorder.map(|r| Decimal::new(r, 3)),
            active: Some(active),
        })
        .map_err(|e| SeedError::Generator(format!("product {sku}: {e}")))?;
        let mut row = crate::products::new_row(&product, at).try_into_model()?;
        row.id = self.ids.at(at);
        if let Some(retired) = retired_at {
            row.version = 2;
            row.updated_at = retired;
        }
        // Demand of one warehouse in a month, to size replenishments.
        let warehouses = self.plan.sizes.warehouses.max(1) as u64;
        let lines = self.plan.sizes.order_lines as u64 * weight / total_weight;
        let mean_units = ((units.0 + units.1) / 2).max(1) as u64;
        let monthly = (lines * mean_units / 18 / warehouses) as i64;
        let lot = (2 * monthly)
            .max(2 * reorder.unwrap_or(0) / 1_000)
            .max(units.1)
            * 1_000;
        self.catalog.products.push(ProductRef {
            id: row.id,
            list_price_e4: product.list_price_e4,
            tax_rate_bp: product.tax_rate_bp,
            fractional: family.fractional,
            reorder_point: product.reorder_point_milli,
            low,
            retired_at,
            units,
            lot,
        });
        self.out.put(row)?;
        Ok(())
    }
}
