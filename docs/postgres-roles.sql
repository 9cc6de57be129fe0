-- Least privileges for the three kinds of user of a PostgreSQL cursor store
-- (schema version 4). Run with psql after `cursorctl init`, as the owner of
-- the store's schema:
--
--   psql "$ADMIN_URL" -v schema=cursorctl -v prefix=cursorctl_ -f docs/postgres-roles.sql
--
-- It creates three group roles (NOLOGIN); grant them to login roles:
--   GRANT cursorctl_operator TO alice;  GRANT cursorctl_consumer TO billing_svc;
--
-- The owner of the schema (who ran `init`) stays the admin: `init` (create,
-- upgrade) and `copy-store` into the store, which keeps the copied ids and
-- times, are the owner's. What each role may run, command by command, is
-- the table in docs/postgres.md.
--
-- Whatever the grants, the store keeps its own rules (triggers owned by the
-- schema owner): history, batches and head_history are append-only, their
-- ids, times and roles set by the server; a cursor moves backwards, or is
-- removed, only with its history row in the same transaction.
\set ON_ERROR_STOP on

SELECT format('%sviewer', :'prefix') AS viewer,
       format('%soperator', :'prefix') AS operator,
       format('%sconsumer', :'prefix') AS consumer \gset

-- viewer: get, history (and history verify), describe, status, head get,
-- head history, snapshot list/show, and the dry run of every write. Reads
-- everything, writes nothing.
CREATE ROLE :"viewer" NOLOGIN;
GRANT USAGE ON SCHEMA :"schema" TO :"viewer";
GRANT SELECT ON ALL TABLES IN SCHEMA :"schema" TO :"viewer";

-- consumer: checkpoints (the library's compare-and-swap): reads and moves
-- cursors forward, creates missing ones, reads heads (its lag: `get`,
-- `status`), holds leases; no history, no deletes of cursors, and no
-- backwards move (the store refuses one without its history row).
CREATE ROLE :"consumer" NOLOGIN;
GRANT USAGE ON SCHEMA :"schema" TO :"consumer";
SET search_path = :"schema";
GRANT SELECT ON meta TO :"consumer";
GRANT SELECT, INSERT, UPDATE ("offset", updated_at) ON cursors TO :"consumer";
-- leases (schema version 4): a consumer instance acquires, renews and
-- releases the lease of the cursor it consumes, and reads heads for lag.
GRANT SELECT, INSERT, UPDATE, DELETE ON leases TO :"consumer";
GRANT SELECT ON heads TO :"consumer";

-- operator: every command but init and copy-store: moves, creates and
-- removes cursors and records each change in the history in the same
-- transaction; snapshots; heads; history prune (through prune_history, the
-- one way rows leave the history).
CREATE ROLE :"operator" NOLOGIN;
GRANT USAGE ON SCHEMA :"schema" TO :"operator";
GRANT SELECT ON ALL TABLES IN SCHEMA :"schema" TO :"operator";
GRANT INSERT, UPDATE, DELETE ON cursors TO :"operator";
GRANT INSERT ON history, batches TO :"operator";
GRANT INSERT, DELETE ON snapshots, snapshot_cursors TO :"operator";
GRANT INSERT, UPDATE ON heads TO :"operator";
GRANT INSERT ON head_history TO :"operator";
GRANT EXECUTE ON FUNCTION prune_history(bigint) TO :"operator";
-- write ids (schema version 4): each write records its id as it commits,
-- and a write whose commit was lost is looked up by it.
GRANT SELECT, INSERT ON writes TO :"operator";
-- leases (schema version 4): an operator's write notes a live lease, and
-- `lease break` / `--fence` end one.
GRANT SELECT, INSERT, UPDATE ON leases TO :"operator";
