import { useState } from 'preact/hooks';
import { MESSAGE, MESSAGE_STATUSES, MESSAGES, type VariablesOf } from './graphql';
import { useInterval, useQuery } from './hooks';
import { describe } from './timeline';
import { Badge, ErrorBox, formatTime, Json, PageTitle, Pager, TableWrap } from './ui';

const PAGE_SIZE = 25;
type Filter = NonNullable<VariablesOf<typeof MESSAGES>['filter']>;

const place: { filter: Filter; cursors: (string | null)[] } = { filter: {}, cursors: [null] };

export function MessagesPage({ userId }: { userId?: string }) {
  // a link with a user id (from a profile) starts a fresh search for it; otherwise the user's place is kept
  if (userId !== undefined && place.filter.userId !== userId)
    Object.assign(place, { filter: { userId }, cursors: [null] });
  const [filter, setFilter] = useState<Filter>(place.filter);
  const [draft, setDraft] = useState<Filter>(place.filter);
  const [cursors, setCursors] = useState(place.cursors);
  Object.assign(place, { filter, cursors });
  const after = cursors[cursors.length - 1];
  const { data, error, reload } = useQuery(
    MESSAGES,
    { first: PAGE_SIZE, after, filter },
    JSON.stringify([filter, after]),
  );
  useInterval(() => void reload(), 5000, true);
  const set = (field: keyof Filter) => (e: Event) => {
    const value = (e.currentTarget as HTMLInputElement | HTMLSelectElement).value;
    setDraft({ ...draft, [field]: value === '' ? undefined : value });
  };
  const conn = data?.messages;

  return (
    <section>
      <PageTitle>Messages</PageTitle>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter(draft);
          setCursors([null]);
        }}
      >
        <label>
          Status
          <select name="status" value={draft.status ?? ''} onChange={set('status')}>
            <option value="">Any</option>
            {MESSAGE_STATUSES.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          User id
          <input name="userId" value={draft.userId ?? ''} onInput={set('userId')} />
        </label>
        <label>
          Event name
          <input name="eventName" value={draft.eventName ?? ''} onInput={set('eventName')} />
        </label>
        <button type="submit" class="primary">
          Apply filters
        </button>
      </form>
      <ErrorBox message={error} />
      {conn && conn.edges.length === 0 && <p class="muted">No message matches these filters.</p>}
      {conn && conn.edges.length > 0 && (
        <TableWrap label="Messages">
          <table>
            <caption class="sr-only">Messages, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">User</th>
                <th scope="col">Template</th>
                <th scope="col">Event</th>
                <th scope="col">Channel</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {conn.edges.map(({ node }) => (
                <tr key={node.id}>
                  <td>
                    <a href={`#/messages/${encodeURIComponent(node.id)}`}>{formatTime(node.createdAt)}</a>
                  </td>
                  <td class="mono">{node.userId}</td>
                  <td class="mono">{node.template?.key ?? '—'}</td>
                  <td class="mono">{node.eventName ?? '—'}</td>
                  <td>{node.channel ?? '—'}</td>
                  <td>
                    <Badge status={node.status} />
                  </td>
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
    </section>
  );
}

const FINAL = new Set(['SENT', 'DELIVERED', 'UNDELIVERABLE', 'UNROUTABLE', 'FILTERED']);
const SETTLED = new Set(['DELIVERED', 'UNDELIVERABLE', 'UNROUTABLE', 'FILTERED']);

export function MessagePage({ id }: { id: string }) {
  const { data, error, reload } = useQuery(MESSAGE, { id }, id);
  const message = data?.message;
  // a message on its way (or SENT, awaiting a delivery callback) is followed until it settles
  useInterval(() => void reload(), 3000, Boolean(message && !SETTLED.has(message.status)));
  return (
    <section>
      <p>
        <a href="#/messages">← Messages</a>
      </p>
      <PageTitle>Message to {message?.userId ?? '…'}</PageTitle>
      <ErrorBox message={error} />
      {data && !message && <p>No message has this id in this workspace.</p>}
      {message && (
        <>
          <dl>
            <dt>Status</dt>
            <dd>
              <Badge status={message.status} />
              {message.reason ? ` ${message.reason}` : ''}
            </dd>
            <dt>Id</dt>
            <dd class="mono">{message.id}</dd>
            <dt>User</dt>
            <dd class="mono">
              <a href={`#/profiles/${encodeURIComponent(message.userId)}`}>{message.userId}</a>
            </dd>
            <dt>Template</dt>
            <dd>
              {message.template ? `${message.template.name} (${message.template.key})` : '—'}
              {message.templateVersion != null ? `, version ${message.templateVersion}` : ''}
            </dd>
            <dt>Event</dt>
            <dd>
              {message.event ? (
                <a href={`#/events/${encodeURIComponent(message.event.id)}`}>{message.eventName ?? message.event.id}</a>
              ) : (
                (message.eventName ?? '—')
              )}
            </dd>
            <dt>Created</dt>
            <dd>{formatTime(message.createdAt)}</dd>
          </dl>
          <h2>What happened</h2>
          <ol class="timeline" aria-label="History">
            {message.history.map((h, i) => (
              <li key={i} class={FINAL.has(h.type) ? 'final' : undefined}>
                <time dateTime={h.at}>{formatTime(h.at)}</time>
                <p>{describe(h.type, h.detail)}</p>
              </li>
            ))}
          </ol>
          {message.history.length === 0 && <p class="muted">Nothing has happened to this message yet.</p>}
          <h2>Deliveries</h2>
          {message.deliveries.length === 0 ? (
            <p class="muted">No delivery yet.</p>
          ) : (
            <TableWrap label="Deliveries">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Channel</th>
                    <th scope="col">Provider</th>
                    <th scope="col">Status</th>
                    <th scope="col">Tries</th>
                    <th scope="col">Provider id</th>
                    <th scope="col">Last error</th>
                  </tr>
                </thead>
                <tbody>
                  {message.deliveries.map((d, i) => (
                    <tr key={i}>
                      <td>{d.channel}</td>
                      <td>{d.provider}</td>
                      <td>
                        <Badge status={d.status} />
                      </td>
                      <td>{d.attempts}</td>
                      <td class="mono">{d.externalId ?? '—'}</td>
                      <td>{d.lastError ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
          <h2>Data</h2>
          <Json value={message.data} label="Message data" />
        </>
      )}
    </section>
  );
}
