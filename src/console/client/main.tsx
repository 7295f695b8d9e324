/**
 * The console's browser entry (bundled by scripts/build-console.ts into dist/console/console.js): sign-in, then
 * a hash-routed app — `#/events` (`?name=` to search one name), `#/events/<id>`, `#/event-names`, `#/messages`
 * (`?userId=`), `#/messages/<id>`, `#/profiles`, `#/profiles/<userId>`, `#/templates`.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { currentKey, errorMessage, onSignOut, signIn, signOut } from './api';
import { EventNamesPage } from './event-names';
import { EventPage, EventsPage } from './events';
import { WHO_AM_I } from './graphql';
import { MessagePage, MessagesPage } from './messages';
import { ProfilePage, ProfilesPage } from './profiles';
import { TemplatesPage } from './templates';
import { ErrorBox, PageTitle } from './ui';
import './console.css';

type Route =
  | { page: 'events'; name?: string }
  | { page: 'event'; id: string }
  | { page: 'eventNames' }
  | { page: 'messages'; userId?: string }
  | { page: 'message'; id: string }
  | { page: 'profiles' }
  | { page: 'profile'; userId: string }
  | { page: 'templates' };

function parseRoute(hash: string): Route {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const [, section, id] = path.split('/');
  const params = new URLSearchParams(query);
  if (section === 'messages' && id) return { page: 'message', id: decodeURIComponent(id) };
  if (section === 'messages')
    return params.get('userId') ? { page: 'messages', userId: params.get('userId')! } : { page: 'messages' };
  if (section === 'profiles') return id ? { page: 'profile', userId: decodeURIComponent(id) } : { page: 'profiles' };
  if (section === 'event-names') return { page: 'eventNames' };
  if (section === 'templates') return { page: 'templates' };
  if (section === 'events' && id) return { page: 'event', id: decodeURIComponent(id) };
  const name = params.get('name');
  return name ? { page: 'events', name } : { page: 'events' };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  return route;
}

function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: () => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <main id="main" class="sign-in">
      <PageTitle>Sign in to the Pigeon console</PageTitle>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            await signIn(value, WHO_AM_I);
            onSignedIn();
          } catch (err) {
            setError(errorMessage(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <label for="admin-key">Admin API key</label>
        <input
          id="admin-key"
          name="adminKey"
          type="password"
          autoComplete="off"
          spellcheck={false}
          required
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
          aria-describedby="key-help"
        />
        <p id="key-help" class="muted">
          Kept for this browser tab only (its session storage); closing the tab or signing out forgets it.
        </p>
        <ErrorBox message={error} />
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}

function App() {
  const [signedIn, setSignedIn] = useState(currentKey() !== null);
  const [notice, setNotice] = useState<string | null>(null);
  const route = useRoute();
  useEffect(
    () =>
      onSignOut((reason) => {
        setNotice(reason ?? 'You signed out.');
        setSignedIn(false);
      }),
    [],
  );
  if (!signedIn) return <SignIn notice={notice} onSignedIn={() => setSignedIn(true)} />;
  const section = { event: 'events', message: 'messages', profile: 'profiles' }[route.page as string] ?? route.page;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <span class="brand">Pigeon</span>
        <nav aria-label="Console">
          <a href="#/events" aria-current={section === 'events' ? 'page' : undefined}>
            Event log
          </a>
          <a href="#/event-names" aria-current={section === 'eventNames' ? 'page' : undefined}>
            Event names
          </a>
          <a href="#/messages" aria-current={section === 'messages' ? 'page' : undefined}>
            Messages
          </a>
          <a href="#/profiles" aria-current={section === 'profiles' ? 'page' : undefined}>
            Profiles
          </a>
          <a href="#/templates" aria-current={section === 'templates' ? 'page' : undefined}>
            Templates and routing
          </a>
          <a href="/graphql">GraphQL IDE</a>
        </nav>
        <button type="button" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main id="main">
        {route.page === 'events' && <EventsPage key={route.name ?? ''} name={route.name} />}
        {route.page === 'eventNames' && <EventNamesPage />}
        {route.page === 'event' && <EventPage key={route.id} id={route.id} />}
        {route.page === 'messages' && <MessagesPage key={route.userId ?? ''} userId={route.userId} />}
        {route.page === 'profiles' && <ProfilesPage />}
        {route.page === 'templates' && <TemplatesPage />}
        {route.page === 'profile' && <ProfilePage key={route.userId} userId={route.userId} />}
        {route.page === 'message' && <MessagePage key={route.id} id={route.id} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
