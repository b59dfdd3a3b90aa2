import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

const JSON_TYPE = 'application/json; charset=utf-8';
/** Pieces are gathered into chunks of about this many characters before each write. */
const CHUNK_CHARS = 64 * 1024;

/** Writes a small JSON value as one body. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  sendBody(res, status, JSON.stringify(value), { 'content-type': JSON_TYPE });
}

/** Writes a body that is already JSON text. */
export function sendJsonText(res: ServerResponse, status: number, json: string): void {
  sendBody(res, status, json, { 'content-type': JSON_TYPE });
}

/** Writes a plain-text answer, for HTTP-level refusals that are not API answers. */
export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: OutgoingHttpHeaders = {},
): void {
  sendBody(res, status, `${text}\n`, { 'content-type': 'text/plain; charset=utf-8', ...headers });
}

function sendBody(
  res: ServerResponse,
  status: number,
  body: string,
  headers: OutgoingHttpHeaders,
): void {
  if (res.destroyed) return;
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Writes JSON given as lazily produced pieces, in chunks, waiting for 'drain' whenever the socket's
 * buffer is full: a million contacts never become one string, and a slow reader holds memory to
 * about one chunk. Stops quietly when the client goes away.
 */
export async function streamJson(
  res: ServerResponse,
  pieces: Iterable<string>,
  status = 200,
): Promise<void> {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': JSON_TYPE });
  let chunk = '';
  for (const piece of pieces) {
    chunk += piece;
    if (chunk.length < CHUNK_CHARS) continue;
    if (!(await writeChunk(res, chunk))) return;
    chunk = '';
  }
  res.end(chunk);
}

/** Resolves true once the chunk may be followed by more, false if the client has gone. */
function writeChunk(res: ServerResponse, chunk: string): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (res.write(chunk)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const settle = (open: boolean) => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(open);
    };
    const onDrain = settle(true);
    const onClose = settle(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}
