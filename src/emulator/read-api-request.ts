import type { IncomingMessage } from 'node:http';
import { readFormBody } from './read-form-body.ts';

/** How the call's credentials travelled, as the request log reports it. */
export type AuthWay = 'post' | 'basic' | 'get';

/** One call to /api/http/, read off the wire. */
export interface ApiRequest {
  /** Query and body merged (body wins), Basic credentials filling an absent user or password. */
  params: Map<string, string>;
  auth: AuthWay;
  /** The query string named a `password` parameter, whatever else the request carried. */
  passwordInUrl: boolean;
  /** Set when the request cannot be an API call at all (wrong HTTP method, unreadable body). */
  refusal?: { status: number; message: string };
}

/**
 * Reads an API call in any of the transports the page offers: GET query, a urlencoded or
 * multipart POST body, and `Authorization: Basic` on either. A repeated parameter keeps its last
 * value, as PHP (the provider's stack) does.
 */
export async function readApiRequest(req: IncomingMessage, url: URL): Promise<ApiRequest> {
  const query = new Map(url.searchParams);
  let body = new Map<string, string>();
  let refusal: ApiRequest['refusal'];
  if (req.method === 'POST') {
    const read = await readFormBody(req);
    if ('refusal' in read) refusal = read.refusal;
    else body = read.fields;
  } else if (req.method !== 'GET') {
    refusal = { status: 405, message: 'Only GET and POST are accepted' };
  }
  const params = new Map([...query, ...body]);
  const basic = basicCredentials(req.headers.authorization);
  if (basic) {
    if (!isGiven(params.get('user'))) params.set('user', basic.user);
    if (!isGiven(params.get('password'))) params.set('password', basic.password);
  }
  const auth = authWay(req, query, body, basic !== undefined);
  const request: ApiRequest = { params, auth, passwordInUrl: url.searchParams.has('password') };
  if (refusal) request.refusal = refusal;
  return request;
}

/** Where the password that counts came from: body, then query (as merged), then the header. */
function authWay(
  req: IncomingMessage,
  query: ReadonlyMap<string, string>,
  body: ReadonlyMap<string, string>,
  hasBasic: boolean,
): AuthWay {
  if (isGiven(body.get('password'))) return 'post';
  if (isGiven(query.get('password'))) return 'get';
  if (hasBasic) return 'basic';
  return req.method === 'POST' ? 'post' : 'get';
}

function isGiven(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '';
}

/** The user and password of an `Authorization: Basic` header; undefined if none or malformed. */
function basicCredentials(
  header: string | undefined,
): { user: string; password: string } | undefined {
  const match = /^basic\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
