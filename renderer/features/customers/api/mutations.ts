// Writes to a customer record. Create and update answer alike (the record as it
// now is), so they share one shape: the answer becomes the cached detail, and
// every list and detail that could show the record refetches by prefix, the
// audit subtree too, since every write leaves an event.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { CustomerCreate, CustomerDetail } from '../../../../shared/api';
import type { CustomerUpdate } from '../../../../shared/ipc';
import { call } from '../../../bridge/client';
import { queryRoots } from '../../../bridge/queryKeys';
import { customerQueries } from './queries';

function useCustomerWrite<Input>(write: (input: Input) => Promise<CustomerDetail>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: write,
    onSuccess: (detail) => {
      qc.setQueryData(customerQueries.detail(detail.customer.orgId).queryKey, detail);
      void qc.invalidateQueries({ queryKey: customerQueries.all });
      void qc.invalidateQueries({ queryKey: queryRoots.audit });
    },
  });
}

export const useUpdateCustomer = () => useCustomerWrite((input: CustomerUpdate) => call('customers:update', input));
export const useCreateCustomer = () => useCustomerWrite((input: CustomerCreate) => call('customers:create', input));
