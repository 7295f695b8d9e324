import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1:';
/** Used only when PIGEON_SECRET is unset outside production; documented as unsafe. */
const DEVELOPMENT_SECRET = 'pigeon-development-secret-do-not-use-in-production';

/** Why a configuration whose sealed secrets open with none of the keys cannot be used (history, errors, logs). */
export const UNREADABLE_SECRET =
  'configuration cannot be decrypted with PIGEON_SECRET (nor PIGEON_SECRET_PREVIOUS): configure its secrets again';

/** A sealed value that none of the keys opens: PIGEON_SECRET changed, or the value is damaged. */
export class UnreadableSecretError extends Error {
  constructor() {
    super(UNREADABLE_SECRET);
    this.name = 'UnreadableSecretError';
  }
}

const keyOf = (secret: string) => createHash('sha256').update(secret, 'utf8').digest();

/**
 * Encrypts provider secrets at rest with AES-256-GCM under a key derived from `PIGEON_SECRET`.
 * Ciphertexts look like `enc:v1:<iv>:<tag>:<data>` (base64url), so they are recognisable in the JSON.
 *
 * For a rotation, the previous secrets (`PIGEON_SECRET_PREVIOUS`) still open what they sealed; sealing
 * always uses the current one, and {@link openChecked} says when a value should be sealed again.
 */
export class SecretBox {
  private readonly key: Buffer;
  private readonly previous: Buffer[];

  constructor(secret: string | undefined, previous: readonly string[] = []) {
    this.key = keyOf(secret ?? DEVELOPMENT_SECRET);
    this.previous = previous.filter((p) => p !== (secret ?? DEVELOPMENT_SECRET)).map(keyOf);
  }

  static isSealed(value: unknown): value is string {
    return typeof value === 'string' && value.startsWith(PREFIX);
  }

  seal(value: unknown): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return `${PREFIX}${iv.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}:${data.toString('base64url')}`;
  }

  /** The value `sealed` holds; throws {@link UnreadableSecretError} when no key opens it. */
  open(sealed: string): unknown {
    return this.openChecked(sealed).value;
  }

  /**
   * The value `sealed` holds and whether a previous key opened it (`stale`: seal it again); throws
   * {@link UnreadableSecretError} when no key opens it.
   */
  openChecked(sealed: string): { value: unknown; stale: boolean } {
    const [iv, tag, data] = sealed.slice(PREFIX.length).split(':');
    for (const [i, key] of [this.key, ...this.previous].entries()) {
      let text: string;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv ?? '', 'base64url'));
        decipher.setAuthTag(Buffer.from(tag ?? '', 'base64url'));
        text = Buffer.concat([decipher.update(Buffer.from(data ?? '', 'base64url')), decipher.final()]).toString(
          'utf8',
        );
      } catch {
        continue; // not this key (GCM authenticates: a wrong key never yields a value)
      }
      try {
        return { value: JSON.parse(text), stale: i > 0 };
      } catch {
        break;
      }
    }
    throw new UnreadableSecretError();
  }
}
