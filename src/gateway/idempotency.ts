import type { AfilnetMethod } from '../afilnet/index.ts';

/**
 * Whether sending a method twice leaves the provider as sending it once. Decides what an
 * ambiguous failure ("may have been applied": a 5xx, a connection lost after sending) means:
 * an idempotent call is simply sent again; a creating one goes back to the caller, who must find
 * out what happened first (a second `creategroup` makes a second group, a second
 * `addcontactlist` answers with duplicates, a second `deletegroup` fails on a missing group).
 * A Record, so a method added to AFILNET_METHODS does not compile until it is classified here.
 */
const IDEMPOTENCY: Record<AfilnetMethod, 'idempotent' | 'creating'> = {
  getgroupcolumns: 'idempotent',
  getcontacts: 'idempotent',
  getcontact: 'idempotent',
  modifycontact: 'idempotent',
  deletecontact: 'idempotent',
  assigncountrytogroup: 'idempotent',
  creategroup: 'creating',
  addcontact: 'creating',
  addcontactlist: 'creating',
  addcolumntogroup: 'creating',
  deletecolumnfromgroup: 'creating',
  deletegroup: 'creating',
};

/** True when a repeat of `method` cannot change the outcome of a first one that was applied. */
export function isIdempotent(method: AfilnetMethod): boolean {
  return IDEMPOTENCY[method] === 'idempotent';
}
