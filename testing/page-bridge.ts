// What the preload does in the app, for a Chromium page driven by Playwright:
// exposes the real core as `window.cims` ({ invoke, on }, the same allow-lists),
// so the built renderer runs against the real core, provider and API in the
// end-to-end tests. Call before the first navigation.
import type { Page } from '@playwright/test';
import { CHANNEL_NAMES, EVENT_NAMES } from '../shared/ipc';
import type { CimsCore } from '../electron/core/handlers';

export interface ExposeOptions {
  /** Only frames of this origin may call the core (the app's sender check). */
  allowedOrigin?: string;
}

export async function exposeCoreToPage(page: Page, core: CimsCore, options: ExposeOptions = {}): Promise<() => void> {
  await page.exposeBinding('__cimsInvoke', (source, channel: unknown, input: unknown) => {
    const frameUrl = source.frame.url();
    const trusted = source.frame === source.page.mainFrame() && (!options.allowedOrigin || new URL(frameUrl).origin === options.allowedOrigin);
    if (!trusted) return { ok: false, error: { code: 'forbidden', message: 'Refused.' } };
    return core.invokeUnknown(channel, input);
  });
  await page.addInitScript(
    ({ channels, events }) => {
      type Listener = (payload: unknown) => void;
      const w = window as unknown as Record<string, unknown>;
      const invokeBinding = w.__cimsInvoke as (channel: string, input: unknown) => Promise<unknown>;
      const listeners = new Map<string, Set<Listener>>();
      Object.defineProperty(w, '__cimsEmit', {
        value: (event: string, payload: unknown) => listeners.get(event)?.forEach((l) => l(payload)),
      });
      Object.defineProperty(w, 'cims', {
        value: Object.freeze({
          invoke: (channel: string, input: unknown) =>
            channels.includes(channel) ? invokeBinding(channel, input) : Promise.reject(new Error('Unknown channel')),
          on: (event: string, listener: Listener) => {
            if (!events.includes(event)) throw new Error('Unknown event');
            const set = listeners.get(event) ?? new Set<Listener>();
            listeners.set(event, set);
            set.add(listener);
            return () => void set.delete(listener);
          },
        }),
      });
    },
    { channels: CHANNEL_NAMES as string[], events: EVENT_NAMES as string[] },
  );
  const offs = EVENT_NAMES.map((event) =>
    core.on(event, (payload) => {
      page
        .evaluate(([name, p]) => (window as unknown as { __cimsEmit?: (e: string, v: unknown) => void }).__cimsEmit?.(name, p), [event, payload] as const)
        .catch(() => undefined); // the page may be navigating or closed
    }),
  );
  return () => offs.forEach((off) => off());
}
