import { describe, expect, it } from 'vitest';
import { ERROR_MESSAGES } from '../../shared/messages';
import { BridgeError, describeError, SAVE_LATER_CODES, TRANSIENT_CODES } from './errors';

describe('describeError', () => {
  it('says the API is busy, not that the connection is down', () => {
    const text = describeError(new BridgeError({ code: 'busy', message: 'The database is busy.', status: 503 }));
    expect(text).toBe(ERROR_MESSAGES.busy);
    expect(text).not.toMatch(/connection/);
    expect(describeError(new BridgeError({ code: 'unavailable', message: 'fetch failed' }))).toMatch(/Check your connection/);
  });

  it('shows what the API said for a refused request, and the shared sentence when it said nothing', () => {
    expect(describeError(new BridgeError({ code: 'forbidden', message: 'Only the owner may edit this customer.' }))).toBe(
      'Only the owner may edit this customer.',
    );
    expect(describeError(new BridgeError({ code: 'conflict', message: '' }))).toBe(ERROR_MESSAGES.conflict);
  });

  it('keeps a draft and retries reads when the API is busy', () => {
    expect(SAVE_LATER_CODES).toContain('busy');
    expect(TRANSIENT_CODES).toContain('busy');
  });
});
