import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { registerOpsRoutes, type OpsRouteDeps } from './ops.routes';

/**
 * The operational routes alone (`/healthz`, `/readyz`, `/metrics`, `/openapi.json`), for a
 * `PIGEON_ROLE=worker` process, which serves no API: started on `PIGEON_OPS_PORT` when it is set,
 * so Prometheus and Kubernetes probes reach the workers too.
 */
export async function createOpsApp(deps: OpsRouteDeps & { logger: Logger }): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  registerOpsRoutes(app, deps);
  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.request(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
  });
  await app.ready();
  return app;
}
