//! The statements of the write transaction, with their parameter types.

use postgres::types::Type;

pub(super) const SWAP: &str = "UPDATE cursors SET \"offset\" = $4, \
     updated_at = (extract(epoch from clock_timestamp()) * 1000)::bigint \
     WHERE consumer = $1 AND channel = $2 AND partition = $3 AND \"offset\" = $5";

pub(super) const INSERT: &str = "INSERT INTO cursors (consumer, channel, partition, \"offset\", updated_at) \
     VALUES ($1, $2, $3, $4, (extract(epoch from clock_timestamp()) * 1000)::bigint) ON CONFLICT DO NOTHING";

pub(super) const REMOVE: &str = "DELETE FROM cursors \
     WHERE consumer = $1 AND channel = $2 AND partition = $3 AND \"offset\" = $4";

pub(super) const NEW_BATCH: &str = "INSERT INTO batches (at, command, reason, \"user\") \
     VALUES ((extract(epoch from clock_timestamp()) * 1000)::bigint, $1, $2, $3) RETURNING id";

pub(super) const RECORD: &str = "INSERT INTO history (at, consumer, channel, partition, old_offset, \
     new_offset, command, reason, \"user\", batch) \
     VALUES ((extract(epoch from clock_timestamp()) * 1000)::bigint, $1, $2, $3, $4, $5, $6, $7, $8, $9) \
     RETURNING id";

/// The cursors of a chunk that exist, with their offsets, by position.
pub(super) const READ_AHEAD: &str = "SELECT i.ord, c.\"offset\" \
     FROM unnest($1::text[], $2::text[], $3::int8[]) WITH ORDINALITY AS i(consumer, channel, partition, ord) \
     JOIN cursors c ON c.consumer = i.consumer AND c.channel = i.channel AND c.partition = i.partition";

/// Many guarded moves and their history rows in one statement; returns the
/// positions (from 1) of the moves whose cursor held something else. The
/// moves that did not happen are found with `NOT IN` over what was moved
/// and created (never NULL), which PostgreSQL checks against a hash table
/// of them. A `NOT EXISTS` is an anti-join, which a planner that counts the
/// chunk as a few rows (stale statistics of a store emptied by `TRUNCATE`,
/// or the generic plan of the prepared statement) may make a nested loop
/// over all of them for every move: quadratic in the chunk.
pub(super) const APPLY_MOVES: &str = "WITH input AS ( \
         SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[], \
                              $6::text[], $7::text[], $8::text[], $9::int8[]) \
         WITH ORDINALITY AS i(consumer, channel, partition, old, new, command, reason, \"user\", batch, ord) \
     ), moved AS ( \
         UPDATE cursors c SET \"offset\" = i.new, updated_at = (extract(epoch from clock_timestamp()) * 1000)::bigint \
         FROM input i \
         WHERE i.old IS NOT NULL AND c.consumer = i.consumer AND c.channel = i.channel \
           AND c.partition = i.partition AND c.\"offset\" = i.old \
         RETURNING i.ord \
     ), created AS ( \
         INSERT INTO cursors (consumer, channel, partition, \"offset\", updated_at) \
         SELECT consumer, channel, partition, new, (extract(epoch from clock_timestamp()) * 1000)::bigint \
         FROM input WHERE old IS NULL ORDER BY ord \
         ON CONFLICT DO NOTHING \
         RETURNING consumer, channel, partition \
     ), recorded AS ( \
         INSERT INTO history (at, consumer, channel, partition, old_offset, new_offset, \
                              command, reason, \"user\", batch) \
         SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint, consumer, channel, partition, old, new, \
                command, reason, \"user\", batch \
         FROM input ORDER BY ord \
     ) \
     SELECT i.ord FROM input i \
     WHERE i.ord NOT IN (SELECT m.ord FROM moved m) \
       AND (i.consumer, i.channel, i.partition) NOT IN \
           (SELECT n.consumer, n.channel, n.partition FROM created n) \
     ORDER BY i.ord";

/// The parameter types of [`SWAP`], and of [`INSERT`] and [`REMOVE`]
/// (their first four).
pub(super) const SWAP_TYPES: &[Type] =
    &[Type::TEXT, Type::TEXT, Type::INT8, Type::INT8, Type::INT8];

pub(super) const RECORD_TYPES: &[Type] = &[
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
];

/// The parameter types of [`READ_AHEAD`].
pub(super) const KEYS_TYPES: &[Type] = &[Type::TEXT_ARRAY, Type::TEXT_ARRAY, Type::INT8_ARRAY];

pub(super) const APPLY_MOVES_TYPES: &[Type] = &[
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::INT8_ARRAY,
    Type::INT8_ARRAY,
    Type::INT8_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::INT8_ARRAY,
];
