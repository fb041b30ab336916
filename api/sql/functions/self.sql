-- Customer self-service: what a customer's contact may read and change about
-- their own organization through the portal, and the database's own refusal of
-- card numbers anywhere in customer and billing data.
--
-- The caller is a customer contact (role customer, exactly) acting for the one
-- organization the API read from their token; every function checks both again.
-- Changes are audited as the contact's own, with via = 'portal'.

-- True when the text holds a card number: a run of 13 to 19 digits (single
-- spaces or dashes allowed between them, as cards are written) that passes the
-- Luhn check. The same rule as the API's guard (api/src/plugins/pan-guard.ts).
CREATE FUNCTION core.holds_pan(t text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  run text;
  digits text;
  n integer;
  sum integer;
  d integer;
BEGIN
  IF t IS NULL OR t !~ '[0-9]{4}' THEN
    RETURN false;
  END IF;
  FOR run IN SELECT m[1] FROM regexp_matches(t, '([0-9](?:[ -]?[0-9])*)', 'g') AS m LOOP
    digits := regexp_replace(run, '[^0-9]', '', 'g');
    n := length(digits);
    CONTINUE WHEN n NOT BETWEEN 13 AND 19;
    sum := 0;
    FOR i IN 0 .. n - 1 LOOP
      d := substr(digits, n - i, 1)::integer;
      IF i % 2 = 1 THEN
        d := d * 2;
        IF d > 9 THEN d := d - 9; END IF;
      END IF;
      sum := sum + d;
    END LOOP;
    IF sum % 10 = 0 THEN
      RETURN true;
    END IF;
  END LOOP;
  RETURN false;
END
$$;

-- No card number in the customer's text, whoever writes it (the API, the seeder, an administrator).
CREATE FUNCTION core.customers_refuse_pan() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  IF core.holds_pan(NEW.org_name) OR core.holds_pan(NEW.contact_name) OR core.holds_pan(NEW.contact_email)
     OR core.holds_pan(NEW.contact_phone) THEN
    RAISE EXCEPTION 'a card number cannot be stored in customer data' USING ERRCODE = 'CV422';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER customers_refuse_pan BEFORE INSERT OR UPDATE OF org_name, contact_name, contact_email, contact_phone
  ON core.customers FOR EACH ROW EXECUTE FUNCTION core.customers_refuse_pan();

CREATE FUNCTION core.billing_refuse_pan() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  IF core.holds_pan(NEW.processor_token) OR core.holds_pan(NEW.billing_email) THEN
    RAISE EXCEPTION 'a card number cannot be stored in billing data' USING ERRCODE = 'CV422';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER billing_methods_refuse_pan BEFORE INSERT OR UPDATE ON core.billing_methods
  FOR EACH ROW EXECUTE FUNCTION core.billing_refuse_pan();

-- The prologue of every self-service call: a valid actor who is a customer's
-- contact and nothing else (CF403), the request context (CV422), and the
-- organization named by their token, which must be an active customer (CN404).
CREATE FUNCTION core.check_self(
  p_sub text, p_name text, p_roles text[], p_scopes text[], p_org_id text,
  p_request_id text, p_client_address text, p_app_version text
) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  PERFORM core.check_actor(p_sub, p_name, p_roles, p_scopes);
  IF p_roles IS DISTINCT FROM ARRAY['customer'] OR cardinality(p_scopes) > 0 THEN
    RAISE EXCEPTION 'only a customer contact may use self-service' USING ERRCODE = 'CF403';
  END IF;
  PERFORM core.check_context(p_request_id, p_client_address, p_app_version);
  IF p_org_id IS NULL OR p_org_id !~ '^ORG-[0-9]{6,12}$' THEN
    RAISE EXCEPTION 'a customer token names one organization' USING ERRCODE = 'CF403';
  END IF;
  -- An archived customer's contacts have no portal any more; nothing about it is shown.
  IF NOT EXISTS (SELECT 1 FROM core.customers WHERE org_id = p_org_id AND status = 'active') THEN
    RAISE EXCEPTION 'organization % not found', p_org_id USING ERRCODE = 'CN404';
  END IF;
END
$$;

-- What the portal shows: the contact fields and masked billing, nothing else.
CREATE FUNCTION core.self_json(c core.customers) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, core, pg_temp AS $$
BEGIN
  RETURN jsonb_build_object(
    'orgId', c.org_id, 'contactName', c.contact_name, 'contactEmail', c.contact_email, 'contactPhone', c.contact_phone,
    'billing', (SELECT coalesce(jsonb_agg(jsonb_build_object('brand', b.brand, 'last4', b.last4,
                                                             'expMonth', b.exp_month, 'expYear', b.exp_year) ORDER BY b.id), '[]')
                  FROM core.billing_methods b WHERE b.org_id = c.org_id),
    'version', c.version);
END
$$;

-- A card as the history shows it: brand, last four and expiry, as every other view of billing.
CREATE FUNCTION core.card_label(p_brand text, p_last4 text, p_exp_month integer, p_exp_year integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN format('%s ending %s, expires %s/%s', p_brand, p_last4, lpad(p_exp_month::text, 2, '0'), p_exp_year);
END
$$;

-- A change by the customer's contact: an audit event like any other, with via = 'portal'.
CREATE FUNCTION core.write_portal_event(
  p_sub text, p_name text, p_roles text[], p_request_id text, p_client_address text, p_app_version text,
  p_org_id text, p_changes jsonb, p_reason text, p_client_request_id text
) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, audit, pg_temp AS $$
DECLARE
  new_id bigint;
BEGIN
  INSERT INTO audit.events (actor_sub, actor_name, actor_roles, action, entity_type, entity_id, changes, reason,
                            request_id, client_address, app_version, client_request_id, via)
  VALUES (p_sub, p_name, p_roles, 'customer.update', 'customer', p_org_id, p_changes, p_reason,
          p_request_id, p_client_address, p_app_version, p_client_request_id, 'portal')
  RETURNING id INTO new_id;
  RETURN new_id;
END
$$;

CREATE FUNCTION api.self_organization(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text, p_org_id text, p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  c core.customers;
BEGIN
  PERFORM core.check_self(p_sub, p_name, p_roles, p_scopes, p_org_id, p_request_id, p_client_address, p_app_version);
  SELECT * INTO c FROM core.customers WHERE org_id = p_org_id;
  PERFORM core.write_access(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
                            'customer.read', c.org_id, '{"via": "portal"}', p_client_request_id);
  RETURN core.self_json(c);
END
$$;

-- p_changes: {contactName?, contactEmail?, contactPhone?}; any other field is refused (CV422).
CREATE FUNCTION api.self_organization_update(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text,
  p_org_id text, p_expected_version integer, p_changes jsonb, p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  unknown text;
  old core.customers;
  n core.customers;
  diff jsonb;
BEGIN
  PERFORM core.check_self(p_sub, p_name, p_roles, p_scopes, p_org_id, p_request_id, p_client_address, p_app_version);
  IF p_expected_version IS NULL THEN
    RAISE EXCEPTION 'an expected version is required' USING ERRCODE = 'CV422';
  END IF;
  IF p_changes IS NULL OR jsonb_typeof(p_changes) <> 'object' OR p_changes = '{}' THEN
    RAISE EXCEPTION 'change at least one contact field' USING ERRCODE = 'CV422';
  END IF;
  SELECT k INTO unknown FROM jsonb_object_keys(p_changes) k
   WHERE k NOT IN ('contactName', 'contactEmail', 'contactPhone') OR jsonb_typeof(p_changes -> k) <> 'string' LIMIT 1;
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION 'field % cannot be set through the portal', unknown USING ERRCODE = 'CV422';
  END IF;
  old := core.lock_customer(p_org_id);
  PERFORM core.check_version(old, p_expected_version);
  n := old;
  n.contact_name := coalesce(btrim(p_changes ->> 'contactName'), old.contact_name);
  n.contact_email := coalesce(p_changes ->> 'contactEmail', old.contact_email);
  n.contact_phone := coalesce(btrim(p_changes ->> 'contactPhone'), old.contact_phone);
  SELECT jsonb_agg(jsonb_build_object('field', f.field, 'before', f.before, 'after', f.after) ORDER BY f.o) INTO diff
    FROM (VALUES (1, 'contactName', old.contact_name, n.contact_name),
                 (2, 'contactEmail', old.contact_email, n.contact_email),
                 (3, 'contactPhone', old.contact_phone, n.contact_phone)) AS f(o, field, before, after)
   WHERE f.before IS DISTINCT FROM f.after;
  IF diff IS NULL THEN
    -- Nothing changes, so no audit event; the contact is shown, so an access event.
    PERFORM core.write_access(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
                              'customer.read', old.org_id, '{"via": "portal"}', p_client_request_id);
    RETURN core.self_json(old);
  END IF;
  UPDATE core.customers SET contact_name = n.contact_name, contact_email = n.contact_email, contact_phone = n.contact_phone,
                            version = old.version + 1, updated_at = now()
   WHERE org_id = old.org_id RETURNING * INTO n;
  PERFORM core.write_portal_event(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version,
                                  n.org_id, diff, 'Changed by the customer in the portal', p_client_request_id);
  RETURN core.self_json(n);
END
$$;

-- The organization's card on file becomes this one (a processor token and what may be shown);
-- the card it replaces is removed, its label kept in the audit event. The record's version moves on.
CREATE FUNCTION api.self_billing_replace(
  p_sub text, p_name text, p_roles text[], p_scopes text[],
  p_request_id text, p_client_address text, p_app_version text,
  p_org_id text, p_processor_token text, p_brand text, p_last4 text, p_exp_month integer, p_exp_year integer,
  p_client_request_id text DEFAULT NULL
) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, core, audit, pg_temp AS $$
DECLARE
  old core.customers;
  n core.customers;
  prev core.billing_methods;
  before_label text;
  after_label text;
BEGIN
  PERFORM core.check_self(p_sub, p_name, p_roles, p_scopes, p_org_id, p_request_id, p_client_address, p_app_version);
  IF p_processor_token IS NULL OR p_processor_token !~ '^[A-Za-z0-9_]{8,100}$'
     OR p_brand IS NULL OR p_brand NOT IN ('visa', 'mastercard', 'amex', 'discover', 'other')
     OR p_last4 IS NULL OR p_last4 !~ '^[0-9]{4}$'
     OR p_exp_month IS NULL OR p_exp_month NOT BETWEEN 1 AND 12 OR p_exp_year IS NULL OR p_exp_year NOT BETWEEN 2000 AND 2100 THEN
    RAISE EXCEPTION 'a processor token, brand, last four digits and expiry are required' USING ERRCODE = 'CV422';
  END IF;
  IF make_date(p_exp_year, p_exp_month, 1) < date_trunc('month', current_date)::date THEN
    RAISE EXCEPTION 'the card expired in %/%', lpad(p_exp_month::text, 2, '0'), p_exp_year USING ERRCODE = 'CV422';
  END IF;
  old := core.lock_customer(p_org_id);
  SELECT * INTO prev FROM core.billing_methods WHERE org_id = p_org_id ORDER BY id DESC LIMIT 1;
  IF FOUND THEN
    before_label := core.card_label(prev.brand, prev.last4, prev.exp_month, prev.exp_year);
  END IF;
  after_label := core.card_label(p_brand, p_last4, p_exp_month, p_exp_year);
  DELETE FROM core.billing_methods WHERE org_id = p_org_id;
  BEGIN
    INSERT INTO core.billing_methods (org_id, processor_token, brand, last4, exp_month, exp_year, billing_email)
    VALUES (p_org_id, p_processor_token, p_brand, p_last4, p_exp_month, p_exp_year, coalesce(prev.billing_email, old.contact_email));
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'this processor token is already on file' USING ERRCODE = 'CD409';
  END;
  UPDATE core.customers SET version = old.version + 1, updated_at = now() WHERE org_id = old.org_id RETURNING * INTO n;
  PERFORM core.write_portal_event(p_sub, p_name, p_roles, p_request_id, p_client_address, p_app_version, n.org_id,
    jsonb_build_array(jsonb_build_object('field', 'billingMethod', 'before', before_label, 'after', after_label)),
    'Card replaced by the customer in the portal', p_client_request_id);
  RETURN core.self_json(n);
END
$$;
