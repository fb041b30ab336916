-- Time limits for the roles that log in to run queries, so that no request can
-- hold a connection, a lock or a transaction for long:
--
--   cims_api      5 s a statement, 2 s waiting for a lock, 10 s idle in a transaction.
--                 Every call of the API is one statement of its own, and what reads
--                 many rows (sealing, checkpoints, verification, the CSV and evidence
--                 exports) reads them in keyset pages of at most 10,000 rows
--                 (api/src/audit/audit-store.ts PAGE), each its own statement.
--                 A statement or lock wait past them is answered 503 busy (pg-store's
--                 toStoreError: SQLSTATE 57014, 55P03), never a 500.
--   cims_analyst  5 min a statement, 10 s for a lock, 10 min idle in a transaction:
--                 ad hoc queries over the de-identified views. These apply to a login
--                 as cims_analyst; a person's own login that is a member of it needs
--                 its own (role settings are not inherited).
--
-- The migrator (a superuser or a member of cims_owner) sets its own: none of this
-- applies to it, nor to SET ROLE. Roles are cluster-wide and several databases
-- share them, so a setting is only changed when it differs, and a concurrent
-- change by another database's migration to the same values is tolerated.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_db_role_setting s WHERE s.setdatabase = 0 AND s.setrole = 'cims_api'::regrole
                  AND s.setconfig @> ARRAY['statement_timeout=5s', 'lock_timeout=2s', 'idle_in_transaction_session_timeout=10s']) THEN
    BEGIN
      ALTER ROLE cims_api SET statement_timeout = '5s';
      ALTER ROLE cims_api SET lock_timeout = '2s';
      ALTER ROLE cims_api SET idle_in_transaction_session_timeout = '10s';
    EXCEPTION WHEN internal_error THEN NULL;  -- "tuple concurrently updated": another database's migration set them
    END;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_db_role_setting s WHERE s.setdatabase = 0 AND s.setrole = 'cims_analyst'::regrole
                  AND s.setconfig @> ARRAY['statement_timeout=5min', 'lock_timeout=10s', 'idle_in_transaction_session_timeout=10min']) THEN
    BEGIN
      ALTER ROLE cims_analyst SET statement_timeout = '5min';
      ALTER ROLE cims_analyst SET lock_timeout = '10s';
      ALTER ROLE cims_analyst SET idle_in_transaction_session_timeout = '10min';
    EXCEPTION WHEN internal_error THEN NULL;
    END;
  END IF;
END
$$;
