import { WORKFLOWS } from './workflow-graphql';
import { useQuery } from './hooks';
import { DataTable } from './list';
import { Badge, ErrorBox, formatTime, PageTitle } from './ui';

function windowText(w: unknown): string {
  if (!w || typeof w !== 'object') return '—';
  const { days, from, until } = w as { days?: string[]; from?: string; until?: string };
  return `${from ?? '?'}–${until ?? '?'}${days?.length ? ` on ${days.join(', ')}` : ''}`;
}

/** Every workflow: key, name, status and published version, topic and send window; each opens its editor. */
export function WorkflowsPage() {
  const { data, error, loading } = useQuery(WORKFLOWS, {}, 'workflows');
  return (
    <section>
      <PageTitle>Workflows</PageTitle>
      <p class="actions">
        <a class="button primary" href="#/workflows/new">
          New workflow
        </a>{' '}
        <a class="button" href="#/runs">
          All runs
        </a>
      </p>
      <ErrorBox message={error} />
      <DataTable
        label="Workflows"
        caption="Workflows"
        columns={['Key', 'Name', 'Status', 'Topic', 'Send window', 'Updated', 'Runs']}
        rows={data?.workflows}
        loading={loading}
        empty="No workflow yet."
      >
        {(w) => (
          <tr key={w.id}>
            <td class="mono">
              <a href={`#/workflows/${encodeURIComponent(w.id)}`}>{w.key}</a>
            </td>
            <td>{w.name}</td>
            <td>
              <Badge status={w.status} />
              {w.publishedVersion != null ? ` version ${w.publishedVersion}` : ''}
            </td>
            <td class="mono">{w.topic ?? '—'}</td>
            <td>{windowText(w.window)}</td>
            <td>{formatTime(w.updatedAt)}</td>
            <td>
              <a href={`#/runs?workflowKey=${encodeURIComponent(w.key)}`} aria-label={`Runs of ${w.key}`}>
                Runs
              </a>
            </td>
          </tr>
        )}
      </DataTable>
    </section>
  );
}
