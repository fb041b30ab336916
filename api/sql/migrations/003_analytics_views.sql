-- De-identified views for data scientists (role cims_analyst): no contact
-- details, no owner identity, nothing from billing. The views run with their
-- owner's privileges, so the analyst needs no privilege on the tables.
SET LOCAL ROLE cims_owner;

CREATE VIEW analytics.customers AS
  SELECT org_id, org_name, user_count, contract_value_cents, currency, renewal_date, status,
         latest_churn_risk, created_at::date AS created_on
    FROM core.customers;

CREATE VIEW analytics.usage_daily AS
  SELECT org_id, day, active_users, sessions, feature_events FROM core.usage_daily;

CREATE VIEW analytics.predictions AS
  SELECT org_id, model_name, model_version, kind, score, top_factors, scored_at FROM core.predictions;

REVOKE ALL ON ALL TABLES IN SCHEMA analytics FROM PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO cims_analyst;
