import { randomUUID } from 'node:crypto';
import { ConfigError, loadConfig } from '../../src/config';
import { toDbTime } from '../../src/db/dialect';
import { MIN_OPERATOR_KEY_LENGTH, PREFIX_LENGTH } from '../../src/lib/api-key-format';
import { ApiKeyScope } from '../../src/domain/workspace/api-key-scope.enum';
import { hashSecret } from '../../src/domain/workspace/workspace.service';
import { startTestApp, type TestApp } from '../helpers/test-app';

describe('operator-supplied keys (PIGEON_ADMIN_KEY, PIGEON_INGEST_KEY)', () => {
  const long = 'k'.repeat(MIN_OPERATOR_KEY_LENGTH);

  it('refuses a key shorter than 32 characters with a clear configuration error that does not repeat it', () => {
    for (const name of ['PIGEON_ADMIN_KEY', 'PIGEON_INGEST_KEY']) {
      const short = 'secret-but-short-0123456789abcd'; // 31 characters
      let error: unknown;
      try {
        loadConfig({ [name]: short });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(`${name} must be at least 32 characters long (it has 31)`);
      expect((error as Error).message).not.toContain(short);
    }
  });

  it('accepts 32 characters or more, and an unset or blank variable (a key is then generated)', () => {
    expect(loadConfig({ PIGEON_ADMIN_KEY: long, PIGEON_INGEST_KEY: `${long}x` })).toMatchObject({
      adminKey: long,
      ingestKey: `${long}x`,
    });
    expect(loadConfig({ PIGEON_ADMIN_KEY: '  ' }).adminKey).toBeUndefined();
  });
});

describe('API keys in the database', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('bootstrapDefault refuses a short operator key before it touches the database', async () => {
    await expect(t.services.workspaces.bootstrapDefault({ adminKey: 'too-short' })).rejects.toThrow(
      'PIGEON_ADMIN_KEY must be at least 32 characters long (it has 9)',
    );
    await expect(t.services.workspaces.bootstrapDefault({ ingestKey: 'x'.repeat(31) })).rejects.toThrow(
      'PIGEON_INGEST_KEY must be at least 32 characters long',
    );
  });

  it(`shows a ${PREFIX_LENGTH}-character prefix: "pgn_a_" and 4 random characters of a generated key`, async () => {
    const res = await t.gql('{ apiKeys { prefix scope } }');
    const prefixes = res.data!.apiKeys.map((k: { prefix: string }) => k.prefix);
    expect(prefixes).toHaveLength(2);
    for (const prefix of prefixes) expect(prefix).toMatch(/^pgn_[ai]_[A-Za-z0-9_-]{4}$/);
    expect(prefixes).toContain(t.ws.adminKey.slice(0, PREFIX_LENGTH));
    const created = await t.services.workspaces.createKey({ workspaceId: t.ws.workspaceId }, ApiKeyScope.INGEST);
    expect(created.apiKey.prefix).toBe(created.secret.slice(0, PREFIX_LENGTH));
    expect(created.apiKey.prefix.length).toBeLessThanOrEqual(created.secret.length / 4);
  });

  it('still finds a key stored under the 12-character prefix of earlier versions', async () => {
    const secret = `pgn_i_${randomUUID().replace(/-/g, '')}legacy`;
    await t.db.run(
      'INSERT INTO api_keys (id, workspace_id, name, prefix, secret_hash, scope, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [
        randomUUID(),
        t.ws.workspaceId,
        'legacy',
        secret.slice(0, 12),
        hashSecret(secret),
        'INGEST',
        toDbTime(new Date()),
      ],
    );
    const check = await t.services.workspaces.verify(secret);
    expect(check.ok).toBe(true);
    expect((await t.services.workspaces.verify(`${secret}x`)).ok).toBe(false);
  });
});
