//! Pages of a list: offset pages or keyset continuation (`after`), a stable order that
//! always ends with `id`, opaque cursors, and a total counted only on request.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, ExprTrait, IdenStatic, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QueryTrait, Select, Statement, Value, Values,
};
use sims_domain::listing::SortKey;
use uuid::Uuid;

use crate::decode::{Decoded, Read};
use crate::{PersistenceError, Result};

/// What page of a list the client asked for.
#[derive(Debug, Clone)]
pub struct ListRequest {
    /// 1-based page number, ignored when `after` is given.
    pub page: u32,
    /// Page size, 1..=200.
    pub per_page: u32,
    /// Cursor from a previous page's `next_cursor`.
    pub after: Option<String>,
    /// Whitelisted sort keys (without the `id` tie-breaker).
    pub sort: Vec<SortKey>,
    /// Count every matching row as well.
    pub include_total: bool,
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The page number, `None` for a keyset continuation.
    pub page: Option<u32>,
    pub per_page: u32,
    pub has_more: bool,
    /// Continues after the last item; `None` on the last page.
    pub next_cursor: Option<String>,
    /// All matching rows, when asked for.
    pub total: Option<u64>,
}

impl<T> Page<T> {
    /// The same page with each item converted by a conversion that may fail.
    pub fn try_map<U, E>(
        self,
        f: impl FnMut(T) -> std::result::Result<U, E>,
    ) -> std::result::Result<Page<U>, E> {
        Ok(Page {
            items: self
                .items
                .into_iter()
                .map(f)
                .collect::<std::result::Result<_, _>>()?,
            page: self.page,
            per_page: self.per_page,
            has_more: self.has_more,
            next_cursor: self.next_cursor,
            total: self.total,
        })
    }

    /// The same page with each item converted.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            per_page: self.per_page,
            has_more: self.has_more,
            next_cursor: self.next_cursor,
            total: self.total,
        }
    }
}

/// How a sortable column's value is read from a row (and so written into a cursor).
pub enum SortValue<M> {
    Timestamp(fn(&M) -> DateTime<Utc>),
    Text(fn(&M) -> String),
    Integer(fn(&M) -> i64),
    Id(fn(&M) -> Uuid),
}

impl<M> SortValue<M> {
    fn of(&self, m: &M) -> CursorValue {
        match self {
            SortValue::Timestamp(f) => CursorValue::Timestamp(f(m)),
            SortValue::Text(f) => CursorValue::Text(f(m)),
            SortValue::Integer(f) => CursorValue::Integer(f(m)),
            SortValue::Id(f) => CursorValue::Id(f(m)),
        }
    }
}

/// A whitelisted sort field of a resource: its name, its column, and how a row's value is
/// read.
pub struct SortColumn<M, C> {
    pub field: &'static str,
    pub column: C,
    pub value: SortValue<M>,
}

impl<M, C> SortColumn<M, C> {
    /// A timestamp column.
    pub const fn at(field: &'static str, column: C, value: fn(&M) -> DateTime<Utc>) -> Self {
        Self {
            field,
            column,
            value: SortValue::Timestamp(value),
        }
    }

    /// A text column.
    pub const fn text(field: &'static str, column: C, value: fn(&M) -> String) -> Self {
        Self {
            field,
            column,
            value: SortValue::Text(value),
        }
    }

    /// An integer column.
    pub const fn integer(field: &'static str, column: C, value: fn(&M) -> i64) -> Self {
        Self {
            field,
            column,
            value: SortValue::Integer(value),
        }
    }

    /// A UUID column (the first half of a two-column key).
    pub const fn id(field: &'static str, column: C, value: fn(&M) -> Uuid) -> Self {
        Self {
            field,
            column,
            value: SortValue::Id(value),
        }
    }
}

/// A table listed by pages: its `id` column, the last key of every order.
pub(crate) trait Keyed: EntityTrait {
    fn id_column() -> Self::Column;
    fn id_of(m: &Self::Model) -> Uuid;
}

macro_rules! keyed {
    ($($entity:ident),+ $(,)?) => {
        $(
            impl Keyed for crate::entities::$entity::Entity {
                fn id_column() -> Self::Column {
                    crate::entities::$entity::Column::Id
                }
                fn id_of(m: &Self::Model) -> Uuid {
                    m.id
                }
            }
        )+
    };
}

/// Stock levels are keyed by (product, warehouse): listed by product, the warehouse is
/// the last key.
impl Keyed for crate::entities::stock_levels::Entity {
    fn id_column() -> Self::Column {
        crate::entities::stock_levels::Column::WarehouseId
    }
    fn id_of(m: &Self::Model) -> Uuid {
        m.warehouse_id
    }
}

keyed!(
    targets,
    api_keys,
    audit_log,
    contacts,
    customers,
    deletions,
    follow_ups,
    leads,
    opportunities,
    orders,
    products,
    stock_movements,
    teams,
    users,
    warehouses,
    webhooks,
    webhook_deliveries,
);

/// A row's value for a sort column, as put in a cursor.
#[derive(Debug, Clone)]
pub enum CursorValue {
    Timestamp(DateTime<Utc>),
    Text(String),
    Integer(i64),
    Id(Uuid),
}

impl CursorValue {
    fn to_json(&self) -> serde_json::Value {
        match self {
            CursorValue::Id(id) => serde_json::Value::from(id.to_string()),
            CursorValue::Timestamp(t) => {
                serde_json::Value::from(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            }
            CursorValue::Text(s) => serde_json::Value::from(s.as_str()),
            CursorValue::Integer(n) => serde_json::Value::from(n.to_string()),
        }
    }
}

fn bad_cursor() -> PersistenceError {
    PersistenceError::Unprocessable {
        field: "after".into(),
        message: "the cursor is not valid for this list and sort".into(),
    }
}

fn encode_cursor(values: &[CursorValue], id: Uuid) -> String {
    let mut arr: Vec<serde_json::Value> = values.iter().map(CursorValue::to_json).collect();
    arr.push(serde_json::Value::from(id.to_string()));
    URL_SAFE_NO_PAD.encode(serde_json::Value::Array(arr).to_string())
}

/// What a cursor value is.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Timestamp,
    Text,
    Integer,
    Id,
}

impl Kind {
    /// The PostgreSQL type of a cursor value of this kind.
    fn sql_type(self) -> &'static str {
        match self {
            Kind::Timestamp => "timestamptz",
            Kind::Text => "text",
            Kind::Integer => "int8",
            Kind::Id => "uuid",
        }
    }
}

impl<M> SortValue<M> {
    fn kind(&self) -> Kind {
        match self {
            SortValue::Timestamp(_) => Kind::Timestamp,
            SortValue::Text(_) => Kind::Text,
            SortValue::Integer(_) => Kind::Integer,
            SortValue::Id(_) => Kind::Id,
        }
    }
}

fn decode_cursor(cursor: &str, kinds: &[Kind]) -> Result<(Vec<Value>, Uuid)> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| bad_cursor())?;
    let arr: Vec<serde_json::Value> = serde_json::from_slice(&bytes).map_err(|_| bad_cursor())?;
    if arr.len() != kinds.len() + 1 {
        return Err(bad_cursor());
    }
    let mut values = Vec::with_capacity(kinds.len());
    for (v, kind) in arr.iter().zip(kinds) {
        let s = v.as_str().ok_or_else(bad_cursor)?;
        values.push(match kind {
            Kind::Timestamp => {
                let t = DateTime::parse_from_rfc3339(s)
                    .map_err(|_| bad_cursor())?
                    .with_timezone(&Utc);
                Value::from(t)
            }
            Kind::Text => Value::from(s.to_owned()),
            Kind::Integer => Value::from(s.parse::<i64>().map_err(|_| bad_cursor())?),
            Kind::Id => Value::from(Uuid::parse_str(s).map_err(|_| bad_cursor())?),
        });
    }
    let id = arr
        .last()
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(bad_cursor)?;
    Ok((values, id))
}

/// The keyset condition "strictly after (values, id) in this order". When every key runs
/// in one direction it is a single row-value comparison served by one index.
///
/// On PostgreSQL each cursor value enters as a sub-select, `(SELECT $n)`. A bound value
/// compared with a column makes PostgreSQL estimate the page from that value's place in
/// the column's histogram, a cost no plan made for all values can match, so it planned
/// every continuation anew (`pg_prepared_statements`: 8 custom plans, 0 generic, at 0.39
/// ms of planning against 0.23 ms of execution). A sub-select's value is unknown to every
/// plan alike: from the sixth page on, the plan made once serves (0.02 ms of planning),
/// walking the same index.
fn after_condition(
    cols: &[(SimpleExpr, bool)],
    values: Vec<(Value, Kind)>,
    backend: DbBackend,
) -> Condition {
    let value = |(v, kind): (Value, Kind)| match backend {
        DbBackend::Postgres => {
            // Typed, so that the statement reads the same with its values written in.
            let typed = Expr::val(v).cast_as(kind.sql_type());
            SimpleExpr::from(Query::select().expr(typed).take())
        }
        _ => Expr::val(v),
    };
    let all_desc = cols.iter().all(|(_, d)| *d);
    let all_asc = cols.iter().all(|(_, d)| !*d);
    if all_desc || all_asc {
        let left = Expr::tuple(cols.iter().map(|(c, _)| c.clone()));
        let right = Expr::tuple(values.into_iter().map(value));
        return Condition::all().add(if all_desc {
            left.lt(right)
        } else {
            left.gt(right)
        });
    }
    // Mixed directions: (a > x) OR (a = x AND b < y) OR ...
    let mut any = Condition::any();
    for i in 0..cols.len() {
        let mut branch = Condition::all();
        for j in 0..i {
            branch = branch.add(cols[j].0.clone().eq(value(values[j].clone())));
        }
        let (c, desc) = &cols[i];
        let v = value(values[i].clone());
        branch = branch.add(if *desc {
            c.clone().lt(v)
        } else {
            c.clone().gt(v)
        });
        any = any.add(branch);
    }
    any
}

/// What a page is read from: one statement, or two parts no row belongs to both of.
pub(crate) struct Listed<E: EntityTrait> {
    select: Select<E>,
    parts: Option<[Condition; 2]>,
}

impl<E: EntityTrait> From<Select<E>> for Listed<E> {
    fn from(select: Select<E>) -> Self {
        Self {
            select,
            parts: None,
        }
    }
}

impl<E: EntityTrait> Listed<E> {
    /// `select` filtered by either of two `parts` that no row satisfies both of, whose
    /// page is read as the union of a page from each part (for a first page or a keyset
    /// continuation; numbered pages past the first read one statement). Each part can
    /// then walk an index of its own in the page's order, where one scan in that order
    /// would read and drop most rows (a rep's customers and the pool's, newest first).
    pub(crate) fn in_parts(select: Select<E>, parts: [Condition; 2]) -> Self {
        Self {
            select,
            parts: Some(parts),
        }
    }
}

/// Runs `listed` as one page: sorted by `req.sort` (of `columns`) then `id`, continued
/// from `req.after` by keyset, or at `req.page` by offset.
pub(crate) async fn fetch_page<E, C>(
    conn: &C,
    listed: impl Into<Listed<E>>,
    req: &ListRequest,
    columns: &[SortColumn<E::Model, E::Column>],
) -> Result<Page<E::Model>>
where
    E: Keyed + Decoded,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let Listed { select, parts } = listed.into();
    type Key<'a, E> = (
        &'a SortColumn<<E as EntityTrait>::Model, <E as EntityTrait>::Column>,
        bool,
    );
    let keys: Vec<Key<'_, E>> = req
        .sort
        .iter()
        .filter_map(|k| {
            columns
                .iter()
                .find(|c| c.field == k.field)
                .map(|c| (c, k.descending))
        })
        .collect();
    let id_desc = keys.last().map(|(_, d)| *d).unwrap_or(true);

    let either =
        |parts: &[Condition; 2]| Condition::any().add(parts[0].clone()).add(parts[1].clone());
    let total = if req.include_total {
        let whole = match &parts {
            Some(p) => select.clone().filter(either(p)),
            None => select.clone(),
        };
        Some(whole.count(conn).await?)
    } else {
        None
    };

    let mut query = select;
    let mut page_number = Some(req.page);
    let mut offset = 0;
    if let Some(after) = &req.after {
        let mut kinds: Vec<Kind> = keys.iter().map(|(c, _)| c.value.kind()).collect();
        let (mut values, id) = decode_cursor(after, &kinds)?;
        values.push(Value::from(id));
        kinds.push(Kind::Id);
        let mut cols: Vec<(SimpleExpr, bool)> = keys
            .iter()
            .map(|(c, d)| (Expr::col(c.column), *d))
            .collect();
        cols.push((Expr::col(E::id_column()), id_desc));
        let typed = values.into_iter().zip(kinds).collect();
        query = query.filter(after_condition(&cols, typed, conn.get_database_backend()));
        page_number = None;
    } else {
        offset = u64::from(req.page.saturating_sub(1)) * u64::from(req.per_page);
    }
    for (c, desc) in &keys {
        query = query.order_by(c.column, if *desc { Order::Desc } else { Order::Asc });
    }
    query = query.order_by(
        E::id_column(),
        if id_desc { Order::Desc } else { Order::Asc },
    );
    let backend = conn.get_database_backend();
    let limit = u64::from(req.per_page) + 1;
    let statement = match parts {
        Some([first, second]) if offset == 0 => {
            let mut order: Vec<(&str, bool)> =
                keys.iter().map(|(c, d)| (c.column.as_str(), *d)).collect();
            order.push((E::id_column().as_str(), id_desc));
            union_page(
                query.clone().filter(first).build(backend),
                query.filter(second).build(backend),
                &order,
                limit,
            )
        }
        Some(p) => with_limit(query.filter(either(&p)).build(backend), limit, offset),
        None => with_limit(query.build(backend), limit, offset),
    };
    let mut items: Vec<E::Model> = E::find()
        .from_raw_sql(statement)
        .into_model::<Read<E>>()
        .all(conn)
        .await?
        .into_iter()
        .map(|row| row.0)
        .collect();
    let has_more = items.len() > req.per_page as usize;
    items.truncate(req.per_page as usize);
    let next_cursor = if has_more {
        items.last().map(|last| {
            let values: Vec<CursorValue> = keys.iter().map(|(c, _)| c.value.of(last)).collect();
            encode_cursor(&values, E::id_of(last))
        })
    } else {
        None
    };
    Ok(Page {
        items,
        page: page_number,
        per_page: req.per_page,
        has_more,
        next_cursor,
        total,
    })
}

/// `statement` with the page's row count written into its text and the offset, if any,
/// bound. PostgreSQL plans a prepared statement once for all executions (a generic plan)
/// only when it can cost that plan as it costs a plan for the values at hand: with the
/// `LIMIT` a parameter it cannot, so it planned every page anew, about a sixth of the
/// database's time for a page of 50 (pgbench, the same statement with a bound and a
/// written `LIMIT`: 5,380–5,824 against 6,534–6,638 pages a second, 2026-12-07). A page
/// size takes few values; an offset many, and a statement text of its own for each
/// would churn the driver's statement cache, so it stays bound (and away at 0).
fn with_limit(mut statement: Statement, limit: u64, offset: u64) -> Statement {
    use std::fmt::Write as _;
    let _ = write!(statement.sql, " LIMIT {limit}");
    if offset > 0 {
        let mut values = statement.values.take().unwrap_or(Values(Vec::new()));
        values.0.push(Value::from(offset));
        let _ = match statement.db_backend {
            DbBackend::Postgres => write!(statement.sql, " OFFSET ${}", values.0.len()),
            _ => write!(statement.sql, " OFFSET ?"),
        };
        statement.values = Some(values);
    }
    statement
}

/// `SELECT * FROM (first LIMIT n) UNION ALL SELECT * FROM (second LIMIT n) ORDER BY …
/// LIMIT n`: the page of two parts, each limited in its own order, merged. `order` names
/// the result columns and whether each runs descending. The second part's placeholders
/// are numbered on from the first's on PostgreSQL (`?` needs nothing on SQLite).
fn union_page(
    first: Statement,
    second: Statement,
    order: &[(&str, bool)],
    limit: u64,
) -> Statement {
    let mut values = first.values.unwrap_or(Values(Vec::new()));
    let second_sql = match first.db_backend {
        DbBackend::Postgres => renumber_placeholders(&second.sql, values.0.len()),
        _ => second.sql,
    };
    values
        .0
        .extend(second.values.map(|v| v.0).unwrap_or_default());
    let order = order
        .iter()
        .map(|(column, desc)| format!("\"{column}\" {}", if *desc { "DESC" } else { "ASC" }))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT * FROM ({} LIMIT {limit}) AS \"first_part\" UNION ALL \
         SELECT * FROM ({second_sql} LIMIT {limit}) AS \"second_part\" ORDER BY {order} LIMIT {limit}",
        first.sql
    );
    Statement::from_sql_and_values(first.db_backend, sql, values)
}

/// `sql` with each PostgreSQL placeholder `$n` made `$(n + by)`. Quoted text is left as
/// it is: identifiers in `"…"`, strings in `'…'`, and in `E'…'` strings a backslash
/// escapes the next character (sea-query binds every value as a parameter and writes
/// only such escapes, `ESCAPE E'\\'`, into the text; no comments or dollar-quoting).
fn renumber_placeholders(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    // The closing quote, and whether a backslash escapes inside (an `E'…'` string).
    let mut quote: Option<(char, bool)> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some((q, escapes)) => {
                out.push(c);
                if escapes && c == '\\' {
                    if let Some(next) = chars.next() {
                        out.push(next);
                    }
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                let escapes = c == '\'' && out.ends_with(['E', 'e']);
                quote = Some((c, escapes));
                out.push(c);
            }
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut n = String::new();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    n.push(d);
                }
                match n.parse::<usize>() {
                    Ok(n) => {
                        let _ = std::fmt::Write::write_fmt(&mut out, format_args!("${}", n + by));
                    }
                    Err(_) => {
                        out.push('$');
                        out.push_str(&n);
                    }
                }
            }
            None => out.push(c),
        }
    }
    out
}

/// One page of a list computed whole (an aggregate such as tag counts), in the list
/// conventions: numbered pages, or `after` continuing past the item whose `key` the
/// cursor holds. `key` must sort exactly as `items` are sorted.
pub(crate) fn page_of_sorted<T>(
    items: Vec<T>,
    req: &ListRequest,
    key: impl Fn(&T) -> String,
) -> Result<Page<T>> {
    let total = req.include_total.then_some(items.len() as u64);
    let (start, page) = match &req.after {
        Some(after) => {
            let bytes = URL_SAFE_NO_PAD
                .decode(after.trim())
                .map_err(|_| bad_cursor())?;
            let last: Vec<String> = serde_json::from_slice(&bytes).map_err(|_| bad_cursor())?;
            let [marker, last] = <[String; 2]>::try_from(last).map_err(|_| bad_cursor())?;
            if marker != "sorted" {
                return Err(bad_cursor());
            }
            (items.partition_point(|it| key(it) <= last), None)
        }
        None => (
            (req.page.saturating_sub(1) as usize).saturating_mul(req.per_page as usize),
            Some(req.page),
        ),
    };
    let mut rest: Vec<T> = items.into_iter().skip(start).collect();
    let has_more = rest.len() > req.per_page as usize;
    rest.truncate(req.per_page as usize);
    let next_cursor = if has_more {
        rest.last().map(|last| {
            URL_SAFE_NO_PAD.encode(serde_json::json!(["sorted", key(last)]).to_string())
        })
    } else {
        None
    };
    Ok(Page {
        items: rest,
        page,
        per_page: req.per_page,
        has_more,
        next_cursor,
        total,
    })
}

/// Escapes `%`, `_` and `\` so that user text matches literally inside `LIKE`.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// `column LIKE '%text%' ESCAPE '\'`, the same on both databases.
pub(crate) fn contains<C: ColumnTrait>(column: C, text: &str) -> SimpleExpr {
    Expr::col(column).like(sea_orm::sea_query::LikeExpr::new(like_pattern(text)).escape('\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let t = crate::now();
        let id = Uuid::now_v7();
        let c = encode_cursor(&[CursorValue::Timestamp(t)], id);
        let (vals, back) = decode_cursor(&c, &[Kind::Timestamp]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, id);
        assert_eq!(vals, vec![Value::from(t)]);
        assert!(decode_cursor("not-base64!", &[Kind::Timestamp]).is_err());
        assert!(
            decode_cursor(&c, &[Kind::Timestamp, Kind::Text]).is_err(),
            "another sort's cursor"
        );
        let forged = URL_SAFE_NO_PAD.encode(r#"["yesterday","x"]"#);
        assert!(decode_cursor(&forged, &[Kind::Timestamp]).is_err());
    }

    #[test]
    fn computed_lists_page_by_key() {
        let req = |after: Option<String>| ListRequest {
            page: 1,
            per_page: 2,
            after,
            sort: vec![],
            include_total: true,
        };
        let items = vec!["a", "b", "c", "d", "e"];
        let key = |s: &&str| (*s).to_owned();
        let first =
            page_of_sorted(items.clone(), &req(None), key).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (first.items.clone(), first.total),
            (vec!["a", "b"], Some(5))
        );
        let second = page_of_sorted(items.clone(), &req(first.next_cursor), key)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((second.items.clone(), second.page), (vec!["c", "d"], None));
        // The item the cursor names is gone: the next page starts after where it was.
        let fewer = vec!["a", "c", "d", "e"];
        let again = page_of_sorted(fewer, &req(second.next_cursor.clone()), key)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((again.items, again.next_cursor), (vec!["e"], None));
        assert!(page_of_sorted(items, &req(Some("forged".into())), key).is_err());
    }

    #[test]
    fn a_page_in_two_parts_numbers_the_second_parts_placeholders_on() {
        assert_eq!(
            renumber_placeholders(r#"a = $1 AND "b$2" = '$3' AND c IN ($2, $10)"#, 3),
            r#"a = $4 AND "b$2" = '$3' AND c IN ($5, $13)"#
        );
        // In an E'…' string a backslash escapes the quote after it; elsewhere '' does.
        assert_eq!(
            renumber_placeholders(
                r#"x LIKE $1 ESCAPE E'\\' AND y = E'\' $2' AND z = 'it''s $3' AND w = $2"#,
                1
            ),
            r#"x LIKE $2 ESCAPE E'\\' AND y = E'\' $2' AND z = 'it''s $3' AND w = $3"#
        );
        let pg = |sql: &str, v: i64| {
            Statement::from_sql_and_values(DbBackend::Postgres, sql, [Value::from(v)])
        };
        let page = union_page(
            pg("SELECT x FROM t WHERE o = $1 ORDER BY \"c\" DESC", 7),
            pg("SELECT x FROM t WHERE p = $1 ORDER BY \"c\" DESC", 8),
            &[("c", true), ("id", false)],
            3,
        );
        assert_eq!(
            page.sql,
            "SELECT * FROM (SELECT x FROM t WHERE o = $1 ORDER BY \"c\" DESC LIMIT 3) AS \"first_part\" \
             UNION ALL SELECT * FROM (SELECT x FROM t WHERE p = $2 ORDER BY \"c\" DESC LIMIT 3) \
             AS \"second_part\" ORDER BY \"c\" DESC, \"id\" ASC LIMIT 3"
        );
        assert_eq!(
            page.values,
            Some(Values(vec![Value::from(7i64), Value::from(8i64)]))
        );
    }

    #[test]
    fn a_cursors_values_are_typed_sub_selects_on_postgres_only() {
        use sea_orm::sea_query::{Alias, PostgresQueryBuilder, SqliteQueryBuilder};
        let cols = || {
            vec![
                (Expr::col(Alias::new("created_at")), true),
                (Expr::col(Alias::new("id")), true),
            ]
        };
        let values = || {
            vec![
                (Value::from(crate::now()), Kind::Timestamp),
                (Value::from(Uuid::nil()), Kind::Id),
            ]
        };
        let sql = |backend| {
            let mut q = Query::select();
            q.column(Alias::new("id"))
                .from(Alias::new("t"))
                .cond_where(after_condition(&cols(), values(), backend));
            match backend {
                DbBackend::Postgres => q.build(PostgresQueryBuilder).0,
                _ => q.build(SqliteQueryBuilder).0,
            }
        };
        assert_eq!(
            sql(DbBackend::Postgres),
            r#"SELECT "id" FROM "t" WHERE ("created_at", "id") < ((SELECT CAST($1 AS timestamptz)), (SELECT CAST($2 AS uuid)))"#
        );
        assert_eq!(
            sql(DbBackend::Sqlite),
            r#"SELECT "id" FROM "t" WHERE ("created_at", "id") < (?, ?)"#
        );
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_off"), "%50\\%\\_off%");
    }
}
