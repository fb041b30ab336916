// Audit review for support leads. Lazy-loaded: CRMs never download it.
import { Alert, Button, Group, NativeSelect, SegmentedControl, TextInput, Title } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { AuditAction, EDITABLE_FIELDS } from '../../../shared/api';
import { describeError } from '../../bridge/errors';
import { AccessView } from './AccessView';
import { auditQueries, useAuditExport, useAuditVerify, useEvidenceExport, type AuditFilters } from './api';
import { EventList } from './EventList';
import { ExportButton } from './ExportButton';
import { AuditEventTable } from '../../ui/AuditEventTable';
import { ACTION_LABELS, FIELD_LABELS } from '../../ui/fields';
import { NO_FILTERS, toAuditFilters, useFilterForm, type FilterInputs } from './filters';
import { VerifyResult } from './VerifyResult';

const FIELD_OPTIONS = [{ value: '', label: 'Any field' }, ...EDITABLE_FIELDS.map((f) => ({ value: f, label: FIELD_LABELS[f] }))];
const ACTION_OPTIONS = [{ value: '', label: 'Any action' }, ...AuditAction.options.map((a) => ({ value: a, label: ACTION_LABELS[a] }))];

export default function AuditScreen() {
  const { inputs, errors, applied, set, apply, clear } = useFilterForm<FilterInputs, AuditFilters>(NO_FILTERS, toAuditFilters);
  const events = useInfiniteQuery(auditQueries.events(applied));
  const verify = useAuditVerify();
  const exportCsv = useAuditExport();
  const evidence = useEvidenceExport();
  const [view, setView] = useState<'changes' | 'access'>('changes');

  return (
    <section className="screen scroll" aria-labelledby="audit-title">
      <Group justify="space-between" className="screen-head">
        <Group gap="sm">
          <Title order={1} size="h3" id="audit-title">
            Audit review
          </Title>
          <SegmentedControl
            size="xs"
            aria-label="What to review"
            value={view}
            onChange={(v) => setView(v === 'access' ? 'access' : 'changes')}
            data={[
              { value: 'changes', label: 'Changes' },
              { value: 'access', label: 'Access' },
            ]}
          />
        </Group>
        {view === 'changes' && (
          <Group gap="xs">
            <ExportButton exportCsv={exportCsv} input={applied} what="events" />
            {/* For auditors: the applied range's events with their chain and signed checkpoints, checked offline by cims-verify. */}
            <ExportButton exportCsv={evidence} input={verifyRange(applied)} what="records" label="Download evidence bundle" name="Evidence bundle" />
            <Button size="xs" variant="default" onClick={() => verify.mutate(verifyRange(applied))} loading={verify.isPending}>
              Verify integrity
            </Button>
          </Group>
        )}
      </Group>
      {view === 'access' ? (
        <AccessView />
      ) : (
        <>
          {verify.isError && (
            <Alert color="red" variant="light" title="Could not verify" withCloseButton closeButtonLabel="Dismiss" onClose={() => verify.reset()} role="alert" className="verify-result">
              {describeError(verify.error)}
            </Alert>
          )}
          {verify.isSuccess && <VerifyResult outcome={verify.data} onClose={() => verify.reset()} />}
          <form onSubmit={apply} aria-label="Audit filters" noValidate>
            <Group gap="sm" align="flex-start" wrap="nowrap" className="filters">
              <TextInput size="xs" label="User" placeholder="Name or id" value={inputs.actor} onChange={set('actor')} w={150} />
              <TextInput size="xs" label="Customer" placeholder="ORG-000123" value={inputs.orgId} onChange={set('orgId')} error={errors.orgId} w={150} />
              <NativeSelect size="xs" label="Field" data={FIELD_OPTIONS} value={inputs.field} onChange={set('field')} w={160} />
              <NativeSelect size="xs" label="Action" data={ACTION_OPTIONS} value={inputs.action} onChange={set('action')} w={160} error={errors.action} />
              <TextInput size="xs" type="date" label="From" value={inputs.fromDay} onChange={set('fromDay')} w={140} />
              <TextInput size="xs" type="date" label="To" value={inputs.toDay} onChange={set('toDay')} error={errors.toDay} w={140} />
              <Group gap="xs" className="filter-buttons">
                <Button size="xs" type="submit">
                  Apply filters
                </Button>
                <Button size="xs" variant="default" onClick={clear}>
                  Clear
                </Button>
              </Group>
            </Group>
          </form>
          <EventList
            query={events}
            label="Audit events"
            noun="events"
            loadingLabel="Loading audit events"
            errorTitle="Could not load audit events"
            emptyTitle="No audit events match these filters"
          >
            {(rows) => <AuditEventTable events={rows} label="Audit events, newest first" acrossCustomers />}
          </EventList>
        </>
      )}
    </section>
  );
}

const verifyRange = (f: AuditFilters) => ({ ...(f.from ? { from: f.from } : {}), ...(f.to ? { to: f.to } : {}) });

