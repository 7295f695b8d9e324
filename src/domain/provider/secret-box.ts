import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1:';
/** Used only when PIGEON_SECRET is unset outside production; documented as unsafe. */
const DEVELOPMENT_SECRET = 'pigeon-development-secret-do-not-use-in-production';

/**
 * Encrypts provider secrets at rest with AES-256-GCM under a key derived from `PIGEON_SECRET`.
 * Ciphertexts look like `enc:v1:<iv>:<tag>:<data>` (base64url), so they are recognisable in the JSON.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(secret: string | undefined) {
    this.key = createHash('sha256')
      .update(secret ?? DEVELOPMENT_SECRET, 'utf8')
      .digest();
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

  open(sealed: string): unknown {
    const [iv, tag, data] = sealed.slice(PREFIX.length).split(':');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return JSON.parse(
      Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8'),
    );
  }
}
