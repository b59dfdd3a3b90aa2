import { ApiError } from './api-error.ts';
import { packRow, unpackRow, type PackedRow } from './row-codec.ts';

/** A group's kind; it names the group's main field too. */
export type GroupType = 'mobile' | 'email';

/** A contact as the API shows it. */
export interface ContactView {
  idcontact: number;
  fields: Record<string, string>;
}

/** Reads one field of a contact being added; undefined when the input does not name it. */
export type FieldReader = (field: string) => string | undefined;

/**
 * One Afilnet group and its contacts, stored compactly so a million contacts fit in a few hundred
 * MiB: a row is a packed string of values by column index (no object per contact or per field),
 * and a second map finds a contact by its main value. Contact ids come from the caller and always
 * grow, so the rows map's insertion order is id order.
 */
export class ContactGroup {
  country: string | null = null;
  private readonly rows = new Map<number, PackedRow>();
  private readonly idsByMain = new Map<string, number>();
  private lastId = 0;

  constructor(
    readonly id: number,
    readonly account: string,
    readonly name: string,
    readonly type: GroupType,
    private readonly columnNames: string[],
  ) {}

  /** Column names in order; the main field is always among them. */
  get columns(): readonly string[] {
    return this.columnNames;
  }

  /** Appends a column; an existing one is left as it is. */
  addColumn(name: string): void {
    if (!this.columnNames.includes(name)) this.columnNames.push(name);
  }

  /** Drops a column and every value in it; an unknown column is a no-op. */
  removeColumn(name: string): void {
    if (name === this.type) throw new ApiError('MISSING_MAIN_FIELD');
    const index = this.columnNames.indexOf(name);
    if (index < 0) return;
    this.columnNames.splice(index, 1);
    for (const [id, row] of this.rows) {
      const cells = unpackRow(row);
      if (cells.length <= index) continue;
      cells.splice(index, 1);
      this.rows.set(id, packRow(cells));
    }
  }

  has(idcontact: number): boolean {
    return this.rows.has(idcontact);
  }

  /** The id of the contact whose main field holds `value`, if any. */
  idOfMain(value: string): number | undefined {
    return this.idsByMain.get(value);
  }

  /**
   * Stores a new contact. Only the group's columns are read (other names are ignored, as
   * documented); the caller has checked that the main value is present and free.
   */
  insert(idcontact: number, read: FieldReader): void {
    const cells = this.columnNames.map((column) => read(column) ?? '');
    this.rows.set(idcontact, packRow(cells));
    this.lastId = idcontact;
    this.idsByMain.set(read(this.type) ?? '', idcontact);
  }

  /** Sets only the given fields of a contact, keeping the main-value index in step. */
  update(idcontact: number, values: ReadonlyMap<string, string>): void {
    const row = this.rows.get(idcontact);
    if (row === undefined) throw new ApiError('NOT_ACCESS_TO_CONTACT');
    const main = values.get(this.type);
    if (main !== undefined) {
      if (main === '') throw new ApiError('MISSING_MAIN_FIELD');
      const holder = this.idsByMain.get(main);
      if (holder !== undefined && holder !== idcontact) throw new ApiError('CONTACT_EXISTS');
    }
    const cells = unpackRow(row);
    const oldMain = cells[this.mainIndex()] ?? '';
    for (const [field, value] of values) {
      const index = this.columnNames.indexOf(field);
      if (index < 0) continue;
      // A row added before a column existed is shorter; pad it so the index lines up.
      while (cells.length < index) cells.push('');
      cells[index] = value;
    }
    this.rows.set(idcontact, packRow(cells));
    if (main !== undefined && main !== oldMain) {
      this.idsByMain.delete(oldMain);
      this.idsByMain.set(main, idcontact);
    }
  }

  /** Removes a contact; false when the group has no such contact. */
  delete(idcontact: number): boolean {
    const row = this.rows.get(idcontact);
    if (row === undefined) return false;
    const main = unpackRow(row)[this.mainIndex()] ?? '';
    // Drift planted by tests may hold a main value twice: unindex only this contact's own entry.
    if (this.idsByMain.get(main) === idcontact) this.idsByMain.delete(main);
    this.rows.delete(idcontact);
    return true;
  }

  /** One contact with every column (empty string where nothing was set). */
  view(idcontact: number): ContactView | undefined {
    const row = this.rows.get(idcontact);
    if (row === undefined) return undefined;
    const cells = unpackRow(row);
    // fromEntries defines own properties, so even a column named "__proto__" is shown.
    const fields = Object.fromEntries(
      this.columnNames.map((column, i) => [column, cells[i] ?? '']),
    );
    return { idcontact, fields };
  }

  /**
   * Each contact as compact JSON, in id order, produced lazily so a caller can stream a million
   * of them. Contacts added after the iteration starts are left out, so a stream always ends even
   * while writers keep adding; deletions and changes made meanwhile are seen.
   */
  *contactsJson(): Generator<string, void, undefined> {
    const lastId = this.lastId;
    for (const [id, row] of this.rows) {
      if (id > lastId) return;
      const cells = unpackRow(row);
      let json = `{"idcontact":${id},"fields":{`;
      for (let i = 0; i < this.columnNames.length; i++) {
        if (i > 0) json += ',';
        json += `${JSON.stringify(this.columnNames[i])}:${JSON.stringify(cells[i] ?? '')}`;
      }
      yield `${json}}}`;
    }
  }

  private mainIndex(): number {
    return this.columnNames.indexOf(this.type);
  }
}
