//! What an `execute` statement does to objects the schema model tracks only by their SQL:
//! a leading `CREATE TRIGGER|VIEW|INDEX` or `DROP TRIGGER|VIEW|INDEX`. A keyword scan of the
//! statement's head, not a parser: enough to keep such objects through a SQLite table rebuild,
//! and silent (no effect) on anything else.

use crate::schema::{DatabaseObject, ObjectKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Create(DatabaseObject),
    Drop(String),
}

/// Words of the statement's head, identifiers unquoted, lowercased keywords kept as written.
fn words(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(&c) = chars.peek() {
        if out.len() >= 16 {
            break;
        }
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' || c == '`' || c == '[' {
            let close = if c == '[' { ']' } else { c };
            chars.next();
            let mut word = String::new();
            while let Some(ch) = chars.next() {
                if ch == close {
                    if chars.peek() == Some(&close) && close != ']' {
                        chars.next();
                        word.push(close);
                        continue;
                    }
                    break;
                }
                word.push(ch);
            }
            out.push(word);
        } else if c.is_alphanumeric() || c == '_' {
            let mut word = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_alphanumeric() || ch == '_' || ch == '$' {
                    word.push(ch);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(word);
        } else {
            out.push(c.to_string());
            chars.next();
        }
    }
    out
}

/// Whether `sql` is one piece of a statement: no `;` and no comment outside quotes. `None`
/// when it does not tokenize.
pub fn is_one_fragment(sql: &str) -> Option<bool> {
    use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};
    let tokens = Tokenizer::new(&sqlparser::dialect::GenericDialect {}, sql)
        .tokenize()
        .ok()?;
    Some(!tokens.iter().any(|t| {
        matches!(
            t,
            Token::SemiColon
                | Token::Whitespace(Whitespace::SingleLineComment { .. })
                | Token::Whitespace(Whitespace::MultiLineComment(_))
        )
    }))
}

/// The first keyword of each statement in `sql` (comments and whitespace skipped), upper-cased:
/// what kind of statements a raw SQL text holds. `None` when it does not tokenize.
pub fn leading_keywords(sql: &str) -> Option<Vec<String>> {
    use sqlparser::tokenizer::{Token, Tokenizer};
    let tokens = Tokenizer::new(&sqlparser::dialect::SQLiteDialect {}, sql)
        .tokenize()
        .ok()?;
    let mut out = Vec::new();
    let mut at_start = true;
    for token in tokens {
        match token {
            Token::Whitespace(_) => {}
            Token::SemiColon => at_start = true,
            Token::Word(word) if at_start => {
                out.push(word.value.to_ascii_uppercase());
                at_start = false;
            }
            _ => at_start = false,
        }
    }
    Some(out)
}

pub fn effect(sql: &str) -> Option<Effect> {
    let w = words(sql);
    let lower: Vec<String> = w.iter().map(|s| s.to_ascii_lowercase()).collect();
    let at = |i: usize| lower.get(i).map(String::as_str).unwrap_or("");
    let mut i = 0;
    match at(0) {
        "create" => {
            i += 1;
            while matches!(at(i), "temp" | "temporary" | "unique") {
                i += 1;
            }
            let kind = match at(i) {
                "trigger" => ObjectKind::Trigger,
                "view" => ObjectKind::View,
                "index" => ObjectKind::Index,
                _ => return None,
            };
            i += 1;
            if at(i) == "if" && at(i + 1) == "not" && at(i + 2) == "exists" {
                i += 3;
            }
            let name = w.get(i)?.clone();
            let table = match kind {
                ObjectKind::View => String::new(),
                _ => {
                    let on = lower.iter().skip(i + 1).position(|x| x == "on")? + i + 1;
                    w.get(on + 1)?.clone()
                }
            };
            let sql = sql.trim().trim_end_matches(';').trim().to_string();
            Some(Effect::Create(DatabaseObject {
                kind,
                name,
                table,
                sql,
            }))
        }
        "drop" if matches!(at(1), "trigger" | "view" | "index") => {
            i = 2;
            if at(i) == "if" && at(i + 1) == "exists" {
                i += 2;
            }
            Some(Effect::Drop(w.get(i)?.clone()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_of_statements_are_recognised() {
        let Some(Effect::Create(t)) = effect("CREATE TRIGGER IF NOT EXISTS \"audit it\" AFTER INSERT ON parent BEGIN INSERT INTO a VALUES (1); END;") else { panic!() };
        assert_eq!(
            (t.kind, t.name.as_str(), t.table.as_str()),
            (ObjectKind::Trigger, "audit it", "parent")
        );
        assert!(t.sql.ends_with("END"));
        let Some(Effect::Create(v)) = effect("create view v_names as select name from parent")
        else {
            panic!()
        };
        assert_eq!(
            (v.kind, v.name.as_str(), v.table.as_str()),
            (ObjectKind::View, "v_names", "")
        );
        let Some(Effect::Create(i)) = effect("CREATE UNIQUE INDEX ix ON `parent` (name)") else {
            panic!()
        };
        assert_eq!((i.kind, i.table.as_str()), (ObjectKind::Index, "parent"));
        assert_eq!(
            effect("DROP VIEW IF EXISTS v_names"),
            Some(Effect::Drop("v_names".into()))
        );
        assert_eq!(effect("UPDATE parent SET x = 1"), None);
        assert_eq!(effect("CREATE TABLE t (a int)"), None);
    }
}
