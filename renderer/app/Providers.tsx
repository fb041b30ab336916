import { createTheme, MantineProvider } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { isBridgeError, TRANSIENT_CODES } from '../bridge/errors';

// Default colours and sizes: every CSS variable comes from @mantine/core/styles.css,
// so the provider writes no <style> element at run time (CSP: style-src 'self').
const theme = createTheme({});

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Retry only what may pass by itself; a 403 or a validation error will not.
        retry: (count, e) => count < 2 && isBridgeError(e) && TRANSIENT_CODES.includes(e.code),
        refetchOnWindowFocus: false,
      },
      mutations: { retry: false },
    },
  });
}

export function Providers({ children, client }: { children: ReactNode; client?: QueryClient }) {
  const [qc] = useState(() => client ?? makeQueryClient());
  return (
    <MantineProvider theme={theme} defaultColorScheme="auto" withCssVariables={false} withGlobalClasses={false}>
      <QueryClientProvider client={qc}>
        <Notifications position="bottom-right" limit={4} />
        {children}
      </QueryClientProvider>
    </MantineProvider>
  );
}
