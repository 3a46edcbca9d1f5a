//! Generated rows on their way to the database: typed entity models turned into column
//! values (the same values sea-orm binds for an insert), buffered per table and handed
//! over in batches whose order respects every foreign key, and their PostgreSQL `COPY`
//! text encoding.

use std::fmt::Write as _;

use chrono::SecondsFormat;
use sea_orm::{EntityTrait, IdenStatic, Iterable, ModelTrait, Value};

use super::SeedError;
use crate::entities;

/// Rows of one table, with its column names in the order of each row's values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Batch {
    pub table: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Value>>,
}

impl Batch {
    /// A batch of rows of `E`'s table, each made by [`values`].
    fn of<E: EntityTrait>(rows: Vec<Vec<Value>>) -> Self {
        Self {
            table: E::default().table_name(),
            columns: <E::Column as Iterable>::iter()
                .map(|c| c.as_str())
                .collect(),
            rows,
        }
    }

    /// The rows in PostgreSQL's `COPY … FROM STDIN` text format.
    pub(crate) fn copy_text(&self) -> Result<Vec<u8>, SeedError> {
        let mut out = String::with_capacity(self.rows.len() * 16 * self.columns.len());
        for row in &self.rows {
            for (i, v) in row.iter().enumerate() {
                if i > 0 {
                    out.push('\t');
                }
                copy_value(&mut out, v).map_err(|kind| {
                    SeedError::Generator(format!(
                        "{}.{} holds a {kind} value COPY cannot encode",
                        self.table, self.columns[i]
                    ))
                })?;
            }
            out.push('\n');
        }
        Ok(out.into_bytes())
    }
}

/// One value in `COPY` text format: `\N` for null, backslash escapes in text.
fn copy_value(out: &mut String, v: &Value) -> Result<(), &'static str> {
    const NULL: &str = "\\N";
    match v {
        Value::Bool(b) => out.push_str(match b {
            None => NULL,
            Some(true) => "t",
            Some(false) => "f",
        }),
        Value::Int(i) => optional(out, i.as_ref()),
        Value::BigInt(i) => optional(out, i.as_ref()),
        Value::Uuid(u) => optional(out, u.as_ref()),
        Value::ChronoDate(d) => optional(out, d.as_ref()),
        Value::ChronoDateTimeUtc(t) => match t {
            None => out.push_str(NULL),
            Some(t) => out.push_str(&t.to_rfc3339_opts(SecondsFormat::Micros, true)),
        },
        Value::String(s) => match s {
            None => out.push_str(NULL),
            Some(s) => {
                for c in s.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
            }
        },
        _ => return Err("non-scalar"),
    }
    Ok(())
}

fn optional(out: &mut String, v: Option<&impl std::fmt::Display>) {
    match v {
        None => out.push_str("\\N"),
        Some(v) => {
            let _ = write!(out, "{v}");
        }
    }
}

/// A model's column values, in its entity's column order.
fn values<M: ModelTrait>(m: &M) -> Vec<Value> {
    <<M::Entity as EntityTrait>::Column as Iterable>::iter()
        .map(|c| m.get(c))
        .collect()
}

/// A model that has a buffer in [`Tables`].
pub(crate) trait Row: ModelTrait {
    /// Its table's buffer.
    fn slot(tables: &mut Tables) -> &mut Vec<Vec<Value>>;
}

macro_rules! tables {
    ($($name:ident),+ $(,)?) => {
        /// Rows waiting to be written, one buffer per table, declared parents first.
        #[derive(Default)]
        pub(crate) struct Tables {
            $($name: Vec<Vec<Value>>,)+
        }

        impl Tables {
            /// Every non-empty buffer as a batch, parents before children.
            fn drain(&mut self) -> Vec<Batch> {
                let mut out = Vec::new();
                $(
                    if !self.$name.is_empty() {
                        out.push(Batch::of::<entities::$name::Entity>(std::mem::take(
                            &mut self.$name,
                        )));
                    }
                )+
                out
            }
        }

        $(
            impl Row for entities::$name::Model {
                fn slot(tables: &mut Tables) -> &mut Vec<Vec<Value>> {
                    &mut tables.$name
                }
            }
        )+
    };
}

// Parents before children: a flush writes them in this order, so that every foreign key
// finds its row (a child is always put after its parent).
tables!(
    teams,
    users,
    warehouses,
    products,
    customers,
    contacts,
    customer_events,
    customer_tags,
    opportunities,
    opportunity_stage_changes,
    follow_ups,
    leads,
    orders,
    order_lines,
    payments,
    payment_plan_instalments,
    stock_movements,
    stock_levels,
);

/// Where generated batches go.
pub(crate) type Sink<'a> = &'a mut dyn FnMut(Batch) -> Result<(), SeedError>;

/// Buffers generated rows and hands them to the sink in batches of about `limit` rows.
pub(crate) struct Out<'a> {
    tables: Tables,
    pending: usize,
    limit: usize,
    sink: Sink<'a>,
}

impl<'a> Out<'a> {
    /// Batches of about `limit` rows (all tables together) for `sink`.
    pub(crate) fn new(limit: usize, sink: Sink<'a>) -> Self {
        Self {
            tables: Tables::default(),
            pending: 0,
            limit: limit.max(1),
            sink,
        }
    }

    /// Buffers a row, flushing every buffer once `limit` rows wait.
    pub(crate) fn put<M: Row>(&mut self, m: M) -> Result<(), SeedError> {
        let row = values(&m);
        M::slot(&mut self.tables).push(row);
        self.pending += 1;
        if self.pending >= self.limit {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands every buffered row to the sink, parents first.
    pub(crate) fn flush(&mut self) -> Result<(), SeedError> {
        for batch in self.tables.drain() {
            (self.sink)(batch)?;
        }
        self.pending = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn copy_text_escapes_and_marks_nulls() {
        let batch = Batch {
            table: "t",
            columns: vec!["a", "b", "c", "d", "e"],
            rows: vec![vec![
                Value::String(Some("tab\there\\ 中文\nline".into())),
                Value::String(None),
                Value::BigInt(Some(-5)),
                Value::Bool(Some(true)),
                Value::ChronoDateTimeUtc(Some(
                    chrono::Utc
                        .with_ymd_and_hms(2026, 11, 3, 4, 5, 6)
                        .single()
                        .unwrap_or_default(),
                )),
            ]],
        };
        let text = String::from_utf8(batch.copy_text().unwrap_or_default()).unwrap_or_default();
        assert_eq!(
            text,
            "tab\\there\\\\ 中文\\nline\t\\N\t-5\tt\t2026-11-03T04:05:06.000000Z\n"
        );
    }
}
