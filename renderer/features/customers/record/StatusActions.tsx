// Archive and un-archive, where the role allows (the owning CRM, a support lead):
// each asks for a reason, and says whether it was applied or sent for approval.
import { Button } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { Customer } from '../../../../shared/api';
import { toast } from '../../../ui/toast';
import { useArchiveCustomer, useUnarchiveCustomer } from '../api/mutations';
import { customerQueries } from '../api/queries';
import { ReasonDialog } from './ReasonDialog';

export function StatusActions({ customer: c }: { customer: Customer }) {
  const [open, setOpen] = useState(false);
  const archive = useArchiveCustomer();
  const unarchive = useUnarchiveCustomer();
  const rules = useQuery(customerQueries.approvalRules());
  const action = c.status === 'active' ? 'archive' : 'unarchive';
  const needsApproval = rules.data?.actions.includes(action) ?? true;
  const label = action === 'archive' ? 'Archive…' : 'Bring back…';
  return (
    <>
      <Button size="xs" variant="default" onClick={() => setOpen(true)}>
        {label}
      </Button>
      <ReasonDialog
        opened={open}
        title={action === 'archive' ? `Archive ${c.orgName}` : `Bring ${c.orgName} back`}
        confirmLabel={needsApproval ? 'Send for approval' : action === 'archive' ? 'Archive' : 'Bring back'}
        note={
          action === 'archive'
            ? 'An archived customer leaves the default search and can no longer be edited.'
            : 'The customer returns to search and can be edited again.'
        }
        description={
          needsApproval
            ? 'A support lead other than you approves this; until then nothing changes. Recorded in the audit trail with your name.'
            : 'Recorded in the audit trail with your name.'
        }
        onClose={() => setOpen(false)}
        onConfirm={async (reason) => {
          const input = { orgId: c.orgId, version: c.version, reason };
          const out = await (action === 'archive' ? archive.mutateAsync(input) : unarchive.mutateAsync(input));
          if ('changeRequest' in out) toast('success', 'Sent for approval', `${c.orgName}: a support lead decides, the record stays as it is until then.`);
          else toast('success', action === 'archive' ? 'Archived' : 'Brought back', `${c.orgName} was ${action === 'archive' ? 'archived' : 'brought back'}.`);
        }}
      />
    </>
  );
}
