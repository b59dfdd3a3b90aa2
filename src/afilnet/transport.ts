import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { classifyFailure } from './classify.ts';
import type { AfilnetMethod } from './methods.ts';

/** How the transport reaches the provider. */
export interface TransportOptions {
  baseUrl: string;
  user: string;
  password: string;
  /** 'post': credentials in the form body; 'basic': an `Authorization: Basic` header. */
  auth: 'post' | 'basic';
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  connections: number;
}

/**
 * An answer that may carry an Afilnet JSON body (any status but 429 and 5xx), to be read. The
 * body is only iterated: stopping early destroys it (Node's Readable iterator does), which frees
 * the connection; iterating to the end consumed it.
 */
export interface AnswerResponse {
  status: number;
  body: AsyncIterable<Uint8Array>;
}

/**
 * POSTs form-encoded `class=group` calls to `${baseUrl}/api/http/` over one keep-alive pool.
 * Credentials travel only in the body or the Authorization header, never in the URL.
 */
export class AfilnetTransport {
  readonly #pool: Pool;
  readonly #path: string;
  readonly #credentials: Record<string, string>;
  readonly #headers: Record<string, string>;

  constructor(options: TransportOptions) {
    const url = new URL(options.baseUrl);
    // A URL with credentials or a query would end up in places URLs get logged.
    if (url.username || url.password || url.search || url.hash) {
      throw new Error('Afilnet baseUrl must not carry credentials, a query or a fragment');
    }
    this.#path = `${url.pathname.replace(/\/+$/, '')}/api/http/`;
    this.#pool = new Pool(url.origin, {
      connections: options.connections,
      connect: { timeout: options.connectTimeoutMs },
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      keepAliveTimeout: 4_000,
    });
    this.#headers = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (options.auth === 'basic') {
      // RFC 7617: the user-id cannot contain a colon; the header would be misread.
      if (options.user.includes(':')) throw new Error('Afilnet user must not contain ":"');
      const token = Buffer.from(`${options.user}:${options.password}`).toString('base64');
      this.#headers.authorization = `Basic ${token}`;
      this.#credentials = {};
    } else {
      this.#credentials = { user: options.user, password: options.password };
    }
  }

  /**
   * Sends one call and returns the answer to read. Throws an already classified `AfilnetError`
   * for a failed connection and for the statuses that carry no answer: 429 (try again) and 5xx
   * (ambiguous: it may have been applied).
   */
  async send(method: AfilnetMethod, params: Record<string, string>): Promise<AnswerResponse> {
    const form = new URLSearchParams({ ...this.#credentials, class: 'group', method, ...params });
    let response: Dispatcher.ResponseData;
    try {
      response = await this.#pool.request({
        path: this.#path,
        method: 'POST',
        headers: this.#headers,
        body: form.toString(),
      });
    } catch (error) {
      throw classifyFailure(method, { type: 'transport', error });
    }
    const { statusCode, headers, body } = response;
    if (statusCode === 429 || statusCode >= 500) {
      // Read nothing from a body that is not an answer, but release the socket for reuse. Other
      // statuses go to the readers: a 4xx may still carry a proper `status: ERROR` answer.
      await body.dump().catch(() => undefined);
      throw classifyFailure(method, {
        type: 'http',
        status: statusCode,
        retryAfter: headers['retry-after'],
      });
    }
    return { status: statusCode, body };
  }

  /** Waits for in-flight calls to finish, then closes every connection. */
  async close(): Promise<void> {
    await this.#pool.close();
  }
}
