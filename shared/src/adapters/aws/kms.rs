//! Envelope encryption with the stack's KMS key, for what a case quotes of a posting.
//!
//! KMS `Encrypt` takes at most 4 KB and a posting alone may be 20,000 characters (60 KB of
//! UTF-8), so each sealed value gets a data key of its own: `GenerateDataKey` (AES-256)
//! returns the key in clear and wrapped by the KMS key; the value is sealed locally with
//! AES-256-GCM under the clear key, which is then dropped, and only the wrapped key is kept
//! beside the ciphertext. Opening asks KMS to unwrap the key (`Decrypt`). Both calls carry
//! an encryption context (the case id), and so does the GCM associated data: a sealed value
//! copied onto another case does not open.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_sdk_kms::error::DisplayErrorContext;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use aws_sdk_kms::Client;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::store::StoreError;

/// A sealed value as stored: the wrapped data key, the nonce and the ciphertext (with its
/// GCM tag), each in base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub key: String,
    pub nonce: String,
    pub data: String,
}

/// The name of the encryption-context entry that binds a sealed value to its owner.
const CONTEXT_KEY: &str = "anshin:case_id";

#[derive(Debug, Clone)]
pub struct KmsSealer {
    client: Client,
    key_id: String,
}

fn kms_error(operation: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("KMS {operation}: {error}"))
}

fn crypto_error(what: &str) -> StoreError {
    StoreError::Malformed(format!("sealed value: {what}"))
}

impl KmsSealer {
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        KmsSealer {
            client,
            key_id: key_id.into(),
        }
    }

    /// Seals `plaintext` for `owner` under a fresh data key.
    pub async fn seal(&self, owner: &str, plaintext: &[u8]) -> Result<Sealed, StoreError> {
        let data_key = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .encryption_context(CONTEXT_KEY, owner)
            .send()
            .await
            .map_err(|e| kms_error("GenerateDataKey", DisplayErrorContext(e)))?;
        let (Some(clear), Some(wrapped)) = (data_key.plaintext(), data_key.ciphertext_blob())
        else {
            return Err(kms_error("GenerateDataKey", "answer without a key"));
        };
        let key = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, clear.as_ref())
                .map_err(|_| crypto_error("data key length"))?,
        );
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| crypto_error("no randomness for a nonce"))?;
        let mut data = plaintext.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(owner.as_bytes()),
            &mut data,
        )
        .map_err(|_| crypto_error("sealing failed"))?;
        Ok(Sealed {
            key: BASE64.encode(wrapped.as_ref()),
            nonce: BASE64.encode(nonce),
            data: BASE64.encode(data),
        })
    }

    /// Opens a value sealed for `owner`.
    pub async fn open(&self, owner: &str, sealed: &Sealed) -> Result<Vec<u8>, StoreError> {
        let decode = |what: &str, value: &str| {
            BASE64
                .decode(value)
                .map_err(|_| crypto_error(&format!("{what} is not base64")))
        };
        let wrapped = decode("key", &sealed.key)?;
        let nonce: [u8; NONCE_LEN] = decode("nonce", &sealed.nonce)?
            .try_into()
            .map_err(|_| crypto_error("nonce length"))?;
        let mut data = decode("data", &sealed.data)?;
        let unwrapped = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(wrapped))
            .encryption_context(CONTEXT_KEY, owner)
            .send()
            .await
            .map_err(|e| kms_error("Decrypt", DisplayErrorContext(e)))?;
        let clear = unwrapped
            .plaintext()
            .ok_or_else(|| kms_error("Decrypt", "answer without a key"))?;
        let key = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, clear.as_ref())
                .map_err(|_| crypto_error("data key length"))?,
        );
        let plain = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(owner.as_bytes()),
                &mut data,
            )
            .map_err(|_| crypto_error("does not open for this case (tampered or moved)"))?;
        Ok(plain.to_vec())
    }
}
