import { Command, CommanderError } from 'commander';
import { z } from 'zod';
import { ConfigError, loadDemoConfig } from '../config/config.ts';
import { runDemo } from '../demo/run-demo.ts';

const optionsSchema = z.object({
  contacts: z.coerce.number().int().min(10).max(1_000_000),
  rate: z.coerce.number().positive(),
  timeout: z.coerce.number().int().positive(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  keep: z.boolean().optional(),
});

/**
 * `npm run demo [-- --contacts N]`: shows the sync end to end against a private emulator and a
 * database of its own, and ends with how many API calls it took.
 */
async function main(argv: string[]): Promise<void> {
  const program = new Command('demo')
    .description('Run afilnet-sync end to end on a demo dataset and compare API calls')
    .option('--contacts <n>', 'good contacts to create (two bad ones are added)', '2000')
    .option('--rate <n>', 'API calls per second the daemon may make', '50')
    .option('--timeout <ms>', 'give up when a phase has not synced after this long', '300000')
    .option('--log-level <level>', "the daemon's log level", 'error')
    .option('--keep', 'keep the demo_<random> database afterwards')
    .exitOverride();
  try {
    await program.parseAsync(argv);
    const o = optionsSchema.parse(program.opts());
    const config = loadDemoConfig();
    await runDemo(config, {
      contacts: o.contacts,
      rate: o.rate,
      timeoutMs: o.timeout,
      logLevel: o.logLevel,
      keepDatabase: o.keep ?? false,
      print: (line) => process.stdout.write(`${line}\n`),
    });
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    process.exitCode = err instanceof ConfigError ? 2 : 1;
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`demo: ${message}\n`);
  }
}

await main(process.argv);
