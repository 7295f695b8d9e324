import { useState } from 'preact/hooks';
import { ApiError, errorMessage, request } from './api';
import type { VariablesOf } from './graphql';
import { useInterval, useQuery } from './hooks';
import { ConnectionTable, FilterField, FilterForm, listPlace, useConnection } from './list';
import { describeRun } from './run-timeline';
import { Badge, ErrorBox, formatTime, Json, PageTitle } from './ui';
import {
  CANCEL_RUN,
  CANCEL_RUNS,
  MAP_CANCEL,
  RUN_STATUSES,
  TRIGGER_RUN,
  WORKFLOW_RUN,
  WORKFLOW_RUNS,
  WORKFLOWS,
} from './workflow-graphql';

const place = listPlace<NonNullable<VariablesOf<typeof WORKFLOW_RUNS>['filter']>>({});
const LIVE = new Set(['RUNNING', 'WAITING']);
const FINAL = new Set(['COMPLETED', 'EXITED', 'CANCELLED', 'THROTTLED', 'DIGESTED', 'FAILED']);

/** Cancels the RUNNING and WAITING runs of a workflow with one cancel key, after a confirm. */
function CancelRuns(props: { workflowKey?: string; cancelKey?: string; onDone: () => void; fixed?: boolean }) {
  const [workflowKey, setWorkflowKey] = useState(props.workflowKey ?? '');
  const [cancelKey, setCancelKey] = useState(props.cancelKey ?? '');
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      const res = await request(CANCEL_RUNS, { workflowKey: workflowKey.trim(), cancelKey: cancelKey.trim() });
      const n = res.cancelRuns;
      setDone(n === 1 ? '1 run was cancelled.' : `${n} runs were cancelled.`);
      setConfirming(false);
      props.onDone();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="panel" aria-labelledby="cancel-title">
      <h2 id="cancel-title">Cancel runs</h2>
      <p class="muted">
        Cancels every RUNNING or WAITING run of the workflow with this cancel key, for every recipient (cancelRuns).
      </p>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setDone(null);
          setConfirming(true);
        }}
      >
        {!props.fixed && (
          <>
            <label>
              Workflow key
              <input
                name="cancelWorkflowKey"
                required
                value={workflowKey}
                onInput={(e) => setWorkflowKey(e.currentTarget.value)}
              />
            </label>
            <label>
              Cancel key
              <input name="cancelKey" required value={cancelKey} onInput={(e) => setCancelKey(e.currentTarget.value)} />
            </label>
          </>
        )}
        {!confirming && (
          <button type="submit" disabled={busy}>
            {props.fixed ? `Cancel runs with cancel key “${cancelKey}”…` : 'Cancel runs…'}
          </button>
        )}
      </form>
      {confirming && (
        <div role="alertdialog" aria-labelledby="cancel-confirm" class="confirm">
          <p id="cancel-confirm">
            Cancel every RUNNING or WAITING run of {workflowKey} with cancel key “{cancelKey}”? This cannot be undone.
          </p>
          <button type="button" class="primary" disabled={busy} onClick={go} autoFocus>
            Yes, cancel them
          </button>{' '}
          <button type="button" onClick={() => setConfirming(false)}>
            Keep them
          </button>
        </div>
      )}
      {done && (
        <p class="ok" role="status">
          {done}
        </p>
      )}
      <ErrorBox message={error} />
    </section>
  );
}

function FieldError({ id, message }: { id: string; message: string | null | undefined }) {
  if (!message) return null;
  return (
    <p id={id} class="field-error" role="alert">
      {message}
    </p>
  );
}

type Workflows = { id: string; key: string; name: string; publishedVersion: number | null }[];

/** Starts a run for one user with sample data (`trigger`), and lists the runs started here, linked to their pages. */
function TriggerRun(props: { workflows: Workflows; workflowKey?: string; onDone: () => void }) {
  const [workflowKey, setWorkflowKey] = useState(props.workflowKey ?? '');
  const [userId, setUserId] = useState('');
  const [data, setData] = useState('{}');
  const [cancelKey, setCancelKey] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [started, setStarted] = useState<{ id: string; status: string; userId: string; workflow: string }[]>([]);
  const key = workflowKey || props.workflows[0]?.key || '';
  const go = async (e: Event) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    let parsed: Record<string, unknown> = {};
    try {
      const value: unknown = data.trim() ? JSON.parse(data) : {};
      if (!value || typeof value !== 'object' || Array.isArray(value)) found.data = 'The data must be a JSON object.';
      else parsed = value as Record<string, unknown>;
    } catch (err) {
      found.data = `Not valid JSON: ${errorMessage(err)}`;
    }
    if (!key) found.workflowKey = 'Choose a workflow.';
    if (!userId.trim()) found.userId = 'Enter the user id to run it for.';
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const res = await request(TRIGGER_RUN, {
        input: { workflowKey: key, userId: userId.trim(), data: parsed, cancelKey: cancelKey.trim() || null },
      });
      const run = res.trigger;
      setStarted((all) => [
        { id: run.id, status: run.status, userId: run.userId, workflow: run.workflow.key },
        ...all.filter((r) => r.id !== run.id),
      ]);
      props.onDone();
    } catch (err) {
      const field = err instanceof ApiError && typeof err.details.field === 'string' ? err.details.field : 'form';
      setErrors({
        [['userId', 'data', 'cancelKey', 'workflowKey'].includes(field) ? field : 'form']: errorMessage(err),
      });
    } finally {
      setBusy(false);
    }
  };
  const described = (f: string) => (errors[f] ? `trigger-${f}-error` : undefined);
  return (
    <section class="panel" aria-labelledby="trigger-title">
      <h2 id="trigger-title">Trigger a run</h2>
      <p class="muted">Starts a run of the workflow's published version for one user with this data (trigger).</p>
      <form class="filters" onSubmit={go} noValidate>
        <label>
          Workflow
          <select
            name="triggerWorkflow"
            value={key}
            aria-describedby={described('workflowKey')}
            onChange={(e) => setWorkflowKey(e.currentTarget.value)}
          >
            {props.workflows.length === 0 && <option value="">No workflow</option>}
            {props.workflows.map((w) => (
              <option key={w.id} value={w.key}>
                {w.name} ({w.key}){w.publishedVersion == null ? ' — not published' : ''}
              </option>
            ))}
          </select>
          <FieldError id="trigger-workflowKey-error" message={errors.workflowKey} />
        </label>
        <label>
          User id
          <input
            name="triggerUserId"
            value={userId}
            aria-invalid={errors.userId ? true : undefined}
            aria-describedby={described('userId')}
            onInput={(e) => setUserId(e.currentTarget.value)}
          />
          <FieldError id="trigger-userId-error" message={errors.userId} />
        </label>
        <label>
          Cancel key (optional)
          <input
            name="triggerCancelKey"
            value={cancelKey}
            aria-invalid={errors.cancelKey ? true : undefined}
            aria-describedby={described('cancelKey')}
            onInput={(e) => setCancelKey(e.currentTarget.value)}
          />
          <FieldError id="trigger-cancelKey-error" message={errors.cancelKey} />
        </label>
        <label class="grow">
          Data (JSON)
          <textarea
            name="triggerData"
            rows={3}
            class="mono"
            spellcheck={false}
            value={data}
            aria-invalid={errors.data ? true : undefined}
            aria-describedby={described('data')}
            onInput={(e) => setData(e.currentTarget.value)}
          />
          <FieldError id="trigger-data-error" message={errors.data} />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          Trigger
        </button>
      </form>
      <FieldError id="trigger-form-error" message={errors.form} />
      <div role="status">
        {started.length > 0 && (
          <ul aria-label="Runs started here">
            {started.map((r) => (
              <li key={r.id}>
                <a href={`#/runs/${encodeURIComponent(r.id)}`}>
                  Run {r.id} of {r.workflow} for {r.userId}
                </a>{' '}
                <Badge status={r.status} />
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}

/** Makes an event cancel its user's runs whose cancel key equals the event's value at a path (mapCancel). */
function MapCancel(props: { workflows: Workflows; workflowKey?: string }) {
  const [workflowKey, setWorkflowKey] = useState(props.workflowKey ?? '');
  const [eventName, setEventName] = useState('');
  const [keyPath, setKeyPath] = useState('data.');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const workflow = props.workflows.find((w) => w.key === workflowKey) ?? props.workflows[0];
  const go = async (e: Event) => {
    e.preventDefault();
    setDone(null);
    if (!workflow) return setError('Choose a workflow.');
    setBusy(true);
    setError(null);
    try {
      const res = await request(MAP_CANCEL, {
        eventName: eventName.trim(),
        keyPath: keyPath.trim(),
        workflowId: workflow.id,
      });
      setDone(
        `${res.mapCancel.eventName} now cancels runs of ${workflow.key} whose cancel key is its ${res.mapCancel.keyPath}.`,
      );
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="panel" aria-labelledby="map-cancel-title">
      <h2 id="map-cancel-title">Cancel on event</h2>
      <p class="muted">
        An event of this name cancels its own user's RUNNING or WAITING runs of the workflow whose cancel key equals the
        event's value at the key path (mapCancel).
      </p>
      <form class="filters" onSubmit={go}>
        <label>
          Workflow
          <select
            name="mapCancelWorkflow"
            value={workflow?.key ?? ''}
            onChange={(e) => setWorkflowKey(e.currentTarget.value)}
          >
            {props.workflows.map((w) => (
              <option key={w.id} value={w.key}>
                {w.name} ({w.key})
              </option>
            ))}
          </select>
        </label>
        <label>
          Event name
          <input
            name="mapCancelEvent"
            required
            value={eventName}
            placeholder="Segment-TrackEvent:Order Completed"
            aria-describedby={error ? 'map-cancel-error' : undefined}
            onInput={(e) => setEventName(e.currentTarget.value)}
          />
        </label>
        <label>
          Key path
          <input
            name="mapCancelKeyPath"
            required
            value={keyPath}
            class="mono"
            aria-describedby={error ? 'map-cancel-error' : undefined}
            onInput={(e) => setKeyPath(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          Map cancel
        </button>
      </form>
      <FieldError id="map-cancel-error" message={error} />
      {done && (
        <p class="ok" role="status">
          {done}
        </p>
      )}
    </section>
  );
}

/** Cancels one RUNNING or WAITING run (cancelRun), after a confirm. */
function CancelRun(props: { id: string; label?: string; onDone: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      await request(CANCEL_RUN, { id: props.id });
      setConfirming(false);
      props.onDone();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="row-actions">
      {confirming ? (
        <span role="group" aria-label={`Cancel run ${props.label ?? ''}?`}>
          <button type="button" class="danger" disabled={busy} onClick={go}>
            Yes, cancel this run
          </button>{' '}
          <button type="button" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </span>
      ) : (
        <button
          type="button"
          aria-label={props.label ? `Cancel run ${props.label}` : undefined}
          onClick={() => setConfirming(true)}
        >
          Cancel run
        </button>
      )}
      {error && (
        <span class="field-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}

/** Workflow runs, newest first: filter by workflow, status and user, cursor paging. */
export function RunsPage({ workflowKey }: { workflowKey?: string }) {
  // a link with a workflow key (from a workflow) starts a fresh search for it; otherwise the user's place is kept
  const list = useConnection(WORKFLOW_RUNS, { place, select: (d) => d.workflowRuns, start: { workflowKey } });
  const { reload } = list;
  const filteredKey = list.filter.workflowKey ?? undefined;
  const workflows = useQuery(WORKFLOWS, {}, 'workflows');
  return (
    <section>
      <p>
        <a href="#/workflows">← Workflows</a>
      </p>
      <PageTitle>Workflow runs</PageTitle>
      <FilterForm onApply={list.apply}>
        <FilterField list={list} name="workflowKey" label="Workflow key" />
        <FilterField list={list} name="status" label="Status" options={RUN_STATUSES} />
        <FilterField list={list} name="userId" label="User id" />
      </FilterForm>
      <ConnectionTable
        list={list}
        label="Workflow runs"
        caption="Workflow runs, newest first"
        columns={['Started', 'Workflow', 'User', 'Status', 'Step', 'Resumes', 'Actions']}
        empty="No run matches these filters."
      >
        {(node) => (
          <tr key={node.id}>
            <td>
              <a href={`#/runs/${encodeURIComponent(node.id)}`}>{formatTime(node.createdAt)}</a>
            </td>
            <td class="mono">{node.workflow.key}</td>
            <td class="mono">{node.userId}</td>
            <td>
              <Badge status={node.status} />
            </td>
            <td class="mono">{node.step ?? '—'}</td>
            <td>{node.status === 'WAITING' ? formatTime(node.resumeAt) : '—'}</td>
            <td>
              {LIVE.has(node.status) && (
                <CancelRun
                  id={node.id}
                  label={`of ${node.workflow.key} for ${node.userId} started ${formatTime(node.createdAt)}`}
                  onDone={() => void reload()}
                />
              )}
            </td>
          </tr>
        )}
      </ConnectionTable>
      <ErrorBox message={workflows.error} />
      {workflows.data && (
        <TriggerRun workflows={workflows.data.workflows} workflowKey={filteredKey} onDone={() => void reload()} />
      )}
      <CancelRuns workflowKey={filteredKey} onDone={() => void reload()} />
      {workflows.data && <MapCancel workflows={workflows.data.workflows} workflowKey={filteredKey} />}
    </section>
  );
}

/** One run: status, step, resumeAt, zone, its messages and its history in plain words. */
export function RunPage({ id }: { id: string }) {
  const { data, error, reload } = useQuery(WORKFLOW_RUN, { id }, id);
  const run = data?.workflowRun;
  // a run on its way is followed until it ends
  useInterval(() => void reload(), 2000, Boolean(run && LIVE.has(run.status)));
  return (
    <section>
      <p>
        <a href="#/runs">← Workflow runs</a>
      </p>
      <PageTitle>Run of {run ? `${run.workflow.key} for ${run.userId}` : '…'}</PageTitle>
      <ErrorBox message={error} />
      {data && !run && <p>No workflow run has this id in this workspace.</p>}
      {run && (
        <>
          <dl>
            <dt>Status</dt>
            <dd>
              <Badge status={run.status} />
              {run.reason ? ` ${run.reason}` : ''}
              {LIVE.has(run.status) && (
                <>
                  {' '}
                  <CancelRun id={run.id} onDone={() => void reload()} />
                </>
              )}
            </dd>
            <dt>Step</dt>
            <dd class="mono">{run.step ?? '—'}</dd>
            <dt>Resumes at</dt>
            <dd>{run.resumeAt && run.status === 'WAITING' ? formatTime(run.resumeAt) : '—'}</dd>
            <dt>Time zone</dt>
            <dd>{run.timezone ?? '—'}</dd>
            <dt>Workflow</dt>
            <dd>
              <a href={`#/workflows/${encodeURIComponent(run.workflow.id)}`}>
                {run.workflow.name} ({run.workflow.key})
              </a>
              {run.version != null ? `, version ${run.version}` : ', no published version'}
            </dd>
            <dt>User</dt>
            <dd class="mono">
              <a href={`#/profiles/${encodeURIComponent(run.userId)}`}>{run.userId}</a>
            </dd>
            <dt>Started by</dt>
            <dd>
              {run.event ? (
                <a href={`#/events/${encodeURIComponent(run.event.id)}`}>{run.event.name ?? run.event.id}</a>
              ) : (
                'trigger'
              )}
            </dd>
            <dt>Cancel key</dt>
            <dd class="mono">{run.cancelKey ?? '—'}</dd>
            <dt>Started</dt>
            <dd>{formatTime(run.createdAt)}</dd>
          </dl>
          <h2>What happened</h2>
          <ol class="timeline" aria-label="Run history">
            {run.history.map((h, i) => (
              <li key={i} class={FINAL.has(h.type) ? 'final' : undefined}>
                <time dateTime={h.at}>{formatTime(h.at)}</time>
                <p>{describeRun(h.type, h.detail)}</p>
              </li>
            ))}
          </ol>
          {run.history.length === 0 && <p class="muted">Nothing has happened in this run yet.</p>}
          <h2>Messages</h2>
          {run.messages.length === 0 ? (
            <p class="muted">No message yet.</p>
          ) : (
            <ul>
              {run.messages.map((m) => (
                <li key={m.id}>
                  <a href={`#/messages/${encodeURIComponent(m.id)}`}>
                    {m.template?.key ?? 'message'} {m.id}
                  </a>{' '}
                  <Badge status={m.status} /> {m.channel ?? ''} {formatTime(m.createdAt)}
                </li>
              ))}
            </ul>
          )}
          {LIVE.has(run.status) && run.cancelKey && (
            <CancelRuns fixed workflowKey={run.workflow.key} cancelKey={run.cancelKey} onDone={() => void reload()} />
          )}
          <h2>Data</h2>
          <Json value={run.data} label="Run data" />
        </>
      )}
    </section>
  );
}
