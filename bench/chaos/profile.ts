/** How big and how rough a soak is. `--quick` must stay within 3 minutes in CI. */
export interface SoakProfile {
  name: 'quick' | 'default';
  changes: number;
  /** Planned length of the drive; the pace is changes / driveMs. */
  driveMs: number;
  killEveryMs: number;
  redisDownMs: number;
  convergeMs: number;
  /** Give up early when the backlog is empty but the same problems stay this long. */
  stuckMs: number;
  /** Wall-clock ceiling of the whole run, clean-up included. */
  hardLimitMs: number;
  daemons: number;
  writers: number;
  aof: boolean;
  /** Operation kinds left out of the workload (e.g. to isolate a known defect). */
  without: string[];
}

const PROFILES: Record<SoakProfile['name'], Omit<SoakProfile, 'aof' | 'without'>> = {
  quick: {
    name: 'quick',
    changes: 10_000,
    driveMs: 55_000,
    killEveryMs: 8_000,
    redisDownMs: 1_000,
    convergeMs: 75_000,
    stuckMs: 20_000,
    hardLimitMs: 175_000,
    daemons: 3,
    writers: 3,
  },
  default: {
    name: 'default',
    changes: 100_000,
    driveMs: 240_000,
    killEveryMs: 20_000,
    redisDownMs: 3_000,
    convergeMs: 300_000,
    stuckMs: 45_000,
    hardLimitMs: 15 * 60_000,
    daemons: 3,
    writers: 4,
  },
};

const USAGE = `usage: npm run chaos -- [--quick] [--no-aof] [--changes N] [--drive-seconds S]
  --quick           10,000 changes, a kill every ~8 s, within 3 minutes (CI)
  --no-aof          Redis without persistence: restarts lose the queue (the sweep recovers)
  --changes N       how many changes to drive
  --drive-seconds S how long the drive is planned to take (sets the pace)
  --without a,b     leave operation kinds out (add, join, update, mainChange, remove, rejoin,
                    deleteContact, reimport, mainReuse, bad)`;

/** Reads the command line; throws with the usage text on anything unknown. */
export function parseProfile(argv: string[]): SoakProfile {
  const base = argv.includes('--quick') ? PROFILES.quick : PROFILES.default;
  const profile: SoakProfile = { ...base, aof: !argv.includes('--no-aof'), without: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick' || arg === '--no-aof') continue;
    const value = Number(argv[i + 1]);
    if (arg === '--without' && argv[i + 1]) profile.without = (argv[i + 1] ?? '').split(',');
    else if (arg === '--changes' && Number.isInteger(value) && value > 0) profile.changes = value;
    else if (arg === '--drive-seconds' && value > 0) profile.driveMs = value * 1000;
    else throw new Error(`unknown or bad argument ${arg}\n${USAGE}`);
    i++;
  }
  return profile;
}
