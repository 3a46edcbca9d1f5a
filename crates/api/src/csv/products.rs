//! Products as CSV: the import (managers and admins; every SKU new).

use actix_web::{post, web};
use sims_domain::catalog::{Product, ProductInput};
use sims_domain::import::{ImportReport, RowError};
use sims_domain::money::parse_decimal_text;
use sims_persistence::import::ProductImport;

use super::{ImportQuery, RowKind, boolean, finish};
use crate::caller::Ctx;
use crate::error::{ApiResult, Problem};
use crate::extract::{CsvBody, Query};
use crate::responses::{Authenticated, RoleGated, WithQuery};
use crate::routes::Routes;

/// A column of a product file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    Sku,
    Name,
    Unit,
    ListPrice,
    Cost,
    TaxRate,
    Category,
    ReorderPoint,
    Active,
}

/// Rows of products.
pub(crate) struct Products;

impl RowKind for Products {
    type Column = Column;
    type Row = Product;

    fn column(h: &str) -> Option<Column> {
        Some(match h.trim().to_lowercase().as_str() {
            "sku" | "编码" | "商品编码" | "货号" => Column::Sku,
            "name" | "名称" | "商品名称" | "产品名称" => Column::Name,
            "unit" | "单位" => Column::Unit,
            "list_price" | "price" | "价格" | "单价" | "售价" => Column::ListPrice,
            "cost" | "成本" => Column::Cost,
            "tax_rate" | "税率" => Column::TaxRate,
            "category" | "分类" | "类别" => Column::Category,
            "reorder_point" | "安全库存" | "补货点" => Column::ReorderPoint,
            "active" | "启用" => Column::Active,
            _ => return None,
        })
    }

    fn required() -> &'static [(Column, &'static str)] {
        &[
            (Column::Sku, "sku"),
            (Column::Name, "name"),
            (Column::Unit, "unit"),
            (Column::ListPrice, "list_price"),
            (Column::TaxRate, "tax_rate"),
        ]
    }

    fn name(column: Column) -> &'static str {
        match column {
            Column::Sku => "sku",
            Column::Name => "name",
            Column::Unit => "unit",
            Column::ListPrice => "list_price",
            Column::Cost => "cost",
            Column::TaxRate => "tax_rate",
            Column::Category => "category",
            Column::ReorderPoint => "reorder_point",
            Column::Active => "active",
        }
    }

    fn parse(
        cells: Vec<(Column, &str)>,
        line: u64,
        mut problems: Vec<RowError>,
    ) -> Result<Product, Vec<RowError>> {
        let mut input = ProductInput::default();
        for (col, value) in cells {
            let mut decimal = || match parse_decimal_text(value.trim()) {
                Some(d) => Some(d),
                None => {
                    problems.push(RowError::new(
                        line,
                        Some(Self::name(col)),
                        "invalid",
                        format!("{} must be a decimal number", Self::name(col)),
                    ));
                    None
                }
            };
            match col {
                Column::Sku => input.sku = Some(value.to_owned()),
                Column::Name => input.name = Some(value.to_owned()),
                Column::Unit => input.unit = Some(value.to_owned()),
                Column::Category => input.category = Some(value.to_owned()),
                Column::ListPrice => input.list_price = decimal(),
                Column::Cost => input.cost = decimal(),
                Column::TaxRate => input.tax_rate = decimal(),
                Column::ReorderPoint => input.reorder_point = decimal(),
                Column::Active => match boolean(value) {
                    Some(b) => input.active = Some(b),
                    None => problems.push(RowError::new(
                        line,
                        Some("active"),
                        "invalid_type",
                        "active must be true or false",
                    )),
                },
            }
        }
        finish(line, Product::create(input), problems)
    }
}

/// Imports products from CSV (managers and admins; columns `sku`, `name`, `unit`,
/// `list_price`, `tax_rate`, `cost`, `category`, `reorder_point`, `active`, or their
/// Chinese names). Same rules as the customer import; SKUs must be new.
#[utoipa::path(tag = "products", operation_id = "import_products", params(ImportQuery), request_body(description = "A CSV file with a header row: the body itself, or the `file` part of a form", content((String = "text/csv"), (crate::extract::CsvUpload = "multipart/form-data"))), responses(
    Authenticated,
    RoleGated,
    WithQuery,
    (status = 200, description = "What the import found and did", body = ImportReport),
    (status = 413, description = "Over `import.max_bytes`", body = Problem, content_type = "application/problem+json"),
    (status = 415, description = "Not CSV", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Bad rows (all or nothing) or missing columns", body = Problem, content_type = "application/problem+json"),
))]
#[post("/products/import")]
pub async fn import_products(
    ctx: Ctx,
    options: Query<ImportQuery>,
    body: CsvBody,
) -> ApiResult<web::Json<ImportReport>> {
    ctx.principal.require_manager()?;
    super::import::<Products, _>(&ctx, &ProductImport, options.0.options(), &body.0).await
}

/// Registers the product CSV routes.
pub fn configure(cfg: &mut Routes) {
    cfg.service(import_products);
}
