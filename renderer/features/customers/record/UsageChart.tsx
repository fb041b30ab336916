// Loaded lazily: recharts is the largest dependency and only this view needs it.
import { Area, AreaChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { UsageDay } from '../../../../shared/api';

const shortDate = (d: string) => d.slice(5);

export default function UsageChart({ days }: { days: UsageDay[] }) {
  return (
    <div className="usage-chart" role="img" aria-label={`Daily active users and sessions over ${days.length} days`}>
      <ResponsiveContainer width="100%" height="100%">
        <AreaChart data={days} margin={{ top: 8, right: 12, bottom: 0, left: -8 }}>
          <CartesianGrid strokeDasharray="3 3" className="chart-grid" vertical={false} />
          <XAxis dataKey="day" tickFormatter={shortDate} minTickGap={28} tickLine={false} fontSize={11} />
          <YAxis tickLine={false} fontSize={11} width={48} />
          <Tooltip wrapperClassName="chart-tooltip" />
          <Legend iconSize={10} wrapperStyle={{ fontSize: 12 }} />
          <Area type="monotone" dataKey="activeUsers" name="Active users" stroke="#228be6" fill="#228be6" fillOpacity={0.18} isAnimationActive={false} />
          <Area type="monotone" dataKey="sessions" name="Sessions" stroke="#fd7e14" fill="#fd7e14" fillOpacity={0.08} isAnimationActive={false} />
        </AreaChart>
      </ResponsiveContainer>
    </div>
  );
}
