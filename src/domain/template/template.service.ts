import { randomUUID } from 'node:crypto';
import { isUniqueViolation, type Database, type Sql } from '../../db/database';
import { fromDbTime, toDbTime } from '../../db/dialect';
import { InvalidInputError, NotFoundError } from '../domain-error';
import { hasOwn, isJsonObject } from '../../lib/json';
import type { ProfileService } from '../profile/profile.service';
import type { RequestContext } from '../request-context';
import { ALL_CHANNELS, Channel, contentKey } from '../channel/channel.enum';
import type { ChannelContent } from '../channel/channel-content';
import { renderContent, validateContent, type RenderResult } from './render';
import { Template } from './template.entity';
import { TemplateStatus } from './template-status.enum';
import { parseJsonColumn, placeholders } from '../../db/rows';
import type { TopicReferences, TopicService } from '../preference/topic.service';

/** What `createTemplate` needs: every field. */
export interface TemplateInput {
  key: string;
  name: string;
  channels: Channel[];
  content: Record<string, unknown>;
  /** The topic key; null or absent: none. */
  topic?: string | null;
}

/**
 * What `updateTemplate` takes: only the fields given change (`null` or absent: unchanged). `content` is merged
 * per channel: a given channel's entry replaces that channel's content, `null` removes it, others are kept.
 */
export interface TemplatePatch {
  key?: string | null;
  name?: string | null;
  channels?: Channel[] | null;
  content?: Record<string, unknown> | null;
  /** A topic key; `""` removes the topic (null or absent: unchanged, as for the other fields). */
  topic?: string | null;
}

/** A published version, as the pipeline renders it. */
export interface PublishedTemplate {
  templateId: string;
  version: number;
  channels: Channel[];
  content: ChannelContent;
  /** The topic the version was published with (null: none). */
  topic: string | null;
}

/** A published version with when it was published, as `Template.versions` lists them. */
export interface TemplateVersionRecord extends PublishedTemplate {
  publishedAt: Date;
}

export interface PreviewInput {
  templateId?: string | null;
  content?: Record<string, unknown> | null;
  data?: Record<string, unknown> | null;
  userId?: string | null;
}

interface TemplateRow {
  id: string;
  workspace_id: number;
  template_key: string;
  name: string;
  channels: unknown;
  draft: unknown;
  topic: string | null;
  published_version: number | null;
  created_at: unknown;
  updated_at: unknown;
}

function toTemplate(row: TemplateRow): Template {
  return Object.assign(new Template(), {
    id: row.id,
    workspaceId: Number(row.workspace_id),
    key: row.template_key,
    name: row.name,
    channels: parseJsonColumn(row.channels),
    draft: parseJsonColumn(row.draft),
    topic: row.topic ?? null,
    publishedVersion: row.published_version === null ? null : Number(row.published_version),
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  });
}

export function templateStatus(t: Template): TemplateStatus {
  return t.publishedVersion ? TemplateStatus.PUBLISHED : TemplateStatus.DRAFT;
}

/** `createTemplate` needs every field; a missing one is named. */
function requireAll(input: TemplatePatch): asserts input is TemplateInput {
  const missing = (['key', 'name', 'channels', 'content'] as const).filter(
    (f) => input[f] === undefined || input[f] === null,
  );
  if (missing.length) {
    throw new InvalidInputError(`createTemplate needs ${missing.join(', ')} (only updateTemplate takes some fields)`, {
      missing,
    });
  }
}

/** The draft after a partial update: given fields replace, `content` merges per channel (null removes one). */
function applyPatch(template: Template, patch: TemplatePatch): TemplateInput {
  let content = template.draft as Record<string, unknown>;
  if (patch.content !== undefined && patch.content !== null) {
    if (!isJsonObject(patch.content)) throw new InvalidInputError('content must be an object');
    content = { ...content };
    for (const [key, value] of Object.entries(patch.content)) {
      if (value === null) delete content[key];
      else Object.defineProperty(content, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return {
    key: patch.key ?? template.key,
    name: patch.name ?? template.name,
    channels: patch.channels ?? template.channels,
    content,
    topic: patch.topic === undefined || patch.topic === null ? template.topic : patch.topic || null,
  };
}

/** Deep equality of JSON values, ignoring the order of object keys. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => hasOwn(b, k) && sameJson(a[k], b[k]));
  }
  return false;
}

/** True when publishing would change something: never published, or the draft's channels, content or topic differ. */
export function draftDiffers(template: Template, published: PublishedTemplate | null): boolean {
  if (!published) return true;
  return (
    !sameJson(template.channels, published.channels) ||
    !sameJson(template.draft, published.content) ||
    (template.topic ?? null) !== published.topic
  );
}

function checkInput(input: TemplateInput): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/.test(input.key ?? '')) {
    throw new InvalidInputError(
      'key must be 1–100 letters, digits, "_", ".", ":" or "-", starting with a letter or digit',
    );
  }
  if (!input.name || input.name.length > 255) throw new InvalidInputError('name must be 1–255 characters');
  if (!Array.isArray(input.channels) || input.channels.length === 0) {
    throw new InvalidInputError('channels must list at least one channel');
  }
  if (new Set(input.channels).size !== input.channels.length) throw new InvalidInputError('channels must not repeat');
  for (const c of input.channels) {
    if (!ALL_CHANNELS.includes(c)) throw new InvalidInputError(`unknown channel ${String(c)}`);
  }
  validateContent(input.channels, input.content);
}

/**
 * Templates: drafts are edited freely; `publish` freezes the draft as the next numbered version.
 * The pipeline only ever uses published versions.
 */
export class TemplateService implements TopicReferences {
  constructor(
    private readonly db: Database,
    private readonly profiles: ProfileService,
    /** Checks that a template's topic exists when it is saved (without it: any well-formed key is kept). */
    private readonly topics?: TopicService,
  ) {}

  /** A template's topic must exist: checked (and the topic row locked) in the saving transaction. */
  private async checkTopic(tx: Sql, ctx: RequestContext, topic: string | null | undefined): Promise<void> {
    if (topic === null || topic === undefined) return;
    if (this.topics) await this.topics.requireIn(tx, ctx, topic, 'topic');
    else if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/.test(topic)) {
      throw new InvalidInputError('topic: must be a topic key', { field: 'topic' });
    }
  }

  /** Templates whose draft or latest published version names the topic `key` (see TopicService.delete). */
  async namingTopicIn(tx: Sql, ctx: RequestContext, key: string): Promise<string[]> {
    const rows = await tx.rows<{ template_key: string }>(
      `SELECT t.template_key FROM templates t LEFT JOIN template_versions v
         ON v.template_id = t.id AND v.version = t.published_version
       WHERE t.workspace_id = ? AND (t.topic = ? OR v.topic = ?) ORDER BY t.template_key`,
      [ctx.workspaceId, key, key],
    );
    return rows.map((r) => `template "${r.template_key}"`);
  }

  async create(ctx: RequestContext, input: TemplatePatch): Promise<Template> {
    requireAll(input);
    checkInput(input);
    const id = randomUUID();
    const now = toDbTime(new Date());
    await this.keyUnique(
      () => input.key,
      () =>
        this.db.transaction(async (tx) => {
          const taken = await tx.rows('SELECT id FROM templates WHERE workspace_id = ? AND template_key = ?', [
            ctx.workspaceId,
            input.key,
          ]);
          if (taken.length) throw new InvalidInputError(`A template with key "${input.key}" already exists`);
          const topic = input.topic || null;
          await this.checkTopic(tx, ctx, topic);
          await tx.run(
            `INSERT INTO templates (id, workspace_id, template_key, name, channels, draft, topic, published_version, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
            [
              id,
              ctx.workspaceId,
              input.key,
              input.name,
              JSON.stringify(input.channels),
              JSON.stringify(input.content),
              topic,
              now,
              now,
            ],
          );
        }),
    );
    return (await this.get(ctx, { id }))!;
  }

  /** Turns the unique key's violation (two concurrent saves of one key) into the same answer as the check. */
  private async keyUnique<T>(key: () => string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (isUniqueViolation(err)) throw new InvalidInputError(`A template with key "${key()}" already exists`);
      throw err;
    }
  }

  /** Edits the draft only (the fields given; see {@link TemplatePatch}); published versions never change. */
  async update(ctx: RequestContext, id: string, patch: TemplatePatch): Promise<Template> {
    let key = patch.key ?? '';
    await this.keyUnique(
      () => key,
      () =>
        this.db.transaction(async (tx) => {
          const input = applyPatch(await this.require(tx, ctx, id, true), patch);
          key = input.key;
          checkInput(input);
          const taken = await tx.rows(
            'SELECT id FROM templates WHERE workspace_id = ? AND template_key = ? AND id <> ?',
            [ctx.workspaceId, input.key, id],
          );
          if (taken.length) throw new InvalidInputError(`A template with key "${input.key}" already exists`);
          if (patch.topic) await this.checkTopic(tx, ctx, input.topic);
          await tx.run(
            'UPDATE templates SET template_key = ?, name = ?, channels = ?, draft = ?, topic = ?, updated_at = ? WHERE id = ? AND workspace_id = ?',
            [
              input.key,
              input.name,
              JSON.stringify(input.channels),
              JSON.stringify(input.content),
              input.topic ?? null,
              toDbTime(new Date()),
              id,
              ctx.workspaceId,
            ],
          );
        }),
    );
    return (await this.get(ctx, { id }))!;
  }

  /** Whether the draft differs from the latest published version (always true before the first publish). */
  async hasUnpublishedChanges(ctx: RequestContext, template: Template): Promise<boolean> {
    if (!template.publishedVersion) return true;
    return draftDiffers(template, await this.published(ctx, template.id, template.publishedVersion));
  }

  /** The draft becomes the next published version (1, 2, 3…). */
  async publish(ctx: RequestContext, id: string): Promise<Template> {
    return this.db.transaction(async (tx) => {
      const template = await this.require(tx, ctx, id, true);
      validateContent(template.channels, template.draft);
      const version = (template.publishedVersion ?? 0) + 1;
      const now = toDbTime(new Date());
      // the topic is checked again: it may have been deleted while no published version named it
      await this.checkTopic(tx, ctx, template.topic);
      await tx.run(
        'INSERT INTO template_versions (template_id, version, channels, content, topic, published_at) VALUES (?, ?, ?, ?, ?, ?)',
        [id, version, JSON.stringify(template.channels), JSON.stringify(template.draft), template.topic, now],
      );
      await tx.run('UPDATE templates SET published_version = ?, updated_at = ? WHERE id = ?', [version, now, id]);
      // read back inside the transaction: a concurrent publish must not show through
      return this.require(tx, ctx, id);
    });
  }

  async list(ctx: RequestContext): Promise<Template[]> {
    const rows = await this.db.rows<TemplateRow>(
      'SELECT * FROM templates WHERE workspace_id = ? ORDER BY created_at, id',
      [ctx.workspaceId],
    );
    return rows.map(toTemplate);
  }

  /** By id or by key (exactly one of them). */
  async get(ctx: RequestContext, by: { id?: string | null; key?: string | null }): Promise<Template | null> {
    if ((by.id ? 1 : 0) + (by.key ? 1 : 0) !== 1) throw new InvalidInputError('give exactly one of id or key');
    const rows = await this.db.rows<TemplateRow>(
      `SELECT * FROM templates WHERE workspace_id = ? AND ${by.id ? 'id' : 'template_key'} = ?`,
      [ctx.workspaceId, by.id ?? by.key],
    );
    return rows.length ? toTemplate(rows[0]) : null;
  }

  /** Template ids by key (keys that name no template are absent). */
  async idsByKey(ctx: RequestContext, keys: readonly string[]): Promise<Map<string, string>> {
    if (!keys.length) return new Map();
    const rows = await this.db.rows<{ id: string; template_key: string }>(
      `SELECT id, template_key FROM templates WHERE workspace_id = ? AND template_key IN (${placeholders(keys.length)})`,
      [ctx.workspaceId, ...keys],
    );
    return new Map(rows.map((r) => [r.template_key, r.id]));
  }

  async getByIds(ctx: RequestContext, ids: readonly string[]): Promise<Map<string, Template>> {
    if (!ids.length) return new Map();
    const rows = await this.db.rows<TemplateRow>(
      `SELECT * FROM templates WHERE workspace_id = ? AND id IN (${placeholders(ids.length)})`,
      [ctx.workspaceId, ...ids],
    );
    return new Map(rows.map((r) => [r.id, toTemplate(r)]));
  }

  /** The latest published version, or null when the template was never published (or is unknown). */
  async published(ctx: RequestContext, templateId: string, version?: number | null): Promise<PublishedTemplate | null> {
    const rows = await this.db.rows<{ version: number; channels: unknown; content: unknown; topic: string | null }>(
      `SELECT v.version, v.channels, v.content, v.topic FROM template_versions v JOIN templates t ON t.id = v.template_id
       WHERE t.workspace_id = ? AND t.id = ? AND v.version = ${version ? '?' : 't.published_version'}`,
      version ? [ctx.workspaceId, templateId, version] : [ctx.workspaceId, templateId],
    );
    if (!rows.length) return null;
    return {
      templateId,
      version: Number(rows[0].version),
      channels: parseJsonColumn(rows[0].channels),
      content: parseJsonColumn(rows[0].content),
      topic: rows[0].topic ?? null,
    };
  }

  /** The latest published version of each template (null for one never published or unknown). */
  async publishedMany(
    ctx: RequestContext,
    templateIds: readonly string[],
  ): Promise<Map<string, PublishedTemplate | null>> {
    const map = new Map<string, PublishedTemplate | null>(templateIds.map((id) => [id, null]));
    if (!templateIds.length) return map;
    const rows = await this.db.rows<{
      template_id: string;
      version: number;
      channels: unknown;
      content: unknown;
      topic: string | null;
    }>(
      `SELECT v.template_id, v.version, v.channels, v.content, v.topic FROM template_versions v JOIN templates t ON t.id = v.template_id
       WHERE t.workspace_id = ? AND t.id IN (${placeholders(templateIds.length)}) AND v.version = t.published_version`,
      [ctx.workspaceId, ...templateIds],
    );
    for (const r of rows) {
      map.set(r.template_id, {
        templateId: r.template_id,
        version: Number(r.version),
        channels: parseJsonColumn(r.channels),
        content: parseJsonColumn(r.content),
        topic: r.topic ?? null,
      });
    }
    return map;
  }

  /** Every published version of each template, newest first (none for a template of another workspace). */
  async versionHistory(
    ctx: RequestContext,
    templateIds: readonly string[],
  ): Promise<Map<string, TemplateVersionRecord[]>> {
    const map = new Map<string, TemplateVersionRecord[]>(templateIds.map((id) => [id, []]));
    if (!templateIds.length) return map;
    const rows = await this.db.rows<{
      template_id: string;
      version: number;
      channels: unknown;
      content: unknown;
      topic: string | null;
      published_at: unknown;
    }>(
      `SELECT v.template_id, v.version, v.channels, v.content, v.topic, v.published_at
       FROM template_versions v JOIN templates t ON t.id = v.template_id
       WHERE t.workspace_id = ? AND t.id IN (${placeholders(templateIds.length)})
       ORDER BY v.template_id, v.version DESC`,
      [ctx.workspaceId, ...templateIds],
    );
    for (const r of rows) {
      map.get(r.template_id)?.push({
        templateId: r.template_id,
        version: Number(r.version),
        channels: parseJsonColumn(r.channels),
        content: parseJsonColumn(r.content),
        topic: r.topic ?? null,
        publishedAt: fromDbTime(r.published_at),
      });
    }
    return map;
  }

  /** `previewTemplate`: renders a template (its draft) or inline content over sample data and a profile. */
  async preview(ctx: RequestContext, input: PreviewInput): Promise<RenderResult> {
    let channels: Channel[];
    let content: Record<string, unknown>;
    if (input.content) {
      content = input.content;
      channels = ALL_CHANNELS.filter((c) => isJsonObject(content) && contentKey(c) in content);
      validateContent(channels, content);
    } else if (input.templateId) {
      const template = await this.get(ctx, { id: input.templateId });
      if (!template) throw new NotFoundError('Template', input.templateId);
      channels = template.channels;
      content = template.draft as Record<string, unknown>;
    } else {
      throw new InvalidInputError('previewTemplate needs templateId or content');
    }
    const profile = input.userId ? await this.profiles.get(ctx, input.userId) : null;
    return renderContent(channels, content, { data: input.data ?? {}, profile: profile?.traits ?? {}, event: {} });
  }

  private async require(tx: Sql, ctx: RequestContext, id: string, lock = false): Promise<Template> {
    const rows = await tx.rows<TemplateRow>(
      `SELECT * FROM templates WHERE workspace_id = ? AND id = ?${lock && tx.dialect.kind === 'mysql' ? ' FOR UPDATE' : ''}`,
      [ctx.workspaceId, id],
    );
    if (!rows.length) throw new NotFoundError('Template', id);
    return toTemplate(rows[0]);
  }
}
