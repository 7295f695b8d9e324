import { useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage, request } from './api';
import {
  EVENT,
  EVENT_STATUSES,
  EVENT_TYPES,
  EVENTS,
  MAP_EVENT,
  MAP_TARGETS,
  REPLAY_EVENTS,
  type EventStatus,
  type EventType,
  type VariablesOf,
} from './graphql';
import { useQuery } from './hooks';
import { ConnectionTable, FilterField, FilterForm, listPlace, useConnection } from './list';
import { Badge, ErrorBox, formatTime, Json, PageTitle } from './ui';

type EventsVars = VariablesOf<typeof EVENTS>;

/** What the list shows, kept while the user opens an event and comes back (and across auto-refreshes). */
const place = listPlace<NonNullable<EventsVars['filter']>>({});

export function EventsPage({ name }: { name?: string }) {
  // a link with a name (from the event-names page) starts a fresh search for it; otherwise the user's place is kept
  const list = useConnection(EVENTS, { place, select: (d) => d.events, start: { name } });
  return (
    <section>
      <PageTitle>Event log</PageTitle>
      <FilterForm
        onApply={list.apply}
        after={
          <label class="inline">
            <input type="checkbox" checked={list.auto} onChange={(e) => list.setAuto(e.currentTarget.checked)} />
            Auto-refresh
          </label>
        }
      >
        <FilterField list={list} name="type" label="Type" options={EVENT_TYPES} />
        <FilterField list={list} name="status" label="Status" options={EVENT_STATUSES} />
        <FilterField list={list} name="name" label="Name" placeholder="Segment-TrackEvent:…" />
        <FilterField list={list} name="userId" label="User id" />
      </FilterForm>
      <ConnectionTable
        list={list}
        label="Events"
        caption="Events, newest first"
        columns={['Received', 'Type', 'Name', 'User', 'Status']}
        empty="No event matches these filters."
      >
        {(node) => (
          <tr key={node.id}>
            <td>
              <a href={`#/events/${encodeURIComponent(node.id)}`}>{formatTime(node.receivedAt)}</a>
            </td>
            <td>{node.type}</td>
            <td class="mono">{node.name ?? '—'}</td>
            <td class="mono">{node.userId ?? node.anonymousId ?? '—'}</td>
            <td>
              <Badge status={node.status} />
              {node.status === 'UNMAPPED' && node.type === 'TRACK' && (
                <>
                  {' '}
                  <a href={`#/events/${encodeURIComponent(node.id)}`} aria-label={`Map ${node.name ?? 'this event'}`}>
                    Map
                  </a>
                </>
              )}
            </td>
          </tr>
        )}
      </ConnectionTable>
    </section>
  );
}

export function EventPage({ id }: { id: string }) {
  const { data, error, reload } = useQuery(EVENT, { id }, id);
  const [mapping, setMapping] = useState(false);
  const event = data?.event;
  return (
    <section>
      <p>
        <a href="#/events">← Event log</a>
      </p>
      <PageTitle>Event {event?.name ?? id}</PageTitle>
      <ErrorBox message={error} />
      {data && !event && <p>No event has this id in this workspace.</p>}
      {event && (
        <>
          <dl>
            <dt>Status</dt>
            <dd>
              <Badge status={event.status} />
            </dd>
            <dt>Type</dt>
            <dd>{event.type}</dd>
            <dt>User</dt>
            <dd class="mono">{event.userId ?? event.anonymousId ?? '—'}</dd>
            <dt>Received</dt>
            <dd>{formatTime(event.receivedAt)}</dd>
            <dt>Segment messageId</dt>
            <dd class="mono">{event.messageId}</dd>
            {event.message && (
              <>
                <dt>Message</dt>
                <dd>
                  <a href={`#/messages/${encodeURIComponent(event.message.id)}`}>{event.message.id}</a>{' '}
                  <Badge status={event.message.status} />
                </dd>
              </>
            )}
          </dl>
          {(event.status === 'UNMAPPED' || mapping) && event.type === 'TRACK' && event.name && (
            <MapPanel eventName={event.name} onMapped={() => setMapping(true)} onDone={() => void reload()} />
          )}
          <h2>Payload</h2>
          <Json value={event.payload} label="Event payload" />
        </>
      )}
    </section>
  );
}

/** Map an unmapped event name to a published template or workflow, then replay its earlier unmapped events. */
export function MapPanel(props: {
  eventName: string;
  onMapped: () => void;
  onDone: () => void;
  focus?: boolean;
  /** The target chosen to begin with (`template:<id>`), e.g. a template just published for this event. */
  initialChoice?: string;
}) {
  const { eventName, onMapped, onDone } = props;
  const title = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (props.focus) title.current?.focus();
  }, [props.focus]);
  const targets = useQuery(MAP_TARGETS, {}, 'targets');
  const [choice, setChoice] = useState(props.initialChoice ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [mapped, setMapped] = useState<string | null>(null);
  const [replayed, setReplayed] = useState<number | null>(null);
  const templates = targets.data?.templates.filter((t) => t.publishedVersion != null) ?? [];
  const workflows = targets.data?.workflows.filter((w) => w.publishedVersion != null) ?? [];

  const map = async (e: Event) => {
    e.preventDefault();
    const [kind, id] = choice.split(':');
    if (!id) {
      setError('Choose a template or a workflow.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await request(MAP_EVENT, {
        eventName,
        templateId: kind === 'template' ? id : null,
        workflowId: kind === 'workflow' ? id : null,
      });
      const target = [...templates, ...workflows].find((t) => t.id === id);
      onMapped();
      setMapped(`${kind === 'template' ? 'template' : 'workflow'} “${target?.name ?? id}”`);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const replay = async () => {
    setBusy(true);
    setError(null);
    try {
      const status: EventStatus = 'UNMAPPED';
      const type: EventType = 'TRACK';
      const result = await request(REPLAY_EVENTS, { filter: { name: eventName, status, type } });
      setReplayed(result.replayEvents);
      onDone();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel" aria-labelledby="map-title">
      <h2 id="map-title" ref={title} tabIndex={-1}>
        Map {props.focus ? eventName : 'this event'}
      </h2>
      <ErrorBox message={targets.error} />
      {!mapped && (
        <form onSubmit={map} class="filters">
          <label>
            Send with
            <select name="target" value={choice} onChange={(e) => setChoice(e.currentTarget.value)}>
              <option value="">Choose a published template or workflow…</option>
              {templates.length > 0 && (
                <optgroup label="Templates">
                  {templates.map((t) => (
                    <option value={`template:${t.id}`}>
                      {t.name} ({t.key}, v{t.publishedVersion})
                    </option>
                  ))}
                </optgroup>
              )}
              {workflows.length > 0 && (
                <optgroup label="Workflows">
                  {workflows.map((w) => (
                    <option value={`workflow:${w.id}`}>
                      {w.name} ({w.key}, v{w.publishedVersion})
                    </option>
                  ))}
                </optgroup>
              )}
            </select>
          </label>
          <button type="submit" class="primary" disabled={busy}>
            Map
          </button>
        </form>
      )}
      {targets.data && templates.length + workflows.length === 0 && (
        <p class="muted">Nothing is published yet: publish a template or a workflow first.</p>
      )}
      {!mapped && !props.initialChoice && (
        <p>
          <a href={`#/templates/new?event=${encodeURIComponent(eventName)}`}>Create a template for this event</a>{' '}
          <span class="muted">(write and publish it, then map this event to it there)</span>
        </p>
      )}
      {mapped && (
        <div role="status">
          <p>
            {eventName} is now mapped to {mapped}. New events of this name become messages.
          </p>
          {replayed === null ? (
            <button type="button" class="primary" onClick={replay} disabled={busy}>
              Replay earlier unmapped events of this name
            </button>
          ) : (
            <p class="ok">
              Replayed: {replayed === 1 ? '1 event became a message' : `${replayed} events became messages`}.
            </p>
          )}
        </div>
      )}
      <ErrorBox message={error} />
    </section>
  );
}
