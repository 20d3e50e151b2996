//! The declarative model: a `schema.sql` of `CREATE TABLE` and `CREATE INDEX` statements, parsed
//! with `sqlparser` into the same `Schema` that replaying ops builds, so the two can be diffed.
//!
//! Names are taken exactly as written (quoted or not): migrate quotes every name it renders, so
//! `User` stays `User` on every database. Errors carry the line and column they refer to.

use sqlparser::ast::{
    self, ColumnOption, CreateIndex, CreateTable, DataType as SqlType, Expr, ObjectName,
    ObjectNamePart, Statement,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Token};

use crate::schema::{Schema, TableModel};
use crate::types::*;

/// A problem in the model file, at a line and column (1-based; 0 when unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}:{}: {}", self.line, self.column, self.message)
        }
    }
}

impl std::error::Error for ModelError {}

impl ModelError {
    fn at(location: Location, message: impl Into<String>) -> ModelError {
        ModelError {
            line: location.line,
            column: location.column,
            message: message.into(),
        }
    }

    /// sqlparser puts the position in the message ("... at Line: 3, Column: 7"); lift it out.
    fn from_parser(error: ParserError) -> ModelError {
        let text = match error {
            ParserError::TokenizerError(t) | ParserError::ParserError(t) => t,
            ParserError::RecursionLimitExceeded => "statement nested too deeply".into(),
        };
        let Some((message, position)) = text.rsplit_once(" at Line: ") else {
            return ModelError::at(Location { line: 0, column: 0 }, text);
        };
        let mut numbers = position
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap_or(0));
        let line = numbers.next().unwrap_or(0);
        let column = numbers.next().unwrap_or(0);
        ModelError::at(Location { line, column }, message)
    }
}

/// Parses a model file into a schema. Only `CREATE TABLE` and `CREATE INDEX` are allowed: the
/// model says what the schema is, not how to get there.
///
/// Enums are declared as on PostgreSQL, `CREATE TYPE mood AS ENUM ('sad', 'ok')`, before or
/// after the tables whose columns are of type `mood`.
pub fn parse(sql: &str) -> Result<Schema, ModelError> {
    parse_with(sql, Reading::Model)
}

/// Parses the DDL SQLite keeps for its tables: as `parse`, and a column's CHECK that migrate
/// renders for an enum (`"c" TEXT CONSTRAINT "mood" CHECK ("c" IN ('a', 'b'))`) is read back
/// as that enum.
pub fn parse_sqlite_catalog(sql: &str) -> Result<Schema, ModelError> {
    parse_with(sql, Reading::SqliteCatalog)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    Model,
    SqliteCatalog,
}

/// The enum types a model declares, by name.
type EnumTypes = std::collections::BTreeMap<String, Vec<String>>;

fn parse_with(sql: &str, reading: Reading) -> Result<Schema, ModelError> {
    let dialect = GenericDialect {};
    let mut parser = Parser::new(&dialect)
        .try_with_sql(sql)
        .map_err(ModelError::from_parser)?;
    let mut schema = Schema::default();
    let mut pending_indexes = vec![];
    let mut starts = std::collections::BTreeMap::new();
    let mut statements = vec![];
    loop {
        while parser.consume_token(&Token::SemiColon) {}
        let next = parser.peek_token();
        if next.token == Token::EOF {
            break;
        }
        let start = next.span.start;
        statements.push((
            parser.parse_statement().map_err(ModelError::from_parser)?,
            start,
        ));
    }
    // Types first: a table may come before the enum its column uses.
    let mut enums = EnumTypes::new();
    for (statement, start) in &statements {
        if let Statement::CreateType {
            name,
            representation,
        } = statement
        {
            let name = object_name(name, *start)?;
            let Some(ast::UserDefinedTypeRepresentation::Enum { labels }) = representation else {
                return Err(ModelError::at(
                    *start,
                    format!("type {name:?}: only enum types (CREATE TYPE {name} AS ENUM (...)) belong in the model"),
                ));
            };
            let values: Vec<String> = labels.iter().map(|l| l.value.clone()).collect();
            crate::enums::enum_ok(&name, &values).map_err(|e| ModelError::at(*start, e))?;
            if enums.insert(name.clone(), values).is_some() {
                return Err(ModelError::at(
                    *start,
                    format!("type {name:?} is declared twice"),
                ));
            }
        }
    }
    for (statement, start) in statements {
        match statement {
            Statement::CreateType { .. } => {}
            Statement::CreateTable(create) => {
                let table = table(&create, start, &enums, reading)?;
                if schema.tables.contains_key(&table.name) {
                    return Err(ModelError::at(
                        start,
                        format!("table {:?} is declared twice", table.name),
                    ));
                }
                crate::ops::Op::CreateTable(table.clone())
                    .validate()
                    .map_err(|e| ModelError::at(start, e.problem))?;
                starts.insert(table.name.clone(), start);
                schema.tables.insert(
                    table.name.clone(),
                    TableModel {
                        table,
                        indexes: vec![],
                    },
                );
            }
            Statement::CreateIndex(create) => pending_indexes.push((index(&create, start)?, start)),
            other => {
                let first_words: String = other.to_string().chars().take(40).collect();
                return Err(ModelError::at(
                    start,
                    format!(
                        "only CREATE TABLE, CREATE INDEX and CREATE TYPE … AS ENUM belong in the model, not `{first_words}…`"
                    ),
                ));
            }
        }
    }
    // Indexes may come before or after their table in the file.
    for (index, at) in pending_indexes {
        let taken = schema
            .tables
            .values()
            .any(|t| t.indexes.iter().any(|i| i.name == index.name));
        if taken {
            return Err(ModelError::at(
                at,
                format!("index {:?} is declared twice", index.name),
            ));
        }
        let Some(table) = schema.tables.get_mut(&index.table) else {
            return Err(ModelError::at(
                at,
                format!(
                    "index {:?} is on table {:?}, which the model does not declare",
                    index.name, index.table
                ),
            ));
        };
        if let Some(missing) = index
            .used_columns()
            .into_iter()
            .find(|c| !table.table.columns.iter().any(|col| &col.name == c))
        {
            return Err(ModelError::at(
                at,
                format!(
                    "index {:?}: table {:?} has no column {missing:?}",
                    index.name, index.table
                ),
            ));
        }
        table.indexes.push(index);
    }
    check_foreign_keys(&schema, &starts)?;
    Ok(schema)
}

fn table(
    create: &CreateTable,
    start: Location,
    enums: &EnumTypes,
    reading: Reading,
) -> Result<Table, ModelError> {
    let name = object_name(&create.name, start)?;
    let mut columns = vec![];
    let mut constraints = vec![];
    for def in &create.columns {
        let at = def.name.span.start;
        let (data_type, serial, native_types) = match native_only(&def.data_type) {
            Some((fallback, native)) => (fallback, false, vec![native]),
            None => {
                let (data_type, serial) = column_type(&def.data_type, enums)
                    .map_err(|e| ModelError::at(at, format!("column {:?}: {e}", def.name.value)))?;
                (data_type, serial, vec![])
            }
        };
        let mut column = Column {
            autoincrement: serial,
            native_types,
            ..Column::new(def.name.value.clone(), data_type)
        };
        for option in &def.options {
            let named = option.name.as_ref().map(|n| n.value.clone());
            match &option.option {
                ColumnOption::Null => column.nullable = true,
                ColumnOption::NotNull => column.nullable = false,
                ColumnOption::Default(expr) => column.server_default = Some(server_default(expr)),
                ColumnOption::PrimaryKey(_) if named.is_none() => {
                    column.primary_key = true;
                    column.nullable = false;
                }
                ColumnOption::PrimaryKey(_) => {
                    column.nullable = false;
                    constraints.push(TableConstraint::PrimaryKey(PrimaryKey {
                        name: named,
                        columns: vec![column.name.clone()],
                    }))
                }
                ColumnOption::Unique(_) if named.is_none() => column.unique = true,
                ColumnOption::Unique(_) => {
                    constraints.push(TableConstraint::Unique(UniqueConstraint {
                        name: named,
                        columns: vec![column.name.clone()],
                    }))
                }
                ColumnOption::ForeignKey(fk) => {
                    constraints.push(TableConstraint::ForeignKey(ForeignKey {
                        name: named.or_else(|| fk.name.as_ref().map(|n| n.value.clone())),
                        columns: vec![column.name.clone()],
                        referred_table: object_name(&fk.foreign_table, at)?,
                        referred_columns: fk
                            .referred_columns
                            .iter()
                            .map(|c| c.value.clone())
                            .collect(),
                        on_delete: fk.on_delete.map(action),
                        on_update: fk.on_update.map(action),
                    }))
                }
                ColumnOption::Check(check)
                    if reading == Reading::SqliteCatalog
                        && column.data_type == DataType::Text
                        && enum_check(&check.expr, &column.name).is_some()
                        && named.is_some() =>
                {
                    column.data_type = DataType::Enum {
                        name: named.clone().unwrap_or_default(),
                        values: enum_check(&check.expr, &column.name).unwrap_or_default(),
                    };
                }
                ColumnOption::Check(check) => {
                    constraints.push(TableConstraint::Check(CheckConstraint {
                        name: named.or_else(|| check.name.as_ref().map(|n| n.value.clone())),
                        expression: check.expr.to_string(),
                    }))
                }
                ColumnOption::Comment(text) => column.comment = Some(text.clone()),
                ColumnOption::DialectSpecific(tokens)
                    if tokens.iter().any(|t| {
                        let word = t.to_string().to_ascii_uppercase();
                        word == "AUTOINCREMENT" || word == "AUTO_INCREMENT"
                    }) =>
                {
                    column.autoincrement = true
                }
                ColumnOption::Generated {
                    generation_expr: Some(expr),
                    generation_expr_mode,
                    ..
                } => {
                    column.generated = Some(Generated {
                        expression: expr.to_string(),
                        // Stored unless said VIRTUAL: PostgreSQL has only STORED, and
                        // migrate's own DDL always says which.
                        stored: !matches!(
                            generation_expr_mode,
                            Some(ast::GeneratedExpressionMode::Virtual)
                        ),
                    })
                }
                ColumnOption::Generated {
                    generated_as,
                    sequence_options,
                    ..
                } => {
                    column.autoincrement = true;
                    column.identity = identity(generated_as, sequence_options.as_deref());
                }
                ColumnOption::Identity(_) => column.autoincrement = true,
                other => {
                    return Err(ModelError::at(
                        at,
                        format!(
                            "column {:?}: `{other}` is not something migrate models",
                            column.name
                        ),
                    ))
                }
            }
        }
        columns.push(column);
    }
    for constraint in &create.constraints {
        constraints.push(table_constraint(constraint, start)?);
    }
    Ok(Table {
        name,
        columns,
        constraints,
        comment: None,
    })
}

fn table_constraint(
    constraint: &ast::TableConstraint,
    at: Location,
) -> Result<TableConstraint, ModelError> {
    let ident = |i: &Option<ast::Ident>| i.as_ref().map(|n| n.value.clone());
    Ok(match constraint {
        ast::TableConstraint::PrimaryKey(pk) => TableConstraint::PrimaryKey(PrimaryKey {
            name: ident(&pk.name),
            columns: index_columns(&pk.columns, at)?,
        }),
        ast::TableConstraint::Unique(u) => TableConstraint::Unique(UniqueConstraint {
            name: ident(&u.name),
            columns: index_columns(&u.columns, at)?,
        }),
        ast::TableConstraint::ForeignKey(fk) => TableConstraint::ForeignKey(ForeignKey {
            name: ident(&fk.name),
            columns: fk.columns.iter().map(|c| c.value.clone()).collect(),
            referred_table: object_name(&fk.foreign_table, at)?,
            referred_columns: fk.referred_columns.iter().map(|c| c.value.clone()).collect(),
            on_delete: fk.on_delete.map(action),
            on_update: fk.on_update.map(action),
        }),
        ast::TableConstraint::Check(check) => TableConstraint::Check(CheckConstraint {
            name: ident(&check.name),
            expression: check.expr.to_string(),
        }),
        other => {
            return Err(ModelError::at(
                at,
                format!("`{other}`: only PRIMARY KEY, UNIQUE, FOREIGN KEY and CHECK constraints are modelled; declare other indexes with CREATE INDEX"),
            ))
        }
    })
}

fn index(create: &CreateIndex, at: Location) -> Result<Index, ModelError> {
    let Some(name) = &create.name else {
        return Err(ModelError::at(
            at,
            "an index in the model needs a name (CREATE INDEX name ON ...)",
        ));
    };
    let mut columns = vec![];
    let mut keys = vec![];
    for part in &create.columns {
        let descending = matches!(part.column.options.sort, Some(ast::OrderBySort::Desc));
        let (text, key) = match &part.column.expr {
            Expr::Identifier(ident) => (ident.value.clone(), IndexKey::default()),
            // MySQL's prefix length reads as a call: `name(10)`.
            Expr::Function(call) if prefix_length(call).is_some() => (
                object_name(&call.name, at)?,
                IndexKey {
                    prefix_length: prefix_length(call),
                    ..IndexKey::default()
                },
            ),
            // An expression in parentheses is the expression.
            Expr::Nested(inner) => (
                inner.to_string(),
                IndexKey {
                    expression: true,
                    ..IndexKey::default()
                },
            ),
            other => (
                other.to_string(),
                IndexKey {
                    expression: true,
                    ..IndexKey::default()
                },
            ),
        };
        columns.push(text);
        keys.push(IndexKey { descending, ..key });
    }
    Ok(Index {
        name: object_name(name, at)?,
        table: object_name(&create.table_name, at)?,
        columns,
        unique: create.unique,
        keys,
        predicate: create.predicate.as_ref().map(|p| p.to_string()),
        include: create.include.iter().map(|c| c.value.clone()).collect(),
    }
    .normalized())
}

/// `name(N)` with one whole number: a MySQL prefix length.
fn prefix_length(call: &ast::Function) -> Option<u32> {
    let ast::FunctionArguments::List(list) = &call.args else {
        return None;
    };
    match list.args.as_slice() {
        [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(Expr::Value(value)))] => {
            match &value.value {
                ast::Value::Number(n, _) => n.parse().ok(),
                _ => None,
            }
        }
        _ => None,
    }
}

fn index_columns(columns: &[ast::IndexColumn], at: Location) -> Result<Vec<String>, ModelError> {
    columns
        .iter()
        .map(|c| match &c.column.expr {
            Expr::Identifier(ident) => Ok(ident.value.clone()),
            other => Err(ModelError::at(
                at,
                format!("`{other}`: only plain column names are modelled in keys and indexes"),
            )),
        })
        .collect()
}

fn object_name(name: &ObjectName, at: Location) -> Result<String, ModelError> {
    match name.0.as_slice() {
        [ObjectNamePart::Identifier(ident)] => Ok(ident.value.clone()),
        _ => Err(ModelError::at(
            at,
            format!("`{name}`: use plain names; the schema comes from the database URL"),
        )),
    }
}

fn action(a: ast::ReferentialAction) -> ReferentialAction {
    match a {
        ast::ReferentialAction::Restrict => ReferentialAction::Restrict,
        ast::ReferentialAction::Cascade => ReferentialAction::Cascade,
        ast::ReferentialAction::SetNull => ReferentialAction::SetNull,
        ast::ReferentialAction::NoAction => ReferentialAction::NoAction,
        ast::ReferentialAction::SetDefault => ReferentialAction::SetDefault,
    }
}

/// A literal becomes a value (quoted by each dialect); anything else stays SQL text.
fn server_default(expr: &Expr) -> ServerDefault {
    let literal = |v: &ast::Value, negative: bool| -> Option<Value> {
        match v {
            ast::Value::Number(text, _) => {
                let text = if negative {
                    format!("-{text}")
                } else {
                    text.clone()
                };
                text.parse::<i64>()
                    .map(Value::Integer)
                    .ok()
                    .or_else(|| text.parse::<f64>().ok().map(Value::Float))
            }
            ast::Value::SingleQuotedString(s) if !negative => Some(Value::Text(s.clone())),
            ast::Value::Boolean(b) if !negative => Some(Value::Boolean(*b)),
            ast::Value::Null if !negative => Some(Value::Null),
            _ => None,
        }
    };
    let value = match expr {
        Expr::Value(v) => literal(&v.value, false),
        Expr::UnaryOp {
            op: ast::UnaryOperator::Minus,
            expr,
        } => match expr.as_ref() {
            Expr::Value(v) => literal(&v.value, true),
            _ => None,
        },
        _ => None,
    };
    match value {
        Some(v) => ServerDefault::Literal(v),
        None => ServerDefault::Expression(expr.to_string()),
    }
}

/// An identity column's options (`GENERATED ALWAYS AS IDENTITY (START WITH 100)`), `None` when
/// they are the default.
fn identity(
    generated_as: &ast::GeneratedAs,
    options: Option<&[ast::SequenceOptions]>,
) -> Option<Identity> {
    let number = |e: &Expr| e.to_string().parse::<i64>().ok();
    let (mut start, mut increment) = (None, None);
    for option in options.unwrap_or_default() {
        match option {
            ast::SequenceOptions::StartWith(e, _) => start = number(e),
            ast::SequenceOptions::IncrementBy(e, _) => increment = number(e),
            _ => {}
        }
    }
    Identity::stated(
        matches!(generated_as, ast::GeneratedAs::Always),
        start,
        increment,
    )
}

/// Type names one database has and the others do not: a column of one is that native type
/// there and its portable fallback elsewhere (`MEDIUMTEXT` is TEXT beyond MySQL).
fn native_only(t: &SqlType) -> Option<(DataType, NativeType)> {
    let spelled = t.to_string();
    let native = |dialect| NativeType {
        dialect,
        sql: spelled.to_ascii_uppercase(),
    };
    match t {
        SqlType::Array(_) => Some((DataType::Json, native(TypeDialect::Postgresql))),
        SqlType::MediumText | SqlType::TinyText => {
            Some((DataType::Text, native(TypeDialect::Mysql)))
        }
        SqlType::MediumBlob | SqlType::TinyBlob => {
            Some((DataType::Blob, native(TypeDialect::Mysql)))
        }
        SqlType::Custom(name, modifiers) if modifiers.is_empty() => {
            match name.to_string().to_ascii_lowercase().as_str() {
                "inet" | "cidr" | "macaddr" | "macaddr8" | "citext" | "tsvector" | "xml" => {
                    Some((DataType::Text, native(TypeDialect::Postgresql)))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether a catalog reporting this type reads it back as a native type (see `native_only`).
pub fn read_back_as_native(sql: &str) -> bool {
    let dialect = GenericDialect {};
    Parser::new(&dialect)
        .try_with_sql(sql)
        .ok()
        .and_then(|mut p| p.parse_data_type().ok())
        .is_some_and(|t| native_only(&t).is_some())
}

/// A column's type: an enum the model declares, or a portable type.
fn column_type(t: &SqlType, enums: &EnumTypes) -> Result<(DataType, bool), String> {
    if let SqlType::Custom(name, modifiers) = t {
        let name = name.0.last().map(|p| p.to_string()).unwrap_or_default();
        let unquoted = name.trim_matches('"').trim_matches('`');
        if let (Some(values), true) = (enums.get(unquoted), modifiers.is_empty()) {
            return Ok((
                DataType::Enum {
                    name: unquoted.to_string(),
                    values: values.clone(),
                },
                false,
            ));
        }
    }
    if let SqlType::Enum(..) = t {
        return Err(format!(
            "`{t}`: give the enum a name, as PostgreSQL needs one: declare `CREATE TYPE <name> AS ENUM (...)` and use <name> as the column's type"
        ));
    }
    portable_type(t)
}

/// The values of `column IN ('a', 'b', …)`, the CHECK that stands for an enum on SQLite.
fn enum_check(expr: &Expr, column: &str) -> Option<Vec<String>> {
    let Expr::Nested(inner) = expr else {
        return enum_check_list(expr, column);
    };
    enum_check_list(inner, column)
}

fn enum_check_list(expr: &Expr, column: &str) -> Option<Vec<String>> {
    let Expr::In {
        expr,
        target: ast::InTarget::List(list),
        negated: false,
        ..
    } = expr
    else {
        return None;
    };
    match &**expr {
        Expr::Identifier(ident) if ident.value == column => {}
        _ => return None,
    }
    list.iter()
        .map(|item| match item {
            Expr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(text) => Some(text.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Maps a SQL type, as people write it for any of the three databases, to a portable type. The
/// flag says the type implies an auto-incrementing column (`SERIAL`).
pub fn portable_type(t: &SqlType) -> Result<(DataType, bool), String> {
    use SqlType as S;
    let plain = |d: DataType| Ok((d, false));
    match t {
        S::Int(_) | S::Integer(_) | S::Int4(_) => plain(DataType::Integer),
        S::BigInt(_) | S::Int8(_) => plain(DataType::Bigint),
        S::SmallInt(_) | S::Int2(_) => plain(DataType::Smallint),
        S::TinyInt(Some(1)) | S::Bool | S::Boolean => plain(DataType::Boolean),
        S::Text => plain(DataType::Text),
        S::Varchar(len) | S::CharacterVarying(len) => match len {
            Some(ast::CharacterLength::IntegerLength { length, .. }) => {
                let n =
                    u32::try_from(*length).map_err(|_| format!("length {length} is too large"))?;
                plain(DataType::Varchar(n))
            }
            _ => Err(format!(
                "`{t}` needs a length, e.g. VARCHAR(255); use TEXT for unbounded text"
            )),
        },
        S::Real | S::Float4 => plain(DataType::Float),
        S::Float(info) => match info {
            ast::ExactNumberInfo::Precision(p) if *p > 24 => plain(DataType::Double),
            _ => plain(DataType::Float),
        },
        S::Double(_) | S::DoublePrecision | S::Float8 => plain(DataType::Double),
        S::Numeric(info) | S::Decimal(info) | S::Dec(info) => match info {
            ast::ExactNumberInfo::PrecisionAndScale(p, s) => plain(DataType::Numeric {
                precision: u8::try_from(*p).map_err(|_| format!("precision {p} is too large"))?,
                scale: u8::try_from(*s).map_err(|_| format!("scale {s} is out of range"))?,
            }),
            ast::ExactNumberInfo::Precision(p) => plain(DataType::Numeric {
                precision: u8::try_from(*p).map_err(|_| format!("precision {p} is too large"))?,
                scale: 0,
            }),
            ast::ExactNumberInfo::None => Err(format!(
                "`{t}` needs a precision and scale, e.g. NUMERIC(10, 2)"
            )),
        },
        S::Date => plain(DataType::Date),
        S::Time(_, ast::TimezoneInfo::None | ast::TimezoneInfo::WithoutTimeZone) => {
            plain(DataType::Time)
        }
        S::Timestamp(_, ast::TimezoneInfo::WithTimeZone | ast::TimezoneInfo::Tz) => {
            plain(DataType::Timestamptz)
        }
        S::Timestamp(_, _) | S::Datetime(_) => plain(DataType::Timestamp),
        S::Blob(_) | S::Bytea | S::Varbinary(_) | S::Binary(_) | S::LongBlob => {
            plain(DataType::Blob)
        }
        S::LongText => plain(DataType::Text),
        S::JSON | S::JSONB => plain(DataType::Json),
        S::Uuid => plain(DataType::Uuid),
        S::Custom(name, modifiers) if modifiers.is_empty() => {
            match name.to_string().to_ascii_lowercase().as_str() {
                "timestamptz" => plain(DataType::Timestamptz),
                "serial" | "serial4" => Ok((DataType::Integer, true)),
                "bigserial" | "serial8" => Ok((DataType::Bigint, true)),
                "smallserial" | "serial2" => Ok((DataType::Smallint, true)),
                "longtext" => plain(DataType::Text),
                "longblob" => plain(DataType::Blob),
                _ => Err(unsupported(t)),
            }
        }
        _ => Err(unsupported(t)),
    }
}

fn unsupported(t: &SqlType) -> String {
    format!(
        "type `{t}` has no portable equivalent; use INTEGER, BIGINT, SMALLINT, BOOLEAN, TEXT, \
         VARCHAR(n), REAL, DOUBLE PRECISION, NUMERIC(p, s), DATE, TIME, TIMESTAMP, TIMESTAMPTZ, \
         BLOB, JSON, UUID, or an enum declared with CREATE TYPE <name> AS ENUM (...)"
    )
}

/// A column's type as a catalog reports it: a portable type, or the native type of one
/// database with its portable fallback (`inet`, `mediumtext`, `text[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogType {
    pub data_type: DataType,
    /// The type implies an autoincrement column (`serial`).
    pub serial: bool,
    pub native_types: Vec<NativeType>,
}

impl CatalogType {
    pub fn portable(data_type: DataType) -> CatalogType {
        CatalogType {
            data_type,
            serial: false,
            native_types: vec![],
        }
    }
}

/// Parses a type as catalogs report them, the native types of one database included.
pub fn parse_catalog_type(text: &str) -> Result<CatalogType, String> {
    let dialect = GenericDialect {};
    let t = Parser::new(&dialect)
        .try_with_sql(text)
        .map_err(|e| format!("type {text:?}: {e}"))?
        .parse_data_type()
        .map_err(|e| format!("type {text:?}: {e}"))?;
    if let Some((fallback, native)) = native_only(&t) {
        return Ok(CatalogType {
            data_type: fallback,
            serial: false,
            native_types: vec![native],
        });
    }
    let (data_type, serial) = portable_type(&t)?;
    Ok(CatalogType {
        data_type,
        serial,
        native_types: vec![],
    })
}

/// The values of an inline `ENUM('a', 'b')` type, as MySQL's catalog reports an enum column.
pub fn inline_enum_values(text: &str) -> Option<Vec<String>> {
    let dialect = sqlparser::dialect::MySqlDialect {};
    let t = Parser::new(&dialect)
        .try_with_sql(text)
        .ok()?
        .parse_data_type()
        .ok()?;
    let SqlType::Enum(members, _) = t else {
        return None;
    };
    Some(
        members
            .into_iter()
            .map(|m| match m {
                ast::EnumMember::Name(v) | ast::EnumMember::NamedValue(v, _) => v,
            })
            .collect(),
    )
}

/// Parses a type name on its own (`character varying(80)`), as catalogs report them.
pub fn parse_type(text: &str) -> Result<(DataType, bool), String> {
    let dialect = GenericDialect {};
    let mut parser = Parser::new(&dialect)
        .try_with_sql(text)
        .map_err(|e| format!("type {text:?}: {e}"))?;
    let t = parser
        .parse_data_type()
        .map_err(|e| format!("type {text:?}: {e}"))?;
    portable_type(&t)
}

fn check_foreign_keys(
    schema: &Schema,
    starts: &std::collections::BTreeMap<String, Location>,
) -> Result<(), ModelError> {
    for model in schema.tables.values() {
        let at = starts[&model.table.name];
        for c in &model.table.constraints {
            let TableConstraint::ForeignKey(fk) = c else {
                continue;
            };
            let Some(target) = schema.tables.get(&fk.referred_table) else {
                return Err(ModelError::at(
                    at,
                    format!(
                        "table {:?}: foreign key to {:?}, which the model does not declare",
                        model.table.name, fk.referred_table
                    ),
                ));
            };
            if let Some(missing) = fk
                .referred_columns
                .iter()
                .find(|c| !target.table.columns.iter().any(|col| &&col.name == c))
            {
                return Err(ModelError::at(
                    at,
                    format!(
                        "table {:?}: foreign key to {:?}.{missing:?}, which the model does not declare",
                        model.table.name, fk.referred_table
                    ),
                ));
            }
        }
    }
    Ok(())
}
