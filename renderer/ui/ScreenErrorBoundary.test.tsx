import { screen } from '@testing-library/react';
import { lazy, Suspense } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { renderApp } from '../test/render';
import { ScreenErrorBoundary } from './ScreenErrorBoundary';

describe('ScreenErrorBoundary', () => {
  it('shows a reload offer instead of a blank window when a screen\'s code fails to load', async () => {
    // What a missing chunk looks like to React: the lazy import rejects.
    const Missing = lazy(() => Promise.reject(new Error('Failed to fetch dynamically imported module')));
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    renderApp(
      <ScreenErrorBoundary>
        <Suspense fallback={<p>Loading</p>}>
          <Missing />
        </Suspense>
      </ScreenErrorBoundary>,
    );
    expect(await screen.findByRole('alert')).toHaveTextContent('This screen could not be shown');
    expect(screen.getByRole('button', { name: 'Reload the console' })).toBeInTheDocument();
    quiet.mockRestore();
  });

  it('renders its screen untouched when nothing fails', () => {
    renderApp(
      <ScreenErrorBoundary>
        <p>Customers</p>
      </ScreenErrorBoundary>,
    );
    expect(screen.getByText('Customers')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).toBeNull();
  });
});
