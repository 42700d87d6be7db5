//! The CLI's reading of SQL text for hashing: libpg_query's copy of PostgreSQL's scanner
//! decides where every token ends, and its grammar where every statement ends; this module
//! only reads each token's value out of the span the scanner gave (see
//! `fence_core::canonical`). The extension reads the same values with the server's scanner;
//! `scripts/scanfuzz.sh` compares the two on random and adversarial text.

use std::ops::Range;

use fence_core::canonical::{codes, ScanToken, SqlError, SqlReader, TokenValue};
use pg_query::protobuf::Token;

/// libpg_query's scanner and grammar, read as a session with this setting would.
pub struct LibPgQuery {
    pub standard_conforming_strings: bool,
}

/// PostgreSQL's default settings.
pub const DEFAULTS: LibPgQuery = LibPgQuery { standard_conforming_strings: true };

unsafe extern "C" {
    /// csrc/scanner_settings.c: sets libpg_query's (thread-local) scanner setting.
    fn fence_set_standard_conforming_strings(on: bool);
}

/// Sets libpg_query's scanner setting for this thread until dropped (back to the default).
struct Setting;

impl Setting {
    fn standard_conforming_strings(on: bool) -> Setting {
        // SAFETY: writes a thread-local bool of libpg_query's, read by its scanner on this
        // thread only.
        unsafe { fence_set_standard_conforming_strings(on) };
        Setting
    }
}

impl Drop for Setting {
    fn drop(&mut self) {
        // SAFETY: as above.
        unsafe { fence_set_standard_conforming_strings(true) };
    }
}

/// libpg_query's parser option for `standard_conforming_strings = off`.
const DISABLE_STANDARD_CONFORMING_STRINGS: i32 = 32;

/// PostgreSQL's limit on identifiers (NAMEDATALEN - 1 bytes), cut at a character boundary.
fn truncated(mut ident: String) -> String {
    if ident.len() > 63 {
        let mut end = 63;
        while !ident.is_char_boundary(end) {
            end -= 1;
        }
        ident.truncate(end);
    }
    ident
}

fn error(message: impl Into<String>) -> SqlError {
    SqlError { message: message.into() }
}

/// The body of a quoted token (`"..."`, `'...'`), doubled quotes undoubled.
fn undoubled(body: &str, quote: char) -> String {
    body.replace(&format!("{quote}{quote}"), &quote.to_string())
}

/// The segments of a quoted literal continued over lines (`'a'` newline `'b'`): the text
/// between each pair of quotes, doubled quotes kept. `text` starts at the first quote.
fn segments(text: &str, escapes: bool) -> Result<Vec<&str>, SqlError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        // Between segments only whitespace and `--` comments (the scanner checked).
        if bytes[i] != b'\'' {
            if bytes[i..].starts_with(b"--") {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            } else {
                i += 1;
            }
            continue;
        }
        let start = i + 1;
        let mut j = start;
        loop {
            match bytes.get(j) {
                None => return Err(error("unterminated quoted string")),
                Some(b'\\') if escapes => j += 2,
                Some(b'\'') if bytes.get(j + 1) == Some(&b'\'') => j += 2,
                Some(b'\'') => break,
                Some(_) => j += 1,
            }
        }
        out.push(&text[start..j]);
        i = j + 1;
    }
    Ok(out)
}

fn hex(digits: &str) -> Result<u32, SqlError> {
    u32::from_str_radix(digits, 16).map_err(|_| error("invalid escape"))
}

/// An `E'...'` body's value: PostgreSQL's backslash escapes resolved.
fn unescaped(body: &str) -> Result<String, SqlError> {
    let mut bytes: Vec<u8> = Vec::with_capacity(body.len());
    let mut surrogate: Option<u32> = None;
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    let push_code = |bytes: &mut Vec<u8>, surrogate: &mut Option<u32>, code: u32| -> Result<(), SqlError> {
        let code = match (surrogate.take(), code) {
            (None, 0xD800..=0xDBFF) => {
                *surrogate = Some(code);
                return Ok(());
            }
            (Some(first), 0xDC00..=0xDFFF) => 0x10000 + ((first - 0xD800) << 10) + (code - 0xDC00),
            (Some(_), _) | (None, 0xDC00..=0xDFFF) => return Err(error("invalid Unicode surrogate pair")),
            (None, code) => code,
        };
        let c = char::from_u32(code).filter(|c| *c != '\0').ok_or_else(|| error("invalid Unicode escape value"))?;
        bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        Ok(())
    };
    while i < chars.len() {
        let c = chars[i];
        if surrogate.is_some() && c != '\\' {
            return Err(error("invalid Unicode surrogate pair"));
        }
        if c == '\'' {
            // A doubled quote (the segment kept it doubled).
            bytes.push(b'\'');
            i += 2;
            continue;
        }
        if c != '\\' {
            bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            i += 1;
            continue;
        }
        let next = *chars.get(i + 1).ok_or_else(|| error("unterminated escape"))?;
        let run = |from: usize, max: usize, ok: fn(&char) -> bool| -> String {
            chars[from..].iter().take(max).take_while(|c| ok(c)).collect()
        };
        match next {
            'u' | 'U' => {
                let len = if next == 'u' { 4 } else { 8 };
                let digits = run(i + 2, len, char::is_ascii_hexdigit);
                if digits.len() != len {
                    return Err(error("invalid Unicode escape"));
                }
                if surrogate.is_some() && !(0xDC00..=0xDFFF).contains(&hex(&digits)?) {
                    return Err(error("invalid Unicode surrogate pair"));
                }
                push_code(&mut bytes, &mut surrogate, hex(&digits)?)?;
                i += 2 + len;
            }
            _ if surrogate.is_some() => return Err(error("invalid Unicode surrogate pair")),
            'x' if chars.get(i + 2).is_some_and(char::is_ascii_hexdigit) => {
                let digits = run(i + 2, 2, char::is_ascii_hexdigit);
                bytes.push(hex(&digits)? as u8);
                i += 2 + digits.len();
            }
            '0'..='7' => {
                let digits = run(i + 1, 3, |c| ('0'..='7').contains(c));
                bytes.push((u32::from_str_radix(&digits, 8).unwrap_or(0) & 0xFF) as u8);
                i += 1 + digits.len();
            }
            other => {
                let single = match other {
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'v' => '\u{b}',
                    c => c,
                };
                bytes.extend_from_slice(single.encode_utf8(&mut [0; 4]).as_bytes());
                i += 2;
            }
        }
    }
    if surrogate.is_some() {
        return Err(error("invalid Unicode surrogate pair"));
    }
    if bytes.contains(&0) {
        return Err(error("invalid byte sequence: a zero byte"));
    }
    String::from_utf8(bytes).map_err(|_| error("invalid byte sequence for encoding \"UTF8\""))
}

/// A string constant's value (`'...'`, `E'...'`, `$tag$...$tag$`, continued or not); with
/// `standard_conforming_strings` off a plain string reads backslash escapes too.
fn string_value(text: &str, standard: bool) -> Result<String, SqlError> {
    if let Some(after) = text.strip_prefix('$') {
        let tag_end = after.find('$').map(|i| i + 2).ok_or_else(|| error("bad dollar quote"))?;
        let body_end =
            text.len().checked_sub(tag_end).filter(|e| *e >= tag_end).ok_or_else(|| error("bad dollar quote"))?;
        return Ok(text[tag_end..body_end].to_string());
    }
    let escaped = text.starts_with(['e', 'E']) || !standard;
    let quoted = &text[text.find('\'').ok_or_else(|| error("bad string constant"))?..];
    let body: String = segments(quoted, escaped)?.concat();
    if escaped {
        unescaped(&body)
    } else {
        Ok(undoubled(&body, '\''))
    }
}

/// An integer as PostgreSQL reads it (decimal; 0x, 0o, 0b prefixes and `_` separators
/// since PostgreSQL 16).
fn integer(text: &str) -> Option<i32> {
    let digits = text.replace('_', "");
    let (radix, digits) = match digits.get(..2).map(str::to_ascii_lowercase).as_deref() {
        Some("0x") => (16, &digits[2..]),
        Some("0o") => (8, &digits[2..]),
        Some("0b") => (2, &digits[2..]),
        _ => (10, digits.as_str()),
    };
    i32::from_str_radix(digits, radix).ok()
}

fn value(code: i32, text: &str, standard: bool) -> Result<Option<TokenValue>, SqlError> {
    let quoted_body = |prefix: usize| -> Result<String, SqlError> {
        let inner = text.get(prefix + 1..text.len().saturating_sub(1)).ok_or_else(|| error("bad quoted token"))?;
        Ok(undoubled(inner, '"'))
    };
    Ok(Some(match code {
        codes::IDENT if text.starts_with('"') => TokenValue::Ident { value: truncated(quoted_body(0)?), quoted: true },
        codes::IDENT => TokenValue::Ident { value: truncated(text.to_ascii_lowercase()), quoted: false },
        codes::UIDENT => TokenValue::UnicodeIdent(quoted_body(2)?),
        codes::FCONST => TokenValue::Numeric(text.to_string()),
        codes::SCONST => TokenValue::String(string_value(text, standard)?),
        codes::USCONST => TokenValue::UnicodeString(undoubled(&segments(&text[2..], false)?.concat(), '\'')),
        codes::BCONST | codes::XCONST => {
            let kind = if code == codes::BCONST { "b" } else { "x" };
            TokenValue::BitString(format!("{kind}{}", segments(&text[1..], false)?.concat()))
        }
        codes::OP => TokenValue::Symbol(text.to_string()),
        codes::ICONST => TokenValue::Integer(integer(text).ok_or_else(|| error("bad integer"))?),
        codes::PARAM => TokenValue::Param(integer(&text[1..]).ok_or_else(|| error("bad parameter"))?),
        c if c == Token::SqlComment as i32 || c == Token::CComment as i32 => return Ok(None),
        // `N'...'` scans as the keyword NCHAR spelled `N`.
        c if c == Token::Nchar as i32 => TokenValue::Keyword("nchar".into()),
        c => match codes::fixed(c) {
            Some(symbol) => TokenValue::Symbol(symbol),
            None => TokenValue::Keyword(text.to_ascii_lowercase()),
        },
    }))
}

impl SqlReader for LibPgQuery {
    fn scan(&self, text: &str) -> Result<Vec<ScanToken>, SqlError> {
        // No token at all: pg_query 18.1 would build a slice from a null pointer.
        if text.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')) {
            return Ok(Vec::new());
        }
        let tokens = {
            let _setting = Setting::standard_conforming_strings(self.standard_conforming_strings);
            pg_query::scan_tokens(text).map_err(|e| error(e.to_string()))?
        };
        let mut out = Vec::with_capacity(tokens.len());
        for token in tokens {
            let (start, end) = (token.start as usize, token.end as usize);
            let span = text.get(start..end).ok_or_else(|| error("a token is not on a character boundary"))?;
            if let Some(value) = value(token.token, span, self.standard_conforming_strings)? {
                out.push(ScanToken { start, value });
            }
        }
        Ok(out)
    }

    fn statements(&self, text: &str) -> Result<Vec<Range<usize>>, SqlError> {
        let options = if self.standard_conforming_strings { 0 } else { DISABLE_STANDARD_CONFORMING_STRINGS };
        let parsed = pg_query::parse(text, options).map_err(|e| error(e.to_string()))?;
        Ok(parsed
            .protobuf
            .stmts
            .iter()
            .map(|raw| {
                let start = usize::try_from(raw.stmt_location).unwrap_or(0);
                let end = if raw.stmt_len > 0 { start + raw.stmt_len as usize } else { text.len() };
                start..end.min(text.len())
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fence_core::canonical::{canonicalize, embedded_hashes, statement_hash};

    fn canonical(sql: &str) -> String {
        canonicalize(&DEFAULTS, sql)
            .unwrap()
            .statements
            .iter()
            .map(|s| s.canonical.clone())
            .collect::<Vec<_>>()
            .join(";")
    }

    #[test]
    fn values_as_the_parser_receives_them() {
        assert_eq!(
            canonical("ALTER TABLE Users /* c */ ADD COLUMN \"Note\" text DEFAULT E'it\\'s\\x41' -- x\n"),
            r#"alter table users add column "Note" text default 'it''sA'"#
        );
        assert_eq!(
            canonical("SELECT 'a'\n  -- gap\n'b', $t$c'$t$, x'1F', 010, $1, a != b"),
            "select 'ab' , 'c''' , x'1F' , 10 , $1 , a <> b"
        );
        assert_eq!(canonical("SELECT N'x', U&'d\\0061t''a'"), r"select nchar 'x' , u&'d\0061t''a'");
    }

    #[test]
    fn a_line_comment_ends_at_a_carriage_return() {
        // PostgreSQL ends `--` at \r as at \n: what follows is a statement, not a comment.
        let approved = statement_hash(&DEFAULTS, "ALTER TABLE c1 ALTER COLUMN email SET NOT NULL").unwrap();
        let smuggled =
            statement_hash(&DEFAULTS, "ALTER TABLE c1 ALTER COLUMN email SET NOT NULL --\r, DROP COLUMN note").unwrap();
        assert_ne!(approved, smuggled);
    }

    #[test]
    fn statements_split_by_the_grammar() {
        let content = canonicalize(
            &DEFAULTS,
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END; SELECT 3;",
        )
        .unwrap();
        assert_eq!(content.statements.len(), 2);
        assert_eq!(content.statements[1].canonical, "select 3");
        assert_eq!(content.statements[1].text, "SELECT 3");
        assert!(canonicalize(&DEFAULTS, ";; -- only comments\n;").unwrap().statements.is_empty());
    }

    #[test]
    fn read_with_the_sessions_setting() {
        let off = LibPgQuery { standard_conforming_strings: false };
        // A backslash escapes the quote only with the setting off.
        assert_eq!(canonicalize(&off, r"SELECT 'it\'s'").unwrap().statements[0].canonical, "select 'it''s'");
        assert!(canonicalize(&DEFAULTS, r"SELECT 'it\'s'").is_err());
        assert_eq!(
            canonicalize(&off, r"SELECT 'a\' /* ', 1 -- */").unwrap().statements[0].canonical,
            "select 'a'' /* ' , 1"
        );
        assert_eq!(canonicalize(&DEFAULTS, r"SELECT 'a\\'").unwrap().statements[0].canonical, r"select 'a\\'");
        assert_eq!(canonicalize(&off, r"SELECT 'a\\'").unwrap().statements[0].canonical, r"select 'a\'");
    }

    #[test]
    fn only_code_approves_what_it_runs() {
        let hash = |sql: &str| statement_hash(&DEFAULTS, sql).unwrap();
        let drop = hash("DROP TABLE payments");
        // Data never approves: a comment, a default, an escaped string.
        for data in [
            "COMMENT ON TABLE t IS 'legacy cleanup; DROP TABLE payments'",
            "COMMENT ON TABLE t IS E'\\x44ROP TABLE payments'",
            "INSERT INTO notes VALUES ('DROP TABLE payments')",
        ] {
            assert!(!embedded_hashes(&DEFAULTS, data).contains(&drop), "{data}");
        }
        // A DO block's EXECUTE and a function body's statements do.
        let executed = "DO $$ BEGIN EXECUTE 'DROP TABLE payments'; END $$";
        assert!(embedded_hashes(&DEFAULTS, executed).contains(&drop));
        let body = "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $f$ BEGIN IF true THEN DROP TABLE payments; END IF; END $f$";
        assert!(embedded_hashes(&DEFAULTS, body).contains(&drop));
        // A string a DO block only prints is data too; so are a routine's other strings and
        // the bodies of other languages.
        for data in [
            "DO $$ BEGIN RAISE NOTICE 'DROP TABLE payments'; END $$",
            "CREATE FUNCTION f(a text DEFAULT CAST('x' AS text)) RETURNS int LANGUAGE sql AS 'SELECT 1' SET application_name = 'DROP TABLE payments'",
            "DO LANGUAGE plperl $$ # DROP TABLE payments; $$",
            "CREATE FUNCTION g() RETURNS void LANGUAGE plv8 AS $$ // EXECUTE 'DROP TABLE payments'; $$",
        ] {
            assert!(!embedded_hashes(&DEFAULTS, data).contains(&drop), "{data}");
        }
        // A statement after a long guard, or in a loop.
        let guarded = "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 't' AND column_name = 'c') THEN DROP TABLE payments; END IF; END $$";
        assert!(embedded_hashes(&DEFAULTS, guarded).contains(&drop));
        let looped = "DO $$ BEGIN FOR i IN 1..2 LOOP DROP TABLE payments; END LOOP; END $$";
        assert!(embedded_hashes(&DEFAULTS, looped).contains(&drop));
    }
}
