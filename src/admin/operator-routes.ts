import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { UnknownOptOutError } from '../operator/opt-outs.ts';
import { UnknownGroupError } from '../operator/unknown-group.ts';
import { GroupBusyError, ResyncRequestError } from '../resync/index.ts';

/** The HTTP status an operator error maps to, or undefined for an unexpected one (500). */
export function operatorErrorStatus(err: unknown): number | undefined {
  if (err instanceof UnknownGroupError) return 404;
  if (err instanceof UnknownOptOutError) return 404;
  if (err instanceof ResyncRequestError) return 400;
  if (err instanceof GroupBusyError) return 409;
  return undefined;
}

/** Which groups an operator action applies to: a list, or every group. */
export type GroupSelection = { groups: string[] } | { all: true };

/** What the operator routes call; the server wires them to src/operator with the daemon's pieces. */
export interface OperatorHandlers {
  status(): Promise<unknown>;
  errors(opts: { groupId?: string; limit?: number }): Promise<unknown>;
  retry(selection: GroupSelection): Promise<unknown>;
  approveDeletes(groupId: string, approvedBy: string): Promise<unknown>;
  /** Starts a resync run; a dry run has planned by the time it resolves. */
  resync(selection: GroupSelection, opts: { dryRun: boolean }): Promise<{ dryRun: boolean }>;
  /** A run with its progress, or null when there is no such run. */
  resyncRun(runId: string): Promise<unknown>;
  pause(groupId: string, pausedBy: string): Promise<unknown>;
  resume(groupId: string): Promise<unknown>;
  optOuts(groupId: string | null): Promise<unknown>;
  clearOptOut(groupId: string, contactId: string): Promise<unknown>;
  /** One group: status, pause, opt-outs, shadow plan and last runs. */
  group(groupId: string): Promise<unknown>;
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
const pauseBody = z.strictObject({ pausedBy: z.string().min(1).max(200).optional() });
const optOutsQuery = z.strictObject({ group: z.string().min(1).optional() });
const errorsQuery = z.strictObject({
  group: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(100_000).optional(),
});

function toSelection(b: { groups?: string[] | undefined }): GroupSelection {
  return b.groups !== undefined ? { groups: b.groups } : { all: true };
}

/** Parses a JSON body (or a query) with `schema`, or answers 400 with zod's reasons and returns undefined. */
function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  reply: FastifyReply,
): z.infer<S> | undefined {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  void reply.code(400).send({
    error: 'bad request',
    problems: result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`),
  });
  return undefined;
}

/**
 * GET /status, GET /errors, POST /retry, GET /groups/:id, POST /groups/:id/approve-deletes, POST
 * /groups/:id/pause and /resume, GET /opt-outs, DELETE /groups/:id/opt-outs/:contact, POST
 * /resync and GET /resync/:id. Bodies
 * are JSON and checked with zod; every route is behind the token (the access hook). A group id
 * nobody knows answers 404 (see operatorErrorStatus).
 */
export function registerOperatorRoutes(app: FastifyInstance, handlers: OperatorHandlers): void {
  app.get('/status', async () => handlers.status());

  app.get('/errors', async (request, reply) => {
    const query = parseInput(errorsQuery, request.query, reply);
    if (query === undefined) return reply;
    return handlers.errors({
      ...(query.group !== undefined ? { groupId: query.group } : {}),
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
    });
  });

  app.post('/retry', async (request, reply) => {
    const body = parseInput(retryBody, request.body, reply);
    if (body === undefined) return reply;
    return handlers.retry(toSelection(body));
  });

  app.post<{ Params: { id: string } }>('/groups/:id/approve-deletes', async (request, reply) => {
    const body = parseInput(approveBody, request.body, reply);
    if (body === undefined) return reply;
    return handlers.approveDeletes(request.params.id, body.approvedBy ?? 'admin-http');
  });

  app.get<{ Params: { id: string } }>('/groups/:id', async (request) =>
    handlers.group(request.params.id),
  );

  app.post<{ Params: { id: string } }>('/groups/:id/pause', async (request, reply) => {
    const body = parseInput(pauseBody, request.body, reply);
    if (body === undefined) return reply;
    return handlers.pause(request.params.id, body.pausedBy ?? 'admin-http');
  });

  app.post<{ Params: { id: string } }>('/groups/:id/resume', async (request) =>
    handlers.resume(request.params.id),
  );

  app.get('/opt-outs', async (request, reply) => {
    const query = parseInput(optOutsQuery, request.query, reply);
    if (query === undefined) return reply;
    return handlers.optOuts(query.group ?? null);
  });

  app.delete<{ Params: { id: string; contact: string } }>(
    '/groups/:id/opt-outs/:contact',
    async (request) => handlers.clearOptOut(request.params.id, request.params.contact),
  );

  app.post('/resync', async (request, reply) => {
    const body = parseInput(resyncBody, request.body, reply);
    if (body === undefined) return reply;
    const run = await handlers.resync(toSelection(body), { dryRun: body.dryRun ?? false });
    // A dry run is finished; a real one is accepted and applied by each group's worker run.
    return reply.code(run.dryRun ? 200 : 202).send(run);
  });

  app.get<{ Params: { id: string } }>('/resync/:id', async (request, reply) => {
    const id = request.params.id;
    const run = /^\d{1,18}$/.test(id) ? await handlers.resyncRun(id) : null;
    if (run === null)
      return reply.code(404).send({ error: 'not found', message: `no resync run ${id}` });
    return run;
  });
}
