// Validated once: a record the store parsed is sent as it is, only for a route
// whose schema is the one it was parsed with; everything else is validated
// against the route's schema; and what was parsed cannot be changed after.
import Fastify from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseOnce, serializerCompiler } from '../../src/validated';

const Item = z.strictObject({ id: z.string(), tags: z.array(z.string()) });
const Loose = z.looseObject({ id: z.string() });

async function serve(reply: () => unknown) {
  const app = Fastify();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.get('/item', { schema: { response: { 200: Item } } }, async () => reply());
  await app.ready();
  return app;
}

describe('parseOnce and the serializer', () => {
  it('sends a value parsed with the route schema exactly as parsed', async () => {
    const value = parseOnce(Item, { id: 'a', tags: ['x'] });
    const app = await serve(() => value);
    const res = await app.inject({ url: '/item' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(JSON.stringify({ id: 'a', tags: ['x'] }));
    await app.close();
  });

  it('still validates a value parsed with another schema, or built in a handler', async () => {
    const parsedLoosely = parseOnce(Loose, { id: 'a', secret: 'kept by the loose schema' });
    for (const value of [parsedLoosely, { id: 'a', tags: ['x'], secret: 'extra' }]) {
      const app = await serve(() => value);
      const res = await app.inject({ url: '/item' });
      expect(res.statusCode).toBe(500);
      expect(res.body).not.toContain('secret');
      await app.close();
    }
  });

  it('freezes what it parsed, nested values included', () => {
    const value = parseOnce(Item, { id: 'a', tags: ['x'] });
    expect(() => {
      (value as { id: string }).id = 'b';
    }).toThrow(TypeError);
    expect(() => value.tags.push('y')).toThrow(TypeError);
  });
});
