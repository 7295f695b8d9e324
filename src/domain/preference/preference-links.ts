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
 * Signed unsubscribe and preference links (README, "Preferences and topics"). A token is
 * `base64url(JSON [workspaceId, userId, topic, kind])` `.` `base64url(HMAC-SHA256)`, keyed by a key derived
 * from PIGEON_SECRET: anyone holding it acts for that user only, and only on what it names. Links need
 * PIGEON_PUBLIC_URL and PIGEON_SECRET; without either, {@link enabled} is false and none is made.
 */
export class PreferenceLinks {
  private readonly key: Buffer | null;

  constructor(
    readonly publicUrl: string | undefined,
    secret: string | undefined,
  ) {
    this.key = secret ? createHmac('sha256', secret).update('pigeon preference links v1').digest() : null;
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

  /** What a token of `kind` ('u' unsubscribe, 'p' preferences) names; null when it is not one this key signed. */
  verify(token: string, kind: 'u' | 'p'): LinkSubject | null {
    if (!this.key || typeof token !== 'string' || token.length > 2048) return null;
    const dot = token.indexOf('.');
    if (dot <= 0) return null;
    const payload = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = this.sign(payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    try {
      const [workspaceId, userId, topic, k] = JSON.parse(
        Buffer.from(payload, 'base64url').toString('utf8'),
      ) as unknown[];
      if (k !== kind || !Number.isInteger(workspaceId) || typeof userId !== 'string') return null;
      if (topic !== null && typeof topic !== 'string') return null;
      return { workspaceId: workspaceId as number, userId, topic };
    } catch {
      return null;
    }
  }

  private token(subject: LinkSubject, kind: 'u' | 'p'): string {
    const payload = b64(JSON.stringify([subject.workspaceId, subject.userId, subject.topic, kind]));
    return `${payload}.${b64(this.sign(payload))}`;
  }

  private sign(payload: string): Buffer {
    return createHmac('sha256', this.key!).update(payload).digest();
  }
}
