import { Alert, Badge, Button, Group, Menu, Text, UnstyledButton } from '@mantine/core';
import { useHotkeys } from '@mantine/hooks';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import type { Me } from '../../shared/api';
import { call } from '../bridge/client';
import { describeError } from '../bridge/errors';
import { useBridgeEvent } from '../bridge/useBridgeEvent';
import { listDrafts } from '../features/customers/edit/drafts';
import { useLiveUpdates } from '../features/customers/api/live';
import { customerQueries } from '../features/customers/api/queries';
import { CustomersScreen } from '../features/customers/list/CustomersScreen';
import { PortfolioScreen } from '../features/customers/portfolio/PortfolioScreen';
import { MyOutcomes } from '../features/approvals/MyOutcomes';
import { useSessionAction } from '../features/session/api';
import { SkeletonRows } from '../ui/states';
import { ScreenErrorBoundary } from '../ui/ScreenErrorBoundary';
import { toast } from '../ui/toast';
import { approvalQueries } from '../features/approvals/api';
import { canApprove, canArchiveCustomer, canCreateCustomers, canEditCustomer, canReviewAudit, canSeeChangeRequests, isAdmin, isCrm } from './permissions';
import { loadRoute, storeRoute, type Route } from './routes';

// Loaded when first opened: the list and portfolio come up without the record view, the form or the audit review.
const AuditScreen = lazy(() => import('../features/audit/AuditScreen'));
const AdminScreen = lazy(() => import('../features/admin/AdminScreen'));
const ApprovalsScreen = lazy(() => import('../features/approvals/ApprovalsScreen'));
const loadCustomerScreen = () => import('../features/customers/record/CustomerScreen');
const loadEditCustomerScreen = () => import('../features/customers/edit/EditCustomerScreen');
const CustomerScreen = lazy(() => loadCustomerScreen().then((m) => ({ default: m.CustomerScreen })));
const EditCustomerScreen = lazy(() => loadEditCustomerScreen().then((m) => ({ default: m.EditCustomerScreen })));

// How stale the main process's idea of "last activity" may be: the lock can fire
// at most this much early. Short, so short IT-set timeouts still behave; one
// small IPC call every few seconds while someone types costs nothing.
const ACTIVITY_REPORT_MS = 5_000;

function allowed(user: Me, route: Route): boolean {
  if (route.name === 'audit') return canReviewAudit(user);
  if (route.name === 'admin') return isAdmin(user);
  if (route.name === 'approvals') return canApprove(user);
  if (route.name === 'portfolio' || route.name === 'new') return isCrm(user);
  return true;
}

const home = (user: Me): Route => (isCrm(user) ? { name: 'portfolio' } : { name: 'customers' });

export function Shell({ user }: { user: Me }) {
  const [route, setRoute] = useState<Route>(() => {
    const saved = loadRoute(user.sub);
    return saved && allowed(user, saved) ? saved : home(user);
  });
  const [focusSearch, setFocusSearch] = useState(0);
  const go = useCallback(
    (r: Route) => {
      setRoute(r);
      storeRoute(user.sub, r);
    },
    [user.sub],
  );
  const qc = useQueryClient();
  const openCustomer = useCallback(
    (orgId: string) => {
      // The record is asked for on the click, while its screen loads and renders.
      void qc.prefetchQuery(customerQueries.detail(orgId));
      go({ name: 'customer', orgId });
    },
    [go, qc],
  );
  useIdlePreload();

  useHotkeys(
    [
      [
        'mod+K',
        () => {
          go({ name: 'customers' });
          setFocusSearch((n) => n + 1);
        },
      ],
    ],
    [],
  );
  useActivityReporting();
  const reachable = useConnectivity();
  const live = useLiveUpdates(user.sub);
  const drafts = route.name === 'edit' || route.name === 'new' ? [] : listDrafts(user.sub);

  const nav: { route: Route; label: string; badge?: ReactNode }[] = [
    ...(isCrm(user) ? [{ route: { name: 'portfolio' } as Route, label: 'My portfolio' }] : []),
    { route: { name: 'customers' }, label: 'Customers' },
    ...(canApprove(user) ? [{ route: { name: 'approvals' } as Route, label: 'Approvals', badge: <PendingCount /> }] : []),
    ...(canReviewAudit(user) ? [{ route: { name: 'audit' } as Route, label: 'Audit review' }] : []),
    ...(isAdmin(user) ? [{ route: { name: 'admin' } as Route, label: 'Admin' }] : []),
  ];
  const section = route.name === 'customer' || route.name === 'edit' || route.name === 'new' ? 'customers' : route.name;

  return (
    <div className="shell">
      <header className="topbar">
        <Group gap="lg" wrap="nowrap">
          <Text fw={700} className="brand">
            CIMS Console
          </Text>
          <nav aria-label="Main">
            <Group gap={4}>
              {nav.map((n) => (
                <UnstyledButton
                  key={n.route.name}
                  className="nav-item"
                  aria-current={section === n.route.name ? 'page' : undefined}
                  onClick={() => go(n.route)}
                >
                  {n.label}
                  {n.badge}
                </UnstyledButton>
              ))}
            </Group>
          </nav>
        </Group>
        <Group gap="sm" wrap="nowrap">
          {/* Quiet on purpose: work goes on without the stream; the console reconnects by itself. */}
          {live === 'paused' && reachable && (
            <Text size="xs" c="dimmed" role="status" className="live-paused">
              Live updates paused, retrying
            </Text>
          )}
          <UserMenu user={user} />
        </Group>
      </header>
      {!reachable && (
        <Alert color="red" variant="light" radius={0} py={8} className="banner" role="alert" title="The CIMS service cannot be reached">
          You can keep reading what is loaded. Edits are kept as drafts and can be saved when the connection is back; the console
          reconnects by itself.
        </Alert>
      )}
      {drafts.length > 0 && (
        <Alert color="blue" variant="light" radius={0} className="banner" role="status">
          <Group gap="xs">
            <Text size="sm">Unsaved changes:</Text>
            {drafts.map((d) => (
              <Button
                key={d.key}
                size="compact-xs"
                variant="light"
                onClick={() => go(d.key === 'new' ? { name: 'new' } : { name: 'edit', orgId: d.key })}
              >
                {d.key === 'new' ? 'New customer' : d.key}
              </Button>
            ))}
          </Group>
        </Alert>
      )}
      <main className="content">
        <ScreenErrorBoundary key={route.name === 'customer' || route.name === 'edit' ? `${route.name}:${route.orgId}` : route.name}>
        <Suspense fallback={<SkeletonRows label="Loading" />}>
        {route.name === 'portfolio' && <PortfolioScreen userName={user.name} notice={<MyOutcomes me={user.sub} onOpen={openCustomer} />} onOpen={openCustomer} />}
        {route.name === 'customers' && (
          <CustomersScreen
            searchOwner={user.sub}
            onOpen={openCustomer}
            onNew={canCreateCustomers(user) ? () => go({ name: 'new' }) : undefined}
            focusSearchSignal={focusSearch}
          />
        )}
        {route.name === 'customer' && (
          <CustomerScreen
            orgId={route.orgId}
            canEdit={(c) => canEditCustomer(user, c)}
            showAccess={canReviewAudit(user)}
            canFlagPredictions={canCreateCustomers(user)}
            canArchive={(c) => canArchiveCustomer(user, c)}
            me={user.sub}
            showChangeRequests={canSeeChangeRequests(user)}
            onEdit={(orgId) => go({ name: 'edit', orgId })}
            onRevert={(orgId, event, changes) => go({ name: 'edit', orgId, revert: { eventId: event.id, changes } })}
            onBack={() => go({ name: 'customers' })}
          />
        )}
        {(route.name === 'edit' || route.name === 'new') && (
          <EditCustomerScreen
            key={route.name === 'edit' ? `${route.orgId}:${route.revert?.eventId ?? ''}` : 'new'}
            orgId={route.name === 'edit' ? route.orgId : null}
            {...(route.name === 'edit' && route.revert ? { revert: route.revert } : {})}
            draftOwner={user.sub}
            onSaved={openCustomer}
            onCancel={() => (route.name === 'edit' ? openCustomer(route.orgId) : go({ name: 'customers' }))}
          />
        )}
        {route.name === 'audit' && <AuditScreen />}
        {route.name === 'admin' && <AdminScreen />}
        {route.name === 'approvals' && <ApprovalsScreen me={user.sub} onOpenCustomer={openCustomer} />}
        </Suspense>
        </ScreenErrorBoundary>
      </main>
    </div>
  );
}

/** The number of change requests waiting, beside "Approvals"; nothing while unknown. */
function PendingCount() {
  const pending = useQuery(approvalQueries.pendingCount());
  if (!pending.data || pending.data.count === 0) return null;
  const n = pending.data.more ? `${pending.data.count}+` : String(pending.data.count);
  return (
    <Badge size="xs" circle={n.length < 3} ml={6} aria-label={`${n} waiting`} className="nav-count">
      {n}
    </Badge>
  );
}

function UserMenu({ user }: { user: Me }) {
  const signOut = useSessionAction('session:signOut');
  return (
    <Menu position="bottom-end" width={220}>
      <Menu.Target>
        <UnstyledButton className="user-button" aria-label={`Account: ${user.name}`}>
          <Text size="sm" fw={500} span>
            {user.name}
          </Text>{' '}
          {user.roles.map((r) => (
            <Badge key={r} size="xs" variant="outline" ml={4}>
              {r.replace('_', ' ')}
            </Badge>
          ))}
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>{user.sub}</Menu.Label>
        <Menu.Item onClick={() => void exportDiagnosticLogs()}>Export diagnostic logs</Menu.Item>
        <Menu.Item color="red" onClick={() => signOut.mutate({})}>
          Sign out
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}

/** Says where the logs were saved, or why not; a cancelled save dialog (no path) says nothing. */
async function exportDiagnosticLogs(): Promise<void> {
  try {
    const { path } = await call('diagnostics:exportLogs', {});
    if (path) toast('success', 'Diagnostic logs saved', path);
  } catch (error) {
    toast('error', 'Diagnostic logs not saved', describeError(error));
  }
}

/**
 * Loads the record and edit screens once the window is idle after sign-in: they
 * stay out of the initial JavaScript, and the first record opened does not wait
 * for its screen's code. Where the browser has no idle callbacks (jsdom), nothing.
 */
function useIdlePreload() {
  useEffect(() => {
    if (typeof window.requestIdleCallback !== 'function') return;
    const id = window.requestIdleCallback(() => void Promise.all([loadCustomerScreen(), loadEditCustomerScreen()]).catch(() => undefined), { timeout: 3_000 });
    return () => window.cancelIdleCallback(id);
  }, []);
}

/** Tells the main process (at most every 5 s) that someone is using the console, for the inactivity lock. */
function useActivityReporting() {
  const last = useRef(0);
  useEffect(() => {
    const report = () => {
      const now = Date.now();
      if (now - last.current < ACTIVITY_REPORT_MS) return;
      last.current = now;
      void call('session:activity', {}).catch(() => undefined);
    };
    const events = ['keydown', 'pointerdown', 'wheel'] as const;
    events.forEach((e) => window.addEventListener(e, report, { passive: true }));
    return () => events.forEach((e) => window.removeEventListener(e, report));
  }, []);
}

/** Follows `api:connectivity`; when the API comes back, says so and refreshes what is on screen. */
function useConnectivity(): boolean {
  const qc = useQueryClient();
  const [reachable, setReachable] = useState(true);
  const was = useRef(true);
  useBridgeEvent('api:connectivity', ({ reachable: now }) => {
    if (!was.current && now) {
      toast('success', 'Connected again', 'The CIMS service is reachable; refreshing.');
      void qc.invalidateQueries();
    }
    was.current = now;
    setReachable(now);
  });
  return reachable;
}
