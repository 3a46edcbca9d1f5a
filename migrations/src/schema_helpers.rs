//! Small helpers the migration files share: a named foreign key and a named index.

use sea_orm_migration::prelude::*;

/// A foreign key `from.0.from.1 → to.0.to.1` named `name`.
pub(crate) fn fk(
    name: &str,
    from: (&'static str, &'static str),
    to: (&'static str, &'static str),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .take()
}

/// Creates the index `name` on `table (cols…)`.
pub(crate) async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: &'static str,
    cols: &[&'static str],
) -> Result<(), DbErr> {
    let mut idx = Index::create().name(name).table(table).take();
    for c in cols {
        idx.col(*c);
    }
    manager.create_index(idx).await
}
