// What the navigation offers to each role. Only a convenience: the API and the
// database check every request again.
import type { Me } from '../../shared/api';

export const isCrm = (u: Me) => u.roles.includes('crm');
export const isSupportLead = (u: Me) => u.roles.includes('support_lead');
/** Admins see the staff directory and reassign customers. */
export const isAdmin = (u: Me) => u.roles.includes('admin');
export const canReviewAudit = isSupportLead;
export const canCreateCustomers = isCrm;
/** A CRM edits the customers assigned to them; nobody else gets an edit button. */
export const canEditCustomer = (u: Me, c: { ownerSub: string }) => isCrm(u) && c.ownerSub === u.sub;
/** Archive and un-archive: the owning CRM, or a support lead (approval rules may make either a change request). */
export const canArchiveCustomer = (u: Me, c: { ownerSub: string }) => isSupportLead(u) || (isCrm(u) && c.ownerSub === u.sub);
/** Change requests: a CRM sees their own and those on their customers, a support lead all. */
export const canSeeChangeRequests = (u: Me) => isCrm(u) || isSupportLead(u);
/** The Approvals screen: support leads, who approve or reject what someone else asked for. */
export const canApprove = isSupportLead;
