/**
 * A workflow's draft: key, name, topic, cancel key path, send window and its steps — one form per step with the
 * common fields of its type, its `when` in the visual condition editor (README, "Console" → routing rules; after a
 * digest step, paths may also read `digest.`), and a JSON box for the rest. Saving sends the whole draft; the
 * server's error (its extensions name the step index and field, `when…` being a pointer into the condition) is
 * shown next to that step and field, or at that node of the condition, and takes the focus. Nothing typed is lost
 * on an error.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, errorMessage, request } from './api';
import { ConditionEditor } from './condition-editor';
import { CONDITION_ROOTS, type Json } from './condition-tree';
import { useQuery } from './hooks';
import { navigateAway, useUnsavedChanges } from './unsaved';
import { WORKFLOW_VERSIONS, type ResultOf } from './graphql';
import { Badge, ErrorBox, formatTime, PageTitle, VersionPicker, VersionView } from './ui';
import { CREATE_WORKFLOW, PUBLISH_WORKFLOW, UPDATE_WORKFLOW, WORKFLOW, WORKFLOW_TEMPLATES } from './workflow-graphql';

type StepType = 'delay' | 'send' | 'throttle' | 'digest' | 'exit';
const STEP_TYPES: StepType[] = ['delay', 'send', 'throttle', 'digest', 'exit'];

interface FieldSpec {
  name: string;
  label: string;
  kind?: 'number' | 'list' | 'select';
  options?: string[];
  hint?: string;
}

/** The fields each step type shows as inputs; any other field goes in the step's JSON box. */
const FORM_FIELDS: Record<StepType, FieldSpec[]> = {
  delay: [
    { name: 'duration', label: 'Duration', hint: 'ISO 8601, e.g. PT1H' },
    { name: 'until', label: 'Until (time)', hint: '2026-12-24T18:00:00Z' },
    { name: 'untilPath', label: 'Until path', hint: 'data.appointmentAt' },
    { name: 'offset', label: 'Offset', hint: '-PT1H, with until path' },
    { name: 'onInvalid', label: 'On invalid', kind: 'select', options: ['FAIL', 'CONTINUE'] },
  ],
  send: [
    { name: 'template', label: 'Template' },
    { name: 'channels', label: 'Channels', kind: 'list', hint: 'EMAIL, SMS (empty: the template’s)' },
    { name: 'method', label: 'Method', kind: 'select', options: ['SINGLE', 'ALL'] },
  ],
  throttle: [
    { name: 'limit', label: 'Limit', kind: 'number' },
    { name: 'window', label: 'Window', hint: 'PT1H' },
    { name: 'key', label: 'Key path', hint: 'data.projectId' },
  ],
  digest: [
    { name: 'window', label: 'Window', hint: 'PT30M' },
    { name: 'mode', label: 'Mode', kind: 'select', options: ['FIXED', 'SLIDING'] },
    { name: 'maxWindow', label: 'Max window', hint: 'with SLIDING' },
    { name: 'maxItems', label: 'Max items', kind: 'number' },
    { name: 'key', label: 'Key path' },
  ],
  exit: [],
};

interface StepDraft {
  uid: number;
  ref: string;
  type: StepType;
  fields: Record<string, string>;
  /** The step's condition (null: none, the step always runs). */
  when: Json | null;
  /** The fields without an input (e.g. delay `at`, send `window`), as JSON. */
  extra: string;
}

interface Draft {
  key: string;
  name: string;
  topic: string;
  cancelKeyPath: string;
  window: string;
  steps: StepDraft[];
}

/**
 * A server or local error, placed: `uid` names the step (null: the workflow), `field` the input (null: the step);
 * for `when`, `pointer` names the node of the condition (`when.all[1]`).
 */
interface Placed {
  uid: number | null;
  field: string | null;
  message: string;
  pointer?: string;
}

/** The paths a step's condition may read; `digest.` only holds after a digest step, which the server checks. */
const STEP_ROOTS = [...CONDITION_ROOTS, 'digest'];

/** What a step type takes besides its inputs and `when`, as a hint in its JSON box. */
const EXTRA_HINTS: Record<StepType, string | undefined> = {
  delay: '{"at": {"time": "09:00", "days": ["MON"]}}',
  send: '{"window": {"from": "08:00", "until": "20:00"}}',
  throttle: undefined,
  digest: undefined,
  exit: undefined,
};

let nextUid = 1;

function fromStep(step: Record<string, unknown>): StepDraft {
  const type = (STEP_TYPES as string[]).includes(String(step.type)) ? (step.type as StepType) : 'delay';
  const fields: Record<string, string> = {};
  const extra: Record<string, unknown> = {};
  const names = FORM_FIELDS[type].map((f) => f.name);
  for (const [k, v] of Object.entries(step)) {
    if (k === 'ref' || k === 'type' || k === 'when') continue;
    if (names.includes(k) && (typeof v === 'string' || typeof v === 'number')) fields[k] = String(v);
    else if (names.includes(k) && Array.isArray(v)) fields[k] = v.join(', ');
    else extra[k] = v;
  }
  return {
    uid: nextUid++,
    ref: typeof step.ref === 'string' ? step.ref : '',
    type,
    fields,
    when: step.when === undefined ? null : (step.when as Json),
    extra: Object.keys(extra).length ? JSON.stringify(extra, null, 2) : '',
  };
}

function emptyStep(type: StepType, index: number): StepDraft {
  return {
    uid: nextUid++,
    ref: `${type}-${index + 1}`,
    type,
    fields: {},
    when: type === 'exit' ? { path: 'data.done', op: 'EQ', value: true } : null,
    extra: '',
  };
}

function fromDefinition(d: Record<string, unknown>, key: string): Draft {
  return {
    key,
    name: typeof d.name === 'string' ? d.name : '',
    topic: typeof d.topic === 'string' ? d.topic : '',
    cancelKeyPath: typeof d.cancelKeyPath === 'string' ? d.cancelKeyPath : '',
    window: d.window ? JSON.stringify(d.window) : '',
    steps: Array.isArray(d.steps) ? d.steps.map((s) => fromStep(s as Record<string, unknown>)) : [],
  };
}

/** The draft's content for comparing with what was saved: the steps' uids are local, not part of it. */
function signatureOf(d: Draft): string {
  return JSON.stringify({ ...d, steps: d.steps.map(({ uid: _uid, ...step }) => step) });
}

class LocalError extends Error {
  constructor(readonly placed: Placed) {
    super(placed.message);
  }
}

function parseJson(text: string, uid: number | null, field: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch (err) {
    throw new LocalError({ uid, field, message: `Not valid JSON: ${errorMessage(err)}` });
  }
  throw new LocalError({ uid, field, message: 'Must be a JSON object, e.g. {"at": {"time": "09:00"}}.' });
}

function toStep(s: StepDraft): Record<string, unknown> {
  const out: Record<string, unknown> = { ref: s.ref, type: s.type };
  for (const spec of FORM_FIELDS[s.type]) {
    const raw = (s.fields[spec.name] ?? '').trim();
    if (raw === '') continue;
    if (spec.kind === 'number') out[spec.name] = Number.isNaN(Number(raw)) ? raw : Number(raw);
    else if (spec.kind === 'list')
      out[spec.name] = raw
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean);
    else out[spec.name] = raw;
  }
  const extra = parseJson(s.extra, s.uid, 'extra');
  if ('when' in extra)
    throw new LocalError({
      uid: s.uid,
      field: 'extra',
      message: 'Edit the condition in the step’s Condition editor; this box is for the other fields.',
    });
  return { ...out, ...(s.when === null ? {} : { when: s.when }), ...extra };
}

function toInput(d: Draft) {
  return {
    key: d.key.trim(),
    name: d.name,
    topic: d.topic.trim() || null,
    cancelKeyPath: d.cancelKeyPath.trim() || null,
    window: d.window.trim() ? parseJson(d.window, null, 'window') : null,
    steps: d.steps.map(toStep),
  };
}

/** Where the server's error belongs: its extensions give `step` (index) and `field` (`duration`, `when.all[0]`…). */
function place(err: unknown, sent: StepDraft[]): Placed {
  if (err instanceof LocalError) return err.placed;
  const message = errorMessage(err);
  const details = err instanceof ApiError ? err.details : {};
  const field = typeof details.field === 'string' ? details.field : null;
  if (typeof details.step === 'number' && sent[details.step]) {
    const step = sent[details.step];
    const top = field?.split(/[.[]/)[0] ?? null;
    if (top === 'when') return { uid: step.uid, field: 'when', message, pointer: field! };
    if (top === 'ref' || top === 'type') return { uid: step.uid, field: top, message };
    if (top && FORM_FIELDS[step.type].some((f) => f.name === top)) return { uid: step.uid, field: top, message };
    return { uid: step.uid, field: top ? 'extra' : null, message };
  }
  if (field && ['key', 'name', 'topic', 'cancelKeyPath'].includes(field)) return { uid: null, field, message };
  if (field?.startsWith('window')) return { uid: null, field: 'window', message };
  return { uid: null, field: null, message };
}

const MOVE_BLOCKED = 'Finish or undo the condition being typed before moving this step:';

const inputId = (uid: number | null, field: string) => (uid === null ? `wf-${field}` : `step-${uid}-${field}`);

function FieldError({ id, error }: { id: string; error: string | null }) {
  if (!error) return null;
  return (
    <span id={`${id}-error`} class="field-error">
      {error}
    </span>
  );
}

export function WorkflowEditorPage({ id }: { id: string | null }) {
  const isNew = id === null;
  const loaded = useQuery(WORKFLOW, { id: id ?? '' }, id ?? 'new');
  const templatesQuery = useQuery(WORKFLOW_TEMPLATES, {}, 'workflow-templates');
  const workflow = isNew ? null : loaded.data?.workflow;
  const [draft, setDraft] = useState<Draft | null>(
    isNew
      ? {
          key: '',
          name: '',
          topic: '',
          cancelKeyPath: '',
          window: '',
          steps: [emptyStep('delay', 0), emptyStep('send', 1)],
        }
      : null,
  );
  const [error, setError] = useState<Placed | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // the draft as last loaded or saved (JSON without the steps' local uids), to tell unsaved edits
  const [savedSignature, setSavedSignature] = useState<string | null>(() => (draft ? signatureOf(draft) : null));
  // what a step's condition editor holds that is not in its tree yet (JSON being typed…), by step uid
  const [whenProblems, setWhenProblems] = useState<Record<number, string>>({});
  const dirty =
    draft !== null &&
    savedSignature !== null &&
    (signatureOf(draft) !== savedSignature || Object.keys(whenProblems).length > 0);
  useUnsavedChanges(dirty);
  const [addType, setAddType] = useState<StepType>('send');
  // how often each step (by uid) was moved: a moved step's condition editor is mounted afresh, as Preact crashed the
  // page when it reordered a step whose condition editor shows a tree
  const [moves, setMoves] = useState<Record<number, number>>({});
  const focusAfter = useRef<string | null>(null);

  useEffect(() => {
    if (!draft && workflow) {
      const loadedDraft = fromDefinition(workflow.draft, workflow.key);
      setDraft(loadedDraft);
      setSavedSignature(signatureOf(loadedDraft));
    }
  }, [workflow, draft]);
  useEffect(() => {
    if (focusAfter.current) {
      const target = document.getElementById(focusAfter.current);
      // a condition: the inputs of the node the error names, else its JSON box, else the whole editor
      const inner = target?.classList.contains('step-when')
        ? target.querySelector<HTMLElement>('.cond-invalid input, .cond-invalid select, textarea')
        : null;
      (inner ?? target)?.focus();
      focusAfter.current = null;
    }
  });

  const templates = templatesQuery.data?.templates ?? [];
  const update = (patch: Partial<Draft>) => {
    setDraft({ ...draft!, ...patch });
    setStatus(null);
  };
  const updateStep = (uid: number, patch: Partial<StepDraft>) =>
    update({ steps: draft!.steps.map((s) => (s.uid === uid ? { ...s, ...patch } : s)) });
  const errorFor = (uid: number | null, field: string | null) =>
    error && error.uid === uid && error.field === field ? error.message : null;
  const setWhenProblem = (uid: number, problem: string | null) =>
    setWhenProblems((all) => {
      if ((all[uid] ?? null) === problem) return all;
      const { [uid]: _old, ...rest } = all;
      return problem === null ? rest : { ...rest, [uid]: problem };
    });

  const save = async (e: Event) => {
    e.preventDefault();
    if (!draft) return;
    setBusy(true);
    setError(null);
    setStatus(null);
    const sent = draft.steps;
    try {
      const unsaved = sent.find((s) => whenProblems[s.uid] !== undefined);
      if (unsaved)
        throw new LocalError({
          uid: unsaved.uid,
          field: 'when',
          message: `The condition is not saved as typed: ${whenProblems[unsaved.uid]}`,
        });
      const input = toInput(draft);
      if (isNew) {
        const created = await request(CREATE_WORKFLOW, { input });
        setSavedSignature(signatureOf(draft));
        navigateAway(`#/workflows/${encodeURIComponent(created.createWorkflow.id)}`);
        return;
      }
      await request(UPDATE_WORKFLOW, { id: id!, input });
      setSavedSignature(signatureOf(draft));
      setStatus('Draft saved.');
      void loaded.reload();
    } catch (err) {
      const placed = place(err, sent);
      setError(placed);
      focusAfter.current = placed.field ? inputId(placed.uid, placed.field) : placed.uid ? `step-${placed.uid}` : null;
    } finally {
      setBusy(false);
    }
  };

  const publish = async () => {
    setBusy(true);
    setError(null);
    try {
      const res = await request(PUBLISH_WORKFLOW, { id: id! });
      setStatus(`Published as version ${res.publishWorkflow.publishedVersion}.`);
      void loaded.reload();
    } catch (err) {
      setError({ uid: null, field: null, message: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  /** Copies a published version into the draft and saves it (it does not publish). */
  const restore = async (v: WorkflowVersion) => {
    if (!workflow) return;
    if (dirty && !window.confirm(`Restoring version ${v.version} replaces your unsaved changes. Restore it?`)) return;
    const restored = fromDefinition(v.definition, workflow.key);
    setDraft(restored);
    setWhenProblems({});
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      await request(UPDATE_WORKFLOW, { id: workflow.id, input: toInput(restored) });
      setSavedSignature(signatureOf(restored));
      setStatus(`Version ${v.version} restored into the draft (not published).`);
      void loaded.reload();
    } catch (err) {
      setError(place(err, restored.steps));
    } finally {
      setBusy(false);
    }
  };

  const move = (index: number, by: number) => {
    const steps = [...draft!.steps];
    const [step] = steps.splice(index, 1);
    const other = steps[index + by - (by > 0 ? 1 : 0)];
    // the two steps' condition editors start afresh (see `moves`): what is typed but not in a tree yet must not be lost
    const pending = [step, other].find((s) => whenProblems[s.uid] !== undefined);
    if (pending) {
      setError({
        uid: pending.uid,
        field: 'when',
        message: `${MOVE_BLOCKED} ${whenProblems[pending.uid]}`,
      });
      focusAfter.current = inputId(pending.uid, 'when');
      return;
    }
    steps.splice(index + by, 0, step);
    update({ steps });
    if (error?.message.startsWith(MOVE_BLOCKED)) setError(null);
    setMoves({ ...moves, [step.uid]: (moves[step.uid] ?? 0) + 1, [other.uid]: (moves[other.uid] ?? 0) + 1 });
    focusAfter.current = `step-${step.uid}-${by < 0 ? 'up' : 'down'}`;
  };

  const top = (field: keyof Omit<Draft, 'steps'>, label: string, opts: { hint?: string; required?: boolean } = {}) => {
    const fid = inputId(null, field);
    const err = errorFor(null, field);
    return (
      <div class="field">
        <label for={fid}>{label}</label>
        <input
          id={fid}
          value={draft![field]}
          required={opts.required}
          placeholder={opts.hint}
          readOnly={field === 'key' && !isNew}
          aria-invalid={err ? 'true' : undefined}
          aria-describedby={err ? `${fid}-error` : undefined}
          onInput={(e) => update({ [field]: e.currentTarget.value })}
        />
        <FieldError id={fid} error={err} />
      </div>
    );
  };

  return (
    <section>
      <p>
        <a href="#/workflows">← Workflows</a>
      </p>
      <PageTitle>{isNew ? 'New workflow' : `Workflow ${workflow?.key ?? '…'}`}</PageTitle>
      <ErrorBox message={isNew ? null : loaded.error} />
      {!isNew && loaded.data && !workflow && <p>No workflow has this id in this workspace.</p>}
      {workflow && (
        <p>
          <Badge status={workflow.status} />{' '}
          {workflow.publishedVersion != null
            ? `Published version ${workflow.publishedVersion}. `
            : 'Not published yet. '}
          <a href={`#/runs?workflowKey=${encodeURIComponent(workflow.key)}`}>Its runs</a>
        </p>
      )}
      {draft && (
        <form onSubmit={save} class="workflow-form" noValidate>
          <fieldset class="panel">
            <legend>Workflow</legend>
            <div class="grid-fields">
              {top('key', 'Key', { required: true, hint: 'abandoned-cart' })}
              {top('name', 'Name', { required: true })}
              {top('topic', 'Topic (optional)')}
              {top('cancelKeyPath', 'Cancel key path (optional)', { hint: 'data.cartId' })}
              {top('window', 'Send window (JSON, optional)', { hint: '{"from": "08:00", "until": "20:00"}' })}
            </div>
          </fieldset>
          <h2>Steps</h2>
          <ol class="steps">
            {draft.steps.map((s, index) => {
              const stepErr = errorFor(s.uid, null);
              const sid = `step-${s.uid}`;
              return (
                <li key={s.uid}>
                  <fieldset class="panel step" aria-describedby={stepErr ? `${sid}-error` : undefined}>
                    <legend id={sid} tabIndex={-1}>
                      Step {index + 1}: {s.ref || '(no ref)'} ({s.type})
                    </legend>
                    {stepErr && (
                      <p id={`${sid}-error`} class="error" role="alert">
                        {stepErr}
                      </p>
                    )}
                    <div class="grid-fields">
                      {(['ref', 'type'] as const).map((name) => {
                        const fid = inputId(s.uid, name);
                        const err = errorFor(s.uid, name);
                        return (
                          <div class="field">
                            <label for={fid}>{name === 'ref' ? 'Ref' : 'Type'}</label>
                            {name === 'ref' ? (
                              <input
                                id={fid}
                                value={s.ref}
                                aria-invalid={err ? 'true' : undefined}
                                aria-describedby={err ? `${fid}-error` : undefined}
                                onInput={(e) => updateStep(s.uid, { ref: e.currentTarget.value })}
                              />
                            ) : (
                              <select
                                id={fid}
                                value={s.type}
                                onChange={(e) => updateStep(s.uid, { type: e.currentTarget.value as StepType })}
                              >
                                {STEP_TYPES.map((t) => (
                                  <option value={t}>{t}</option>
                                ))}
                              </select>
                            )}
                            <FieldError id={fid} error={err} />
                          </div>
                        );
                      })}
                      {FORM_FIELDS[s.type].map((spec) => {
                        const fid = inputId(s.uid, spec.name);
                        const err = errorFor(s.uid, spec.name);
                        const common = {
                          id: fid,
                          'aria-invalid': err ? ('true' as const) : undefined,
                          'aria-describedby': err ? `${fid}-error` : undefined,
                        };
                        const value = s.fields[spec.name] ?? '';
                        const set = (v: string) => updateStep(s.uid, { fields: { ...s.fields, [spec.name]: v } });
                        return (
                          <div class="field">
                            <label for={fid}>{spec.label}</label>
                            {spec.kind === 'select' ? (
                              <select {...common} value={value} onChange={(e) => set(e.currentTarget.value)}>
                                <option value="">(default)</option>
                                {spec.options!.map((o) => (
                                  <option value={o}>{o}</option>
                                ))}
                              </select>
                            ) : (
                              <input
                                {...common}
                                value={value}
                                type={spec.kind === 'number' ? 'number' : 'text'}
                                placeholder={spec.hint}
                                list={spec.name === 'template' && s.type === 'send' ? 'workflow-templates' : undefined}
                                onInput={(e) => set(e.currentTarget.value)}
                              />
                            )}
                            <FieldError id={fid} error={err} />
                          </div>
                        );
                      })}
                    </div>
                    <div
                      key={`${s.uid}:${moves[s.uid] ?? 0}`}
                      id={inputId(s.uid, 'when')}
                      class="step-when"
                      tabIndex={-1}
                    >
                      <ConditionEditor
                        id={inputId(s.uid, 'when')}
                        legend={
                          s.type === 'exit'
                            ? 'Condition (required: the run exits when it holds)'
                            : 'Condition (none: the step always runs)'
                        }
                        value={s.when}
                        onChange={(when) => updateStep(s.uid, { when })}
                        onProblem={(problem) => setWhenProblem(s.uid, problem)}
                        error={
                          error && error.uid === s.uid && error.field === 'when'
                            ? { message: error.message, pointer: error.pointer ?? null }
                            : null
                        }
                        roots={STEP_ROOTS}
                      />
                    </div>
                    <div class="field">
                      <label for={inputId(s.uid, 'extra')}>
                        {s.type === 'delay'
                          ? 'At and other fields, as JSON (optional)'
                          : 'Other fields, as JSON (optional)'}
                      </label>
                      <textarea
                        id={inputId(s.uid, 'extra')}
                        class="mono"
                        rows={s.extra ? Math.min(10, s.extra.split('\n').length + 1) : 2}
                        value={s.extra}
                        placeholder={EXTRA_HINTS[s.type]}
                        aria-invalid={errorFor(s.uid, 'extra') ? 'true' : undefined}
                        aria-describedby={errorFor(s.uid, 'extra') ? `${inputId(s.uid, 'extra')}-error` : undefined}
                        onInput={(e) => updateStep(s.uid, { extra: e.currentTarget.value })}
                      />
                      <FieldError id={inputId(s.uid, 'extra')} error={errorFor(s.uid, 'extra')} />
                    </div>
                    <div class="step-actions">
                      <button
                        type="button"
                        id={`${sid}-up`}
                        disabled={index === 0}
                        aria-label={`Move up step ${s.ref || index + 1}`}
                        onClick={() => move(index, -1)}
                      >
                        Move up
                      </button>
                      <button
                        type="button"
                        id={`${sid}-down`}
                        disabled={index === draft.steps.length - 1}
                        aria-label={`Move down step ${s.ref || index + 1}`}
                        onClick={() => move(index, 1)}
                      >
                        Move down
                      </button>
                      <button
                        type="button"
                        aria-label={`Remove step ${s.ref || index + 1}`}
                        onClick={() => {
                          update({ steps: draft.steps.filter((x) => x.uid !== s.uid) });
                          setWhenProblem(s.uid, null);
                          focusAfter.current = 'add-step-type';
                        }}
                      >
                        Remove
                      </button>
                    </div>
                  </fieldset>
                </li>
              );
            })}
          </ol>
          <datalist id="workflow-templates">
            {templates.map((t) => (
              <option value={t.key}>
                {t.name}
                {t.publishedVersion == null ? ' (not published)' : ''}
              </option>
            ))}
          </datalist>
          <div class="filters">
            <label for="add-step-type">
              New step type
              <select
                id="add-step-type"
                value={addType}
                onChange={(e) => setAddType(e.currentTarget.value as StepType)}
              >
                {STEP_TYPES.map((t) => (
                  <option value={t}>{t}</option>
                ))}
              </select>
            </label>
            <button
              type="button"
              onClick={() => {
                const step = emptyStep(addType, draft.steps.length);
                update({ steps: [...draft.steps, step] });
                focusAfter.current = inputId(step.uid, 'ref');
              }}
            >
              Add step
            </button>
          </div>
          <ErrorBox message={errorFor(null, null)} />
          {status && (
            <p class="ok" role="status">
              {status}
            </p>
          )}
          <div class="filters">
            <button type="submit" class="primary" disabled={busy}>
              {isNew ? 'Create workflow' : 'Save draft'}
            </button>
            {!isNew && (
              <button
                type="button"
                disabled={busy || dirty}
                onClick={publish}
                aria-describedby={dirty ? 'publish-help' : undefined}
              >
                Publish
              </button>
            )}
            {!isNew && dirty && (
              <span id="publish-help" class="muted">
                Save the draft before publishing.
              </span>
            )}
          </div>
        </form>
      )}
      {workflow && (
        <WorkflowVersions
          id={workflow.id}
          publishedVersion={workflow.publishedVersion}
          busy={busy}
          onRestore={restore}
        />
      )}
    </section>
  );
}

type WorkflowVersion = NonNullable<ResultOf<typeof WORKFLOW_VERSIONS>['workflow']>['versions'][number];

/** The published versions, newest first: one opens read-only (its settings and steps) with **Restore into draft**. */
function WorkflowVersions(props: {
  id: string;
  publishedVersion: number | null;
  busy: boolean;
  onRestore: (v: WorkflowVersion) => Promise<void>;
}) {
  const loaded = useQuery(WORKFLOW_VERSIONS, { id: props.id }, `${props.id}:${props.publishedVersion ?? 0}`);
  const [selected, setSelected] = useState<number | null>(null);
  const versions = loaded.data?.workflow?.versions ?? [];
  const shown = versions.find((v) => v.version === selected) ?? null;
  return (
    <section class="versions panel" aria-labelledby="versions-title">
      <h2 id="versions-title">Versions</h2>
      <ErrorBox message={loaded.error} />
      {loaded.data && versions.length === 0 && <p class="muted">Not published yet: no run uses this workflow.</p>}
      <VersionPicker versions={versions} current={props.publishedVersion} selected={selected} onSelect={setSelected} />
      {shown && (
        <WorkflowVersionView key={shown.version} version={shown} busy={props.busy} onRestore={props.onRestore} />
      )}
    </section>
  );
}

function WorkflowVersionView(props: {
  version: WorkflowVersion;
  busy: boolean;
  onRestore: (v: WorkflowVersion) => Promise<void>;
}) {
  const v = props.version;
  const d = v.definition as { name?: string; topic?: string | null; cancelKeyPath?: string | null; window?: unknown };
  const steps = Array.isArray(v.definition.steps) ? (v.definition.steps as Record<string, unknown>[]) : [];
  return (
    <VersionView
      version={v.version}
      busy={props.busy}
      hint="Copies this version into the draft and saves it; publish to run it."
      onRestore={() => void props.onRestore(v)}
    >
      <dl>
        <dt>Published</dt>
        <dd>{formatTime(v.publishedAt)}</dd>
        <dt>Name</dt>
        <dd>{d.name ?? '—'}</dd>
        <dt>Topic</dt>
        <dd class="mono">{d.topic ?? '—'}</dd>
        <dt>Cancel key path</dt>
        <dd class="mono">{d.cancelKeyPath ?? '—'}</dd>
        <dt>Send window</dt>
        <dd class="mono">{d.window ? JSON.stringify(d.window) : '—'}</dd>
      </dl>
      <h4>Steps</h4>
      <ol class="steps" aria-label={`Steps of version ${v.version}`}>
        {steps.map((step, i) => {
          const { ref, type, ...rest } = step;
          return (
            <li key={i}>
              <span class="mono">{String(ref ?? '')}</span> ({String(type ?? '')}){' '}
              <span class="mono">{Object.keys(rest).length ? JSON.stringify(rest) : ''}</span>
            </li>
          );
        })}
      </ol>
    </VersionView>
  );
}
