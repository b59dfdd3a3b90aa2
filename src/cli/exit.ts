/**
 * The exit codes every command uses (documented in the README), and how a failure is printed:
 * one line on stderr, or with `--json` one document on stdout so a script reads one stream.
 */
export const EXIT = {
  /** Done; for `status`, healthy. */
  ok: 0,
  /** The command ran and failed: a store unreachable, an unknown group, rows rejected. */
  failure: 1,
  /** Bad usage or configuration: nothing was attempted. */
  usage: 2,
  /** `status` only: the report was read, and the sync is not healthy. */
  unhealthy: 3,
  /** `resync` followed a run and was interrupted (Ctrl-C); the run goes on in the daemon. */
  interrupted: 130,
} as const;

export type FailureKind = 'failure' | 'usage' | 'config';

const CODE_OF: Record<FailureKind, number> = {
  failure: EXIT.failure,
  usage: EXIT.usage,
  config: EXIT.usage,
};

/** Prints a failure and sets the process's exit code from its kind. */
export function printFailure(f: { kind: FailureKind; message: string; json: boolean }): void {
  const exitCode = CODE_OF[f.kind];
  process.exitCode = exitCode;
  if (f.json) {
    process.stdout.write(
      `${JSON.stringify({ error: { kind: f.kind, message: f.message, exitCode } }, null, 2)}\n`,
    );
  } else if (f.kind === 'config') {
    process.stderr.write(`${f.message}\n`);
  } else {
    process.stderr.write(`afilnet-sync: ${f.message}\n`);
  }
}
