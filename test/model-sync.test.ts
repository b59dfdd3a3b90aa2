import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { formatReport, runModel } from './model/runner.ts';
import { startWorld, type World } from './model/world.ts';

/**
 * The model-based test (issue 11), short budget: a few seeded command sequences per mode against
 * real Postgres, Redis, the emulator over HTTP and the daemon as a child process, each ending
 * with quiesce and the check of test/model/check.ts. The long budget is `npm run model`.
 * No shrinking here (it costs minutes); a failure prints the seed and the command list to
 * replay with `npm run model -- --mode <mode> --seed <seed> --runs <n>`.
 */
const SEED = 20261207;
let world: World;

beforeAll(async () => {
  world = await startWorld(inject('databaseUrl'), inject('redisUrl'));
});
afterAll(async () => {
  await world?.close();
});

describe('member sync against the model', () => {
  for (const mode of ['normal', 'strict'] as const) {
    it(
      `keeps remote equal to the projection of the database (${mode})`,
      { timeout: 280_000 },
      async () => {
        const report = await runModel(world, {
          mode,
          runs: 2,
          maxCommands: 12,
          seed: SEED,
          endOnFailure: true,
          timeLimitMs: 200_000,
          quiesceMs: 90_000,
        });
        expect(report.sequences).toBeGreaterThan(0);
        expect(report.failed, formatReport(report)).toBe(false);
      },
    );
  }
});
