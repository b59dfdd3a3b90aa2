import type { Command } from 'commander';
import { registerMigrateCommand } from './migrate.ts';
import { registerEmulatorCommand } from './emulator.ts';
import { registerStartCommand } from './start.ts';

/** Every subcommand, registered on the root program. One line per command module. */
export function registerCommands(program: Command): void {
  registerEmulatorCommand(program);
  registerMigrateCommand(program);
  registerStartCommand(program);
}
