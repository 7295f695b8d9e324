/**
 * The console's browser entry (bundled by scripts/build-console.ts into dist/console/console.js): sign-in, then
 * a hash-routed app — `#/events` (`?name=` to search one name), `#/events/<id>`, `#/event-names`, `#/messages`
 * (`?userId=`), `#/messages/<id>`, `#/profiles`, `#/profiles/<userId>`, `#/templates`, `#/templates/<id>` and
 * `#/templates/new` (`?event=` from a Map panel: prefilled for that event name, and it maps the name once published),
 * `#/workflows`, `#/workflows/<id>`, `#/workflows/new`, `#/runs` (`?workflowKey=`), `#/runs/<id>`, `#/routing`,
 * `#/providers`, `#/topics`, `#/api-keys`. Before following a hash change the router asks the pages with unsaved
 * edits (unsaved.ts): declined, the address goes back and the page stays.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { currentKey, errorMessage, onSignOut, signIn, signOut } from './api';
import { EventNamesPage } from './event-names';
import { EventPage, EventsPage } from './events';
import { WHO_AM_I } from './graphql';
import { MessagePage, MessagesPage } from './messages';
import { ProfilePage, ProfilesPage } from './profiles';
import { TemplateEditorPage } from './template-editor';
import { TemplatesPage } from './templates';
import { RoutingPage } from './routing';
import { ProvidersPage } from './providers';
import { TopicsPage } from './topics';
import { ApiKeysPage } from './api-keys';
import { RunPage, RunsPage } from './runs';
import { ErrorBox, PageTitle } from './ui';
import { confirmLeave, unsavedMessage } from './unsaved';
import { WorkflowEditorPage } from './workflow-editor';
import { WorkflowsPage } from './workflows';
import './console.css';

type Route =
  | { page: 'events'; name?: string }
  | { page: 'event'; id: string }
  | { page: 'eventNames' }
  | { page: 'messages'; userId?: string }
  | { page: 'message'; id: string }
  | { page: 'profiles' }
  | { page: 'profile'; userId: string }
  | { page: 'templates' }
  | { page: 'routing' }
  | { page: 'providers' }
  | { page: 'topics' }
  | { page: 'apiKeys' }
  | { page: 'workflows' }
  | { page: 'workflow'; id: string | null }
  | { page: 'runs'; workflowKey?: string }
  | { page: 'run'; id: string }
  | { page: 'template'; id: string | null; eventName?: string };

function parseRoute(hash: string): Route {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const [, section, id] = path.split('/');
  const params = new URLSearchParams(query);
  if (section === 'messages' && id) return { page: 'message', id: decodeURIComponent(id) };
  if (section === 'messages')
    return params.get('userId') ? { page: 'messages', userId: params.get('userId')! } : { page: 'messages' };
  if (section === 'profiles') return id ? { page: 'profile', userId: decodeURIComponent(id) } : { page: 'profiles' };
  if (section === 'event-names') return { page: 'eventNames' };
  if (section === 'workflows')
    return id ? { page: 'workflow', id: id === 'new' ? null : decodeURIComponent(id) } : { page: 'workflows' };
  if (section === 'runs' && id) return { page: 'run', id: decodeURIComponent(id) };
  if (section === 'runs')
    return params.get('workflowKey') ? { page: 'runs', workflowKey: params.get('workflowKey')! } : { page: 'runs' };
  if (section === 'templates' && id) {
    const eventName = params.get('event') ?? undefined;
    return { page: 'template', id: id === 'new' ? null : decodeURIComponent(id), eventName };
  }
  if (section === 'templates') return { page: 'templates' };
  if (section === 'routing') return { page: 'routing' };
  if (section === 'providers') return { page: 'providers' };
  if (section === 'topics') return { page: 'topics' };
  if (section === 'api-keys') return { page: 'apiKeys' };
  if (section === 'events' && id) return { page: 'event', id: decodeURIComponent(id) };
  const name = params.get('name');
  return name ? { page: 'events', name } : { page: 'events' };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onHash = (e: HashChangeEvent) => {
      // A page with unsaved edits (useUnsavedChanges) may veto the change: put the old address back without a new
      // history entry (replaceState fires no hashchange) and keep showing the page.
      if (!confirmLeave(location.hash)) {
        history.replaceState(history.state, '', e.oldURL);
        return;
      }
      setRoute(parseRoute(location.hash));
    };
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
  const section =
    { event: 'events', message: 'messages', profile: 'profiles', template: 'templates' }[route.page as string] ??
    route.page;
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
            Templates
          </a>
          <a
            href="#/workflows"
            aria-current={['workflows', 'workflow', 'runs', 'run'].includes(route.page) ? 'page' : undefined}
          >
            Workflows
          </a>
          <a href="#/routing" aria-current={section === 'routing' ? 'page' : undefined}>
            Routing rules
          </a>
          <a href="#/providers" aria-current={section === 'providers' ? 'page' : undefined}>
            Providers
          </a>
          <a href="#/topics" aria-current={section === 'topics' ? 'page' : undefined}>
            Topics
          </a>
          <a href="#/api-keys" aria-current={section === 'apiKeys' ? 'page' : undefined}>
            API keys
          </a>
          <a href="/graphql">GraphQL IDE</a>
        </nav>
        <button
          type="button"
          onClick={() => {
            // signing out forgets the page: a page with unsaved edits asks first
            const unsaved = unsavedMessage();
            if (unsaved === null || window.confirm(unsaved)) signOut();
          }}
        >
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
        {route.page === 'routing' && <RoutingPage />}
        {route.page === 'providers' && <ProvidersPage />}
        {route.page === 'topics' && <TopicsPage />}
        {route.page === 'apiKeys' && <ApiKeysPage />}
        {route.page === 'template' && (
          <TemplateEditorPage
            key={`${route.id ?? 'new'}?${route.eventName ?? ''}`}
            id={route.id}
            eventName={route.eventName}
          />
        )}
        {route.page === 'workflows' && <WorkflowsPage />}
        {route.page === 'workflow' && <WorkflowEditorPage key={route.id ?? 'new'} id={route.id} />}
        {route.page === 'runs' && <RunsPage key={route.workflowKey ?? ''} workflowKey={route.workflowKey} />}
        {route.page === 'run' && <RunPage key={route.id} id={route.id} />}
        {route.page === 'profile' && <ProfilePage key={route.userId} userId={route.userId} />}
        {route.page === 'message' && <MessagePage key={route.id} id={route.id} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
