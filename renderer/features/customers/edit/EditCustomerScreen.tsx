import { zodResolver } from '@hookform/resolvers/zod';
import { Alert, Button, Group, Paper, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { startTransition, useEffect, useMemo, useState } from 'react';
import { useForm } from 'react-hook-form';
import type { CustomerDetail, CustomerFields, EditableField } from '../../../../shared/api';
import { describeError, errorCode, SAVE_LATER_CODES, type BridgeError } from '../../../bridge/errors';
import { fieldsText, useRecentChange, whoChanged } from '../api/live';
import { useCreateCustomer, useUpdateCustomer } from '../api/mutations';
import { customerQueries } from '../api/queries';
import { FIELD_LABELS, fieldValueText } from '../../../ui/fields';
import { ChangedTo } from '../../../ui/AuditChanges';
import { formatDateTime } from '../../../ui/format';
import { ErrorState, SkeletonRows } from '../../../ui/states';
import { toast } from '../../../ui/toast';
import { deleteDraft, loadDraft, saveDraft, type Draft } from './drafts';
import {
  diffFields,
  EditFormSchema,
  EMPTY_VALUES,
  formFieldFor,
  NewFormSchema,
  pickFields,
  toFormValues,
  type FormOutput,
  type FormValues,
} from './form';
import { ReviewDialog } from './ReviewDialog';
import { revertDescriptions, revertedFields, revertReason, RevertNotice, type RevertRequest } from './revert';

export interface EditCustomerScreenProps {
  /** null: a new customer. */
  orgId: string | null;
  /** Drafts are kept per signed-in user (their `sub`). */
  draftOwner: string;
  onSaved: (orgId: string) => void;
  onCancel: () => void;
  /** "Revert this change": start from the record with this history event's before-values. */
  revert?: RevertRequest;
}

/** Beside a field an approval rule names. */
const APPROVAL_NOTE = 'Needs a support lead’s approval: the change waits until then';

export function EditCustomerScreen({ orgId, draftOwner, onSaved, onCancel, revert }: EditCustomerScreenProps) {
  const key = orgId ?? 'new';
  // Read once: the form owns the draft from here on. A revert starts from the record instead.
  const [draft] = useState(() => (revert ? null : loadDraft(draftOwner, key)));
  const [replacedDraft] = useState(() => revert !== undefined && loadDraft(draftOwner, key) !== null);
  const detail = useQuery({ ...customerQueries.detail(orgId ?? 'ORG-000000'), enabled: orgId !== null && !draft });

  let body;
  if (orgId === null || draft) {
    body = (
      <CustomerForm
        key={key}
        orgId={orgId}
        draftOwner={draftOwner}
        draft={draft}
        detail={null}
        onSaved={onSaved}
        onCancel={onCancel}
        // A draft saved during a revert is still that revert.
        {...(draft?.revert ? { revert: { ...draft.revert, replacedDraft: false } } : {})}
      />
    );
  } else if (detail.isPending) {
    body = <SkeletonRows rows={10} label="Loading customer" />;
  } else if (detail.isError) {
    body = <ErrorState title="Could not load this customer" error={detail.error} onRetry={() => void detail.refetch()} />;
  } else {
    body = (
      <CustomerForm
        key={key}
        orgId={orgId}
        draftOwner={draftOwner}
        draft={null}
        detail={detail.data}
        onSaved={onSaved}
        onCancel={onCancel}
        {...(revert ? { revert: { ...revert, replacedDraft } } : {})}
      />
    );
  }
  return (
    <section className="screen scroll" aria-labelledby="edit-title">
      <Group className="screen-head">
        <Title order={1} size="h3" id="edit-title">
          {orgId === null ? 'New customer' : `Edit ${detail.data?.customer.orgName ?? orgId}`}
        </Title>
      </Group>
      {body}
    </section>
  );
}

type Problem =
  | { kind: 'conflict'; current: CustomerDetail; theirs: Partial<CustomerFields>; mine: Partial<CustomerFields> }
  | { kind: 'forbidden'; message: string }
  | { kind: 'later'; message: string }
  | { kind: 'other'; title: string; message: string };

interface Pending {
  orgId: string;
  fields: CustomerFields;
  changes: Partial<CustomerFields>;
  reason: string;
}

interface CustomerFormProps {
  orgId: string | null;
  draftOwner: string;
  draft: Draft | null;
  detail: CustomerDetail | null;
  onSaved: (orgId: string) => void;
  onCancel: () => void;
  revert?: RevertRequest & { replacedDraft: boolean };
}

function CustomerForm({ orgId, draftOwner, draft, detail, onSaved, onCancel, revert }: CustomerFormProps) {
  const isNew = orgId === null;
  const key = orgId ?? 'new';
  const qc = useQueryClient();
  const update = useUpdateCustomer();
  const create = useCreateCustomer();
  const rules = useQuery(customerQueries.approvalRules());

  // The record the edit started from: before → after is shown against it, and its version is sent as If-Match.
  const [base, setBase] = useState<CustomerFields | null>(() => draft?.base ?? (detail ? pickFields(detail.customer) : null));
  const [baseVersion, setBaseVersion] = useState<number | null>(() => draft?.baseVersion ?? detail?.customer.version ?? null);
  const [restoredAt, setRestoredAt] = useState<string | null>(draft?.savedAt ?? null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [reviewOpen, setReviewOpen] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  // Someone's save heard on the change stream since this edit started: saving now would be a 412.
  const heard = useRecentChange(isNew ? null : key);
  const overtaken = heard && baseVersion !== null && heard.change.version !== null && heard.change.version > baseVersion ? heard : null;

  const form = useForm<FormValues, unknown, FormOutput>({
    resolver: zodResolver(isNew ? NewFormSchema : EditFormSchema),
    mode: 'onChange',
    defaultValues: draft
      ? { ...EMPTY_VALUES, ...draft.values }
      : base && revert
        ? toFormValues(revertedFields(base, revert), orgId ?? '', revertReason(revert))
        : base
          ? toFormValues(base, orgId ?? '')
          : EMPTY_VALUES,
  });
  const { register, formState } = form;
  const errors = formState.errors;

  const revertEventId = revert?.eventId;
  const revertChanges = revert?.changes;
  const draftRevert = useMemo(
    () => (revertEventId !== undefined && revertChanges ? { revert: { eventId: revertEventId, changes: revertChanges } } : {}),
    [revertEventId, revertChanges],
  );
  // Every keystroke is kept as a draft, so a lock, an expired session or a crash of the API loses nothing.
  useEffect(() => {
    const sub = form.watch((values) => {
      saveDraft(draftOwner, { key, baseVersion, base, values: { ...EMPTY_VALUES, ...values } as Record<string, string>, ...draftRevert });
    });
    return () => sub.unsubscribe();
  }, [form, draftOwner, key, base, baseVersion, draftRevert]);

  const openReview = (out: FormOutput) => {
    const changes = base ? diffFields(base, out.fields) : out.fields;
    setPending({ orgId: isNew ? out.orgId : key, fields: out.fields, changes, reason: out.reason });
    // Known to be stale: the re-apply view first, instead of a save that would be refused.
    if (overtaken) void showTheirs(changes);
    else setReviewOpen(true);
  };

  /** Someone else's changes against this edit's base, with the offer to re-apply this CRM's own on top (the 412 view). */
  const showTheirs = async (mine: Partial<CustomerFields>) => {
    try {
      const current = await qc.fetchQuery({ ...customerQueries.detail(key), staleTime: 0 });
      const theirs = base ? diffFields(base, pickFields(current.customer)) : {};
      setProblem({ kind: 'conflict', current, theirs, mine });
    } catch (inner) {
      setProblem({ kind: 'later', message: `Someone else changed this customer, and the current version could not be loaded: ${describeError(inner)}` });
    }
  };

  const save = async () => {
    if (!pending) return;
    try {
      const saved =
        isNew || baseVersion === null
          ? await create.mutateAsync({ customer: { ...pending.fields, orgId: pending.orgId }, reason: pending.reason })
          : await update.mutateAsync({
              orgId: key,
              version: baseVersion,
              changes: pending.changes,
              reason: pending.reason,
              ...(revert ? { revertOf: revert.eventId } : {}),
            });
      deleteDraft(draftOwner, key);
      setReviewOpen(false);
      if ('changeRequest' in saved) {
        const r = saved.changeRequest;
        toast('success', 'Sent for approval', `${r.orgName}: ${r.changes.length === 1 ? 'the change waits' : `all ${r.changes.length} changes wait`} for a support lead. The record stays as it was until then.`);
        startTransition(() => onSaved(r.orgId));
      } else {
        toast('success', 'Saved', `${saved.customer.orgName} was saved.`);
        // The confirmation first: the record's screen (its chart, its history) renders after it, not before.
        startTransition(() => onSaved(saved.customer.orgId));
      }
    } catch (e) {
      setReviewOpen(false);
      await explainFailure(e as BridgeError, pending);
    }
  };

  const explainFailure = async (e: BridgeError, attempt: Pending) => {
    const code = errorCode(e);
    toast('error', 'Not saved', describeError(e));
    if (code === 'conflict' && e.status === 409 && !isNew) {
      // Not someone's edit: a change of this record already waits for approval.
      setProblem({ kind: 'other', title: 'A change of this customer already waits for approval', message: `${e.message} Your draft is kept.` });
    } else if (code === 'conflict' && !isNew) {
      try {
        const current = await qc.fetchQuery({ ...customerQueries.detail(key), staleTime: 0 });
        const theirs = base ? diffFields(base, pickFields(current.customer)) : {};
        setProblem({ kind: 'conflict', current, theirs, mine: attempt.changes });
      } catch (inner) {
        setProblem({ kind: 'later', message: `Someone else changed this customer, and the current version could not be loaded: ${describeError(inner)}` });
      }
    } else if (code === 'validation' || (code === 'conflict' && isNew)) {
      for (const fe of e.fieldErrors) {
        const name = formFieldFor(fe.path);
        if (name) form.setError(name, { message: fe.message });
      }
      setProblem({ kind: 'other', title: 'Check the highlighted fields', message: e.message });
    } else if (code === 'forbidden') {
      setProblem({ kind: 'forbidden', message: e.message });
    } else if (SAVE_LATER_CODES.includes(code)) {
      setProblem({ kind: 'later', message: describeError(e) });
    } else if (code === 'not_found') {
      setProblem({ kind: 'other', title: 'This customer is gone', message: 'It no longer exists or was archived. Your draft is kept so you can copy what you typed.' });
    } else {
      setProblem({ kind: 'other', title: 'Not saved', message: describeError(e) });
    }
  };

  /** Someone else saved first: take their version and put this CRM's own changes on top. */
  const reapply = (p: Extract<Problem, { kind: 'conflict' }>) => {
    const current = pickFields(p.current.customer);
    const merged = { ...current, ...p.mine } as CustomerFields;
    const reason = form.getValues('reason');
    setBase(current);
    setBaseVersion(p.current.customer.version);
    form.reset(toFormValues(merged, key, reason));
    saveDraft(draftOwner, { key, baseVersion: p.current.customer.version, base: current, values: { ...toFormValues(merged, key, reason) }, ...draftRevert });
    setProblem(null);
    setPending({ orgId: key, fields: merged, changes: diffFields(current, merged), reason });
    setReviewOpen(true);
  };

  const discard = () => {
    deleteDraft(draftOwner, key);
    onCancel();
  };

  const saving = update.isPending || create.isPending;
  const reverted = revert && base ? revertDescriptions(base, revert) : {};
  // An existing record's fields that an approval rule names: saving a change to one sends the whole edit for approval.
  const approvalFields = isNew ? [] : (rules.data?.fields ?? []);
  const needsApproval = (name: keyof FormValues) => approvalFields.includes(name === 'contractValue' ? 'contractValueCents' : (name as EditableField));
  const field = (name: keyof FormValues, label: string, extra: Record<string, unknown> = {}) => (
    <TextInput
      size="sm"
      label={label}
      withAsterisk
      error={errors[name]?.message}
      {...(needsApproval(name) ? { description: APPROVAL_NOTE, 'data-needs-approval': 'yes' } : {})}
      {...(reverted[name] ? { description: reverted[name], 'data-reverted': reverted[name].startsWith('Conflict') ? 'conflict' : 'yes' } : {})}
      {...register(name)}
      {...extra}
    />
  );

  return (
    <form onSubmit={(e) => void form.handleSubmit(openReview)(e)} noValidate aria-label={isNew ? 'New customer' : 'Edit customer'}>
      <Stack gap="sm" maw={880}>
        {restoredAt && (
          <Alert color="blue" variant="light" withCloseButton closeButtonLabel="Dismiss" onClose={() => setRestoredAt(null)} role="status">
            <Group justify="space-between">
              <Text size="sm">Restored your unsaved changes from {formatDateTime(restoredAt)}.</Text>
              <Button size="compact-xs" variant="subtle" onClick={discard}>
                Discard draft
              </Button>
            </Group>
          </Alert>
        )}
        {revert && base && <RevertNotice current={base} revert={revert} replacedDraft={revert.replacedDraft} />}
        {overtaken && problem?.kind !== 'conflict' && (
          <Alert
            color="orange"
            variant="light"
            role="alert"
            data-live-warning=""
            title={`${whoChanged(overtaken)} changed ${fieldsText(overtaken.change.fields)} while you were editing`}
          >
            <Group justify="space-between" wrap="nowrap">
              <Text size="sm">Saving now would be refused. See what changed and put your changes on top of it; nothing you typed is lost.</Text>
              <Button size="xs" variant="light" style={{ flex: 'none' }} onClick={() => void form.handleSubmit((out) => void showTheirs(base ? diffFields(base, out.fields) : out.fields))()}>
                See their changes
              </Button>
            </Group>
          </Alert>
        )}
        {problem && <ProblemView problem={problem} base={base} onReapply={reapply} onRetry={() => setReviewOpen(true)} canRetry={pending !== null} />}
        <Paper withBorder p="md" radius="sm">
          <div className="form-grid">
            {isNew && field('orgId', 'Organization id', { placeholder: 'ORG-000123', className: 'span-2' })}
            {field('orgName', FIELD_LABELS.orgName, { className: 'span-2' })}
            {field('contactName', FIELD_LABELS.contactName)}
            {field('contactEmail', FIELD_LABELS.contactEmail, { type: 'email' })}
            {field('contactPhone', FIELD_LABELS.contactPhone, { type: 'tel' })}
            {field('userCount', FIELD_LABELS.userCount, { inputMode: 'numeric' })}
            {field('contractValue', 'Contract value (in units, e.g. 12500.00)', { inputMode: 'decimal' })}
            {field('currency', FIELD_LABELS.currency, { placeholder: 'EUR', maxLength: 3 })}
            {field('renewalDate', FIELD_LABELS.renewalDate, { type: 'date' })}
            <Textarea
              className="span-2"
              label="Reason for this change"
              description="Recorded in the audit trail with your name."
              withAsterisk
              autosize
              minRows={2}
              error={errors.reason?.message}
              {...register('reason')}
            />
          </div>
        </Paper>
        <Group justify="flex-end">
          <Button variant="default" onClick={discard}>
            Discard changes
          </Button>
          <Button type="submit">Review changes</Button>
        </Group>
      </Stack>
      <ReviewDialog
        opened={reviewOpen && pending !== null}
        before={base}
        changes={pending?.changes ?? {}}
        reason={pending?.reason ?? ''}
        approvalFields={approvalFields}
        saving={saving}
        onSave={() => void save()}
        onClose={() => setReviewOpen(false)}
      />
    </form>
  );
}

interface ProblemViewProps {
  problem: Problem;
  base: CustomerFields | null;
  onReapply: (p: Extract<Problem, { kind: 'conflict' }>) => void;
  onRetry: () => void;
  canRetry: boolean;
}

function ProblemView({ problem, base, onReapply, onRetry, canRetry }: ProblemViewProps) {
  if (problem.kind === 'conflict') {
    const theirFields = Object.keys(problem.theirs) as (keyof CustomerFields)[];
    const both = theirFields.filter((f) => f in problem.mine && problem.mine[f] !== problem.theirs[f]);
    return (
      <Alert color="orange" variant="light" title="Someone else changed this customer while you were editing" role="alert">
        <Stack gap={6}>
          <Text size="sm">
            Saved by others at {formatDateTime(problem.current.customer.updatedAt)} (now version {problem.current.customer.version}).
            {theirFields.length === 0 ? ' None of the fields you can edit changed.' : ' They changed:'}
          </Text>
          {theirFields.length > 0 && (
            <ul className="changes" aria-label="Changes by someone else">
              {theirFields.map((f) => (
                <li key={f}>
                  <span className="change-field">{FIELD_LABELS[f]}:</span> <span className="before">{base ? fieldValueText(f, base[f]) : '—'}</span>
                  <ChangedTo />
                  <span className="after">{fieldValueText(f, problem.theirs[f] ?? null)}</span>
                </li>
              ))}
            </ul>
          )}
          {both.length > 0 && (
            <Text size="sm" fw={500}>
              You also changed {both.map((f) => FIELD_LABELS[f]).join(', ')}: re-applying keeps your value there.
            </Text>
          )}
          <Group>
            <Button size="xs" onClick={() => onReapply(problem)}>
              Re-apply my changes on top
            </Button>
          </Group>
        </Stack>
      </Alert>
    );
  }
  if (problem.kind === 'forbidden') {
    return (
      <Alert color="red" variant="light" title="You cannot change this customer" role="alert">
        <Text size="sm">
          Only the relationship manager assigned to a customer can edit it. {problem.message} Your changes stay here as a draft; ask the
          assigned manager or a support lead to make them.
        </Text>
      </Alert>
    );
  }
  if (problem.kind === 'later') {
    return (
      <Alert color="yellow" variant="light" title="Not saved yet: your changes are kept" role="alert">
        <Stack gap={6} align="flex-start">
          <Text size="sm">{problem.message} Your draft stays on this computer until you close the app; save it when you are back.</Text>
          {canRetry && (
            <Button size="xs" variant="default" onClick={onRetry}>
              Review and save again
            </Button>
          )}
        </Stack>
      </Alert>
    );
  }
  return (
    <Alert color="red" variant="light" title={problem.title} role="alert">
      <Text size="sm">{problem.message}</Text>
    </Alert>
  );
}
