//! The PostgreSQL schema (documented in docs/store.md), and what a schema
//! holds: nothing, a cursor store of some version, or something else.

use postgres::error::SqlState;
use postgres::{Client, SimpleQueryMessage};

use super::connect::pg_error;
use crate::error::{StoreError, StoreErrorKind};

/// The value of the `application` row of the meta table.
pub const APPLICATION: &str = "cursorctl";

/// The schema version this build writes. Version 1 to 3 stores are read
/// and written too; `init` upgrades them.
pub const SCHEMA_VERSION: i64 = 4;

/// What version 2 adds: snapshots of offsets kept in the store.
pub(super) const SCHEMA_V2_SQL: &str = r#"
CREATE TABLE snapshots (
    name     text COLLATE "C" PRIMARY KEY,
    at       bigint NOT NULL,
    "user"   text   NOT NULL,
    reason   text,
    consumer text,
    role     text   NOT NULL DEFAULT session_user
);

CREATE TABLE snapshot_cursors (
    snapshot  text COLLATE "C" NOT NULL REFERENCES snapshots (name) ON DELETE CASCADE,
    consumer  text COLLATE "C" NOT NULL,
    channel   text COLLATE "C" NOT NULL,
    partition bigint NOT NULL,
    "offset"  bigint NOT NULL,
    PRIMARY KEY (snapshot, consumer, channel, partition)
);
"#;

/// What version 3 adds for heads: each partition's head (the offset the
/// next message appended to it will get) with the store-clock time it was
/// recorded, and the history of head changes.
pub(super) const SCHEMA_V3_HEADS_SQL: &str = r#"
CREATE TABLE heads (
    channel     text COLLATE "C" NOT NULL,
    partition   bigint NOT NULL CHECK (partition BETWEEN 0 AND 4294967295),
    head        bigint NOT NULL CHECK (head >= 0),
    recorded_at bigint NOT NULL,
    PRIMARY KEY (channel, partition)
);

CREATE TABLE head_history (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        bigint NOT NULL,
    channel   text   NOT NULL,
    partition bigint NOT NULL,
    old_head  bigint,
    new_head  bigint NOT NULL,
    command   text   NOT NULL,
    reason    text,
    "user"    text   NOT NULL,
    role      text   NOT NULL DEFAULT session_user
);
CREATE INDEX head_history_by_partition ON head_history (channel, partition);
"#;

/// What version 4 adds for leases: per cursor the owner of its lease, the
/// fencing epoch (one more at every acquisition and break) and the times it
/// was acquired and expires, on the server's clock (ms since the Unix
/// epoch).
pub(super) const SCHEMA_V4_LEASES_SQL: &str = r#"
CREATE TABLE IF NOT EXISTS leases (
    consumer    text COLLATE "C" NOT NULL,
    channel     text COLLATE "C" NOT NULL,
    partition   bigint NOT NULL CHECK (partition BETWEEN 0 AND 4294967295),
    owner       text   NOT NULL,
    epoch       bigint NOT NULL CHECK (epoch >= 1),
    acquired_at bigint NOT NULL,
    expires_at  bigint NOT NULL,
    PRIMARY KEY (consumer, channel, partition)
);
"#;

/// What version 4 adds for write ids: one row per write, made in the
/// write's transaction (its id made by the client, its batch and first
/// change outside a batch), and one per write proven not written after its
/// commit was lost (`not_written`), which keeps that write from ever
/// committing.
pub(super) const SCHEMA_V4_WRITE_IDS_SQL: &str = r#"
CREATE TABLE IF NOT EXISTS writes (
    write_id    text COLLATE "C" PRIMARY KEY CHECK (write_id ~ '^[0-9a-f]{32}$'),
    at          bigint  NOT NULL,
    batch       bigint,
    change      bigint,
    not_written boolean NOT NULL DEFAULT false
);
"#;

/// The statements that bring a store of version `from` to
/// [`SCHEMA_VERSION`] (the search path set to its schema).
pub(super) fn upgrade_sql(from: i64) -> String {
    let mut sql = String::new();
    if from < 2 {
        sql.push_str(SCHEMA_V2_SQL);
    }
    if from < 3 {
        sql.push_str(SCHEMA_V3_HEADS_SQL);
    }
    if from < 4 {
        sql.push_str(SCHEMA_V4_WRITE_IDS_SQL);
        sql.push_str(SCHEMA_V4_LEASES_SQL);
    }
    sql
}

/// The store's clock in milliseconds since the Unix epoch, at the start of
/// the current transaction: the default `updated_at` of a cursor inserted
/// by another writer. cursorctl's own statements stamp each row with the
/// time it is written (`clock_timestamp()`), so that the times of changes
/// follow the order of their ids.
pub(super) const NOW_MS: &str = "(extract(epoch from now()) * 1000)::bigint";

/// The statements that create a store of [`SCHEMA_VERSION`] in schema
/// `schema` (a plain identifier, checked when the location was read).
pub(super) fn schema_sql(schema: &str) -> String {
    format!(
        r#"
CREATE SCHEMA IF NOT EXISTS {schema};
SET LOCAL search_path = {schema};

CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- COLLATE "C": keys sort by their bytes, as on every backend.
CREATE TABLE cursors (
    consumer   text COLLATE "C" NOT NULL,
    channel    text COLLATE "C" NOT NULL,
    partition  bigint NOT NULL CHECK (partition BETWEEN 0 AND 4294967295),
    "offset"   bigint NOT NULL CHECK ("offset" >= 0),
    updated_at bigint NOT NULL DEFAULT {NOW_MS},
    PRIMARY KEY (consumer, channel, partition)
);

-- Keeps updated_at for writers that change the offset without it.
CREATE FUNCTION cursors_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := (extract(epoch from clock_timestamp()) * 1000)::bigint;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER cursors_touch BEFORE UPDATE OF "offset" ON cursors
FOR EACH ROW EXECUTE FUNCTION cursors_touch();

CREATE TABLE batches (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      bigint NOT NULL,
    command text   NOT NULL,
    reason  text,
    "user"  text   NOT NULL,
    role    text   NOT NULL DEFAULT session_user
);

CREATE TABLE history (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         bigint NOT NULL,
    consumer   text   NOT NULL,
    channel    text   NOT NULL,
    partition  bigint NOT NULL,
    old_offset bigint,
    new_offset bigint,
    command    text   NOT NULL,
    reason     text,
    "user"     text   NOT NULL,
    role       text   NOT NULL DEFAULT session_user,
    batch      bigint REFERENCES batches (id)
);
CREATE INDEX history_by_cursor ON history (consumer, channel, partition);
CREATE INDEX history_by_batch ON history (batch) WHERE batch IS NOT NULL;

{SCHEMA_V2_SQL}
{SCHEMA_V3_HEADS_SQL}
{SCHEMA_V4_WRITE_IDS_SQL}
{SCHEMA_V4_LEASES_SQL}

INSERT INTO meta (key, value) VALUES ('application', '{APPLICATION}'),
                                     ('schema_version', '{SCHEMA_VERSION}');
"#
    )
}

/// The statements that remove a store `init` has just created in schema
/// `schema` (a plain identifier): the schema itself when `init` created it,
/// otherwise what `init` created in the empty schema it found (every
/// relation there, and the trigger function).
pub(super) fn remove_sql(schema: &str, schema_created: bool) -> String {
    if schema_created {
        return format!("DROP SCHEMA {schema} CASCADE");
    }
    format!(
        r#"DO $remove$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.relname, c.relkind FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = '{schema}' AND c.relkind IN ('r', 'p', 'v', 'm')
    LOOP
        EXECUTE format(CASE r.relkind WHEN 'v' THEN 'DROP VIEW IF EXISTS %I.%I CASCADE'
                                      WHEN 'm' THEN 'DROP MATERIALIZED VIEW IF EXISTS %I.%I CASCADE'
                                      ELSE 'DROP TABLE IF EXISTS %I.%I CASCADE' END,
                       '{schema}', r.relname);
    END LOOP;
    DROP FUNCTION IF EXISTS {schema}.cursors_touch();
END
$remove$"#
    )
}

/// What a schema holds.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Found {
    /// No such schema.
    Missing,
    /// The schema exists and holds no table.
    Empty,
    /// A cursor store of this schema version.
    Store(i64),
    /// Tables that are not a cursor store.
    Foreign(String),
}

/// Look at what the schema on the search path holds: one query when it is a
/// cursor store (the common case), a catalog query otherwise.
pub(super) fn inspect(client: &mut Client, schema: &str) -> Result<Found, StoreError> {
    // The simple protocol: one round trip, where a prepared statement
    // takes two.
    match client.simple_query("SELECT key, value FROM meta") {
        Ok(messages) => {
            let get = |k: &str| {
                messages.iter().find_map(|m| match m {
                    SimpleQueryMessage::Row(r) if r.get(0) == Some(k) => {
                        r.get(1).map(str::to_owned)
                    }
                    _ => None,
                })
            };
            if get("application").as_deref() != Some(APPLICATION) {
                return Ok(Found::Foreign(format!(
                    "its meta table belongs to another application ({})",
                    get("application").unwrap_or_else(|| "none".to_owned())
                )));
            }
            match get("schema_version").and_then(|v| v.parse().ok()) {
                Some(version) => Ok(Found::Store(version)),
                None => Ok(Found::Foreign(
                    "its meta table has no schema version".to_owned(),
                )),
            }
        }
        Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => {
            // A schema the role may not use is left out of the search
            // path, so its meta table looks missing: say so, rather than
            // call it a schema of another application.
            let row = client
                .query_one(
                    "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = $1), \
                            (SELECT count(*) FROM pg_class c JOIN pg_namespace n \
                               ON n.oid = c.relnamespace WHERE n.nspname = $1), \
                            (SELECT has_schema_privilege(oid, 'USAGE') FROM pg_namespace \
                               WHERE nspname = $1), \
                            current_user",
                    &[&schema],
                )
                .map_err(|e| pg_error("reading the catalog", e))?;
            let (schemas, relations): (i64, i64) = (row.get(0), row.get(1));
            if row.get::<_, Option<bool>>(2) == Some(false) {
                let role: String = row.get(3);
                return Err(StoreError::Database {
                    context: "reading the store header".to_owned(),
                    kind: StoreErrorKind::PermissionDenied,
                    source: format!(
                        "permission denied for schema {schema}: role {role} has no USAGE on it (GRANT USAGE ON SCHEMA {schema} TO {role}, as docs/postgres-roles.sql does)"
                    )
                    .into(),
                });
            }
            Ok(match (schemas, relations) {
                (0, _) => Found::Missing,
                (_, 0) => Found::Empty,
                (_, n) => Found::Foreign(format!(
                    "schema {schema} holds {n} tables or other relations of another application"
                )),
            })
        }
        Err(e) => Err(pg_error("reading the store header", e)),
    }
}
