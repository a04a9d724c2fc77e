//! SHA-256, the three ways the core uses it: stable keys derived from ids (dedupe keys,
//! violation ids, report ids), the content hash of a submission, and file checksums.

use sha2::{Digest, Sha256};

/// 128 bits of SHA-256 over `parts`, in hex. Each part is followed by a separator no id
/// contains (0x1F), so that ("ab", "c") and ("a", "bc") differ. The same parts always give
/// the same key, which is what makes retried deliveries recognisable.
pub fn stable_key(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0x1f]);
    }
    hex::encode(&hasher.finalize()[..16])
}

/// `sha256:` of a submission's normalised title and body, so that reposts with cosmetic
/// changes (width, case, spacing tricks) hash alike.
pub fn content_hash(normalised_title: Option<&str>, normalised_body: &str) -> String {
    let mut hasher = Sha256::new();
    if let Some(title) = normalised_title {
        hasher.update(title.as_bytes());
    }
    // A separator no normalised text contains, so that title/body boundaries cannot collide.
    hasher.update([0x1f]);
    hasher.update(normalised_body.as_bytes());
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

/// SHA-256 of `bytes`, in hex: a model file checked against its manifest.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stable_key_separates_its_parts_and_is_128_bits_of_hex() {
        assert_ne!(stable_key(&["ab", "c"]), stable_key(&["a", "bc"]));
        assert_eq!(stable_key(&["x"]), stable_key(&["x"]));
        assert_eq!(stable_key(&["x"]).len(), 32);
    }

    #[test]
    fn the_content_hash_keeps_title_and_body_apart() {
        assert_ne!(content_hash(Some("ab"), "c"), content_hash(Some("a"), "bc"));
        assert!(content_hash(None, "x").starts_with("sha256:"));
    }
}
