import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, errorMessage, request } from './api';
import { PROFILES, type ResultOf } from './graphql';
import { useQuery } from './hooks';
import {
  ADDRESS_TRAITS,
  CHANNELS,
  CLEAR_PREFERENCE,
  DELETE_PROFILE,
  MERGE_PROFILE,
  PROFILE_PAGE,
  RECENT,
  REMOVE_SUPPRESSION,
  REPLACE_PROFILE,
  SET_PREFERENCE,
  SUPPRESSIONS_OF,
  type Channel,
  type PreferenceState,
} from './profile-graphql';
import { DataTable, useAction } from './list';
import { Badge, ErrorBox, formatTime, Json, PageTitle, Pager, TableWrap } from './ui';
import { navigateAway, useUnsavedChanges } from './unsaved';

const PAGE_SIZE = 25;

/** What the search form holds: `equals` is typed text, read as JSON when it parses (42, true, "x") and as text otherwise. */
interface Draft {
  search: string;
  trait: string;
  equals: string;
}

function toFilter(d: Draft) {
  const filter: { search?: string; trait?: string; equals?: unknown } = {};
  if (d.search.trim()) filter.search = d.search.trim();
  if (d.trait.trim()) {
    filter.trait = d.trait.trim();
    if (d.equals !== '') {
      try {
        filter.equals = JSON.parse(d.equals);
      } catch {
        filter.equals = d.equals;
      }
    }
  }
  return filter;
}

const place: { draft: Draft; filter: ReturnType<typeof toFilter>; cursors: (string | null)[] } = {
  draft: { search: '', trait: '', equals: '' },
  filter: {},
  cursors: [null],
};

/** Profiles: search by user id or email, or by a trait's value. */
export function ProfilesPage() {
  const [draft, setDraft] = useState(place.draft);
  const [filter, setFilter] = useState(place.filter);
  const [cursors, setCursors] = useState(place.cursors);
  Object.assign(place, { draft, filter, cursors });
  const after = cursors[cursors.length - 1];
  const { data, error } = useQuery(PROFILES, { first: PAGE_SIZE, after, filter }, JSON.stringify([filter, after]));
  const conn = data?.profiles;
  const field = (name: keyof Draft) => ({
    name,
    value: draft[name],
    onInput: (e: Event) => setDraft({ ...draft, [name]: (e.currentTarget as HTMLInputElement).value }),
  });

  return (
    <section>
      <PageTitle>Profiles</PageTitle>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter(toFilter(draft));
          setCursors([null]);
        }}
      >
        <label>
          User id or email contains
          <input {...field('search')} />
        </label>
        <label>
          Trait
          <input {...field('trait')} placeholder="address.city" />
        </label>
        <label>
          Equals
          <input {...field('equals')} placeholder='"Paris", 42 or true' />
        </label>
        <button type="submit" class="primary">
          Search
        </button>
      </form>
      <ErrorBox message={error} />
      {conn && conn.edges.length === 0 && <p class="muted">No profile matches.</p>}
      {conn && conn.edges.length > 0 && (
        <TableWrap label="Profiles">
          <table>
            <thead>
              <tr>
                <th scope="col">User id</th>
                <th scope="col">Email</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {conn.edges.map(({ node }) => (
                <tr key={node.userId}>
                  <td class="mono">
                    <a href={`#/profiles/${encodeURIComponent(node.userId)}`}>{node.userId}</a>
                  </td>
                  <td class="mono">{typeof node.traits.email === 'string' ? node.traits.email : '—'}</td>
                  <td>{formatTime(node.updatedAt)}</td>
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

type Loaded = ResultOf<typeof PROFILE_PAGE>;
type Profile = NonNullable<Loaded['profile']>;

function FieldError({ id, message }: { id: string; message: string | null | undefined }) {
  if (!message) return null;
  return (
    <p id={id} class="field-error" role="alert">
      {message}
    </p>
  );
}

function Status({ message }: { message: string | null }) {
  return (
    <p class="ok" role="status">
      {message ?? ''}
    </p>
  );
}

/**
 * One profile: its traits (editable: merge as identify does, RFC 7396, or replace), groups, preferences (set and
 * clear per topic and channel), the suppressions of its addresses (lift), its recent events and messages, and
 * delete after typing its user id.
 */
export function ProfilePage({ userId }: { userId: string }) {
  const { data, error, reload } = useQuery(PROFILE_PAGE, { userId, recent: RECENT }, userId);
  const profile = data?.profile;
  return (
    <section>
      <p>
        <a href="#/profiles">← Profiles</a>
      </p>
      <PageTitle>Profile {userId}</PageTitle>
      <ErrorBox message={error} />
      {data && !profile && <p>No profile has this user id in this workspace.</p>}
      {data && profile && (
        <>
          <dl>
            <dt>Anonymous ids</dt>
            <dd class="mono">{profile.anonymousIds.length ? profile.anonymousIds.join(', ') : '—'}</dd>
            <dt>Created</dt>
            <dd>{formatTime(profile.createdAt)}</dd>
            <dt>Updated</dt>
            <dd>{formatTime(profile.updatedAt)}</dd>
            <dt>Events and messages</dt>
            <dd>
              <a href={`#/messages?userId=${encodeURIComponent(profile.userId)}`}>Messages to this user</a>
            </dd>
          </dl>
          <TraitsEditor profile={profile} onSaved={reload} />
          <h2>Groups</h2>
          {profile.groups.length === 0 ? (
            <p class="muted">In no group.</p>
          ) : (
            profile.groups.map((g) => (
              <div key={g.groupId}>
                <h3 class="mono">{g.groupId}</h3>
                <Json value={g.traits} label={`Traits of group ${g.groupId}`} />
              </div>
            ))
          )}
          <Preferences profile={profile} topics={data.topics} onChanged={reload} />
          <Suppressions traits={profile.traits} />
          <Recent data={data} />
          <DeleteProfile userId={profile.userId} />
        </>
      )}
    </section>
  );
}

const pretty = (traits: unknown) => JSON.stringify(traits, null, 2);

/** The traits as JSON to edit: Merge (mergeProfile, RFC 7396: null removes a trait) or Replace (replaceProfile). */
function TraitsEditor({ profile, onSaved }: { profile: Profile; onSaved: () => Promise<void> }) {
  const [text, setText] = useState(() => pretty(profile.traits));
  const [saved, setSaved] = useState(() => pretty(profile.traits));
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useUnsavedChanges(text !== saved, "This profile's traits have unsaved changes. Leave this page?");

  const save = async (how: 'merge' | 'replace') => {
    setStatus(null);
    let traits: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
        setError('The traits must be a JSON object, e.g. {"plan": "pro"}.');
        return;
      }
      traits = parsed as Record<string, unknown>;
    } catch (err) {
      setError(`Not valid JSON: ${errorMessage(err)}`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const res =
        how === 'merge'
          ? (await request(MERGE_PROFILE, { userId: profile.userId, traits })).mergeProfile
          : (await request(REPLACE_PROFILE, { userId: profile.userId, traits })).replaceProfile;
      const now = pretty(res.traits);
      setSaved(now);
      setText(now);
      setStatus(how === 'merge' ? 'Traits merged.' : 'Traits replaced.');
      await onSaved();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="traits-title">
      <h2 id="traits-title">Traits</h2>
      <label>
        Traits (JSON)
        <textarea
          name="traits"
          rows={Math.min(20, Math.max(4, text.split('\n').length + 1))}
          class="mono"
          spellcheck={false}
          value={text}
          aria-invalid={error ? true : undefined}
          aria-describedby={['traits-help', error ? 'traits-error' : ''].filter(Boolean).join(' ')}
          onInput={(e) => setText(e.currentTarget.value)}
        />
      </label>
      <p id="traits-help" class="muted">
        <strong>Merge</strong> changes only the traits given, as identify does (a <code>null</code> removes a trait;
        objects merge key by key). <strong>Replace</strong> makes the traits exactly this object.
      </p>
      <FieldError id="traits-error" message={error} />
      <div class="row-actions">
        <button type="button" class="primary" disabled={busy} onClick={() => save('merge')}>
          Merge
        </button>
        <button type="button" disabled={busy} onClick={() => save('replace')}>
          Replace
        </button>
        <button
          type="button"
          disabled={busy || text === saved}
          onClick={() => {
            setText(saved);
            setError(null);
          }}
        >
          Undo changes
        </button>
      </div>
      <Status message={status} />
    </section>
  );
}

function Preferences(props: { profile: Profile; topics: Loaded['topics']; onChanged: () => Promise<void> }) {
  const [topic, setTopic] = useState('');
  const [channel, setChannel] = useState<Channel | ''>('');
  const [state, setState] = useState<PreferenceState>('OPTED_OUT');
  const action = useAction();
  const { busy, error, status } = action;
  const userId = props.profile.userId;
  const what = (t: string | null, c: string | null) => `${t ?? 'every topic'}, ${c ?? 'every channel'}`;

  const act = (done: string, work: () => Promise<unknown>) =>
    action.run(async () => {
      await work();
      await props.onChanged();
      return done;
    });

  return (
    <section aria-labelledby="preferences-title">
      <h2 id="preferences-title">Preferences</h2>
      <DataTable
        label="Preferences"
        columns={['Topic', 'Channel', 'Choice', 'Since', 'Actions']}
        rows={props.profile.preferences}
        empty="No choice stored: every topic's default applies."
      >
        {(p) => (
          <tr key={`${p.topic ?? ''}|${p.channel ?? ''}`}>
            <td class="mono">{p.topic ?? 'every topic'}</td>
            <td>{p.channel ?? 'every channel'}</td>
            <td>{p.state === 'OPTED_OUT' ? 'opted out' : 'opted in'}</td>
            <td>{formatTime(p.updatedAt)}</td>
            <td>
              <button
                type="button"
                disabled={busy}
                aria-label={`Clear the preference for ${what(p.topic ?? null, p.channel ?? null)}`}
                onClick={() =>
                  act(`Cleared the preference for ${what(p.topic ?? null, p.channel ?? null)}.`, () =>
                    request(CLEAR_PREFERENCE, { userId, topic: p.topic ?? null, channel: p.channel ?? null }),
                  )
                }
              >
                Clear
              </button>
            </td>
          </tr>
        )}
      </DataTable>
      <form
        class="filters"
        aria-label="Set a preference"
        onSubmit={(e) => {
          e.preventDefault();
          void act(
            `Set ${state === 'OPTED_OUT' ? 'opted out' : 'opted in'} for ${what(topic || null, channel || null)}.`,
            () => request(SET_PREFERENCE, { userId, topic: topic || null, channel: channel || null, state }),
          );
        }}
      >
        <label>
          Topic
          <select name="prefTopic" value={topic} onChange={(e) => setTopic(e.currentTarget.value)}>
            <option value="">Every topic</option>
            {props.topics.map((t) => (
              <option key={t.key} value={t.key}>
                {t.name} ({t.key})
              </option>
            ))}
          </select>
        </label>
        <label>
          Channel
          <select
            name="prefChannel"
            value={channel}
            onChange={(e) => setChannel(e.currentTarget.value as Channel | '')}
          >
            <option value="">Every channel</option>
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label>
          Choice
          <select name="prefState" value={state} onChange={(e) => setState(e.currentTarget.value as PreferenceState)}>
            <option value="OPTED_OUT">Opted out</option>
            <option value="OPTED_IN">Opted in</option>
          </select>
        </label>
        <button type="submit" disabled={busy}>
          Set preference
        </button>
      </form>
      <FieldError id="preference-error" message={error} />
      <Status message={status} />
    </section>
  );
}

type Suppression = ResultOf<typeof SUPPRESSIONS_OF>['suppressions']['edges'][number]['node'];

/** The addresses in the profile's contact traits (email, phone numbers), each once. */
function addressesOf(traits: Record<string, unknown>): string[] {
  const found = ADDRESS_TRAITS.map((t) => traits[t]).filter(
    (v): v is string => typeof v === 'string' && v.trim() !== '',
  );
  return [...new Set(found.map((v) => v.trim()))];
}

/** The suppressions in force for the profile's addresses, with Lift (removeSuppression). */
function Suppressions({ traits }: { traits: Record<string, unknown> }) {
  const addresses = addressesOf(traits);
  const key = addresses.join('\n');
  const [rows, setRows] = useState<Suppression[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const latest = useRef(0);

  const load = async () => {
    const id = ++latest.current;
    try {
      const pages = await Promise.all(addresses.map((address) => request(SUPPRESSIONS_OF, { address })));
      if (id !== latest.current) return;
      const seen = new Set<string>();
      const all = pages
        .flatMap((p) => p.suppressions.edges.map((e) => e.node))
        .filter((s) => !seen.has(`${s.channel}|${s.address}`) && seen.add(`${s.channel}|${s.address}`));
      setRows(all);
      setError(null);
    } catch (err) {
      if (id === latest.current) setError(errorMessage(err));
    }
  };
  useEffect(() => {
    void load();
  }, [key]);

  const lift = async (s: Suppression) => {
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      const res = await request(REMOVE_SUPPRESSION, { address: s.address, channel: s.channel });
      setStatus(
        res.removeSuppression
          ? `Lifted the suppression of ${s.address} on ${s.channel}.`
          : `${s.address} on ${s.channel} was no longer suppressed.`,
      );
      await load();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="suppressions-title">
      <h2 id="suppressions-title">Suppressions</h2>
      {addresses.length === 0 ? (
        <p class="muted">No email or phone trait: no address to suppress.</p>
      ) : (
        <DataTable
          label="Suppressions"
          columns={['Address', 'Channel', 'Reason', 'Since', 'Until', 'Actions']}
          rows={rows}
          loading={!error}
          empty={`None of ${addresses.join(', ')} is suppressed.`}
        >
          {(s) => (
            <tr key={`${s.channel}|${s.address}`}>
              <td class="mono">{s.address}</td>
              <td>{s.channel}</td>
              <td>{s.reason}</td>
              <td>{formatTime(s.createdAt)}</td>
              <td>{s.expiresAt ? formatTime(s.expiresAt) : 'until lifted'}</td>
              <td>
                <button
                  type="button"
                  disabled={busy}
                  aria-label={`Lift the suppression of ${s.address} on ${s.channel}`}
                  onClick={() => lift(s)}
                >
                  Lift
                </button>
              </td>
            </tr>
          )}
        </DataTable>
      )}
      <FieldError id="suppression-error" message={error} />
      <Status message={status} />
    </section>
  );
}

function Recent({ data }: { data: Loaded }) {
  const events = data.events.edges.map((e) => e.node);
  const messages = data.messages.edges.map((e) => e.node);
  return (
    <>
      <h2>Recent events</h2>
      {events.length === 0 ? (
        <p class="muted">No event of this user.</p>
      ) : (
        <ul aria-label="Recent events">
          {events.map((e) => (
            <li key={e.id}>
              <a href={`#/events/${encodeURIComponent(e.id)}`}>
                {e.type} {e.name ?? ''}
              </a>{' '}
              <Badge status={e.status} /> {formatTime(e.receivedAt)}
            </li>
          ))}
        </ul>
      )}
      <h2>Recent messages</h2>
      {messages.length === 0 ? (
        <p class="muted">No message to this user.</p>
      ) : (
        <ul aria-label="Recent messages">
          {messages.map((m) => (
            <li key={m.id}>
              <a href={`#/messages/${encodeURIComponent(m.id)}`}>
                {m.template?.key ?? m.eventName ?? 'message'} {m.id}
              </a>{' '}
              <Badge status={m.status} /> {m.channel ?? ''} {formatTime(m.createdAt)}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** Delete, after typing the user id: deleteProfile removes the profile, its aliases and memberships. */
function DeleteProfile({ userId }: { userId: string }) {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      const res = await request(DELETE_PROFILE, { userId });
      if (!res.deleteProfile) setError('There was no such profile any more.');
      else navigateAway('#/profiles');
    } catch (err) {
      setError(err instanceof ApiError ? err.message : errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="delete-title">
      <h2 id="delete-title">Delete this profile</h2>
      {!open ? (
        <button type="button" class="danger" onClick={() => setOpen(true)}>
          Delete profile…
        </button>
      ) : (
        <form
          class="confirm"
          onSubmit={(e) => {
            e.preventDefault();
            if (typed === userId) void remove();
          }}
        >
          <p id="delete-help">
            This deletes the profile, its anonymous ids and its group memberships; messages and events stay. Type the
            user id <code>{userId}</code> to confirm.
          </p>
          <label>
            User id to delete
            <input
              name="confirmUserId"
              value={typed}
              autoComplete="off"
              spellcheck={false}
              aria-describedby="delete-help"
              onInput={(e) => setTyped(e.currentTarget.value)}
            />
          </label>
          <div class="row-actions">
            <button type="submit" class="danger" disabled={busy || typed !== userId}>
              Delete profile
            </button>
            <button type="button" onClick={() => setOpen(false)}>
              Keep it
            </button>
          </div>
          <FieldError id="delete-error" message={error} />
        </form>
      )}
    </section>
  );
}
