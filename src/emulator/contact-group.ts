import { ApiError } from './api-error.ts';
import { cellText, packRow, unpackRow, type CellValue, type PackedRow } from './row-codec.ts';

/** A group's kind; it names the group's main field too. */
export type GroupType = 'mobile' | 'email';

/** A contact as the API shows it. */
export interface ContactView {
  idcontact: number;
  fields: Record<string, CellValue>;
}

/** Reads one field of a contact being added; undefined when the input does not name it. */
export type FieldReader = (field: string) => CellValue | undefined;

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
    // Only undefined (not named) becomes "": a planted null is kept as null.
    const cells = this.columnNames.map((column) => {
      const value = read(column);
      return value === undefined ? '' : value;
    });
    this.rows.set(idcontact, packRow(cells));
    this.lastId = idcontact;
    this.idsByMain.set(cellText(read(this.type)), idcontact);
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
    this.write(idcontact, row, values);
  }

  /**
   * Sets the given fields of a contact the way Afilnet's web panel might: any JSON value, no
   * check of the main value (so tests can make drift the API refuses). False: no such contact.
   */
  edit(idcontact: number, values: ReadonlyMap<string, CellValue>): boolean {
    const row = this.rows.get(idcontact);
    if (row === undefined) return false;
    this.write(idcontact, row, values);
    return true;
  }

  /** Appends a column (a no-op if it exists) and sets its value in the contacts given. */
  addColumnWithValues(name: string, values: ReadonlyMap<number, CellValue>): void {
    this.addColumn(name);
    const one = new Map<string, CellValue>();
    for (const [idcontact, value] of values) {
      const row = this.rows.get(idcontact);
      if (row === undefined) continue;
      one.set(name, value);
      this.write(idcontact, row, one);
    }
  }

  /** Removes a contact; false when the group has no such contact. */
  delete(idcontact: number): boolean {
    const row = this.rows.get(idcontact);
    if (row === undefined) return false;
    const main = cellText(unpackRow(row)[this.mainIndex()]);
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
      this.columnNames.map((column, i) => [column, shown(cells[i])]),
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
        json += `${JSON.stringify(this.columnNames[i])}:${JSON.stringify(shown(cells[i]))}`;
      }
      yield `${json}}}`;
    }
  }

  /** Stores new values into a row, keeping the main-value index in step. */
  private write(idcontact: number, row: PackedRow, values: ReadonlyMap<string, CellValue>): void {
    const cells = unpackRow(row);
    const mainIndex = this.mainIndex();
    const oldMain = cellText(cells[mainIndex]);
    for (const [field, value] of values) {
      const index = this.columnNames.indexOf(field);
      if (index < 0) continue;
      // A row added before a column existed is shorter; pad it so the index lines up.
      while (cells.length < index) cells.push('');
      cells[index] = value;
    }
    this.rows.set(idcontact, packRow(cells));
    const main = cellText(cells[mainIndex]);
    if (main !== oldMain) {
      if (this.idsByMain.get(oldMain) === idcontact) this.idsByMain.delete(oldMain);
      this.idsByMain.set(main, idcontact);
    }
  }

  private mainIndex(): number {
    return this.columnNames.indexOf(this.type);
  }
}

/** A cell as answered: "" for a row shorter than its columns, any stored value as it is. */
function shown(cell: CellValue | undefined): CellValue {
  return cell === undefined ? '' : cell;
}
