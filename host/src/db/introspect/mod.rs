//! Reading a live database's schema into the same model the ops build, for
//! `migrate check --database` and `migrate new --autogenerate --database`. PostgreSQL and MySQL
//! are read from their catalogs into flat rows, assembled here; SQLite keeps each table's DDL,
//! which the model parser reads directly.

mod mysql;
mod postgres;
mod sqlite;

use std::collections::BTreeMap;

use anyhow::{anyhow, Context};
use migrate_core::model_sql::CatalogType;
use migrate_core::schema::{Schema, TableModel};
use migrate_core::sql::version_table::VersionTables;
use migrate_core::sql::DialectName;
use migrate_core::types::*;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use super::Database;

impl Database {
    /// The schema as the database has it now (migrate's own tables left out).
    pub async fn introspect(&mut self) -> anyhow::Result<Schema> {
        let schema = match self.dialect.name() {
            DialectName::Sqlite => sqlite::schema(&mut self.conn, &self.tables).await,
            DialectName::Postgresql => assemble(
                postgres::catalog(&mut self.conn).await?,
                postgres::portable_type,
                &self.tables,
            ),
            DialectName::Mysql => assemble(
                mysql::catalog(&mut self.conn).await?,
                mysql::portable_type,
                &self.tables,
            ),
        };
        schema.context("reading the database's schema")
    }

    /// The names the database gave its foreign keys and unique constraints, for finding one
    /// by its columns (`drop_constraint_on`, `catalog`). None on SQLite: it does not name
    /// them, and its table rebuilds do not need names.
    pub async fn constraint_names(
        &mut self,
    ) -> anyhow::Result<migrate_core::constraint_names::DatabaseNames> {
        if self.dialect.name() == DialectName::Sqlite {
            return Ok(Default::default());
        }
        let catalog = self.introspect().await?;
        Ok(migrate_core::constraint_names::DatabaseNames::from_catalog(
            &catalog,
        ))
    }
}

/// Catalog rows as text (every query casts to text: the `Any` driver decodes that everywhere).
async fn text_rows(
    conn: &mut AnyConnection,
    sql: &str,
) -> anyhow::Result<Vec<Vec<Option<String>>>> {
    let rows = sqlx::query(AssertSqlSafe(sql.to_string()))
        .fetch_all(conn)
        .await
        .with_context(|| format!("querying the catalog: {sql}"))?;
    rows.iter()
        .map(|row| {
            (0..row.len())
                .map(|i| {
                    row.try_get::<Option<String>, _>(i)
                        .map_err(|e| anyhow!("reading the catalog: {e}"))
                })
                .collect()
        })
        .collect()
}

/// Columns from a catalog query whose rows are (table, column, native type, nullable YES/NO,
/// default, autoincrement marker, generated STORED/VIRTUAL/empty, generation expression,
/// identity ALWAYS/empty, identity start, identity increment); `autoincrement` reads the marker.
async fn column_rows(
    conn: &mut AnyConnection,
    sql: &str,
    autoincrement: fn(&str) -> bool,
) -> anyhow::Result<Vec<CatalogColumn>> {
    Ok(text_rows(conn, sql)
        .await?
        .into_iter()
        .map(|row| {
            let text = |i: usize| row[i].clone().unwrap_or_default();
            let number = |i: usize| text(i).parse::<i64>().ok();
            let generated = match text(6).as_str() {
                "STORED" | "VIRTUAL" => Some(Generated {
                    expression: text(7),
                    stored: text(6) == "STORED",
                }),
                _ => None,
            };
            let autoincrement = autoincrement(&text(5));
            CatalogColumn {
                table: text(0),
                name: text(1),
                native_type: text(2),
                nullable: text(3) == "YES",
                // A generated column's expression is not a default (PostgreSQL keeps it there).
                default: row[4].clone().filter(|_| generated.is_none()),
                autoincrement,
                generated,
                identity: Identity::stated(text(8) == "ALWAYS", number(9), number(10))
                    .filter(|_| autoincrement),
            }
        })
        .collect())
}

/// Separates the names in an aggregated column list (a character no sane name holds).
const LIST_SEPARATOR: char = '\u{1f}';

fn split_list(text: &str) -> Vec<String> {
    text.split(LIST_SEPARATOR)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

pub(crate) struct CatalogColumn {
    table: String,
    name: String,
    native_type: String,
    nullable: bool,
    default: Option<String>,
    autoincrement: bool,
    generated: Option<Generated>,
    identity: Option<Identity>,
}

pub(crate) enum CatalogKind {
    PrimaryKey,
    Unique,
    ForeignKey {
        referred_table: String,
        referred_columns: Vec<String>,
        on_delete: Option<ReferentialAction>,
        on_update: Option<ReferentialAction>,
    },
    Check(String),
}

pub(crate) struct CatalogConstraint {
    table: String,
    /// None where the database named it itself (an unnamed check in the DDL).
    name: Option<String>,
    columns: Vec<String>,
    kind: CatalogKind,
}

pub(crate) struct CatalogIndex {
    table: String,
    name: String,
    unique: bool,
    columns: Vec<String>,
    /// Per part of `columns` (or empty: all plain and ascending).
    keys: Vec<migrate_core::types::IndexKey>,
    predicate: Option<String>,
    include: Vec<String>,
}

#[derive(Default)]
pub(crate) struct Catalog {
    columns: Vec<CatalogColumn>,
    constraints: Vec<CatalogConstraint>,
    indexes: Vec<CatalogIndex>,
}

/// Flat catalog rows -> the schema model; types through the database's own type mapping.
fn assemble(
    catalog: Catalog,
    portable_type: fn(&str) -> Result<CatalogType, String>,
    own: &VersionTables,
) -> anyhow::Result<Schema> {
    let mut tables: BTreeMap<String, TableModel> = BTreeMap::new();
    for c in catalog
        .columns
        .into_iter()
        .filter(|c| !own.all().contains(&c.table.as_str()))
    {
        let CatalogType {
            mut data_type,
            serial,
            native_types,
        } = portable_type(&c.native_type)
            .map_err(|e| anyhow!("column {:?}.{:?}: {e}", c.table, c.name))?;
        if let DataType::Enum { name, .. } = &mut data_type {
            if name.is_empty() {
                // A database that keeps no enum names (MySQL): one enum per column.
                *name = format!("{}_{}", c.table, c.name);
            }
        }
        let model = tables.entry(c.table.clone()).or_insert_with(|| TableModel {
            table: Table {
                name: c.table.clone(),
                columns: vec![],
                constraints: vec![],
                comment: None,
            },
            indexes: vec![],
        });
        let autoincrement = c.autoincrement || serial;
        model.table.columns.push(Column {
            nullable: c.nullable,
            autoincrement,
            // A sequence default is how autoincrement looks in the catalog, not a default.
            server_default: c
                .default
                .filter(|_| !autoincrement)
                .map(ServerDefault::Expression),
            native_types,
            generated: c.generated,
            identity: c.identity,
            ..Column::new(c.name, data_type)
        });
    }
    for c in catalog.constraints {
        let Some(model) = tables.get_mut(&c.table) else {
            continue;
        };
        let constraint = match c.kind {
            CatalogKind::PrimaryKey => TableConstraint::PrimaryKey(PrimaryKey {
                name: c.name,
                columns: c.columns,
            }),
            CatalogKind::Unique => TableConstraint::Unique(UniqueConstraint {
                name: c.name,
                columns: c.columns,
            }),
            CatalogKind::ForeignKey {
                referred_table,
                referred_columns,
                on_delete,
                on_update,
            } => TableConstraint::ForeignKey(ForeignKey {
                name: c.name,
                columns: c.columns,
                referred_table,
                referred_columns,
                on_delete,
                on_update,
            }),
            CatalogKind::Check(expression) => TableConstraint::Check(CheckConstraint {
                name: c.name,
                expression,
            }),
        };
        model.table.constraints.push(constraint);
    }
    for i in catalog.indexes {
        let Some(model) = tables.get_mut(&i.table) else {
            continue;
        };
        model.indexes.push(
            Index {
                name: i.name,
                table: i.table,
                columns: i.columns,
                unique: i.unique,
                keys: i.keys,
                predicate: i.predicate,
                include: i.include,
            }
            .normalized(),
        );
    }
    Ok(Schema::with_tables(tables))
}

/// `CASCADE`, `SET NULL`, ... as catalogs spell them; NO ACTION (the default) is no action.
fn referential_action(text: &str) -> Option<ReferentialAction> {
    match text.to_ascii_uppercase().as_str() {
        "CASCADE" | "C" => Some(ReferentialAction::Cascade),
        "SET NULL" | "N" => Some(ReferentialAction::SetNull),
        "SET DEFAULT" | "D" => Some(ReferentialAction::SetDefault),
        "RESTRICT" | "R" => Some(ReferentialAction::Restrict),
        _ => None,
    }
}
