import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';

/**
 * The largest body read, in bytes. The page promises POST "no size limit"; this cap only keeps a
 * runaway client from exhausting the emulator's memory, and is far above a 100,000-contact list.
 */
export const MAX_BODY_BYTES = 256 * 1024 * 1024;

/** The fields of a POST body, or why there are none. */
export type FormBody =
  { fields: Map<string, string> } | { refusal: { status: number; message: string } };

/**
 * Reads a urlencoded or multipart body into fields. Any other content type carries no parameters
 * and is drained unread. In multipart, an uploaded file part counts as a field holding its text,
 * so `curl -F contacts=@list.json` works like `-F contacts=<list.json`.
 */
export async function readFormBody(req: IncomingMessage): Promise<FormBody> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') {
    const bytes = await readWhole(req);
    if (!bytes) return tooLarge();
    return { fields: new Map(new URLSearchParams(bytes.toString('utf8'))) };
  }
  if (type === 'multipart/form-data') return readMultipart(req);
  req.resume();
  return { fields: new Map() };
}

function tooLarge(): FormBody {
  return { refusal: { status: 413, message: `Body larger than ${MAX_BODY_BYTES} bytes` } };
}

/** The whole body, or undefined past the cap (the rest is still drained so we can answer). */
async function readWhole(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    else chunks.length = 0;
  }
  return size <= MAX_BODY_BYTES ? Buffer.concat(chunks) : undefined;
}

function readMultipart(req: IncomingMessage): Promise<FormBody> {
  return new Promise((resolve) => {
    const fields = new Map<string, string>();
    let truncated = false;
    const refuse = (message: string) => {
      req.unpipe();
      req.resume();
      resolve({ refusal: { status: 400, message } });
    };
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        defParamCharset: 'utf8',
        limits: { fieldSize: MAX_BODY_BYTES, fileSize: MAX_BODY_BYTES },
      });
    } catch {
      refuse('Malformed multipart/form-data header');
      return;
    }
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) truncated = true;
      else fields.set(name, value);
    });
    parser.on('file', (name, stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => (truncated = true));
      stream.on('end', () => fields.set(name, Buffer.concat(chunks).toString('utf8')));
    });
    parser.on('error', () => refuse('Malformed multipart/form-data body'));
    parser.on('close', () => resolve(truncated ? tooLarge() : { fields }));
    req.pipe(parser);
  });
}
