//! The PostgreSQL schema (documented in docs/store.md), and what a schema
//! holds: nothing, a cursor store of some version, or something else.

use postgres::error::SqlState;
use postgres::{Client, SimpleQueryMessage};

use super::connect::pg_error;
use crate::error::{StoreError, StoreErrorKind};

/// The value of the `application` row of the meta table.
pub const APPLICATION: &str = "cursorctl";

pub use crate::store::postgres_backend::SCHEMA_VERSION;

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
        sql.push_str(&schema_v4_rules_sql());
    }
    sql
}

/// The fields of a history row that its chain hash covers, in this order;
/// each is encoded as `length:text` (length in bytes) or `~` when NULL, and
/// the encodings are concatenated (`verify.rs` computes the same).
pub const CHAIN_FIELDS: [&str; 12] = [
    "id::text",
    "at::text",
    "consumer",
    "channel",
    "partition::text",
    "old_offset::text",
    "new_offset::text",
    "command",
    "reason",
    "\"user\"",
    "role",
    "batch::text",
];

/// The SQL expression of the encoding of the row `alias` (`h`, `NEW`).
pub(super) fn chain_encoding(alias: &str) -> String {
    CHAIN_FIELDS
        .iter()
        .map(|f| {
            let v = format!("{alias}.{f}");
            format!("coalesce(octet_length({v}) || ':' || {v}, '~')")
        })
        .collect::<Vec<_>>()
        .join(" || ")
}

/// The SQL expression of the hash over the rows `h` before the chain started
/// (in the order of ids): sha256 of their encodings, concatenated.
fn pre_chain_hash(up_to: &str) -> String {
    format!(
        "(SELECT sha256(convert_to(coalesce(string_agg({}, '' ORDER BY h.id), ''), 'UTF8')) \
          FROM history h WHERE h.id <= {up_to})",
        chain_encoding("h")
    )
}

/// The functions version 4 adds (dropped by name when a failed `init`
/// removes what it created).
pub(super) const RULES_FUNCTIONS: &[&str] = &[
    "history_rules()",
    "history_chain_head()",
    "batches_rules()",
    "head_history_rules()",
    "append_only()",
    "cursors_rewind_check()",
    "prune_history(bigint)",
];

/// What version 4 adds: the store keeps its own rules.
///
/// - `history`, `batches` and `head_history` are append-only: the server
///   sets each row's id (from the table's sequence only), time (`at`, the
///   clock when written) and role (`session_user`) whatever the inserter
///   supplies; UPDATE, DELETE and TRUNCATE are refused. An inserter may
///   choose an id only when it is the table's owner (`copy-store` keeps the
///   copied ids and times); the sequence then moves past it. Other roles
///   choosing an id are refused.
/// - `prune_history(before)` is the one way rows leave (owned by the
///   schema owner, run with its rights), and records each prune in
///   `history_prunes`.
/// - every history row carries `hash`: sha256 over the hash before it and
///   its encoding ([`CHAIN_FIELDS`]); `history_chain` holds the chain's
///   start (`pre_id`, `pre_hash`: the rows written before the chain started,
///   hashed together at the upgrade) and head (`last_id`, `last_hash`),
///   updated in the transaction of each row; `history_chain_gaps` the
///   links a prune cut (the hash before the first row kept after a removed
///   one); a prune that removed the newest rows makes the newest chained
///   row left the head.
/// - a cursor moved backwards (or removed) needs, at commit, a history row
///   written in the same transaction for that cursor with that old and new
///   offset: a constraint trigger checked at commit, queued only for
///   backward moves and removals, so that forward checkpoints cost nothing.
///
/// The ids of the three tables come from plain sequences owned by their
/// column (`pg_get_serial_sequence` finds them), no longer from identity
/// columns, so that no `OVERRIDING SYSTEM VALUE` can choose them.
pub(super) fn schema_v4_rules_sql() -> String {
    let encoding = chain_encoding("NEW");
    let pre_hash = pre_chain_hash("(SELECT coalesce(max(id), 0) FROM history)");
    let pre_hash_again = pre_chain_hash("c.pre_id");
    let clock = "(extract(epoch from clock_timestamp()) * 1000)::bigint";
    let owner_check =
        "pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER')";
    let facts = |table: &str| {
        format!(
            r#"
    IF NEW.id IS NULL THEN
        NEW.id := nextval('{table}_id_seq');
        NEW.at := {clock};
    ELSIF {owner_check} THEN
        PERFORM setval('{table}_id_seq', greatest(NEW.id, (SELECT last_value FROM {table}_id_seq)));
    ELSE
        RAISE EXCEPTION 'permission denied for table {table}: only its owner may choose an id'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.role := session_user;"#
        )
    };
    let history_facts = facts("history");
    let batches_facts = facts("batches");
    let head_facts = facts("head_history");
    format!(
        r#"
DO $ids$
DECLARE t text; last bigint; called boolean;
BEGIN
    FOREACH t IN ARRAY ARRAY['batches', 'history', 'head_history'] LOOP
        CONTINUE WHEN (SELECT a.attidentity FROM pg_attribute a
                       WHERE a.attrelid = t::regclass AND a.attname = 'id') = '';
        EXECUTE format('SELECT last_value, is_called FROM %s', pg_get_serial_sequence(t, 'id'))
            INTO last, called;
        EXECUTE format('ALTER TABLE %I ALTER COLUMN id DROP IDENTITY', t);
        EXECUTE format('CREATE SEQUENCE %I OWNED BY %I.id', t || '_id_seq', t);
        PERFORM setval((t || '_id_seq')::regclass, last, called);
    END LOOP;
END
$ids$;

ALTER TABLE history ADD COLUMN hash bytea;

CREATE TABLE history_chain (
    one       boolean PRIMARY KEY DEFAULT true CHECK (one),
    pre_id    bigint  NOT NULL,
    pre_hash  bytea   NOT NULL,
    last_id   bigint,
    last_hash bytea   NOT NULL
);
INSERT INTO history_chain (pre_id, pre_hash, last_hash)
SELECT coalesce((SELECT max(id) FROM history), 0), p, p FROM (SELECT {pre_hash} AS p) s;

CREATE TABLE history_chain_gaps (
    id        bigint PRIMARY KEY,
    prev_hash bytea  NOT NULL
);

CREATE TABLE history_prunes (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       bigint NOT NULL DEFAULT {clock},
    before   bigint NOT NULL,
    changes  bigint NOT NULL,
    batches  bigint NOT NULL,
    role     text   NOT NULL DEFAULT session_user
);

CREATE FUNCTION history_rules() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $rules$
DECLARE c history_chain; prev bytea;
BEGIN
    -- The first row of a transaction locks the chain (writers of history
    -- take turns until they commit) and reads its head; the next rows of
    -- the transaction follow the row before them, kept in settings local to
    -- the transaction, and the chain is updated once per statement.
    IF current_setting('cursorctl.chain_xact', true) IS DISTINCT FROM pg_current_xact_id()::text THEN
        SELECT * INTO c FROM history_chain FOR UPDATE;
        prev := c.last_hash;
        PERFORM set_config('cursorctl.chain_xact', pg_current_xact_id()::text, true);
    ELSE
        prev := decode(current_setting('cursorctl.chain_last'), 'hex');
    END IF;{history_facts}
    NEW.hash := sha256(prev || convert_to({encoding}, 'UTF8'));
    PERFORM set_config('cursorctl.chain_last', encode(NEW.hash, 'hex'), true),
            set_config('cursorctl.chain_id', NEW.id::text, true);
    RETURN NEW;
END
$rules$;
CREATE TRIGGER history_rules BEFORE INSERT ON history
FOR EACH ROW EXECUTE FUNCTION history_rules();

CREATE FUNCTION history_chain_head() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $rules$
BEGIN
    IF current_setting('cursorctl.chain_xact', true) = pg_current_xact_id()::text THEN
        UPDATE history_chain
        SET last_id = current_setting('cursorctl.chain_id')::bigint,
            last_hash = decode(current_setting('cursorctl.chain_last'), 'hex')
        WHERE last_id IS DISTINCT FROM current_setting('cursorctl.chain_id')::bigint;
    END IF;
    RETURN NULL;
END
$rules$;
CREATE TRIGGER history_chain_head AFTER INSERT ON history
FOR EACH STATEMENT EXECUTE FUNCTION history_chain_head();

CREATE FUNCTION batches_rules() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $rules$
BEGIN{batches_facts}
    RETURN NEW;
END
$rules$;
CREATE TRIGGER batches_rules BEFORE INSERT ON batches
FOR EACH ROW EXECUTE FUNCTION batches_rules();

CREATE FUNCTION head_history_rules() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $rules$
BEGIN{head_facts}
    RETURN NEW;
END
$rules$;
CREATE TRIGGER head_history_rules BEFORE INSERT ON head_history
FOR EACH ROW EXECUTE FUNCTION head_history_rules();

CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $rules$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('cursorctl.pruning', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'permission denied for table %: it is append-only (% refused; rows leave by `history prune` only)',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$rules$;
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON history
FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON history
FOR EACH STATEMENT EXECUTE FUNCTION append_only();
CREATE TRIGGER batches_append_only BEFORE UPDATE OR DELETE ON batches
FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER batches_no_truncate BEFORE TRUNCATE ON batches
FOR EACH STATEMENT EXECUTE FUNCTION append_only();
CREATE TRIGGER head_history_append_only BEFORE UPDATE OR DELETE ON head_history
FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER head_history_no_truncate BEFORE TRUNCATE ON head_history
FOR EACH STATEMENT EXECUTE FUNCTION append_only();
CREATE TRIGGER history_chain_append_only BEFORE DELETE ON history_chain
FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER history_chain_no_truncate BEFORE TRUNCATE ON history_chain
FOR EACH STATEMENT EXECUTE FUNCTION append_only();
CREATE TRIGGER history_prunes_append_only BEFORE UPDATE OR DELETE ON history_prunes
FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER history_prunes_no_truncate BEFORE TRUNCATE ON history_prunes
FOR EACH STATEMENT EXECUTE FUNCTION append_only();

CREATE FUNCTION cursors_rewind_check() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $rules$
DECLARE moved_to bigint;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        moved_to := NEW."offset";
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM history h
        WHERE h.consumer = OLD.consumer AND h.channel = OLD.channel AND h.partition = OLD.partition
          AND h.old_offset = OLD."offset" AND h.new_offset IS NOT DISTINCT FROM moved_to
          AND h.xmin = pg_current_xact_id()::xid
    ) THEN
        RAISE EXCEPTION 'permission denied: cursor %:%:% % without its history row (a cursor moves backwards or is removed only by cursorctl, which records the change)',
            OLD.consumer, OLD.channel, OLD.partition,
            CASE WHEN moved_to IS NULL THEN format('removed at offset %s', OLD."offset")
                 ELSE format('moved backwards from %s to %s', OLD."offset", moved_to) END
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END
$rules$;
CREATE CONSTRAINT TRIGGER cursors_rewind AFTER UPDATE OF "offset" ON cursors
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
WHEN (NEW."offset" < OLD."offset") EXECUTE FUNCTION cursors_rewind_check();
CREATE CONSTRAINT TRIGGER cursors_remove AFTER DELETE ON cursors
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cursors_rewind_check();

CREATE FUNCTION prune_history(before bigint, OUT changes bigint, OUT batches bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $rules$
DECLARE c history_chain; first_change bigint; first_batch bigint; newest record;
BEGIN
    SELECT * INTO c FROM history_chain FOR UPDATE;
    first_change := (SELECT min(h.id) FROM history h WHERE h.at >= prune_history.before);
    first_batch := (SELECT min(b.id) FROM batches b WHERE b.at >= prune_history.before);
    CREATE TEMP TABLE IF NOT EXISTS pruned_changes (id bigint PRIMARY KEY) ON COMMIT DROP;
    DELETE FROM pruned_changes;
    INSERT INTO pruned_changes
    SELECT h.id FROM history h
    WHERE (first_change IS NULL OR h.id < first_change)
      AND (h.batch IS NULL OR h.batch NOT IN
           (SELECT k.batch FROM history k WHERE k.batch IS NOT NULL AND k.id >= first_change));
    -- The links the prune cuts: the hash before each row kept after a
    -- removed one.
    INSERT INTO history_chain_gaps (id, prev_hash)
    SELECT o.id, CASE WHEN o.prev_id <= c.pre_id THEN c.pre_hash ELSE o.prev_hash END
    FROM (SELECT h.id, lag(h.id) OVER w AS prev_id, lag(h.hash) OVER w AS prev_hash,
                 p.id IS NOT NULL AS gone, lag(p.id IS NOT NULL) OVER w AS prev_gone
          FROM history h LEFT JOIN pruned_changes p ON p.id = h.id
          WINDOW w AS (ORDER BY h.id)) o
    WHERE o.id > c.pre_id AND NOT o.gone AND o.prev_gone
    ON CONFLICT (id) DO NOTHING;
    IF EXISTS (SELECT 1 FROM pruned_changes p WHERE p.id <= c.pre_id) THEN
        INSERT INTO history_chain_gaps (id, prev_hash)
        SELECT min(h.id), c.pre_hash FROM history h
        WHERE h.id > c.pre_id AND h.id NOT IN (SELECT p.id FROM pruned_changes p)
        HAVING min(h.id) IS NOT NULL
        ON CONFLICT (id) DO NOTHING;
    END IF;
    PERFORM set_config('cursorctl.pruning', 'on', true);
    DELETE FROM history h USING pruned_changes p WHERE h.id = p.id;
    GET DIAGNOSTICS changes = ROW_COUNT;
    DELETE FROM batches b
    WHERE (first_batch IS NULL OR b.id < first_batch)
      AND b.id NOT IN (SELECT h.batch FROM history h WHERE h.batch IS NOT NULL);
    GET DIAGNOSTICS batches = ROW_COUNT;
    PERFORM set_config('cursorctl.pruning', 'off', true);
    DELETE FROM history_chain_gaps g WHERE NOT EXISTS (SELECT 1 FROM history h WHERE h.id = g.id);
    IF EXISTS (SELECT 1 FROM pruned_changes p WHERE p.id <= c.pre_id) THEN
        UPDATE history_chain SET pre_hash = {pre_hash_again};
    END IF;
    -- The newest chained row left is the head (none: the chain starts
    -- again after the rows from before it).
    IF c.last_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM history h WHERE h.id = c.last_id) THEN
        SELECT h.id, h.hash INTO newest FROM history h WHERE h.id > c.pre_id ORDER BY h.id DESC LIMIT 1;
        IF FOUND THEN
            UPDATE history_chain SET last_id = newest.id, last_hash = newest.hash;
        ELSE
            UPDATE history_chain SET last_id = NULL, last_hash = pre_hash;
        END IF;
    END IF;
    INSERT INTO history_prunes (before, changes, batches)
    VALUES (prune_history.before, changes, batches);
    DELETE FROM pruned_changes;
END
$rules$;
REVOKE ALL ON FUNCTION prune_history(bigint) FROM PUBLIC;
"#
    )
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
    let rules = schema_v4_rules_sql();
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
{rules}

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
    let drop_rules = RULES_FUNCTIONS
        .iter()
        .map(|f| format!("DROP FUNCTION IF EXISTS {schema}.{f} CASCADE;"))
        .collect::<String>();
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
    {drop_rules}
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
