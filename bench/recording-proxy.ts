import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { nowMs } from './bench-env.ts';

/** One API call as it reached the proxy: arrival time and its decoded form parameters. */
export interface ProxiedCall {
  at: number;
  method: string | null;
  params: URLSearchParams;
}

export interface RecordingProxy {
  url: string;
  calls: ProxiedCall[];
  close(): Promise<void>;
}

/**
 * A pass-through in front of the emulator that keeps each call's body. The emulator's request
 * log has the arrival time but not the body, and the latency figure needs to know which contact
 * (and which of its values) a modifycontact carried. The arrival is stamped before forwarding,
 * so the extra hop adds to the answer's way back, not to the measured latency.
 */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new Pool(target, { connections: 32 });
  const calls: ProxiedCall[] = [];
  const server = createServer((req, res) => {
    forward(req, res).catch(() => res.destroy());
  });
  async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = nowMs();
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const params = new URLSearchParams(body.toString('utf8'));
    // The password is of no use here: it is not kept.
    params.delete('password');
    calls.push({ at, method: params.get('method'), params });
    const answer = await upstream.request({
      path: req.url ?? '/',
      method: req.method === 'GET' ? 'GET' : 'POST',
      headers: {
        'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded',
      },
      body,
    });
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'retry-after']) {
      const value = answer.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    res.writeHead(answer.statusCode, headers);
    for await (const chunk of answer.body as AsyncIterable<Buffer>) res.write(chunk);
    res.end();
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await upstream.close();
    },
  };
}
