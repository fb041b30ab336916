-- Signed checkpoints, and audit tables their administrators cannot quietly change.
--
-- 1. The audit schema and its tables move to cims_audit_owner, a role nobody
--    logs in as and nobody is a member of. The migrator is a member of
--    cims_owner, and an owner may disable a table's triggers or drop it: so
--    cims_owner keeps only what the SECURITY DEFINER functions need (INSERT and
--    SELECT on the evidence, DELETE on the two sealing queues). Changing the
--    audit tables' triggers or shape is a superuser's act from now on
--    (migrate runs the trigger part of api/sql/functions/audit.sql as
--    cims_audit_owner, which a superuser may).
-- 2. audit.checkpoints: what the API signed (the body, its Ed25519 signature)
--    and which access events each checkpoint covers. The key never enters the
--    database; each checkpoint is also written outside it (docs/audit-anchoring.md).
-- 3. audit.access_unsealed: access events not in a checkpoint yet, queued by a
--    trigger like events are for the chain.
--
-- Links sealed by an earlier version were hashed in SQL over another canonical
-- form, which the API's verification does not recompute: such a database is
-- recreated, not upgraded.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM audit.chain) THEN
    RAISE EXCEPTION 'this database''s audit chain was sealed by an earlier version of CIMS and cannot be upgraded in place: '
      'recreate it (the demo stack: npm run stack -- --reset; PostgreSQL: drop and create the database, then npm run db:migrate)';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cims_audit_owner') THEN
    BEGIN
      CREATE ROLE cims_audit_owner NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cims_audit_owner'
             AND (rolcanlogin OR rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb OR rolreplication)) THEN
    ALTER ROLE cims_audit_owner NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOREPLICATION;
  END IF;
END
$$;

-- Nobody acts as the audit owner but a superuser (roles are cluster-wide: checked on every migrate by audit.sql too).
DO $$
DECLARE
  m record;
BEGIN
  FOR m IN SELECT r.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.member
            WHERE a.roleid = 'cims_audit_owner'::regrole LOOP
    EXECUTE format('REVOKE cims_audit_owner FROM %I', m.rolname);
  END LOOP;
END
$$;

CREATE TABLE audit.checkpoints (
  seq            bigint PRIMARY KEY CHECK (seq >= 1),
  -- The signed body (shared/audit.ts CheckpointBody) and its signature, exactly as signed.
  body           jsonb NOT NULL CHECK (jsonb_typeof(body) = 'object' AND (body ->> 'seq')::bigint = seq),
  signature      text NOT NULL,
  -- Inclusive id ranges of the access events new in this checkpoint: [[from, to], ...].
  access_ranges  jsonb NOT NULL CHECK (jsonb_typeof(access_ranges) = 'array'),
  stored_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit.access_unsealed (
  access_id  bigint PRIMARY KEY
);
-- Access events written before this migration go into the first checkpoint.
INSERT INTO audit.access_unsealed (access_id) SELECT id FROM audit.access_events;

ALTER SCHEMA audit OWNER TO cims_audit_owner;
ALTER TABLE audit.events OWNER TO cims_audit_owner;
ALTER TABLE audit.chain OWNER TO cims_audit_owner;
ALTER TABLE audit.unsealed OWNER TO cims_audit_owner;
ALTER TABLE audit.access_events OWNER TO cims_audit_owner;
ALTER TABLE audit.checkpoints OWNER TO cims_audit_owner;
ALTER TABLE audit.access_unsealed OWNER TO cims_audit_owner;

REVOKE ALL ON SCHEMA audit FROM PUBLIC;
REVOKE ALL ON audit.events, audit.chain, audit.unsealed, audit.access_events, audit.checkpoints, audit.access_unsealed FROM PUBLIC;
-- cims_owner defines the functions of schema audit and runs the SECURITY DEFINER ones.
GRANT USAGE, CREATE ON SCHEMA audit TO cims_owner;
GRANT SELECT, INSERT ON audit.events, audit.chain, audit.access_events, audit.checkpoints TO cims_owner;
GRANT SELECT, INSERT, DELETE ON audit.unsealed, audit.access_unsealed TO cims_owner;
