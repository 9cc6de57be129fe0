//! Operations: what an operator does to cursors, as the library does it --
//! moves with their checks ([`moves`]), the batch engine ([`batch`]), and
//! the operations built on them (undo, delete, copy, snapshot restore,
//! history prune, bulk writes, lease breaks and the operator write's
//! lease hook). Each takes a store and an [`Outcome`]: [`Outcome::Commit`]
//! writes, [`Outcome::RollBack`] runs the very same code in a transaction
//! that is rolled back, so that a dry run cannot show anything but what the
//! write does. Failures are one typed error,
//! [`OpError`], whose [`ErrorKind`] a front end maps to what it reports;
//! nothing here prints.
//!
//! The `cursorctl` command line is a front end of this module: arguments,
//! rendering and exit codes.
//!
//! [`Outcome`]: crate::store::Outcome
//! [`Outcome::Commit`]: crate::store::Outcome::Commit
//! [`Outcome::RollBack`]: crate::store::Outcome::RollBack

pub mod audited;
pub mod batch;
pub mod bulk;
mod bulk_chunk;
mod bulk_keys;
pub mod change;
pub mod copy;
pub mod copy_store;
pub mod delete;
pub mod error;
pub mod failures;
pub mod head_set;
pub mod lease;
pub mod moves;
pub mod prune;
pub mod snapshot;
pub mod to_head;
pub mod undo;

pub use change::{Change, Status};
pub use error::{Detail, Details, ErrorKind, OpError, OpResult, Refusal};
