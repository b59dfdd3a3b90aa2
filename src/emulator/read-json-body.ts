import type { IncomingMessage } from 'node:http';

/** The body of a /__emulator/ request was not JSON; answered 400. */
export class NotJsonError extends Error {
  constructor() {
    super('The body must be JSON');
    this.name = 'NotJsonError';
  }
}

/**
 * Reads a whole request body as JSON. Only the inspection routes use it: their bodies are a
 * test's settings or planted data, so there is no streaming and no size cap beyond Node's own.
 */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new NotJsonError();
  }
}
