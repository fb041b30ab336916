-- Tables and their indexes (private: nobody but the owner has a privilege on
-- them; the api.* functions in ../functions/ are the only way in). Triggers are
-- not here: they call functions, so they are defined with them (see migrate.ts).
SET LOCAL ROLE cims_owner;

-- core: customers and what belongs to them ----------------------------------

CREATE TABLE core.customers (
  org_id                text PRIMARY KEY CHECK (org_id ~ '^ORG-[0-9]{6}$'),
  org_name              text NOT NULL CHECK (length(btrim(org_name)) BETWEEN 1 AND 200),
  contact_name          text NOT NULL CHECK (length(btrim(contact_name)) BETWEEN 1 AND 200),
  contact_email         text NOT NULL CHECK (length(contact_email) BETWEEN 3 AND 254 AND contact_email LIKE '%_@_%'),
  contact_phone         text NOT NULL CHECK (contact_phone ~ '^\+?[0-9][0-9 ()-]{5,24}$'),
  user_count            integer NOT NULL CHECK (user_count BETWEEN 0 AND 10000000),
  contract_value_cents  bigint NOT NULL CHECK (contract_value_cents BETWEEN 0 AND 1000000000000),
  currency              text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  renewal_date          date NOT NULL,
  -- Assignment: one owning CRM per customer (an admin reassigns; see api.customer_assign).
  owner_sub             text NOT NULL CHECK (length(owner_sub) BETWEEN 1 AND 200),
  owner_name            text NOT NULL CHECK (length(owner_name) BETWEEN 1 AND 200),
  status                text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
  version               integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  -- Denormalized from core.predictions by api.predictions_ingest, so list rows and
  -- the churn-risk sort need no per-row lookup.
  latest_churn_risk     double precision CHECK (latest_churn_risk BETWEEN 0 AND 1),
  latest_churn_scored_at timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);

-- Search by organization name, organization id, contact email or phone: one
-- trigram index over the four fields, matched with a single ILIKE.
CREATE INDEX customers_search_trgm ON core.customers
  USING gin ((org_name || ' ' || org_id || ' ' || contact_email || ' ' || contact_phone) ext.gin_trgm_ops);
-- Queries of one or two characters (no trigram): organization name prefix.
CREATE INDEX customers_name_prefix ON core.customers (lower(org_name) text_pattern_ops);
-- Keyset pagination for each sort order (org_id breaks ties).
CREATE INDEX customers_by_name ON core.customers (org_name, org_id);
CREATE INDEX customers_by_renewal ON core.customers (renewal_date, org_id);
-- Highest risk first, unknown last, as one ascending key (so keyset pagination is a row comparison).
CREATE INDEX customers_by_churn ON core.customers ((-coalesce(latest_churn_risk, -1)), org_id);
CREATE INDEX customers_by_owner ON core.customers (owner_sub, org_name, org_id);

-- Card data: a processor token and what may be shown (brand, last four, expiry).
-- There is deliberately no column that could hold a card number or security code.
CREATE TABLE core.billing_methods (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id           text NOT NULL REFERENCES core.customers (org_id),
  processor_token  text NOT NULL UNIQUE CHECK (processor_token ~ '^[A-Za-z0-9_]{8,100}$'),
  brand            text NOT NULL CHECK (brand IN ('visa', 'mastercard', 'amex', 'discover', 'other')),
  last4            text NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
  exp_month        smallint NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
  exp_year         smallint NOT NULL CHECK (exp_year BETWEEN 2000 AND 2100),
  billing_email    text NOT NULL CHECK (length(billing_email) BETWEEN 3 AND 254),
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_methods_org ON core.billing_methods (org_id);

CREATE TABLE core.usage_daily (
  org_id          text NOT NULL REFERENCES core.customers (org_id),
  day             date NOT NULL,
  active_users    integer NOT NULL CHECK (active_users >= 0),
  sessions        integer NOT NULL CHECK (sessions >= 0),
  feature_events  integer NOT NULL CHECK (feature_events >= 0),
  PRIMARY KEY (org_id, day)
);

-- History is kept: a new score is a new row. The unique key makes ingestion idempotent.
CREATE TABLE core.predictions (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id         text NOT NULL REFERENCES core.customers (org_id),
  model_name     text NOT NULL CHECK (length(model_name) BETWEEN 1 AND 100),
  model_version  text NOT NULL CHECK (length(model_version) BETWEEN 1 AND 50),
  kind           text NOT NULL CHECK (kind IN ('churn_risk', 'upsell_propensity')),
  score          double precision NOT NULL CHECK (score BETWEEN 0 AND 1),
  top_factors    jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(top_factors) = 'array'),
  scored_at      timestamptz NOT NULL,
  ingested_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, model_name, model_version, kind, scored_at)
);
CREATE INDEX predictions_latest ON core.predictions (org_id, kind, scored_at DESC);

-- audit: the trail --------------------------------------------------------
-- Append-only events, a hash chain sealed behind the writes (audit.chain, fed
-- from the audit.unsealed queue: see ../functions/audit.sql for why), and the
-- access log. Triggers refuse UPDATE, DELETE and TRUNCATE on all three for
-- every role, the owner included.

CREATE TABLE audit.events (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at     timestamptz NOT NULL DEFAULT now(),
  actor_sub       text NOT NULL,
  actor_name      text NOT NULL,
  actor_roles     text[] NOT NULL,
  action          text NOT NULL CHECK (action IN ('customer.create', 'customer.update', 'customer.archive', 'predictions.ingest')),
  entity_type     text NOT NULL,
  entity_id       text NOT NULL,
  changes         jsonb NOT NULL CHECK (jsonb_typeof(changes) = 'array'),
  reason          text,
  request_id      text NOT NULL,
  client_address  text,
  app_version     text,
  -- Transaction that wrote the event (forensics: which events were written together).
  xid             xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX events_entity ON audit.events (entity_type, entity_id, id);
CREATE INDEX events_actor ON audit.events (actor_sub, id);
CREATE INDEX events_occurred ON audit.events (occurred_at);

CREATE TABLE audit.chain (
  seq        bigint PRIMARY KEY CHECK (seq >= 1),
  event_id   bigint NOT NULL UNIQUE,
  prev_hash  text NOT NULL,
  hash       text NOT NULL,
  sealed_at  timestamptz NOT NULL DEFAULT now()
);
-- Unsealed events: events without a chain link. Kept small by sealing.
CREATE TABLE audit.unsealed (
  event_id  bigint PRIMARY KEY,
  xid       xid8 NOT NULL
);

-- Who viewed which record, when, from where. Not hash-chained (reads are far more
-- numerous than writes) but append-only like the rest of the schema.
CREATE TABLE audit.access_events (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  occurred_at     timestamptz NOT NULL DEFAULT now(),
  actor_sub       text NOT NULL,
  actor_name      text NOT NULL,
  actor_roles     text[] NOT NULL,
  entity_type     text NOT NULL,
  entity_id       text NOT NULL,
  request_id      text NOT NULL,
  client_address  text,
  app_version     text
);
CREATE INDEX access_events_entity ON audit.access_events (entity_type, entity_id, occurred_at);
CREATE INDEX access_events_actor ON audit.access_events (actor_sub, occurred_at);
