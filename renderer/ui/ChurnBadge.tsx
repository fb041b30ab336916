import { HIGH_CHURN_RISK } from '../../shared/api';
import { formatPercent } from './format';

export function churnLevel(score: number | null): { label: string; color: string } {
  if (score === null) return { label: 'No score', color: 'gray' };
  if (score >= HIGH_CHURN_RISK) return { label: 'High', color: 'red' };
  if (score >= 0.4) return { label: 'Medium', color: 'orange' };
  return { label: 'Low', color: 'teal' };
}

/**
 * Churn risk as a badge: level in words plus the score, so it never depends on colour alone.
 * A plain element styled as Mantine's light badge (styles.css): a table shows dozens
 * per scroll frame, and the component's theme and style hooks cost more than the text.
 */
export function ChurnBadge({ score }: { score: number | null }) {
  const { label, color } = churnLevel(score);
  return <span className={`churn-badge churn-${color}`}>{score === null ? label : `${label} ${formatPercent(score)}`}</span>;
}
