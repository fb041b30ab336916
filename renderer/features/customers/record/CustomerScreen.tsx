import { Alert, Badge, Button, Group, Paper, SegmentedControl, Skeleton, Stack, Text, Title } from '@mantine/core';
import { usePrefetchInfiniteQuery, usePrefetchQuery, useQuery } from '@tanstack/react-query';
import { lazy, Suspense, useDeferredValue, useEffect, useState, type ReactNode } from 'react';
import type { AuditEvent, Customer, CustomerDetail, FieldChange } from '../../../../shared/api';
import { fieldsText, useRecentChange, whoChanged } from '../api/live';
import { customerQueries } from '../api/queries';
import { daysUntil, describeDaysLeft, formatDate, formatDateTime, formatMoney, isRenewingSoon } from '../../../ui/format';
import { ErrorState, QueryStates } from '../../../ui/states';
import { ChangeRequestBanner } from './ChangeRequestBanner';
import { Predictions } from './Predictions';
import { RecordAccess } from './RecordAccess';
import { RecordHistory } from './RecordHistory';
import { StatusActions } from './StatusActions';

const UsageChart = lazy(() => import('./UsageChart'));
const DEFAULT_USAGE_DAYS = 90;

export interface CustomerScreenProps {
  orgId: string;
  /** Whether to offer the edit button (the API decides for real). */
  canEdit: (customer: Customer) => boolean;
  /** Whether to show who viewed the record (support leads; the API decides for real). */
  showAccess?: boolean;
  /** Whether to offer "Looks wrong?" on predictions (CRMs; the API decides for real). */
  canFlagPredictions?: boolean;
  /** Whether to offer archive and un-archive (the owning CRM, support leads; the API decides for real). */
  canArchive?: (customer: Customer) => boolean;
  /** The signed-in person's subject, and whether they see change requests (CRMs, support leads): the record's banner. */
  me?: string;
  showChangeRequests?: boolean;
  onEdit: (orgId: string) => void;
  /** "Revert this change" on a history row: the edit form, filled with that event's before-values. */
  onRevert?: (orgId: string, event: AuditEvent, changes: FieldChange[]) => void;
  onBack: () => void;
}

export function CustomerScreen({
  orgId,
  canEdit,
  showAccess = false,
  canFlagPredictions = false,
  canArchive = () => false,
  me = '',
  showChangeRequests = false,
  onEdit,
  onRevert,
  onBack,
}: CustomerScreenProps) {
  const detail = useQuery(customerQueries.detail(orgId));
  // Asked for with the record, not after it arrives: the cards below show them
  // when they come, and the record itself never waits for them.
  usePrefetchQuery(customerQueries.usage(orgId, DEFAULT_USAGE_DAYS));
  usePrefetchInfiniteQuery(customerQueries.audit(orgId));
  const heard = useRecentChange(orgId);
  // Someone's save heard on the change stream, once the record shows the version it made.
  const liveNote = heard && detail.data && heard.change.version === detail.data.customer.version ? heard : null;
  return (
    <section className="screen scroll" aria-labelledby="customer-title">
      <Group justify="space-between" className="screen-head" wrap="nowrap">
        <Group gap="sm" wrap="nowrap" className="minw0">
          <Button size="xs" variant="subtle" onClick={onBack}>
            ← Customers
          </Button>
          <Title order={1} size="h3" id="customer-title" className="truncate">
            {detail.data ? detail.data.customer.orgName : orgId}
          </Title>
          {detail.data && (
            <>
              <Text className="mono" c="dimmed" size="sm">
                {detail.data.customer.orgId}
              </Text>
              {detail.data.customer.status === 'archived' && (
                // Light, not outline: gray outline text lacks contrast (axe, e2e 11 un-archive).
                <Badge color="gray" variant="light">
                  Archived
                </Badge>
              )}
            </>
          )}
        </Group>
        <Group gap="xs" wrap="nowrap">
          {detail.data && canArchive(detail.data.customer) && <StatusActions customer={detail.data.customer} />}
          {detail.data && canEdit(detail.data.customer) && detail.data.customer.status === 'active' && (
            <Button size="xs" onClick={() => onEdit(orgId)}>
              Edit customer
            </Button>
          )}
        </Group>
      </Group>
      <QueryStates query={detail} loadingLabel="Loading customer" loadingRows={10} errorTitle="Could not load this customer" inset={false}>
        {(data) => (
          <>
          {liveNote && <LiveUpdateNote change={liveNote} />}
          {showChangeRequests && <ChangeRequestBanner detail={data} me={me} canResubmit={canEdit(data.customer) || canArchive(data.customer)} />}
          <CustomerBody
            detail={data}
            showAccess={showAccess}
            canFlagPredictions={canFlagPredictions}
            {...(onRevert && canEdit(data.customer) && data.customer.status === 'active'
              ? { onRevert: (e: AuditEvent, changes: FieldChange[]) => onRevert(orgId, e, changes) }
              : {})}
          />
          </>
        )}
      </QueryStates>
    </section>
  );
}

/** "Updated by Carol Diaz just now · Contact phone": the record was refetched in place after someone's save. */
function LiveUpdateNote({ change }: { change: NonNullable<ReturnType<typeof useRecentChange>> }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 15_000);
    return () => clearInterval(t);
  }, []);
  const minutes = Math.floor((now - change.at) / 60_000);
  const when = minutes < 1 ? 'just now' : minutes === 1 ? 'a minute ago' : `${minutes} minutes ago`;
  return (
    <Text size="sm" className="live-note" role="status" data-live-update="">
      Updated by {whoChanged(change)} {when}
      {change.change.fields.length > 0 && <span className="dim"> · {fieldsText(change.change.fields)}</span>}
    </Text>
  );
}

function Card({ title, children, className }: { title: string; children: ReactNode; className?: string }) {
  return (
    <Paper withBorder p="sm" radius="sm" className={className} component="section" aria-label={title}>
      <Text fw={600} size="sm" mb={6}>
        {title}
      </Text>
      {children}
    </Paper>
  );
}

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="kv">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function CustomerBody({
  detail,
  showAccess,
  canFlagPredictions,
  onRevert,
}: {
  detail: CustomerDetail;
  showAccess: boolean;
  canFlagPredictions: boolean;
  onRevert?: (event: AuditEvent, changes: FieldChange[]) => void;
}) {
  const c = detail.customer;
  const days = daysUntil(c.renewalDate);
  const [usageDays, setUsageDays] = useState<90 | 180>(DEFAULT_USAGE_DAYS);
  return (
    <Stack gap="sm">
      <div className="cards-3">
        <Card title="Contact">
          <dl>
            <Row label="Name">{c.contactName}</Row>
            <Row label="Email">{c.contactEmail}</Row>
            <Row label="Phone">{c.contactPhone}</Row>
            <Row label="Owner">{c.ownerName}</Row>
          </dl>
        </Card>
        <Card title="Contract">
          <dl>
            <Row label="Users">{c.userCount.toLocaleString()}</Row>
            <Row label="Value">
              {formatMoney(c.contractValueCents, c.currency)} <span className="dim">{c.currency}</span>
            </Row>
            <Row label="Renewal">
              {formatDate(c.renewalDate)}{' '}
              <span className={isRenewingSoon(days) ? 'warn' : 'dim'}>({describeDaysLeft(days)})</span>
            </Row>
            <Row label="Updated">
              {formatDateTime(c.updatedAt)} <span className="dim">v{c.version}</span>
            </Row>
          </dl>
        </Card>
        <Card title="Billing">
          {detail.billing.length === 0 ? (
            <Text size="sm" c="dimmed">
              No billing method on file.
            </Text>
          ) : (
            <ul className="plain-list">
              {detail.billing.map((b) => {
                const expired = b.expYear * 12 + b.expMonth < new Date().getFullYear() * 12 + new Date().getMonth() + 1;
                return (
                  <li key={`${b.brand}-${b.last4}-${b.expYear}-${b.expMonth}`}>
                    <span className="fw6">{b.brand}</span> <span className="mono">•••• {b.last4}</span>{' '}
                    <span className={expired ? 'danger' : 'dim'}>
                      {expired ? 'expired' : 'expires'} {String(b.expMonth).padStart(2, '0')}/{b.expYear}
                    </span>
                  </li>
                );
              })}
            </ul>
          )}
          <Text size="xs" c="dimmed" mt={6}>
            Card numbers are never stored; only brand, last four digits and expiry.
          </Text>
        </Card>
      </div>
      <div className="cards-2">
        <Card title="Usage">
          <Group justify="space-between" mb={4}>
            <Text size="xs" c="dimmed">
              {detail.usage.activeUsersLatest !== null ? `${detail.usage.activeUsersLatest} active users latest` : 'No usage yet'}
              {detail.usage.trend30 !== null && ` · 30-day trend ${detail.usage.trend30 >= 0 ? '+' : '−'}${Math.abs(Math.round(detail.usage.trend30 * 100))}%`}
            </Text>
            <SegmentedControl
              size="xs"
              aria-label="Usage period"
              value={String(usageDays)}
              onChange={(v) => setUsageDays(v === '180' ? 180 : 90)}
              data={[
                { value: '90', label: '90 days' },
                { value: '180', label: '180 days' },
              ]}
            />
          </Group>
          <Usage orgId={c.orgId} days={usageDays} />
        </Card>
        <Card title="Predictions">
          <Predictions predictions={detail.predictions} orgId={c.orgId} canFlag={canFlagPredictions} />
        </Card>
      </div>
      <Card title="History of this record">
        <RecordHistory orgId={c.orgId} {...(onRevert ? { onRevert } : {})} />
      </Card>
      {showAccess && (
        <Card title="Who viewed this record">
          <RecordAccess orgId={c.orgId} />
        </Card>
      )}
    </Stack>
  );
}

function Usage({ orgId, days }: { orgId: string; days: 90 | 180 }) {
  const usage = useQuery(customerQueries.usage(orgId, days));
  // The chart is most of the record screen's render (SVG of 90 or 180 days): it
  // is drawn in the render after the one that shows the record's fields.
  const drawChart = useDeferredValue(true, false);
  // A status, like the other loading states: a plain element may not carry a label.
  const chartSkeleton = <Skeleton height={200} role="status" aria-label="Loading usage" />;
  if (usage.isPending || (!drawChart && usage.isSuccess && usage.data.length > 0)) return chartSkeleton;
  if (usage.isError) return <ErrorState title="Could not load usage" error={usage.error} onRetry={() => void usage.refetch()} />;
  if (usage.data.length === 0) {
    return (
      <Alert variant="light" color="gray">
        No usage recorded in the last {days} days.
      </Alert>
    );
  }
  return (
    <Suspense fallback={chartSkeleton}>
      <UsageChart days={usage.data} />
    </Suspense>
  );
}
