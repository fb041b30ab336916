import { Alert, Group, Stack, Text } from '@mantine/core';
import type { Prediction, PredictionKind } from '../../../../shared/api';
import { ageInDays, factorLabel, formatDateTime, formatPercent } from '../../../ui/format';

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

export function Predictions({ predictions }: { predictions: Prediction[] }) {
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
        <PredictionView key={p.kind} p={p} />
      ))}
    </Stack>
  );
}

function PredictionView({ p }: { p: Prediction }) {
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
        {p.modelName} v{p.modelVersion} · scored {formatDateTime(p.scoredAt)}
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
              <span className="factor-name" title={f.factor}>
                {factorLabel(f.factor)}
              </span>
              <span className="factor-track" aria-hidden="true">
                <span
                  className={f.weight >= 0 ? 'factor-bar up' : 'factor-bar down'}
                  style={{ width: `${(Math.abs(f.weight) / maxWeight) * 100}%` }}
                />
              </span>
              <span className="factor-weight num">{(f.weight >= 0 ? '+' : '−') + Math.abs(f.weight).toFixed(2)}</span>
            </li>
          ))}
        </ul>
      )}

    </section>
  );
}
