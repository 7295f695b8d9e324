/**
 * The console's browser entry (bundled by scripts/build-console.ts into dist/console/console.js): sign-in, then
 * a hash-routed app — `#/events`, `#/events/<id>`, `#/messages`, `#/messages/<id>`.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { currentKey, errorMessage, onSignOut, signIn, signOut } from './api';
import { EventPage, EventsPage } from './events';
import { WHO_AM_I } from './graphql';
import { MessagePage, MessagesPage } from './messages';
import { ErrorBox, PageTitle } from './ui';
import './console.css';

type Route =
  { page: 'events' } | { page: 'event'; id: string } | { page: 'messages' } | { page: 'message'; id: string };

function parseRoute(hash: string): Route {
  const [, section, id] = hash.replace(/^#/, '').split('/');
  if (section === 'messages') return id ? { page: 'message', id: decodeURIComponent(id) } : { page: 'messages' };
  if (section === 'events' && id) return { page: 'event', id: decodeURIComponent(id) };
  return { page: 'events' };
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
  const section = route.page === 'event' || route.page === 'events' ? 'events' : 'messages';
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
          <a href="#/messages" aria-current={section === 'messages' ? 'page' : undefined}>
            Messages
          </a>
          <a href="/graphql">GraphQL IDE</a>
        </nav>
        <button type="button" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main id="main">
        {route.page === 'events' && <EventsPage />}
        {route.page === 'event' && <EventPage key={route.id} id={route.id} />}
        {route.page === 'messages' && <MessagesPage />}
        {route.page === 'message' && <MessagePage key={route.id} id={route.id} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
