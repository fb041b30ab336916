// The demo seed's accounts for the local OpenID provider. These passwords are
// demo values for a machine-local stack (also listed in README's Demo section)
// and exist nowhere else; a real deployment signs in through IT's provider.
import type { Role } from '../../../shared/api';

export interface DemoAccount {
  username: string;
  name: string;
  roles: Role[];
  password: string;
}

export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  { username: 'alice', name: 'Alice Martin', roles: ['crm'], password: 'alice-demo-4821' },
  { username: 'carol', name: 'Carol Nguyen', roles: ['crm'], password: 'carol-demo-7305' },
  { username: 'bob', name: 'Bob Schneider', roles: ['support_lead'], password: 'bob-demo-1967' },
  { username: 'erin', name: 'Erin Okafor', roles: ['admin'], password: 'erin-demo-5540' },
];

/** The demo CRMs the generated customers are spread over. */
export const DEMO_OWNERS = DEMO_ACCOUNTS.filter((a) => a.roles.includes('crm'));

/** A customer's contact who signs in to the demo portal; their tokens name their organization. */
export interface DemoCustomerAccount extends DemoAccount {
  orgId: string;
}

/** One contact for each of the first demo organizations (the generator numbers them from ORG-000001). */
export const DEMO_CUSTOMER_ACCOUNTS: readonly DemoCustomerAccount[] = [
  { username: 'dana', name: 'Dana Whitfield', roles: ['customer'], orgId: 'ORG-000001', password: 'dana-portal-3318' },
  { username: 'lee', name: 'Lee Okoro', roles: ['customer'], orgId: 'ORG-000002', password: 'lee-portal-6042' },
  { username: 'sam', name: 'Sam Brandt', roles: ['customer'], orgId: 'ORG-000003', password: 'sam-portal-2795' },
];
