import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/afilnet-sync.mjs', import.meta.url));

export interface FaultSettings {
  errorRate?: number;
  resetRate?: number;
  appliedThenResetRate?: number;
  rateLimitPerSecond?: number;
  latencyMs?: number;
}

export interface RemoteGroup {
  account: string;
  idgroup: number | string;
  name: string;
  type: string;
  fields: string[];
  country: string | null;
  contacts: { idcontact: number | string; fields: Record<string, string> }[];
}

export interface EmulatorProcess {
  url: string;
  setFaults(faults: FaultSettings): Promise<void>;
  state(): Promise<RemoteGroup[]>;
  /** The emulator's log of the last 100,000 calls (method names and outcomes, no parameters). */
  requests(): Promise<{ at: number; method: string | null; outcome: string }[]>;
  calls(): Promise<{
    total: number;
    byMethod: Record<string, number>;
    rejected: Record<string, number>;
  }>;
  stop(): Promise<void>;
}

/**
 * The emulator in its own process (`afilnet-sync emulator --port 0`), as a provider would be: the
 * daemons share nothing with it but HTTP, and its CPU is not the soak driver's.
 */
export async function startEmulatorProcess(): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, [BIN, 'emulator', '--port', '0'], {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => fail(new Error('the emulator did not start within 30 s')),
      30_000,
    );
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) =>
      fail(new Error(`the emulator exited (${code}): ${out.slice(-2_000)}`)),
    );
  });
  child.stdout.resume();
  const json = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(`${url}${path}`, { ...init, signal: AbortSignal.timeout(60_000) });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    url,
    async setFaults(faults) {
      await json('/__emulator/faults', {
        method: 'POST',
        body: JSON.stringify(faults),
        headers: { 'content-type': 'application/json' },
      });
    },
    state: async () => (await json<{ groups: RemoteGroup[] }>('/__emulator/state')).groups,
    calls: () => json('/__emulator/calls'),
    requests: () => json('/__emulator/requests'),
    stop: () => stopChild(child),
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
