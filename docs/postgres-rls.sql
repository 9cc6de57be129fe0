-- Optional: a consumer's login role may move only its own cursors: those
-- whose consumer column equals the role's name. Operators and viewers keep
-- seeing every cursor. Run after docs/postgres-roles.sql, with the same
-- variables:
--
--   psql "$ADMIN_URL" -v schema=cursorctl -v prefix=cursorctl_ -f docs/postgres-rls.sql
--
-- The store's own rules (the checks of backwards moves, the history's
-- triggers) run as the owner of the schema, who is not subject to these
-- policies, so they see every row.
\set ON_ERROR_STOP on

SELECT format('%sviewer', :'prefix') AS viewer,
       format('%soperator', :'prefix') AS operator,
       format('%sconsumer', :'prefix') AS consumer \gset
SET search_path = :"schema";

ALTER TABLE cursors ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_cursors ON cursors TO :"consumer"
    USING (consumer = current_user) WITH CHECK (consumer = current_user);
CREATE POLICY every_cursor ON cursors TO :"operator", :"viewer"
    USING (true) WITH CHECK (true);
