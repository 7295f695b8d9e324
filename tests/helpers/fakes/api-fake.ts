import { HttpFake, type FakeResponse, type RecordedRequest } from './http-fake';

/**
 * The shell every fake of a provider's HTTP API shares: an {@link HttpFake} on 127.0.0.1 whose
 * requests are answered by {@link answer}, its base URL (for the provider's `baseUrl` setting) and
 * `close()`. The raw fake stays reachable as `http`, e.g. to force an answer with `http.respondOnce(...)`.
 *
 * @example
 * ```ts
 * class AcmeFake extends ApiFake {
 *   static async start(): Promise<AcmeFake> {
 *     return new AcmeFake(await HttpFake.start());
 *   }
 *   protected answer(req: RecordedRequest): FakeResponse {
 *     return req.pathname === '/v1/messages' ? { status: 201, body: { id: 'm-1' } } : { status: 404 };
 *   }
 * }
 * ```
 */
export abstract class ApiFake {
  protected constructor(readonly http: HttpFake) {
    http.respond((req) => this.answer(req));
  }

  /** The base URL to put in the provider's `baseUrl` setting. */
  get url(): string {
    return this.http.url;
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /** How the real API answers `req`. */
  protected abstract answer(req: RecordedRequest): FakeResponse | Promise<FakeResponse>;
}
