//! Cross-check vectors shared with the extension's regress suite (pg_test/sql/analyze.sql):
//! the CLI, fence-core and `fence.content_hash()` must agree on every content hash.

use fence_core::canonical::canonicalize;

#[test]
fn content_hash_vectors() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors.json")).unwrap();
    let vectors: serde_json::Value = serde_json::from_str(&text).unwrap();
    let vectors = vectors.as_array().unwrap();
    assert!(vectors.len() >= 5);
    for vector in vectors {
        let sql = vector["sql"].as_str().unwrap();
        let expected = vector["content_hash"].as_str().unwrap();
        assert_eq!(canonicalize(sql).unwrap().content_hash, expected, "{}", vector["name"]);
    }
}
