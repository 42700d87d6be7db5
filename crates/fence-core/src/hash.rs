//! SHA-256 helpers producing fence's `sha256:<64 hex>` notation.

use sha2::{Digest, Sha256};

pub const PREFIX: &str = "sha256:";

/// `sha256:<hex>` of the given bytes.
pub fn sha256_tagged(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    tagged_hex(&hasher.finalize())
}

/// `sha256:<hex>` notation of a finished digest (lowercase hex, the `hex` crate's).
pub fn tagged_hex(digest: &[u8]) -> String {
    let mut out = String::with_capacity(PREFIX.len() + 2 * digest.len());
    out.push_str(PREFIX);
    out.push_str(&hex::encode(digest));
    out
}

/// Whether `value` is a well-formed `sha256:<64 lowercase hex>` string.
pub fn is_tagged_sha256(value: &str) -> bool {
    value
        .strip_prefix(PREFIX)
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        assert_eq!(sha256_tagged(&[b"abc"]), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(sha256_tagged(&[b"a", b"bc"]), sha256_tagged(&[b"abc"]));
    }

    #[test]
    fn validates_format() {
        assert!(is_tagged_sha256(&sha256_tagged(&[b"x"])));
        assert!(!is_tagged_sha256("sha256:ABC"));
        assert!(!is_tagged_sha256("md5:0123"));
        assert!(!is_tagged_sha256(&format!("sha256:{}", "G".repeat(64))));
    }
}
