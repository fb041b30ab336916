// The old design, for comparison only: the same SQL as the hardened API, run
// as the database superuser, with no token check, no validation, no version
// check and no audit. Never deploy this; it exists so the benchmark can say
// what the hardening costs.
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';

export interface NaiveServer {
  url: string;
  close(): Promise<void>;
}

export async function startNaiveServer(databaseUrl: string, connections = 10): Promise<NaiveServer> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: connections });
  const app: FastifyInstance = Fastify({ logger: false });

  app.get<{ Params: { orgId: string } }>('/naive/customers/:orgId', async (req) => {
    const { rows } = await pool.query('SELECT core.customer_detail(c) AS d FROM core.customers c WHERE c.org_id = $1', [
      req.params.orgId,
    ]);
    return rows[0]?.d ?? null;
  });

  app.get<{ Querystring: { q?: string; limit?: string } }>('/naive/customers', async (req) => {
    const pattern = req.query.q ? `%${req.query.q}%` : null;
    const { rows } = await pool.query(
      `SELECT core.list_item(c) AS item FROM core.customers c
        WHERE ($1::text IS NULL OR (c.org_name || ' ' || c.org_id || ' ' || c.contact_email || ' ' || c.contact_phone) ILIKE $1)
          AND c.status = 'active'
        ORDER BY c.org_name, c.org_id LIMIT $2`,
      [pattern, Number(req.query.limit ?? 50)],
    );
    return { items: rows.map((r: { item: unknown }) => r.item), nextCursor: null };
  });

  // A customer's history as api.customer_audit reads it, without the access event.
  app.get<{ Params: { orgId: string }; Querystring: { limit?: string } }>('/naive/customers/:orgId/history', async (req) => {
    const { rows } = await pool.query(
      `SELECT coalesce(jsonb_agg(core.event_json(e, c) ORDER BY e.id DESC), '[]') AS items
         FROM (SELECT * FROM audit.events e WHERE e.entity_type = 'customer' AND e.entity_id = $1 ORDER BY e.id DESC LIMIT $2) e
         LEFT JOIN audit.chain c ON c.event_id = e.id`,
      [req.params.orgId, Number(req.query.limit ?? 50)],
    );
    return { items: (rows[0] as { items: unknown }).items, next: null };
  });

  app.patch<{ Params: { orgId: string }; Body: { changes: { contactName?: string; userCount?: number } } }>(
    '/naive/customers/:orgId',
    async (req) => {
      const { contactName, userCount } = req.body.changes;
      const { rows } = await pool.query(
        `UPDATE core.customers SET contact_name = coalesce($2, contact_name), user_count = coalesce($3, user_count),
                version = version + 1, updated_at = now()
          WHERE org_id = $1 RETURNING core.customer_detail(customers.*) AS d`,
        [req.params.orgId, contactName ?? null, userCount ?? null],
      );
      return rows[0]?.d ?? null;
    },
  );

  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      await pool.end();
    },
  };
}
