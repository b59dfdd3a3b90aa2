import type { FastifyInstance } from 'fastify';
import { OPERATOR_UI_PATH } from './admin-access.ts';
import { renderOperatorPage, type PageData } from './operator-page.ts';

/**
 * GET /ui: the operator page; POST /ui/groups/:id/approve-deletes: its approve button. Access is
 * the server's hook (token, or the login cookie issued for /ui, and the Origin check on POST).
 * The page reads the server's own GET /status and GET /errors in process, with the token, so
 * it shows exactly what those answer (a group pause included, once status reports one).
 */
export async function registerOperatorUi(
  app: FastifyInstance,
  token: string | undefined,
): Promise<void> {
  const authorization = `Bearer ${token ?? ''}`;
  const self = async <T>(method: 'GET' | 'POST', url: string, body?: object): Promise<T> => {
    const res = await app.inject({
      method,
      url,
      headers: { authorization },
      ...(body ? { payload: body } : {}),
    });
    const parsed = res.json<T & { message?: string }>();
    if (res.statusCode >= 400)
      throw Object.assign(new Error(parsed.message ?? res.statusMessage), {
        statusCode: res.statusCode,
      });
    return parsed;
  };
  const page = async (notice: string | null) => {
    const [status, errors] = await Promise.all([
      self<PageData['status']>('GET', '/status'),
      self<PageData['errors']>('GET', '/errors?limit=50'),
    ]);
    return renderOperatorPage({ status, errors, notice });
  };

  await app.register((scope, _opts, done) => {
    // The approve button posts an (empty) form.
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 1_024 },
      (_request, _body, parsed) => parsed(null, {}),
    );
    scope.get(OPERATOR_UI_PATH, async (request, reply) => {
      const approved = (request.query as { approved?: string }).approved;
      const notice = approved ? `Approved the held deletes of ${approved}.` : null;
      return reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(await page(notice));
    });
    scope.post<{ Params: { id: string } }>(
      `${OPERATOR_UI_PATH}/groups/:id/approve-deletes`,
      async (request, reply) => {
        const id = request.params.id;
        await self('POST', `/groups/${encodeURIComponent(id)}/approve-deletes`, {
          approvedBy: 'admin-ui',
        });
        return reply.redirect(`${OPERATOR_UI_PATH}?approved=${encodeURIComponent(id)}`, 303);
      },
    );
    done();
  });
}
