import { randomUUID } from 'node:crypto';
import type { Database, Sql } from '../../db/database';
import { isUniqueViolation } from '../../db/database';
import { fromDbTime, toDbTime } from '../../db/dialect';
import { parseJsonColumn, placeholders } from '../../db/rows';
import { describe } from '../../lib/json';
import { InvalidInputError, NotFoundError } from '../domain-error';
import type { TopicReferences, TopicService } from '../preference/topic.service';
import type { RequestContext } from '../request-context';
import { checkPath } from '../routing/condition-validation';
import { validateSendWindow, validateSteps } from './workflow-steps';
import { Workflow, type WorkflowDefinition } from './workflow.entity';

/** What `createWorkflow` / `updateWorkflow` take. */
export interface WorkflowInput {
  key: string;
  name: string;
  topic?: string | null;
  cancelKeyPath?: string | null;
  window?: Record<string, unknown> | null;
  steps: unknown[];
}

/** A published version with when it was published, as `Workflow.versions` lists them. */
export interface WorkflowVersionRecord {
  workflowId: string;
  version: number;
  definition: WorkflowDefinition;
  publishedAt: Date;
}

interface WorkflowRow {
  id: string;
  workspace_id: number;
  workflow_key: string;
  draft: unknown;
  published_version: number | null;
  created_at: unknown;
  updated_at: unknown;
}

/** Published versions kept in memory (they never change). */
const VERSION_CACHE = 1000;

const KEY = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

function toWorkflow(row: WorkflowRow, published: WorkflowDefinition | null): Workflow {
  return Object.assign(new Workflow(), {
    id: row.id,
    workspaceId: Number(row.workspace_id),
    key: row.workflow_key,
    draft: parseJsonColumn<WorkflowDefinition>(row.draft),
    publishedVersion: row.published_version === null ? null : Number(row.published_version),
    published,
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  });
}

/** Checks a workflow input; throws BAD_USER_INPUT naming the field (and, for steps, the step and field). */
export function checkWorkflowInput(input: WorkflowInput): { key: string; definition: WorkflowDefinition } {
  const fail = (field: string, problem: string): never => {
    throw new InvalidInputError(`${field}: ${problem}`, { field });
  };
  if (typeof input.key !== 'string' || !KEY.test(input.key)) {
    fail('key', 'must be 1–100 letters, digits, "_", ".", ":" or "-", starting with a letter or digit');
  }
  if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 255) {
    fail('name', 'must be 1–255 characters');
  }
  const topic = input.topic ?? null;
  if (topic !== null && (typeof topic !== 'string' || !KEY.test(topic))) {
    fail('topic', `must be a topic key (letters, digits, "_", ".", ":" or "-"), got ${describe(topic)}`);
  }
  const cancelKeyPath = input.cancelKeyPath ?? null;
  if (cancelKeyPath !== null) {
    const problem =
      typeof cancelKeyPath === 'string' ? checkPath(cancelKeyPath) : 'must be a path such as "data.cartId"';
    if (problem) fail('cancelKeyPath', problem);
  }
  const window = input.window === null || input.window === undefined ? null : validateSendWindow(input.window, fail);
  const steps = validateSteps(input.steps);
  return { key: input.key, definition: { name: input.name, topic, cancelKeyPath, window, steps } };
}

/**
 * Workflows: drafts are edited freely; `publish` freezes the draft as the next numbered version, which
 * never changes afterwards. Only this service writes `workflows` and `workflow_versions`.
 */
export class WorkflowService implements TopicReferences {
  private readonly versionCache = new Map<string, WorkflowDefinition>();

  constructor(
    private readonly db: Database,
    /** Checks that a workflow's topic exists when it is saved (without it: any well-formed key is kept). */
    private readonly topics?: TopicService,
  ) {}

  /** Workflows whose draft or latest published version names the topic `key` (see TopicService.delete). */
  async namingTopicIn(tx: Sql, ctx: RequestContext, key: string): Promise<string[]> {
    const rows = await tx.rows<WorkflowRow>('SELECT * FROM workflows WHERE workspace_id = ? ORDER BY workflow_key', [
      ctx.workspaceId,
    ]);
    return (await this.withPublished(tx, rows))
      .filter((w) => w.draft.topic === key || w.published?.topic === key)
      .map((w) => `workflow "${w.key}"`);
  }

  async create(ctx: RequestContext, input: WorkflowInput): Promise<Workflow> {
    const { key, definition } = checkWorkflowInput(input);
    const id = randomUUID();
    const now = toDbTime(new Date());
    await this.keyUnique(key, () =>
      this.db.transaction(async (tx) => {
        await this.keyFree(tx, ctx, key);
        if (definition.topic) await this.topics?.requireIn(tx, ctx, definition.topic, 'topic');
        await tx.run(
          `INSERT INTO workflows (id, workspace_id, workflow_key, draft, published_version, created_at, updated_at)
           VALUES (?, ?, ?, ?, NULL, ?, ?)`,
          [id, ctx.workspaceId, key, JSON.stringify(definition), now, now],
        );
      }),
    );
    return (await this.get(ctx, { id }))!;
  }

  /** Edits the draft only; published versions never change, and runs keep theirs. */
  async update(ctx: RequestContext, id: string, input: WorkflowInput): Promise<Workflow> {
    const { key, definition } = checkWorkflowInput(input);
    await this.keyUnique(key, () =>
      this.db.transaction(async (tx) => {
        await this.require(tx, ctx, id);
        await this.keyFree(tx, ctx, key, id);
        if (definition.topic) await this.topics?.requireIn(tx, ctx, definition.topic, 'topic');
        await tx.run(
          'UPDATE workflows SET workflow_key = ?, draft = ?, updated_at = ? WHERE id = ? AND workspace_id = ?',
          [key, JSON.stringify(definition), toDbTime(new Date()), id, ctx.workspaceId],
        );
      }),
    );
    return (await this.get(ctx, { id }))!;
  }

  /** The draft becomes the next published version (1, 2, 3…). */
  async publish(ctx: RequestContext, id: string): Promise<Workflow> {
    return this.db.transaction(async (tx) => {
      const workflow = await this.require(tx, ctx, id, true);
      // checked again: a draft saved by an older Pigeon may not pass today's rules
      const { draft } = workflow;
      const { definition } = checkWorkflowInput({
        key: workflow.key,
        ...draft,
        window: draft.window ? { ...draft.window } : null,
      });
      const version = (workflow.publishedVersion ?? 0) + 1;
      const now = toDbTime(new Date());
      await tx.run(
        'INSERT INTO workflow_versions (workflow_id, version, definition, published_at) VALUES (?, ?, ?, ?)',
        [id, version, JSON.stringify(definition), now],
      );
      await tx.run('UPDATE workflows SET published_version = ?, updated_at = ? WHERE id = ?', [version, now, id]);
      // read back inside the transaction: a concurrent publish must not show through
      return this.require(tx, ctx, id);
    });
  }

  async list(ctx: RequestContext): Promise<Workflow[]> {
    const rows = await this.db.rows<WorkflowRow>(
      'SELECT * FROM workflows WHERE workspace_id = ? ORDER BY created_at, id',
      [ctx.workspaceId],
    );
    return this.withPublished(this.db, rows);
  }

  /** By id or by key (exactly one of them). */
  async get(ctx: RequestContext, by: { id?: string | null; key?: string | null }): Promise<Workflow | null> {
    if ((by.id ? 1 : 0) + (by.key ? 1 : 0) !== 1) throw new InvalidInputError('give exactly one of id or key');
    const rows = await this.db.rows<WorkflowRow>(
      `SELECT * FROM workflows WHERE workspace_id = ? AND ${by.id ? 'id' : 'workflow_key'} = ?`,
      [ctx.workspaceId, by.id ?? by.key],
    );
    return (await this.withPublished(this.db, rows))[0] ?? null;
  }

  async getByIds(ctx: RequestContext, ids: readonly string[]): Promise<Map<string, Workflow>> {
    if (!ids.length) return new Map();
    const rows = await this.db.rows<WorkflowRow>(
      `SELECT * FROM workflows WHERE workspace_id = ? AND id IN (${placeholders(ids.length)})`,
      [ctx.workspaceId, ...ids],
    );
    return new Map((await this.withPublished(this.db, rows)).map((w) => [w.id, w]));
  }

  /** A published version's definition, or null when the workflow has no such version. */
  async version(workflowId: string, version: number): Promise<WorkflowDefinition | null> {
    return (await this.versions([{ workflowId, version }])).get(`${workflowId}:${version}`) ?? null;
  }

  /**
   * Published versions' definitions by `<workflowId>:<version>`. Versions never change once published, so
   * they are kept in memory (the most recent {@link VERSION_CACHE} of them) — no cache that can go stale.
   */
  async versions(
    wanted: readonly { workflowId: string; version: number }[],
    sql: Sql = this.db,
  ): Promise<Map<string, WorkflowDefinition>> {
    const found = new Map<string, WorkflowDefinition>();
    const missing = new Map<string, { workflowId: string; version: number }>();
    for (const w of wanted) {
      const id = `${w.workflowId}:${w.version}`;
      const cached = this.versionCache.get(id);
      if (cached) found.set(id, cached);
      else missing.set(id, w);
    }
    if (missing.size) {
      const list = [...missing.values()];
      const rows = await sql.rows<{ workflow_id: string; version: number; definition: unknown }>(
        `SELECT workflow_id, version, definition FROM workflow_versions WHERE ${list.map(() => '(workflow_id = ? AND version = ?)').join(' OR ')}`,
        list.flatMap((w) => [w.workflowId, w.version]),
      );
      for (const r of rows) {
        const id = `${r.workflow_id}:${Number(r.version)}`;
        const definition = parseJsonColumn<WorkflowDefinition>(r.definition);
        found.set(id, definition);
        if (this.versionCache.size >= VERSION_CACHE) this.versionCache.delete(this.versionCache.keys().next().value!);
        this.versionCache.set(id, definition);
      }
    }
    return found;
  }

  /** Every published version of each workflow, newest first (none for a workflow of another workspace). */
  async versionHistory(
    ctx: RequestContext,
    workflowIds: readonly string[],
  ): Promise<Map<string, WorkflowVersionRecord[]>> {
    const map = new Map<string, WorkflowVersionRecord[]>(workflowIds.map((id) => [id, []]));
    if (!workflowIds.length) return map;
    const rows = await this.db.rows<{
      workflow_id: string;
      version: number;
      definition: unknown;
      published_at: unknown;
    }>(
      `SELECT v.workflow_id, v.version, v.definition, v.published_at
       FROM workflow_versions v JOIN workflows w ON w.id = v.workflow_id
       WHERE w.workspace_id = ? AND w.id IN (${placeholders(workflowIds.length)})
       ORDER BY v.workflow_id, v.version DESC`,
      [ctx.workspaceId, ...workflowIds],
    );
    for (const r of rows) {
      map.get(r.workflow_id)?.push({
        workflowId: r.workflow_id,
        version: Number(r.version),
        definition: parseJsonColumn<WorkflowDefinition>(r.definition),
        publishedAt: fromDbTime(r.published_at),
      });
    }
    return map;
  }

  /**
   * Each workflow's current published version and definition (version null: not published), read in the
   * caller's transaction: what a run started now keeps.
   */
  async publishedIn(
    sql: Sql,
    workspaceId: number,
    workflowIds: readonly string[],
  ): Promise<Map<string, { key: string; version: number | null; definition: WorkflowDefinition | null }>> {
    const out = new Map<string, { key: string; version: number | null; definition: WorkflowDefinition | null }>();
    if (!workflowIds.length) return out;
    const rows = await sql.rows<{ id: string; workflow_key: string; published_version: number | null }>(
      `SELECT id, workflow_key, published_version FROM workflows WHERE workspace_id = ? AND id IN (${placeholders(workflowIds.length)})`,
      [workspaceId, ...workflowIds],
    );
    const published = rows.filter((r) => r.published_version !== null);
    const definitions = await this.versions(
      published.map((r) => ({ workflowId: r.id, version: Number(r.published_version) })),
      sql,
    );
    for (const r of rows) {
      const version = r.published_version === null ? null : Number(r.published_version);
      out.set(r.id, {
        key: r.workflow_key,
        version,
        definition: version === null ? null : (definitions.get(`${r.id}:${version}`) ?? null),
      });
    }
    return out;
  }

  private async withPublished(sql: Sql, rows: WorkflowRow[]): Promise<Workflow[]> {
    const published = rows.filter((r) => r.published_version !== null);
    const definitions = new Map<string, WorkflowDefinition>();
    if (published.length) {
      const found = await sql.rows<{ workflow_id: string; definition: unknown }>(
        `SELECT v.workflow_id, v.definition FROM workflow_versions v
         JOIN workflows w ON w.id = v.workflow_id AND w.published_version = v.version
         WHERE v.workflow_id IN (${placeholders(published.length)})`,
        published.map((r) => r.id),
      );
      found.forEach((f) => definitions.set(f.workflow_id, parseJsonColumn<WorkflowDefinition>(f.definition)));
    }
    return rows.map((r) => toWorkflow(r, definitions.get(r.id) ?? null));
  }

  private async require(sql: Sql, ctx: RequestContext, id: string, lock = false): Promise<Workflow> {
    const rows = await sql.rows<WorkflowRow>(
      `SELECT * FROM workflows WHERE id = ? AND workspace_id = ?${lock && sql.dialect.kind === 'mysql' ? ' FOR UPDATE' : ''}`,
      [id, ctx.workspaceId],
    );
    if (!rows.length) throw new NotFoundError('Workflow', id);
    return (await this.withPublished(sql, rows))[0];
  }

  private async keyFree(tx: Sql, ctx: RequestContext, key: string, exceptId?: string): Promise<void> {
    const taken = await tx.rows(
      `SELECT id FROM workflows WHERE workspace_id = ? AND workflow_key = ?${exceptId ? ' AND id <> ?' : ''}`,
      [ctx.workspaceId, key, ...(exceptId ? [exceptId] : [])],
    );
    if (taken.length) throw new InvalidInputError(`key: a workflow with key "${key}" already exists`, { field: 'key' });
  }

  /** Turns the unique key's violation (two concurrent saves of one key) into the same answer as the check. */
  private async keyUnique<T>(key: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new InvalidInputError(`key: a workflow with key "${key}" already exists`, { field: 'key' });
      }
      throw err;
    }
  }
}
