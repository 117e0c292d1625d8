import type { FastifyInstance } from 'fastify';
import { errorBody } from '../errors.ts';
import type { AppContext } from '../options.ts';

/** Liveness, readiness (the store answers), and Prometheus metrics. */
export async function healthRoutes(app: FastifyInstance, deps: AppContext): Promise<void> {
  app.get('/healthz', { schema: { tags: ['ops'], summary: 'The process is up' } }, async () => ({
    success: true,
    status: 'ok',
  }));

  app.get('/readyz', { schema: { tags: ['ops'], summary: 'The store is reachable' } }, async (_request, reply) => {
    try {
      await deps.ledger.store.getAccount('readyz-probe');
      return { success: true, status: 'ready' };
    } catch {
      return reply.status(503).send(errorBody('unavailable', 'The token store cannot be reached'));
    }
  });

  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics' } }, async (_request, reply) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
