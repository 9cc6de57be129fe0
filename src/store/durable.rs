//! The checkpoint trait of the seed: read a value, compare-and-swap.

use crate::error::DurabilityError;
use crate::key::CursorKey;

/// A key-value store of cursor offsets with compare-and-swap.
///
/// Keys are cursor keys (`CONSUMER:CHANNEL:INDEX`); values are offsets. An
/// absent key reads as offset 0 for the purpose of compare-and-swap.
///
/// Every operation comes twice: keyed by a [`CursorKey`] (`*_keyed`), and
/// by the key's text, the seed's API. The SQLite and PostgreSQL stores
/// implement the keyed operations and parse a text key once, where it
/// enters, then call them; a store of any text key (the in-memory
/// [`MemoryStore`](super::memory::MemoryStore)) implements the text
/// operations, and the keyed ones default to them with the key's text.
pub trait DurableStore {
    /// Read the offset stored under `key` (`None`: absent).
    ///
    /// # Errors
    ///
    /// Store failures, an invalid key, or a stored value that is not a valid
    /// offset.
    fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError>;

    /// Write `new` under `key` only if the stored value equals `expected`
    /// (absent counts as 0).
    ///
    /// # Errors
    ///
    /// [`DurabilityError::StaleCheckpoint`] with the value found when it does
    /// not equal `expected`; store failures.
    fn cas(&self, key: &str, expected: u64, new: u64) -> Result<(), DurabilityError>;

    /// A compare-and-swap through a lease: written only if the cursor's
    /// lease is live on the store's clock and of epoch `epoch`, and the
    /// stored value equals `expected` (see [`crate::lease`]).
    ///
    /// # Errors
    ///
    /// [`DurabilityError::Fenced`] when the lease is not live or not of
    /// that epoch (nothing written), then as [`DurableStore::cas`]; a store
    /// that keeps no leases refuses every such checkpoint as fenced.
    fn leased_cas(
        &self,
        key: &str,
        epoch: u64,
        expected: u64,
        new: u64,
    ) -> Result<(), DurabilityError> {
        let _ = (expected, new);
        Err(crate::lease::no_leases(key, epoch))
    }

    /// Renew a live lease of `owner` and `epoch` for `ttl_ms` from now on
    /// the store's clock, in one statement; the new expiry.
    ///
    /// # Errors
    ///
    /// [`DurabilityError::Fenced`] when the lease is no longer live or of
    /// that owner and epoch (nothing written); store failures.
    fn renew_lease(
        &self,
        key: &str,
        owner: &str,
        epoch: u64,
        ttl_ms: i64,
    ) -> Result<i64, DurabilityError> {
        let _ = (owner, ttl_ms);
        Err(crate::lease::no_leases(key, epoch))
    }

    /// [`DurableStore::read_value`] of a parsed key. The default passes
    /// the key's text to [`DurableStore::read_value`].
    ///
    /// # Errors
    ///
    /// As [`DurableStore::read_value`].
    fn read_value_keyed(&self, key: &CursorKey) -> Result<Option<u64>, DurabilityError> {
        self.read_value(&key.to_string())
    }

    /// [`DurableStore::cas`] of a parsed key. The default passes the key's
    /// text to [`DurableStore::cas`].
    ///
    /// # Errors
    ///
    /// As [`DurableStore::cas`].
    fn cas_keyed(&self, key: &CursorKey, expected: u64, new: u64) -> Result<(), DurabilityError> {
        self.cas(&key.to_string(), expected, new)
    }

    /// [`DurableStore::leased_cas`] of a parsed key. The default passes the
    /// key's text to [`DurableStore::leased_cas`].
    ///
    /// # Errors
    ///
    /// As [`DurableStore::leased_cas`].
    fn leased_cas_keyed(
        &self,
        key: &CursorKey,
        epoch: u64,
        expected: u64,
        new: u64,
    ) -> Result<(), DurabilityError> {
        self.leased_cas(&key.to_string(), epoch, expected, new)
    }

    /// [`DurableStore::renew_lease`] of a parsed key. The default passes
    /// the key's text to [`DurableStore::renew_lease`].
    ///
    /// # Errors
    ///
    /// As [`DurableStore::renew_lease`].
    fn renew_lease_keyed(
        &self,
        key: &CursorKey,
        owner: &str,
        epoch: u64,
        ttl_ms: i64,
    ) -> Result<i64, DurabilityError> {
        self.renew_lease(&key.to_string(), owner, epoch, ttl_ms)
    }
}

/// The text operations of [`DurableStore`] for a store that implements the
/// keyed ones: each parses the text key once, here where it enters, then
/// runs the keyed operation. Used inside `impl DurableStore for ...`.
macro_rules! text_keys_parsed_once {
    () => {
        fn read_value(&self, key: &str) -> Result<Option<u64>, DurabilityError> {
            self.read_value_keyed(&crate::key::CursorKey::parse(key)?)
        }

        fn cas(&self, key: &str, expected: u64, new: u64) -> Result<(), DurabilityError> {
            self.cas_keyed(&crate::key::CursorKey::parse(key)?, expected, new)
        }

        fn leased_cas(
            &self,
            key: &str,
            epoch: u64,
            expected: u64,
            new: u64,
        ) -> Result<(), DurabilityError> {
            self.leased_cas_keyed(&crate::key::CursorKey::parse(key)?, epoch, expected, new)
        }

        fn renew_lease(
            &self,
            key: &str,
            owner: &str,
            epoch: u64,
            ttl_ms: i64,
        ) -> Result<i64, DurabilityError> {
            self.renew_lease_keyed(&crate::key::CursorKey::parse(key)?, owner, epoch, ttl_ms)
        }
    };
}
pub(crate) use text_keys_parsed_once;
