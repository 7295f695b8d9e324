import { createHmac, timingSafeEqual } from 'node:crypto';

/** Whom a link is for: a workspace's user and, for an unsubscribe link, a topic (null: all topics). */
export interface LinkSubject {
  workspaceId: number;
  userId: string;
  topic: string | null;
}

/** The links a template renders (`{{unsubscribeUrl}}`, `{{preferencesUrl}}`) for one recipient and topic. */
export interface RecipientLinks {
  unsubscribeUrl: string;
  preferencesUrl: string;
}

const b64 = (buf: Buffer | string) => Buffer.from(buf).toString('base64url');

/**
 * How long a link works after it was made: 180 days, well past the 30 days an unsubscribe link must keep
 * working after a commercial email was sent (CAN-SPAM), while a link found in an old mailbox stops one day.
 */
export const LINK_TTL_MS = 180 * 86_400_000;

export interface PreferenceLinksOptions {
  /** Secrets links made before a rotation were signed with (PIGEON_SECRET_PREVIOUS): still accepted. */
  previousSecrets?: readonly string[];
  ttlMs?: number;
  /** The clock (tests). */
  now?: () => Date;
}

const linkKey = (secret: string) => createHmac('sha256', secret).update('pigeon preference links v1').digest();

/**
 * Signed unsubscribe and preference links (README, "Preferences and topics"). A token is
 * `base64url(JSON [workspaceId, userId, topic, kind, expires])` `.` `base64url(HMAC-SHA256)`, keyed by a key
 * derived from PIGEON_SECRET: anyone holding it acts for that user only, only on what it names, and only until
 * it expires ({@link LINK_TTL_MS}; `expires` in seconds since the epoch). Tokens signed with a previous secret
 * (PIGEON_SECRET_PREVIOUS) are accepted, so rotating the secret breaks no link already sent. Links need
 * PIGEON_PUBLIC_URL and PIGEON_SECRET; without either, {@link enabled} is false and none is made.
 */
export class PreferenceLinks {
  private readonly key: Buffer | null;
  private readonly keys: Buffer[];
  private readonly ttlMs: number;
  private readonly now: () => Date;

  constructor(
    readonly publicUrl: string | undefined,
    secret: string | undefined,
    options: PreferenceLinksOptions = {},
  ) {
    this.key = secret ? linkKey(secret) : null;
    this.keys = this.key ? [this.key, ...(options.previousSecrets ?? []).map(linkKey)] : [];
    this.ttlMs = options.ttlMs ?? LINK_TTL_MS;
    this.now = options.now ?? (() => new Date());
  }

  get enabled(): boolean {
    return Boolean(this.publicUrl && this.key);
  }

  /** The links for one recipient and topic, or null when links are not enabled. */
  forRecipient(subject: LinkSubject): RecipientLinks | null {
    if (!this.enabled) return null;
    return {
      unsubscribeUrl: `${this.publicUrl}/unsubscribe/${this.token(subject, 'u')}`,
      preferencesUrl: `${this.publicUrl}/preferences/${this.token({ ...subject, topic: null }, 'p')}`,
    };
  }

  /**
   * What a token of `kind` ('u' unsubscribe, 'p' preferences) names; null when it is not one these keys
   * signed, or it has expired.
   */
  verify(token: string, kind: 'u' | 'p'): LinkSubject | null {
    if (!this.key || typeof token !== 'string' || token.length > 2048) return null;
    const dot = token.indexOf('.');
    if (dot <= 0) return null;
    const payload = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    // every key is compared (in constant time each), so the time taken does not tell which one matched
    let signed = false;
    for (const key of this.keys) {
      const expected = sign(key, payload);
      if (given.length === expected.length && timingSafeEqual(given, expected)) signed = true;
    }
    if (!signed) return null;
    try {
      const [workspaceId, userId, topic, k, expires] = JSON.parse(
        Buffer.from(payload, 'base64url').toString('utf8'),
      ) as unknown[];
      if (k !== kind || !Number.isInteger(workspaceId) || typeof userId !== 'string') return null;
      if (topic !== null && typeof topic !== 'string') return null;
      if (typeof expires !== 'number' || expires * 1000 <= this.now().getTime()) return null;
      return { workspaceId: workspaceId as number, userId, topic };
    } catch {
      return null;
    }
  }

  private token(subject: LinkSubject, kind: 'u' | 'p'): string {
    const expires = Math.floor((this.now().getTime() + this.ttlMs) / 1000);
    const payload = b64(JSON.stringify([subject.workspaceId, subject.userId, subject.topic, kind, expires]));
    return `${payload}.${b64(sign(this.key!, payload))}`;
  }
}

function sign(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(payload).digest();
}
