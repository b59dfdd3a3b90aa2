import { ApiError } from './api-error.ts';
import { StreamedArray, type ApiMethod, type CallContext } from './api-method.ts';
import type { ContactGroup } from './contact-group.ts';
import { entryValue, parseContactList, parseFieldValues } from './contact-input.ts';
import { parseId } from './emulator-store.ts';

function groupOf(ctx: CallContext): ContactGroup {
  return ctx.store.groupOf(ctx.account, ctx.param('idgroup'));
}

/** The contact id named by `idcontact`, if it is one of this group's contacts. */
function contactIdOf(ctx: CallContext, group: ContactGroup): number {
  const id = parseId(ctx.param('idcontact'));
  if (id === undefined || !group.has(id)) throw new ApiError('NOT_ACCESS_TO_CONTACT');
  return id;
}

interface ListOutcome {
  added: { idcontact: number; main: string }[];
  skipped: { index: number; reason: 'CONTACT_EXISTS'; idcontact: number }[];
}

/** The methods that read and change a group's contacts. */
export const CONTACT_METHODS: Readonly<Record<string, ApiMethod>> = {
  getcontacts: {
    params: ['idgroup'],
    run: (ctx) => new StreamedArray(groupOf(ctx).contactsJson()),
  },
  getcontact: {
    params: ['idgroup', 'idcontact'],
    run(ctx) {
      const group = groupOf(ctx);
      return group.view(contactIdOf(ctx, group));
    },
  },
  addcontact: {
    params: ['idgroup', 'contact'],
    run(ctx) {
      const group = groupOf(ctx);
      const values = parseFieldValues(ctx.param('contact'));
      const main = values.get(group.type);
      if (main === undefined || main === '') throw new ApiError('MISSING_MAIN_FIELD');
      if (group.idOfMain(main) !== undefined) throw new ApiError('CONTACT_EXISTS');
      const idcontact = ctx.store.nextContactId();
      group.insert(idcontact, (field) => values.get(field));
      return ctx.strictDocs ? undefined : { idcontact };
    },
  },
  addcontactlist: {
    params: ['idgroup', 'contacts'],
    run(ctx) {
      // The list's shape is a parameter check, so it comes before the group's access check.
      const entries = parseContactList(ctx.param('contacts'));
      const group = groupOf(ctx);
      // All or nothing: one entry without its main value rejects the list before any is added.
      if (entries.some((entry) => !entryValue(entry, group.type))) {
        throw new ApiError('MISSING_MAIN_FIELD');
      }
      const outcome: ListOutcome = { added: [], skipped: [] };
      entries.forEach((entry, index) => {
        const main = entryValue(entry, group.type) ?? '';
        // Seeing earlier entries of this same list here is what skips repeats within the list.
        const existing = group.idOfMain(main);
        if (existing !== undefined) {
          outcome.skipped.push({ index, reason: 'CONTACT_EXISTS', idcontact: existing });
          return;
        }
        const idcontact = ctx.store.nextContactId();
        group.insert(idcontact, (field) => entryValue(entry, field));
        outcome.added.push({ idcontact, main });
      });
      return ctx.strictDocs ? undefined : outcome;
    },
  },
  modifycontact: {
    params: ['idgroup', 'idcontact', 'contact'],
    run(ctx) {
      const group = groupOf(ctx);
      group.update(contactIdOf(ctx, group), parseFieldValues(ctx.param('contact')));
      return undefined;
    },
  },
  deletecontact: {
    params: ['idgroup', 'idcontact'],
    run(ctx) {
      const group = groupOf(ctx);
      group.delete(contactIdOf(ctx, group));
      return undefined;
    },
  },
};
