import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Batcher } from '../../db/batcher';
import type { Database, Sql } from '../../db/database';
import { fromDbTime, toDbTime } from '../../db/dialect';
import { placeholders } from '../../db/rows';
import { DomainError, InvalidInputError, NotFoundError, StoreUnavailableError } from '../domain-error';
import type { RequestContext } from '../request-context';
import { ApiKey } from './api-key.entity';
import { LEGACY_PREFIX_LENGTH, operatorKeyProblem, PREFIX_LENGTH } from '../../lib/api-key-format';
import { ApiKeyScope } from './api-key-scope.enum';
import { KeyRefusedError } from './key-refused.error';
import { Workspace } from './workspace.entity';

export const DEFAULT_WORKSPACE = 'default';

/** `last_used_at` is written at most this often per key, so busy keys do not cost a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface CreatedKey {
  apiKey: ApiKey;
  /** The key itself: shown once, never stored. */
  secret: string;
}

/** A workspace as `pigeon workspace list` shows it. */
export interface WorkspaceListing {
  id: number;
  name: string;
  createdAt: Date;
  activeKeys: number;
}

/** The outcome of {@link WorkspaceService.revokeByIdOrPrefix}. */
export interface RevokedKey {
  apiKey: ApiKey;
  /** The name of the key's workspace. */
  workspace: string;
  /** It was revoked before; nothing changed. */
  alreadyRevoked: boolean;
}

/** The shortest start of an id or prefix that `revokeByIdOrPrefix` matches (`pgn_a_` alone is too vague). */
const MIN_PARTIAL_MATCH = 8;

function toApiKey(row: Record<string, unknown>): ApiKey {
  return Object.assign(new ApiKey(), {
    id: String(row.id),
    workspaceId: Number(row.workspace_id),
    name: (row.name as string | null) ?? null,
    prefix: String(row.prefix),
    secretHash: String(row.secret_hash),
    scope: row.scope as ApiKeyScope,
    createdAt: fromDbTime(row.created_at),
    lastUsedAt: row.last_used_at ? fromDbTime(row.last_used_at) : null,
    revokedAt: row.revoked_at ? fromDbTime(row.revoked_at) : null,
  });
}

export type KeyCheck = { ok: true; key: ApiKey } | { ok: false; reason: 'unknown' | 'revoked' };

/** The caller behind an accepted key. */
export interface AuthenticatedKey {
  workspaceId: number;
  scope: ApiKeyScope;
  keyId: string;
}

/** A presented key worth looking up: not empty, and not longer than any key could be. */
function wellFormedSecret(secret: string): boolean {
  return secret !== '' && secret.length <= 512;
}

/** The caller a checked key stands for when it may make a call of `scopes`, else the refusal. */
function callerOf(check: KeyCheck, scopes: readonly ApiKeyScope[]): AuthenticatedKey | KeyRefusedError {
  if (!check.ok) return new KeyRefusedError(check.reason);
  if (!scopes.includes(check.key.scope)) return new KeyRefusedError('scope', check.key.scope);
  return { workspaceId: check.key.workspaceId, scope: check.key.scope, keyId: check.key.id };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A new key: a scope tag and 240 bits of randomness, base64url. */
export function generateSecret(scope: ApiKeyScope): string {
  return `pgn_${scope === ApiKeyScope.ADMIN ? 'a' : 'i'}_${randomBytes(30).toString('base64url')}`;
}

/** Workspaces and their API keys. Keys are stored as SHA-256 hashes and compared in constant time. */
export class WorkspaceService {
  private readonly lastUsedWritten = new Map<string, number>();
  private readonly verifier = new Batcher<string, KeyCheck>((secrets) => this.verifyMany(secrets), {
    // two checks may run at once: a request waits for at most one running check before its own
    maxInFlight: 2,
    maxItems: 200,
  });

  constructor(private readonly db: Database) {}

  async findByName(name: string): Promise<Workspace | null> {
    return this.db.manager.findOne(Workspace, { where: { name } });
  }

  /** Creates a workspace with its first admin and ingest keys (the secrets are returned once). */
  async createWorkspace(name: string): Promise<{ workspace: Workspace; admin: CreatedKey; ingest: CreatedKey }> {
    const trimmed = name.trim();
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(trimmed)) {
      throw new InvalidInputError(
        'A workspace name is 1–100 letters, digits, "_", "." or "-", starting with a letter or digit',
      );
    }
    return this.db.transaction(async (tx) => {
      const existing = await tx.rows('SELECT id FROM workspaces WHERE name = ?', [trimmed]);
      if (existing.length) throw new InvalidInputError(`Workspace "${trimmed}" already exists`);
      const workspace = await this.insertWorkspace(tx, trimmed);
      const admin = await this.insertKey(
        tx,
        workspace.id,
        ApiKeyScope.ADMIN,
        generateSecret(ApiKeyScope.ADMIN),
        'admin',
      );
      const ingest = await this.insertKey(
        tx,
        workspace.id,
        ApiKeyScope.INGEST,
        generateSecret(ApiKeyScope.INGEST),
        'ingest',
      );
      return { workspace, admin, ingest };
    });
  }

  /**
   * First start (README.md, "Two commands"): makes sure workspace `default` exists; when it has no keys yet, its admin
   * and ingest keys come from the given values or are generated. Returns the keys that were generated,
   * which the caller prints once.
   */
  async bootstrapDefault(given: { adminKey?: string; ingestKey?: string }): Promise<CreatedKey[]> {
    for (const [variable, value] of [
      ['PIGEON_ADMIN_KEY', given.adminKey],
      ['PIGEON_INGEST_KEY', given.ingestKey],
    ] as const) {
      const problem = value === undefined ? undefined : operatorKeyProblem(value);
      if (problem) throw new InvalidInputError(`${variable} ${problem}`);
    }
    return this.db.transaction(async (tx) => {
      await tx.run(`INSERT INTO workspaces (name, created_at) VALUES (?, ?) ${tx.dialect.onConflictIgnore(['name'])}`, [
        DEFAULT_WORKSPACE,
        toDbTime(new Date()),
      ]);
      const [ws] = await tx.rows<{ id: number }>(
        `SELECT id FROM workspaces WHERE name = ?${tx.dialect.kind === 'mysql' ? ' FOR UPDATE' : ''}`,
        [DEFAULT_WORKSPACE],
      );
      const [{ n }] = await tx.rows<{ n: number | string }>(
        'SELECT COUNT(*) AS n FROM api_keys WHERE workspace_id = ?',
        [ws.id],
      );
      if (Number(n) > 0) return [];
      const generated: CreatedKey[] = [];
      for (const [scope, value] of [
        [ApiKeyScope.ADMIN, given.adminKey],
        [ApiKeyScope.INGEST, given.ingestKey],
      ] as const) {
        const created = await this.insertKey(
          tx,
          Number(ws.id),
          scope,
          value ?? generateSecret(scope),
          scope.toLowerCase(),
        );
        if (!value) generated.push(created);
      }
      return generated;
    });
  }

  async createKey(ctx: RequestContext, scope: ApiKeyScope, name?: string | null): Promise<CreatedKey> {
    if (name !== undefined && name !== null && name.length > 100)
      throw new InvalidInputError('A key name is at most 100 characters');
    return this.db.transaction((tx) => this.insertKey(tx, ctx.workspaceId, scope, generateSecret(scope), name ?? null));
  }

  async listKeys(ctx: RequestContext): Promise<ApiKey[]> {
    return this.db.manager.find(ApiKey, {
      where: { workspaceId: ctx.workspaceId },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  /** Revokes a key of the caller's workspace; it stops working on the next request. Revoking twice is harmless. */
  async revokeKey(ctx: RequestContext, id: string): Promise<ApiKey> {
    const key = await this.db.manager.findOne(ApiKey, { where: { id, workspaceId: ctx.workspaceId } });
    if (!key) throw new NotFoundError('API key', id);
    if (!key.revokedAt) {
      await this.db.run('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [
        toDbTime(new Date()),
        id,
      ]);
    }
    return (await this.db.manager.findOne(ApiKey, { where: { id } }))!;
  }

  /**
   * Finds the key a caller presented. Unknown and revoked keys are told apart (401 vs 403). Every
   * call reads the database, so a revoked key stops working at once; concurrent calls share one query.
   */
  async verify(secret: string): Promise<KeyCheck> {
    if (!wellFormedSecret(secret)) return { ok: false, reason: 'unknown' };
    const check = await this.verifier.submit(secret);
    if (check.ok) this.touch(check.key);
    return check;
  }

  /**
   * The caller behind `key`, when the key exists, is not revoked and has one of `scopes`. Throws
   * {@link KeyRefusedError} (with the reason) otherwise, and {@link StoreUnavailableError} when the
   * keys cannot be read; the HTTP and GraphQL boundaries each translate these once.
   */
  async authenticate(key: string | undefined, scopes: readonly ApiKeyScope[]): Promise<AuthenticatedKey> {
    if (key === undefined) throw new KeyRefusedError('missing');
    let check: KeyCheck;
    try {
      check = await this.verify(key);
    } catch (err) {
      throw new StoreUnavailableError(err);
    }
    const caller = callerOf(check, scopes);
    if (caller instanceof KeyRefusedError) throw caller;
    return caller;
  }

  /**
   * {@link authenticate} for many keys at once, read through `tx`: the ingest routes check the caller's key
   * in the transaction that stores its events (`EventLogService.ingestWithKey`), so a request costs one
   * database round trip, not two, and a key revoked before that transaction began stores nothing. Each key
   * gets its caller or the {@link KeyRefusedError} that refuses it.
   */
  async authenticateIn(
    tx: Sql,
    secrets: readonly string[],
    scopes: readonly ApiKeyScope[],
  ): Promise<(AuthenticatedKey | KeyRefusedError)[]> {
    const wellFormed = secrets.filter(wellFormedSecret);
    const checks = new Map<string, KeyCheck>();
    if (wellFormed.length) {
      const unique = [...new Set(wellFormed)];
      (await this.verifyMany(unique, tx)).forEach((check, i) => checks.set(unique[i], check));
    }
    return secrets.map((secret) => {
      const check = checks.get(secret) ?? { ok: false, reason: 'unknown' };
      const caller = callerOf(check, scopes);
      if (check.ok && !(caller instanceof KeyRefusedError)) this.touch(check.key);
      return caller;
    });
  }

  private async verifyMany(secrets: string[], runner: Sql = this.db): Promise<KeyCheck[]> {
    // keys created before the prefix was shortened are stored under their longer prefix
    const prefixes = [
      ...new Set(secrets.flatMap((s) => [s.slice(0, PREFIX_LENGTH), s.slice(0, LEGACY_PREFIX_LENGTH)])),
    ];
    const rows = await runner.rows<Record<string, unknown>>(
      `SELECT * FROM api_keys WHERE prefix IN (${placeholders(prefixes.length)})`,
      prefixes,
    );
    const candidates = rows.map(toApiKey);
    return secrets.map((secret) => {
      const presented = Buffer.from(hashSecret(secret), 'hex');
      let found: ApiKey | undefined;
      for (const candidate of candidates) {
        if (candidate.prefix !== secret.slice(0, candidate.prefix.length)) continue;
        // every candidate is compared, in constant time, whatever matched before
        if (timingSafeEqual(presented, Buffer.from(candidate.secretHash, 'hex'))) found = candidate;
      }
      if (!found) return { ok: false, reason: 'unknown' };
      if (found.revokedAt) return { ok: false, reason: 'revoked' };
      return { ok: true, key: found };
    });
  }

  // ---- operator commands (the `pigeon` CLI): workspaces by name, keys across workspaces ----------

  /** Every workspace with its number of active keys, oldest first. */
  async listWorkspaces(): Promise<WorkspaceListing[]> {
    const rows = await this.db.rows<{ id: number | string; name: string; created_at: unknown; key_count: unknown }>(
      `SELECT w.id, w.name, w.created_at,
              (SELECT COUNT(*) FROM api_keys k WHERE k.workspace_id = w.id AND k.revoked_at IS NULL) AS key_count
       FROM workspaces w ORDER BY w.id`,
    );
    return rows.map((r) => ({
      id: Number(r.id),
      name: r.name,
      createdAt: fromDbTime(r.created_at),
      activeKeys: Number(r.key_count),
    }));
  }

  /** The workspace called `name`, or NOT_FOUND. */
  async requireWorkspace(name: string): Promise<Workspace> {
    const workspace = await this.findByName(name);
    if (!workspace) throw new NotFoundError('Workspace', name);
    return workspace;
  }

  /** Creates a key in the workspace called `workspaceName` (the secret is returned once). */
  async createKeyIn(workspaceName: string, scope: ApiKeyScope, name?: string | null): Promise<CreatedKey> {
    const workspace = await this.requireWorkspace(workspaceName);
    return this.createKey({ workspaceId: workspace.id }, scope, name);
  }

  /** The keys of the workspace called `workspaceName`, oldest first, revoked ones included. */
  async listKeysOf(workspaceName: string): Promise<ApiKey[]> {
    const workspace = await this.requireWorkspace(workspaceName);
    return this.listKeys({ workspaceId: workspace.id });
  }

  /**
   * Revokes one key, in whatever workspace, found by its id, its prefix (as `keys list` shows it) or the
   * full secret; an unambiguous start of an id or prefix (8 characters or more) also works. Revoking a
   * revoked key changes nothing. NOT_FOUND when nothing matches, CONFLICT when several keys do.
   * It stops working at once: every request verifies its key against the database.
   */
  async revokeByIdOrPrefix(idOrPrefix: string, workspaceName?: string): Promise<RevokedKey> {
    const wanted = idOrPrefix.trim();
    if (!wanted) throw new InvalidInputError('Give the id or the prefix of the key to revoke');
    const workspace = workspaceName === undefined ? undefined : await this.requireWorkspace(workspaceName);
    const only = workspace ? ' AND workspace_id = ?' : '';
    const scoped = workspace ? [workspace.id] : [];
    // MySQL compares case-insensitively: the SQL narrows, the exact (case-sensitive) test below decides
    let rows = await this.db.rows<Record<string, unknown>>(
      `SELECT * FROM api_keys WHERE (id = ? OR prefix = ? OR secret_hash = ?)${only}`,
      [wanted, wanted.slice(0, PREFIX_LENGTH), hashSecret(wanted), ...scoped],
    );
    let matches = rows
      .map(toApiKey)
      .filter((k) => k.id === wanted || k.prefix === wanted || k.secretHash === hashSecret(wanted));
    if (!matches.length && wanted.length >= MIN_PARTIAL_MATCH) {
      const like = `${wanted.replace(/[!%_]/g, (c) => `!${c}`)}%`;
      rows = await this.db.rows<Record<string, unknown>>(
        `SELECT * FROM api_keys WHERE (id LIKE ? ESCAPE '!' OR prefix LIKE ? ESCAPE '!')${only}`,
        [like, like, ...scoped],
      );
      matches = rows.map(toApiKey).filter((k) => k.id.startsWith(wanted) || k.prefix.startsWith(wanted));
    }
    if (!matches.length) {
      throw new DomainError(
        'NOT_FOUND',
        `No API key has the id or prefix "${wanted}"${workspace ? ` in workspace "${workspace.name}"` : ''}` +
          (wanted.length < MIN_PARTIAL_MATCH ? ` (a partial id or prefix needs ${MIN_PARTIAL_MATCH} characters)` : ''),
      );
    }
    if (matches.length > 1) {
      throw new DomainError(
        'CONFLICT',
        `"${wanted}" matches ${matches.length} keys (${matches.map((k) => `${k.prefix} id ${k.id}`).join(', ')}); give the key id`,
      );
    }
    const [key] = matches;
    const alreadyRevoked = key.revokedAt !== null;
    const revoked = await this.revokeKey({ workspaceId: key.workspaceId }, key.id);
    const [ws] = await this.db.rows<{ name: string }>('SELECT name FROM workspaces WHERE id = ?', [key.workspaceId]);
    return { apiKey: revoked, workspace: ws?.name ?? String(key.workspaceId), alreadyRevoked };
  }

  private touch(key: ApiKey): void {
    const now = Date.now();
    if (now - (this.lastUsedWritten.get(key.id) ?? 0) < LAST_USED_RESOLUTION_MS) return;
    this.lastUsedWritten.set(key.id, now);
    // best effort: a failed bookkeeping write must not fail the request
    this.db.run('UPDATE api_keys SET last_used_at = ? WHERE id = ?', [toDbTime(new Date(now)), key.id]).catch(() => {
      this.lastUsedWritten.delete(key.id);
    });
  }

  private async insertWorkspace(tx: Sql, name: string): Promise<Workspace> {
    const createdAt = new Date();
    await tx.run('INSERT INTO workspaces (name, created_at) VALUES (?, ?)', [name, toDbTime(createdAt)]);
    const [row] = await tx.rows<{ id: number }>('SELECT id FROM workspaces WHERE name = ?', [name]);
    return Object.assign(new Workspace(), { id: Number(row.id), name, createdAt });
  }

  private async insertKey(
    tx: Sql,
    workspaceId: number,
    scope: ApiKeyScope,
    secret: string,
    name: string | null,
  ): Promise<CreatedKey> {
    const apiKey = Object.assign(new ApiKey(), {
      id: randomUUID(),
      workspaceId,
      name,
      prefix: secret.slice(0, PREFIX_LENGTH),
      secretHash: hashSecret(secret),
      scope,
      createdAt: new Date(),
      lastUsedAt: null,
      revokedAt: null,
    });
    await tx.run(
      'INSERT INTO api_keys (id, workspace_id, name, prefix, secret_hash, scope, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [apiKey.id, workspaceId, name, apiKey.prefix, apiKey.secretHash, scope, toDbTime(apiKey.createdAt)],
    );
    return { apiKey, secret };
  }
}
