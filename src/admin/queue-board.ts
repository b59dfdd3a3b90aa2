import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';

/** Where Bull Board is mounted; the access hook protects this prefix like any other route. */
export const QUEUE_BOARD_PATH = '/queues';

/**
 * Mounts Bull Board for the daemon's queues under /queues. Authentication is not the board's
 * business: the server's onRequest hook has already refused unauthenticated requests, including
 * the UI's own asset and API requests.
 */
export async function registerQueueBoard(app: FastifyInstance, queues: Queue[]): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: queues.map(
      (q) => new BullMQAdapter(q, { description: 'one job per group with changes' }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'afilnet-sync' } },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: QUEUE_BOARD_PATH });
}
