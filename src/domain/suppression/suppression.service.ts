import type { Database, Sql } from '../../db/database';
import { fromDbTime, toDbTime } from '../../db/dialect';
import { chunks, placeholders } from '../../db/rows';
import { ALL_CHANNELS, Channel } from '../channel/channel.enum';
import { ADDRESS_PATHS } from '../channel/channel-address';
import { singleEmailAddress } from '../channel/email-address';
import { InvalidInputError } from '../domain-error';
import { newestFirstPage } from '../newest-first';
import type { Page } from '../pagination';
import { normalizeAddress } from '../provider/provider-callback';
import type { RequestContext } from '../request-context';
import { Suppression } from './suppression.entity';

/**
 * Why Pigeon suppressed an address by itself (README, "Delivery tracking" → "Suppression"). A suppression
 * added through GraphQL (`addSuppression`) carries the caller's reason instead.
 */
export const SuppressionReason = {
  /** The provider reported a hard bounce (permanent). */
  HARD_BOUNCE: 'HARD_BOUNCE',
  /** The recipient reported the message as spam (permanent). */
  SPAM_COMPLAINT: 'SPAM_COMPLAINT',
  /** The recipient replied STOP: Twilio error 21610, in a callback or in the answer to a send (permanent). */
  STOP: 'STOP',
  /** Soft bounces of {@link SOFT_BOUNCE_LIMIT} different deliveries within 7 days (for 7 days). */
  SOFT_BOUNCES: 'SOFT_BOUNCES',
} as const;

export type SuppressionReasonCode = (typeof SuppressionReason)[keyof typeof SuppressionReason];

/** How many different deliveries must soft-bounce within {@link SOFT_BOUNCE_WINDOW_MS} to suppress the address. */
export const SOFT_BOUNCE_LIMIT = 3;
/** The window soft bounces are counted in, and how long the suppression they cause lasts: 7 days. */
export const SOFT_BOUNCE_WINDOW_MS = 7 * 86_400_000;

/**
 * How long after the counting window a soft bounce is kept: a provider's callback may arrive late (providers
 * retry a webhook for up to about three days), and a late bounce is counted in the window before its own time.
 */
export const SOFT_BOUNCE_LATE_MS = 3 * 86_400_000;

/** Twilio's error code for "the recipient replied STOP" (attempts to send to it fail with it). */
export const TWILIO_STOP_CODE = '21610';

/**
 * The suppression a provider's error code calls for, or null: Twilio's 21610 on SMS or WhatsApp is
 * {@link SuppressionReason.STOP}. Used for the answer to a send and for callbacks alike.
 *
 * @example
 * ```ts
 * suppressionForErrorCode(Channel.SMS, '21610'); // 'STOP'
 * suppressionForErrorCode(Channel.EMAIL, '21610'); // null
 * ```
 */
export function suppressionForErrorCode(
  channel: Channel,
  code: string | number | null | undefined,
): SuppressionReasonCode | null {
  if (code === null || code === undefined || String(code) !== TWILIO_STOP_CODE) return null;
  return channel === Channel.SMS || channel === Channel.WHATSAPP ? SuppressionReason.STOP : null;
}

/**
 * The key of a (channel, address) in the map {@link SuppressionService.activeIn} returns: the channel and the
 * normalized address (`normalizeAddress`: e-mail trimmed and lower-cased, other channels trimmed).
 *
 * @example
 * ```ts
 * suppressionKey(Channel.EMAIL, ' Ada@Example.com') === suppressionKey(Channel.EMAIL, 'ada@example.com'); // true
 * ```
 */
export function suppressionKey(channel: Channel, address: string): string {
  return `${channel}|${normalizeAddress(channel, address)}`;
}

/**
 * Counts suppressions as they are recorded (the process's metrics implement it:
 * `pigeon_suppressions_total{channel,reason}`); the domain never imports the metrics code.
 */
export interface SuppressionObserver {
  /** A (channel, address) was suppressed, or its suppression was made longer or permanent. */
  suppressed(channel: Channel, reason: string): void;
}

/** A suppression to record: `expiresAt` null or absent means until removed. */
export interface SuppressionInput {
  channel: Channel;
  address: string;
  reason: string;
  expiresAt?: Date | null;
}

/** One soft bounce of one delivery. */
export interface SoftBounceInput {
  channel: Channel;
  address: string;
  deliveryId: string;
  /** When it bounced (the provider's time); the 7-day window ends here. */
  at: Date;
}

/** Keeps suppressions matching every given condition (`address` compared normalized). */
export interface SuppressionFilter {
  channel?: Channel | null;
  address?: string | null;
}

interface SuppressionRow {
  id: string | number;
  workspace_id: number;
  channel: string;
  address: string;
  reason: string;
  created_at: unknown;
  expires_at: unknown;
}

function toSuppression(row: SuppressionRow): Suppression {
  return Object.assign(new Suppression(), {
    id: String(row.id),
    workspaceId: Number(row.workspace_id),
    channel: row.channel as Channel,
    address: row.address,
    reason: row.reason,
    createdAt: fromDbTime(row.created_at),
    expiresAt: row.expires_at === null || row.expires_at === undefined ? null : fromDbTime(row.expires_at),
  });
}

/** The longest address the `address` columns hold. */
const MAX_ADDRESS_LENGTH = 320;
const MAX_REASON_LENGTH = 100;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
/** A phone number as people write it (optionally `whatsapp:`-prefixed): 6–15 digits, `+`, spaces, `-`, `.`, `()`. */
const PHONE = /^(whatsapp:)?\+?[0-9 ().-]+$/i;

const fail = (field: string, problem: string): never => {
  throw new InvalidInputError(`${field}: ${problem}`, { field });
};

/** A channel that has addresses to suppress (WEBHOOK's address is its provider's URL). */
function checkChannel(channel: unknown): Channel {
  if (!ALL_CHANNELS.includes(channel as Channel)) fail('channel', `unknown channel ${String(channel)}`);
  if (ADDRESS_PATHS[channel as Channel].length === 0) {
    fail('channel', `${String(channel)} has no recipient address to suppress`);
  }
  return channel as Channel;
}

/** An address given by a caller (GraphQL), normalized; BAD_USER_INPUT when it cannot be one of `channel`. */
function checkAddress(channel: Channel, address: unknown): string {
  if (typeof address !== 'string' || address.trim() === '') return fail('address', 'must not be empty');
  const trimmed = address.trim();
  if (trimmed.length > MAX_ADDRESS_LENGTH) fail('address', `must be at most ${MAX_ADDRESS_LENGTH} characters`);
  if (CONTROL.test(trimmed)) fail('address', 'must not contain control characters');
  if (channel === Channel.EMAIL) {
    const check = singleEmailAddress(trimmed);
    if (!check.ok) fail('address', check.reason);
  }
  if (channel === Channel.SMS || channel === Channel.WHATSAPP) {
    const digits = trimmed.replace(/\D/g, '').length;
    if (!PHONE.test(trimmed) || digits < 6 || digits > 15) {
      fail('address', 'must be a phone number (E.164, e.g. +14155550100)');
    }
  }
  return normalizeAddress(channel, trimmed);
}

function checkReason(reason: unknown): string {
  if (typeof reason !== 'string' || reason.trim() === '') return fail('reason', 'must not be empty');
  const trimmed = reason.trim();
  if (trimmed.length > MAX_REASON_LENGTH) fail('reason', `must be at most ${MAX_REASON_LENGTH} characters`);
  if (CONTROL.test(trimmed)) fail('reason', 'must not contain control characters');
  return trimmed;
}

/**
 * Suppressed addresses (README, "Delivery tracking" → "Suppression"): the only writer of `suppressions` and
 * `soft_bounces`. A suppressed (channel, address) of a workspace makes that channel unavailable to routing
 * (history `SUPPRESSED`), also for REQUIRED topics. Addresses are stored and compared normalized: e-mail
 * lower-cased, phone numbers as given.
 *
 * The `…In` methods run in the caller's transaction (the send pipeline reads {@link activeIn} in the
 * transaction that records its routing decision; the callback applier records bounces in the one that
 * applies a callback); the others open their own.
 *
 * @example
 * ```ts
 * await db.transaction((tx) =>
 *   suppressions.suppressIn(tx, ctx, { channel: Channel.EMAIL, address: 'Ada@Example.com', reason: 'HARD_BOUNCE' }),
 * );
 * const active = await suppressions.activeIn(db, ctx, [{ channel: Channel.EMAIL, address: 'ada@example.com' }], new Date());
 * active.get(suppressionKey(Channel.EMAIL, 'ada@example.com'))?.reason; // 'HARD_BOUNCE'
 * ```
 */
export class SuppressionService {
  constructor(
    private readonly db: Database,
    private readonly observer?: SuppressionObserver,
  ) {}

  /**
   * Suppresses (channel, address) — an upsert by (workspace, channel, normalized address). A permanent
   * suppression (`expiresAt` null) is never shortened into a temporary one; a permanent one replaces a
   * temporary one; of two temporary ones the later expiry wins; an expired one is replaced. When the stored
   * row changes it takes the new reason and `createdAt` now; otherwise it is left as it was.
   */
  async suppressIn(tx: Sql, ctx: RequestContext, input: SuppressionInput): Promise<void> {
    const address = normalizeAddress(input.channel, input.address);
    if (!address) return;
    const reason = input.reason.slice(0, MAX_REASON_LENGTH);
    const now = new Date();
    const expiresAt = input.expiresAt ? toDbTime(input.expiresAt) : null;
    const d = tx.dialect;
    const key = [ctx.workspaceId, input.channel, address];
    // read (and lock) first only to count it: the upsert below decides by itself, atomically
    const [before] = await tx.rows<SuppressionRow>(
      `SELECT * FROM suppressions WHERE workspace_id = ? AND channel = ? AND address = ?${d.forUpdate}`,
      key,
    );
    // the stored row is replaced when it is temporary and the new one is permanent, lasts longer, or it expired
    const replaces = `expires_at IS NOT NULL AND (${d.inserted('expires_at')} IS NULL OR ${d.inserted(
      'expires_at',
    )} > expires_at OR expires_at <= ${d.inserted('created_at')})`;
    // expires_at last: MySQL/MariaDB assign left to right, and the conditions must read the stored value
    await tx.run(
      `INSERT INTO suppressions (workspace_id, channel, address, reason, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
       ${d.onConflictUpdate(
         ['workspace_id', 'channel', 'address'],
         `reason = CASE WHEN ${replaces} THEN ${d.inserted('reason')} ELSE reason END,
          created_at = CASE WHEN ${replaces} THEN ${d.inserted('created_at')} ELSE created_at END,
          expires_at = CASE WHEN ${replaces} THEN ${d.inserted('expires_at')} ELSE expires_at END`,
       )}`,
      [...key, reason, toDbTime(now), expiresAt],
    );
    if (!before || wouldReplace(toSuppression(before), input.expiresAt ?? null, now)) {
      this.observer?.suppressed(input.channel, reason);
    }
  }

  /**
   * Records a soft bounce of `deliveryId` to (channel, address) — once per delivery, however often it is
   * reported — and, when {@link SOFT_BOUNCE_LIMIT} different deliveries soft-bounced within the 7 days up to
   * `at`, suppresses the address for 7 days from `at` ({@link SuppressionReason.SOFT_BOUNCES}). Returns true
   * when it suppressed.
   *
   * Safe under concurrency: the bounces are counted after the insert, in the same transaction, with a
   * locking read (MySQL/MariaDB `FOR UPDATE`: it waits for other transactions' uncommitted bounces of the
   * address, so of two workers recording the last bounces at once the later count sees both; when each waits
   * for the other the database breaks the deadlock and the transaction is run again). SQLite has one writer.
   */
  async softBounceIn(tx: Sql, ctx: RequestContext, input: SoftBounceInput): Promise<boolean> {
    const address = normalizeAddress(input.channel, input.address);
    if (!address) return false;
    const d = tx.dialect;
    const key = [ctx.workspaceId, input.channel, address];
    await tx.run(
      `INSERT INTO soft_bounces (workspace_id, channel, address, delivery_id, bounced_at) VALUES (?, ?, ?, ?, ?)
       ${d.onConflictIgnore(['workspace_id', 'channel', 'address', 'delivery_id'])}`,
      [...key, input.deliveryId, toDbTime(input.at)],
    );
    const rows = await tx.rows<{ delivery_id: string; bounced_at: unknown }>(
      `SELECT delivery_id, bounced_at FROM soft_bounces WHERE workspace_id = ? AND channel = ? AND address = ?${d.forUpdate}`,
      key,
    );
    const from = input.at.getTime() - SOFT_BOUNCE_WINDOW_MS;
    const recent = new Set(
      rows
        .filter((r) => {
          const t = fromDbTime(r.bounced_at).getTime();
          return t > from && t <= input.at.getTime();
        })
        .map((r) => r.delivery_id),
    );
    if (recent.size < SOFT_BOUNCE_LIMIT) return false;
    await this.suppressIn(tx, ctx, {
      channel: input.channel,
      address,
      reason: SuppressionReason.SOFT_BOUNCES,
      expiresAt: new Date(input.at.getTime() + SOFT_BOUNCE_WINDOW_MS),
    });
    return true;
  }

  /**
   * Deletes the soft bounces no count can need any more — recorded more than the window plus
   * {@link SOFT_BOUNCE_LATE_MS} before `now` (10 days) — in statements of at most `batchSize` rows, each
   * its own short transaction; returns how many. Run hourly by the processes with workers
   * (`ops/housekeeping.ts`); without it the table would keep every soft bounce ever reported.
   */
  async purgeSoftBounces(now = new Date(), batchSize = 1000): Promise<number> {
    const before = toDbTime(new Date(now.getTime() - SOFT_BOUNCE_WINDOW_MS - SOFT_BOUNCE_LATE_MS));
    let purged = 0;
    for (;;) {
      // ids grow with time, so the old rows are at the head of the primary key
      const ids = (
        await this.db.rows<{ id: string | number }>(
          `SELECT id FROM soft_bounces WHERE bounced_at < ? ORDER BY id LIMIT ${batchSize}`,
          [before],
        )
      ).map((r) => String(r.id));
      if (!ids.length) return purged;
      await this.db.run(`DELETE FROM soft_bounces WHERE id IN (${placeholders(ids.length)})`, ids);
      purged += ids.length;
      if (ids.length < batchSize) return purged;
    }
  }

  /**
   * The suppressions in force at `now` (not expired) for these (channel, address) pairs, keyed by
   * {@link suppressionKey}; pairs without one are absent. One query per 1,000 addresses.
   */
  async activeIn(
    tx: Sql,
    ctx: RequestContext,
    pairs: readonly { channel: Channel; address: string }[],
    now: Date,
  ): Promise<Map<string, Suppression>> {
    const found = new Map<string, Suppression>();
    const wanted = new Set(pairs.map((p) => suppressionKey(p.channel, p.address)));
    const addresses = [...new Set(pairs.map((p) => normalizeAddress(p.channel, p.address)).filter(Boolean))];
    const channels = [...new Set(pairs.map((p) => p.channel))];
    for (const part of chunks(addresses)) {
      // the channels too, so that the unique key (workspace, channel, address) serves the look-up
      const rows = await tx.rows<SuppressionRow>(
        `SELECT * FROM suppressions WHERE workspace_id = ? AND channel IN (${placeholders(channels.length)})
         AND address IN (${placeholders(part.length)}) AND (expires_at IS NULL OR expires_at > ?)`,
        [ctx.workspaceId, ...channels, ...part, toDbTime(now)],
      );
      for (const row of rows) {
        const key = suppressionKey(row.channel as Channel, row.address);
        if (wanted.has(key)) found.set(key, toSuppression(row));
      }
    }
    return found;
  }

  /** The suppressions in force (not expired), newest first, as a keyset page. */
  list(
    ctx: RequestContext,
    filter: SuppressionFilter,
    first: number,
    after?: string | null,
  ): Promise<Page<Suppression>> {
    const where = ['workspace_id = ?', '(expires_at IS NULL OR expires_at > ?)'];
    const params: unknown[] = [ctx.workspaceId, toDbTime(new Date())];
    if (filter.channel) {
      where.push('channel = ?');
      params.push(checkChannel(filter.channel));
    }
    if (filter.address !== null && filter.address !== undefined) {
      // without a channel, an address matches as given and lower-cased (e-mail is stored lower-cased)
      const given = filter.address.trim();
      const variants = filter.channel
        ? [normalizeAddress(filter.channel, given)]
        : [...new Set([given, given.toLowerCase()])];
      where.push(`address IN (${placeholders(variants.length)})`);
      params.push(...variants);
    }
    return newestFirstPage(this.db, {
      table: 'suppressions',
      timeColumn: 'created_at',
      where,
      params,
      first,
      after,
      toItem: toSuppression,
      idPattern: /^\d{1,19}$/,
      keyOf: (s: Suppression) => ({ time: s.createdAt, id: s.id }),
    });
  }

  /**
   * Suppresses (channel, address) until removed, with the caller's reason (GraphQL `addSuppression`);
   * returns the stored suppression — an earlier permanent one stays as it was. BAD_USER_INPUT for a
   * channel without addresses (WEBHOOK), an address that is not one of the channel, or an empty reason.
   */
  async add(ctx: RequestContext, channel: Channel, address: string, reason: string): Promise<Suppression> {
    const checkedChannel = checkChannel(channel);
    const normalized = checkAddress(checkedChannel, address);
    const checkedReason = checkReason(reason);
    return this.db.transaction(async (tx) => {
      await this.suppressIn(tx, ctx, { channel: checkedChannel, address: normalized, reason: checkedReason });
      const [row] = await tx.rows<SuppressionRow>(
        'SELECT * FROM suppressions WHERE workspace_id = ? AND channel = ? AND address = ?',
        [ctx.workspaceId, checkedChannel, normalized],
      );
      return toSuppression(row);
    });
  }

  /**
   * Lifts the suppression of (channel, address) and forgets its soft bounces (so the next one does not
   * suppress it again at once); false when it was not suppressed.
   */
  async remove(ctx: RequestContext, channel: Channel, address: string): Promise<boolean> {
    const checkedChannel = checkChannel(channel);
    const normalized = checkAddress(checkedChannel, address);
    const key = [ctx.workspaceId, checkedChannel, normalized];
    return this.db.transaction(async (tx) => {
      const removed = await tx.run(
        'DELETE FROM suppressions WHERE workspace_id = ? AND channel = ? AND address = ?',
        key,
      );
      await tx.run('DELETE FROM soft_bounces WHERE workspace_id = ? AND channel = ? AND address = ?', key);
      return removed > 0;
    });
  }

  /** {@link suppressIn} in a transaction of its own (a provider's answer to a send, outside any transaction). */
  suppress(ctx: RequestContext, input: SuppressionInput): Promise<void> {
    return this.db.transaction((tx) => this.suppressIn(tx, ctx, input));
  }
}

/** Whether recording a suppression expiring at `expiresAt` changes `stored` (see {@link SuppressionService.suppressIn}). */
function wouldReplace(stored: Suppression, expiresAt: Date | null, now: Date): boolean {
  if (stored.expiresAt === null) return false;
  return expiresAt === null || expiresAt > stored.expiresAt || stored.expiresAt <= now;
}
