//! The generator alone, without a database: the same seed makes the same data, and the
//! data keeps the invariants the API keeps.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use sea_orm::Value;
use sims_domain::pipeline::default_stages;
use uuid::Uuid;

use super::generate::{Outcome, Plan, StageRef, Taken, generate};
use super::rows::{Batch, Chunk, Flush};
use super::{Profile, SeedError};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 6, 30, 15)
        .single()
        .unwrap_or_default()
}

fn plan(seed: u64) -> Plan {
    let stages = default_stages()
        .into_iter()
        .enumerate()
        .map(|(i, s)| StageRef {
            id: Uuid::from_u128(i as u128 + 1),
            kind: s.kind,
        })
        .collect();
    Plan {
        sizes: Profile::Demo.sizes(),
        seed,
        now: now(),
        run: 1,
        password_hash: "$argon2id$test".into(),
        stages,
        taken: Taken::default(),
        counters: HashMap::from([("202611".to_owned(), 41)]),
        pool: Default::default(),
    }
}

fn run(plan: &Plan) -> (Vec<Batch>, Outcome) {
    let mut batches = Vec::new();
    let outcome = generate(plan, Flush::Together { rows: 1_000 }, &mut |chunk| {
        match chunk {
            Chunk::Rows(b) => batches.push(b),
            Chunk::Copy(e) => panic!("{}: encoded rows in a test", e.table),
        }
        Ok::<(), SeedError>(())
    })
    .unwrap_or_else(|e| panic!("generation failed: {e}"));
    (batches, outcome)
}

/// Every table's rows, merged from its batches.
struct Data(HashMap<&'static str, (Vec<&'static str>, Vec<Vec<Value>>)>);

impl Data {
    fn of(batches: Vec<Batch>) -> Self {
        let mut tables: HashMap<&'static str, (Vec<&'static str>, Vec<Vec<Value>>)> =
            HashMap::new();
        for b in batches {
            let entry = tables
                .entry(b.table)
                .or_insert_with(|| (b.columns.clone(), Vec::new()));
            assert_eq!(entry.0, b.columns, "{}: columns", b.table);
            entry.1.extend(b.rows);
        }
        Self(tables)
    }

    fn rows(&self, table: &str) -> &[Vec<Value>] {
        self.0.get(table).map_or(&[], |(_, r)| r.as_slice())
    }

    fn col(&self, table: &str, column: &str) -> usize {
        let (cols, _) = self
            .0
            .get(table)
            .unwrap_or_else(|| panic!("no table {table}"));
        cols.iter()
            .position(|c| *c == column)
            .unwrap_or_else(|| panic!("no column {table}.{column}"))
    }
}

fn int(v: &Value) -> i64 {
    match v {
        Value::BigInt(Some(i)) => *i,
        Value::Int(Some(i)) => i64::from(*i),
        other => panic!("not an integer: {other:?}"),
    }
}

fn id(v: &Value) -> Option<Uuid> {
    match v {
        Value::Uuid(u) => *u,
        other => panic!("not a uuid: {other:?}"),
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => s.clone(),
        other => panic!("not text: {other:?}"),
    }
}

fn ts(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::ChronoDateTimeUtc(t) => *t,
        other => panic!("not a timestamp: {other:?}"),
    }
}

fn date(v: &Value) -> Option<NaiveDate> {
    match v {
        Value::ChronoDate(d) => *d,
        other => panic!("not a date: {other:?}"),
    }
}

#[test]
fn the_same_seed_makes_the_same_data_and_another_seed_other_data() {
    let (a, out_a) = run(&plan(1));
    let (b, out_b) = run(&plan(1));
    assert!(a == b, "same seed, same batches");
    assert_eq!(out_a, out_b);
    let (c, _) = run(&plan(2));
    let names = |batches: &[Batch]| -> Vec<Value> {
        batches
            .iter()
            .filter(|b| b.table == "customers")
            .flat_map(|b| b.rows.iter().map(|r| r[1].clone()))
            .collect()
    };
    assert_ne!(names(&a), names(&c), "another seed, other customers");
    // A forced second run keeps the content but not the ids.
    let mut second = plan(1);
    second.run = 2;
    let (d, _) = run(&second);
    let ids = |batches: &[Batch]| -> Vec<Value> {
        batches
            .iter()
            .filter(|b| b.table == "orders")
            .flat_map(|b| b.rows.iter().map(|r| r[0].clone()))
            .collect()
    };
    assert!(
        ids(&a)
            .iter()
            .collect::<HashSet<_>>()
            .is_disjoint(&ids(&d).iter().collect())
    );
}

#[test]
fn the_demo_profile_comes_out_near_its_sizes() {
    let (batches, outcome) = run(&plan(1));
    let data = Data::of(batches);
    let n = |t: &str| data.rows(t).len();
    let near = |t: &str, target: usize, tolerance: f64| {
        let got = n(t) as f64;
        assert!(
            (got - target as f64).abs() <= target as f64 * tolerance,
            "{t}: {got} rows, aimed at {target}"
        );
    };
    assert_eq!(n("users"), 1 + 2 + 6);
    assert_eq!(n("teams"), 2);
    assert_eq!(n("customers"), 300);
    assert_eq!(n("products"), 50);
    assert_eq!(n("warehouses"), 2);
    near("contacts", 600, 0.15);
    near("follow_ups", 1_000, 0.15);
    near("leads", 150, 0.1);
    near("opportunities", 150, 0.35);
    near("orders", 600, 0.02);
    near("order_lines", 1_800, 0.15);
    near("payments", 450, 0.35);
    assert!(n("payment_plan_instalments") > 0);
    // Twelve months back, this month and the next, for 6 reps and 2 teams.
    assert_eq!(n("targets"), 14 * (6 + 2));
    let roles: Vec<_> = outcome.accounts.iter().map(|a| a.role).collect();
    use sims_domain::Role::*;
    assert_eq!(roles, vec![Admin, Manager, Sales, Sales]);
    assert_eq!(outcome.accounts[0].email, "admin@demo.sims");
}

#[test]
fn stock_levels_are_the_sums_of_their_movements_and_some_run_low() {
    let (batches, _) = run(&plan(3));
    let data = Data::of(batches);
    let mut sums: HashMap<(Uuid, Uuid), (i64, i64)> = HashMap::new();
    let (p, w) = (
        data.col("stock_movements", "product_id"),
        data.col("stock_movements", "warehouse_id"),
    );
    let (h, r) = (
        data.col("stock_movements", "on_hand_delta_milli"),
        data.col("stock_movements", "reserved_delta_milli"),
    );
    for m in data.rows("stock_movements") {
        let key = (id(&m[p]).unwrap_or_default(), id(&m[w]).unwrap_or_default());
        let s = sums.entry(key).or_default();
        s.0 += int(&m[h]);
        s.1 += int(&m[r]);
    }
    let levels = data.rows("stock_levels");
    assert_eq!(
        levels.len(),
        sums.len(),
        "one level per moved product and warehouse"
    );
    let mut available: HashMap<Uuid, i64> = HashMap::new();
    for l in levels {
        let key = (id(&l[0]).unwrap_or_default(), id(&l[1]).unwrap_or_default());
        let (on_hand, reserved) = (int(&l[2]), int(&l[3]));
        assert_eq!(sums.get(&key), Some(&(on_hand, reserved)), "{key:?}");
        assert!(reserved >= 0 && on_hand - reserved >= 0);
        *available.entry(key.0).or_default() += on_hand - reserved;
    }
    // Reserved equals what confirmed and partially shipped orders have left to ship.
    let order_status: HashMap<Uuid, String> = data
        .rows("orders")
        .iter()
        .map(|o| {
            let status = text(&o[data.col("orders", "status")]).unwrap_or_default();
            (id(&o[0]).unwrap_or_default(), status)
        })
        .collect();
    let mut open = 0;
    for l in data.rows("order_lines") {
        let order = id(&l[data.col("order_lines", "order_id")]).unwrap_or_default();
        let status = order_status.get(&order).map(String::as_str);
        if matches!(status, Some("confirmed" | "partially_shipped")) {
            open += int(&l[data.col("order_lines", "quantity_milli")])
                - int(&l[data.col("order_lines", "shipped_milli")]);
        }
    }
    let reserved: i64 = levels.iter().map(|l| int(&l[3])).sum();
    assert_eq!(
        reserved, open,
        "reserved = reservations − releases − shipments"
    );
    let low = data
        .rows("products")
        .iter()
        .filter(|p| {
            let rp = &p[data.col("products", "reorder_point_milli")];
            match rp {
                Value::BigInt(Some(rp)) => {
                    available
                        .get(&id(&p[0]).unwrap_or_default())
                        .copied()
                        .unwrap_or(0)
                        <= *rp
                }
                _ => false,
            }
        })
        .count();
    assert!((1..20).contains(&low), "{low} of 50 products are low");
}

#[test]
fn orders_add_up_and_are_paid_no_more_than_their_total() {
    let (batches, outcome) = run(&plan(4));
    let data = Data::of(batches);
    let today = now().date_naive();
    let mut lines: HashMap<Uuid, [i64; 4]> = HashMap::new();
    for l in data.rows("order_lines") {
        let s = lines
            .entry(id(&l[data.col("order_lines", "order_id")]).unwrap_or_default())
            .or_default();
        for (i, c) in ["net_minor", "discount_minor", "tax_minor", "total_minor"]
            .iter()
            .enumerate()
        {
            s[i] += int(&l[data.col("order_lines", c)]);
        }
        let (net, tax, total) = (
            int(&l[data.col("order_lines", "net_minor")]),
            int(&l[data.col("order_lines", "tax_minor")]),
            int(&l[data.col("order_lines", "total_minor")]),
        );
        assert_eq!(net + tax, total);
    }
    let mut paid: HashMap<Uuid, i64> = HashMap::new();
    let dates: HashMap<Uuid, NaiveDate> = data
        .rows("orders")
        .iter()
        .map(|o| {
            let d = date(&o[data.col("orders", "order_date")]).unwrap_or_default();
            (id(&o[0]).unwrap_or_default(), d)
        })
        .collect();
    for p in data.rows("payments") {
        let order = id(&p[data.col("payments", "order_id")]).unwrap_or_default();
        *paid.entry(order).or_default() += int(&p[data.col("payments", "amount_minor")]);
        let received = ts(&p[data.col("payments", "received_at")]).unwrap_or_default();
        let lag = (received.date_naive() - dates[&order]).num_days();
        assert!(
            received <= now() && (0..=90).contains(&lag),
            "payment lag {lag}"
        );
    }
    let mut plans: HashMap<Uuid, i64> = HashMap::new();
    let mut overdue = 0;
    for i in data.rows("payment_plan_instalments") {
        let order = id(&i[data.col("payment_plan_instalments", "order_id")]).unwrap_or_default();
        *plans.entry(order).or_default() +=
            int(&i[data.col("payment_plan_instalments", "amount_minor")]);
        let due = date(&i[data.col("payment_plan_instalments", "due_date")]).unwrap_or_default();
        assert!(due >= dates[&order]);
        if due < today && paid.get(&order).copied().unwrap_or(0) == 0 {
            overdue += 1;
        }
    }
    assert!(overdue > 0, "some instalments are overdue and unpaid");
    let mut numbers = HashSet::new();
    for o in data.rows("orders") {
        let oid = id(&o[0]).unwrap_or_default();
        let col = |c: &str| int(&o[data.col("orders", c)]);
        let s = lines.get(&oid).copied().unwrap_or_default();
        assert_eq!(
            (
                col("subtotal_minor"),
                col("discount_minor"),
                col("tax_minor"),
                col("total_minor")
            ),
            (s[0], s[1], s[2], s[3]),
            "totals are the sums of the lines"
        );
        assert_eq!(col("paid_minor"), paid.get(&oid).copied().unwrap_or(0));
        assert!(col("paid_minor") <= col("total_minor"));
        if let Some(planned) = plans.get(&oid) {
            assert_eq!(
                *planned,
                col("total_minor"),
                "instalments add up to the total"
            );
        }
        let number = text(&o[data.col("orders", "number")]).unwrap_or_default();
        assert!(number.len() == 16 && number.starts_with("SO-"), "{number}");
        assert!(numbers.insert(number));
    }
    // Numbers of this month continue after the stored counter (41).
    assert!(numbers.contains("SO-202611-000042"));
    assert!(!numbers.contains("SO-202611-000041"));
    assert!(
        outcome
            .counters
            .iter()
            .any(|(m, last)| m == "202611" && *last > 41)
    );
}

#[test]
fn nothing_happens_after_now_and_nothing_is_updated_before_it_was_created() {
    let (batches, _) = run(&plan(5));
    let data = Data::of(batches);
    let future_allowed = ["next_follow_up_at"];
    for (table, (cols, rows)) in &data.0 {
        let created = cols.iter().position(|c| *c == "created_at");
        let updated = cols.iter().position(|c| *c == "updated_at");
        for row in rows {
            for (i, v) in row.iter().enumerate() {
                if let Value::ChronoDateTimeUtc(Some(t)) = v
                    && !future_allowed.contains(&cols[i])
                {
                    assert!(*t <= now(), "{table}.{} = {t} is after now", cols[i]);
                }
                if let Value::ChronoDate(Some(d)) = v
                    && cols[i] == "order_date"
                {
                    assert!(*d <= now().date_naive());
                }
            }
            if let (Some(c), Some(u)) = (created, updated) {
                assert!(
                    ts(&row[c]) <= ts(&row[u]),
                    "{table}: updated before created"
                );
            }
        }
    }
    // Open opportunities are expected to close over the coming months.
    let status = data.col("opportunities", "status");
    let expected = data.col("opportunities", "expected_close_date");
    let future = data
        .rows("opportunities")
        .iter()
        .filter(|o| text(&o[status]).as_deref() == Some("open"))
        .filter(|o| date(&o[expected]).is_some_and(|d| d > now().date_naive()))
        .count();
    assert!(
        future > 10,
        "{future} open opportunities close in the future"
    );
}

#[test]
fn customers_agree_with_their_follow_ups_contacts_and_the_pool_rules() {
    let (batches, _) = run(&plan(6));
    let data = Data::of(batches);
    let mut latest: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    let (fc, fo) = (
        data.col("follow_ups", "customer_id"),
        data.col("follow_ups", "occurred_at"),
    );
    for f in data.rows("follow_ups") {
        let c = id(&f[fc]).unwrap_or_default();
        let t = ts(&f[fo]).unwrap_or_default();
        let e = latest.entry(c).or_insert(t);
        *e = (*e).max(t);
    }
    let mut primaries: HashMap<Uuid, usize> = HashMap::new();
    for c in data.rows("contacts") {
        if matches!(
            c[data.col("contacts", "is_primary")],
            Value::Bool(Some(true))
        ) {
            *primaries
                .entry(id(&c[data.col("contacts", "customer_id")]).unwrap_or_default())
                .or_default() += 1;
        }
    }
    assert!(
        primaries.values().all(|n| *n == 1),
        "one primary contact at most"
    );
    let mut pool = 0;
    for c in data.rows("customers") {
        let cid = id(&c[0]).unwrap_or_default();
        let last = ts(&c[data.col("customers", "last_follow_up_at")]);
        assert_eq!(last, latest.get(&cid).copied());
        let owner = id(&c[data.col("customers", "owner_id")]);
        let since = ts(&c[data.col("customers", "owner_since")]);
        assert_eq!(
            owner.is_some(),
            since.is_some(),
            "owner_since is set when owned"
        );
        match owner {
            None => pool += 1,
            // The pool-return job (30 days by default) finds nothing yet.
            Some(_) => {
                let from = last.into_iter().chain(since).max().unwrap_or_default();
                assert!(
                    from > now() - Duration::days(30),
                    "{cid} is due for the pool"
                );
            }
        }
    }
    assert!((15..=50).contains(&pool), "{pool} of 300 in the pool");
    let events = data.rows("customer_events");
    let created = events
        .iter()
        .filter(|e| text(&e[data.col("customer_events", "kind")]).as_deref() == Some("created"))
        .count();
    assert_eq!(created, 300, "one created event per customer");
}

#[test]
fn tables_flushed_on_their_own_hold_the_same_rows_as_tables_flushed_together() {
    let plan = plan(7);
    let mut together: HashMap<&'static str, Vec<u8>> = HashMap::new();
    let mut alone: HashMap<&'static str, Vec<u8>> = HashMap::new();
    for (flush, texts) in [
        (Flush::Together { rows: 500 }, &mut together),
        (Flush::PerTable { bytes: 4_096 }, &mut alone),
    ] {
        generate(&plan, flush, &mut |chunk| {
            let e = chunk.into_copy()?;
            texts.entry(e.table).or_default().extend(e.data);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("generation failed: {e}"));
    }
    assert_eq!(together.len(), 19);
    assert!(together == alone, "the same COPY text per table");
}

#[test]
fn owned_customers_follow_the_pool_rules_in_force() {
    let mut plan = plan(8);
    plan.pool.return_after_days = 10;
    plan.pool.reclaim_cooldown_days = 3;
    let (batches, _) = run(&plan);
    let data = Data::of(batches);
    let (owner, since, last) = (
        data.col("customers", "owner_id"),
        data.col("customers", "owner_since"),
        data.col("customers", "last_follow_up_at"),
    );
    for c in data.rows("customers") {
        if id(&c[owner]).is_some() {
            let from = ts(&c[last]).into_iter().chain(ts(&c[since])).max();
            assert!(from.is_some_and(|t| t > now() - Duration::days(10)));
        }
    }
    // Returned customers went back more than the cooldown ago.
    let (kind, at) = (
        data.col("customer_events", "kind"),
        data.col("customer_events", "at"),
    );
    let returns: Vec<DateTime<Utc>> = data
        .rows("customer_events")
        .iter()
        .filter(|e| text(&e[kind]).as_deref() == Some("returned_to_pool"))
        .filter_map(|e| ts(&e[at]))
        .collect();
    assert!(!returns.is_empty());
    assert!(returns.iter().all(|t| *t < now() - Duration::days(3)));
}
