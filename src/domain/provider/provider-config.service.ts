import { randomBytes } from 'node:crypto';
import { timeOrderedId } from '../ids';
import type { Database } from '../../db/database';
import { fromDbTime, toDbTime } from '../../db/dialect';
import type { ProviderRegistry } from './provider-registry';
import type { SettingsProperty } from './provider-plugin';
import { describeSettingsProblem } from './provider-settings';
import { InvalidInputError, NotFoundError } from '../domain-error';
import { isJsonObject } from '../../lib/json';
import { chunks, placeholders } from '../../db/rows';
import type { RequestContext } from '../request-context';
import type { Channel } from '../channel/channel.enum';
import { ProviderConfig } from './provider-config.entity';
import { SecretBox, UNREADABLE_SECRET, UnreadableSecretError } from './secret-box';

export const MASK = '********';

export interface ProviderConfigInput {
  id?: string | null;
  channel: Channel;
  provider: string;
  config: Record<string, unknown>;
  priority?: number | null;
  enabled?: boolean | null;
}

interface ConfigRow {
  id: string;
  workspace_id: number;
  channel: string;
  provider: string;
  config: unknown;
  priority: number;
  enabled: number | boolean;
  callback_id?: string | null;
  created_at: unknown;
  updated_at: unknown;
}

/** An unguessable id for a configuration's callback URL (`/hooks/<id>`): 144 random bits, base64url (24 characters). */
export function newCallbackId(): string {
  return randomBytes(18).toString('base64url');
}

type Walker = (value: unknown, property: SettingsProperty) => unknown;
type Properties = { readonly [name: string]: SettingsProperty };

/** Applies `fn` to every value whose schema property is `secret: true`, nested objects included. */
function mapSecrets(config: Record<string, unknown>, properties: Properties, fn: Walker): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const [key, property] of Object.entries(properties)) {
    if (!(key in out) || out[key] === undefined || out[key] === null) continue;
    if (property.secret) out[key] = fn(out[key], property);
    else if (property.properties && isJsonObject(out[key]))
      out[key] = mapSecrets(out[key] as Record<string, unknown>, property.properties, fn);
  }
  return out;
}

/** How a setting is named in errors: `config.apiKey`, `config.smtp.host`. */
const settingName = (path: readonly string[]) => ['config', ...path].join('.');

/** Opens a stored value (a sealed secret, or a plain one); throws {@link UnreadableSecretError}. */
type Opener = (stored: unknown) => unknown;

/** What putting the stored secrets back where an update sends the mask found. */
interface Unmasked {
  config: Record<string, unknown>;
  /** Settings whose stored secret was kept (named as in errors). */
  kept: string[];
  /** Settings sent as the mask whose stored secret no key opens. */
  unreadable: string[];
}

/**
 * Where a secret is sent back as the mask, keeps the stored value (opened) — or leaves the setting
 * out when nothing is stored (the mask itself must never become a secret).
 */
function keepMasked(
  next: Record<string, unknown>,
  stored: Record<string, unknown>,
  properties: Properties,
  open: Opener,
  path: string[] = [],
  found: Omit<Unmasked, 'config'> = { kept: [], unreadable: [] },
): Unmasked {
  const out: Record<string, unknown> = { ...next };
  for (const [key, property] of Object.entries(properties)) {
    if (property.secret && out[key] === MASK) {
      if (!(key in stored)) {
        delete out[key];
        continue;
      }
      try {
        out[key] = open(stored[key]);
        found.kept.push(settingName([...path, key]));
      } catch (err) {
        if (!(err instanceof UnreadableSecretError)) throw err;
        found.unreadable.push(settingName([...path, key]));
      }
    } else if (property.properties && !property.secret && isJsonObject(out[key])) {
      out[key] = keepMasked(
        out[key] as Record<string, unknown>,
        isJsonObject(stored[key]) ? (stored[key] as Record<string, unknown>) : {},
        property.properties,
        open,
        [...path, key],
        found,
      ).config;
    }
  }
  return { config: out, ...found };
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const UNKNOWN = Symbol('unknown');

/**
 * The `destination: true` settings (where requests go) that `next` — an update as written, masks
 * included — changes from `stored`, a setting left out counting as its `default`.
 */
function movedDestinations(
  next: Record<string, unknown>,
  stored: Record<string, unknown>,
  properties: Properties,
  open: Opener,
  path: string[] = [],
): string[] {
  const moved: string[] = [];
  for (const [key, property] of Object.entries(properties)) {
    if (property.destination) {
      if (next[key] === MASK) continue; // a secret destination, kept as stored
      let before: unknown;
      try {
        before = open(stored[key] ?? property.default);
      } catch (err) {
        if (!(err instanceof UnreadableSecretError)) throw err;
        before = UNKNOWN; // counts as moved
      }
      if (before === UNKNOWN || !sameJson(before, next[key] ?? property.default))
        moved.push(settingName([...path, key]));
    } else if (property.properties && !property.secret && isJsonObject(next[key])) {
      const inner = isJsonObject(stored[key]) ? (stored[key] as Record<string, unknown>) : {};
      moved.push(
        ...movedDestinations(next[key] as Record<string, unknown>, inner, property.properties, open, [...path, key]),
      );
    }
  }
  return moved;
}

/** `value` with every sealed string in it, at any depth, replaced by `fn(value)`. */
function mapSealed(value: unknown, fn: (sealed: string) => unknown): unknown {
  if (SecretBox.isSealed(value)) return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapSealed(v, fn));
  if (isJsonObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapSealed(v, fn)]));
  return value;
}

const names = (list: string[]) => list.join(', ');

function containsMask(config: Record<string, unknown>, properties: Properties): boolean {
  let found = false;
  mapSecrets(config, properties, (v) => {
    if (v === MASK) found = true;
    return v;
  });
  return found;
}

/** A configuration with its secrets opened, for the pipeline only. */
export interface OpenProviderConfig {
  id: string;
  channel: Channel;
  provider: string;
  priority: number;
  settings: Record<string, unknown>;
  /**
   * Where the provider posts delivery callbacks for this configuration (`PIGEON_PUBLIC_URL` + `/hooks/<callbackId>`),
   * when its plugin has callbacks and PIGEON_PUBLIC_URL is set; the pipeline hands it to `send` (`SendContext.callbackUrl`).
   */
  callbackUrl?: string;
  /**
   * Set when the stored configuration cannot be used — its secrets cannot be decrypted with
   * PIGEON_SECRET ({@link UNREADABLE_SECRET}) or it cannot be read — and `settings` is then `{}`:
   * the pipeline skips it, and an update with fresh secrets repairs it.
   */
  problem?: string;
}

/** A configuration found by its callback id (any workspace), secrets opened: what a callback is verified with. */
export interface CallbackTarget {
  id: string;
  workspaceId: number;
  channel: Channel;
  provider: string;
  enabled: boolean;
  settings: Record<string, unknown>;
  /** As {@link OpenProviderConfig.problem}: the secrets cannot be opened (`settings` is then `{}`). */
  problem?: string;
}

/** What {@link ProviderConfigService.resealAll} did. */
export interface ResealReport {
  /** Configurations whose secrets were sealed again with the current PIGEON_SECRET. */
  resealed: number;
  /** Configurations already sealed with it (or without secrets). */
  current: number;
  /** Configurations with a secret no key opens (left as they are: give their secrets again). */
  unreadable: { id: string; workspaceId: number; provider: string }[];
}

/**
 * Provider configurations. Settings are validated against the plugin's JSON Schema by the registry
 * (the same check runs before every send) and stored as written, without the schema's defaults;
 * fields marked `secret: true` are sealed with PIGEON_SECRET before they are stored and are never
 * returned by reads. An update may send a secret back as `"********"` to keep it — unless it changes a
 * `destination: true` setting (or the plugin): a stored secret never follows a changed destination.
 * A configuration whose secrets no key decrypts is handed to the pipeline with a `problem` (skipped,
 * with the reason in the history) until an update gives its secrets again.
 */
export class ProviderConfigService {
  constructor(
    private readonly db: Database,
    private readonly registry: ProviderRegistry,
    private readonly box: SecretBox,
    /** PIGEON_PUBLIC_URL (no trailing slash): callback URLs are shown only when it is set. */
    private readonly publicUrl?: string,
  ) {}

  /** `PIGEON_PUBLIC_URL/hooks/<callbackId>` when the plugin has callbacks and PIGEON_PUBLIC_URL is set, else null. */
  private callbackUrlOf(provider: string, callbackId: string | null | undefined): string | null {
    if (!this.publicUrl || !callbackId || !this.registry.get(provider)?.callbacks) return null;
    return `${this.publicUrl}/hooks/${callbackId}`;
  }

  /**
   * The configuration whose callback URL is `/hooks/<callbackId>`, in whatever workspace, secrets opened;
   * null when there is none. Disabled configurations are returned too (with `enabled: false`): the caller decides.
   */
  async byCallbackId(callbackId: string): Promise<CallbackTarget | null> {
    return (await this.byCallbackIds([callbackId])).get(callbackId) ?? null;
  }

  /** {@link byCallbackId} for several ids in one query: the configurations found, by callback id. */
  async byCallbackIds(callbackIds: readonly string[]): Promise<Map<string, CallbackTarget>> {
    const found = new Map<string, CallbackTarget>();
    const wanted = new Set(callbackIds);
    for (const part of chunks([...wanted])) {
      const rows = await this.db.rows<ConfigRow>(
        `SELECT * FROM provider_configs WHERE callback_id IN (${placeholders(part.length)})`,
        part,
      );
      // the binary key compares exactly on both engines; checked again here all the same
      for (const row of rows)
        if (row.callback_id && wanted.has(row.callback_id)) found.set(row.callback_id, this.callbackTarget(row));
    }
    return found;
  }

  private callbackTarget(row: ConfigRow): CallbackTarget {
    const plugin = this.registry.get(row.provider);
    const base = {
      id: row.id,
      workspaceId: Number(row.workspace_id),
      channel: row.channel as Channel,
      provider: row.provider,
      enabled: Boolean(Number(row.enabled)),
    };
    try {
      const settings = mapSecrets(this.parse(row.config), plugin?.settings.properties ?? {}, (v) =>
        SecretBox.isSealed(v) ? this.box.open(v) : v,
      );
      return { ...base, settings };
    } catch (err) {
      const problem =
        err instanceof UnreadableSecretError
          ? UNREADABLE_SECRET
          : `configuration cannot be read: ${(err as Error).message}`;
      return { ...base, settings: {}, problem };
    }
  }

  async configure(ctx: RequestContext, input: ProviderConfigInput): Promise<ProviderConfig> {
    const plugin = this.registry.get(input.provider);
    if (!plugin) {
      throw new InvalidInputError(
        `Unknown provider "${input.provider}"; installed: ${this.registry.providers.map((p) => p.slug).join(', ')}`,
      );
    }
    if (!plugin.channels.includes(input.channel)) {
      throw new InvalidInputError(
        `Provider "${plugin.slug}" cannot serve ${input.channel}; it serves ${plugin.channels.join(', ')}`,
      );
    }
    if (!isJsonObject(input.config)) throw new InvalidInputError('config must be a JSON object');
    if (input.priority !== undefined && input.priority !== null && !Number.isInteger(input.priority)) {
      throw new InvalidInputError('priority must be an integer');
    }
    let config = input.config;
    const existing = input.id ? await this.row(ctx, input.id) : null;
    if (input.id && !existing) throw new NotFoundError('Provider configuration', input.id);
    if (!existing && containsMask(config, plugin.settings.properties)) {
      throw new InvalidInputError(`"${MASK}" stands for a stored secret; a new configuration needs the real value`);
    }
    if (existing) {
      const stored = this.parse(existing.config);
      const open: Opener = (v) => (SecretBox.isSealed(v) ? this.box.open(v) : v);
      const properties = plugin.settings.properties;
      const unmasked = keepMasked(config, stored, properties, open);
      if (unmasked.unreadable.length) {
        throw new InvalidInputError(
          `${plugin.slug}: the stored ${names(unmasked.unreadable)} cannot be decrypted with PIGEON_SECRET ` +
            `(was it changed?): give ${unmasked.unreadable.length > 1 ? 'them' : 'it'} again instead of "${MASK}"`,
        );
      }
      const moved = movedDestinations(config, stored, properties, open);
      // another plugin is another service altogether
      if (existing.provider !== plugin.slug) moved.unshift(`provider (${existing.provider} → ${plugin.slug})`);
      if (moved.length && unmasked.kept.length) {
        throw new InvalidInputError(
          `${plugin.slug}: ${names(moved)} ${moved.length > 1 ? 'change' : 'changes'} where requests go, and a ` +
            `stored secret never follows a changed ` +
            `destination: give ${names(unmasked.kept)} again instead of "${MASK}"`,
        );
      }
      config = unmasked.config;
    }
    const problem = this.registry.checkSettings(plugin.slug, config);
    if (problem) throw new InvalidInputError(describeSettingsProblem(plugin.slug, 'config', problem));
    const sealed = mapSecrets(config, plugin.settings.properties, (v) => this.box.seal(v));
    const now = toDbTime(new Date());
    const id = existing?.id ?? timeOrderedId();
    const priority = input.priority ?? (existing ? Number(existing.priority) : 0);
    const enabled = input.enabled ?? (existing ? Boolean(Number(existing.enabled)) : true);
    if (existing) {
      await this.db.run(
        'UPDATE provider_configs SET channel = ?, provider = ?, config = ?, priority = ?, enabled = ?, updated_at = ? WHERE id = ? AND workspace_id = ?',
        [input.channel, plugin.slug, JSON.stringify(sealed), priority, enabled ? 1 : 0, now, id, ctx.workspaceId],
      );
    } else {
      await this.db.run(
        `INSERT INTO provider_configs (id, workspace_id, channel, provider, config, priority, enabled, callback_id, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          id,
          ctx.workspaceId,
          input.channel,
          plugin.slug,
          JSON.stringify(sealed),
          priority,
          enabled ? 1 : 0,
          newCallbackId(),
          now,
          now,
        ],
      );
    }
    return (await this.get(ctx, id))!;
  }

  async delete(ctx: RequestContext, id: string): Promise<boolean> {
    return (
      (await this.db.run('DELETE FROM provider_configs WHERE id = ? AND workspace_id = ?', [id, ctx.workspaceId])) > 0
    );
  }

  async get(ctx: RequestContext, id: string): Promise<ProviderConfig | null> {
    const row = await this.row(ctx, id);
    return row ? this.masked(row) : null;
  }

  /** Every configuration of the workspace, secrets masked, by channel then priority. */
  async list(ctx: RequestContext): Promise<ProviderConfig[]> {
    const rows = await this.db.rows<ConfigRow>(
      'SELECT * FROM provider_configs WHERE workspace_id = ? ORDER BY channel, priority, created_at, id',
      [ctx.workspaceId],
    );
    return rows.map((r) => this.masked(r));
  }

  /** Enabled configurations whose plugin is installed and serves their channel, secrets opened, by priority. */
  async enabled(ctx: RequestContext): Promise<OpenProviderConfig[]> {
    const rows = await this.db.rows<ConfigRow>(
      'SELECT * FROM provider_configs WHERE workspace_id = ? AND enabled = ? ORDER BY priority, created_at, id',
      [ctx.workspaceId, 1],
    );
    const out: OpenProviderConfig[] = [];
    for (const row of rows) {
      const plugin = this.registry.get(row.provider);
      if (!plugin || !plugin.channels.includes(row.channel as Channel)) continue;
      const base = {
        id: row.id,
        channel: row.channel as Channel,
        provider: row.provider,
        priority: Number(row.priority),
      };
      const callbackUrl = this.callbackUrlOf(row.provider, row.callback_id);
      try {
        const settings = mapSecrets(this.parse(row.config), plugin.settings.properties, (v) =>
          SecretBox.isSealed(v) ? this.box.open(v) : v,
        );
        out.push({ ...base, settings, ...(callbackUrl ? { callbackUrl } : {}) });
      } catch (err) {
        // one unusable configuration must not stop the workspace: the pipeline skips it and says why
        const problem =
          err instanceof UnreadableSecretError
            ? UNREADABLE_SECRET
            : `configuration cannot be read: ${(err as Error).message}`;
        out.push({ ...base, settings: {}, problem });
      }
    }
    return out;
  }

  /**
   * Seals every stored secret of every workspace again with the current PIGEON_SECRET — the last step
   * of a rotation (`pigeon secrets rotate`), while PIGEON_SECRET_PREVIOUS still opens the old ones.
   * Values already sealed with the current key are left alone; a configuration with a secret no key
   * opens is left as it is and reported. A configuration changed meanwhile is left to its writer
   * (which sealed it with the current key).
   */
  async resealAll(): Promise<ResealReport> {
    const rows = await this.db.rows<Pick<ConfigRow, 'id' | 'workspace_id' | 'provider' | 'config' | 'updated_at'>>(
      'SELECT id, workspace_id, provider, config, updated_at FROM provider_configs ORDER BY workspace_id, id',
    );
    const report: ResealReport = { resealed: 0, current: 0, unreadable: [] };
    for (const row of rows) {
      let stale = false;
      let resealed: unknown;
      try {
        resealed = mapSealed(this.parse(row.config), (sealed) => {
          const opened = this.box.openChecked(sealed);
          if (!opened.stale) return sealed;
          stale = true;
          return this.box.seal(opened.value);
        });
      } catch {
        // no key opens a secret (or the stored JSON is damaged): left as it is, and named
        report.unreadable.push({ id: row.id, workspaceId: Number(row.workspace_id), provider: row.provider });
        continue;
      }
      if (!stale) {
        report.current++;
        continue;
      }
      const changed = await this.db.run('UPDATE provider_configs SET config = ? WHERE id = ? AND updated_at = ?', [
        JSON.stringify(resealed),
        row.id,
        toDbTime(fromDbTime(row.updated_at)),
      ]);
      if (changed > 0) report.resealed++;
      else report.current++;
    }
    return report;
  }

  private async row(ctx: RequestContext, id: string): Promise<ConfigRow | null> {
    const rows = await this.db.rows<ConfigRow>('SELECT * FROM provider_configs WHERE id = ? AND workspace_id = ?', [
      id,
      ctx.workspaceId,
    ]);
    return rows[0] ?? null;
  }

  private parse(config: unknown): Record<string, unknown> {
    return (typeof config === 'string' ? JSON.parse(config) : config) as Record<string, unknown>;
  }

  private masked(row: ConfigRow): ProviderConfig {
    const plugin = this.registry.get(row.provider);
    const raw = this.parse(row.config);
    const config = plugin ? mapSecrets(raw, plugin.settings.properties, () => MASK) : mapSecrets(raw, {}, () => MASK);
    // a value still sealed here belongs to a plugin that is gone: mask it all the same
    for (const [k, v] of Object.entries(config)) if (SecretBox.isSealed(v)) config[k] = MASK;
    return Object.assign(new ProviderConfig(), {
      id: row.id,
      workspaceId: Number(row.workspace_id),
      channel: row.channel as Channel,
      provider: row.provider,
      config,
      priority: Number(row.priority),
      enabled: Boolean(Number(row.enabled)),
      callbackId: row.callback_id ?? null,
      callbackUrl: this.callbackUrlOf(row.provider, row.callback_id),
      createdAt: fromDbTime(row.created_at),
      updatedAt: fromDbTime(row.updated_at),
    });
  }
}
