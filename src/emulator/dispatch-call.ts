import { ApiError, type ApiErrorCode } from './api-error.ts';
import { StreamedArray, type ApiMethod } from './api-method.ts';
import { CONTACT_METHODS } from './contact-methods.ts';
import type { EmulatorStore } from './emulator-store.ts';
import { GROUP_METHODS } from './group-methods.ts';

/** An API answer ready to write: either whole, or as pieces to stream with backpressure. */
export type ApiAnswer =
  | { kind: 'whole'; outcome: 'SUCCESS' | `ERROR:${ApiErrorCode}`; body: string }
  | { kind: 'streamed'; outcome: 'SUCCESS'; pieces: Iterable<string> };

const METHODS: ReadonlyMap<string, ApiMethod> = new Map(
  Object.entries({ ...GROUP_METHODS, ...CONTACT_METHODS }),
);

/** A parameter counts as given when it holds more than whitespace. */
function given(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

/**
 * Runs one call of class=group. The common checks fire in the order the README documents: what is
 * missing first (user, password, class, method), then whether the credentials, class and method
 * are right, then the method's compulsory parameters; each method then checks its own values.
 */
export function dispatchCall(
  store: EmulatorStore,
  params: ReadonlyMap<string, string>,
  strictDocs: boolean,
): ApiAnswer {
  let result: unknown;
  try {
    result = runCall(store, params, strictDocs);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const body = JSON.stringify({ status: 'ERROR', error: err.code });
    return { kind: 'whole', outcome: `ERROR:${err.code}`, body };
  }
  if (result instanceof StreamedArray) {
    return { kind: 'streamed', outcome: 'SUCCESS', pieces: successArray(result.items) };
  }
  // JSON.stringify drops an undefined result, which is how "no result key" is written.
  return { kind: 'whole', outcome: 'SUCCESS', body: JSON.stringify({ status: 'SUCCESS', result }) };
}

function runCall(
  store: EmulatorStore,
  params: ReadonlyMap<string, string>,
  strictDocs: boolean,
): unknown {
  const user = params.get('user');
  const password = params.get('password');
  const className = params.get('class');
  const methodName = params.get('method');
  if (!given(user)) throw new ApiError('MISSING_USER');
  if (!given(password)) throw new ApiError('MISSING_PASSWORD');
  if (!given(className)) throw new ApiError('MISSING_CLASS');
  if (!given(methodName)) throw new ApiError('MISSING_METHOD');
  if (!store.authenticate(user, password)) throw new ApiError('INCORRECT_USER_PASSWORD');
  if (className !== 'group') throw new ApiError('INCORRECT_CLASS');
  const method = METHODS.get(methodName);
  if (!method) throw new ApiError('INCORRECT_METHOD');
  if (!method.params.every((name) => given(params.get(name)))) {
    throw new ApiError('MISSING_COMPULSORY_PARAM');
  }
  return method.run({
    store,
    account: user,
    strictDocs,
    param: (name) => params.get(name) ?? '',
  });
}

function* successArray(items: Iterable<string>): Generator<string, void, undefined> {
  yield '{"status":"SUCCESS","result":[';
  let first = true;
  for (const item of items) {
    yield first ? item : `,${item}`;
    first = false;
  }
  yield ']}';
}
