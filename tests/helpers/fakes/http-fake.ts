import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake received. */
export interface RecordedRequest {
  /** Upper-case method, e.g. `POST`. */
  method: string;
  /** Path and query string as sent, e.g. `/v3/mail/send?x=1`. */
  path: string;
  /** Path without the query string. */
  pathname: string;
  query: URLSearchParams;
  /** Node's headers: lower-case names. */
  headers: IncomingHttpHeaders;
  /** The exact body bytes received. */
  rawBody: Buffer;
  /** `rawBody` as UTF-8. */
  body: string;
  /** The body parsed as JSON; `undefined` when it is empty or not JSON. */
  json: unknown;
  /** The body parsed as a form when it is `application/x-www-form-urlencoded`, else `undefined`. */
  form: URLSearchParams | undefined;
}

/** What the fake answers. Every field is optional: `{}` is an empty 200. */
export interface FakeResponse {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string>;
  /** A string or Buffer is sent as is; anything else as JSON (with `content-type: application/json`). */
  body?: unknown;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Never answer; the request stays open until the client gives up or {@link HttpFake.close} runs. */
  hang?: boolean;
  /** Destroy the connection without answering (the client sees a reset socket). */
  destroy?: boolean;
}

/** Decides the answer to a request; may be async. A thrown error becomes a 500 with its message. */
export type Responder = (req: RecordedRequest) => FakeResponse | Promise<FakeResponse>;

/**
 * A small programmable HTTP server on 127.0.0.1 for testing providers against a local fake of
 * their real API. It records every request and answers through a responder you control.
 *
 * @example
 * ```ts
 * const fake = await HttpFake.start((req) =>
 *   req.headers.authorization === 'Bearer k' ? { status: 202, headers: { 'x-message-id': 'm1' } } : { status: 401 },
 * );
 * fake.respondOnce({ status: 429, headers: { 'retry-after': '7' } }); // the next request only
 * await provider.send({ ...ctx, settings: { baseUrl: fake.url, apiKey: 'k' } });
 * expect(fake.requests[0].json).toEqual({ ... });
 * await fake.close();
 * ```
 */
export class HttpFake {
  /** Every request received, oldest first. */
  readonly requests: RecordedRequest[] = [];
  /** Errors thrown by the responder (also answered as 500), for assertions. */
  readonly errors: Error[] = [];
  private responder: Responder;
  private readonly queue: FakeResponse[] = [];

  private constructor(
    private readonly server: Server,
    /** The port the fake listens on. */
    readonly port: number,
    responder: Responder,
  ) {
    this.responder = responder;
  }

  /** Starts a fake on 127.0.0.1 on a free port. Without a responder it answers an empty 200. */
  static async start(responder: Responder | FakeResponse = {}): Promise<HttpFake> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const fake = new HttpFake(server, (server.address() as AddressInfo).port, toResponder(responder));
    server.on('request', (req, res) => void fake.handle(req, res));
    return fake;
  }

  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The most recent request, if any. */
  get lastRequest(): RecordedRequest | undefined {
    return this.requests[this.requests.length - 1];
  }

  /** Replaces the responder for every later request (queued {@link respondOnce} answers still go first). */
  respond(responder: Responder | FakeResponse): void {
    this.responder = toResponder(responder);
  }

  /** Queues answers for the next requests, one each, before the responder is used again. */
  respondOnce(...responses: FakeResponse[]): void {
    this.queue.push(...responses);
  }

  /** Forgets recorded requests, errors and queued answers (the responder stays). */
  reset(): void {
    this.requests.length = 0;
    this.errors.length = 0;
    this.queue.length = 0;
  }

  /** Stops listening and drops every open connection, hanging ones included. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // the client went away
    }
    const recorded = record(req, Buffer.concat(chunks));
    this.requests.push(recorded);

    let answer: FakeResponse;
    try {
      answer = this.queue.shift() ?? (await this.responder(recorded));
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.errors.push(error);
      answer = { status: 500, body: { message: error.message } };
    }
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (answer.hang) return;
    if (answer.destroy) {
      req.socket.destroy();
      return;
    }
    send(res, answer);
  }
}

/**
 * A `http://127.0.0.1:<port>` URL where nothing listens, for "connection refused" tests.
 * (The port was free a moment ago; another process could in theory take it.)
 */
export async function refusedUrl(): Promise<string> {
  return `http://127.0.0.1:${await closedPort()}`;
}

/** A local port that was just bound and released, so connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function toResponder(responder: Responder | FakeResponse): Responder {
  return typeof responder === 'function' ? responder : () => responder;
}

function record(req: IncomingMessage, rawBody: Buffer): RecordedRequest {
  const parsed = new URL(req.url ?? '/', 'http://127.0.0.1');
  const body = rawBody.toString('utf8');
  let json: unknown;
  if (body.length > 0) {
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
  }
  const isForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  return {
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    pathname: parsed.pathname,
    query: parsed.searchParams,
    headers: req.headers,
    rawBody,
    body,
    json,
    form: isForm ? new URLSearchParams(body) : undefined,
  };
}

function send(res: ServerResponse, answer: FakeResponse): void {
  const headers: Record<string, string> = { ...answer.headers };
  let payload: string | Buffer | undefined;
  if (typeof answer.body === 'string' || Buffer.isBuffer(answer.body)) {
    payload = answer.body;
  } else if (answer.body !== undefined) {
    payload = JSON.stringify(answer.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
  }
  res.writeHead(answer.status ?? 200, headers);
  res.end(payload);
}
