import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadDaemonConfig } from '../src/config/config.ts';

/** Logs one line through createLogger in a child process, as `start` does, and returns stdout. */
function logOnce(format: string): string {
  const script = `
    const { createLogger } = await import('./src/observability/logger.ts');
    const logger = createLogger({ name: 'afilnet-sync', format: ${JSON.stringify(format)} });
    logger.info({ groupId: 'g1', password: 'secret' }, 'group synced');
    logger.flush?.();`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

const minimal = {
  DATABASE_URL: 'postgres://x@h/d',
  REDIS_URL: 'redis://h:1',
  AFILNET_USER: 'u',
  AFILNET_PASSWORD: 'p',
};

describe('log format', () => {
  it('writes one JSON object per line by default', () => {
    const line = JSON.parse(logOnce('json').trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ msg: 'group synced', groupId: 'g1', password: '[redacted]' });
  });

  it('writes readable lines with LOG_FORMAT=pretty, still redacted', () => {
    const out = logOnce('pretty');
    expect(out).toMatch(/INFO.*\(afilnet-sync.*\): group synced/);
    expect(out).toContain('groupId: "g1"');
    expect(out).not.toContain('secret');
    expect(() => JSON.parse(out) as unknown).toThrow();
  });

  it('reads LOG_FORMAT from the environment: json by default, pretty on request, nothing else', () => {
    expect(loadDaemonConfig(minimal).LOG_FORMAT).toBe('json');
    expect(loadDaemonConfig({ ...minimal, LOG_FORMAT: 'pretty' }).LOG_FORMAT).toBe('pretty');
    expect(() => loadDaemonConfig({ ...minimal, LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
  });
});
