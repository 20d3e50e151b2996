//! Every op rendered by every dialect, as SQL snapshots (reviewed by eye; `cargo insta review`
//! after a deliberate change). The ops run in sequence against one schema model, as a revision
//! chain would, so dialects that need the model (SQLite rebuilds, MySQL MODIFY) get it.

use migrate_core::ops::Op;
use migrate_core::schema::Schema;
use migrate_core::sql::{self, render_step, DialectName};
use migrate_core::types::*;

fn col(name: &str, data_type: DataType) -> Column {
    Column::new(name, data_type)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn enumeration(name: &str, values: &[&str]) -> DataType {
    DataType::Enum {
        name: name.into(),
        values: strings(values),
    }
}

fn native(dialect: TypeDialect, sql: &str) -> NativeType {
    NativeType {
        dialect,
        sql: sql.into(),
    }
}

fn every_op() -> Vec<Op> {
    let id = Column {
        primary_key: true,
        autoincrement: true,
        nullable: false,
        ..col("id", DataType::Integer)
    };
    vec![
        Op::CreateTable(Table {
            name: "user".into(),
            columns: vec![
                id.clone(),
                Column {
                    unique: true,
                    nullable: false,
                    ..col("email", DataType::Varchar(255))
                },
                Column {
                    comment: Some("shown to others".into()),
                    ..col("display name", DataType::Text)
                },
                Column {
                    nullable: false,
                    server_default: Some(ServerDefault::Literal(Value::Boolean(true))),
                    ..col("active", DataType::Boolean)
                },
                Column {
                    server_default: Some(ServerDefault::Expression("CURRENT_TIMESTAMP".into())),
                    ..col("created_at", DataType::Timestamptz)
                },
                col(
                    "score",
                    DataType::Numeric {
                        precision: 10,
                        scale: 2,
                    },
                ),
                col("ratio", DataType::Float),
                col("weight", DataType::Double),
                col("born", DataType::Date),
                col("wakes", DataType::Time),
                col("seen", DataType::Timestamp),
                col("avatar", DataType::Blob),
                col("prefs", DataType::Json),
                col("token", DataType::Uuid),
                col("age", DataType::Smallint),
                col("views", DataType::Bigint),
            ],
            constraints: vec![TableConstraint::Check(CheckConstraint {
                name: Some("ck_user_age".into()),
                expression: "age >= 0".into(),
            })],
            comment: Some("people's accounts".into()),
        }),
        Op::CreateTable(Table {
            name: "order".into(),
            columns: vec![
                col("user_id", DataType::Integer),
                Column {
                    nullable: false,
                    ..col("number", DataType::Integer)
                },
                col("note", DataType::Varchar(100)),
            ],
            constraints: vec![
                TableConstraint::PrimaryKey(PrimaryKey {
                    name: Some("pk_order".into()),
                    columns: vec!["user_id".into(), "number".into()],
                }),
                TableConstraint::ForeignKey(ForeignKey {
                    name: Some("fk_order_user".into()),
                    columns: vec!["user_id".into()],
                    referred_table: "user".into(),
                    referred_columns: vec!["id".into()],
                    on_delete: Some(ReferentialAction::Cascade),
                    on_update: Some(ReferentialAction::NoAction),
                }),
            ],
            comment: None,
        }),
        Op::AddColumn {
            table: "user".into(),
            column: col("nickname", DataType::Varchar(50)),
        },
        Op::AddColumn {
            table: "user".into(),
            column: Column {
                nullable: false,
                server_default: Some(ServerDefault::Literal(Value::Integer(0))),
                ..col("logins", DataType::Integer)
            },
        },
        Op::AlterColumn(ColumnChange {
            table: "user".into(),
            column: "nickname".into(),
            new_type: Some(DataType::Varchar(80)),
            nullable: Some(false),
            server_default: Some(DefaultChange::Set(ServerDefault::Literal(Value::Text(
                "anon".into(),
            )))),
            new_name: None,
            comment: None,
            new_native_types: vec![],
        }),
        Op::AlterColumn(ColumnChange {
            table: "user".into(),
            column: "nickname".into(),
            new_type: None,
            nullable: None,
            server_default: None,
            new_name: Some("handle".into()),
            comment: Some(CommentChange::Set("unique-ish".into())),
            new_native_types: vec![],
        }),
        Op::AlterColumn(ColumnChange {
            table: "user".into(),
            column: "logins".into(),
            new_type: None,
            nullable: None,
            server_default: Some(DefaultChange::Drop),
            new_name: None,
            comment: None,
            new_native_types: vec![],
        }),
        Op::CreateIndex(Index {
            name: "ix_user_handle_email".into(),
            table: "user".into(),
            columns: vec!["handle".into(), "email".into()],
            unique: true,
            ..Index::default()
        }),
        Op::CreateIndex(Index {
            name: "ix_user_recent".into(),
            table: "user".into(),
            columns: vec!["logins".into(), "handle".into()],
            keys: vec![
                IndexKey {
                    descending: true,
                    ..IndexKey::default()
                },
                IndexKey {
                    prefix_length: Some(8),
                    ..IndexKey::default()
                },
            ],
            ..Index::default()
        }),
        Op::AddConstraint {
            table: "order".into(),
            constraint: TableConstraint::Unique(UniqueConstraint {
                name: Some("uq_order_note".into()),
                columns: vec!["note".into()],
            }),
        },
        Op::AddConstraint {
            table: "order".into(),
            constraint: TableConstraint::Check(CheckConstraint {
                name: Some("ck_order_number".into()),
                expression: "number > 0".into(),
            }),
        },
        Op::BulkInsert {
            table: "user".into(),
            columns: vec![
                "email".into(),
                "display name".into(),
                "avatar".into(),
                "ratio".into(),
                "active".into(),
                "age".into(),
            ],
            rows: vec![
                vec![
                    Value::Text("o'brien@example.com".into()),
                    Value::Text("back\\slash".into()),
                    Value::Blob(vec![0, 255]),
                    Value::Float(0.25),
                    Value::Boolean(false),
                    Value::Null,
                ],
                vec![
                    Value::Text("b@example.com".into()),
                    Value::Null,
                    Value::Null,
                    Value::Float(-1.5e10),
                    Value::Boolean(true),
                    Value::Integer(42),
                ],
            ],
        },
        Op::Execute {
            sql: "UPDATE \"user\" SET logins = 1".into(),
        },
        Op::DropConstraint {
            table: "order".into(),
            name: "ck_order_number".into(),
            kind: ConstraintKind::Check,
        },
        Op::DropConstraint {
            table: "order".into(),
            name: "uq_order_note".into(),
            kind: ConstraintKind::Unique,
        },
        Op::DropConstraint {
            table: "order".into(),
            name: "fk_order_user".into(),
            kind: ConstraintKind::ForeignKey,
        },
        Op::DropConstraint {
            table: "order".into(),
            name: "pk_order".into(),
            kind: ConstraintKind::PrimaryKey,
        },
        Op::AddConstraint {
            table: "order".into(),
            constraint: TableConstraint::PrimaryKey(PrimaryKey {
                name: Some("pk_order_number".into()),
                columns: vec!["number".into()],
            }),
        },
        Op::AddConstraint {
            table: "order".into(),
            constraint: TableConstraint::ForeignKey(ForeignKey {
                name: Some("fk_order_user_2".into()),
                columns: vec!["user_id".into()],
                referred_table: "user".into(),
                referred_columns: vec!["id".into()],
                on_delete: Some(ReferentialAction::SetNull),
                on_update: None,
            }),
        },
        Op::DropIndex {
            table: "user".into(),
            name: "ix_user_handle_email".into(),
        },
        Op::DropColumn {
            table: "user".into(),
            column: "prefs".into(),
        },
        Op::DropColumn {
            table: "user".into(),
            column: "email".into(),
        },
        // Enums: made with the first column, values added and removed, a column moved to
        // another enum, the type dropped with the last column.
        Op::AddColumn {
            table: "user".into(),
            column: Column {
                nullable: false,
                server_default: Some(ServerDefault::Literal(Value::Text("active".into()))),
                ..col(
                    "status",
                    enumeration("account_status", &["active", "banned"]),
                )
            },
        },
        Op::AlterEnum {
            name: "account_status".into(),
            values: strings(&["active", "suspended", "banned"]),
        },
        Op::AlterEnum {
            name: "account_status".into(),
            values: strings(&["active", "banned"]),
        },
        Op::AlterColumn(ColumnChange {
            table: "user".into(),
            column: "status".into(),
            new_type: Some(enumeration("account_state", &["active", "banned", "gone"])),
            nullable: None,
            server_default: None,
            new_name: None,
            comment: None,
            new_native_types: vec![],
        }),
        Op::DropColumn {
            table: "user".into(),
            column: "status".into(),
        },
        // Native types for one database, the portable type elsewhere.
        Op::AddColumn {
            table: "user".into(),
            column: Column {
                native_types: vec![native(TypeDialect::Mysql, "MEDIUMTEXT")],
                ..col("bio", DataType::Text)
            },
        },
        Op::AddColumn {
            table: "user".into(),
            column: Column {
                native_types: vec![native(TypeDialect::Postgresql, "INET")],
                ..col("last_ip", DataType::Text)
            },
        },
        Op::AlterColumn(ColumnChange {
            table: "user".into(),
            column: "bio".into(),
            new_type: Some(DataType::Text),
            nullable: None,
            server_default: None,
            new_name: None,
            comment: None,
            new_native_types: vec![native(TypeDialect::Mysql, "LONGTEXT")],
        }),
        // A stored generated column (SQLite adds one by a rebuild).
        Op::AddColumn {
            table: "user".into(),
            column: Column {
                generated: Some(Generated {
                    expression: "age * 12".into(),
                    stored: true,
                }),
                ..col("age_months", DataType::Integer)
            },
        },
        // Identity options.
        Op::CreateTable(Table {
            name: "ledger".into(),
            columns: vec![
                Column {
                    identity: Some(Identity {
                        always: false,
                        start: Some(1000),
                        increment: None,
                    }),
                    ..id.clone()
                },
                col("note", DataType::Text),
            ],
            constraints: vec![],
            comment: None,
        }),
        Op::RenameTable {
            old_name: "order".into(),
            new_name: "purchase".into(),
        },
        Op::DropTable {
            name: "purchase".into(),
        },
    ]
}

/// A step's statements, each ended by `;` on its own line.
fn script_sql(script: &sql::StepScript) -> String {
    script
        .before
        .iter()
        .chain(&script.body)
        .chain(&script.after)
        .map(|statement| format!("{};\n", statement.sql))
        .collect()
}

fn render_all(name: DialectName) -> String {
    let dialect = sql::dialect(name).unwrap();
    let mut schema = Schema::default();
    let mut out = String::new();
    for (i, op) in every_op().iter().enumerate() {
        let script = render_step(dialect, &mut schema, std::slice::from_ref(op), vec![])
            .unwrap_or_else(|e| panic!("{name:?}: {e}"));
        out.push_str(&format!("-- #{} {}\n", i + 1, op.describe()));
        out.push_str(&script_sql(&script));
        out.push('\n');
    }
    out
}

#[test]
fn sqlite_renders_every_op() {
    insta::assert_snapshot!(render_all(DialectName::Sqlite));
}

#[test]
fn postgresql_renders_every_op() {
    insta::assert_snapshot!(render_all(DialectName::Postgresql));
}

#[test]
fn mysql_renders_every_op() {
    insta::assert_snapshot!(render_all(DialectName::Mysql));
}

#[test]
fn version_table_renders_for_every_dialect() {
    for name in [
        DialectName::Sqlite,
        DialectName::Postgresql,
        DialectName::Mysql,
    ] {
        let dialect = sql::dialect(name).unwrap();
        let ddl: Vec<String> = sql::version_table::ensure(dialect, &Default::default())
            .into_iter()
            .map(|s| s.sql)
            .collect();
        insta::assert_snapshot!(format!("version_table_{name:?}"), ddl.join(";\n"));
    }
}

/// Options only some databases have: each op rendered on its own against a table that has the
/// columns, as SQL where the database can make it and as the refusal where it cannot.
fn options_or_refusals(name: DialectName) -> String {
    let dialect = sql::dialect(name).unwrap();
    let table = Op::CreateTable(Table {
        name: "doc".into(),
        columns: vec![
            Column {
                primary_key: true,
                nullable: false,
                ..col("id", DataType::Integer)
            },
            col("title", DataType::Varchar(200)),
            col("body", DataType::Text),
            col("deleted_at", DataType::Timestamp),
        ],
        constraints: vec![],
        comment: None,
    });
    let index = |name: &str, columns: &[&str], keys: Vec<IndexKey>| Index {
        name: name.into(),
        table: "doc".into(),
        columns: strings(columns),
        keys,
        ..Index::default()
    };
    let options = vec![
        Op::CreateIndex(index(
            "ix_doc_title_desc",
            &["title"],
            vec![IndexKey {
                descending: true,
                ..IndexKey::default()
            }],
        )),
        Op::CreateIndex(index(
            "ix_doc_lower_title",
            &["lower(title)"],
            vec![IndexKey {
                expression: true,
                ..IndexKey::default()
            }],
        )),
        Op::CreateIndex(Index {
            unique: true,
            predicate: Some("deleted_at IS NULL".into()),
            ..index("ix_doc_live_title", &["title"], vec![])
        }),
        Op::CreateIndex(Index {
            include: strings(&["deleted_at"]),
            ..index("ix_doc_title_cover", &["title"], vec![])
        }),
        Op::CreateIndex(index(
            "ix_doc_body",
            &["body"],
            vec![IndexKey {
                prefix_length: Some(20),
                ..IndexKey::default()
            }],
        )),
        Op::AddColumn {
            table: "doc".into(),
            column: Column {
                generated: Some(Generated {
                    expression: "length(body)".into(),
                    stored: false,
                }),
                ..col("body_length", DataType::Integer)
            },
        },
        Op::CreateTable(Table {
            name: "counter".into(),
            columns: vec![Column {
                primary_key: true,
                autoincrement: true,
                nullable: false,
                identity: Some(Identity {
                    always: true,
                    start: Some(10),
                    increment: Some(10),
                }),
                ..col("id", DataType::Bigint)
            }],
            constraints: vec![],
            comment: None,
        }),
    ];
    let mut out = String::new();
    for op in options {
        let mut schema = Schema::default();
        render_step(dialect, &mut schema, std::slice::from_ref(&table), vec![]).unwrap();
        out.push_str(&format!("-- {}\n", op.describe()));
        match render_step(dialect, &mut schema, std::slice::from_ref(&op), vec![]) {
            Ok(script) => out.push_str(&script_sql(&script)),
            Err(e) => out.push_str(&format!("-- refused: {e}\n")),
        }
        out.push('\n');
    }
    out
}

#[test]
fn options_render_or_are_refused_on_each_database() {
    for name in [
        DialectName::Sqlite,
        DialectName::Postgresql,
        DialectName::Mysql,
    ] {
        insta::assert_snapshot!(format!("options_{name:?}"), options_or_refusals(name));
    }
}
