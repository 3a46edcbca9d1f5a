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
    /// The rows in PostgreSQL's `COPY … FROM STDIN` text format.
    pub(crate) fn copy_text(&self) -> Result<Vec<u8>, SeedError> {
        let mut out = String::with_capacity(self.rows.len() * 16 * self.columns.len());
        for row in &self.rows {
            encode_row(&mut out, self.table, &self.columns, row)?;
        }
        Ok(out.into_bytes())
    }
}

/// Rows of one table already in `COPY` text format.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Encoded {
    pub table: &'static str,
    pub columns: Vec<&'static str>,
    pub data: Vec<u8>,
    pub rows: usize,
}

/// What the generator hands over.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Chunk {
    /// Rows as values (SQLite inserts them; tests read them).
    Rows(Batch),
    /// Rows as `COPY` text (PostgreSQL).
    Copy(Encoded),
}

impl Chunk {
    /// The table and how many rows.
    pub(crate) fn size(&self) -> (&'static str, usize) {
        match self {
            Chunk::Rows(b) => (b.table, b.rows.len()),
            Chunk::Copy(e) => (e.table, e.rows),
        }
    }

    /// The chunk as `COPY` text.
    pub(crate) fn into_copy(self) -> Result<Encoded, SeedError> {
        match self {
            Chunk::Copy(e) => Ok(e),
            Chunk::Rows(b) => Ok(Encoded {
                data: b.copy_text()?,
                rows: b.rows.len(),
                table: b.table,
                columns: b.columns,
            }),
        }
    }
}

/// One row in `COPY` text format, ending in a newline.
pub(crate) fn encode_row(
    out: &mut String,
    table: &str,
    columns: &[&str],
    row: &[Value],
) -> Result<(), SeedError> {
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        copy_value(out, v).map_err(|kind| {
            SeedError::Generator(format!(
                "{table}.{} holds a {kind} value COPY cannot encode",
                columns.get(i).copied().unwrap_or("?")
            ))
        })?;
    }
    out.push('\n');
    Ok(())
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

/// The rows of one table waiting to be handed over.
pub(crate) struct Buffer {
    table: &'static str,
    columns: Vec<&'static str>,
    rows: Vec<Vec<Value>>,
    text: String,
    encoded: usize,
}

impl Buffer {
    fn of<E: EntityTrait>() -> Self {
        Self {
            table: E::default().table_name(),
            columns: <E::Column as Iterable>::iter()
                .map(|c| c.as_str())
                .collect(),
            rows: Vec::new(),
            text: String::new(),
            encoded: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.encoded == 0
    }

    /// Everything waiting, as one chunk.
    fn take(&mut self) -> Chunk {
        if self.encoded > 0 {
            let rows = std::mem::take(&mut self.encoded);
            Chunk::Copy(Encoded {
                table: self.table,
                columns: self.columns.clone(),
                data: std::mem::take(&mut self.text).into_bytes(),
                rows,
            })
        } else {
            Chunk::Rows(Batch {
                table: self.table,
                columns: self.columns.clone(),
                rows: std::mem::take(&mut self.rows),
            })
        }
    }
}

/// A model that has a buffer in [`Tables`].
pub(crate) trait Row: ModelTrait {
    /// Its table's buffer.
    fn slot(tables: &mut Tables) -> &mut Buffer;
}

macro_rules! tables {
    ($($name:ident),+ $(,)?) => {
        /// Rows waiting to be written, one buffer per table, declared parents first.
        pub(crate) struct Tables {
            $($name: Buffer,)+
        }

        /// The tables a seed writes, parents first.
        pub(crate) const TABLES: &[&str] = &[$(stringify!($name)),+];

        impl Tables {
            fn new() -> Self {
                Self {
                    $($name: Buffer::of::<entities::$name::Entity>(),)+
                }
            }

            /// Every non-empty buffer as a chunk, parents before children.
            fn drain(&mut self) -> Vec<Chunk> {
                let mut out = Vec::new();
                $(
                    if !self.$name.is_empty() {
                        out.push(self.$name.take());
                    }
                )+
                out
            }
        }

        $(
            impl Row for entities::$name::Model {
                fn slot(tables: &mut Tables) -> &mut Buffer {
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
    targets,
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

/// Where generated chunks go.
pub(crate) type Sink<'a> = &'a mut dyn FnMut(Chunk) -> Result<(), SeedError>;

/// When buffered rows are handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flush {
    /// Every table at once, parents first, when `rows` rows wait: foreign keys are
    /// checked as rows arrive.
    Together { rows: usize },
    /// Each table on its own, encoded as `COPY` text as rows come, once its text reaches
    /// `bytes`: for loading with foreign keys set aside, in few large statements.
    PerTable { bytes: usize },
}

/// Buffers generated rows and hands them to the sink as [`Flush`] says.
pub(crate) struct Out<'a> {
    tables: Tables,
    pending: usize,
    flush: Flush,
    sink: Sink<'a>,
}

impl<'a> Out<'a> {
    /// Chunks for `sink`, flushed as `flush` says.
    pub(crate) fn new(flush: Flush, sink: Sink<'a>) -> Self {
        Self {
            tables: Tables::new(),
            pending: 0,
            flush,
            sink,
        }
    }

    /// Buffers a row, handing over what the flush policy says is due.
    pub(crate) fn put<M: Row>(&mut self, m: M) -> Result<(), SeedError> {
        let row = values(&m);
        let buffer = M::slot(&mut self.tables);
        match self.flush {
            Flush::Together { rows } => {
                buffer.rows.push(row);
                self.pending += 1;
                if self.pending >= rows {
                    self.flush()?;
                }
            }
            Flush::PerTable { bytes } => {
                encode_row(&mut buffer.text, buffer.table, &buffer.columns, &row)?;
                buffer.encoded += 1;
                if buffer.text.len() >= bytes {
                    let chunk = buffer.take();
                    (self.sink)(chunk)?;
                }
            }
        }
        Ok(())
    }

    /// Hands every buffered row to the sink, parents first.
    pub(crate) fn flush(&mut self) -> Result<(), SeedError> {
        for chunk in self.tables.drain() {
            (self.sink)(chunk)?;
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
