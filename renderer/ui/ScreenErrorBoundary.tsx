import { Alert, Button, Stack, Text } from '@mantine/core';
import { Component, type ReactNode } from 'react';

interface State {
  failed: boolean;
}

/**
 * Keeps one broken screen from blanking the whole window (a screen's code that
 * failed to load, or a rendering bug). Drafts live in sessionStorage, so a
 * reload loses nothing the CRM typed. Key it by route: navigating elsewhere
 * starts fresh.
 */
export class ScreenErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { failed: false };

  static getDerivedStateFromError(): State {
    return { failed: true };
  }

  override render() {
    if (!this.state.failed) return this.props.children;
    return (
      <Alert color="red" variant="light" title="This screen could not be shown" role="alert" m="md">
        <Stack gap="xs" align="flex-start">
          <Text size="sm">Part of the console failed to load. Reloading it keeps your unsaved changes.</Text>
          <Button size="xs" variant="default" onClick={() => window.location.reload()}>
            Reload the console
          </Button>
        </Stack>
      </Alert>
    );
  }
}
