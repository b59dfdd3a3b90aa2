import type { AfilnetConfig } from '../config/config.ts';
import { readAnswer } from './answer-reader.ts';
import { callInfo } from './call-info.ts';
import { asAfilnetError, classifyFailure } from './classify.ts';
import { assertFieldName, encodeContact } from './encode-contact.ts';
import type { AfilnetError } from './errors.ts';
import type { AfilnetMethod } from './methods.ts';
import type {
  AfilnetClientOptions,
  AfilnetHooks,
  CreateGroupInput,
  StreamContactsOptions,
} from './client-options.ts';
import { streamResultArray } from './result-array-stream.ts';
import {
  readColumns,
  readContact,
  readContactEntry,
  readContactListResult,
  readCreatedId,
  type ContactListResult,
  type RemoteContact,
} from './result-shapes.ts';
import { AfilnetTransport } from './transport.ts';

// Methods whose answer carries nothing we need: any SUCCESS will do.
const ignore = (): true => true;

/**
 * The typed Afilnet `class=group` client. Every method either returns normalised data (ids as
 * strings) or throws one `AfilnetError` (`api`, `retryable`, `ambiguous`, `protocol`); the retry
 * policy belongs to the caller. Contacts are read by streaming, so groups of any size fit.
 */
export class AfilnetClient {
  readonly #transport: AfilnetTransport;
  readonly #hooks: AfilnetHooks;

  constructor(options: AfilnetClientOptions) {
    this.#transport = new AfilnetTransport({
      baseUrl: options.baseUrl,
      user: options.user,
      password: options.password,
      auth: options.auth,
      // undici's defaults (300 s) would let one stuck call hold a worker for minutes.
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      headersTimeoutMs: options.headersTimeoutMs ?? 30_000,
      bodyTimeoutMs: options.bodyTimeoutMs ?? 120_000,
      connections: options.connections ?? 8,
    });
    this.#hooks = options.hooks ?? {};
  }

  /** A client configured from the validated environment. */
  static fromConfig(cfg: AfilnetConfig, hooks?: AfilnetHooks): AfilnetClient {
    return new AfilnetClient({
      baseUrl: cfg.AFILNET_BASE_URL,
      user: cfg.AFILNET_USER,
      password: cfg.AFILNET_PASSWORD,
      auth: cfg.AFILNET_AUTH,
      connectTimeoutMs: cfg.AFILNET_CONNECT_TIMEOUT_MS,
      headersTimeoutMs: cfg.AFILNET_HEADERS_TIMEOUT_MS,
      bodyTimeoutMs: cfg.AFILNET_BODY_TIMEOUT_MS,
      connections: cfg.AFILNET_CONNECTIONS,
      ...(hooks ? { hooks } : {}),
    });
  }

  /** Creates a group; `idgroup` is null when the provider did not say which id it got. */
  async creategroup(input: CreateGroupInput): Promise<{ idgroup: string | null }> {
    input.fields.forEach(assertFieldName);
    const params = { name: input.name, type: input.type, fields: input.fields.join(',') };
    return this.#call('creategroup', params, (result) => ({
      idgroup: readCreatedId(result, 'idgroup'),
    }));
  }

  /** The group's column names. */
  async getgroupcolumns(idgroup: string): Promise<string[]> {
    return this.#call('getgroupcolumns', { idgroup }, readColumns);
  }

  /** Adds a column to the group. */
  async addcolumntogroup(idgroup: string, field: string): Promise<void> {
    assertFieldName(field);
    await this.#call('addcolumntogroup', { idgroup, field }, ignore);
  }

  /** Removes a column (and its values) from the group. */
  async deletecolumnfromgroup(idgroup: string, field: string): Promise<void> {
    await this.#call('deletecolumnfromgroup', { idgroup, field }, ignore);
  }

  /** Deletes the group and its contacts. */
  async deletegroup(idgroup: string): Promise<void> {
    await this.#call('deletegroup', { idgroup }, ignore);
  }

  /** Sets the group's country by ISO 3166 alpha-3 code (e.g. `esp`). */
  async assigncountrytogroup(idgroup: string, countryiso3: string): Promise<void> {
    await this.#call('assigncountrytogroup', { idgroup, countryiso3 }, ignore);
  }

  /** Every readable contact of the group, in memory. For large groups prefer `streamContacts`. */
  async getcontacts(idgroup: string, options?: StreamContactsOptions): Promise<RemoteContact[]> {
    const contacts: RemoteContact[] = [];
    for await (const contact of this.streamContacts(idgroup, options)) contacts.push(contact);
    return contacts;
  }

  /**
   * The group's contacts, parsed as the answer arrives and never held whole. The list is
   * complete only if iteration ends without throwing; stopping early releases the connection.
   *
   * A contact that cannot be read (a field holding an object or array, no id, …) is left out and
   * handed to `options.onUnreadable` instead: one odd contact edited in the provider's panel must
   * not stall a whole group (F10). A consumer that must not act on an incomplete list (deleting
   * "missing" contacts, say) has to watch that callback. If it throws, the stream ends with its
   * error, unchanged.
   */
  async *streamContacts(
    idgroup: string,
    options: StreamContactsOptions = {},
  ): AsyncGenerator<RemoteContact, void, undefined> {
    const method = 'getcontacts';
    await this.#hooks.beforeCall?.(method);
    const started = performance.now();
    let failure: AfilnetError | undefined;
    let unreadable = 0;
    let callbackError: { error: unknown } | undefined;
    try {
      const response = await this.#transport.send(method, { idgroup });
      let index = 0;
      for await (const raw of streamResultArray(method, response)) {
        const reading = readContactEntry(raw);
        if ('contact' in reading) {
          yield reading.contact;
        } else {
          unreadable += 1;
          try {
            options.onUnreadable?.({ index, ...reading.unreadable });
          } catch (error) {
            callbackError = { error };
            throw error;
          }
        }
        index += 1;
      }
    } catch (error) {
      // The consumer's own error is not a failure of the call: pass it through as it is.
      if (callbackError) throw callbackError.error;
      failure = asAfilnetError(method, error);
      throw failure;
    } finally {
      // Also reached when the consumer stops early: the call itself did not fail then.
      this.#report(method, started, failure, unreadable);
    }
  }

  /**
   * One contact of the group. A contact `streamContacts` would report as unreadable (a field
   * holding an object or array) fails this call with a protocol error.
   */
  async getcontact(idgroup: string, idcontact: string): Promise<RemoteContact> {
    return this.#call('getcontact', { idgroup, idcontact }, readContact);
  }

  /** Adds one contact; `idcontact` is null when the provider did not return it. */
  async addcontact(
    idgroup: string,
    fields: Readonly<Record<string, string>>,
  ): Promise<{ idcontact: string | null }> {
    const contact = encodeContact(fields);
    return this.#call('addcontact', { idgroup, contact }, (result) => ({
      idcontact: readCreatedId(result, 'idcontact'),
    }));
  }

  /**
   * Adds many contacts in one call (sent as JSON, so any character is allowed). Contacts already
   * in the group come back in `skipped`; `added` is null when the answer carried no ids.
   */
  async addcontactlist(
    idgroup: string,
    contacts: readonly Readonly<Record<string, string>>[],
  ): Promise<ContactListResult> {
    const params = { idgroup, contacts: JSON.stringify(contacts) };
    return this.#call('addcontactlist', params, readContactListResult);
  }

  /** Replaces the given fields of a contact. */
  async modifycontact(
    idgroup: string,
    idcontact: string,
    fields: Readonly<Record<string, string>>,
  ): Promise<void> {
    const contact = encodeContact(fields);
    await this.#call('modifycontact', { idgroup, idcontact, contact }, ignore);
  }

  /** Deletes a contact from the group. */
  async deletecontact(idgroup: string, idcontact: string): Promise<void> {
    await this.#call('deletecontact', { idgroup, idcontact }, ignore);
  }

  /** Waits for in-flight calls, then closes the connections. */
  async close(): Promise<void> {
    await this.#transport.close();
  }

  /**
   * One request/answer call. `read` turns the result into the method's value, or `undefined` for
   * a shape we do not know; it runs before `afterCall` so the reported outcome is the real one.
   */
  async #call<T>(
    method: AfilnetMethod,
    params: Record<string, string>,
    read: (result: unknown) => T | undefined,
  ): Promise<T> {
    await this.#hooks.beforeCall?.(method);
    const started = performance.now();
    try {
      const response = await this.#transport.send(method, params);
      const value = read(await readAnswer(method, response));
      if (value === undefined) throw this.#protocol(method, response.status, 'unexpected result');
      this.#report(method, started, undefined);
      return value;
    } catch (error) {
      const failure = asAfilnetError(method, error);
      this.#report(method, started, failure);
      throw failure;
    }
  }

  #protocol(method: AfilnetMethod, status: number, reason: string): AfilnetError {
    return classifyFailure(method, { type: 'protocol', status, reason });
  }

  #report(
    method: AfilnetMethod,
    started: number,
    failure: AfilnetError | undefined,
    unreadable = 0,
  ): void {
    try {
      this.#hooks.afterCall?.(callInfo(method, performance.now() - started, failure, unreadable));
    } catch {
      // A metrics or logging bug must not turn an applied change into a thrown error that the
      // caller would retry (and so duplicate).
    }
  }
}
