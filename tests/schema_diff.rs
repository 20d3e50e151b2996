//! The model parser and the schema diff, without a database: what a model file means, and that
//! the diff's upgrade turns one schema into the other and its downgrade turns it back.

use migrate_core::diff::{diff, Compare, Diff, Rename};
use migrate_core::model_sql::parse;
use migrate_core::ops::Op;
use migrate_core::schema::Schema;
use migrate_core::types::*;

fn model(sql: &str) -> Schema {
    parse(sql).unwrap_or_else(|e| panic!("model does not parse: {e}\n{sql}"))
}

fn apply(schema: &Schema, ops: &[Op]) -> Schema {
    let mut s = schema.clone();
    for op in ops {
        s.apply(op)
            .unwrap_or_else(|e| panic!("{e} while applying {ops:#?}"));
    }
    s
}

/// Upgrade from `a` reaches `b`, downgrade from there comes back to `a`: each checked by a diff
/// that must then be empty.
fn assert_round_trip(a: &Schema, b: &Schema, renames: &[Rename]) -> Diff {
    let d = diff(a, b, renames, Compare::default()).unwrap();
    let upgraded = apply(a, &d.upgrade);
    let left = diff(&upgraded, b, &[], Compare::default()).unwrap();
    assert!(
        left.is_empty(),
        "after the upgrade {:#?} still differs: {:#?}",
        d.upgrade,
        left.upgrade
    );
    let downgraded = apply(&upgraded, &d.downgrade);
    let left = diff(&downgraded, a, &[], Compare::default()).unwrap();
    assert!(
        left.is_empty(),
        "after the downgrade {:#?} still differs: {:#?}",
        d.downgrade,
        left.upgrade
    );
    d
}

fn flask_v01() -> Schema {
    model(include_str!("../examples/flask-diamond/model/v0.1.sql"))
}

fn flask_v02() -> Schema {
    model(include_str!("../examples/flask-diamond/model/v0.2.sql"))
}

fn column(name: &str, data_type: DataType) -> Column {
    Column::new(name, data_type)
}

fn key(columns: &[&str]) -> Column {
    Column {
        primary_key: true,
        nullable: false,
        ..column(columns[0], DataType::Integer)
    }
}

#[test]
fn the_flask_diamond_model_gives_the_ops_of_the_shipped_base_revision() {
    let d = diff(&Schema::default(), &flask_v01(), &[], Compare::default()).unwrap();
    let fk = |col: &str, table: &str| {
        TableConstraint::ForeignKey(ForeignKey {
            name: None,
            columns: vec![col.into()],
            referred_table: table.into(),
            referred_columns: vec!["id".into()],
            on_delete: None,
            on_update: None,
        })
    };
    let expected = vec![
        Op::CreateTable(Table {
            name: "role".into(),
            columns: vec![
                key(&["id"]),
                Column {
                    unique: true,
                    ..column("name", DataType::Varchar(80))
                },
                column("description", DataType::Varchar(255)),
            ],
            constraints: vec![],
            comment: None,
        }),
        Op::CreateTable(Table {
            name: "user".into(),
            columns: vec![
                key(&["id"]),
                Column {
                    unique: true,
                    ..column("email", DataType::Varchar(255))
                },
                Column {
                    nullable: false,
                    ..column("password", DataType::Varchar(255))
                },
                column("active", DataType::Boolean),
                column("confirmed_at", DataType::Timestamp),
            ],
            constraints: vec![],
            comment: None,
        }),
        Op::CreateTable(Table {
            name: "roles_users".into(),
            columns: vec![
                column("user_id", DataType::Integer),
                column("role_id", DataType::Integer),
            ],
            constraints: vec![fk("user_id", "user"), fk("role_id", "role")],
            comment: None,
        }),
    ];
    assert_eq!(d.upgrade, expected);
    assert_eq!(
        d.downgrade,
        vec![
            Op::DropTable {
                name: "roles_users".into()
            },
            Op::DropTable {
                name: "user".into()
            },
            Op::DropTable {
                name: "role".into()
            },
        ]
    );
}

#[test]
fn adding_the_login_columns_gives_the_ops_of_the_shipped_second_revision() {
    let d = assert_round_trip(&flask_v01(), &flask_v02(), &[]);
    let login = [
        ("current_login_at", DataType::Timestamp),
        ("current_login_ip", DataType::Varchar(255)),
        ("last_login_at", DataType::Timestamp),
        ("last_login_ip", DataType::Varchar(255)),
        ("login_count", DataType::Integer),
    ];
    let adds: Vec<Op> = login
        .iter()
        .map(|(n, t)| Op::AddColumn {
            table: "user".into(),
            column: column(n, t.clone()),
        })
        .collect();
    let drops: Vec<Op> = login
        .iter()
        .rev()
        .map(|(n, _)| Op::DropColumn {
            table: "user".into(),
            column: n.to_string(),
        })
        .collect();
    assert_eq!(d.upgrade, adds);
    assert_eq!(d.downgrade, drops);
}

#[test]
fn an_identical_model_has_no_difference() {
    let d = diff(&flask_v02(), &flask_v02(), &[], Compare::default()).unwrap();
    assert!(
        d.is_empty() && d.downgrade.is_empty() && d.warnings.is_empty(),
        "{d:#?}"
    );
    // Column-level and table-level spellings of the same keys are the same schema.
    let a = model("CREATE TABLE t (id INTEGER PRIMARY KEY, e TEXT UNIQUE);");
    let b = model("CREATE TABLE t (id INTEGER NOT NULL, e TEXT, PRIMARY KEY (id), UNIQUE (e));");
    assert!(diff(&a, &b, &[], Compare::default()).unwrap().is_empty());
}

const MODEL_A: &str = "
    CREATE TABLE author (id INTEGER PRIMARY KEY, name VARCHAR(80) NOT NULL, born DATE, bio TEXT);
    CREATE TABLE tag (id INTEGER PRIMARY KEY, label VARCHAR(20) DEFAULT 'new', CONSTRAINT ck_label CHECK (label <> ''));
    CREATE INDEX ix_author_name ON author (name);
";

const MODEL_B: &str = "
    CREATE TABLE book (
        id INTEGER PRIMARY KEY,
        author_id INTEGER NOT NULL,
        title TEXT,
        CONSTRAINT fk_book_author FOREIGN KEY (author_id) REFERENCES author (id) ON DELETE CASCADE
    );
    CREATE TABLE author (id INTEGER PRIMARY KEY, name TEXT, born DATE, email VARCHAR(255), rating INTEGER DEFAULT 0);
    CREATE UNIQUE INDEX ux_author_email ON author (email);
    CREATE TABLE tag (id INTEGER PRIMARY KEY, label VARCHAR(20) DEFAULT 'old');
";

#[test]
fn a_model_change_round_trips_in_dependency_order() {
    let d = assert_round_trip(&model(MODEL_A), &model(MODEL_B), &[]);
    let described: Vec<String> = d.upgrade.iter().map(Op::describe).collect();
    let position = |prefix: &str| {
        described
            .iter()
            .position(|d| d.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {described:#?}"))
    };
    // The index on the column whose type changes goes before the change, the check before its
    // table changes; the new table and its key after author has what the key needs.
    assert!(
        position("drop_index \"ix_author_name\"") < position("alter_column \"author\".\"name\"")
    );
    assert!(position("drop_constraint \"ck_label\"") < position("alter_column \"tag\".\"label\""));
    assert!(position("create_table \"book\"") < position("create_index \"ux_author_email\""));
    assert!(
        position("drop_column \"author\".\"bio\"") > position("add_column \"author\".\"email\"")
    );
    let alter = d
        .upgrade
        .iter()
        .find_map(|op| match op {
            Op::AlterColumn(c) if c.column == "name" => Some(c.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        (alter.new_type, alter.nullable),
        (Some(DataType::Text), Some(true))
    );
    // bio (TEXT) and email (VARCHAR) do not look like a rename.
    assert!(d.warnings.is_empty(), "{:#?}", d.warnings);
}

#[test]
fn tables_are_dropped_before_the_tables_they_reference() {
    let d = assert_round_trip(&model(MODEL_B), &model(MODEL_A), &[]);
    let described: Vec<String> = d.upgrade.iter().map(Op::describe).collect();
    assert_eq!(described[0], "drop_table \"book\"", "{described:#?}");
}

#[test]
fn new_tables_are_created_after_the_tables_they_reference_and_cycles_get_separate_keys() {
    let empty = Schema::default();
    let chain = model(
        "CREATE TABLE c (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b (id));
         CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));
         CREATE TABLE a (id INTEGER PRIMARY KEY);",
    );
    let d = assert_round_trip(&empty, &chain, &[]);
    let names: Vec<String> = d.upgrade.iter().map(Op::describe).collect();
    assert_eq!(
        names,
        [
            "create_table \"a\"",
            "create_table \"b\"",
            "create_table \"c\""
        ]
    );
    assert_eq!(
        d.downgrade.iter().map(Op::describe).collect::<Vec<_>>(),
        ["drop_table \"c\"", "drop_table \"b\"", "drop_table \"a\""]
    );

    let cycle = model(
        "CREATE TABLE x (id INTEGER PRIMARY KEY, y_id INTEGER, CONSTRAINT fk_x_y FOREIGN KEY (y_id) REFERENCES y (id));
         CREATE TABLE y (id INTEGER PRIMARY KEY, x_id INTEGER, CONSTRAINT fk_y_x FOREIGN KEY (x_id) REFERENCES x (id));",
    );
    let d = diff(&empty, &cycle, &[], Compare::default()).unwrap();
    let names: Vec<String> = d.upgrade.iter().map(Op::describe).collect();
    assert_eq!(
        names,
        [
            "create_table \"x\"",
            "create_table \"y\"",
            "create_foreign_key \"fk_x_y\" on \"x\""
        ]
    );
    assert!(
        diff(&apply(&empty, &d.upgrade), &cycle, &[], Compare::default())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn renames_are_hinted_and_made_when_asked() {
    let a = model("CREATE TABLE person (id INTEGER PRIMARY KEY, full_name TEXT, age INTEGER);");
    let b = model("CREATE TABLE member (id INTEGER PRIMARY KEY, name TEXT, age INTEGER);");
    let plain = diff(&a, &b, &[], Compare::default()).unwrap();
    assert!(
        plain
            .warnings
            .iter()
            .any(|w| w.contains("--rename person=member")),
        "{:#?}",
        plain.warnings
    );

    let table = Rename::parse("person=member").unwrap();
    let d = assert_round_trip(&a, &b, std::slice::from_ref(&table));
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("--rename member.full_name=name")),
        "{:#?}",
        d.warnings
    );

    let column = Rename::parse("member.full_name=name").unwrap();
    let d = assert_round_trip(&a, &b, &[table, column]);
    let names: Vec<String> = d.upgrade.iter().map(Op::describe).collect();
    assert_eq!(
        names,
        [
            "rename_table \"person\" -> \"member\"",
            "alter_column \"member\".\"full_name\""
        ]
    );
    assert!(d.warnings.is_empty(), "{:#?}", d.warnings);
    let back: Vec<String> = d.downgrade.iter().map(Op::describe).collect();
    assert_eq!(
        back,
        [
            "alter_column \"member\".\"name\"",
            "rename_table \"member\" -> \"person\""
        ]
    );

    let err = diff(
        &a,
        &b,
        &[Rename::parse("nobody=member").unwrap()],
        Compare::default(),
    )
    .unwrap_err();
    assert!(err.contains("no table \"nobody\""), "{err}");
    assert!(Rename::parse("justaname").is_err());
}

#[test]
fn model_errors_point_at_line_and_column() {
    let err = parse("CREATE TABLE t (\n  id INTEGER,\n  x GEOMETRY\n);").unwrap_err();
    assert_eq!((err.line, err.column), (3, 3), "{err}");
    assert!(
        err.message.contains("GEOMETRY") && err.message.contains("portable"),
        "{err}"
    );

    let err = parse("CREATE TABLE t (id INTEGER);\n\nDROP TABLE t;").unwrap_err();
    assert_eq!(err.line, 3, "{err}");
    assert!(
        err.message.contains("only CREATE TABLE, CREATE INDEX"),
        "{err}"
    );

    let err = parse("CREATE TABLE t (id INTEGER,\n  name TEXT NOT NUL\n);").unwrap_err();
    assert_eq!(err.line, 2, "{err}");

    let err = parse("CREATE TABLE t (id INTEGER REFERENCES missing (id));").unwrap_err();
    assert!(err.message.contains("\"missing\""), "{err}");
    assert_eq!(err.line, 1);

    let err = parse("CREATE TABLE t (id INTEGER);\nCREATE INDEX ix ON t (nope);").unwrap_err();
    assert_eq!(err.line, 2, "{err}");
    assert!(err.message.contains("no column \"nope\""), "{err}");

    let err = parse("CREATE TABLE t (id INTEGER);\nCREATE TABLE t (id INTEGER);").unwrap_err();
    assert_eq!(err.line, 2, "{err}");
}

#[test]
fn portable_types_defaults_and_keys_are_read_from_common_spellings() {
    let s = model(
        "CREATE TABLE t (
            a SERIAL PRIMARY KEY, b BIGINT, c SMALLINT, d BOOL DEFAULT TRUE, e CHARACTER VARYING(9),
            f REAL, g DOUBLE PRECISION, h DECIMAL(10, 2) DEFAULT -1.5, i DATE, j TIME, k TIMESTAMP,
            l TIMESTAMP WITH TIME ZONE, m TIMESTAMPTZ, n BYTEA, o BLOB, p JSONB, q UUID,
            r TIMESTAMP DEFAULT CURRENT_TIMESTAMP, s TEXT DEFAULT 'it''s', u INT DEFAULT -3 NOT NULL,
            v INTEGER CONSTRAINT uq_v UNIQUE
        );",
    );
    let t = &s.table("t").unwrap().table;
    let types: Vec<DataType> = t.columns.iter().map(|c| c.data_type.clone()).collect();
    use DataType::*;
    assert_eq!(
        types,
        [
            Integer,
            Bigint,
            Smallint,
            Boolean,
            Varchar(9),
            Float,
            Double,
            Numeric {
                precision: 10,
                scale: 2
            },
            Date,
            Time,
            Timestamp,
            Timestamptz,
            Timestamptz,
            Blob,
            Blob,
            Json,
            Uuid,
            Timestamp,
            Text,
            Integer,
            Integer
        ]
    );
    let col = |n: &str| t.columns.iter().find(|c| c.name == n).unwrap();
    assert!(col("a").autoincrement && col("a").primary_key);
    assert_eq!(
        col("d").server_default,
        Some(ServerDefault::Literal(Value::Boolean(true)))
    );
    assert_eq!(
        col("h").server_default,
        Some(ServerDefault::Literal(Value::Float(-1.5)))
    );
    assert_eq!(
        col("r").server_default,
        Some(ServerDefault::Expression("CURRENT_TIMESTAMP".into()))
    );
    assert_eq!(
        col("s").server_default,
        Some(ServerDefault::Literal(Value::Text("it's".into())))
    );
    assert_eq!(
        col("u").server_default,
        Some(ServerDefault::Literal(Value::Integer(-3)))
    );
    assert!(!col("u").nullable);
    assert_eq!(
        t.constraints,
        [TableConstraint::Unique(UniqueConstraint {
            name: Some("uq_v".into()),
            columns: vec!["v".into()]
        })]
    );
}

#[test]
fn defaults_compare_by_meaning_not_spelling() {
    use migrate_core::diff::canonical_default;
    let e = |s: &str| ServerDefault::Expression(s.into());
    let l = ServerDefault::Literal;
    assert_eq!(
        canonical_default(&e("'abc'::character varying"), &DataType::Varchar(5)),
        canonical_default(&l(Value::Text("abc".into())), &DataType::Varchar(5))
    );
    assert_eq!(
        canonical_default(&e("now()"), &DataType::Timestamp),
        canonical_default(&e("CURRENT_TIMESTAMP"), &DataType::Timestamp)
    );
    assert_eq!(
        canonical_default(&e("1"), &DataType::Boolean),
        canonical_default(&l(Value::Boolean(true)), &DataType::Boolean)
    );
    assert_eq!(
        canonical_default(&e("('0')"), &DataType::Integer),
        canonical_default(&l(Value::Integer(0)), &DataType::Integer)
    );
    assert_ne!(
        canonical_default(&e("'a'"), &DataType::Text),
        canonical_default(&e("'b'"), &DataType::Text)
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A model as SQL: up to four tables, each with an id key, some of a pool of columns, maybe
    /// a foreign key to a table before it, a named check and indexes.
    fn model_sql() -> impl Strategy<Value = String> {
        let column = (0..6usize, 0..5usize, any::<bool>(), 0..3usize);
        let table = (
            prop::collection::vec(column, 0..5),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        );
        prop::collection::vec((any::<bool>(), table), 4).prop_map(|tables| {
            let names = ["alpha", "beta", "gamma", "delta", "eps", "zeta"];
            let types = ["INTEGER", "TEXT", "VARCHAR(40)", "BOOLEAN", "NUMERIC(8, 2)"];
            let mut sql = String::new();
            let mut made: Vec<usize> = vec![];
            for (t, (present, (columns, fk, check, index, unique))) in tables.into_iter().enumerate() {
                if !present {
                    continue;
                }
                let mut defs = vec!["id INTEGER PRIMARY KEY".to_string()];
                let mut seen = vec![];
                for (name, ty, nullable, default) in columns {
                    if seen.contains(&name) {
                        continue;
                    }
                    seen.push(name);
                    let ty = types[ty];
                    let default = match (default, ty) {
                        (1, "INTEGER" | "NUMERIC(8, 2)") => " DEFAULT 7",
                        (1, "BOOLEAN") => " DEFAULT TRUE",
                        (1, _) => " DEFAULT 'x'",
                        (2, _) => " DEFAULT NULL",
                        _ => "",
                    };
                    let null = if nullable { "" } else { " NOT NULL" };
                    defs.push(format!("{} {ty}{null}{default}", names[name]));
                }
                if let (true, Some(parent)) = (fk, made.last()) {
                    defs.push("parent_id INTEGER".into());
                    defs.push(format!(
                        "CONSTRAINT fk_t{t}_parent FOREIGN KEY (parent_id) REFERENCES t{parent} (id) ON DELETE CASCADE"
                    ));
                }
                if check {
                    defs.push(format!("CONSTRAINT ck_t{t} CHECK (id > 0)"));
                }
                sql.push_str(&format!("CREATE TABLE t{t} ({});\n", defs.join(", ")));
                if index {
                    let u = if unique { "UNIQUE " } else { "" };
                    sql.push_str(&format!("CREATE {u}INDEX ix_t{t}_id ON t{t} (id);\n"));
                }
                made.push(t);
            }
            sql
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// Between any two models, the upgrade reaches the second, the downgrade returns to the
        /// first, and the schema model accepts every op in the order given.
        #[test]
        fn any_two_models_round_trip(a in model_sql(), b in model_sql()) {
            assert_round_trip(&model(&a), &model(&b), &[]);
        }

        /// Whatever the text, the model parser answers with a schema or an error, never a panic.
        #[test]
        fn the_model_parser_never_panics(text in "\\PC{0,200}") {
            let _ = parse(&text);
        }

        #[test]
        fn sql_shaped_input_never_panics(
            parts in prop::collection::vec(prop::sample::select(vec![
                "CREATE", "TABLE", "INDEX", "UNIQUE", "t", "(", ")", ",", ";", "id", "INTEGER",
                "PRIMARY", "KEY", "REFERENCES", "DEFAULT", "'x'", "-", "1", "NOT", "NULL", "CHECK",
                "ON", "FOREIGN", "CONSTRAINT", "VARCHAR(3)", "\"q\"", "ALTER", "DROP",
            ]), 0..40)
        ) {
            let _ = parse(&parts.join(" "));
        }
    }

    #[test]
    fn deeply_nested_defaults_are_refused_not_a_crash() {
        let deep = format!(
            "CREATE TABLE t (id INTEGER DEFAULT {}1{});",
            "(".repeat(5000),
            ")".repeat(5000)
        );
        assert!(parse(&deep).is_err());
    }
}
