/** `#/topics`: the workspace's topics (what users opt in to or out of): list, create, edit, delete. */
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { errorMessage, request } from './api';
import { graphql, type ResultOf } from './graphql';
import { useQuery } from './hooks';
import { ActionNotes, ConfirmButton, DataTable, useAction } from './list';
import { ErrorBox, PageTitle } from './ui';

export const TOPICS = graphql(`
  query ConsoleTopics {
    topics {
      key
      name
      defaultState
      commercial
    }
  }
`);

export const CREATE_TOPIC = graphql(`
  mutation ConsoleCreateTopic($input: TopicInput!) {
    createTopic(input: $input) {
      key
    }
  }
`);

export const UPDATE_TOPIC = graphql(`
  mutation ConsoleUpdateTopic($key: String!, $input: TopicInput!) {
    updateTopic(key: $key, input: $input) {
      key
    }
  }
`);

export const DELETE_TOPIC = graphql(`
  mutation ConsoleDeleteTopic($key: String!) {
    deleteTopic(key: $key)
  }
`);

type Topic = ResultOf<typeof TOPICS>['topics'][number];
type State = Topic['defaultState'];

const STATE_WORDS: Record<State, string> = {
  ON: 'ON: sent unless the user opts out',
  OFF: 'OFF: sent only to users who opt in',
  REQUIRED: 'REQUIRED: always sent',
};

function TopicForm(props: { topic: Topic | null; onDone: (status: string | null) => void | Promise<void> }) {
  const t = props.topic;
  const [key, setKey] = useState(t?.key ?? '');
  const [name, setName] = useState(t?.name ?? '');
  const [state, setState] = useState<State>(t?.defaultState ?? 'ON');
  const [commercial, setCommercial] = useState(t?.commercial ?? false);
  const [error, setError] = useState<{ field: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const title = useRef<HTMLHeadingElement>(null);
  useLayoutEffect(() => title.current?.focus(), []);

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const input = { name: name.trim(), defaultState: state, commercial };
      if (t) await request(UPDATE_TOPIC, { key: t.key, input });
      else await request(CREATE_TOPIC, { input: { ...input, key: key.trim() } });
      await props.onDone(t ? `Saved the topic ${t.key}.` : `Created the topic ${key.trim()}.`);
    } catch (err) {
      const message = errorMessage(err);
      setError({ field: /\bkey\b/i.test(message) ? 'key' : /name/i.test(message) ? 'name' : 'form', message });
    } finally {
      setBusy(false);
    }
  };
  const at = (field: string) =>
    error?.field === field ? (
      <p id={`topic-${field}-error`} class="field-error" role="alert">
        {error.message}
      </p>
    ) : null;

  return (
    <section class="panel" aria-labelledby="topic-form-title">
      <h2 id="topic-form-title" ref={title} tabIndex={-1}>
        {t ? `Edit topic ${t.key}` : 'New topic'}
      </h2>
      <form class="filters" onSubmit={save}>
        <label>
          Key
          <input
            name="topicKey"
            value={key}
            disabled={Boolean(t)}
            required
            aria-invalid={error?.field === 'key' ? true : undefined}
            aria-describedby={error?.field === 'key' ? 'topic-key-error' : undefined}
            onInput={(e) => setKey(e.currentTarget.value)}
          />
          {at('key')}
        </label>
        <label>
          Name
          <input
            name="topicName"
            value={name}
            required
            aria-invalid={error?.field === 'name' ? true : undefined}
            aria-describedby={error?.field === 'name' ? 'topic-name-error' : undefined}
            onInput={(e) => setName(e.currentTarget.value)}
          />
          {at('name')}
        </label>
        <label>
          Default
          <select name="defaultState" value={state} onChange={(e) => setState(e.currentTarget.value as State)}>
            {(Object.keys(STATE_WORDS) as State[]).map((s) => (
              <option value={s}>{STATE_WORDS[s]}</option>
            ))}
          </select>
        </label>
        <label class="inline">
          <input
            type="checkbox"
            name="commercial"
            checked={commercial}
            onChange={(e) => setCommercial(e.currentTarget.checked)}
          />
          Commercial (marketing email: one-click unsubscribe)
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {t ? 'Save topic' : 'Create topic'}
        </button>
        <button type="button" onClick={() => props.onDone(null)}>
          Cancel
        </button>
      </form>
      {at('form')}
    </section>
  );
}

export function TopicsPage() {
  const topics = useQuery(TOPICS, {}, 'topics');
  const [editing, setEditing] = useState<Topic | 'new' | null>(null);
  const action = useAction();
  const [saved, setSaved] = useState<string | null>(null);
  const remove = (key: string) =>
    action.run(async () => {
      setSaved(null);
      await request(DELETE_TOPIC, { key });
      await topics.reload();
      return `Deleted the topic ${key}.`;
    });

  return (
    <section>
      <PageTitle>Topics</PageTitle>
      <p class="muted">
        Templates and workflows name a topic; each user's preferences for it decide whether a message is sent.
      </p>
      <ErrorBox message={topics.error} />
      <ActionNotes action={{ error: action.error, status: saved ?? action.status }} />
      {editing === null ? (
        <p>
          <button type="button" class="primary" onClick={() => setEditing('new')}>
            New topic
          </button>
        </p>
      ) : (
        <TopicForm
          key={editing === 'new' ? 'new' : editing.key}
          topic={editing === 'new' ? null : editing}
          onDone={async (done) => {
            setEditing(null);
            await topics.reload();
            if (done) setSaved(done);
          }}
        />
      )}
      <DataTable
        label="Topics"
        columns={['Key', 'Name', 'Default', 'Commercial', 'Actions']}
        rows={topics.data?.topics}
        loading={topics.loading}
        empty="No topic yet."
      >
        {(t) => (
          <tr key={t.key}>
            <td class="mono">{t.key}</td>
            <td>{t.name}</td>
            <td>{t.defaultState}</td>
            <td>{t.commercial ? 'yes' : 'no'}</td>
            <td>
              <span class="row-actions">
                <button type="button" onClick={() => setEditing(t)} aria-label={`Edit ${t.key}`}>
                  Edit
                </button>
                <ConfirmButton verb="Delete" what={t.key} busy={action.busy} onConfirm={() => void remove(t.key)} />
              </span>
            </td>
          </tr>
        )}
      </DataTable>
    </section>
  );
}
