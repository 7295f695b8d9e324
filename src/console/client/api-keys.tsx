/** `#/api-keys`: the workspace's keys (never their secrets), create one (its secret shown once), revoke. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage, request } from './api';
import { graphql } from './graphql';
import { useQuery } from './hooks';
import { ActionNotes, ConfirmButton, DataTable, useAction } from './list';
import { CopyButton, ErrorBox, formatTime, PageTitle } from './ui';

export const API_KEYS = graphql(`
  query ConsoleApiKeys {
    apiKeys {
      id
      name
      prefix
      scope
      createdAt
      lastUsedAt
      revokedAt
    }
  }
`);

export const CREATE_API_KEY = graphql(`
  mutation ConsoleCreateApiKey($name: String, $scope: ApiKeyScope!) {
    createApiKey(name: $name, scope: $scope) {
      secret
      apiKey {
        id
        prefix
        scope
      }
    }
  }
`);

export const REVOKE_API_KEY = graphql(`
  mutation ConsoleRevokeApiKey($id: ID!) {
    revokeApiKey(id: $id) {
      id
      revokedAt
    }
  }
`);

type Scope = 'ADMIN' | 'INGEST';

/** The new key's secret, once, in a modal dialog; closing it forgets the secret. */
function SecretDialog({ secret, onClose }: { secret: string; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby="secret-title" onClose={onClose} class="secret-dialog">
      <h2 id="secret-title">Your new API key</h2>
      <p>Copy it now: it is shown only this once and cannot be read again.</p>
      <p>
        <code class="mono secret" data-testid="new-secret">
          {secret}
        </code>
      </p>
      <div class="row-actions">
        <CopyButton text={secret} label="Copy the key" />
        <button
          type="button"
          class="primary"
          onClick={() => {
            ref.current?.close();
            onClose();
          }}
        >
          Done
        </button>
      </div>
    </dialog>
  );
}

export function ApiKeysPage() {
  const keys = useQuery(API_KEYS, {}, 'api-keys');
  const [name, setName] = useState('');
  const [scope, setScope] = useState<Scope>('INGEST');
  const [formError, setFormError] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const action = useAction();

  const create = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setFormError(null);
    try {
      const res = await request(CREATE_API_KEY, { name: name.trim() || null, scope });
      setSecret(res.createApiKey.secret);
      setName('');
      await keys.reload();
    } catch (err) {
      setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const revoke = (id: string, prefix: string) =>
    action.run(async () => {
      await request(REVOKE_API_KEY, { id });
      await keys.reload();
      return `Revoked the key ${prefix}…`;
    });

  return (
    <section>
      <PageTitle>API keys</PageTitle>
      <p class="muted">
        ADMIN keys use the GraphQL API and this console; INGEST keys only send events (Segment, HTTP). A key's secret is
        shown once, when it is created.
      </p>
      <form class="filters panel" onSubmit={create}>
        <label>
          Name (optional)
          <input
            name="keyName"
            value={name}
            aria-describedby={formError ? 'key-form-error' : undefined}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <label>
          Scope
          <select name="scope" value={scope} onChange={(e) => setScope(e.currentTarget.value as Scope)}>
            <option value="INGEST">INGEST: send events</option>
            <option value="ADMIN">ADMIN: the API and the console</option>
          </select>
        </label>
        <button type="submit" class="primary" disabled={busy}>
          Create key
        </button>
        {formError && (
          <p id="key-form-error" class="field-error" role="alert">
            {formError}
          </p>
        )}
      </form>
      {secret && <SecretDialog secret={secret} onClose={() => setSecret(null)} />}
      <ErrorBox message={keys.error} />
      <ActionNotes action={action} />
      <DataTable
        label="API keys"
        columns={['Key', 'Name', 'Scope', 'Created', 'Last used', 'Revoked', 'Actions']}
        rows={keys.data?.apiKeys}
        loading={keys.loading}
        empty="No API key yet."
      >
        {(k) => (
          <tr key={k.id}>
            <td class="mono">{k.prefix}…</td>
            <td>{k.name ?? '—'}</td>
            <td>{k.scope}</td>
            <td>{formatTime(k.createdAt)}</td>
            <td>{k.lastUsedAt ? formatTime(k.lastUsedAt) : 'never'}</td>
            <td>{k.revokedAt ? formatTime(k.revokedAt) : 'no'}</td>
            <td>
              {!k.revokedAt && (
                <ConfirmButton
                  verb="Revoke"
                  what={k.prefix}
                  busy={action.busy}
                  onConfirm={() => void revoke(k.id, k.prefix)}
                />
              )}
            </td>
          </tr>
        )}
      </DataTable>
    </section>
  );
}
