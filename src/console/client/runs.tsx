import { useState } from 'preact/hooks';
import { errorMessage, request } from './api';
import { useInterval, useQuery } from './hooks';
import { describeRun } from './run-timeline';
import { Badge, ErrorBox, formatTime, Json, PageTitle, Pager, TableWrap } from './ui';
import { CANCEL_RUNS, RUN_STATUSES, WORKFLOW_RUN, WORKFLOW_RUNS, type WorkflowRunStatus } from './workflow-graphql';

const PAGE_SIZE = 25;
interface Filter {
  workflowKey?: string;
  status?: WorkflowRunStatus;
  userId?: string;
}

const place: { filter: Filter; cursors: (string | null)[] } = { filter: {}, cursors: [null] };
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

/** Workflow runs, newest first: filter by workflow, status and user, cursor paging. */
export function RunsPage({ workflowKey }: { workflowKey?: string }) {
  if (workflowKey !== undefined && place.filter.workflowKey !== workflowKey)
    Object.assign(place, { filter: { workflowKey }, cursors: [null] });
  const [filter, setFilter] = useState<Filter>(place.filter);
  const [draft, setDraft] = useState<Filter>(place.filter);
  const [cursors, setCursors] = useState(place.cursors);
  Object.assign(place, { filter, cursors });
  const after = cursors[cursors.length - 1];
  const { data, error, reload } = useQuery(
    WORKFLOW_RUNS,
    { first: PAGE_SIZE, after, filter },
    JSON.stringify([filter, after]),
  );
  useInterval(() => void reload(), 5000, true);
  const set = (field: keyof Filter) => (e: Event) => {
    const value = (e.currentTarget as HTMLInputElement | HTMLSelectElement).value;
    setDraft({ ...draft, [field]: value === '' ? undefined : value });
  };
  const conn = data?.workflowRuns;
  return (
    <section>
      <p>
        <a href="#/workflows">← Workflows</a>
      </p>
      <PageTitle>Workflow runs</PageTitle>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter(draft);
          setCursors([null]);
        }}
      >
        <label>
          Workflow key
          <input name="workflowKey" value={draft.workflowKey ?? ''} onInput={set('workflowKey')} />
        </label>
        <label>
          Status
          <select name="status" value={draft.status ?? ''} onChange={set('status')}>
            <option value="">Any</option>
            {RUN_STATUSES.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          User id
          <input name="userId" value={draft.userId ?? ''} onInput={set('userId')} />
        </label>
        <button type="submit" class="primary">
          Apply filters
        </button>
      </form>
      <ErrorBox message={error} />
      {conn && conn.edges.length === 0 && <p class="muted">No run matches these filters.</p>}
      {conn && conn.edges.length > 0 && (
        <TableWrap label="Workflow runs">
          <table>
            <caption class="sr-only">Workflow runs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Workflow</th>
                <th scope="col">User</th>
                <th scope="col">Status</th>
                <th scope="col">Step</th>
                <th scope="col">Resumes</th>
              </tr>
            </thead>
            <tbody>
              {conn.edges.map(({ node }) => (
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
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <Pager
        page={cursors.length - 1}
        hasNext={Boolean(conn?.pageInfo.hasNextPage)}
        onFirst={() => setCursors([null])}
        onPrev={() => setCursors(cursors.slice(0, -1))}
        onNext={() => conn?.pageInfo.endCursor && setCursors([...cursors, conn.pageInfo.endCursor])}
      />
      <CancelRuns workflowKey={filter.workflowKey} onDone={() => void reload()} />
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
