import type { Command } from 'commander';

/** Built on first use: zod is loaded only when the command runs, not for `--help`. */
async function optionsSchema() {
  const { z } = await import('zod');
  return z.object({
    port: z.coerce.number().int().min(0).max(65535),
    host: z.string().min(1),
    account: z.array(z.string()).default([]),
    strictDocs: z.boolean().optional(),
  });
}

/**
 * Splits `user:password` on the first ':'. The message never repeats the value: it may hold a
 * password.
 */
function parseAccount(value: string): { user: string; password: string } {
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) {
    throw new Error('--account expects user:password, both non-empty (the value is not shown)');
  }
  return { user: value.slice(0, colon), password: value.slice(colon + 1) };
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** `afilnet-sync emulator`: runs the Afilnet emulator until SIGINT or SIGTERM. */
export function registerEmulatorCommand(program: Command): void {
  program
    .command('emulator')
    .description('Run a stateful fake of the Afilnet Contacts API for tests, dev and demos')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8787')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option(
      '--account <user:password>',
      'an account that may log in; repeatable (default: demo:demo)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--strict-docs', 'creating methods answer without ids, as the page literally says')
    .action(async (raw: unknown, command: Command) => {
      const parsed = (await optionsSchema()).safeParse(raw);
      if (!parsed.success) {
        command.error('error: --port must be a whole number from 0 to 65535', { exitCode: 2 });
      }
      const options = parsed.data;
      let accounts: { user: string; password: string }[];
      try {
        accounts = options.account.map(parseAccount);
      } catch (err) {
        command.error(`error: ${(err as Error).message}`, { exitCode: 2 });
      }
      const { startEmulator } = await import('../../emulator/index.ts');
      const emulator = await startEmulator({
        port: options.port,
        host: options.host,
        strictDocs: options.strictDocs ?? false,
        ...(accounts.length > 0 ? { accounts } : {}),
      });
      const users = accounts.length > 0 ? accounts.map((a) => a.user).join(', ') : 'demo';
      process.stdout.write(
        `Afilnet emulator listening on ${emulator.url}\n` +
          `  API:        ${emulator.url}/api/http/\n` +
          `  inspection: ${emulator.url}/__emulator/state\n` +
          `  accounts:   ${users}${options.strictDocs ? '\n  strict docs: creating methods return no ids' : ''}\n` +
          'Stop with Ctrl+C.\n',
      );
      const signal = await untilStopSignal();
      await emulator.close();
      process.stdout.write(`Emulator stopped (${signal}).\n`);
    });
}
