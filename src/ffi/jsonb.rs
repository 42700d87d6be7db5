//! A `jsonb` value built in the server's binary form straight from a serde_json value: what
//! `jsonb_in` makes of the value's text, without writing the text and parsing it again (an
//! event's details go into the chain at every commit).

use std::ffi::CString;

use pgrx::pg_sys::{self, jbvType, JsonbIteratorToken as Token};
use pgrx::{IntoDatum, PgSqlErrorCode};
use serde_json::Value;

use super::error::Error;

/// A `jsonb` datum in the current memory context, as a query argument.
pub struct Jsonb(pg_sys::Datum);

impl IntoDatum for Jsonb {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        Some(self.0)
    }

    fn type_oid() -> pg_sys::Oid {
        pg_sys::JSONBOID
    }
}

/// The `jsonb` of a value (object keys sorted and unique as jsonb keeps them).
pub fn jsonb(value: &Value) -> Jsonb {
    let mut state: *mut pg_sys::JsonbParseState = std::ptr::null_mut();
    // SAFETY: pushJsonbValue builds the value in the current memory context from the
    // JsonbValues given; the strings they point to belong to `value`, alive until
    // JsonbValueToJsonb has copied them into the result.
    unsafe {
        let built = match value {
            Value::Object(_) | Value::Array(_) => push(&mut state, value, Token::WJB_ELEM),
            scalar => {
                // A scalar alone is kept as a one-element array marked raw.
                let mut raw = pg_sys::JsonbValue { type_: jbvType::jbvArray, val: std::mem::zeroed() };
                raw.val.array.rawScalar = true;
                pg_sys::pushJsonbValue(&mut state, Token::WJB_BEGIN_ARRAY, &mut raw);
                push(&mut state, scalar, Token::WJB_ELEM);
                pg_sys::pushJsonbValue(&mut state, Token::WJB_END_ARRAY, std::ptr::null_mut())
            }
        };
        Jsonb(pg_sys::Datum::from(pg_sys::JsonbValueToJsonb(built)))
    }
}

/// Pushes `value` (as `token`, WJB_VALUE or WJB_ELEM, when it is a scalar); returns what the
/// last push returned (the finished value, once the outermost container ends).
///
/// # Safety
/// `state` is a parse state pushJsonbValue made (or null to start one); the strings of
/// `value` outlive the conversion of the result.
unsafe fn push(state: &mut *mut pg_sys::JsonbParseState, value: &Value, token: Token::Type) -> *mut pg_sys::JsonbValue {
    // SAFETY: as the function's contract says; every JsonbValue pushed is initialized for
    // its type.
    unsafe {
        match value {
            Value::Object(members) => {
                pg_sys::pushJsonbValue(state, Token::WJB_BEGIN_OBJECT, std::ptr::null_mut());
                for (key, member) in members {
                    let mut key = string(key);
                    pg_sys::pushJsonbValue(state, Token::WJB_KEY, &mut key);
                    push(state, member, Token::WJB_VALUE);
                }
                pg_sys::pushJsonbValue(state, Token::WJB_END_OBJECT, std::ptr::null_mut())
            }
            Value::Array(items) => {
                pg_sys::pushJsonbValue(state, Token::WJB_BEGIN_ARRAY, std::ptr::null_mut());
                for item in items {
                    push(state, item, Token::WJB_ELEM);
                }
                pg_sys::pushJsonbValue(state, Token::WJB_END_ARRAY, std::ptr::null_mut())
            }
            scalar => {
                let mut scalar = scalar_value(scalar);
                pg_sys::pushJsonbValue(state, token, &mut scalar)
            }
        }
    }
}

/// The longest string a jsonb value holds (`JENTRY_OFFLENMASK`): longer lengths would spill
/// into the entry's type bits, so jsonb_in refuses them, and so does this.
const MAX_STRING: usize = 0x0FFF_FFFF;

/// A jbvString pointing at `text`'s bytes; what jsonb_in refuses is refused here too (a
/// string too long for a jsonb entry, a NUL character).
fn string(text: &str) -> pg_sys::JsonbValue {
    if text.len() > MAX_STRING {
        Error::new(
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!("string too long to represent as jsonb string ({} bytes)", text.len()),
        )
        .detail(format!("Due to an implementation restriction, jsonb strings cannot exceed {MAX_STRING} bytes."))
        .raise();
    }
    if text.contains('\0') {
        Error::new(PgSqlErrorCode::ERRCODE_UNTRANSLATABLE_CHARACTER, "unsupported Unicode escape sequence")
            .detail("\\u0000 cannot be converted to text.")
            .raise();
    }
    // SAFETY: a zeroed union, then its string member set; the bytes are only read.
    unsafe {
        let mut value = pg_sys::JsonbValue { type_: jbvType::jbvString, val: std::mem::zeroed() };
        value.val.string.len = text.len() as i32;
        value.val.string.val = text.as_ptr().cast_mut().cast();
        value
    }
}

/// A scalar as a JsonbValue: numbers as `numeric`, as jsonb_in reads their text.
fn scalar_value(scalar: &Value) -> pg_sys::JsonbValue {
    match scalar {
        Value::String(text) => string(text),
        // SAFETY: a zeroed union, then the member of the type set.
        Value::Bool(b) => unsafe {
            let mut value = pg_sys::JsonbValue { type_: jbvType::jbvBool, val: std::mem::zeroed() };
            value.val.boolean = *b;
            value
        },
        // SAFETY: as above; int64_to_numeric and numeric_in return a palloc'd numeric (the
        // text of a JSON number is always a valid numeric input).
        Value::Number(n) => unsafe {
            let mut value = pg_sys::JsonbValue { type_: jbvType::jbvNumeric, val: std::mem::zeroed() };
            value.val.numeric = match n.as_i64() {
                Some(i) => pg_sys::int64_to_numeric(i),
                None => {
                    let text = CString::new(n.to_string()).unwrap_or_default();
                    let datum = pg_sys::OidInputFunctionCall(
                        pg_sys::Oid::from(pg_sys::F_NUMERIC_IN),
                        text.as_ptr().cast_mut(),
                        pg_sys::NUMERICOID,
                        -1,
                    );
                    datum.cast_mut_ptr()
                }
            };
            value
        },
        // SAFETY: a zeroed union; a null has no member.
        _ => unsafe { pg_sys::JsonbValue { type_: jbvType::jbvNull, val: std::mem::zeroed() } },
    }
}
