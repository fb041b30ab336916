import { Badge } from '@mantine/core';
import { HIGH_CHURN_RISK } from '../../shared/api';
import { formatPercent } from './format';

export function churnLevel(score: number | null): { label: string; color: string } {
  if (score === null) return { label: 'No score', color: 'gray' };
  if (score >= HIGH_CHURN_RISK) return { label: 'High', color: 'red' };
  if (score >= 0.4) return { label: 'Medium', color: 'orange' };
  return { label: 'Low', color: 'teal' };
}

/** Churn risk as a badge: level in words plus the score, so it never depends on colour alone. */
export function ChurnBadge({ score }: { score: number | null }) {
  const { label, color } = churnLevel(score);
  return (
    <Badge color={color} variant="light" size="sm" radius="sm" className="churn-badge">
      {score === null ? label : `${label} ${formatPercent(score)}`}
    </Badge>
  );
}
