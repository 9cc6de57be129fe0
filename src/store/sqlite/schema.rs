//! The SQLite schema (documented in docs/store.md) and the marks of a
//! cursor store.

/// `PRAGMA application_id` of a cursor store: "Curs" in ASCII.
pub const APPLICATION_ID: i32 = 0x4375_7273;

pub use crate::store::sqlite_backend::SCHEMA_VERSION;

/// The first schema version whose history carries a hash chain.
pub const RULES_VERSION: i64 = 4;

/// The first schema version whose ids are never given twice.
pub const IDS_VERSION: i64 = 3;

/// What version 2 adds: snapshots of offsets kept in the store.
pub(super) const SCHEMA_V2_SQL: &str = "
CREATE TABLE snapshots (
    name     TEXT    PRIMARY KEY,
    at       INTEGER NOT NULL,
    user     TEXT    NOT NULL,
    reason   TEXT,
    consumer TEXT
);

CREATE TABLE snapshot_cursors (
    snapshot  TEXT    NOT NULL REFERENCES snapshots (name),
    consumer  TEXT    NOT NULL,
    channel   TEXT    NOT NULL,
    partition INTEGER NOT NULL,
    offset    INTEGER NOT NULL,
    PRIMARY KEY (snapshot, consumer, channel, partition)
) WITHOUT ROWID;
";

/// What version 3 changes in the ids: `batches` and `history` are rebuilt
/// with `AUTOINCREMENT`, so that SQLite keeps the highest id it ever gave
/// (in `sqlite_sequence`) and never gives an id twice, even when the rows
/// with the highest ids were pruned. The rows and their ids are kept; the
/// highest id given so far is then the highest one left.
pub(super) const SCHEMA_V3_IDS_SQL: &str = "
CREATE TABLE batches_v3 (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    command TEXT    NOT NULL,
    reason  TEXT,
    user    TEXT    NOT NULL
);
INSERT INTO batches_v3 (id, at, command, reason, user)
SELECT id, at, command, reason, user FROM batches ORDER BY id;

CREATE TABLE history_v3 (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    consumer   TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    partition  INTEGER NOT NULL,
    old_offset INTEGER,
    new_offset INTEGER,
    command    TEXT    NOT NULL,
    reason     TEXT,
    user       TEXT    NOT NULL,
    batch      INTEGER REFERENCES batches (id)
);
INSERT INTO history_v3 (id, at, consumer, channel, partition, old_offset, new_offset,
                        command, reason, user, batch)
SELECT id, at, consumer, channel, partition, old_offset, new_offset,
       command, reason, user, batch FROM history ORDER BY id;

DROP TABLE history;
DROP TABLE batches;
ALTER TABLE batches_v3 RENAME TO batches;
ALTER TABLE history_v3 RENAME TO history;
CREATE INDEX history_by_cursor ON history (consumer, channel, partition);
CREATE INDEX history_by_batch ON history (batch) WHERE batch IS NOT NULL;
";

/// What version 3 adds for heads: each partition's head (the offset the
/// next message appended to it will get) with the store-clock time it was
/// recorded, and the history of head changes.
pub(super) const SCHEMA_V3_HEADS_SQL: &str = "
CREATE TABLE heads (
    channel     TEXT    NOT NULL,
    partition   INTEGER NOT NULL,
    head        INTEGER NOT NULL CHECK (typeof(head) = 'integer' AND head >= 0),
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (channel, partition)
) WITHOUT ROWID;

CREATE TABLE head_history (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    channel   TEXT    NOT NULL,
    partition INTEGER NOT NULL,
    old_head  INTEGER,
    new_head  INTEGER NOT NULL,
    command   TEXT    NOT NULL,
    reason    TEXT,
    user      TEXT    NOT NULL
);

CREATE INDEX head_history_by_partition ON head_history (channel, partition);
";

/// What version 4 adds for leases: per cursor the owner of its lease, the
/// fencing epoch (one more at every acquisition and break) and the times it
/// was acquired and expires, on the store's clock (ms since the Unix epoch).
pub(super) const SCHEMA_V4_LEASES_SQL: &str = "
CREATE TABLE IF NOT EXISTS leases (
    consumer    TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    partition   INTEGER NOT NULL,
    owner       TEXT    NOT NULL,
    epoch       INTEGER NOT NULL CHECK (typeof(epoch) = 'integer' AND epoch >= 1),
    acquired_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (consumer, channel, partition)
) WITHOUT ROWID;
";

/// What version 4 adds for write ids: one row per write, made in the
/// write's transaction (its id made by the client, its batch and first
/// change outside a batch), and one per write proven not written
/// (`not_written`), which keeps that write from ever committing.
pub(super) const SCHEMA_V4_WRITE_IDS_SQL: &str = "
CREATE TABLE IF NOT EXISTS writes (
    write_id    TEXT    PRIMARY KEY CHECK (length(write_id) = 32),
    at          INTEGER NOT NULL,
    batch       INTEGER,
    change      INTEGER,
    not_written INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
";

/// The fields of a history row that its chain hash covers, in this order
/// (as on PostgreSQL, without the role: SQLite has no roles); each is
/// encoded as `length:text` (length in bytes) or `~` when NULL.
pub const CHAIN_FIELDS: [&str; 11] = [
    "id",
    "at",
    "consumer",
    "channel",
    "partition",
    "old_offset",
    "new_offset",
    "command",
    "reason",
    "user",
    "batch",
];

/// The columns of [`CHAIN_FIELDS`], comma-separated, of the row `alias`.
pub(super) fn chain_columns(alias: &str) -> String {
    CHAIN_FIELDS
        .iter()
        .map(|f| format!("{alias}.{f}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The SQL function the chain trigger calls: `cursorctl_chain(prev, id,
/// at, ...)` is sha256 over the bytes of `prev` and then of the encoding of
/// the row's fields (in Rust: a short trigger is parsed quickly by every
/// command). cursorctl defines it on every connection that writes; a
/// writer without it (the `sqlite3` shell) cannot add history rows.
pub const CHAIN_FUNCTION: &str = "cursorctl_chain";

/// What version 4 adds: the hash chain of the history (see
/// `crate::store::chain`), kept by a trigger on each new row. The chain's
/// start (`pre_id`, `pre_hash`) is written by the upgrade, which hashes the
/// rows already there. SQLite enforces nothing else of the store's rules:
/// whoever may write the file may change any row (and drop the trigger);
/// `history verify` sees what was changed.
pub(super) fn schema_v4_rules_sql() -> String {
    format!(
        "
ALTER TABLE history ADD COLUMN hash BLOB;

CREATE TABLE history_chain (
    one       INTEGER PRIMARY KEY CHECK (one = 1),
    pre_id    INTEGER NOT NULL,
    pre_hash  BLOB    NOT NULL,
    last_id   INTEGER,
    last_hash BLOB    NOT NULL
);

CREATE TABLE history_chain_gaps (
    id        INTEGER PRIMARY KEY,
    prev_hash BLOB    NOT NULL
);

{};
",
        chain_trigger_sql()
    )
}

/// The chain's trigger, as `sqlite_master` keeps its text. A bulk write
/// that finds it unchanged writes the same hashes itself (`moves.rs`).
pub(super) fn chain_trigger_sql() -> String {
    let columns = chain_columns("NEW");
    format!(
        "CREATE TRIGGER history_chain AFTER INSERT ON history
BEGIN
    UPDATE history_chain SET last_id = NEW.id, last_hash = {CHAIN_FUNCTION}(last_hash, {columns});
    UPDATE history SET hash = (SELECT last_hash FROM history_chain) WHERE id = NEW.id;
END"
    )
}

/// SQLite's clock, in milliseconds since the Unix epoch.
pub(super) const NOW_MS_SQL: &str = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

/// The statements that create a store of [`SCHEMA_VERSION`].
pub(super) fn schema_sql() -> String {
    format!(
        "{}{SCHEMA_V2_SQL}{SCHEMA_V3_IDS_SQL}{SCHEMA_V3_HEADS_SQL}{SCHEMA_V4_LEASES_SQL}{SCHEMA_V4_WRITE_IDS_SQL}{}",
        schema_v1_sql(),
        schema_v4_rules_sql()
    )
}

/// The statements of a version 1 store.
pub(super) fn schema_v1_sql() -> String {
    format!(
        "
CREATE TABLE cursors (
    consumer   TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    partition  INTEGER NOT NULL,
    offset     INTEGER CHECK (typeof(offset) = 'integer' AND offset >= 0),
    updated_at INTEGER NOT NULL DEFAULT ({NOW_MS_SQL}),
    PRIMARY KEY (consumer, channel, partition)
) WITHOUT ROWID;

CREATE TRIGGER cursors_touch AFTER UPDATE OF offset ON cursors
WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE cursors SET updated_at = {NOW_MS_SQL}
    WHERE consumer = NEW.consumer AND channel = NEW.channel AND partition = NEW.partition;
END;

CREATE TABLE batches (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    command TEXT    NOT NULL,
    reason  TEXT,
    user    TEXT    NOT NULL
);

CREATE TABLE history (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    consumer   TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    partition  INTEGER NOT NULL,
    old_offset INTEGER,
    new_offset INTEGER,
    command    TEXT    NOT NULL,
    reason     TEXT,
    user       TEXT    NOT NULL,
    batch      INTEGER REFERENCES batches (id)
);

CREATE INDEX history_by_cursor ON history (consumer, channel, partition);
CREATE INDEX history_by_batch ON history (batch) WHERE batch IS NOT NULL;

CREATE VIEW cursor_keys AS
SELECT consumer || ':' || channel || ':' || partition AS key,
       consumer, channel, partition, offset, updated_at
FROM cursors;
"
    )
}
