//! `CONSUMER PARTITION_KEY`, or the full key `CONSUMER:CHANNEL:INDEX` as one
//! argument (what the KEY column shows): every command that names a cursor
//! takes both.

use cursorctl::key::{ConsumerId, CursorKey, PartitionKey};

use super::error::Failure;

/// The first argument naming a cursor: a consumer, or a full cursor key.
#[derive(Clone, Debug)]
pub enum ConsumerArg {
    Consumer(ConsumerId),
    Key(CursorKey),
}

/// Parse the first argument (clap value parser): with a `:` it is a full
/// key, else a consumer.
pub fn consumer_arg(s: &str) -> Result<ConsumerArg, String> {
    if s.contains(':') {
        CursorKey::parse(s).map(ConsumerArg::Key).map_err(|e| {
            format!(
                "{e}; a consumer must not contain ':', and a full key is CONSUMER:CHANNEL:INDEX"
            )
        })
    } else {
        ConsumerId::new(s)
            .map(ConsumerArg::Consumer)
            .map_err(|e| e.to_string())
    }
}

const BOTH: &str =
    "give CONSUMER PARTITION_KEY (billing orders:3) or the full key (billing:orders:3), not both";

impl ConsumerArg {
    /// The cursor this and `partition_key` name.
    ///
    /// # Errors
    ///
    /// A usage error when the partition key is missing after a consumer, or
    /// given after a full key.
    pub fn key(&self, partition_key: Option<&PartitionKey>) -> Result<CursorKey, Failure> {
        match (self, partition_key) {
            (Self::Consumer(c), Some(pk)) => Ok(CursorKey::new(c.clone(), pk.clone())),
            (Self::Key(k), None) => Ok(k.clone()),
            (Self::Consumer(c), None) => Err(Failure::usage(format!(
                "PARTITION_KEY is missing after {c}: give CONSUMER PARTITION_KEY (billing orders:3) or the full key (billing:orders:3)"
            ))),
            (Self::Key(_), Some(_)) => Err(Failure::usage(BOTH)),
        }
    }

    /// For listings: the consumer, and the partition key if one is named.
    ///
    /// # Errors
    ///
    /// A usage error when both a full key and a partition key are given.
    pub fn split(
        &self,
        partition_key: Option<&PartitionKey>,
    ) -> Result<(ConsumerId, Option<PartitionKey>), Failure> {
        match (self, partition_key) {
            (Self::Consumer(c), pk) => Ok((c.clone(), pk.cloned())),
            (Self::Key(k), None) => Ok((k.consumer().clone(), Some(k.partition_key().clone()))),
            (Self::Key(_), Some(_)) => Err(Failure::usage(BOTH)),
        }
    }
}
