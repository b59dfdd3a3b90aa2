/**
 * The twelve `class=group` methods of the Afilnet Contacts API, as the provider spells them.
 * Kept as data so hooks, metrics and tests can enumerate them.
 */
export const AFILNET_METHODS = [
  'creategroup',
  'getgroupcolumns',
  'addcolumntogroup',
  'deletecolumnfromgroup',
  'deletegroup',
  'assigncountrytogroup',
  'getcontacts',
  'getcontact',
  'addcontact',
  'addcontactlist',
  'modifycontact',
  'deletecontact',
] as const;

/** One `class=group` method name. */
export type AfilnetMethod = (typeof AFILNET_METHODS)[number];
