import type { Command } from 'commander';

/** `afilnet-sync start`: the relay and the workers in one process. SIGTERM drains; twice exits. */
export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description(
      'Run the daemon: capture relay, sync workers, admin HTTP (configured by the environment)',
    )
    .action(async () => {
      const { loadDaemonConfig } = await import('../../config/config.ts');
      const { startDaemon } = await import('../../daemon.ts');
      const { createLogger } = await import('../../observability/logger.ts');
      const config = loadDaemonConfig();
      const logger = createLogger({
        level: config.LOG_LEVEL,
        name: 'afilnet-sync',
        format: config.LOG_FORMAT,
      });
      const daemon = await startDaemon(config, logger);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const onSignal = (signal: NodeJS.Signals) => {
          if (stopping) {
            logger.warn({ signal }, 'second signal: exiting now');
            process.exit(1);
          }
          stopping = true;
          logger.info({ signal }, 'draining');
          daemon.stop().then(resolve, (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            resolve();
          });
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
    });
}
