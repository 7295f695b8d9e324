import { useQuery } from './hooks';
import { TEMPLATE_LIST } from './template-queries';
import { Badge, ErrorBox, formatTime, PageTitle, TableWrap } from './ui';

/** Templates (each opens its editor, template-editor.tsx; "New template" creates one) and the routing rules, read-only. */
export function TemplatesPage() {
  const { data, error } = useQuery(TEMPLATE_LIST, {}, 'templates');
  const byId = new Map(data?.templates.map((t) => [t.id, t]) ?? []);
  return (
    <section>
      <PageTitle>Templates and routing</PageTitle>
      <ErrorBox message={error} />
      {data && (
        <>
          <h2>Templates</h2>
          <p>
            <a class="button" href="#/templates/new">
              New template
            </a>
          </p>
          {data.templates.length === 0 ? (
            <p class="muted">No template yet.</p>
          ) : (
            <TableWrap label="Templates">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Key</th>
                    <th scope="col">Name</th>
                    <th scope="col">Status</th>
                    <th scope="col">Channels</th>
                    <th scope="col">Topic</th>
                    <th scope="col">Published</th>
                    <th scope="col">Updated</th>
                  </tr>
                </thead>
                <tbody>
                  {data.templates.map((t) => (
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
                      <td>{formatTime(t.updatedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
          <h2>Routing rules, in evaluation order</h2>
          <p class="muted">
            Read-only here: create, edit, reorder and test them on the <a href="#/routing">Routing rules</a> page.
          </p>
          {data.routingRules.length === 0 ? (
            <p class="muted">No routing rule: each message goes to its template's channels in order (SINGLE).</p>
          ) : (
            <TableWrap label="Routing rules">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Priority</th>
                    <th scope="col">Name</th>
                    <th scope="col">For</th>
                    <th scope="col">Decides</th>
                    <th scope="col">When</th>
                  </tr>
                </thead>
                <tbody>
                  {data.routingRules.map((r) => (
                    <tr key={r.id}>
                      <td>{r.priority}</td>
                      <td>
                        {r.name}
                        {r.enabled ? '' : ' (disabled)'}
                      </td>
                      <td>
                        {r.templateId ? `template ${byId.get(r.templateId)?.key ?? r.templateId}` : 'every template'}
                      </td>
                      <td>
                        {r.action}
                        {r.method ? ` ${r.method}` : ''}
                        {r.channels?.length ? ` on ${r.channels.join(', ')}` : ''}
                      </td>
                      <td class="mono">{JSON.stringify(r.when)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
        </>
      )}
    </section>
  );
}
