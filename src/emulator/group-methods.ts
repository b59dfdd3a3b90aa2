import { ApiError } from './api-error.ts';
import type { ApiMethod, CallContext } from './api-method.ts';
import type { ContactGroup } from './contact-group.ts';
import { isCountryCode } from './country-codes.ts';

function groupOf(ctx: CallContext): ContactGroup {
  return ctx.store.groupOf(ctx.account, ctx.param('idgroup'));
}

/** The methods that manage groups and their columns. */
export const GROUP_METHODS: Readonly<Record<string, ApiMethod>> = {
  creategroup: {
    params: ['name', 'type', 'fields'],
    run(ctx) {
      const type = ctx.param('type');
      if (type !== 'mobile' && type !== 'email') throw new ApiError('INCORRECT_TYPE');
      const names = ctx
        .param('fields')
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== '');
      const columns = [...new Set(names)];
      if (!columns.includes(type)) throw new ApiError('MISSING_MAIN_FIELD');
      const group = ctx.store.createGroup(ctx.account, ctx.param('name'), type, columns);
      return ctx.strictDocs ? undefined : { idgroup: group.id };
    },
  },
  getgroupcolumns: {
    params: ['idgroup'],
    run: (ctx) => [...groupOf(ctx).columns],
  },
  addcolumntogroup: {
    params: ['idgroup', 'field'],
    run(ctx) {
      groupOf(ctx).addColumn(ctx.param('field').trim());
      return undefined;
    },
  },
  deletecolumnfromgroup: {
    params: ['idgroup', 'field'],
    run(ctx) {
      groupOf(ctx).removeColumn(ctx.param('field').trim());
      return undefined;
    },
  },
  deletegroup: {
    params: ['idgroup'],
    run(ctx) {
      ctx.store.deleteGroup(groupOf(ctx));
      return undefined;
    },
  },
  assigncountrytogroup: {
    params: ['idgroup', 'countryiso3'],
    run(ctx) {
      const group = groupOf(ctx);
      const code = ctx.param('countryiso3');
      if (!isCountryCode(code)) throw new ApiError('COUNTRY_NOT_FOUND');
      group.country = code.toLowerCase();
      return undefined;
    },
  },
};
