//! SQLite. DDL is transactional. ALTER TABLE can add, rename and drop plain columns and rename
//! tables; every other change (types, nullability, defaults, constraints) is made by rebuilding
//! the table from the host's schema model: create the new shape, copy the rows, swap.

use super::common;
use super::{Capabilities, Dialect, DialectName, Expect, ForeignKeysOff, Rendered, Statement};
use crate::ops::Op;
use crate::schema::{DatabaseObject, ObjectKind, Schema, TableModel};
use crate::types::*;

pub struct Sqlite;

/// The temporary name a table has while it is rebuilt.
const REBUILD_PREFIX: &str = "_migrate_rebuild_";

impl Dialect for Sqlite {
    fn name(&self) -> DialectName {
        DialectName::Sqlite
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            transactional_ddl: true,
            comments: false,
            enum_names: true,
        }
    }

    fn quote_ident(&self, name: &str) -> String {
        super::double_quoted(name)
    }

    fn literal(&self, value: &Value) -> Result<String, String> {
        Ok(match value {
            Value::Null => "NULL".into(),
            Value::Boolean(b) => if *b { "1" } else { "0" }.into(),
            Value::Integer(i) => i.to_string(),
            Value::Float(f) => common::float_literal(*f)?,
            Value::Text(t) => super::single_quoted(t),
            Value::Blob(b) => format!("X'{}'", common::hex(b)),
        })
    }

    fn data_type(&self, t: &DataType) -> String {
        match t {
            DataType::Integer => "INTEGER".into(),
            DataType::Bigint => "BIGINT".into(),
            DataType::Smallint => "SMALLINT".into(),
            DataType::Boolean => "BOOLEAN".into(),
            DataType::Text => "TEXT".into(),
            DataType::Varchar(n) => format!("VARCHAR({n})"),
            DataType::Float => "REAL".into(),
            DataType::Double => "DOUBLE".into(),
            DataType::Numeric { precision, scale } => format!("NUMERIC({precision}, {scale})"),
            DataType::Date => "DATE".into(),
            DataType::Time => "TIME".into(),
            DataType::Timestamp => "TIMESTAMP".into(),
            DataType::Timestamptz => "TIMESTAMPTZ".into(),
            DataType::Blob => "BLOB".into(),
            DataType::Json => "JSON".into(),
            DataType::Uuid => "UUID".into(),
            DataType::Enum { .. } => "TEXT".into(),
        }
    }

    /// SQLite's AUTOINCREMENT never reuses an id; it cannot refuse a given one (ALWAYS) or step
    /// by more than one. A start is set through `sqlite_sequence` after the table is made.
    fn autoincrement_clause(&self, column: &Column) -> Result<String, String> {
        if let Some(identity) = &column.identity {
            common::identity_without(identity, &column.name, "SQLite", true)?;
        }
        Ok(" AUTOINCREMENT".into())
    }

    /// SQLite has no enum type: a CHECK on the column, named after the enum (so the schema read
    /// back names it, and a refused value says which enum refused it).
    fn enum_column_suffix(&self, column: &str, name: &str, values: &[String]) -> String {
        format!(
            " CONSTRAINT {} CHECK ({} IN ({}))",
            self.quote_ident(name),
            self.quote_ident(column),
            common::enum_values(self, values)
        )
    }

    fn text_cast_type(&self) -> &'static str {
        "TEXT"
    }

    fn server_version_query(&self) -> &'static str {
        "SELECT sqlite_version()"
    }

    fn rebuilds_table<'a>(&self, op: &'a Op, schema: &Schema) -> Option<&'a str> {
        let table = op.altered_table()?;
        let rebuild = match op {
            Op::AddColumn { column, .. } => !add_column_is_native(column),
            Op::DropColumn { table, column } => schema
                .table(table)
                .is_some_and(|t| column_is_used(t, column)),
            Op::AlterColumn(c) => {
                common::changes_type_here(self, c, schema)
                    || c.nullable.is_some()
                    || c.server_default.is_some()
            }
            Op::AddConstraint { .. } | Op::DropConstraint { .. } | Op::DropConstraintOn { .. } => {
                true
            }
            _ => false,
        };
        rebuild.then_some(table)
    }

    fn database_objects_query(&self) -> Option<&'static str> {
        Some(
            "SELECT type, name, tbl_name, sql FROM sqlite_master \
             WHERE type IN ('trigger', 'view', 'index') AND sql IS NOT NULL AND name NOT LIKE 'sqlite_%'",
        )
    }

    fn render_rebuild(&self, table: &str, ops: &[Op], schema: &Schema) -> Result<Rendered, String> {
        self.rebuild(table, ops, schema)
    }

    fn render(&self, op: &Op, schema: &Schema) -> Result<Rendered, String> {
        if let Some(table) = self.rebuilds_table(op, schema) {
            return self.rebuild(table, std::slice::from_ref(op), schema);
        }
        if let Op::AlterEnum { name, .. } = op {
            // The values are in each column's CHECK: every table using the enum is rebuilt.
            let mut tables: Vec<&str> = crate::enums::columns_using(schema, name)
                .into_iter()
                .map(|(table, _)| table)
                .collect();
            tables.dedup();
            let mut statements = vec![];
            for table in tables {
                statements.extend(
                    self.rebuild(table, std::slice::from_ref(op), schema)?
                        .statements,
                );
            }
            return Ok(Rendered {
                statements,
                needs_foreign_keys_off: true,
            });
        }
        let q = |n: &str| self.quote_ident(n);
        let plain = |sql: String| Ok(Rendered::plain(vec![Statement::plain(sql)]));
        match op {
            Op::CreateTable(t) => {
                let mut statements =
                    vec![Statement::plain(common::create_table(self, &rowid_safe(t))?)];
                statements.extend(identity_start(t).map(Statement::plain));
                Ok(Rendered::plain(statements))
            }
            Op::DropTable { name } => plain(format!("DROP TABLE {}", q(name))),
            Op::RenameTable { old_name, new_name } => plain(format!(
                "ALTER TABLE {} RENAME TO {}",
                q(old_name),
                q(new_name)
            )),
            Op::AddColumn { column, .. }
                if column.identity.as_ref().is_some_and(|i| i.start.is_some()) =>
            {
                Err(format!(
                    "column {:?}: SQLite sets an identity's start only with its table (create_table)",
                    column.name
                ))
            }
            Op::AddColumn { table, column } => plain(format!(
                "ALTER TABLE {} ADD COLUMN {}",
                q(table),
                common::column_definition(self, column)?
            )),
            Op::DropColumn { table, column } => plain(format!(
                "ALTER TABLE {} DROP COLUMN {}",
                q(table),
                q(column)
            )),
            Op::AlterColumn(change) => {
                // A comment alone changes nothing: SQLite does not store comments.
                let statements = match &change.new_name {
                    Some(new_name) => vec![Statement::plain(format!(
                        "ALTER TABLE {} RENAME COLUMN {} TO {}",
                        q(&change.table),
                        q(&change.column),
                        q(new_name)
                    ))],
                    None => vec![],
                };
                Ok(Rendered::plain(statements))
            }
            Op::CreateIndex(i) if !i.include.is_empty() => Err(format!(
                "index {:?} has INCLUDE columns: SQLite has none (add them to the key instead)",
                i.name
            )),
            Op::CreateIndex(i) => plain(common::create_index(self, i)),
            Op::DropIndex { name, .. } => plain(format!("DROP INDEX {}", q(name))),
            Op::AddConstraint { .. }
            | Op::DropConstraint { .. }
            | Op::DropConstraintOn { .. }
            | Op::AlterEnum { .. } => {
                unreachable!("SQLite makes every constraint change by a rebuild")
            }
            Op::Execute { sql } => {
                refuse_other_files(sql)?;
                plain(sql.clone())
            }
            Op::UpdateRows {
                table,
                key,
                columns,
                rows,
            } => Ok(Rendered::plain(
                common::update_rows(self, table, key, columns, rows)?
                    .into_iter()
                    .map(Statement::plain)
                    .collect(),
            )),
            Op::BulkInsert {
                table,
                columns,
                rows,
            } => Ok(Rendered::plain(
                common::insert_rows(self, table, columns, rows)?
                    .into_iter()
                    .map(Statement::plain)
                    .collect(),
            )),
        }
    }

    fn read_only_guard(&self) -> (Vec<String>, Vec<String>) {
        (
            vec!["PRAGMA query_only = ON".into()],
            vec!["PRAGMA query_only = OFF".into()],
        )
    }

    /// `PRAGMA foreign_keys` is a no-op inside a transaction, so it is switched around it; the
    /// check before COMMIT makes a rebuild that broke a reference fail and roll back.
    fn foreign_keys_off(&self) -> ForeignKeysOff {
        ForeignKeysOff {
            before: vec![Statement::plain("PRAGMA foreign_keys = OFF")],
            check: vec![Statement {
                sql: "PRAGMA foreign_key_check".into(),
                expect: Expect::NoRows("rows violate a foreign key after the table rebuild".into()),
            }],
            after: vec![Statement::plain("PRAGMA foreign_keys = ON")],
        }
    }
}

impl Sqlite {
    /// The 12-step rebuild from SQLite's documentation for a run of ops on one table: the new
    /// shape comes from the schema model after the ops, the rows from the old table (columns
    /// followed through renames, cast where the type changed). Indexes are recreated, and so are
    /// the database's own triggers, views and indexes on the table (`Schema::database_objects`).
    fn rebuild(&self, table: &str, ops: &[Op], schema: &Schema) -> Result<Rendered, String> {
        let q = |n: &str| self.quote_ident(n);
        let before = schema.table(table).ok_or_else(|| {
            format!(
                "SQLite cannot make this change with ALTER TABLE, and rebuilding {table:?} needs its definition, \
                 which earlier revisions do not give (was it made by `execute`?)"
            )
        })?;
        // Follow each column from its name before the run to its name after it.
        let mut origin: Vec<(String, Option<String>)> = before
            .table
            .columns
            .iter()
            .map(|c| (c.name.clone(), Some(c.name.clone())))
            .collect();
        let mut after_schema = schema.clone();
        for op in ops {
            after_schema
                .apply(op)
                .map_err(|e| format!("{}: {}", e.op, e.problem))?;
            match op {
                Op::AddColumn { column, .. } => origin.push((column.name.clone(), None)),
                Op::DropColumn { column, .. } => origin.retain(|(now, _)| now != column),
                Op::AlterColumn(ColumnChange {
                    column,
                    new_name: Some(new_name),
                    ..
                }) => {
                    for (now, _) in origin.iter_mut().filter(|(now, _)| now == column) {
                        *now = new_name.clone();
                    }
                }
                _ => {}
            }
        }
        // Renames wait until after the swap and are made natively: SQLite's RENAME COLUMN also
        // rewrites the triggers, views and indexes that use the column, which a recreated
        // object's old SQL would not know about. So the new table is built under the old names.
        let renames: Vec<(String, String)> = origin
            .iter()
            .filter_map(|(now, from)| {
                from.as_ref()
                    .filter(|f| *f != now)
                    .map(|f| (f.clone(), now.clone()))
            })
            .collect();
        let mut shape_schema = after_schema.clone();
        for (from, to) in &renames {
            if shape_schema
                .table(table)
                .is_some_and(|t| t.table.columns.iter().any(|c| &c.name == from))
            {
                return Err(format!(
                    "column {from:?} is renamed to {to:?} while another column takes the name {from:?}; \
                     SQLite needs such swaps in separate revisions"
                ));
            }
            let back = Op::AlterColumn(ColumnChange::rename(table, to, from));
            shape_schema.apply(&back).map_err(|e| e.problem)?;
        }
        let after = shape_schema
            .table(table)
            .expect("a rebuilt table still exists");

        let temp = format!("{REBUILD_PREFIX}{table}");
        let mut new_shape = rowid_safe(&after.table);
        new_shape.name = temp.clone();
        let (mut targets, mut sources) = (Vec::new(), Vec::new());
        // By name, once: a lookup per column made a rebuild quadratic in the table's width.
        let before_columns: std::collections::HashMap<&str, &Column> = before
            .table
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c))
            .collect();
        let carried_over: std::collections::HashSet<&str> = origin
            .iter()
            .filter_map(|(_, from)| from.as_deref())
            .collect();
        for col in &after.table.columns {
            let Some(source) = before_columns.get(col.name.as_str()) else {
                continue; // a new column: it takes its default
            };
            if col.generated.is_some() {
                continue; // computed by the new table itself
            }
            if !carried_over.contains(col.name.as_str()) {
                continue; // dropped and added back under the same name in this run: new
            }
            targets.push(q(&col.name));
            sources.push(if source.data_type == col.data_type {
                q(&col.name)
            } else {
                format!(
                    "CAST({} AS {})",
                    q(&col.name),
                    self.data_type(&col.data_type)
                )
            });
        }

        // Views, and other tables' triggers, that read this table must go while it is swapped:
        // SQLite checks them when the new table is renamed into place.
        let readers: Vec<&DatabaseObject> = schema
            .database_objects
            .iter()
            .filter(|o| {
                o.table != table
                    && matches!(o.kind, ObjectKind::View | ObjectKind::Trigger)
                    && o.mentions(table)
            })
            .collect();
        let own: Vec<&DatabaseObject> = schema
            .database_objects
            .iter()
            .filter(|o| o.table == table && o.kind != ObjectKind::View)
            .collect();

        let mut statements: Vec<Statement> = readers
            .iter()
            .map(|o| {
                let kind = if o.kind == ObjectKind::View {
                    "VIEW"
                } else {
                    "TRIGGER"
                };
                Statement::plain(format!("DROP {kind} {}", q(&o.name)))
            })
            .collect();
        statements.extend([
            Statement::plain(common::create_table(self, &new_shape)?),
            Statement::plain(format!(
                "INSERT INTO {} ({}) SELECT {} FROM {}",
                q(&temp),
                targets.join(", "),
                sources.join(", "),
                q(table)
            )),
        ]);
        if new_shape.columns.iter().any(|c| c.autoincrement) {
            // AUTOINCREMENT's memory (`sqlite_sequence`) goes with the old table: carried over,
            // so an id of a deleted row is not handed out again (the rename takes it along).
            statements.extend([
                Statement::plain(format!(
                    "DELETE FROM sqlite_sequence WHERE name = {}",
                    super::single_quoted(&temp)
                )),
                Statement::plain(format!(
                    "INSERT INTO sqlite_sequence (name, seq) SELECT {}, seq FROM sqlite_sequence WHERE name = {}",
                    super::single_quoted(&temp),
                    super::single_quoted(table)
                )),
            ]);
        }
        statements.extend([
            Statement::plain(format!("DROP TABLE {}", q(table))),
            Statement::plain(format!("ALTER TABLE {} RENAME TO {}", q(&temp), q(table))),
        ]);
        statements.extend(
            after
                .indexes
                .iter()
                .map(|i| Statement::plain(common::create_index(self, i))),
        );
        statements.extend(
            own.iter()
                .chain(&readers)
                .map(|o| Statement::plain(o.sql.clone())),
        );
        statements.extend(renames.iter().map(|(from, to)| {
            Statement::plain(format!(
                "ALTER TABLE {} RENAME COLUMN {} TO {}",
                q(table),
                q(from),
                q(to)
            ))
        }));
        Ok(Rendered {
            statements,
            needs_foreign_keys_off: true,
        })
    }
}

/// What SQLite's ADD COLUMN can make: no key, NOT NULL only with a default, and no STORED
/// generated column (a VIRTUAL one it can add).
fn add_column_is_native(column: &Column) -> bool {
    !column.primary_key
        && !column.unique
        && (column.nullable || column.server_default.is_some())
        && !column.generated.as_ref().is_some_and(|g| g.stored)
}

/// SQLite's AUTOINCREMENT works only on a column typed exactly INTEGER (the rowid alias).
fn rowid_safe(t: &Table) -> Table {
    let mut t = t.clone();
    for c in &mut t.columns {
        if c.autoincrement {
            c.data_type = DataType::Integer;
            c.native_types.retain(|n| n.dialect != TypeDialect::Sqlite);
        }
    }
    t
}

/// An identity's start, set where SQLite keeps AUTOINCREMENT's last value: the next id is one
/// more than it.
fn identity_start(t: &Table) -> Option<String> {
    let start = t
        .columns
        .iter()
        .find_map(|c| c.identity.as_ref().and_then(|i| i.start))?;
    Some(format!(
        "INSERT INTO sqlite_sequence (name, seq) VALUES ({}, {})",
        super::single_quoted(&t.name),
        start.saturating_sub(1)
    ))
}

/// Whether SQLite's native DROP COLUMN would refuse: the column is in a key, constraint or index.
fn column_is_used(t: &TableModel, column: &str) -> bool {
    let col = t.table.columns.iter().find(|c| c.name == column);
    col.is_some_and(|c| c.primary_key || c.unique)
        || t.table.constraints.iter().any(|c| match c {
            // SQLite refuses to DROP COLUMN a CHECK uses: the rebuild leaves the check out.
            TableConstraint::Check(check) => {
                crate::expression::mentions_column(&check.expression, column)
            }
            other => other.columns().iter().any(|n| n == column),
        })
        || t.indexes
            .iter()
            .any(|i| i.columns.iter().any(|n| n == column))
}

/// SQLite runs inside the migrate process: `ATTACH` (and `VACUUM INTO`) in a revision's raw SQL
/// would read and write any other file the process can. Refused here for every SQLite run and
/// for `--sql`; the host's own connection also allows no attached database at all.
fn refuse_other_files(sql: &str) -> Result<(), String> {
    let Some(keywords) = crate::raw_sql::leading_keywords(sql) else {
        return Ok(()); // The database will refuse what does not even tokenize.
    };
    let lower = sql.to_ascii_lowercase();
    for keyword in keywords {
        if keyword == "ATTACH"
            || keyword == "DETACH"
            || (keyword == "VACUUM" && lower.contains("into"))
        {
            return Err(format!(
                "raw SQL may not {keyword} on SQLite: it would reach files other than the database \
                 (the engine runs inside migrate)"
            ));
        }
    }
    Ok(())
}
