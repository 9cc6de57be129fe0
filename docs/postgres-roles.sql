-- Least privileges for the three kinds of user of a PostgreSQL cursor store.
-- Run with psql after `cursorctl init`, as the owner of the store's schema:
--
--   psql "$ADMIN_URL" -v schema=cursorctl -v prefix=cursorctl_ -f docs/postgres-roles.sql
--
-- It creates three group roles (NOLOGIN); grant them to login roles:
--   GRANT cursorctl_operator TO alice;  GRANT cursorctl_consumer TO billing_svc;
\set ON_ERROR_STOP on

SELECT format('%sviewer', :'prefix') AS viewer,
       format('%soperator', :'prefix') AS operator,
       format('%sconsumer', :'prefix') AS consumer \gset

-- viewer: get, history, describe. Reads everything, writes nothing.
CREATE ROLE :"viewer" NOLOGIN;
GRANT USAGE ON SCHEMA :"schema" TO :"viewer";
GRANT SELECT ON ALL TABLES IN SCHEMA :"schema" TO :"viewer";

-- consumer: checkpoints only (the library's compare-and-swap): reads and
-- moves cursors, creates missing ones; no history, no deletes.
CREATE ROLE :"consumer" NOLOGIN;
GRANT USAGE ON SCHEMA :"schema" TO :"consumer";
SET search_path = :"schema";
GRANT SELECT ON meta TO :"consumer";
GRANT SELECT, INSERT, UPDATE ("offset", updated_at) ON cursors TO :"consumer";
-- leases (schema version 4): a consumer instance acquires, renews and
-- releases the lease of the cursor it consumes, and reads heads for lag.
GRANT SELECT, INSERT, UPDATE, DELETE ON leases TO :"consumer";
GRANT SELECT ON heads TO :"consumer";

-- operator: every command: moves, creates and removes cursors, and
-- records each change in the history in the same transaction.
CREATE ROLE :"operator" NOLOGIN;
GRANT USAGE ON SCHEMA :"schema" TO :"operator";
GRANT SELECT ON meta TO :"operator";
GRANT SELECT, INSERT, UPDATE, DELETE ON cursors TO :"operator";
GRANT SELECT, INSERT ON history, batches TO :"operator";
-- heads (schema version 3): `head set` moves a head and records the change.
GRANT SELECT, INSERT, UPDATE ON heads TO :"operator";
GRANT SELECT, INSERT ON head_history TO :"operator";
-- write ids (schema version 4): each write records its id as it commits,
-- and a write whose commit was lost is looked up by it.
GRANT SELECT, INSERT ON writes TO :"operator";
-- leases (schema version 4): an operator's write notes a live lease, and
-- `lease break` / `--fence` end one.
GRANT SELECT, INSERT, UPDATE ON leases TO :"operator";
