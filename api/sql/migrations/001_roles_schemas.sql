-- Roles, schemas and the privilege baseline.
-- Roles are cluster-wide: they are created only when missing (several databases,
-- e.g. one per test file, share them), and a concurrent creation by another
-- database's migration is tolerated. Attributes are enforced on every run, but
-- only altered when they differ (ALTER ROLE on a shared role is then rare).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cims_owner') THEN
    BEGIN
      CREATE ROLE cims_owner NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cims_api') THEN
    BEGIN
      CREATE ROLE cims_api LOGIN NOINHERIT;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cims_analyst') THEN
    BEGIN
      CREATE ROLE cims_analyst NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cims_owner'
             AND (rolcanlogin OR rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb OR rolreplication)) THEN
    ALTER ROLE cims_owner NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOREPLICATION;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cims_api'
             AND (NOT rolcanlogin OR rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb OR rolreplication OR rolinherit)) THEN
    ALTER ROLE cims_api LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOREPLICATION NOINHERIT;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cims_analyst'
             AND (rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb OR rolreplication)) THEN
    ALTER ROLE cims_analyst NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOREPLICATION;
  END IF;
  -- The API's login holds no other role's privileges, whatever an earlier setup granted it.
  IF pg_has_role('cims_api', 'cims_owner', 'MEMBER') AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = 'cims_api') THEN
    REVOKE cims_owner FROM cims_api;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.member = 'cims_api'::regrole AND m.roleid = 'cims_analyst'::regrole) THEN
    REVOKE cims_analyst FROM cims_api;
  END IF;
  -- A migrator that is not a superuser must be able to act as the owner.
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
     AND NOT pg_has_role(current_user, 'cims_owner', 'MEMBER') THEN
    EXECUTE format('GRANT cims_owner TO %I', current_user);
  END IF;
  -- This database: nobody but the API and analysts may connect, nobody may create temp tables.
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO cims_api, cims_analyst', current_database());
END
$$;

CREATE SCHEMA IF NOT EXISTS core AUTHORIZATION cims_owner;
CREATE SCHEMA IF NOT EXISTS audit AUTHORIZATION cims_owner;
CREATE SCHEMA IF NOT EXISTS api AUTHORIZATION cims_owner;
CREATE SCHEMA IF NOT EXISTS analytics AUTHORIZATION cims_owner;

-- Trigram search. Kept in its own schema so nothing of it is reachable through ours.
CREATE SCHEMA IF NOT EXISTS ext;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA ext;
GRANT USAGE ON SCHEMA ext TO cims_owner;

REVOKE ALL ON SCHEMA core, audit, api, analytics, ext FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA api TO cims_api;
GRANT USAGE ON SCHEMA analytics TO cims_analyst;

-- Functions are executable by PUBLIC by default: not ours.
ALTER DEFAULT PRIVILEGES FOR ROLE cims_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE cims_owner REVOKE ALL ON TABLES FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE cims_owner REVOKE ALL ON SEQUENCES FROM PUBLIC;
