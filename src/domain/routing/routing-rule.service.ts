import { timeOrderedId } from '../ids';
import type { Database } from '../../db/database';
import { fromDbTime, toDbTime } from '../../db/dialect';
import { InvalidInputError, NotFoundError } from '../domain-error';
import type { RequestContext } from '../request-context';
import { ALL_CHANNELS, type Channel } from '../channel/channel.enum';
import { validateCondition } from './condition';
import { RoutingRule } from './routing-rule.entity';
import { RoutingAction, RoutingMethod } from './routing.enums';
import { parseJsonColumn } from '../../db/rows';

export interface RoutingRuleInput {
  name: string;
  templateId?: string | null;
  priority: number;
  when?: Record<string, unknown> | null;
  action: RoutingAction;
  method?: RoutingMethod | null;
  channels?: Channel[] | null;
  enabled?: boolean | null;
}

interface RuleRow {
  id: string;
  workspace_id: number;
  template_id: string | null;
  name: string;
  priority: number;
  condition_tree: unknown;
  action: string;
  method: string | null;
  channels: unknown;
  enabled: number | boolean;
  created_at: unknown;
  updated_at: unknown;
}

function toRule(row: RuleRow): RoutingRule {
  return Object.assign(new RoutingRule(), {
    id: row.id,
    workspaceId: Number(row.workspace_id),
    templateId: row.template_id,
    name: row.name,
    priority: Number(row.priority),
    when: row.condition_tree === null ? null : parseJsonColumn(row.condition_tree),
    action: row.action as RoutingAction,
    method: row.method as RoutingMethod | null,
    channels: row.channels === null ? null : parseJsonColumn(row.channels),
    enabled: Boolean(Number(row.enabled)),
    createdAt: fromDbTime(row.created_at),
    updatedAt: fromDbTime(row.updated_at),
  });
}

/**
 * The one ordered list of rules that applies to a template (README.md, "From event to notification",
 * step 5): the template's rules and the workspace-wide ones together, by ascending priority,
 * template-specific first on ties, then oldest first.
 */
export function orderRules(rules: RoutingRule[]): RoutingRule[] {
  return [...rules].sort(
    (a, b) =>
      a.priority - b.priority ||
      Number(a.templateId === null) - Number(b.templateId === null) ||
      a.createdAt.getTime() - b.createdAt.getTime() ||
      a.id.localeCompare(b.id),
  );
}

function checkInput(input: RoutingRuleInput): void {
  if (!input.name || input.name.length > 255) throw new InvalidInputError('name must be 1–255 characters');
  if (!Number.isInteger(input.priority)) throw new InvalidInputError('priority must be an integer');
  if (input.when !== null && input.when !== undefined) validateCondition(input.when);
  if (input.channels) {
    if (!input.channels.length) throw new InvalidInputError('channels, when given, must list at least one channel');
    if (new Set(input.channels).size !== input.channels.length) throw new InvalidInputError('channels must not repeat');
    for (const c of input.channels)
      if (!ALL_CHANNELS.includes(c)) throw new InvalidInputError(`unknown channel ${String(c)}`);
  }
  if (input.action === RoutingAction.SUPPRESS && (input.method || input.channels)) {
    throw new InvalidInputError('a SUPPRESS rule takes no method or channels');
  }
}

/** Routing rules: data that the pipeline evaluates with the pure functions of `condition.ts`. */
export class RoutingRuleService {
  constructor(private readonly db: Database) {}

  async create(ctx: RequestContext, input: RoutingRuleInput): Promise<RoutingRule> {
    checkInput(input);
    await this.checkTemplate(ctx, input.templateId);
    const id = timeOrderedId();
    const now = toDbTime(new Date());
    await this.db.run(
      `INSERT INTO routing_rules (id, workspace_id, template_id, name, priority, condition_tree, action, method, channels, enabled, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [id, ctx.workspaceId, ...this.values(input), now, now],
    );
    return (await this.get(ctx, id))!;
  }

  async update(ctx: RequestContext, id: string, input: RoutingRuleInput): Promise<RoutingRule> {
    checkInput(input);
    if (!(await this.get(ctx, id))) throw new NotFoundError('Routing rule', id);
    await this.checkTemplate(ctx, input.templateId);
    await this.db.run(
      `UPDATE routing_rules SET template_id = ?, name = ?, priority = ?, condition_tree = ?, action = ?, method = ?, channels = ?, enabled = ?, updated_at = ?
       WHERE id = ? AND workspace_id = ?`,
      [...this.values(input), toDbTime(new Date()), id, ctx.workspaceId],
    );
    return (await this.get(ctx, id))!;
  }

  async delete(ctx: RequestContext, id: string): Promise<boolean> {
    return (
      (await this.db.run('DELETE FROM routing_rules WHERE id = ? AND workspace_id = ?', [id, ctx.workspaceId])) > 0
    );
  }

  async get(ctx: RequestContext, id: string): Promise<RoutingRule | null> {
    const rows = await this.db.rows<RuleRow>('SELECT * FROM routing_rules WHERE id = ? AND workspace_id = ?', [
      id,
      ctx.workspaceId,
    ]);
    return rows.length ? toRule(rows[0]) : null;
  }

  /** `routingRules(templateId)`: the rules that apply to that template, in evaluation order; all rules without it. */
  async list(ctx: RequestContext, templateId?: string | null): Promise<RoutingRule[]> {
    const rows = templateId
      ? await this.db.rows<RuleRow>(
          'SELECT * FROM routing_rules WHERE workspace_id = ? AND (template_id = ? OR template_id IS NULL)',
          [ctx.workspaceId, templateId],
        )
      : await this.db.rows<RuleRow>('SELECT * FROM routing_rules WHERE workspace_id = ?', [ctx.workspaceId]);
    return orderRules(rows.map(toRule));
  }

  private values(input: RoutingRuleInput): unknown[] {
    const suppress = input.action === RoutingAction.SUPPRESS;
    return [
      input.templateId ?? null,
      input.name,
      input.priority,
      input.when ? JSON.stringify(input.when) : null,
      input.action,
      suppress ? null : (input.method ?? RoutingMethod.SINGLE),
      input.channels ? JSON.stringify(input.channels) : null,
      input.enabled === false ? 0 : 1,
    ];
  }

  private async checkTemplate(ctx: RequestContext, templateId?: string | null): Promise<void> {
    if (!templateId) return;
    const rows = await this.db.rows('SELECT id FROM templates WHERE workspace_id = ? AND id = ?', [
      ctx.workspaceId,
      templateId,
    ]);
    if (!rows.length) throw new NotFoundError('Template', templateId);
  }
}
