// The one check every PostgreSQL connection setting of the API goes through
// (DATABASE_URL, the migrator's URL, any later one such as a listener's): a
// database on another host is reached over TLS with the server's certificate
// and name verified, or not at all. The string is read by pg's own parser, so
// what is checked is what pg will do with it, not a second reading of the URL.
import { parse } from 'pg-connection-string';
import { isLoopbackHost } from '../auth';

export class InsecureDatabaseUrlError extends Error {
  constructor(setting: string, host: string, why: string) {
    super(
      `Refusing ${setting} to ${host}: ${why}. A database on another host must be reached over TLS with its certificate verified: ` +
        'add sslmode=verify-full&sslrootcert=/path/to/the-database-ca.crt to the connection string (see docs/operating.md), or connect over loopback.',
    );
    this.name = 'InsecureDatabaseUrlError';
  }
}

export interface CheckedDatabaseUrl {
  /** The host pg connects to (a socket directory for a local socket). */
  host: string;
  /** True when the connection stays on this machine (loopback or a Unix socket). */
  local: boolean;
}

/**
 * Throws with a message naming `setting` unless `url` is a connection string pg can read whose
 * host is loopback or a Unix socket, or which asks for TLS with full verification
 * (`sslmode=verify-full` in the string, or PGSSLMODE=verify-full with no TLS setting in it).
 * Never echoes the string itself: it may hold a password.
 */
export function checkDatabaseUrl(setting: string, url: string, env: NodeJS.ProcessEnv = process.env): CheckedDatabaseUrl {
  let config: ReturnType<typeof parse>;
  try {
    config = parse(url);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // parse() reads sslrootcert/sslcert/sslkey files: say which kind of problem it was.
    if (code === 'ENOENT' || code === 'EACCES') throw new Error(`${setting}: a certificate or key file it names cannot be read (${code}).`);
    throw new Error(`${setting} is not a PostgreSQL connection string (postgres://user@host:5432/database?sslmode=verify-full).`);
  }
  // As pg does: no host in the string means PGHOST, then localhost.
  const host = config.host || env.PGHOST || 'localhost';
  if (host.startsWith('/') || isLoopbackHost(host)) return { host, local: true };

  const sslmode = typeof config.sslmode === 'string' ? config.sslmode : undefined;
  const sslFromString = config.ssl !== undefined || sslmode !== undefined;
  const effectiveMode = sslmode ?? (sslFromString ? undefined : env.PGSSLMODE);
  if (effectiveMode !== 'verify-full') {
    throw new InsecureDatabaseUrlError(
      setting,
      host,
      effectiveMode ? `sslmode=${effectiveMode} does not verify the server's certificate and name` : 'it asks for no TLS',
    );
  }
  // Turns certificate checks off for every TLS connection of the process, this one included.
  if (env.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
    throw new InsecureDatabaseUrlError(setting, host, 'NODE_TLS_REJECT_UNAUTHORIZED=0 turns certificate verification off');
  }
  return { host, local: false };
}
