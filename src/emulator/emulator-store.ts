import { ApiError } from './api-error.ts';
import { ContactGroup, type GroupType } from './contact-group.ts';

/** An account that may log in to the emulator. */
export interface EmulatorAccount {
  user: string;
  password: string;
}

/**
 * Everything the emulator remembers between calls: accounts, groups and the id counters. Ids are
 * per-emulator counters shared by all accounts, so an id never names two things at once.
 */
export class EmulatorStore {
  private readonly passwords: ReadonlyMap<string, string>;
  private readonly groups = new Map<number, ContactGroup>();
  private lastGroupId = 0;
  private lastContactId = 0;

  constructor(accounts: readonly EmulatorAccount[]) {
    this.passwords = new Map(accounts.map((account) => [account.user, account.password]));
  }

  /** True when the user exists and the password is its own. */
  authenticate(user: string, password: string): boolean {
    return this.passwords.get(user) === password;
  }

  createGroup(account: string, name: string, type: GroupType, columns: string[]): ContactGroup {
    this.lastGroupId += 1;
    const group = new ContactGroup(this.lastGroupId, account, name, type, columns);
    this.groups.set(group.id, group);
    return group;
  }

  /**
   * The account's group named by a request's `idgroup`. A group that does not exist, belongs to
   * another account or is named by something other than digits all answer NOT_ACCESS_TO_GROUP, so
   * a caller cannot probe other accounts' ids.
   */
  groupOf(account: string, idgroup: string): ContactGroup {
    const id = parseId(idgroup);
    const group = id === undefined ? undefined : this.groups.get(id);
    if (!group || group.account !== account) throw new ApiError('NOT_ACCESS_TO_GROUP');
    return group;
  }

  /**
   * A group by the id written in a /__emulator/ path, whatever its account: ids are unique
   * across accounts, and the panel routes act as the account's owner would.
   */
  groupById(idgroup: string): ContactGroup | undefined {
    const id = parseId(idgroup);
    return id === undefined ? undefined : this.groups.get(id);
  }

  deleteGroup(group: ContactGroup): void {
    this.groups.delete(group.id);
  }

  /** The next contact id; ids are never reused, not even after a reset. */
  nextContactId(): number {
    this.lastContactId += 1;
    return this.lastContactId;
  }

  /** Groups in id order, optionally only one account's. */
  listGroups(account?: string): ContactGroup[] {
    const all = [...this.groups.values()];
    return account === undefined ? all : all.filter((group) => group.account === account);
  }

  /**
   * Forgets every group and contact. The id counters keep counting, so an id a client cached
   * before the reset can never silently name a new group or contact.
   */
  clear(): void {
    this.groups.clear();
  }
}

/** A request's id: digits only, positive and exact as a JSON number; otherwise undefined. */
export function parseId(text: string): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const id = Number(text);
  return id > 0 && Number.isSafeInteger(id) ? id : undefined;
}
