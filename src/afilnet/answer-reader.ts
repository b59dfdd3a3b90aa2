import { asAfilnetError, classifyFailure } from './classify.ts';
import type { AfilnetMethod } from './methods.ts';
import type { AnswerResponse } from './transport.ts';

// Non-streamed answers are a group's columns, one contact or a create's ids: small. A cap keeps
// a misbehaving endpoint (an HTML error page loop, a proxy) from filling the heap.
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** The parts of an answer that decide whether the call succeeded. */
export interface AnswerEnvelope {
  status: unknown;
  error: unknown;
}

/**
 * Throws the right `AfilnetError` unless the answer says `status: SUCCESS` (in any case) on a 2xx.
 * Shared by the whole-answer reader and the streaming one so both judge answers alike.
 */
export function settleAnswer(
  method: AfilnetMethod,
  httpStatus: number,
  envelope: AnswerEnvelope,
): void {
  const fail = (reason: string) =>
    classifyFailure(method, { type: 'protocol', status: httpStatus, reason });
  if (typeof envelope.status !== 'string') throw fail('answer has no status');
  const status = envelope.status.trim().toLowerCase();
  if (status === 'error') {
    const code = envelope.error;
    if (typeof code !== 'string' || code.trim() === '') throw fail('ERROR answer without a code');
    throw classifyFailure(method, { type: 'api', status: httpStatus, code });
  }
  if (status !== 'success') throw fail('unknown status');
  if (httpStatus < 200 || httpStatus >= 300) throw fail('SUCCESS answer on a non-2xx status');
}

/**
 * Reads a whole (small) answer, checks its envelope and returns its `result` (undefined when
 * absent). Throws `AfilnetApiError`, `AfilnetProtocolError`, or a transport-classified error if
 * the body could not be read.
 */
export async function readAnswer(
  method: AfilnetMethod,
  response: AnswerResponse,
): Promise<unknown> {
  const protocol = (reason: string) =>
    classifyFailure(method, { type: 'protocol', status: response.status, reason });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) throw protocol('answer too large');
      chunks.push(chunk);
    }
  } catch (error) {
    throw asAfilnetError(method, error);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw protocol('answer is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw protocol('answer is not a JSON object');
  }
  const answer = json as Record<string, unknown>;
  settleAnswer(method, response.status, { status: answer.status, error: answer.error });
  return answer.result;
}
