import { WORKFLOWS } from './workflow-graphql';
import { useQuery } from './hooks';
import { Badge, ErrorBox, formatTime, PageTitle, TableWrap } from './ui';

function windowText(w: unknown): string {
  if (!w || typeof w !== 'object') return '—';
  const { days, from, until } = w as { days?: string[]; from?: string; until?: string };
  return `${from ?? '?'}–${until ?? '?'}${days?.length ? ` on ${days.join(', ')}` : ''}`;
}

/** Every workflow: key, name, status and published version, topic and send window; each opens its editor. */
export function WorkflowsPage() {
  const { data, error } = useQuery(WORKFLOWS, {}, 'workflows');
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
      {data && data.workflows.length === 0 && <p class="muted">No workflow yet.</p>}
      {data && data.workflows.length > 0 && (
        <TableWrap label="Workflows">
          <table>
            <caption class="sr-only">Workflows</caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Topic</th>
                <th scope="col">Send window</th>
                <th scope="col">Updated</th>
                <th scope="col">Runs</th>
              </tr>
            </thead>
            <tbody>
              {data.workflows.map((w) => (
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
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}
