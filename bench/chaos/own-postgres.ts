import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.ts';

const exec = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';

export interface SoakPostgres {
  url: string;
  port: number;
  /** `pg_ctl restart -m fast`: connections are cut, committed work survives. */
  restart(): Promise<number>;
  /** Stops the server (immediately: its data is thrown away next) and deletes the directory. */
  destroy(): Promise<void>;
}

/**
 * A private Postgres cluster in a temporary directory on a free loopback port, so the soak can
 * restart it without touching the developer's or CI's server. initdb refuses root, so as root
 * every tool runs as the `postgres` OS user.
 */
export async function startSoakPostgres(): Promise<SoakPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'afilnet-chaos-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number((await exec('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await exec('id', ['-g', 'postgres'])).stdout.trim());
    await chown(dir, uid, gid);
  }
  const tool = async (name: string, args: string[]): Promise<void> => {
    const bin = join(BIN, name);
    // 60 s: a fast restart under load waits for a checkpoint; nothing here should take longer.
    const opts = { timeout: 60_000 };
    await (asRoot
      ? exec('runuser', ['-u', 'postgres', '--', bin, ...args], opts)
      : exec(bin, args, opts));
  };
  const data = join(dir, 'data');
  const port = await freePort();
  const ctl = (args: string[]) =>
    tool('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', ...args]);
  try {
    await tool('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    // Three daemons (pool + listener each), the drivers and the checker: room to spare.
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`;
    await ctl(['-o', options, 'start']);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async restart() {
      const started = Date.now();
      // pg_ctl remembers the start options (postmaster.opts), so the port stays the same.
      await ctl(['-m', 'fast', 'restart']);
      return Date.now() - started;
    },
    async destroy() {
      await ctl(['-m', 'immediate', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
