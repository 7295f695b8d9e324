import { Fragment } from 'preact';
import { useQuery } from './hooks';
import { DataTable } from './list';
import { TEMPLATE_LIST } from './template-queries';
import { Badge, ErrorBox, formatTime, PageTitle } from './ui';

const bare = (name: string) => name.replace(/^Segment-TrackEvent:/, '');

/**
 * `#/templates`: each template with its status, the version messages use (and whether the draft changed since) and
 * the event names mapped to it; a template opens its editor (template-editor.tsx), "New template" creates one.
 * Routing rules have their own page (`#/routing`).
 */
export function TemplatesPage() {
  const { data, error, loading } = useQuery(TEMPLATE_LIST, {}, 'templates');
  const mapped = new Map<string, string[]>();
  for (const n of data?.eventNames ?? []) {
    const id = n.mapping?.template?.id;
    if (id) mapped.set(id, [...(mapped.get(id) ?? []), n.name]);
  }
  return (
    <section>
      <PageTitle>Templates</PageTitle>
      <ErrorBox message={error} />
      {data && (
        <p>
          <a class="button" href="#/templates/new">
            New template
          </a>
        </p>
      )}
      <DataTable
        label="Templates"
        columns={['Key', 'Name', 'Status', 'Channels', 'Topic', 'Published', 'Mapped events', 'Updated']}
        rows={data?.templates}
        loading={loading}
        empty="No template yet."
      >
        {(t) => (
          <tr key={t.id}>
            <td class="mono">
              <a href={`#/templates/${encodeURIComponent(t.id)}`}>{t.key}</a>
            </td>
            <td>{t.name}</td>
            <td>
              <Badge status={t.status} />
            </td>
            <td>{t.channels.join(', ')}</td>
            <td class="mono">{t.topic ?? '—'}</td>
            <td>
              {t.publishedVersion == null ? 'not yet' : `version ${t.publishedVersion}`}
              {t.publishedVersion != null && t.hasUnpublishedChanges ? ' (draft changed since)' : ''}
            </td>
            <td>
              {(mapped.get(t.id) ?? []).map((name, i) => (
                <Fragment key={name}>
                  {i > 0 && ', '}
                  <a href={`#/events?name=${encodeURIComponent(name)}`} class="mono" title={name}>
                    {bare(name)}
                  </a>
                </Fragment>
              ))}
              {!mapped.has(t.id) && <span class="muted">none</span>}
            </td>
            <td>{formatTime(t.updatedAt)}</td>
          </tr>
        )}
      </DataTable>
    </section>
  );
}
