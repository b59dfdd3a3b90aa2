import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/config.ts';
import { registerCommands } from './commands/index.ts';

/** The `afilnet-sync` command: parses, dispatches, and turns failures into one clear line. */
async function main(argv: string[]): Promise<void> {
  const program = new Command('afilnet-sync')
    .description('Keeps Afilnet contact groups in step with a Postgres database')
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`afilnet-sync: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}

await main(process.argv);
