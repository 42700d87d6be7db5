//! The pieces of PostgreSQL's JSON printing that fence's row trigger reproduces, byte for
//! byte, to print row images and keys without building `json`/`jsonb` values: string
//! escaping (`escape_json`), which printed numbers may stand bare (`IsValidJsonNumber`), and
//! the order of a `jsonb` object's keys.

use std::cmp::Ordering;

/// Appends `text` as a JSON string, escaped as PostgreSQL's `escape_json` does: `"` and `\`,
/// the short escapes `\b \f \n \r \t`, `\u00XX` for the other control characters, every other
/// byte as it is.
pub fn push_escaped(out: &mut Vec<u8>, text: &[u8]) {
    out.reserve(text.len() + 2);
    out.push(b'"');
    let mut rest = text;
    // Runs of bytes printed as they are are copied whole (this runs over every row image).
    while let Some(at) = first_to_escape(rest) {
        out.extend_from_slice(&rest[..at]);
        push_escape(out, rest[at]);
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

/// The position of the first byte of `text` that JSON escapes (`"`, `\`, control characters),
/// looked for eight bytes at a time.
fn first_to_escape(text: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // The high bit of each zero byte of `word` (and maybe of bytes above the lowest zero byte,
    // which the lowest set bit ignores).
    let zeros = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    let mut chunks = text.chunks_exact(8);
    let mut offset = 0;
    for chunk in chunks.by_ref() {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        // A byte below 0x20 has none of its top three bits set.
        let found = zeros(word & (ONES * 0xe0))
            | zeros(word ^ (ONES * u64::from(b'"')))
            | zeros(word ^ (ONES * u64::from(b'\\')));
        if found != 0 {
            return Some(offset + (found.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks.remainder().iter().position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20).map(|at| offset + at)
}

/// The escape of one byte that cannot be printed as it is.
fn push_escape(out: &mut Vec<u8>, byte: u8) {
    match byte {
        b'\x08' => out.extend_from_slice(b"\\b"),
        b'\x0c' => out.extend_from_slice(b"\\f"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0..=0x1f => {
            out.extend_from_slice(b"\\u00");
            out.extend_from_slice(hex::encode([byte]).as_bytes());
        }
        _ => {
            out.push(b'\\');
            out.push(byte);
        }
    }
}

/// Whether a number's printed text is a JSON number (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`),
/// which PostgreSQL prints bare; anything else (`NaN`, `Infinity`) is printed as a string.
pub fn is_json_number(text: &[u8]) -> bool {
    let digits = |s: &[u8]| s.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut rest = text.strip_prefix(b"-").unwrap_or(text);
    match rest.first() {
        Some(b'0') => rest = &rest[1..],
        Some(b'1'..=b'9') => rest = &rest[digits(rest)..],
        _ => return false,
    }
    if let Some(fraction) = rest.strip_prefix(b".") {
        let n = digits(fraction);
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    if let Some(exponent) = rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) {
        let exponent = exponent.strip_prefix(b"+").or_else(|| exponent.strip_prefix(b"-")).unwrap_or(exponent);
        let n = digits(exponent);
        if n == 0 {
            return false;
        }
        rest = &exponent[n..];
    }
    rest.is_empty()
}

/// The order of keys in a `jsonb` object (and so in its printed text): shorter keys first,
/// then byte order.
pub fn jsonb_key_order(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_is_json_string_escaping() {
        let mut samples: Vec<String> = (0u8..0x80).map(|b| char::from(b).to_string()).collect();
        samples.extend(["", "plain", "a\"b\\c", "é€😀", "tab\there", "\u{7f}"].map(String::from));
        // Longer texts, each character at every position (they are scanned eight bytes at a time).
        for c in (0u8..0x80).map(char::from).chain(['é', '😀']) {
            samples.extend((0..20).map(|at| format!("{}{c}{}", "x".repeat(at), " y".repeat(10 - at / 2))));
        }
        for sample in samples {
            let mut out = Vec::new();
            push_escaped(&mut out, sample.as_bytes());
            // serde_json escapes exactly like PostgreSQL's escape_json.
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&sample).unwrap(), "{sample:?}");
        }
    }

    #[test]
    fn json_numbers() {
        for good in
            ["0", "-0", "7", "4242", "-12", "1.5", "0.25", "1e10", "1E+10", "2.5e-3", "123456789012345678901234"]
        {
            assert!(is_json_number(good.as_bytes()), "{good}");
        }
        for bad in ["", "-", "NaN", "Infinity", "-Infinity", "01", "1.", ".5", "1e", "1e+", "+1", "1 ", "0x10"] {
            assert!(!is_json_number(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn jsonb_orders_keys_by_length_then_bytes() {
        let mut keys = vec!["region", "num", "b", "a", "email", "Z"];
        keys.sort_by(|a, b| jsonb_key_order(a, b));
        assert_eq!(keys, ["Z", "a", "b", "num", "email", "region"]);
    }
}
