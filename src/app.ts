import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import pino from 'pino';
import type { Config, Role } from './config';
import { registerConsole } from './console/console.route';
import { registerPreferencePages } from './console/preference-pages.route';
import { DomainError, StoreUnavailableError } from './domain/domain-error';
import { registerGraphQL } from './graphql/register-graphql';
import { HttpError } from './ingest/http-error';
import { registerHookRoutes } from './ingest/hooks/hooks.route';
import { registerIngestRateLimit } from './ingest/rate-limit';
import { MAX_REQUEST_BYTES } from './ingest/segment/normalize';
import { buildOpenApiDocument } from './ingest/segment/openapi';
import { registerSegmentRoutes } from './ingest/segment/segment.routes';
import { ingestTelemetry } from './ops/ingest-telemetry';
import type { Lifecycle } from './ops/lifecycle';
import { createLogger } from './ops/logger';
import type { Metrics } from './ops/metrics';
import { registerOpsRoutes } from './ops/ops.routes';
import type { Services } from './services';
import { countAcceptedConnections } from './lib/loop-turns';

export interface AppDeps {
  services: Services;
  config: Pick<Config, 'production' | 'logLevel'> & Partial<Pick<Config, 'rateLimitPerMinute'>>;
  logger?: pino.Logger;
  /** The process role, for /readyz (workers are checked when it has them); not checked when absent. */
  role?: Role;
  /** The process's send worker, when the role has one (for /readyz). */
  worker?: { readonly isRunning: boolean };
  /** Once it is stopping, /readyz answers 503 "stopping" (see `index.ts`); absent: never stopping. */
  lifecycle?: Lifecycle;
}

/** Strict JSON for every route (also sent as text/plain by some Segment clients); `__proto__` stays data. */
function parseJson(_req: FastifyRequest, body: string, done: (err: Error | null, value?: unknown) => void) {
  if (body === '') return done(new HttpError(400, 'MALFORMED_JSON', 'The request body is empty; send a JSON object'));
  try {
    done(null, JSON.parse(body));
  } catch (err) {
    done(new HttpError(400, 'MALFORMED_JSON', `The request body is not valid JSON: ${(err as Error).message}`));
  }
}

/**
 * Every body is JSON ({@link parseJson}), at most {@link MAX_REQUEST_BYTES}. The ingest routes add, in their own
 * scope, gzip/deflate bodies and JSON under any content type (`ingest/request-body.ts`); GraphQL stays strict.
 */
function registerJsonBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'text/plain'],
    { parseAs: 'string', bodyLimit: MAX_REQUEST_BYTES },
    parseJson,
  );
}

/** One log line and one metric per request, with the workspace and outcome. */
function registerRequestLog(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', async (request, reply) => {
    // request.log carries reqId already (a child logger bound to the request)
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url,
        status: reply.statusCode,
        workspaceId: request.workspaceId,
        ms: Math.round(reply.elapsedTime),
        outcome: reply.statusCode >= 500 ? 'error' : reply.statusCode >= 400 ? 'refused' : 'ok',
        events: request.ingest,
      },
      'request',
    );
    metrics.request(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
  });
}

/**
 * Errors are answered once, here, as `{"message", "code"}`: HTTP errors as they are, domain errors by
 * their code (README.md, "Limits and errors"), fastify's own by kind; anything else is a 500 that
 * says nothing of its cause (which is logged).
 */
function registerErrorAnswers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof HttpError) {
      return reply.code(error.statusCode).headers(error.headers).send({ message: error.message, code: error.code });
    }
    if (error instanceof StoreUnavailableError) {
      request.log.error({ err: error.cause }, 'store unavailable');
      return reply.code(503).header('retry-after', '5').send({ message: error.message, code: error.code });
    }
    if (error instanceof DomainError) {
      return reply.code(error.code === 'NOT_FOUND' ? 404 : 400).send({ message: error.message, code: error.code });
    }
    const fastifyError = error as { code?: string; statusCode?: number; message: string };
    switch (fastifyError.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.code(413).send({ message: 'The request body is over 500 KB', code: 'PAYLOAD_TOO_LARGE' });
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply
          .code(415)
          .send({ message: 'Send JSON with content-type: application/json', code: 'UNSUPPORTED_MEDIA_TYPE' });
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return reply.code(400).send({ message: 'Content-Length does not match the body', code: 'MALFORMED_REQUEST' });
    }
    if (fastifyError.statusCode && fastifyError.statusCode < 500) {
      return reply.code(fastifyError.statusCode).send({ message: fastifyError.message, code: 'BAD_REQUEST' });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ message: 'Internal server error', code: 'INTERNAL' });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ message: `No route ${request.method} ${request.url.split('?')[0]}`, code: 'NOT_FOUND' }),
  );
}

/**
 * Builds the HTTP app: the operational routes, the console, Segment ingest and GraphQL at /graphql.
 * The tests build exactly this app; `index.ts` only adds configuration, migrations and `listen`.
 */
export async function createApp(deps: AppDeps): Promise<FastifyInstance> {
  const { services, config } = deps;
  const logger = deps.logger ?? createLogger(config.logLevel);
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: MAX_REQUEST_BYTES,
    genReqId: (req) =>
      typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'].slice(0, 100) : randomUUID(),
    // one line per request is written by registerRequestLog, with the workspace and outcome
    logController: new LogController({ disableRequestLogging: true }),
  });
  // a group commit on SQLite waits while turns of the loop still accept connections (lib/loop-turns.ts)
  countAcceptedConnections(app.server);
  registerJsonBodies(app);
  registerRequestLog(app, services.metrics);
  registerErrorAnswers(app);
  registerOpsRoutes(app, {
    db: services.db,
    metrics: services.metrics,
    openApi: buildOpenApiDocument,
    role: deps.role,
    worker: deps.worker,
    lifecycle: deps.lifecycle,
  });
  registerConsole(app);
  registerPreferencePages(app, services);
  await registerIngestRateLimit(app, config.rateLimitPerMinute ?? 0);
  registerSegmentRoutes(app, services, ingestTelemetry(services.metrics));
  registerHookRoutes(app, services.callbackIntake, {
    record: (provider, outcome, n) => services.metrics.callback(provider, outcome, n),
  });
  await registerGraphQL(app, { services, production: config.production });

  return app;
}
