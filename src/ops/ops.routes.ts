import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics';
import { checkReadiness, type ReadinessDeps } from './readiness';

export interface OpsRouteDeps extends ReadinessDeps {
  metrics: Metrics;
  /**
   * Builds the OpenAPI document served at `/openapi.json` (called once, on the first request, with
   * Pigeon's version): the ingest API's, handed in by the composition root so ops never imports ingest.
   */
  openApi: (info: { version?: string }) => unknown;
}

/** Pigeon's version, from the package.json above this file (src/ under ts-node, dist/src/ once built). */
function packageVersion(): string | undefined {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      if (pkg.name === 'pigeon') return pkg.version;
    } catch {
      // no package.json here
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * The operational routes (README.md, "Operational endpoints"): `GET /healthz` (`200 {"status":"ok"}`
 * while the process runs), `GET /readyz` (`200 {"status":"ready"}`, else 503 with
 * `"status":"unavailable"` or, once shutdown began, `"stopping"`, and a `reason`), `GET /metrics`
 * (Prometheus text) and `GET /openapi.json`. None needs a key: they hold no workspace data (keep the
 * port off the internet, or filter these paths at the proxy).
 */
export function registerOpsRoutes(app: FastifyInstance, deps: OpsRouteDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const result = await checkReadiness(deps);
    if (result.ready) return reply.code(200).send({ status: 'ready' });
    return reply.code(503).send({ status: result.stopping ? 'stopping' : 'unavailable', reason: result.reason });
  });

  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await deps.metrics.expose();
    return reply.code(200).header('content-type', contentType).send(body);
  });

  let openapi: string | undefined;
  app.get('/openapi.json', async (_request, reply) => {
    openapi ??= JSON.stringify(deps.openApi({ version: packageVersion() }));
    return reply.code(200).header('content-type', 'application/json; charset=utf-8').send(openapi);
  });
}
