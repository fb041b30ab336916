import { QueryClient } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { Providers } from '../app/Providers';

/** The app's own providers; retries off so a failure shows at once. The client is returned so a test can look into the cache. */
export function renderApp(ui: ReactElement) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false }, mutations: { retry: false } } });
  return { ...render(<Providers client={client}>{ui}</Providers>), client };
}
