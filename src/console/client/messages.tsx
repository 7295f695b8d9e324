import { MESSAGE, MESSAGE_STATUSES, MESSAGES, type VariablesOf } from './graphql';
import { useInterval, useQuery } from './hooks';
import { ConnectionTable, FilterField, FilterForm, listPlace, useConnection } from './list';
import { describe } from './timeline';
import { Badge, ErrorBox, formatTime, Json, PageTitle, TableWrap } from './ui';

const place = listPlace<NonNullable<VariablesOf<typeof MESSAGES>['filter']>>({});

export function MessagesPage({ userId }: { userId?: string }) {
  // a link with a user id (from a profile) starts a fresh search for it; otherwise the user's place is kept
  const list = useConnection(MESSAGES, { place, select: (d) => d.messages, start: { userId } });
  return (
    <section>
      <PageTitle>Messages</PageTitle>
      <FilterForm onApply={list.apply}>
        <FilterField list={list} name="status" label="Status" options={MESSAGE_STATUSES} />
        <FilterField list={list} name="userId" label="User id" />
        <FilterField list={list} name="eventName" label="Event name" />
      </FilterForm>
      <ConnectionTable
        list={list}
        label="Messages"
        caption="Messages, newest first"
        columns={['Created', 'User', 'Template', 'Event', 'Channel', 'Status']}
        empty="No message matches these filters."
      >
        {(node) => (
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
        )}
      </ConnectionTable>
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
