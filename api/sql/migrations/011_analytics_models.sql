-- Data scientists and the model job.
--
-- 1. core.customer_outcomes: what happened at a customer's renewals (renewed,
--    with the seats before and after, or churned), so models have labels.
-- 2. core.pseudonym_key: the secret of the keyed pseudonyms analysts see
--    instead of organization ids (HMAC-SHA-256, kept as its inner and outer
--    padded keys so a view computes it with the built-in sha256()). Only the
--    owner reads it.
-- 3. The analytics views again, de-identified: pseudonym instead of org id, no
--    name, contact, owner or billing, renewal as a month. Personal logins are
--    members of cims_analyst (api/src/analysts/, `npm run analysts`).
-- 4. cims_model: the model job's own login. It reads schema model_input, which
--    has org ids (scores are published per organization) but no name or contact.
-- 5. core.prediction_feedback: a CRM's "looks wrong" on a prediction, kept with
--    the model version it was about, and its audit action.

-- Roles are cluster-wide (see 001): created when missing, attributes enforced.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cims_model') THEN
    BEGIN
      CREATE ROLE cims_model LOGIN NOINHERIT;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cims_model'
             AND (NOT rolcanlogin OR rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb OR rolreplication OR rolinherit)) THEN
    ALTER ROLE cims_model LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOREPLICATION NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_db_role_setting s WHERE s.setdatabase = 0 AND s.setrole = 'cims_model'::regrole
                  AND s.setconfig @> ARRAY['statement_timeout=1min', 'idle_in_transaction_session_timeout=1min']) THEN
    BEGIN
      ALTER ROLE cims_model SET statement_timeout = '1min';
      ALTER ROLE cims_model SET idle_in_transaction_session_timeout = '1min';
    EXCEPTION WHEN internal_error THEN NULL;  -- set concurrently by another database's migration
    END;
  END IF;
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO cims_model', current_database());
END
$$;

-- The model job's input (see 4.); created here, as the migrator may create schemas.
CREATE SCHEMA model_input AUTHORIZATION cims_owner;
REVOKE ALL ON SCHEMA model_input FROM PUBLIC;
GRANT USAGE ON SCHEMA model_input TO cims_model;

SET LOCAL ROLE cims_owner;

CREATE TABLE core.customer_outcomes (
  org_id        text NOT NULL REFERENCES core.customers (org_id),
  decided_on    date NOT NULL,
  outcome       text NOT NULL CHECK (outcome IN ('renewed', 'churned')),
  seats_before  integer NOT NULL CHECK (seats_before >= 0),
  -- 0 for a churn; more than seats_before is an expansion (the upsell model's label).
  seats_after   integer NOT NULL CHECK (seats_after >= 0),
  CHECK (outcome = 'renewed' OR seats_after = 0),
  PRIMARY KEY (org_id, decided_on)
);

CREATE TABLE core.pseudonym_key (
  only_one   boolean PRIMARY KEY DEFAULT true CHECK (only_one),
  ipad       bytea NOT NULL CHECK (length(ipad) = 64),
  opad       bytea NOT NULL CHECK (length(opad) = 64),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A 64-byte key (the block size of SHA-256, so HMAC uses it as it is) from four
-- random UUIDs (gen_random_uuid draws from the server's strong random source).
DO $$
DECLARE
  k bytea := decode(replace(gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex');
  ip bytea := k;
  op bytea := k;
BEGIN
  FOR i IN 0..63 LOOP
    ip := set_byte(ip, i, get_byte(k, i) # 54);   -- 0x36
    op := set_byte(op, i, get_byte(k, i) # 92);   -- 0x5c
  END LOOP;
  INSERT INTO core.pseudonym_key (ipad, opad) VALUES (ip, op);
END
$$;

CREATE TABLE core.prediction_feedback (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  prediction_id  bigint NOT NULL REFERENCES core.predictions (id),
  org_id         text NOT NULL REFERENCES core.customers (org_id),
  -- Copied from the prediction: what the model said when the CRM disagreed.
  model_name     text NOT NULL,
  model_version  text NOT NULL,
  kind           text NOT NULL,
  score          double precision NOT NULL,
  verdict        text NOT NULL CHECK (verdict IN ('looks_wrong')),
  reason         text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 500),
  actor_sub      text NOT NULL,
  actor_name     text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX prediction_feedback_prediction ON core.prediction_feedback (prediction_id);
CREATE INDEX prediction_feedback_model ON core.prediction_feedback (model_name, model_version);

-- 3. De-identified views. They replace 003's, which showed names and org ids.
DROP VIEW analytics.customers, analytics.usage_daily, analytics.predictions;

-- One pseudonym per organization: the same in every view (so joins work), not
-- computable without the key.
CREATE VIEW core.org_pseudonyms AS
  SELECT c.org_id, 'p_' || left(encode(sha256(k.opad || sha256(k.ipad || convert_to(c.org_id, 'UTF8'))), 'hex'), 24) AS pseudonym
    FROM core.customers c CROSS JOIN core.pseudonym_key k;
-- In core: the owner's alone. Analysts read the views below, never this mapping.
REVOKE ALL ON core.org_pseudonyms FROM PUBLIC;

CREATE VIEW analytics.customers AS
  SELECT p.pseudonym, c.status, c.user_count, c.contract_value_cents, c.currency,
         date_trunc('month', c.renewal_date)::date AS renewal_month,
         date_trunc('month', c.created_at)::date AS customer_since_month,
         c.latest_churn_risk
    FROM core.customers c JOIN core.org_pseudonyms p USING (org_id);

CREATE VIEW analytics.usage_daily AS
  SELECT p.pseudonym, u.day, u.active_users, u.sessions, u.feature_events
    FROM core.usage_daily u JOIN core.org_pseudonyms p USING (org_id);

CREATE VIEW analytics.predictions AS
  SELECT p.pseudonym, x.model_name, x.model_version, x.kind, x.score, x.top_factors, x.scored_at
    FROM core.predictions x JOIN core.org_pseudonyms p USING (org_id);

CREATE VIEW analytics.outcomes AS
  SELECT p.pseudonym, o.decided_on, o.outcome, o.seats_before, o.seats_after
    FROM core.customer_outcomes o JOIN core.org_pseudonyms p USING (org_id);

-- No CRM identity: what the model said, the model version and the reason given.
CREATE VIEW analytics.prediction_feedback AS
  SELECT p.pseudonym, f.model_name, f.model_version, f.kind, f.score, f.verdict, f.reason, f.created_at::date AS given_on
    FROM core.prediction_feedback f JOIN core.org_pseudonyms p USING (org_id);

REVOKE ALL ON ALL TABLES IN SCHEMA analytics FROM PUBLIC;
GRANT SELECT ON analytics.customers, analytics.usage_daily, analytics.predictions, analytics.outcomes,
                analytics.prediction_feedback TO cims_analyst;

-- 4. The model job's input: org ids, figures and outcomes; no name, contact, owner or billing.

CREATE VIEW model_input.customers AS
  SELECT org_id, status, user_count, contract_value_cents, currency, renewal_date, created_at::date AS created_on
    FROM core.customers;
CREATE VIEW model_input.usage_daily AS
  SELECT org_id, day, active_users, sessions, feature_events FROM core.usage_daily;
CREATE VIEW model_input.outcomes AS
  SELECT org_id, decided_on, outcome, seats_before, seats_after FROM core.customer_outcomes;

REVOKE ALL ON ALL TABLES IN SCHEMA model_input FROM PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA model_input TO cims_model;

RESET ROLE;

-- 5. The feedback's audit action, added to whatever the earlier migrations allow
-- (they each re-state the list; this keeps theirs). The definition comes from the
-- catalog, never from input.
SET LOCAL ROLE cims_audit_owner;
DO $$
DECLARE
  def text;
BEGIN
  SELECT pg_get_constraintdef(oid) INTO def FROM pg_constraint
   WHERE conrelid = 'audit.events'::regclass AND conname = 'events_action_check';
  IF def IS NULL OR position('ARRAY[' IN def) = 0 THEN
    RAISE EXCEPTION 'audit.events has no events_action_check of the expected form: %', def;
  END IF;
  IF position('''prediction.feedback''' IN def) = 0 THEN
    ALTER TABLE audit.events DROP CONSTRAINT events_action_check;
    EXECUTE 'ALTER TABLE audit.events ADD CONSTRAINT events_action_check '
         || replace(def, 'ARRAY[', 'ARRAY[''prediction.feedback''::text, ');
  END IF;
END
$$;
