//! Paging a list query: the total count and one page of rows, with the same filter.

use super::sql::Filter;
use crate::db::Db;
use crate::error::Result;
pub(crate) use crate::model::{Page, PageRequest};
use sqlx::any::AnyRow;
use sqlx::Row;

/// The total of `count` and one page of `select`, each followed by the filter's `WHERE`, the page in
/// `order`.
pub(crate) async fn rows_page(
    db: &Db,
    count: &str,
    select: &str,
    f: &Filter,
    order: &str,
    page: PageRequest,
) -> Result<(i64, Vec<AnyRow>)> {
    let where_sql = f.where_sql();
    let total: i64 = f
        .bind(sqlx::query(&format!("{count}{where_sql}")))
        .fetch_one(db.pool())
        .await?
        .try_get("n")?;
    let n = f.next();
    let sql = format!("{select}{where_sql} ORDER BY {order} LIMIT ${n} OFFSET ${}", n + 1);
    let rows = f
        .bind(sqlx::query(&sql))
        .bind(page.per_page)
        .bind(page.offset())
        .fetch_all(db.pool())
        .await?;
    Ok((total, rows))
}

/// One page of `columns` from `table`, each row read by `map`.
pub(crate) async fn page_of<T>(
    db: &Db,
    table: &str,
    columns: &str,
    f: &Filter,
    order: &str,
    page: PageRequest,
    map: fn(&AnyRow) -> Result<T, sqlx::Error>,
) -> Result<Page<T>> {
    let (total, rows) = rows_page(
        db,
        &format!("SELECT COUNT(*) AS n FROM {table}"),
        &format!("SELECT {columns} FROM {table}"),
        f,
        order,
        page,
    )
    .await?;
    Ok(Page {
        items: rows.iter().map(map).collect::<Result<_, _>>()?,
        total,
        page: page.page,
        per_page: page.per_page,
    })
}
