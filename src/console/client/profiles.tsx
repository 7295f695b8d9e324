import { useState } from 'preact/hooks';
import { PROFILE, PROFILES } from './graphql';
import { useQuery } from './hooks';
import { ErrorBox, formatTime, Json, PageTitle, Pager, TableWrap } from './ui';

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

/** Profiles, read-only: search by user id or email, or by a trait's value. */
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

export function ProfilePage({ userId }: { userId: string }) {
  const { data, error } = useQuery(PROFILE, { userId }, userId);
  const profile = data?.profile;
  return (
    <section>
      <p>
        <a href="#/profiles">← Profiles</a>
      </p>
      <PageTitle>Profile {userId}</PageTitle>
      <ErrorBox message={error} />
      {data && !profile && <p>No profile has this user id in this workspace.</p>}
      {profile && (
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
          <h2>Traits</h2>
          <Json value={profile.traits} label="Traits" />
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
          <h2>Preferences</h2>
          {profile.preferences.length === 0 ? (
            <p class="muted">No choice stored: every topic's default applies.</p>
          ) : (
            <TableWrap label="Preferences">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Topic</th>
                    <th scope="col">Channel</th>
                    <th scope="col">Choice</th>
                    <th scope="col">Since</th>
                  </tr>
                </thead>
                <tbody>
                  {profile.preferences.map((p) => (
                    <tr key={`${p.topic ?? ''}|${p.channel ?? ''}`}>
                      <td class="mono">{p.topic ?? 'every topic'}</td>
                      <td>{p.channel ?? 'every channel'}</td>
                      <td>{p.state === 'OPTED_OUT' ? 'opted out' : 'opted in'}</td>
                      <td>{formatTime(p.updatedAt)}</td>
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
