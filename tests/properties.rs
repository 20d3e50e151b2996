//! Property tests of the pure core: whatever the input, the graph resolver, target expressions,
//! op validation and SQL rendering answer with a value or a clear error, never a panic; and what
//! they accept obeys their contracts.

use migrate_core::ops::Op;
use migrate_core::revision::{Graph, RevisionMeta};
use migrate_core::schema::Schema;
use migrate_core::sql::{self, render_step, DialectName};
use migrate_core::target;
use migrate_core::types::*;
use proptest::prelude::*;

fn id() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a", "b", "c", "d", "e", "f", "ab", "abc", "b1", "c2"])
        .prop_map(String::from)
}

fn metas() -> impl Strategy<Value = Vec<RevisionMeta>> {
    let entry = (
        id(),
        prop::collection::vec(id(), 0..3),
        prop::collection::vec(id(), 0..2),
    );
    prop::collection::vec(entry, 0..10).prop_map(|entries| {
        entries
            .into_iter()
            .map(|(id, downs, depends_on)| RevisionMeta {
                id,
                down_revisions: downs,
                depends_on,
                ..RevisionMeta::default()
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random graphs (cycles, duplicates, dangling parents included) never panic; an accepted
    /// graph orders parents first, and planning to every head and back is consistent.
    #[test]
    fn graphs_are_accepted_in_order_or_refused(metas in metas()) {
        let entries = metas.iter().cloned().map(|m| { let o = m.id.clone(); (m, o) }).collect();
        if let Ok(graph) = Graph::new(entries) {
            let order: Vec<&RevisionMeta> = graph.in_order().collect();
            for (i, meta) in order.iter().enumerate() {
                for down in &meta.down_revisions {
                    prop_assert!(order[..i].iter().any(|m| &m.id == down), "{} before its parent {down}", meta.id);
                }
            }
            let heads = graph.heads();
            let up = graph.upgrade_steps(&[], &heads);
            prop_assert_eq!(up.len(), order.len());
            let down = graph.downgrade_steps(&heads, &[]);
            let mut reversed = up.clone();
            reversed.reverse();
            prop_assert_eq!(down, reversed);
            prop_assert_eq!(graph.heads_of(&graph.with_ancestors(&heads)), heads);
        }
    }

    /// Any target text resolves to revisions of the graph or to a clear error.
    #[test]
    fn target_expressions_never_panic(metas in metas(), text in "\\PC{0,12}", current in prop::collection::vec(id(), 0..3)) {
        let entries = metas.into_iter().map(|m| { let o = m.id.clone(); (m, o) }).collect();
        if let Ok(graph) = Graph::new(entries) {
            let current: Vec<String> = current.into_iter().filter(|c| graph.get(c).is_some()).collect();
            match target::resolve(&graph, &text, &current) {
                Ok(targets) => for t in targets { prop_assert!(graph.get(&t).is_some()) },
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
    }

    /// Ops with arbitrary names, types and values validate and render in every dialect without
    /// panicking; what renders names every identifier only inside its dialect's quotes.
    #[test]
    fn arbitrary_ops_validate_and_render(
        table in "\\PC{0,10}", column in "\\PC{0,10}", text in "\\PC{0,20}",
        length in 0u32..300, precision in 0u8..40, scale in 0u8..40, number in any::<i64>(), float in any::<f64>(),
    ) {
        let types = [
            DataType::Varchar(length), DataType::Numeric { precision, scale }, DataType::Text, DataType::Boolean,
            DataType::Enum { name: text.clone(), values: vec![text.clone(), column.clone()] },
        ];
        for data_type in types {
            let col = Column {
                server_default: Some(ServerDefault::Literal(Value::Text(text.clone()))), comment: Some(text.clone()),
                native_types: vec![NativeType { dialect: TypeDialect::Mysql, sql: text.clone() }],
                ..Column::new(column.clone(), data_type)
            };
            let ops = vec![
                Op::CreateTable(Table { name: table.clone(), columns: vec![col.clone()], constraints: vec![], comment: None }),
                Op::BulkInsert { table: table.clone(), columns: vec![column.clone()], rows: vec![vec![Value::Text(text.clone())], vec![Value::Integer(number)], vec![Value::Float(float)]] },
                Op::AlterColumn(ColumnChange { table: table.clone(), column: column.clone(), new_type: Some(DataType::Text), nullable: Some(false), server_default: None, new_name: None, comment: None, new_native_types: vec![] }),
                Op::AlterEnum { name: text.clone(), values: vec![column.clone()] },
            ];
            for name in [DialectName::Sqlite, DialectName::Postgresql, DialectName::Mysql] {
                let dialect = sql::dialect(name).unwrap();
                let _ = render_step(dialect, &mut Schema::default(), &ops, vec![]);
            }
        }
    }

    /// Quoting: an identifier renders as the dialect's quote, the name with its quote doubled, and
    /// the quote again, so no name can end the identifier early.
    #[test]
    fn identifiers_are_quoted_safely(name in "\\PC{0,30}") {
        for (dialect, quote) in [(DialectName::Sqlite, '"'), (DialectName::Postgresql, '"'), (DialectName::Mysql, '`')] {
            let quoted = sql::dialect(dialect).unwrap().quote_ident(&name);
            let inner = &quoted[1..quoted.len() - 1];
            prop_assert!(quoted.starts_with(quote) && quoted.ends_with(quote));
            prop_assert_eq!(inner.replace(&format!("{quote}{quote}"), &quote.to_string()), name.clone());
            let doubled = format!("{quote}{quote}");
            let lone_quote = inner.replace(&doubled, "").contains(quote);
            prop_assert!(!lone_quote, "a lone quote in {}", quoted);
        }
    }
}

/// Pieces of CHECK expressions: the column, other names, operators, and string literals full of
/// doubled quotes that would read as SQL if printed back without them.
fn check_piece() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "note",
        "\"note\"",
        "`note`",
        "x",
        "note_2",
        ">",
        "<>",
        "=",
        "0",
        "AND",
        "OR",
        "(",
        ")",
        "'q'' OR ''1''=''1'",
        "'it''s'",
        "'note'",
        "''",
        "'a\"b'",
        "-- c\n",
        "/* note */",
    ])
    .prop_map(String::from)
}

fn check_expression() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (check_piece(), prop::sample::select(vec![" ", "", "\n"])),
        1..12,
    )
    .prop_map(|parts| {
        parts
            .into_iter()
            .map(|(p, sep)| format!("{p}{sep}"))
            .collect()
    })
}

/// The tokens of an expression with whitespace dropped and identifiers compared by name only.
fn meaning(expression: &str, rename: Option<(&str, &str)>) -> Option<Vec<String>> {
    use sqlparser::tokenizer::{Token, Tokenizer};
    let tokens = Tokenizer::new(&sqlparser::dialect::GenericDialect {}, expression)
        .tokenize()
        .ok()?;
    Some(
        tokens
            .into_iter()
            .filter(|t| !matches!(t, Token::Whitespace(_)))
            .map(|t| match t {
                Token::Word(w) => {
                    let name = match rename {
                        Some((old, new)) if w.value == old => new.to_string(),
                        _ => w.value,
                    };
                    format!("word:{name}")
                }
                other => format!("{other:?}"),
            })
            .collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, failure_persistence: None, ..ProptestConfig::default() })]

    /// Renaming a column never changes what a check means: its tokens afterwards are its tokens
    /// before with the one name replaced (string literals, comments and the rest untouched).
    #[test]
    fn renaming_a_column_never_changes_a_checks_meaning(expression in check_expression()) {
        let renamed = migrate_core::expression::rename_column(&expression, "note", "re'mark\"");
        match meaning(&expression, Some(("note", "re'mark\""))) {
            Some(expected) => prop_assert_eq!(meaning(&renamed, None), Some(expected), "{} -> {}", expression, renamed),
            None => prop_assert_eq!(renamed, expression),
        }
    }
}
