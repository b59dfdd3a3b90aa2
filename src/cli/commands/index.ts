import type { Command } from 'commander';
import { registerMigrateCommand } from './migrate.ts';
import { registerEmulatorCommand } from './emulator.ts';
import { registerStartCommand } from './start.ts';
import { registerStatusCommand } from './status.ts';
import { registerErrorsCommand } from './errors.ts';
import { registerRetryCommand } from './retry.ts';
import { registerApproveDeletesCommand } from './approve-deletes.ts';
import { registerImportCommand } from './import.ts';
import { registerResyncCommand } from './resync.ts';
import { registerPauseCommand } from './pause.ts';
import { registerResumeCommand } from './resume.ts';
import { registerOptOutsCommand } from './opt-outs.ts';
import { registerCheckCommand } from './check.ts';

/** Every subcommand, registered on the root program. One line per command module. */
export function registerCommands(program: Command): void {
  registerEmulatorCommand(program);
  registerMigrateCommand(program);
  registerStartCommand(program);
  registerStatusCommand(program);
  registerErrorsCommand(program);
  registerRetryCommand(program);
  registerApproveDeletesCommand(program);
  registerImportCommand(program);
  registerResyncCommand(program);
  registerPauseCommand(program);
  registerResumeCommand(program);
  registerOptOutsCommand(program);
  registerCheckCommand(program);
}
