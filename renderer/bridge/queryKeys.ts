// The roots of the query cache, one per resource. Each feature builds its keys
// under its root; a write in one area can invalidate another's subtree (every
// customer write leaves an audit event) without importing that feature.
export const queryRoots = {
  session: ['session'],
  customers: ['customers'],
  audit: ['audit'],
  /** Change requests and approval rules (four eyes). */
  approvals: ['approvals'],
  /** The staff directory (admins). */
  staff: ['staff'],
} as const;
