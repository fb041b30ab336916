// What the navigation offers to each role. Only a convenience: the API and the
// database check every request again.
import type { Me } from '../../shared/api';

export const isCrm = (u: Me) => u.roles.includes('crm');
export const isSupportLead = (u: Me) => u.roles.includes('support_lead');
export const canReviewAudit = isSupportLead;
export const canCreateCustomers = isCrm;
/** A CRM edits the customers assigned to them; nobody else gets an edit button. */
export const canEditCustomer = (u: Me, c: { ownerSub: string }) => isCrm(u) && c.ownerSub === u.sub;
