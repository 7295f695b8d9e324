import type { Database } from '../../db/database';
import { DomainError, InvalidInputError } from '../domain-error';
import { eventNameProblem, type MappingService } from '../mapping/mapping.service';
import type { RequestContext } from '../request-context';
import { validateCondition } from '../routing/condition';
import type { RoutingRule } from '../routing/routing-rule.entity';
import type { RoutingRuleService } from '../routing/routing-rule.service';
import { RoutingAction, RoutingMethod } from '../routing/routing.enums';
import { validateContent } from '../template/render';
import type { Template } from '../template/template.entity';
import type { PublishedTemplate, TemplateService } from '../template/template.service';
import type { Workflow, WorkflowDefinition } from '../workflow/workflow.entity';
import { checkWorkflowInput, type WorkflowService } from '../workflow/workflow.service';
import {
  canonicalJson,
  CONFIG_FORMAT_VERSION,
  ConfigFileError,
  sameJson,
  type CancelMappingDoc,
  type ConfigFile,
  type MappingDoc,
  type PublishedTemplateDoc,
  type RuleDoc,
  type TemplateDoc,
  type WorkflowDefinitionDoc,
  type WorkflowDoc,
} from './config-file';
import { TransactionDatabase } from './transaction-database';

/** The services an export or import works through (each table is written by its owner only). */
export interface ConfigServices {
  templates: TemplateService;
  workflows: WorkflowService;
  mappings: MappingService;
  rules: RoutingRuleService;
}

/** Builds {@link ConfigServices} on a database; an import calls it with one bound to its transaction. */
export type ConfigServicesFactory = (db: Database) => ConfigServices;

export interface ImportOptions {
  /** Work out and return the changes, change nothing. */
  dryRun?: boolean;
  /**
   * Also delete the mappings, cancel mappings and routing rules of the workspace that the file does not
   * list — only in the sections the file has (an absent section is left alone; `[]` empties it).
   * Templates and workflows are never deleted.
   */
  prune?: boolean;
  /** Names the file in error messages. */
  source?: string;
}

export type ChangeKind = 'template' | 'workflow' | 'mapping' | 'cancel-mapping' | 'rule';

/** One change an import makes (or, in a dry run, would make). */
export interface ConfigChange {
  action: 'create' | 'update' | 'delete';
  kind: ChangeKind;
  /** The key, event name or rule name it concerns. */
  name: string;
  /** What changes, e.g. `draft, publish v3`. */
  detail: string | null;
  /** The change in one line: `update workflow abandoned-cart (draft, publish v3)`. */
  line: string;
}

export interface ImportResult {
  changes: ConfigChange[];
  /** Things the import cannot or will not do, and doubtful references; they do not stop it. */
  warnings: string[];
  /** False for a dry run and when there was nothing to change. */
  applied: boolean;
}

/** Keys → ids, completed while an import creates templates and workflows. */
interface Refs {
  templates: Map<string, string>;
  workflows: Map<string, string>;
}

interface PlannedChange extends ConfigChange {
  apply(s: ConfigServices, refs: Refs): Promise<void>;
}

interface Plan {
  changes: PlannedChange[];
  warnings: string[];
  refs: Refs;
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const quote = (text: string) => JSON.stringify(text);

function change(
  action: ConfigChange['action'],
  kind: ChangeKind,
  name: string,
  details: (string | false | null | undefined)[],
  apply: PlannedChange['apply'],
): PlannedChange {
  const detail = details.filter((d): d is string => Boolean(d)).join(', ') || null;
  const shown = kind === 'template' || kind === 'workflow' ? name : quote(name);
  return { action, kind, name, detail, line: `${action} ${kind} ${shown}${detail ? ` (${detail})` : ''}`, apply };
}

function ruleScope(templateKey: string | null): string {
  return templateKey === null ? 'workspace-wide' : `template ${templateKey}`;
}

const ruleIdentity = (templateKey: string | null, name: string) => `${templateKey ?? ''}\u0000${name}`;

/** The definition a workflow document describes, as the workflow service stores it. */
function definitionDoc(d: WorkflowDefinition): WorkflowDefinitionDoc {
  return {
    name: d.name,
    topic: d.topic ?? null,
    cancelKeyPath: d.cancelKeyPath ?? null,
    window: d.window ? canonicalJson({ ...d.window }) : null,
    steps: canonicalJson(d.steps),
  };
}

function templateDoc(t: Template, published: PublishedTemplate | null): TemplateDoc {
  const draft = { channels: t.channels, content: canonicalJson(t.draft as Record<string, unknown>) };
  let state: TemplateDoc['published'] = false;
  if (published) {
    state =
      sameJson(published.channels, t.channels) && sameJson(published.content, t.draft)
        ? true
        : { channels: published.channels, content: canonicalJson(published.content as Record<string, unknown>) };
  }
  return { key: t.key, name: t.name, ...draft, published: state };
}

/** A rule as the routing rule service stores it (defaults applied), for comparing. */
function normalRule(r: {
  priority: number;
  when?: Record<string, unknown> | null;
  action: RoutingAction;
  method?: RoutingMethod | null;
  channels?: readonly string[] | null;
  enabled?: boolean | null;
}) {
  const suppress = r.action === RoutingAction.SUPPRESS;
  return {
    priority: r.priority,
    when: r.when ? canonicalJson(r.when) : null,
    action: r.action,
    method: suppress ? null : (r.method ?? RoutingMethod.SINGLE),
    channels: r.channels ? [...r.channels] : null,
    enabled: r.enabled !== false,
  };
}

/** Rules that share a name and template cannot be told apart in a file. */
function duplicateRules(rules: RoutingRule[], keyOf: (templateId: string | null) => string | null): string[] {
  const seen = new Map<string, number>();
  for (const r of rules) {
    const id = ruleIdentity(keyOf(r.templateId), r.name);
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
}

function describeIdentity(identity: string): string {
  const [template, name] = identity.split('\u0000');
  return `rule ${quote(name)} (${ruleScope(template || null)})`;
}

/**
 * The configuration of the workspace of `ctx` as a {@link ConfigFile}: templates, workflows, event mappings,
 * cancel mappings and routing rules, each list sorted (by key, event name, or template key then rule name),
 * free-form JSON (content, steps, conditions) with sorted keys, and no ids — so the same configuration always
 * exports to the same text. Print it with `formatConfigFile`.
 *
 * Throws BAD_USER_INPUT when two routing rules share a name and template: rules are identified by both in
 * the file, so one of them must be renamed first.
 *
 * @example
 * ```ts
 * const file = await exportConfig(services, { workspaceId });
 * fs.writeFileSync('pigeon.json', formatConfigFile(file));
 * ```
 */
export async function exportConfig(s: ConfigServices, ctx: RequestContext): Promise<ConfigFile> {
  const templates = await s.templates.list(ctx);
  const published = await s.templates.publishedMany(
    ctx,
    templates.filter((t) => t.publishedVersion).map((t) => t.id),
  );
  const workflows = await s.workflows.list(ctx);
  const mappings = await s.mappings.list(ctx);
  const cancels = await s.mappings.cancelMappings(ctx);
  const rules = await s.rules.list(ctx);

  const templateKey = new Map(templates.map((t) => [t.id, t.key]));
  const workflowKey = new Map(workflows.map((w) => [w.id, w.key]));
  const keyOf = (map: Map<string, string>, what: string, id: string) => {
    const key = map.get(id);
    if (key === undefined) throw new InvalidInputError(`cannot export: ${what} ${id} is referenced but does not exist`);
    return key;
  };
  const ruleTemplateKey = (id: string | null) => (id === null ? null : keyOf(templateKey, 'template', id));

  const duplicates = duplicateRules(rules, ruleTemplateKey);
  if (duplicates.length) {
    throw new InvalidInputError(
      `cannot export: routing rules are identified by name and template in a configuration file, and the workspace ` +
        `has several of each of: ${duplicates.map(describeIdentity).join('; ')}. Rename them so they differ.`,
    );
  }

  return {
    pigeon: CONFIG_FORMAT_VERSION,
    templates: templates.map((t) => templateDoc(t, published.get(t.id) ?? null)).sort((a, b) => byText(a.key, b.key)),
    workflows: workflows
      .map((w): WorkflowDoc => {
        const draft = definitionDoc(w.draft);
        const pub = w.published ? definitionDoc(w.published) : null;
        return { key: w.key, ...draft, published: pub === null ? false : sameJson(pub, draft) ? true : pub };
      })
      .sort((a, b) => byText(a.key, b.key)),
    mappings: mappings
      .map((m): MappingDoc =>
        m.workflowId
          ? { event: m.eventName, workflow: keyOf(workflowKey, 'workflow', m.workflowId) }
          : { event: m.eventName, template: keyOf(templateKey, 'template', m.templateId!) },
      )
      .sort((a, b) => byText(a.event, b.event)),
    cancelMappings: cancels
      .map((c): CancelMappingDoc => ({
        event: c.eventName,
        workflow: keyOf(workflowKey, 'workflow', c.workflowId),
        keyPath: c.keyPath,
      }))
      .sort((a, b) => byText(a.event, b.event) || byText(a.workflow, b.workflow)),
    rules: rules
      .map((r): Required<RuleDoc> => {
        const n = normalRule(r);
        return {
          name: r.name,
          template: ruleTemplateKey(r.templateId),
          priority: n.priority,
          when: n.when,
          action: n.action,
          method: n.method,
          channels: r.channels,
          enabled: n.enabled,
        };
      })
      .sort((a, b) => byText(a.template ?? '', b.template ?? '') || byText(a.name, b.name)),
  };
}

/**
 * Imports `file` into the workspace of `ctx`, by key: creates what is missing, updates what differs (a
 * template's or workflow's draft, and publishes a new version only when the published content differs),
 * leaves equal things alone — importing the same file twice changes nothing the second time. With
 * `prune`, also deletes mappings, cancel mappings and rules the file does not list (see {@link ImportOptions}).
 *
 * The whole file is checked before anything is written (a {@link ConfigFileError} lists every problem with
 * its path). The changes are applied in one transaction (templates, then workflows, then the mappings and
 * rules that reference them): an error leaves the workspace as it was.
 *
 * @param makeServices builds the services on a database; called with one bound to the import's transaction.
 * @example
 * ```ts
 * const file = parseConfigFile(fs.readFileSync('pigeon.json', 'utf8'), 'pigeon.json');
 * const { changes } = await importConfig(db, makeServices, { workspaceId }, file, { dryRun: true });
 * changes.forEach((c) => console.log(c.line)); // create template welcome (publish v1)
 * ```
 */
export async function importConfig(
  db: Database,
  makeServices: ConfigServicesFactory,
  ctx: RequestContext,
  file: ConfigFile,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const source = options.source ?? 'the file';
  if (options.dryRun) {
    const plan = await planImport(makeServices(db), ctx, file, options.prune ?? false, source);
    return { changes: plan.changes.map(publicChange), warnings: plan.warnings, applied: false };
  }
  return db.transaction(async (tx) => {
    const s = makeServices(new TransactionDatabase(db, tx));
    const plan = await planImport(s, ctx, file, options.prune ?? false, source);
    for (const c of plan.changes) {
      try {
        await c.apply(s, plan.refs);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        throw new DomainError(err.code, `${c.line}: ${err.message}; nothing was imported (rolled back)`, err.details);
      }
    }
    return { changes: plan.changes.map(publicChange), warnings: plan.warnings, applied: plan.changes.length > 0 };
  });
}

function publicChange(c: PlannedChange): ConfigChange {
  return { action: c.action, kind: c.kind, name: c.name, detail: c.detail, line: c.line };
}

function messageOf(err: unknown): string {
  if (err instanceof InvalidInputError) return err.message;
  throw err;
}

/** Checks the file against itself and the workspace, and works out the changes. */
async function planImport(
  s: ConfigServices,
  ctx: RequestContext,
  file: ConfigFile,
  prune: boolean,
  source: string,
): Promise<Plan> {
  const problems: string[] = [];
  const warnings: string[] = [];

  const dbTemplates = await s.templates.list(ctx);
  const dbPublished = await s.templates.publishedMany(
    ctx,
    dbTemplates.filter((t) => t.publishedVersion).map((t) => t.id),
  );
  const dbWorkflows = await s.workflows.list(ctx);
  const dbMappings = await s.mappings.list(ctx);
  const dbCancels = await s.mappings.cancelMappings(ctx);
  const dbRules = await s.rules.list(ctx);

  const refs: Refs = {
    templates: new Map(dbTemplates.map((t) => [t.key, t.id])),
    workflows: new Map(dbWorkflows.map((w) => [w.key, w.id])),
  };
  const templateKeyOf = new Map(dbTemplates.map((t) => [t.id, t.key]));
  const workflowKeyOf = new Map(dbWorkflows.map((w) => [w.id, w.key]));
  const fileTemplates = new Set((file.templates ?? []).map((t) => t.key));
  const fileWorkflows = new Set((file.workflows ?? []).map((w) => w.key));
  const templateKnown = (key: string) => fileTemplates.has(key) || refs.templates.has(key);
  const workflowKnown = (key: string) => fileWorkflows.has(key) || refs.workflows.has(key);

  const unique = (section: string, index: number, id: string, seen: Map<string, number>, what: string) => {
    const earlier = seen.get(id);
    if (earlier !== undefined) problems.push(`${section}[${index}]: ${what} is also at ${section}[${earlier}]`);
    else seen.set(id, index);
  };

  if (file.topics?.length) {
    problems.push(
      'topics: topics do not exist in this version of Pigeon, so they cannot be imported yet; remove the list ' +
        "(a workflow's own `topic` field imports as it is)",
    );
  }

  // templates: the file's own checks (the rules TemplateService applies on save)
  const templateSeen = new Map<string, number>();
  (file.templates ?? []).forEach((t, i) => {
    unique('templates', i, t.key, templateSeen, `template key ${quote(t.key)}`);
    const at = `templates[${i}] (${quote(t.key)})`;
    try {
      validateContent(t.channels, t.content);
    } catch (err) {
      problems.push(`${at}: ${messageOf(err)}`);
    }
    if (typeof t.published === 'object') {
      try {
        validateContent(t.published.channels, t.published.content);
      } catch (err) {
        problems.push(`${at}.published: ${messageOf(err)}`);
      }
    }
  });

  // workflows: checked, and normalised the way WorkflowService stores them
  const workflowSeen = new Map<string, number>();
  const definitions = (file.workflows ?? []).map((w, i) => {
    unique('workflows', i, w.key, workflowSeen, `workflow key ${quote(w.key)}`);
    const at = `workflows[${i}] (${quote(w.key)})`;
    const check = (d: WorkflowDefinitionDoc, where: string): WorkflowDefinition | null => {
      try {
        return checkWorkflowInput({ key: w.key, ...d }).definition;
      } catch (err) {
        problems.push(`${where}: ${messageOf(err)}`);
        return null;
      }
    };
    const draft = check(w, at);
    const published = typeof w.published === 'object' ? check(w.published, `${at}.published`) : null;
    for (const step of draft?.steps ?? []) {
      if (step.type === 'send' && !templateKnown(step.template)) {
        warnings.push(
          `${at}: step ${quote(step.ref)} sends template ${quote(step.template)}, which is neither in the file nor in the workspace`,
        );
      }
    }
    return { draft, published };
  });

  const mappingSeen = new Map<string, number>();
  (file.mappings ?? []).forEach((m, i) => {
    const at = `mappings[${i}]`;
    unique('mappings', i, m.event, mappingSeen, `event ${quote(m.event)}`);
    const bad = eventNameProblem(m.event);
    if (bad) problems.push(`${at}.event: ${bad.replace(/^eventName /, '')}`);
    if ((m.template === undefined) === (m.workflow === undefined)) {
      problems.push(`${at}: give exactly one of "template" (a template key) or "workflow" (a workflow key)`);
    } else if (m.template !== undefined && !templateKnown(m.template)) {
      problems.push(`${at}.template: no template has the key ${quote(m.template)}, in the file or the workspace`);
    } else if (m.workflow !== undefined && !workflowKnown(m.workflow)) {
      problems.push(`${at}.workflow: no workflow has the key ${quote(m.workflow)}, in the file or the workspace`);
    }
  });

  const cancelSeen = new Map<string, number>();
  (file.cancelMappings ?? []).forEach((c, i) => {
    const at = `cancelMappings[${i}]`;
    unique(
      'cancelMappings',
      i,
      `${c.event}\u0000${c.workflow}`,
      cancelSeen,
      `event ${quote(c.event)} with workflow ${c.workflow}`,
    );
    const bad = eventNameProblem(c.event);
    if (bad) problems.push(`${at}.event: ${bad.replace(/^eventName /, '')}`);
    if (!workflowKnown(c.workflow)) {
      problems.push(`${at}.workflow: no workflow has the key ${quote(c.workflow)}, in the file or the workspace`);
    }
  });

  const ruleSeen = new Map<string, number>();
  const dbRulesByIdentity = new Map<string, RoutingRule[]>();
  for (const r of dbRules) {
    const key = r.templateId === null ? null : (templateKeyOf.get(r.templateId) ?? r.templateId);
    const id = ruleIdentity(key, r.name);
    dbRulesByIdentity.set(id, [...(dbRulesByIdentity.get(id) ?? []), r]);
  }
  (file.rules ?? []).forEach((r, i) => {
    const at = `rules[${i}] (${quote(r.name)})`;
    const template = r.template ?? null;
    const identity = ruleIdentity(template, r.name);
    unique('rules', i, identity, ruleSeen, `a rule named ${quote(r.name)} (${ruleScope(template)})`);
    if (template !== null && !templateKnown(template)) {
      problems.push(`${at}.template: no template has the key ${quote(template)}, in the file or the workspace`);
    }
    if (r.when !== null && r.when !== undefined) {
      try {
        validateCondition(r.when, 'when');
      } catch (err) {
        problems.push(`${at}.${messageOf(err)}`);
      }
    }
    if (r.action === RoutingAction.SUPPRESS && (r.method || r.channels)) {
      problems.push(`${at}: a SUPPRESS rule takes no method or channels`);
    }
    const same = dbRulesByIdentity.get(identity) ?? [];
    if (same.length > 1) {
      problems.push(
        `${at}: the workspace has ${same.length} rules named ${quote(r.name)} (${ruleScope(template)}), so the file ` +
          'cannot say which one it means; rename or delete the others first',
      );
    }
  });

  if (problems.length) throw new ConfigFileError(source, problems);

  const changes: PlannedChange[] = [
    ...templateChanges(file.templates ?? [], dbTemplates, dbPublished, ctx, warnings),
    ...workflowChanges(file.workflows ?? [], definitions, dbWorkflows, ctx, warnings),
    ...mappingChanges(file, dbMappings, templateKeyOf, workflowKeyOf, ctx, prune),
    ...cancelChanges(file, dbCancels, workflowKeyOf, ctx, prune),
    ...ruleChanges(file, dbRulesByIdentity, ctx, prune),
  ];
  if (prune) {
    const keptTemplates = dbTemplates.filter((t) => !fileTemplates.has(t.key)).map((t) => t.key);
    const keptWorkflows = dbWorkflows.filter((w) => !fileWorkflows.has(w.key)).map((w) => w.key);
    if (file.templates && keptTemplates.length) {
      warnings.push(
        `--prune keeps templates not in the file (templates are never deleted): ${keptTemplates.join(', ')}`,
      );
    }
    if (file.workflows && keptWorkflows.length) {
      warnings.push(
        `--prune keeps workflows not in the file (workflows are never deleted): ${keptWorkflows.join(', ')}`,
      );
    }
  }
  return { changes, warnings, refs };
}

function templateChanges(
  docs: TemplateDoc[],
  current: Template[],
  published: Map<string, PublishedTemplate | null>,
  ctx: RequestContext,
  warnings: string[],
): PlannedChange[] {
  const byKey = new Map(current.map((t) => [t.key, t]));
  const changes: PlannedChange[] = [];
  for (const doc of docs) {
    const draft: PublishedTemplateDoc = { channels: doc.channels, content: doc.content };
    const wanted: PublishedTemplateDoc | null =
      doc.published === true ? draft : typeof doc.published === 'object' ? doc.published : null;
    const draftIsWanted = wanted !== null && sameJson(wanted, draft);
    /** Sets the draft to exactly `to` (content is merged per channel by the service: drop the others). */
    const setDraft = async (s: ConfigServices, id: string, to: PublishedTemplateDoc) => {
      const now = (await s.templates.get(ctx, { id }))!;
      const content: Record<string, unknown> = { ...to.content };
      for (const key of Object.keys(now.draft as Record<string, unknown>)) if (!(key in content)) content[key] = null;
      await s.templates.update(ctx, id, { name: doc.name, channels: to.channels, content });
    };
    const existing = byKey.get(doc.key);
    if (!existing) {
      changes.push(
        change('create', 'template', doc.key, [wanted && 'publish v1'], async (s, r) => {
          const first = wanted ?? draft;
          const created = await s.templates.create(ctx, { key: doc.key, name: doc.name, ...first });
          r.templates.set(doc.key, created.id);
          if (wanted) await s.templates.publish(ctx, created.id);
          if (wanted && !draftIsWanted) await setDraft(s, created.id, draft);
        }),
      );
      continue;
    }
    const now = published.get(existing.id) ?? null;
    if (!wanted && now) {
      warnings.push(
        `template ${doc.key}: the file has it unpublished, but version ${now.version} is published in the workspace ` +
          'and a published version cannot be withdrawn: it stays published',
      );
    }
    const draftChanged =
      existing.name !== doc.name ||
      !sameJson(existing.channels, doc.channels) ||
      !sameJson(existing.draft, doc.content);
    const publish =
      wanted !== null && (!now || !sameJson(now.channels, wanted.channels) || !sameJson(now.content, wanted.content));
    if (!draftChanged && !publish) continue;
    const id = existing.id;
    changes.push(
      change(
        'update',
        'template',
        doc.key,
        [draftChanged && 'draft', publish && `publish v${(existing.publishedVersion ?? 0) + 1}`],
        async (s) => {
          if (publish && wanted) {
            await setDraft(s, id, wanted);
            await s.templates.publish(ctx, id);
            if (!draftIsWanted) await setDraft(s, id, draft);
          } else {
            await setDraft(s, id, draft);
          }
        },
      ),
    );
  }
  return changes;
}

function workflowChanges(
  docs: WorkflowDoc[],
  definitions: { draft: WorkflowDefinition | null; published: WorkflowDefinition | null }[],
  current: Workflow[],
  ctx: RequestContext,
  warnings: string[],
): PlannedChange[] {
  const byKey = new Map(current.map((w) => [w.key, w]));
  const changes: PlannedChange[] = [];
  docs.forEach((doc, i) => {
    const draft = definitions[i].draft!;
    const wanted = doc.published === true ? draft : typeof doc.published === 'object' ? definitions[i].published : null;
    const draftIsWanted = wanted !== null && sameJson(wanted, draft);
    const input = (d: WorkflowDefinition) => ({
      key: doc.key,
      name: d.name,
      topic: d.topic,
      cancelKeyPath: d.cancelKeyPath,
      window: d.window ? { ...d.window } : null,
      steps: d.steps,
    });
    const existing = byKey.get(doc.key);
    if (!existing) {
      changes.push(
        change('create', 'workflow', doc.key, [wanted && 'publish v1'], async (s, r) => {
          const created = await s.workflows.create(ctx, input(wanted ?? draft));
          r.workflows.set(doc.key, created.id);
          if (wanted) await s.workflows.publish(ctx, created.id);
          if (wanted && !draftIsWanted) await s.workflows.update(ctx, created.id, input(draft));
        }),
      );
      return;
    }
    if (!wanted && existing.published) {
      warnings.push(
        `workflow ${doc.key}: the file has it unpublished, but version ${existing.publishedVersion} is published in ` +
          'the workspace and a published version cannot be withdrawn: it stays published',
      );
    }
    const draftChanged = !sameJson(existing.draft, draft);
    const publish = wanted !== null && (!existing.published || !sameJson(existing.published, wanted));
    if (!draftChanged && !publish) return;
    const id = existing.id;
    changes.push(
      change(
        'update',
        'workflow',
        doc.key,
        [draftChanged && 'draft', publish && `publish v${(existing.publishedVersion ?? 0) + 1}`],
        async (s) => {
          if (publish && wanted) {
            if (!sameJson(existing.draft, wanted)) await s.workflows.update(ctx, id, input(wanted));
            await s.workflows.publish(ctx, id);
            if (!draftIsWanted) await s.workflows.update(ctx, id, input(draft));
          } else {
            await s.workflows.update(ctx, id, input(draft));
          }
        },
      ),
    );
  });
  return changes;
}

function mappingChanges(
  file: ConfigFile,
  current: { eventName: string; templateId: string | null; workflowId: string | null }[],
  templateKeyOf: Map<string, string>,
  workflowKeyOf: Map<string, string>,
  ctx: RequestContext,
  prune: boolean,
): PlannedChange[] {
  if (!file.mappings) return [];
  const byEvent = new Map(current.map((m) => [m.eventName, m]));
  const target = (m: { template?: string | null; workflow?: string | null }) =>
    m.workflow ? `workflow ${m.workflow}` : `template ${m.template}`;
  const changes: PlannedChange[] = [];
  for (const doc of file.mappings) {
    const existing = byEvent.get(doc.event);
    const was = existing
      ? existing.workflowId
        ? { workflow: workflowKeyOf.get(existing.workflowId) ?? existing.workflowId }
        : { template: templateKeyOf.get(existing.templateId!) ?? existing.templateId }
      : null;
    if (was && target(was) === target(doc)) continue;
    changes.push(
      change(
        existing ? 'update' : 'create',
        'mapping',
        doc.event,
        [target(doc), was && `was ${target(was)}`],
        async (s, r) => {
          await s.mappings.map(
            ctx,
            doc.event,
            doc.workflow
              ? { workflowId: r.workflows.get(doc.workflow)! }
              : { templateId: r.templates.get(doc.template!)! },
          );
        },
      ),
    );
  }
  if (prune) {
    const listed = new Set(file.mappings.map((m) => m.event));
    for (const m of current) {
      if (listed.has(m.eventName)) continue;
      changes.push(
        change('delete', 'mapping', m.eventName, [], (s) => s.mappings.unmap(ctx, m.eventName).then(() => undefined)),
      );
    }
  }
  return changes;
}

function cancelChanges(
  file: ConfigFile,
  current: { eventName: string; workflowId: string; keyPath: string }[],
  workflowKeyOf: Map<string, string>,
  ctx: RequestContext,
  prune: boolean,
): PlannedChange[] {
  if (!file.cancelMappings) return [];
  const id = (event: string, workflow: string) => `${event}\u0000${workflow}`;
  const byId = new Map(current.map((c) => [id(c.eventName, workflowKeyOf.get(c.workflowId) ?? c.workflowId), c]));
  const changes: PlannedChange[] = [];
  for (const doc of file.cancelMappings) {
    const existing = byId.get(id(doc.event, doc.workflow));
    if (existing && existing.keyPath === doc.keyPath) continue;
    changes.push(
      change(
        existing ? 'update' : 'create',
        'cancel-mapping',
        doc.event,
        [`workflow ${doc.workflow}`, `keyPath ${doc.keyPath}`, existing && `was ${existing.keyPath}`],
        async (s, r) => {
          await s.mappings.mapCancel(ctx, doc.event, r.workflows.get(doc.workflow)!, doc.keyPath);
        },
      ),
    );
  }
  if (prune) {
    const listed = new Set(file.cancelMappings.map((c) => id(c.event, c.workflow)));
    for (const c of current) {
      const workflow = workflowKeyOf.get(c.workflowId) ?? c.workflowId;
      if (listed.has(id(c.eventName, workflow))) continue;
      changes.push(
        change('delete', 'cancel-mapping', c.eventName, [`workflow ${workflow}`], (s) =>
          s.mappings.unmapCancel(ctx, c.eventName, c.workflowId).then(() => undefined),
        ),
      );
    }
  }
  return changes;
}

function ruleChanges(
  file: ConfigFile,
  current: Map<string, RoutingRule[]>,
  ctx: RequestContext,
  prune: boolean,
): PlannedChange[] {
  if (!file.rules) return [];
  const changes: PlannedChange[] = [];
  for (const doc of file.rules) {
    const template = doc.template ?? null;
    const existing = current.get(ruleIdentity(template, doc.name))?.[0];
    const wanted = normalRule(doc);
    if (existing && sameJson(normalRule(existing), wanted)) continue;
    const input = (r: Refs) => ({
      name: doc.name,
      templateId: template === null ? null : r.templates.get(template)!,
      ...wanted,
      channels: doc.channels ?? null, // typed as channels
    });
    changes.push(
      change(existing ? 'update' : 'create', 'rule', doc.name, [ruleScope(template)], async (s, r) => {
        if (existing) await s.rules.update(ctx, existing.id, input(r));
        else await s.rules.create(ctx, input(r));
      }),
    );
  }
  if (prune) {
    const listed = new Set(file.rules.map((r) => ruleIdentity(r.template ?? null, r.name)));
    for (const [identity, rules] of current) {
      if (listed.has(identity)) continue;
      const template = identity.split('\u0000')[0] || null;
      for (const rule of rules) {
        changes.push(
          change('delete', 'rule', rule.name, [ruleScope(template)], (s) =>
            s.rules.delete(ctx, rule.id).then(() => undefined),
          ),
        );
      }
    }
  }
  return changes;
}
