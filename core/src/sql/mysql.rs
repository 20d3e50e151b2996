//! MySQL and MariaDB. DDL commits implicitly (no transactional DDL), so the runner marks a
//! revision in progress around it. Changing a column needs its whole definition
//! (`MODIFY COLUMN`), which comes from the host's schema model; comments are inline.
//!
//! Assumes the default `sql_mode` without NO_BACKSLASH_ESCAPES: backslashes in string literals
//! are escaped.

use super::common;
use super::{Capabilities, Dialect, DialectName, Rendered, Statement};
use crate::ops::Op;
use crate::schema::{Schema, TableModel};
use crate::types::*;

pub struct Mysql;

impl Dialect for Mysql {
    fn name(&self) -> DialectName {
        DialectName::Mysql
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            transactional_ddl: false,
            comments: true,
            enum_names: false,
        }
    }

    fn quote_ident(&self, name: &str) -> String {
        format!("`{}`", name.replace('`', "``"))
    }

    fn literal(&self, value: &Value) -> Result<String, String> {
        Ok(match value {
            Value::Null => "NULL".into(),
            Value::Boolean(b) => if *b { "TRUE" } else { "FALSE" }.into(),
            Value::Integer(i) => i.to_string(),
            Value::Float(f) => common::float_literal(*f)?,
            Value::Text(t) => string_literal(t),
            Value::Blob(b) if b.is_empty() => "''".into(),
            Value::Blob(b) => format!("X'{}'", common::hex(b)),
        })
    }

    fn data_type(&self, t: &DataType) -> String {
        match t {
            DataType::Integer => "INT".into(),
            DataType::Bigint => "BIGINT".into(),
            DataType::Smallint => "SMALLINT".into(),
            DataType::Boolean => "BOOLEAN".into(),
            DataType::Text => "TEXT".into(),
            DataType::Varchar(n) => format!("VARCHAR({n})"),
            DataType::Float => "FLOAT".into(),
            DataType::Double => "DOUBLE".into(),
            DataType::Numeric { precision, scale } => format!("DECIMAL({precision}, {scale})"),
            DataType::Date => "DATE".into(),
            DataType::Time => "TIME(6)".into(),
            // DATETIME, not TIMESTAMP: MySQL's TIMESTAMP converts through the session time zone,
            // ends in 2038 and may grow ON UPDATE defaults. Neither stores a zone; by convention
            // timestamptz values are UTC (sqlx sets the session time zone to UTC).
            DataType::Timestamp | DataType::Timestamptz => "DATETIME(6)".into(),
            DataType::Blob => "LONGBLOB".into(),
            DataType::Json => "JSON".into(),
            DataType::Uuid => "CHAR(36)".into(),
            DataType::Enum { values, .. } => format!("ENUM({})", common::enum_values(self, values)),
        }
    }

    fn text_cast_type(&self) -> &'static str {
        "CHAR"
    }

    fn server_version_query(&self) -> &'static str {
        "SELECT CAST(VERSION() AS CHAR)"
    }

    /// MySQL 8 accepts a literal default on TEXT, BLOB or JSON only as an expression.
    fn default_sql(&self, data_type: &DataType, default: &ServerDefault) -> Result<String, String> {
        let rendered = common::server_default(self, default)?;
        let needs_parens = matches!(data_type, DataType::Text | DataType::Blob | DataType::Json)
            && matches!(default, ServerDefault::Literal(_));
        Ok(if needs_parens {
            format!("({rendered})")
        } else {
            rendered
        })
    }

    /// AUTO_INCREMENT accepts a given value (no ALWAYS) and steps by the server's
    /// `auto_increment_increment`; a start is the table's `AUTO_INCREMENT = n`.
    fn autoincrement_clause(&self, column: &Column) -> Result<String, String> {
        if let Some(identity) = &column.identity {
            common::identity_without(identity, &column.name, "MySQL", true)?;
        }
        Ok(" AUTO_INCREMENT".into())
    }

    fn keeps_prefix_lengths(&self) -> bool {
        true
    }

    fn render(&self, op: &Op, schema: &Schema) -> Result<Rendered, String> {
        let q = |n: &str| self.quote_ident(n);
        let statements: Vec<String> = match op {
            Op::CreateTable(t) => {
                // MySQL's primary key is always named PRIMARY: the key moves onto the column.
                let (t, _) = common::autoincrement_key_on_column(t);
                let t = &*t;
                refuse_unindexable_in_table(t)?;
                let mut parts: Vec<String> = t
                    .columns
                    .iter()
                    .map(|c| self.column_definition(c, true))
                    .collect::<Result<_, _>>()?;
                parts.extend(
                    t.constraints
                        .iter()
                        .map(|c| common::constraint_clause(self, c)),
                );
                let mut sql = format!(
                    "CREATE TABLE {} (\n    {}\n)",
                    q(&t.name),
                    parts.join(",\n    ")
                );
                if let Some(start) = t
                    .columns
                    .iter()
                    .find_map(|c| c.identity.as_ref().and_then(|i| i.start))
                {
                    sql.push_str(&format!(" AUTO_INCREMENT = {start}"));
                }
                if let Some(comment) = &t.comment {
                    sql.push_str(&format!(" COMMENT = {}", string_literal(comment)));
                }
                vec![sql]
            }
            Op::DropTable { name } => vec![format!("DROP TABLE {}", q(name))],
            Op::RenameTable { old_name, new_name } => {
                vec![format!("RENAME TABLE {} TO {}", q(old_name), q(new_name))]
            }
            Op::AddColumn { column, .. }
                if column.identity.as_ref().is_some_and(|i| i.start.is_some()) =>
            {
                return Err(format!(
                    "column {:?}: MySQL sets an autoincrement's start only with its table (create_table)",
                    column.name
                ))
            }
            Op::AddColumn { table, column } => {
                if column.primary_key || column.unique {
                    let model = TableModel {
                        table: Table {
                            name: table.clone(),
                            columns: vec![column.clone()],
                            constraints: vec![],
                            comment: None,
                        },
                        indexes: vec![],
                    };
                    let what = if column.primary_key {
                        "primary key"
                    } else {
                        "unique column"
                    };
                    refuse_unkeyable(&model, std::slice::from_ref(&column.name), what)?;
                }
                vec![format!(
                    "ALTER TABLE {} ADD COLUMN {}",
                    q(table),
                    self.column_definition(column, true)?
                )]
            }
            Op::DropColumn { table, column } => vec![format!(
                "ALTER TABLE {} DROP COLUMN {}",
                q(table),
                q(column)
            )],
            Op::AlterColumn(change) => self.alter_column(op, change, schema)?,
            Op::CreateIndex(i) => {
                refuse_index_options(i)?;
                if let Some(t) = schema.table(&i.table) {
                    let kind = if i.unique { "unique index" } else { "index" };
                    refuse_unkeyable_index(t, i, &format!("{kind} {:?}", i.name))?;
                }
                vec![common::create_index(self, i)]
            }
            Op::DropIndex { table, name } => {
                vec![format!("DROP INDEX {} ON {}", q(name), q(table))]
            }
            Op::AddConstraint { table, constraint } => {
                if let Some(t) = schema.table(table) {
                    if !matches!(constraint, TableConstraint::Check(_)) {
                        refuse_unkeyable(t, constraint.columns(), constraint.kind().describe())?;
                    }
                }
                let clause = match constraint {
                    // MySQL ignores primary key names: it is always PRIMARY.
                    TableConstraint::PrimaryKey(pk) => common::constraint_clause(
                        self,
                        &TableConstraint::PrimaryKey(PrimaryKey {
                            name: None,
                            columns: pk.columns.clone(),
                        }),
                    ),
                    other => common::constraint_clause(self, other),
                };
                vec![format!("ALTER TABLE {} ADD {clause}", q(table))]
            }
            Op::DropConstraintOn { .. } => {
                return self.render(&common::named_drop(self, op, schema)?, schema)
            }
            Op::DropConstraint { table, name, kind } => vec![match kind {
                ConstraintKind::PrimaryKey => format!("ALTER TABLE {} DROP PRIMARY KEY", q(table)),
                ConstraintKind::Unique => {
                    format!("ALTER TABLE {} DROP INDEX {}", q(table), q(name))
                }
                ConstraintKind::ForeignKey => {
                    format!("ALTER TABLE {} DROP FOREIGN KEY {}", q(table), q(name))
                }
                ConstraintKind::Check => {
                    format!("ALTER TABLE {} DROP CONSTRAINT {}", q(table), q(name))
                }
            }],
            Op::Execute { sql } => vec![sql.clone()],
            Op::BulkInsert {
                table,
                columns,
                rows,
            } => common::insert_rows(self, table, columns, rows)?,
            Op::UpdateRows {
                table,
                key,
                columns,
                rows,
            } => common::update_rows(self, table, key, columns, rows)?,
            Op::AlterEnum { name, .. } => self.alter_enum(op, name, schema)?,
        };
        Ok(Rendered::plain(
            statements.into_iter().map(Statement::plain).collect(),
        ))
    }
}

impl Mysql {
    /// An enum is a column type here: every column of it is restated with the new values
    /// (MySQL converts each row's value by its text, and refuses one no longer listed).
    fn alter_enum(&self, op: &Op, name: &str, schema: &Schema) -> Result<Vec<String>, String> {
        let mut after = schema.clone();
        after.apply(op).map_err(|e| e.problem)?;
        crate::enums::columns_using(&after, name)
            .into_iter()
            .map(|(table, column)| {
                Ok(format!(
                    "ALTER TABLE {} MODIFY COLUMN {}",
                    self.quote_ident(table),
                    self.column_definition(column, false)?
                ))
            })
            .collect()
    }

    /// A column definition with its comment inline; `with_keys` false leaves out PRIMARY KEY and
    /// UNIQUE, which `MODIFY COLUMN` must not repeat.
    fn column_definition(&self, c: &Column, with_keys: bool) -> Result<String, String> {
        let mut column = c.clone();
        if !with_keys {
            column.primary_key = false;
            column.unique = false;
        }
        let mut sql = common::column_definition(self, &column)?;
        if !with_keys && c.autoincrement {
            sql.push_str(&self.autoincrement_clause(c)?);
        }
        if let Some(comment) = &c.comment {
            sql.push_str(&format!(" COMMENT {}", string_literal(comment)));
        }
        Ok(sql)
    }

    fn alter_column(
        &self,
        op: &Op,
        c: &ColumnChange,
        schema: &Schema,
    ) -> Result<Vec<String>, String> {
        let q = |n: &str| self.quote_ident(n);
        let table = q(&c.table);
        let only_default = c.new_type.is_none()
            && c.nullable.is_none()
            && c.new_name.is_none()
            && c.comment.is_none();
        if only_default {
            return Ok(vec![match &c.server_default {
                Some(DefaultChange::Set(d)) => {
                    let data_type = schema
                        .table(&c.table)
                        .and_then(|t| t.table.columns.iter().find(|col| col.name == c.column))
                        .map(|col| col.data_type.clone())
                        .unwrap_or(DataType::Varchar(1));
                    format!(
                        "ALTER TABLE {table} ALTER COLUMN {} SET DEFAULT {}",
                        q(&c.column),
                        self.default_sql(&data_type, &with_precision(&data_type, d))?
                    )
                }
                _ => format!(
                    "ALTER TABLE {table} ALTER COLUMN {} DROP DEFAULT",
                    q(&c.column)
                ),
            }]);
        }
        let only_rename = c.new_type.is_none()
            && c.nullable.is_none()
            && c.server_default.is_none()
            && c.comment.is_none();
        if let (true, Some(new_name)) = (only_rename, &c.new_name) {
            return Ok(vec![format!(
                "ALTER TABLE {table} RENAME COLUMN {} TO {}",
                q(&c.column),
                q(new_name)
            )]);
        }
        let mut after = schema.clone();
        after.apply(op).map_err(|_| {
            format!(
                "MySQL changes a column by restating its whole definition, and earlier revisions do not define \
                 {:?}.{:?} (was it made by `execute`?)",
                c.table, c.column
            )
        })?;
        let final_name = c.new_name.as_deref().unwrap_or(&c.column);
        let column = after
            .table(&c.table)
            .and_then(|t| t.table.columns.iter().find(|col| col.name == final_name))
            .expect("the altered column exists after the change");
        if c.new_type.is_some() {
            let t = after.table(&c.table).expect("the altered table exists");
            refuse_unkeyable_keys_of(t, final_name)?;
        }
        let definition = self.column_definition(column, false)?;
        Ok(vec![match &c.new_name {
            Some(_) => format!(
                "ALTER TABLE {table} CHANGE COLUMN {} {definition}",
                q(&c.column)
            ),
            None => format!("ALTER TABLE {table} MODIFY COLUMN {definition}"),
        }])
    }
}

/// `CURRENT_TIMESTAMP` as the default of a DATETIME(6) column, with its precision said: in
/// CREATE TABLE and MODIFY MariaDB takes the column's, but `ALTER COLUMN … SET DEFAULT`
/// stores `current_timestamp()`, which drops the microseconds.
fn with_precision(data_type: &DataType, default: &ServerDefault) -> ServerDefault {
    let now = matches!(default, ServerDefault::Expression(e)
        if matches!(e.trim().to_ascii_uppercase().as_str(),
            "CURRENT_TIMESTAMP" | "CURRENT_TIMESTAMP()" | "NOW()" | "LOCALTIMESTAMP"));
    match data_type {
        DataType::Timestamp | DataType::Timestamptz if now => {
            ServerDefault::Expression("CURRENT_TIMESTAMP(6)".into())
        }
        _ => default.clone(),
    }
}

/// What MySQL and MariaDB indexes cannot be: partial, with INCLUDE columns, or on expressions
/// (MariaDB has no functional key parts; index a generated column instead).
fn refuse_index_options(i: &Index) -> Result<(), String> {
    let what = format!("index {:?}", i.name);
    if i.predicate.is_some() {
        return Err(format!(
            "{what} is partial (WHERE …): MySQL and MariaDB have no partial indexes"
        ));
    }
    if !i.include.is_empty() {
        return Err(format!(
            "{what} has INCLUDE columns: MySQL and MariaDB have none (add them to the key instead)"
        ));
    }
    if let Some(expression) = (0..i.columns.len()).find(|n| i.key(*n).expression) {
        return Err(format!(
            "{what} indexes the expression {:?}: MariaDB cannot (index a generated column holding it)",
            i.columns[expression]
        ));
    }
    Ok(())
}

/// Backslash-escaped, as MySQL reads string literals by default.
fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for ch in text.chars() {
        match ch {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            other => out.push(other),
        }
    }
    out.push('\'');
    out
}

fn unindexable(t: &DataType) -> bool {
    matches!(t, DataType::Text | DataType::Blob | DataType::Json)
}

fn unindexable_message(column: &str) -> String {
    format!(
        "MySQL cannot index the TEXT/BLOB/JSON column {column:?} (in a key, unique constraint or index) without a \
         prefix length; use varchar(n) for it"
    )
}

/// InnoDB's limit on what one key's columns may weigh (DYNAMIC rows, MySQL 5.7+, MariaDB 10.2+).
const MAX_KEY_BYTES: usize = 3072;

/// What a column weighs in an InnoDB key: utf8mb4 text counts 4 bytes per character.
fn key_bytes(t: &DataType) -> usize {
    match t {
        DataType::Varchar(n) => 4 * *n as usize,
        DataType::Uuid => 4 * 36,
        DataType::Boolean => 1,
        DataType::Smallint => 2,
        DataType::Integer | DataType::Float | DataType::Date | DataType::Time => 4,
        DataType::Bigint | DataType::Double | DataType::Timestamp | DataType::Timestamptz => 8,
        // DECIMAL: 4 bytes per 9 digits, and at most 4 for the rest.
        DataType::Numeric { precision, .. } => (*precision as usize).div_ceil(9) * 4,
        DataType::Text | DataType::Blob | DataType::Json => 0,
        // One or two bytes: the value's position in the list.
        DataType::Enum { .. } => 2,
    }
}

/// Refuses a key (`what`: "index \"ix\"", "unique constraint", …) MySQL could not make: a
/// TEXT/BLOB/JSON column without a prefix, or columns weighing more than 3072 bytes. Said
/// before any SQL runs: MySQL cannot roll back the revision's earlier statements.
fn refuse_unkeyable(t: &TableModel, columns: &[String], what: &str) -> Result<(), String> {
    let parts: Vec<(String, Option<u32>)> = columns.iter().map(|c| (c.clone(), None)).collect();
    refuse_unkeyable_parts(t, &parts, what)
}

/// An index's key checked as `refuse_unkeyable` does, each column's prefix length counted: a
/// prefix is how MySQL indexes a TEXT column, and it weighs its characters.
fn refuse_unkeyable_index(t: &TableModel, index: &Index, what: &str) -> Result<(), String> {
    let parts: Vec<(String, Option<u32>)> = index
        .columns
        .iter()
        .enumerate()
        .map(|(n, c)| (c.clone(), index.key(n).prefix_length))
        .collect();
    refuse_unkeyable_parts(t, &parts, what)
}

fn refuse_unkeyable_parts(
    t: &TableModel,
    parts: &[(String, Option<u32>)],
    what: &str,
) -> Result<(), String> {
    let columns: Vec<&str> = parts.iter().map(|(c, _)| c.as_str()).collect();
    let mut bytes = 0;
    for (name, prefix) in parts {
        if let Some(column) = t.table.columns.iter().find(|c| &c.name == name) {
            match prefix {
                Some(length) => bytes += 4 * *length as usize,
                None if unindexable(&column.data_type) => return Err(unindexable_message(name)),
                None => bytes += key_bytes(&column.data_type),
            }
        }
    }
    // MariaDB (10.4+) makes a unique key that long `USING HASH`; MySQL refuses it, and says so
    // itself. Indexes and primary keys fail on both.
    let hashed_on_mariadb = what.starts_with("unique");
    if bytes > MAX_KEY_BYTES && !hashed_on_mariadb {
        return Err(format!(
            "MySQL keys may weigh at most {MAX_KEY_BYTES} bytes, and the {what} on {:?}.({}) would weigh \
             {bytes} (a varchar(n) counts 4 bytes per character in utf8mb4): shorten the columns, or \
             index fewer of them",
            t.table.name,
            columns.join(", ")
        ));
    }
    Ok(())
}

/// Every key and index of `t` that uses `column`, checked as they would be made now (a column
/// whose type changed can make an existing key too long, and MySQL then fails the MODIFY).
fn refuse_unkeyable_keys_of(t: &TableModel, column: &str) -> Result<(), String> {
    let uses = |columns: &[String]| columns.iter().any(|c| c == column);
    for index in t.indexes.iter().filter(|i| uses(&i.columns)) {
        let kind = if index.unique {
            "unique index"
        } else {
            "index"
        };
        refuse_unkeyable_index(t, index, &format!("{kind} {:?}", index.name))?;
    }
    for c in t.table.columns.iter().filter(|c| c.name == column) {
        if c.primary_key || c.unique {
            let what = if c.primary_key {
                "primary key"
            } else {
                "unique column"
            };
            refuse_unkeyable(t, std::slice::from_ref(&c.name), what)?;
        }
    }
    for constraint in &t.table.constraints {
        if !matches!(constraint, TableConstraint::Check(_)) && uses(constraint.columns()) {
            refuse_unkeyable(t, constraint.columns(), constraint.kind().describe())?;
        }
    }
    Ok(())
}

fn refuse_unindexable_in_table(t: &Table) -> Result<(), String> {
    let model = TableModel {
        table: t.clone(),
        indexes: vec![],
    };
    for c in &t.columns {
        if c.primary_key || c.unique {
            let what = if c.primary_key {
                "primary key"
            } else {
                "unique column"
            };
            refuse_unkeyable(&model, std::slice::from_ref(&c.name), what)?;
        }
    }
    for constraint in &t.constraints {
        if !matches!(constraint, TableConstraint::Check(_)) {
            refuse_unkeyable(&model, constraint.columns(), constraint.kind().describe())?;
        }
    }
    Ok(())
}
