//! Column names inside SQL expressions (CHECK constraints), found with sqlparser's tokenizer so
//! that string literals and longer names never match: `CHECK (status <> 'email')` does not
//! use the column `email`.

use sqlparser::dialect::GenericDialect;
use sqlparser::tokenizer::{Token, Tokenizer, Word};

fn tokens(expression: &str) -> Option<Vec<Token>> {
    Tokenizer::new(&GenericDialect {}, expression)
        .tokenize()
        .ok()
}

fn is_column(token: &Token, column: &str) -> bool {
    matches!(token, Token::Word(Word { value, .. }) if value == column)
}

/// Whether the expression names `column` (quoted or not). An expression that does not even
/// tokenize is assumed to name it: keeping a broken check would fail later, less clearly.
pub fn mentions_column(expression: &str, column: &str) -> bool {
    tokens(expression).is_none_or(|t| t.iter().any(|t| is_column(t, column)))
}

/// The expression with `old` renamed to `new` wherever it names the column. Only those names'
/// own characters change: every other byte (string literals with their doubled quotes,
/// comments, whitespace) is copied from the original, so a rename can never change what the
/// rest of the check means. (Printing tokens back lost the `''` inside literals, turning
/// `note <> 'q'' OR ''1''=''1'` into a check that always passes.)
pub fn rename_column(expression: &str, old: &str, new: &str) -> String {
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, expression).tokenize_with_location() else {
        return expression.to_string();
    };
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(expression.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    // A (line, column) location, both counted from 1 in characters, as a byte offset.
    let offset = |line: u64, column: u64| -> Option<usize> {
        let start = *line_starts.get(usize::try_from(line).ok()?.checked_sub(1)?)?;
        let column = usize::try_from(column).ok()?.checked_sub(1)?;
        let rest = &expression[start..];
        match rest.char_indices().nth(column) {
            Some((i, _)) => Some(start + i),
            None if rest.chars().count() == column => Some(expression.len()),
            None => None,
        }
    };
    let mut out = String::with_capacity(expression.len() + new.len());
    let mut copied = 0;
    for token in &tokens {
        let Token::Word(word) = &token.token else {
            continue;
        };
        if word.value != old {
            continue;
        }
        let (start, end) = (token.span.start, token.span.end);
        let (Some(from), Some(to)) = (
            offset(start.line, start.column),
            offset(end.line, end.column),
        ) else {
            return expression.to_string();
        };
        out.push_str(&expression[copied..from]);
        // A quoted name right against a quote or a name would fuse with it (`"a""b"` is one
        // identifier): a space keeps them two tokens, as they were.
        let fuses = |c: char| {
            c == '"' || c == '`' || c == '[' || c == ']' || c == '_' || c.is_alphanumeric()
        };
        if out.chars().next_back().is_some_and(fuses) {
            out.push(' ');
        }
        out.push_str(&quoted(new, word.quote_style.unwrap_or('"')));
        if expression[to..].chars().next().is_some_and(fuses) {
            out.push(' ');
        }
        copied = to;
    }
    out.push_str(&expression[copied..]);
    out
}

/// `name` as a quoted identifier in the quote style it replaces (`"…"`, `` `…` `` or `[…]`),
/// the closing quote doubled inside.
fn quoted(name: &str, quote: char) -> String {
    let close = match quote {
        '[' => ']',
        other => other,
    };
    let doubled: String = name
        .chars()
        .flat_map(|c| {
            let twice = c == close;
            std::iter::once(c).chain(twice.then_some(c))
        })
        .collect();
    format!("{quote}{doubled}{close}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_outside_strings_only() {
        assert!(mentions_column("balance >= 0", "balance"));
        assert!(mentions_column("\"balance\" >= 0", "balance"));
        assert!(!mentions_column("status <> 'balance'", "balance"));
        assert!(!mentions_column("balance_due >= 0", "balance"));
    }

    #[test]
    fn renames_keep_string_literals_exactly() {
        assert_eq!(
            rename_column("x > 0 AND note <> 'q'' OR ''1''=''1'", "note", "remark"),
            "x > 0 AND \"remark\" <> 'q'' OR ''1''=''1'"
        );
        assert_eq!(
            rename_column("note <> 'it''s'\n AND note <> ''", "note", "we\"ird"),
            "\"we\"\"ird\" <> 'it''s'\n AND \"we\"\"ird\" <> ''"
        );
        assert_eq!(rename_column("`note` > 1", "note", "n"), "`n` > 1");
    }

    #[test]
    fn renames_keep_the_rest_of_the_text() {
        assert_eq!(
            rename_column("balance >= 0 AND note <> 'balance'", "balance", "amount"),
            "\"amount\" >= 0 AND note <> 'balance'"
        );
    }
}
