import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.ts';
import { EXIT, printFailure, type FailureKind } from './exit.ts';

// Read at start-up (one small file): `--version` must not load anything else.
const { version } = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string };

/** Commander's own answers that are not failures. */
const COMMANDER_OK = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

/**
 * The `afilnet-sync` command: parses, dispatches, and turns failures into one clear line (or one
 * JSON document with `--json`) and the exit codes the README documents.
 */
async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const program = new Command('afilnet-sync')
    .description('Keeps Afilnet contact groups in step with a Postgres database')
    .version(version, '-V, --version', 'print the version and exit')
    .showHelpAfterError(!json)
    .exitOverride();
  // With --json the failure is printed once, as JSON, by the catch below.
  if (json) program.configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  registerCommands(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    let kind: FailureKind = 'failure';
    let message = err instanceof Error ? err.message : String(err);
    if (err instanceof CommanderError) {
      if (COMMANDER_OK.has(err.code)) {
        process.exitCode = EXIT.ok;
        return;
      }
      // `command.error()` from a command carries its own code; commander's parse errors are usage.
      const exitCode = err.code === 'commander.error' ? err.exitCode : EXIT.usage;
      kind = exitCode === EXIT.usage ? 'usage' : 'failure';
      message = message.replace(/^error: /, '');
      // Without --json, commander already printed the message.
      if (!json) {
        process.exitCode = exitCode;
        return;
      }
    } else if (err instanceof Error && err.name === 'ConfigError') {
      kind = 'config';
    }
    printFailure({ kind, message, json });
  }
}

await main(process.argv);
