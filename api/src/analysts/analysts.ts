// Personal logins for data scientists: one PostgreSQL role per person, a member
// of cims_analyst (which may read the de-identified analytics views and nothing
// else), with a generated password, a connection limit and its own time limits
// (role settings are not inherited from cims_analyst). Run as the database
// owner or a superuser, never as cims_api.
//
// Role names and passwords reach the server as bind parameters; the DDL that
// needs them as identifiers is composed by the server with format('%I', ...).
// The password is sent as a SCRAM-SHA-256 verifier, so no plain password ever
// reaches the server (or its statement log).
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { SqlRunner } from '../db/migrate';

/** A person's login is `analyst_<name>`: recognizable in pg_roles and never another CIMS role. */
export const ROLE_PREFIX = 'analyst_';
export const ANALYST_NAME = /^[a-z][a-z0-9_]{1,29}$/;
export const CONNECTION_LIMIT = 3;
/** As cims_analyst's own (migration 006): ad hoc queries over the views. */
export const TIME_LIMITS = { statement_timeout: '5min', lock_timeout: '10s', idle_in_transaction_session_timeout: '10min' } as const;

export class AnalystError extends Error {
  override name = 'AnalystError';
}

export function roleFor(name: string): string {
  if (!ANALYST_NAME.test(name)) {
    throw new AnalystError(`"${name}" is not an analyst name: 2 to 30 characters, lower-case letters, digits and _ , starting with a letter`);
  }
  return ROLE_PREFIX + name;
}

/** 24 random bytes as URL-safe base64 (32 characters, 192 bits). */
export function generatePassword(): string {
  return randomBytes(24).toString('base64url');
}

/** The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 7677, as pg_authid keeps it). */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

async function inTransaction<T>(db: SqlRunner, fn: () => Promise<T>): Promise<T> {
  await db.query('BEGIN');
  try {
    const result = await fn();
    await db.query('COMMIT');
    return result;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

// The parameters travel in transaction-local settings, which a DO block can read.
const GRANT = `
DO $$
DECLARE
  r text := current_setting('cims.analyst_role');
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
    RAISE EXCEPTION 'the analyst login % exists already: revoke it first to issue a new password', r USING ERRCODE = 'CA409';
  END IF;
  EXECUTE format('CREATE ROLE %I LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS CONNECTION LIMIT %s PASSWORD %L IN ROLE cims_analyst',
                 r, current_setting('cims.analyst_connections')::integer, current_setting('cims.analyst_verifier'));
  EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', r, current_setting('cims.analyst_statement_timeout'));
  EXECUTE format('ALTER ROLE %I SET lock_timeout = %L', r, current_setting('cims.analyst_lock_timeout'));
  EXECUTE format('ALTER ROLE %I SET idle_in_transaction_session_timeout = %L', r, current_setting('cims.analyst_idle_timeout'));
  EXECUTE format('COMMENT ON ROLE %I IS %L', r, 'CIMS analyst login, granted ' || now()::date);
END
$$`;

// Ends the person's sessions first, so a revoked login is out at once, not at its next connection.
const REVOKE = `
DO $$
DECLARE
  r text := current_setting('cims.analyst_role');
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
    RAISE EXCEPTION 'there is no analyst login %', r USING ERRCODE = 'CA404';
  END IF;
  IF NOT pg_has_role(r, 'cims_analyst', 'MEMBER') OR left(r, ${ROLE_PREFIX.length}) <> '${ROLE_PREFIX}' THEN
    RAISE EXCEPTION 'the role % is not an analyst login', r USING ERRCODE = 'CA404';
  END IF;
  EXECUTE format('ALTER ROLE %I NOLOGIN', r);
  PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = r;
  EXECUTE format('DROP ROLE %I', r);
END
$$`;

export interface GrantedLogin {
  role: string;
  password: string;
}

async function setParams(db: SqlRunner, params: Record<string, string>): Promise<void> {
  for (const [k, v] of Object.entries(params)) await db.query('SELECT set_config($1, $2, true)', [`cims.${k}`, v]);
}

/** Creates the person's login; the password is returned once and is not kept anywhere. */
export async function grantAnalyst(db: SqlRunner, name: string): Promise<GrantedLogin> {
  const role = roleFor(name);
  const password = generatePassword();
  await inTransaction(db, async () => {
    await setParams(db, {
      analyst_role: role,
      analyst_verifier: scramVerifier(password),
      analyst_connections: String(CONNECTION_LIMIT),
      analyst_statement_timeout: TIME_LIMITS.statement_timeout,
      analyst_lock_timeout: TIME_LIMITS.lock_timeout,
      analyst_idle_timeout: TIME_LIMITS.idle_in_transaction_session_timeout,
    });
    await db.query(GRANT);
  });
  return { role, password };
}

/** Drops the person's login after ending its sessions: it cannot connect again. */
export async function revokeAnalyst(db: SqlRunner, name: string): Promise<string> {
  const role = roleFor(name);
  await inTransaction(db, async () => {
    await setParams(db, { analyst_role: role });
    await db.query(REVOKE);
  });
  return role;
}

export interface AnalystLogin {
  role: string;
  canLogin: boolean;
  connectionLimit: number;
  comment: string | null;
}

/** The personal logins that are members of cims_analyst. */
export async function listAnalysts(db: SqlRunner): Promise<AnalystLogin[]> {
  const { rows } = await db.query(
    `SELECT r.rolname AS role, r.rolcanlogin AS "canLogin", r.rolconnlimit AS "connectionLimit",
            shobj_description(r.oid, 'pg_authid') AS comment
       FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid
      WHERE m.roleid = 'cims_analyst'::regrole AND starts_with(r.rolname, $1)
      ORDER BY r.rolname`,
    [ROLE_PREFIX],
  );
  return rows as AnalystLogin[];
}
