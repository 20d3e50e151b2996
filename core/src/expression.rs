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

/// The expression with `old` renamed to `new` wherever it names the column; the rest of the
/// text, whitespace included, as it was.
pub fn rename_column(expression: &str, old: &str, new: &str) -> String {
    let Some(tokens) = tokens(expression) else {
        return expression.to_string();
    };
    tokens
        .into_iter()
        .map(|token| match token {
            Token::Word(w) if w.value == old => Token::Word(Word {
                value: new.to_string(),
                quote_style: Some(w.quote_style.unwrap_or('"')),
                keyword: sqlparser::keywords::Keyword::NoKeyword,
            })
            .to_string(),
            other => other.to_string(),
        })
        .collect()
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
    fn renames_keep_the_rest_of_the_text() {
        assert_eq!(
            rename_column("balance >= 0 AND note <> 'balance'", "balance", "amount"),
            "\"amount\" >= 0 AND note <> 'balance'"
        );
    }
}
