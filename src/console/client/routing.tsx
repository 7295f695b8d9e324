/**
 * `#/routing`: the workspace's routing rules as the one list routing evaluates (ascending priority, a template's own
 * rules before workspace-wide ones on ties, then oldest first: `orderRules` on the server), with create, edit,
 * reorder (by rewriting priorities), enable/disable and delete; and "Test routing", which runs the server's real
 * routing decision (`previewRouting`) for a template, a profile and sample data without storing anything.
 */
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError, errorMessage, request } from './api';
import { ConditionEditor } from './condition-editor';
import { describeCondition, OPERATOR_WORDS, type Json } from './condition-tree';
import { graphql, type ResultOf } from './graphql';
import type { introspection } from './graphql-env.d.ts';
import { useQuery } from './hooks';
import { ActionNotes, useAction } from './list';
import { Badge, ErrorBox, PageTitle, TableWrap } from './ui';
import { useUnsavedChanges } from './unsaved';

type EnumValues<Name extends keyof introspection['types']> = introspection['types'][Name] extends {
  enumValues: infer V;
}
  ? V
  : never;
type Channel = EnumValues<'Channel'>;
type RoutingAction = EnumValues<'RoutingAction'>;
type RoutingMethod = EnumValues<'RoutingMethod'>;

/** Every channel once; the `Record` makes a channel added to the schema a type error here. */
const CHANNEL_SET: Record<Channel, true> = {
  EMAIL: true,
  SMS: true,
  PUSH: true,
  WEBHOOK: true,
  SLACK: true,
  MSTEAMS: true,
  WHATSAPP: true,
};
const CHANNELS = Object.keys(CHANNEL_SET) as Channel[];

export const ROUTING_PAGE = graphql(`
  query ConsoleRoutingPage {
    templates {
      id
      key
      name
      channels
      publishedVersion
    }
    routingRules {
      id
      name
      priority
      enabled
      action
      method
      channels
      templateId
      when
      createdAt
    }
  }
`);

export const CREATE_RULE = graphql(`
  mutation ConsoleCreateRoutingRule($input: RoutingRuleInput!) {
    createRoutingRule(input: $input) {
      id
    }
  }
`);

export const UPDATE_RULE = graphql(`
  mutation ConsoleUpdateRoutingRule($id: ID!, $input: RoutingRuleInput!) {
    updateRoutingRule(id: $id, input: $input) {
      id
    }
  }
`);

export const DELETE_RULE = graphql(`
  mutation ConsoleDeleteRoutingRule($id: ID!) {
    deleteRoutingRule(id: $id)
  }
`);

export const PREVIEW_ROUTING = graphql(`
  query ConsolePreviewRouting($templateId: ID!, $userId: String!, $data: JSONObject) {
    previewRouting(templateId: $templateId, userId: $userId, data: $data) {
      status
      reason
      method
      channels
      history {
        type
        detail
      }
    }
  }
`);

type Page = ResultOf<typeof ROUTING_PAGE>;
type Rule = Page['routingRules'][number];
type Template = Page['templates'][number];
type Preview = ResultOf<typeof PREVIEW_ROUTING>['previewRouting'];

/** The rule's fields as `RoutingRuleInput` (SUPPRESS rules take no method or channels). */
function inputOf(rule: Rule, changes: Partial<Rule> = {}) {
  const r = { ...rule, ...changes };
  const suppress = r.action === 'SUPPRESS';
  return {
    name: r.name,
    templateId: r.templateId ?? null,
    priority: r.priority,
    when: r.when ?? null,
    action: r.action,
    method: suppress ? null : r.method,
    channels: suppress ? null : r.channels,
    enabled: r.enabled,
  };
}

const show = (v: unknown) => JSON.stringify(v);

function describeDecision(rule: Pick<Rule, 'action' | 'method' | 'channels'>): string {
  if (rule.action === 'SUPPRESS') return 'Suppress (the message is not sent)';
  const channels = rule.channels?.length ? rule.channels.join(', ') : "the template's channels";
  return `Route ${rule.method ?? 'SINGLE'} to ${channels}`;
}

/** New priorities that put `rules` in this order: only the rules whose priority changes are rewritten. */
function priorities(rules: Rule[]): { rule: Rule; priority: number }[] {
  return rules.map((rule, i) => ({ rule, priority: (i + 1) * 10 })).filter((p) => p.rule.priority !== p.priority);
}

export function RoutingPage() {
  const page = useQuery(ROUTING_PAGE, {}, 'routing');
  const [editing, setEditing] = useState<Rule | 'new' | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const action = useAction();
  const busy = action.busy;
  const rules = page.data?.routingRules ?? [];
  const templates = page.data?.templates ?? [];
  const byId = new Map(templates.map((t) => [t.id, t]));

  const act = (what: string, work: () => Promise<unknown>) =>
    action.run(async () => {
      await work();
      await page.reload();
      return what;
    });

  const move = (index: number, by: -1 | 1) => {
    const order = [...rules];
    const [rule] = order.splice(index, 1);
    order.splice(index + by, 0, rule);
    void act(`Moved "${rule.name}" ${by < 0 ? 'up' : 'down'}.`, async () => {
      for (const p of priorities(order)) {
        await request(UPDATE_RULE, { id: p.rule.id, input: inputOf(p.rule, { priority: p.priority }) });
      }
    });
  };

  return (
    <section>
      <PageTitle>Routing rules</PageTitle>
      <p class="muted">
        Rules are evaluated top to bottom (ascending priority; a template's own rules before workspace-wide ones on
        ties); the first enabled rule whose condition holds decides. Without a match a message goes to its template's
        channels, SINGLE.
      </p>
      <ErrorBox message={page.error} />
      <ActionNotes action={action} />
      {editing === null && (
        <p>
          <button type="button" class="primary" onClick={() => setEditing('new')}>
            New rule
          </button>
        </p>
      )}
      {editing !== null && (
        <RuleForm
          key={editing === 'new' ? 'new' : editing.id}
          rule={editing === 'new' ? null : editing}
          templates={templates}
          nextPriority={(rules.reduce((max, r) => Math.max(max, r.priority), 0) || 0) + 10}
          onDone={async (saved) => {
            setEditing(null);
            await page.reload();
            if (saved) void action.run(async () => saved);
          }}
        />
      )}
      {page.data && rules.length === 0 && (
        <p class="muted">No routing rule yet: each message goes to its template's channels in order (SINGLE).</p>
      )}
      {rules.length > 0 && (
        <TableWrap label="Routing rules, in evaluation order">
          <table class="rules">
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Rule</th>
                <th scope="col">For</th>
                <th scope="col">When</th>
                <th scope="col">Decides</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rules.map((r, i) => (
                <tr key={r.id} class={r.enabled ? undefined : 'disabled'}>
                  <td>
                    {i + 1}
                    <span class="muted"> (priority {r.priority})</span>
                  </td>
                  <td>
                    {r.name}
                    {!r.enabled && <span class="muted"> — disabled</span>}
                  </td>
                  <td>{r.templateId ? (byId.get(r.templateId)?.name ?? r.templateId) : 'Every template'}</td>
                  <td class="mono">{describeCondition(r.when)}</td>
                  <td>{describeDecision(r)}</td>
                  <td>
                    <div class="row-actions">
                      <button type="button" onClick={() => setEditing(r)} aria-label={`Edit ${r.name}`}>
                        Edit
                      </button>
                      <button
                        type="button"
                        disabled={busy || i === 0}
                        onClick={() => move(i, -1)}
                        aria-label={`Move ${r.name} up`}
                      >
                        ↑
                      </button>
                      <button
                        type="button"
                        disabled={busy || i === rules.length - 1}
                        onClick={() => move(i, 1)}
                        aria-label={`Move ${r.name} down`}
                      >
                        ↓
                      </button>
                      <button
                        type="button"
                        disabled={busy}
                        aria-label={`${r.enabled ? 'Disable' : 'Enable'} ${r.name}`}
                        onClick={() =>
                          act(`${r.enabled ? 'Disabled' : 'Enabled'} "${r.name}".`, () =>
                            request(UPDATE_RULE, { id: r.id, input: inputOf(r, { enabled: !r.enabled }) }),
                          )
                        }
                      >
                        {r.enabled ? 'Disable' : 'Enable'}
                      </button>
                      {confirming === r.id ? (
                        <span role="group" aria-label={`Delete ${r.name}?`}>
                          <button
                            type="button"
                            class="danger"
                            disabled={busy}
                            onClick={() => {
                              setConfirming(null);
                              void act(`Deleted "${r.name}".`, () => request(DELETE_RULE, { id: r.id }));
                            }}
                          >
                            Confirm delete
                          </button>
                          <button type="button" onClick={() => setConfirming(null)}>
                            Cancel
                          </button>
                        </span>
                      ) : (
                        <button type="button" onClick={() => setConfirming(r.id)} aria-label={`Delete ${r.name}`}>
                          Delete
                        </button>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      {page.data && <RoutingTester templates={templates} rules={rules} />}
    </section>
  );
}

/** Where a server error belongs: a condition error carries a `pointer`; the others name their field. */
function fieldOf(err: unknown, message: string): string {
  if (err instanceof ApiError && typeof err.details.pointer === 'string') return 'when';
  for (const field of ['name', 'priority', 'channels', 'method', 'template']) {
    if (message.toLowerCase().includes(field)) return field === 'template' ? 'templateId' : field;
  }
  if (/suppress/i.test(message)) return 'action';
  return 'form';
}

function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p id={id} class="field-error" role="alert">
      {message}
    </p>
  );
}

function RuleForm(props: {
  rule: Rule | null;
  templates: Template[];
  nextPriority: number;
  onDone: (saved: string | null) => void | Promise<void>;
}) {
  const r = props.rule;
  const [name, setName] = useState(r?.name ?? '');
  const [templateId, setTemplateId] = useState(r?.templateId ?? '');
  const [priority, setPriority] = useState(String(r?.priority ?? props.nextPriority));
  const [action, setAction] = useState<RoutingAction>(r?.action ?? 'ROUTE');
  const [method, setMethod] = useState<RoutingMethod>(r?.method ?? 'SINGLE');
  const [channels, setChannels] = useState<Channel[]>(r?.channels ?? []);
  const [enabled, setEnabled] = useState(r?.enabled ?? true);
  const [when, setWhen] = useState<Json | null>((r?.when as Json | undefined) ?? null);
  // something typed in the condition that is not in the tree yet (invalid JSON, a value that is not a number)
  const [whenProblem, setWhenProblem] = useState<string | null>(null);
  const [whenPointer, setWhenPointer] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const title = useRef<HTMLHeadingElement>(null);
  // the form takes the focus when it opens (New rule / Edit), so keyboard users land in it
  useLayoutEffect(() => title.current?.focus(), []);
  const snapshot = JSON.stringify([name, templateId, priority, action, method, channels, enabled, when]);
  const initial = useRef(snapshot);
  useUnsavedChanges(
    snapshot !== initial.current || whenProblem !== null,
    'This routing rule has unsaved changes. Leave this page?',
  );

  const save = async (e: Event) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    const tree = when as Record<string, unknown> | null;
    if (whenProblem) found.when = `The condition is not saved as typed: ${whenProblem}`;
    setWhenPointer(null);
    const prio = Number(priority);
    if (!Number.isInteger(prio)) found.priority = 'The priority must be a whole number.';
    setErrors(found);
    if (Object.keys(found).length) return;
    const input = {
      name: name.trim(),
      templateId: templateId || null,
      priority: prio,
      when: tree,
      action,
      method: action === 'SUPPRESS' ? null : method,
      channels: action === 'SUPPRESS' || channels.length === 0 ? null : channels,
      enabled,
    };
    setBusy(true);
    try {
      if (r) await request(UPDATE_RULE, { id: r.id, input });
      else await request(CREATE_RULE, { input });
      await props.onDone(r ? `Saved "${input.name}".` : `Created "${input.name}".`);
    } catch (err) {
      const message = errorMessage(err);
      setErrors({ [fieldOf(err, message)]: message });
      if (err instanceof ApiError && typeof err.details.pointer === 'string') setWhenPointer(err.details.pointer);
    } finally {
      setBusy(false);
    }
  };

  const toggle = (c: Channel, on: boolean) =>
    setChannels((all) => (on ? [...all.filter((x) => x !== c), c] : all.filter((x) => x !== c)));
  const described = (field: string) => (errors[field] ? `rule-${field}-error` : undefined);

  return (
    <section class="panel" aria-labelledby="rule-form-title">
      <h2 id="rule-form-title" ref={title} tabIndex={-1}>
        {r ? `Edit rule "${r.name}"` : 'New routing rule'}
      </h2>
      <form class="rule-form" onSubmit={save} noValidate>
        <label>
          Name
          <input
            name="name"
            value={name}
            required
            aria-invalid={errors.name ? true : undefined}
            aria-describedby={described('name')}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <FieldError id="rule-name-error" message={errors.name} />
        <label>
          Applies to
          <select
            name="templateId"
            value={templateId}
            aria-describedby={described('templateId')}
            onChange={(e) => setTemplateId(e.currentTarget.value)}
          >
            <option value="">Every template (workspace-wide)</option>
            {props.templates.map((t) => (
              <option value={t.id}>
                {t.name} ({t.key})
              </option>
            ))}
          </select>
        </label>
        <FieldError id="rule-templateId-error" message={errors.templateId} />
        <label>
          Priority (lower is evaluated first)
          <input
            name="priority"
            type="number"
            step={1}
            value={priority}
            aria-invalid={errors.priority ? true : undefined}
            aria-describedby={described('priority')}
            onInput={(e) => setPriority(e.currentTarget.value)}
          />
        </label>
        <FieldError id="rule-priority-error" message={errors.priority} />
        <label>
          Action
          <select
            name="action"
            value={action}
            aria-describedby={described('action')}
            onChange={(e) => setAction(e.currentTarget.value as RoutingAction)}
          >
            <option value="ROUTE">Route: send on the channels below</option>
            <option value="SUPPRESS">Suppress: do not send</option>
          </select>
        </label>
        <FieldError id="rule-action-error" message={errors.action} />
        {action === 'ROUTE' && (
          <>
            <label>
              Method
              <select
                name="method"
                value={method}
                aria-describedby={described('method')}
                onChange={(e) => setMethod(e.currentTarget.value as RoutingMethod)}
              >
                <option value="SINGLE">SINGLE: the first available channel, then the next on failure</option>
                <option value="ALL">ALL: every available channel</option>
              </select>
            </label>
            <FieldError id="rule-method-error" message={errors.method} />
            <fieldset aria-describedby={described('channels')}>
              <legend>Channels, in the order ticked (none: the template's channels)</legend>
              {CHANNELS.map((c) => (
                <label class="inline" key={c}>
                  <input
                    type="checkbox"
                    name="channels"
                    value={c}
                    checked={channels.includes(c)}
                    onChange={(e) => toggle(c, e.currentTarget.checked)}
                  />
                  {c}
                </label>
              ))}
              {channels.length > 0 && <p class="muted">Order: {channels.join(' → ')}</p>}
            </fieldset>
            <FieldError id="rule-channels-error" message={errors.channels} />
          </>
        )}
        <label class="inline">
          <input
            type="checkbox"
            name="enabled"
            checked={enabled}
            onChange={(e) => setEnabled(e.currentTarget.checked)}
          />
          Enabled
        </label>
        <ConditionEditor
          id="rule-when"
          legend="Condition (none: always holds)"
          value={when}
          onChange={(tree) => {
            setWhen(tree);
            if (errors.when) setErrors(({ when: _when, ...rest }) => rest);
          }}
          onProblem={setWhenProblem}
          error={errors.when ? { message: errors.when, pointer: whenPointer } : null}
        />
        <p id="rule-when-help" class="muted">
          A tree of <code>all</code> / <code>any</code> / <code>not</code> over comparisons such as{' '}
          <code>{'{"path": "data.total", "op": "GT", "value": 100}'}</code>; paths start at <code>data</code>,{' '}
          <code>profile</code> or <code>event</code>.
        </p>
        <p class="muted" aria-live="polite">
          Reads: {describeCondition(when)}
        </p>
        <FieldError id="rule-form-error" message={errors.form} />
        <div class="row-actions">
          <button type="submit" class="primary" disabled={busy}>
            {r ? 'Save rule' : 'Create rule'}
          </button>
          <button type="button" onClick={() => props.onDone(null)}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

interface Evaluated {
  ruleId: string;
  name: string;
  priority: number;
  holds: boolean;
  trace: {
    pointer: string;
    path: string;
    op: string;
    expected: unknown;
    actual: unknown;
    found: boolean;
    result: boolean;
  }[];
}

/** One evaluated leaf in plain words: `data.total is greater than 100 — it is 500: yes`. */
function describeTrace(t: Evaluated['trace'][number]): string {
  const op = OPERATOR_WORDS[t.op as keyof typeof OPERATOR_WORDS] ?? t.op;
  const expected = t.op === 'EXISTS' || t.op === 'NOT_EXISTS' ? '' : ` ${show(t.expected)}`;
  const actual = t.found ? `it is ${show(t.actual)}` : 'it is missing';
  return `${t.path} ${op}${expected} — ${actual}: ${t.result ? 'yes' : 'no'}`;
}

function RoutingTester({ templates, rules }: { templates: Template[]; rules: Rule[] }) {
  const published = templates.filter((t) => t.publishedVersion != null);
  const [templateId, setTemplateId] = useState('');
  const [userId, setUserId] = useState('');
  const [data, setData] = useState('{}');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [result, setResult] = useState<Preview | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (e: Event) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    let sample: Record<string, unknown> = {};
    try {
      const parsed: unknown = data.trim() ? JSON.parse(data) : {};
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
        found.data = 'Sample data must be a JSON object.';
      else sample = parsed as Record<string, unknown>;
    } catch (err) {
      found.data = `Not valid JSON: ${errorMessage(err)}`;
    }
    const template = templateId || published[0]?.id;
    if (!template) found.templateId = 'Choose a template.';
    if (!userId.trim()) found.userId = 'Enter the user id of a profile.';
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const res = await request(PREVIEW_ROUTING, { templateId: template!, userId: userId.trim(), data: sample });
      setResult(res.previewRouting);
    } catch (err) {
      const message = errorMessage(err);
      const field = err instanceof ApiError && typeof err.details.field === 'string' ? err.details.field : null;
      setErrors({
        [field === 'userId' || field === 'data' ? field : /template/i.test(message) ? 'templateId' : 'form']: message,
      });
    } finally {
      setBusy(false);
    }
  };

  const rulesEntry = result?.history.find((h) => h.type === 'RULES')?.detail as
    { evaluated: Evaluated[]; matched: { ruleId: string; name: string } | null } | undefined;
  const channelsEntry = result?.history.find((h) => h.type === 'CHANNELS')?.detail as
    { considered: string[]; unavailable: { channel: string; reasons: string[] }[] } | undefined;
  const skipped = rules.filter((r) => !r.enabled).map((r) => r.name);

  return (
    <section class="panel" aria-labelledby="tester-title">
      <h2 id="tester-title">Test routing</h2>
      <p class="muted">
        Runs the real routing decision for a message of a template to a profile with sample data. Nothing is sent or
        stored.
      </p>
      <form class="filters" onSubmit={run} noValidate>
        <label>
          Template
          <select
            name="testTemplate"
            value={templateId}
            aria-describedby={errors.templateId ? 'test-template-error' : undefined}
            onChange={(e) => setTemplateId(e.currentTarget.value)}
          >
            {published.length === 0 && <option value="">No published template</option>}
            {published.map((t) => (
              <option value={t.id}>
                {t.name} ({t.key})
              </option>
            ))}
          </select>
          <FieldError id="test-template-error" message={errors.templateId} />
        </label>
        <label>
          Profile (user id)
          <input
            name="testUserId"
            value={userId}
            aria-invalid={errors.userId ? true : undefined}
            aria-describedby={errors.userId ? 'test-user-error' : undefined}
            onInput={(e) => setUserId(e.currentTarget.value)}
          />
          <FieldError id="test-user-error" message={errors.userId} />
        </label>
        <label class="grow">
          Sample data (JSON)
          <textarea
            name="testData"
            rows={3}
            class="mono"
            spellcheck={false}
            value={data}
            aria-invalid={errors.data ? true : undefined}
            aria-describedby={errors.data ? 'test-data-error' : undefined}
            onInput={(e) => setData(e.currentTarget.value)}
          />
          <FieldError id="test-data-error" message={errors.data} />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          Test
        </button>
      </form>
      <FieldError id="test-form-error" message={errors.form} />
      {result && (
        <div class="preview-result" role="status" aria-live="polite">
          <h3>Result</h3>
          <p>
            <Badge status={result.status} /> {result.reason ? `reason ${result.reason}` : ''}
            {result.channels.length > 0 && ` — would send ${result.method ?? ''} on ${result.channels.join(', ')}`}
          </p>
          {rulesEntry && (
            <p class="matched">
              {rulesEntry.matched
                ? `Matched rule: ${rulesEntry.matched.name}`
                : "No rule matched: the template's channels, SINGLE."}
            </p>
          )}
          {rulesEntry && rulesEntry.evaluated.length > 0 && (
            <ol class="evaluated">
              {rulesEntry.evaluated.map((e) => (
                <li key={e.ruleId}>
                  <strong>{e.name}</strong> (priority {e.priority}): {e.holds ? 'holds' : 'does not hold'}
                  {rulesEntry.matched?.ruleId === e.ruleId ? ' — it decides' : ''}
                  {e.trace.length === 0 ? (
                    <span class="muted"> (no condition: always holds)</span>
                  ) : (
                    <ul>
                      {e.trace.map((t) => (
                        <li key={t.pointer}>{describeTrace(t)}</li>
                      ))}
                    </ul>
                  )}
                </li>
              ))}
            </ol>
          )}
          {rulesEntry && rulesEntry.evaluated.length === 0 && (
            <p class="muted">No enabled rule applies to this template.</p>
          )}
          {skipped.length > 0 && <p class="muted">Disabled, not evaluated: {skipped.join(', ')}.</p>}
          {channelsEntry && channelsEntry.unavailable.length > 0 && (
            <ul>
              {channelsEntry.unavailable.map((u) => (
                <li key={u.channel}>
                  {u.channel} unavailable: {u.reasons.join('; ')}
                </li>
              ))}
            </ul>
          )}
          <details>
            <summary>Full routing history</summary>
            <pre class="json" tabIndex={0}>
              {JSON.stringify(result.history, null, 2)}
            </pre>
          </details>
        </div>
      )}
    </section>
  );
}
