import { Batcher } from '../../db/batcher';
import { isConnectionError, isUniqueViolation, type Database, type Sql } from '../../db/database';
import { chunks } from '../../db/rows';
import { StoreUnavailableError } from '../domain-error';
import { jsonDeeperThan, MAX_JSON_DEPTH, wellFormedJson } from '../json-input';
import type { CallbackTarget, ProviderConfigService } from '../provider/provider-config.service';
import { CallbackRejectedError, type CallbackEvent, type CallbackRequest } from '../provider/provider-callback';
import type { ProviderRegistry } from '../provider/provider-registry';
import { callbackKey, type CallbackStore, type NewCallback } from './callback-store';

/** A configuration that takes callbacks: enabled, its plugin installed and with `callbacks`. */
export type HookTarget = CallbackTarget;

/** What storing one request's events did. */
export interface IntakeResult {
  /** Events stored now. */
  received: number;
  /** Events stored before (a retried callback), or repeated within the request: not stored again. */
  duplicates: number;
}

/** The request as the route hands it over: the URL Pigeon is reached at is added here (from PIGEON_PUBLIC_URL). */
export type IncomingCallback = Omit<CallbackRequest, 'url'> & {
  /** The callback id of the URL (`/hooks/<id>`). */
  hookId: string;
  /** The request's query string as sent, without `?` ('' when none): Twilio signs the URL with it. */
  query: string;
};

/** Thrown when PIGEON_PUBLIC_URL is not set: callbacks cannot be verified (Twilio signs the public URL). */
export class CallbacksDisabledError extends Error {
  readonly code = 'CALLBACKS_DISABLED';
  constructor() {
    super(
      'Provider callbacks are off: set PIGEON_PUBLIC_URL to the URL providers reach Pigeon at (callback URLs ' +
        'and their signatures depend on it)',
    );
    this.name = 'CallbacksDisabledError';
  }
}

interface StoreRequest {
  target: HookTarget;
  events: CallbackEvent[];
  receivedAt: Date;
}

const UNIQUE_RACE_RETRIES = 3;

/** Requests (their events) committed in one transaction, at most. */
const GROUP_MAX_EVENTS = 1000;

/**
 * The event with its `raw` item storable by every engine: nested at most {@link MAX_JSON_DEPTH} levels (else
 * the request is malformed; no provider nests so deep) and lone surrogates replaced by U+FFFD (MariaDB refuses
 * JSON holding them).
 */
function storable(event: CallbackEvent): CallbackEvent {
  if (!event.raw) return event;
  if (jsonDeeperThan(event.raw, MAX_JSON_DEPTH)) {
    throw new CallbackRejectedError(
      `an event nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`,
      'malformed',
    );
  }
  // JSON.stringify writes lone surrogates (only those) as \udXXX escapes
  return /\\ud[89a-f]/i.test(JSON.stringify(event.raw)) ? { ...event, raw: wellFormedJson(event.raw) } : event;
}

/**
 * The intake of provider callbacks (README, "Delivery tracking"; `POST /hooks/<callback id>`): finds the
 * configuration a callback URL names, has its plugin verify the raw request and read its events, and stores
 * them in `provider_callbacks` (through the {@link CallbackStore}, its owner) before the provider gets its `2xx`.
 * A provider's event id is stored once per configuration (providers retry): a repeated one is a duplicate.
 * Stored rows wait with `applied_at` NULL for the workers, which apply them to deliveries.
 *
 * Concurrent requests are committed together (group commit), as the event log does.
 */
export class CallbackIntakeService {
  private readonly committer: Batcher<StoreRequest, IntakeResult | Error>;
  /** Concurrent requests look their configurations up in one query (every request reads the database). */
  private readonly finder = new Batcher<string, CallbackTarget | null>(
    async (ids) => {
      const found = await this.configs.byCallbackIds(ids);
      return ids.map((id) => found.get(id) ?? null);
    },
    { maxInFlight: 2, maxItems: 200 },
  );

  constructor(
    private readonly db: Database,
    /** The owner of `provider_callbacks`. */
    private readonly callbacks: CallbackStore,
    private readonly configs: ProviderConfigService,
    private readonly registry: ProviderRegistry,
    /** PIGEON_PUBLIC_URL without its trailing slash; without it callbacks are refused ({@link CallbacksDisabledError}). */
    readonly publicUrl: string | undefined,
  ) {
    this.committer = new Batcher((requests) => this.commitGroup(requests), {
      maxInFlight: db.kind === 'sqlite' ? 1 : 4,
      gatherTurn: db.kind === 'sqlite', // see the event log's committer
      overlapAt: GROUP_MAX_EVENTS,
      maxItems: GROUP_MAX_EVENTS,
      sizeOf: (r) => Math.max(1, r.events.length),
    });
  }

  /**
   * The configuration behind callback id `hookId` when it takes callbacks; null for an unknown id, a disabled
   * configuration, or a plugin without callbacks (the caller answers all three alike: 404).
   */
  async target(hookId: string): Promise<HookTarget | null> {
    if (!this.publicUrl) throw new CallbacksDisabledError();
    if (!/^[A-Za-z0-9_-]{1,48}$/.test(hookId)) return null;
    let found: CallbackTarget | null;
    try {
      found = await this.finder.submit(hookId);
    } catch (err) {
      throw new StoreUnavailableError(err);
    }
    if (!found || !found.enabled || !this.registry.get(found.provider)?.callbacks) return null;
    return found;
  }

  /**
   * The events of a callback to `target`: verified by the plugin over the exact raw bytes, then read. Throws
   * {@link CallbackRejectedError}: `signature`/`timestamp` (answer 401) or `malformed` (400). Events the plugin
   * skips (SendGrid's `processed`, Twilio's `sent`, …) are not in the list.
   */
  read(target: HookTarget, incoming: IncomingCallback): CallbackEvent[] {
    if (!this.publicUrl) throw new CallbacksDisabledError();
    const callbacks = this.registry.get(target.provider)?.callbacks;
    if (!callbacks)
      throw new CallbackRejectedError(`${target.provider}: this provider takes no callbacks`, 'signature');
    if (target.problem) {
      throw new CallbackRejectedError(
        `${target.provider}: the configuration cannot be used to verify callbacks: ${target.problem}`,
        'signature',
      );
    }
    const request: CallbackRequest = {
      rawBody: incoming.rawBody,
      headers: incoming.headers,
      now: incoming.now,
      url: `${this.publicUrl}/hooks/${incoming.hookId}${incoming.query ? `?${incoming.query}` : ''}`,
    };
    callbacks.verify(request, target.settings);
    return callbacks.parse(request, target.settings).map(storable);
  }

  /**
   * Stores `events` of `target` (one transaction, shared with concurrent requests), each provider event id once:
   * resolves once committed. Throws {@link StoreUnavailableError} when the database cannot commit (nothing is
   * stored then, and the provider will retry).
   */
  async store(target: HookTarget, events: CallbackEvent[], receivedAt = new Date()): Promise<IntakeResult> {
    if (!events.length) return { received: 0, duplicates: 0 };
    const result = await this.committer.submit({ target, events, receivedAt });
    if (result instanceof Error) throw result;
    return result;
  }

  /** One transaction for the group; when it fails for another reason than the database, each request alone. */
  private async commitGroup(requests: StoreRequest[]): Promise<(IntakeResult | Error)[]> {
    try {
      return await this.commitWithRetry(requests);
    } catch (err) {
      if (requests.length === 1 || isConnectionError(err)) return requests.map(() => new StoreUnavailableError(err));
      return Promise.all(
        requests.map((r) =>
          this.commitWithRetry([r]).then(
            (res) => res[0],
            (e: unknown) => new StoreUnavailableError(e),
          ),
        ),
      );
    }
  }

  private async commitWithRetry(requests: StoreRequest[]): Promise<IntakeResult[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction((tx) => this.storeIn(tx, requests));
      } catch (err) {
        // a concurrent request stored one of these events first: run again, it is a duplicate now
        if (isUniqueViolation(err) && attempt < UNIQUE_RACE_RETRIES) continue;
        throw err;
      }
    }
  }

  private async storeIn(tx: Sql, requests: StoreRequest[]): Promise<IntakeResult[]> {
    const results = requests.map((r) => ({ received: 0, duplicates: r.events.length }));
    // the first of each (configuration, event id) in the group is the one to store
    const firsts = new Map<string, NewCallback & { request: number }>();
    requests.forEach((r, i) => {
      for (const event of r.events) {
        const k = callbackKey(r.target.id, event.eventId);
        if (!firsts.has(k)) {
          firsts.set(k, {
            request: i,
            workspaceId: r.target.workspaceId,
            providerConfigId: r.target.id,
            provider: r.target.provider,
            channel: r.target.channel,
            event,
            receivedAt: r.receivedAt,
          });
        }
      }
    });
    // retried callbacks are the exception: insert first, and look for the stored ones only when the unique key
    // refuses a statement (both engines undo just that statement; the transaction goes on)
    for (const part of chunks([...firsts.values()])) {
      let fresh = part;
      try {
        await this.callbacks.insertIn(tx, fresh, false);
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        const stored = await this.callbacks.storedKeysIn(tx, fresh);
        fresh = fresh.filter((f) => !stored.has(callbackKey(f.providerConfigId, f.event.eventId)));
        // a row committed meanwhile by another transaction is skipped by the key
        if (fresh.length) await this.callbacks.insertIn(tx, fresh, true);
      }
      for (const f of fresh) {
        results[f.request].received++;
        results[f.request].duplicates--;
      }
    }
    return results;
  }
}
