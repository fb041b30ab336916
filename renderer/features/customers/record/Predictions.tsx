import { Alert, Button, Group, Stack, Text, Textarea } from '@mantine/core';
import { useId, useState } from 'react';
import type { Prediction, PredictionKind } from '../../../../shared/api';
import { describeError } from '../../../bridge/errors';
import { ageInDays, factorLabel, formatDateTime, formatPercent } from '../../../ui/format';
import { usePredictionFeedback } from '../api/mutations';

const KIND_LABELS: Record<PredictionKind, string> = { churn_risk: 'Churn risk', upsell_propensity: 'Upsell propensity' };
const STALE_AFTER_DAYS = 7;

/** The newest prediction of each kind. */
function latestByKind(predictions: Prediction[]): Prediction[] {
  const latest = new Map<PredictionKind, Prediction>();
  for (const p of predictions) {
    const seen = latest.get(p.kind);
    if (!seen || p.scoredAt > seen.scoredAt) latest.set(p.kind, p);
  }
  return [...latest.values()].sort((a, b) => a.kind.localeCompare(b.kind));
}

const pct = (x: number) => `${Math.round(Math.abs(x) * 100)}%`;

/** What the model's features (models/job.ts) say about this customer, in words. */
const FACTOR_WORDS: Record<string, (v: number) => string> = {
  active_users_trend_4w: (v) =>
    Math.abs(v) < 0.005 ? 'Active users flat over the last 4 weeks' : `Active users ${v > 0 ? 'up' : 'down'} ${pct(v)} over the last 4 weeks, against the 4 before`,
  seat_utilization: (v) => `${pct(v)} of the seats in use on an average day`,
  tenure_years: (v) => `A customer for ${v < 1 ? `${Math.max(1, Math.round(v * 12))} months` : `${v.toFixed(1)} years`}`,
  seat_price: (v) => `Pays ${v.toFixed(0)} a seat per month`,
  log_seats: (v) => `${Math.round(Math.exp(v))} seats`,
  sessions_per_active_user: (v) => `${v.toFixed(1)} sessions a day per active user`,
};

/** The model's features by name; any other factor is shown by its own name. */
const FACTOR_NAMES: Record<string, string> = {
  active_users_trend_4w: 'Active users, 4-week trend',
  seat_utilization: 'Seats in use',
  tenure_years: 'Time as a customer',
  seat_price: 'Price per seat',
  log_seats: 'Number of seats',
  sessions_per_active_user: 'Sessions per active user',
};
const factorName = (factor: string) => FACTOR_NAMES[factor] ?? factorLabel(factor);

export function factorSentence(kind: PredictionKind, factor: string, weight: number, value: number | undefined): string {
  const what = value !== undefined && FACTOR_WORDS[factor] ? FACTOR_WORDS[factor](value) : factorName(factor);
  const effect = Math.abs(weight) < 0.05 ? 'barely moves' : weight > 0 ? 'raises' : 'lowers';
  return `${what}: ${effect} the ${KIND_LABELS[kind].toLowerCase()}.`;
}

export function Predictions({ predictions, orgId, canFlag = false }: { predictions: Prediction[]; orgId: string; canFlag?: boolean }) {
  const list = latestByKind(predictions);
  if (list.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        No predictions for this customer yet.
      </Text>
    );
  }
  return (
    <Stack gap="md">
      {list.map((p) => (
        <PredictionView key={p.kind} p={p} orgId={orgId} canFlag={canFlag} />
      ))}
    </Stack>
  );
}

function PredictionView({ p, orgId, canFlag }: { p: Prediction; orgId: string; canFlag: boolean }) {
  const age = ageInDays(p.scoredAt);
  const maxWeight = Math.max(0.01, ...p.topFactors.map((f) => Math.abs(f.weight)));
  return (
    <section aria-label={KIND_LABELS[p.kind]} className="prediction">
      <Group justify="space-between" align="baseline" wrap="nowrap">
        <Text fw={600} size="sm">
          {KIND_LABELS[p.kind]}
        </Text>
        <Text fw={700} size="lg" className="num">
          {formatPercent(p.score)}
        </Text>
      </Group>
      <Text size="xs" c="dimmed">
        Model {p.modelName}, version <span className="mono">{p.modelVersion}</span> · scored {formatDateTime(p.scoredAt)}
      </Text>
      {age > STALE_AFTER_DAYS && (
        <Alert color="yellow" variant="light" p={6} mt={4} role="note">
          <Text size="xs">Scored {age} days ago: this may be out of date.</Text>
        </Alert>
      )}
      {p.topFactors.length > 0 && (
        <ul className="factors" aria-label={`Top factors for ${KIND_LABELS[p.kind].toLowerCase()}`}>
          {p.topFactors.map((f) => (
            <li key={f.factor}>
              <span className="factor-name" title={factorSentence(p.kind, f.factor, f.weight, f.value)}>
                {factorName(f.factor)}
              </span>
              <span className="factor-track" aria-hidden="true">
                <span
                  className={f.weight >= 0 ? 'factor-bar up' : 'factor-bar down'}
                  style={{ width: `${(Math.abs(f.weight) / maxWeight) * 100}%` }}
                />
              </span>
              <span className="factor-weight num">{(f.weight >= 0 ? '+' : '−') + Math.abs(f.weight).toFixed(2)}</span>
              <Text size="xs" c="dimmed" className="factor-words">
                {factorSentence(p.kind, f.factor, f.weight, f.value)}
              </Text>
            </li>
          ))}
        </ul>
      )}
      {p.topFactors.length > 0 && (
        <Text size="xs" c="dimmed" mt={4}>
          Each number is the factor&apos;s pull on this score in the model&apos;s own terms (log-odds): + raises it, − lowers it.
        </Text>
      )}
      {canFlag && <Feedback p={p} orgId={orgId} />}
    </section>
  );
}

/** "Looks wrong?": the reason goes to the data scientists with the model version. */
function Feedback({ p, orgId }: { p: Prediction; orgId: string }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const send = usePredictionFeedback(orgId);
  const hintId = useId();
  const label = KIND_LABELS[p.kind].toLowerCase();

  if (send.isSuccess) {
    return (
      <Text size="xs" c="dimmed" mt={6} role="status">
        Thanks: your note on this {label} went to the data scientists, with model version {p.modelVersion}.
      </Text>
    );
  }
  if (!open) {
    return (
      <Button size="compact-xs" variant="subtle" mt={6} onClick={() => setOpen(true)} aria-label={`Looks wrong? ${KIND_LABELS[p.kind]}`}>
        Looks wrong?
      </Button>
    );
  }
  const tooShort = reason.trim().length < 3;
  return (
    <form
      className="prediction-feedback"
      onSubmit={(e) => {
        e.preventDefault();
        if (tooShort || send.isPending) return;
        send.mutate({ kind: p.kind, modelName: p.modelName, modelVersion: p.modelVersion, scoredAt: p.scoredAt, verdict: 'looks_wrong', reason: reason.trim() });
      }}
    >
      <Stack gap={6} mt={6}>
        <Textarea
          label={`What looks wrong about this ${label}?`}
          description="Data scientists read this with the model version. Leave out names and contact details."
          aria-describedby={hintId}
          autosize
          minRows={2}
          maxLength={500}
          size="xs"
          value={reason}
          onChange={(e) => setReason(e.currentTarget.value)}
          data-autofocus
          autoFocus
        />
        <Text id={hintId} size="xs" c="dimmed">
          {reason.trim().length}/500 characters{tooShort ? ', at least 3' : ''}
        </Text>
        {send.isError && (
          <Alert color="red" variant="light" p={6} role="alert">
            <Text size="xs">Not sent: {describeError(send.error)}</Text>
          </Alert>
        )}
        <Group gap="xs">
          <Button size="compact-xs" type="submit" loading={send.isPending} disabled={tooShort}>
            Send to data scientists
          </Button>
          <Button size="compact-xs" variant="default" onClick={() => setOpen(false)} disabled={send.isPending}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
