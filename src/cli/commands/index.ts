import type { Command } from 'commander';

/** Every subcommand, registered on the root program. One line per command module. */
export function registerCommands(program: Command): void {
  void program;
}
