-- pgaudit's object audit (docs/operating.md): with pgaudit.role = 'cims_pgaudit'
-- in postgresql.conf, every statement that reads or changes a table this role
-- holds a privilege on is written to the server log, whoever runs it (the API's
-- functions, an analyst, a superuser at psql). The role logs nobody in and
-- nobody is a member of it: its grants give no access, they only mark what is
-- audited. Without pgaudit loaded the grants are inert.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cims_pgaudit') THEN
    BEGIN
      CREATE ROLE cims_pgaudit NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON core.billing_methods TO cims_pgaudit;
