//! Text printed where a line break would change its meaning: SQL `--` comments, Rust `//!`
//! comments. A revision's message (from `revision.toml`, or a component's embedded metadata)
//! is data, and a newline in it must not end the comment and let the rest run as SQL.

/// `text` on one line: every control character (newline, carriage return, escape, ...)
/// written as its Rust escape (`\n`, `\u{1b}`), everything else as it is.
pub fn one_line(text: &str) -> String {
    // Most messages are printable ASCII, copied whole (`history` prints a thousand).
    if text.bytes().all(|b| (b' '..b'\x7f').contains(&b)) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}') {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn control_characters_are_escaped_and_nothing_else() {
        assert_eq!(one_line("add users"), "add users");
        assert_eq!(one_line("x\nDROP TABLE t; --"), "x\\nDROP TABLE t; --");
        assert_eq!(
            one_line("a\r\n\u{1b}[31m\u{2028}é"),
            "a\\r\\n\\u{1b}[31m\\u{2028}é"
        );
        assert!(!one_line("\n\r\u{b}\u{c}\u{85}\u{2028}\u{2029}")
            .contains(|c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}'));
    }
}
