import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { GroupSelection } from './operator-actions.ts';

/** What the operator routes call; the server wires them to the daemon's pool and queue. */
export interface OperatorHandlers {
  status(): Promise<unknown>;
  retry(selection: GroupSelection): Promise<unknown>;
  approveDeletes(groupId: string, approvedBy: string): Promise<{ approved: number }>;
  /** Absent until the resync module provides one: POST /resync then answers 501. */
  resync?: (selection: GroupSelection, opts: { dryRun: boolean }) => Promise<unknown>;
}

const selectionShape = {
  groups: z.array(z.string().min(1)).min(1).optional(),
  all: z.boolean().optional(),
};
const ONE_OF = 'give either "groups" (a non-empty list of group ids) or "all": true, not both';
const bothOrNeither = (b: { groups?: string[] | undefined; all?: boolean | undefined }) =>
  (b.all === true) !== (b.groups !== undefined);

const retryBody = z.strictObject(selectionShape).refine(bothOrNeither, ONE_OF);
const resyncBody = z
  .strictObject({ ...selectionShape, dryRun: z.boolean().optional() })
  .refine(bothOrNeither, ONE_OF);
const approveBody = z.strictObject({ approvedBy: z.string().min(1).max(200).optional() });

function toSelection(b: { groups?: string[] | undefined }): GroupSelection {
  return b.groups !== undefined ? { groups: b.groups } : { all: true };
}

/** Parses a JSON body with `schema`, or answers 400 with zod's reasons and returns undefined. */
function parseBody<S extends z.ZodType>(
  schema: S,
  body: unknown,
  reply: FastifyReply,
): z.infer<S> | undefined {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  void reply.code(400).send({
    error: 'bad request',
    problems: result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`),
  });
  return undefined;
}

/**
 * GET /status, POST /retry, POST /groups/:id/approve-deletes, POST /resync. Bodies are JSON and
 * checked with zod; every route is behind the token (the access hook).
 */
export function registerOperatorRoutes(app: FastifyInstance, handlers: OperatorHandlers): void {
  app.get('/status', async () => handlers.status());

  app.post('/retry', async (request, reply) => {
    const body = parseBody(retryBody, request.body, reply);
    if (body === undefined) return reply;
    return handlers.retry(toSelection(body));
  });

  app.post<{ Params: { id: string } }>(
    '/groups/:id/approve-deletes',
    async (request, reply) => {
      const body = parseBody(approveBody, request.body, reply);
      if (body === undefined) return reply;
      const groupId = request.params.id;
      const result = await handlers.approveDeletes(groupId, body.approvedBy ?? 'admin-api');
      if (result.approved === 0) {
        return reply.code(404).send({ error: 'not found', message: `group ${groupId} has no open hold` });
      }
      return { groupId, ...result };
    },
  );

  app.post('/resync', async (request, reply) => {
    const body = parseBody(resyncBody, request.body, reply);
    if (body === undefined) return reply;
    if (!handlers.resync) {
      return reply.code(501).send({
        error: 'not implemented',
        message: 'resync is not available in this build (src/resync provides no entry point yet)',
      });
    }
    return reply.code(202).send(await handlers.resync(toSelection(body), { dryRun: body.dryRun ?? false }));
  });
}
