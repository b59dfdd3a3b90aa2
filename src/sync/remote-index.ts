import type { AfilnetClient } from '../afilnet/index.ts';
import type { ApiCaller } from '../gateway/api-caller.ts';
import type { Priority } from '../gateway/rate-budget.ts';

export interface RemoteEntry {
  idcontact: string;
  fields: Record<string, string>;
}

/**
 * The remote contacts of one group, by main-field value, read at most once per job run: one
 * `getcontacts` serves every member whose id or presence is unknown.
 */
export class RemoteIndex {
  private byMain: Promise<Map<string, RemoteEntry[]>> | null = null;
  private readonly byId = new Map<string, RemoteEntry>();

  constructor(
    private readonly client: AfilnetClient,
    private readonly caller: ApiCaller,
    private readonly remoteGroupId: string,
    private readonly mainField: string,
    /** Told every unambiguous (main value → id) pair read, so later runs need no read. */
    private readonly learn?: (pairs: { main: string; idcontact: string }[]) => Promise<void>,
  ) {}

  /** Every remote contact holding this main value (more than one means remote duplicates). */
  async find(main: string, priority: Priority): Promise<RemoteEntry[]> {
    return (await this.loaded(priority)).get(main) ?? [];
  }

  /** The remote contact with this id, if the group holds it. */
  async findById(idcontact: string, priority: Priority): Promise<RemoteEntry | undefined> {
    await this.loaded(priority);
    return this.byId.get(idcontact);
  }

  private loaded(priority: Priority): Promise<Map<string, RemoteEntry[]>> {
    if (!this.byMain) {
      const loading = this.load(priority);
      this.byMain = loading;
      // A failed read is not cached: the next call reads again.
      loading.catch(() => {
        if (this.byMain === loading) this.byMain = null;
      });
    }
    return this.byMain;
  }

  /** Forgets what was read, after a change made the read stale. */
  invalidate(): void {
    this.byMain = null;
  }

  private async load(priority: Priority): Promise<Map<string, RemoteEntry[]>> {
    const map = new Map<string, RemoteEntry[]>();
    await this.caller.call('getcontacts', priority, async () => {
      map.clear();
      this.byId.clear();
      for await (const contact of this.client.streamContacts(this.remoteGroupId)) {
        this.byId.set(contact.idcontact, contact);
        const main = contact.fields[this.mainField];
        if (main === undefined) continue;
        const entries = map.get(main);
        if (entries) entries.push(contact);
        else map.set(main, [contact]);
      }
    });
    if (this.learn) {
      const pairs: { main: string; idcontact: string }[] = [];
      for (const [main, entries] of map) {
        if (entries.length === 1)
          pairs.push({ main, idcontact: (entries[0] as RemoteEntry).idcontact });
      }
      await this.learn(pairs);
    }
    return map;
  }
}
