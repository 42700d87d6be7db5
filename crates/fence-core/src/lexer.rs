//! A PostgreSQL-compatible SQL tokenizer, enough to split scripts into statements and to
//! build a canonical form that ignores whitespace and comments but keeps every literal,
//! identifier and keyword.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Unquoted identifier or keyword (canonical text is ASCII-lowercased, as PostgreSQL folds it).
    Word,
    /// `"quoted identifier"`, kept verbatim.
    QuotedIdent,
    /// String, bit-string, escape-string or dollar-quoted literal, kept verbatim.
    String,
    Number,
    /// `$1`-style parameter.
    Param,
    /// Operator or punctuation (`;`, `(`, `)`, `,`, `::`, `<=` ...).
    Symbol,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    /// Byte offset of the first byte in the input.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

impl Token {
    pub fn text<'a>(&self, input: &'a str) -> &'a str {
        &input[self.start..self.end]
    }

    /// The token's canonical spelling.
    pub fn canonical(&self, input: &str) -> String {
        let text = self.text(input);
        match self.kind {
            TokenKind::Word => text.to_ascii_lowercase(),
            TokenKind::String => canonical_string_prefix(text),
            _ => text.to_string(),
        }
    }

    pub fn is_word(&self, input: &str, word: &str) -> bool {
        self.kind == TokenKind::Word && self.text(input).eq_ignore_ascii_case(word)
    }

    pub fn is_symbol(&self, input: &str, symbol: &str) -> bool {
        self.kind == TokenKind::Symbol && self.text(input) == symbol
    }
}

/// `E'x'` and `e'x'` are the same literal; the prefix letter is folded, the body kept.
fn canonical_string_prefix(text: &str) -> String {
    match text.find(['\'', '$']) {
        Some(quote) if quote > 0 && !text.starts_with('$') => {
            let mut out = text[..quote].to_ascii_lowercase();
            out.push_str(&text[quote..]);
            out
        }
        _ => text.to_string(),
    }
}

/// A lexical error with the 1-based character position, like PostgreSQL's error cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub message: String,
    pub byte_offset: usize,
    pub position: usize,
    pub line: usize,
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at position {} (line {})", self.message, self.position, self.line)
    }
}

impl std::error::Error for LexError {}

fn lex_error(input: &str, byte_offset: usize, message: &str) -> LexError {
    let before = &input[..byte_offset];
    LexError {
        message: message.to_string(),
        byte_offset,
        position: before.chars().count() + 1,
        line: before.matches('\n').count() + 1,
    }
}

const OPERATOR_CHARS: &[u8] = b"+-*/<>=~!@#%^&|`?";

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_cont(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

/// Splits `input` into tokens, skipping whitespace and comments.
pub fn tokenize(input: &str) -> Result<Vec<Token>, LexError> {
    let bytes = input.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if b == b'-' && bytes.get(i + 1) == Some(&b'-') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i = skip_block_comment(input, i)?;
            continue;
        }
        let start = i;
        let (kind, end) = if b == b'\'' {
            (TokenKind::String, scan_quoted(input, i, b'\'', false)?)
        } else if b == b'"' {
            (TokenKind::QuotedIdent, scan_quoted(input, i, b'"', false)?)
        } else if is_ident_start(b) {
            scan_word_or_prefixed_literal(input, i)?
        } else if b == b'$' {
            scan_dollar(input, i)?
        } else if b.is_ascii_digit() || (b == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            (TokenKind::Number, scan_number(bytes, i))
        } else if b == b':' && bytes.get(i + 1) == Some(&b':') {
            (TokenKind::Symbol, i + 2)
        } else if OPERATOR_CHARS.contains(&b) {
            (TokenKind::Symbol, scan_operator(bytes, i))
        } else {
            let width = input[i..].chars().next().map_or(1, char::len_utf8);
            (TokenKind::Symbol, i + width)
        };
        tokens.push(Token { kind, start, end });
        i = end;
    }
    Ok(tokens)
}

fn skip_block_comment(input: &str, start: usize) -> Result<usize, LexError> {
    let bytes = input.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Ok(i);
            }
        } else {
            i += 1;
        }
    }
    Err(lex_error(input, start, "unterminated /* comment"))
}

/// Scans a `'...'` or `"..."` token starting at `start` (the quote). Doubled quotes escape;
/// with `backslash_escapes`, a backslash escapes the next byte (E'' strings).
fn scan_quoted(input: &str, start: usize, quote: u8, backslash_escapes: bool) -> Result<usize, LexError> {
    let bytes = input.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() {
        let b = bytes[i];
        if backslash_escapes && b == b'\\' {
            i += 2;
            continue;
        }
        if b == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return Ok(i + 1);
        }
        i += 1;
    }
    let what = if quote == b'"' { "unterminated quoted identifier" } else { "unterminated quoted string" };
    Err(lex_error(input, start, what))
}

fn scan_word_or_prefixed_literal(input: &str, start: usize) -> Result<(TokenKind, usize), LexError> {
    let bytes = input.as_bytes();
    let next = bytes.get(start + 1).copied();
    let first = bytes[start].to_ascii_lowercase();
    if next == Some(b'\'') {
        match first {
            b'e' => return Ok((TokenKind::String, scan_quoted(input, start + 1, b'\'', true)?)),
            b'b' | b'x' | b'n' => return Ok((TokenKind::String, scan_quoted(input, start + 1, b'\'', false)?)),
            _ => {}
        }
    }
    if first == b'u' && next == Some(b'&') {
        match bytes.get(start + 2) {
            Some(b'\'') => return Ok((TokenKind::String, scan_quoted(input, start + 2, b'\'', false)?)),
            Some(b'"') => return Ok((TokenKind::QuotedIdent, scan_quoted(input, start + 2, b'"', false)?)),
            _ => {}
        }
    }
    let mut i = start + 1;
    while i < bytes.len() && is_ident_cont(bytes[i]) {
        i += 1;
    }
    Ok((TokenKind::Word, i))
}

fn scan_dollar(input: &str, start: usize) -> Result<(TokenKind, usize), LexError> {
    let bytes = input.as_bytes();
    if bytes.get(start + 1).is_some_and(u8::is_ascii_digit) {
        let mut i = start + 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        return Ok((TokenKind::Param, i));
    }
    let mut i = start + 1;
    while i < bytes.len() && (is_ident_cont(bytes[i]) && bytes[i] != b'$') {
        i += 1;
    }
    if bytes.get(i) != Some(&b'$') {
        return Ok((TokenKind::Symbol, start + 1));
    }
    let delimiter = &input[start..=i];
    match input[i + 1..].find(delimiter) {
        Some(offset) => Ok((TokenKind::String, i + 1 + offset + delimiter.len())),
        None => Err(lex_error(input, start, "unterminated dollar-quoted string")),
    }
}

fn scan_number(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    let mut seen_dot = false;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_alphanumeric() || b == b'_' {
            if (b == b'e' || b == b'E') && matches!(bytes.get(i + 1), Some(b'+') | Some(b'-')) {
                i += 2;
                continue;
            }
            i += 1;
        } else if b == b'.' && !seen_dot && bytes.get(i + 1) != Some(&b'.') {
            seen_dot = true;
            i += 1;
        } else {
            break;
        }
    }
    i
}

fn scan_operator(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    while i < bytes.len() && OPERATOR_CHARS.contains(&bytes[i]) {
        let starts_comment = (bytes[i] == b'-' && bytes.get(i + 1) == Some(&b'-'))
            || (bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*'));
        if starts_comment && i > start {
            break;
        }
        i += 1;
    }
    i.max(start + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(input: &str) -> Vec<String> {
        tokenize(input).unwrap().iter().map(|t| t.canonical(input)).collect()
    }

    #[test]
    fn skips_comments_and_folds_words() {
        assert_eq!(
            texts("ALTER /* a /* nested */ c */ TABLE Users -- x\n ADD b int;"),
            vec!["alter", "table", "users", "add", "b", "int", ";"]
        );
    }

    #[test]
    fn keeps_literals_verbatim() {
        assert_eq!(
            texts("select 'It''s', \"MixedCase\", E'a\\'b', 1.5e-3"),
            vec!["select", "'It''s'", ",", "\"MixedCase\"", ",", "e'a\\'b'", ",", "1.5e-3"]
        );
    }

    #[test]
    fn dollar_quotes_and_params() {
        let input = "DO $body$ BEGIN PERFORM 1; END $body$; select $1::int";
        assert_eq!(texts(input), vec!["do", "$body$ BEGIN PERFORM 1; END $body$", ";", "select", "$1", "::", "int"]);
    }

    #[test]
    fn operators_stop_before_comments() {
        assert_eq!(texts("a <>-- c\nb"), vec!["a", "<>", "b"]);
    }

    #[test]
    fn reports_unterminated_literal_position() {
        let err = tokenize("select 1;\nselect 'oops").unwrap_err();
        assert_eq!(err.position, 18);
        assert_eq!(err.line, 2);
        assert!(err.to_string().contains("unterminated quoted string"));
    }
}
