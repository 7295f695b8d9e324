import { useState } from 'preact/hooks';
import { MapPanel } from './events';
import { EVENT_NAMES } from './graphql';
import { useQuery } from './hooks';
import { ErrorBox, formatTime, PageTitle, TableWrap } from './ui';

/** Every track name seen, with its count and mapping; an unmapped one has **Map** (and replay), as on its event page. */
export function EventNamesPage() {
  const { data, error, reload } = useQuery(EVENT_NAMES, {}, 'names');
  const [mapping, setMapping] = useState<string | null>(null);
  const names = data?.eventNames;
  return (
    <section>
      <PageTitle>Event names</PageTitle>
      <ErrorBox message={error} />
      {names && names.length === 0 && <p class="muted">No track event has arrived yet.</p>}
      {names && names.length > 0 && (
        <TableWrap label="Event names">
          <table>
            <caption class="sr-only">Track event names, with how many arrived and what they are mapped to</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Events</th>
                <th scope="col">Last seen</th>
                <th scope="col">Mapped to</th>
              </tr>
            </thead>
            <tbody>
              {names.map((n) => {
                const target = n.mapping?.template ?? n.mapping?.workflow;
                return (
                  <tr key={n.name}>
                    <td class="mono">
                      <a href={`#/events?name=${encodeURIComponent(n.name)}`}>{n.name}</a>
                    </td>
                    <td>{n.count}</td>
                    <td>{formatTime(n.lastSeenAt)}</td>
                    <td>
                      {target ? (
                        `${n.mapping?.template ? 'Template' : 'Workflow'} ${target.name} (${target.key})`
                      ) : (
                        <button type="button" aria-label={`Map ${n.name}`} onClick={() => setMapping(n.name)}>
                          Map
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableWrap>
      )}
      {mapping && (
        <MapPanel key={mapping} eventName={mapping} focus onMapped={() => void reload()} onDone={() => void reload()} />
      )}
    </section>
  );
}
