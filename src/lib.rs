//! Durable read positions (cursors) of the consumers of a partitioned message
//! system, and the checkpoint logic that moves them.
//!
//! The library knows nothing of the command line. It offers:
//!
//! - [`ConsumerCursor`]: one consumer's read position on one partition, moved
//!   only by regression-checked compare-and-swap checkpoints, and
//!   resynchronised from the store ([`Resync`]) when someone else moved it;
//! - [`CheckpointDriver`] with a [`CheckpointPolicy`]: when a consumer
//!   processing messages writes its checkpoints, and how it goes on after a
//!   stale one (`reset`, `rebase`);
//! - [`DurableStore`]: the storage trait (read a value, compare-and-swap),
//!   with a SQLite implementation ([`SqliteStore`], opened with
//!   [`SqliteStore::options`]), a PostgreSQL one (`PostgresStore`, for
//!   consumers on many hosts; it reconnects by itself after a lost
//!   connection) and an in-memory one ([`MemoryStore`]); [`store::open`]
//!   opens a path or a `postgres://` URL as a [`Store`];
//! - [`DurabilityError`] with helpers (`is_retryable`, `is_stale`,
//!   `stale_actual`, `store_kind`, `outcome`), a backend-neutral
//!   [`StoreErrorKind`], and [`WriteOutcome`]: whether a failed call wrote
//!   nothing or, its connection lost on the way, may have;
//! - `asynchronous` (the `async` feature): the same cursor, driver and
//!   store trait with awaited calls, on tokio, natively async for
//!   PostgreSQL and on tokio's blocking threads for SQLite;
//! - [`heads`]: partitions' heads as the message system records them
//!   ([`heads::record_head`]), each cursor's lag ([`heads::read_lag`]) and
//!   status ([`heads::CursorStatus`]);
//! - [`sim`]: what a checkpoint policy costs (store writes) and risks
//!   (messages processed again after a crash), by running the driver;
//! - validated names ([`ConsumerId`], [`PartitionKey`], [`CursorKey`]) and the
//!   parsers for offsets and durations shared by every front end.
//!
//! The guide, with the consumer loop, the thread patterns and the async
//! API, is `docs/library.md`. Cargo features:
//!
//! - `sqlite` (default): [`SqliteStore`];
//! - `postgres` (default): `PostgresStore`;
//! - `async`: the `asynchronous` module;
//! - `cli` (default): the `cursorctl` binary; it implies no store, so it is
//!   built with `sqlite` or `postgres` (or both).
//!
//! A consumer needs only `default-features = false, features = ["sqlite"]`
//! (or `["postgres"]`, and `"async"` for the async API). At least one of
//! `sqlite` and `postgres` is required.

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("cursorctl needs a store: enable the `sqlite` or the `postgres` feature");

#[cfg(feature = "async")]
pub mod asynchronous;
pub mod backoff;
mod cursor;
mod driver;
mod error;
mod error_kind;
pub mod heads;
pub mod key;
pub mod lease;
#[cfg(feature = "ops")]
pub mod ops;
pub mod parse;
pub mod sim;
pub mod store;

pub use cursor::{cursor_key_for, ConsumerCursor, Resync};
pub use driver::{CheckpointDriver, CheckpointPolicy, DurabilityConfig};
pub use error::{DurabilityError, StoreError, StoreErrorKind, WriteOutcome};
pub use key::{ChannelId, ConsumerId, CursorKey, KeyError, PartitionKey, SnapshotName};
pub use parse::{
    parse_duration, parse_interval, parse_offset, OffsetError, MAX_DURATION, MAX_OFFSET,
};
pub use store::memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use store::postgres::PostgresStore;
#[cfg(feature = "sqlite")]
pub use store::sqlite::SqliteStore;
#[cfg(feature = "sqlite")]
pub use store::SqliteOptions;
pub use store::{
    Access, Backend, Capabilities, ChangeInput, CursorFilter, CursorRow, DurableStore,
    HistoryFilter, HistoryRow, InitOutcome, Store, StoreExt, StoreLocation, StoreRead,
    StoreReadExt, WriteTxn, DEFAULT_BUSY_TIMEOUT,
};

/// The guide in docs/library.md, whose example runs as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../docs/library.md")]
pub struct LibraryGuide;

/// The PostgreSQL guide, whose library example is compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../docs/postgres.md")]
pub struct PostgresGuide;
