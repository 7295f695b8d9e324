/**
 * `#/providers`: the workspace's provider configurations, and a form generated from the chosen plugin's
 * `settingsSchema`. Secret settings are only ever shown as the mask the server returns (`********`); the mask is sent
 * back unchanged to keep a stored secret (README, "From event to notification" → 1).
 */
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { errorMessage, request } from './api';
import { graphql, type ResultOf } from './graphql';
import { useQuery } from './hooks';
import { ActionNotes, ConfirmButton, DataTable, useAction } from './list';
import { CopyButton, ErrorBox, PageTitle } from './ui';

export const PROVIDERS_PAGE = graphql(`
  query ConsoleProviders {
    plugins {
      slug
      title
      channels
      settingsSchema
    }
    providers {
      id
      channel
      provider
      priority
      enabled
      config
      callbackUrl
      createdAt
    }
  }
`);

export const CONFIGURE_PROVIDER = graphql(`
  mutation ConsoleConfigureProvider($input: ProviderConfigInput!) {
    configureProvider(input: $input) {
      id
      callbackUrl
    }
  }
`);

export const DELETE_PROVIDER = graphql(`
  mutation ConsoleDeleteProvider($id: ID!) {
    deleteProvider(id: $id)
  }
`);

type Page = ResultOf<typeof PROVIDERS_PAGE>;
type Plugin = Page['plugins'][number];
type Config = Page['providers'][number];
type Channel = Config['channel'];

export const MASK = '********';

interface Property {
  type?: string;
  description?: string;
  secret?: boolean;
  enum?: unknown[];
  default?: unknown;
}

function propertiesOf(plugin: Plugin | undefined): [string, Property][] {
  const props = (plugin?.settingsSchema.properties ?? {}) as Record<string, Property>;
  return Object.entries(props);
}
const requiredOf = (plugin: Plugin | undefined) => new Set((plugin?.settingsSchema.required as string[]) ?? []);

/** The form's text for a stored value (the mask stays the mask). */
function textOf(prop: Property, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (prop.type === 'object' || prop.type === 'array')
    return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return String(value);
}

/** The `config` to send, or the field whose text is not valid. */
function configOf(
  plugin: Plugin,
  values: Record<string, string>,
): { config: Record<string, unknown> } | { field: string; message: string } {
  const config: Record<string, unknown> = {};
  for (const [name, prop] of propertiesOf(plugin)) {
    const value = values[name];
    const text = typeof value === 'string' ? value.trim() : '';
    if (!text) continue; // unset: the plugin's default
    if (text === MASK) config[name] = MASK;
    else if (prop.type === 'boolean') config[name] = text === 'true';
    else if (prop.type === 'number' || prop.type === 'integer') {
      const n = Number(text);
      if (!Number.isFinite(n) || (prop.type === 'integer' && !Number.isInteger(n)))
        return { field: name, message: `${name} must be ${prop.type === 'integer' ? 'a whole number' : 'a number'}.` };
      config[name] = n;
    } else if (prop.type === 'object' || prop.type === 'array') {
      try {
        config[name] = JSON.parse(text);
      } catch (err) {
        return { field: name, message: `${name} is not valid JSON: ${errorMessage(err)}` };
      }
    } else config[name] = typeof value === 'string' ? value : String(value);
  }
  return { config };
}

function ProviderForm(props: {
  plugins: Plugin[];
  config: Config | null;
  onDone: (status: string | null) => void | Promise<void>;
}) {
  const c = props.config;
  const [slug, setSlug] = useState(c?.provider ?? props.plugins[0]?.slug ?? '');
  const plugin = props.plugins.find((p) => p.slug === slug);
  const [channel, setChannel] = useState<Channel | ''>(c?.channel ?? plugin?.channels[0] ?? '');
  const [priority, setPriority] = useState(String(c?.priority ?? 0));
  const [enabled, setEnabled] = useState(c?.enabled ?? true);
  const initial = (p: Plugin | undefined, stored: Record<string, unknown>) =>
    Object.fromEntries(propertiesOf(p).map(([name, prop]) => [name, textOf(prop, stored[name])]));
  const [values, setValues] = useState<Record<string, string>>(() => initial(plugin, c?.config ?? {}));
  const [error, setError] = useState<{ field: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<{ callbackUrl: string | null } | null>(null);
  const title = useRef<HTMLHeadingElement>(null);
  useLayoutEffect(() => title.current?.focus(), []);

  const choose = (next: string) => {
    setSlug(next);
    const p = props.plugins.find((x) => x.slug === next);
    setChannel(p?.channels[0] ?? '');
    // what was typed in a field of the same name stays
    setValues((old) => ({
      ...initial(p, {}),
      ...Object.fromEntries(
        Object.entries(old).filter(([k]) => k in ((p?.settingsSchema.properties ?? {}) as Record<string, unknown>)),
      ),
    }));
  };

  const save = async (e: Event) => {
    e.preventDefault();
    if (!plugin || !channel) return;
    setError(null);
    const built = configOf(plugin, values);
    if ('field' in built) return setError(built);
    const prio = Number(priority);
    if (!Number.isInteger(prio))
      return setError({ field: 'priority', message: 'The priority must be a whole number.' });
    setBusy(true);
    try {
      const res = await request(CONFIGURE_PROVIDER, {
        input: { ...(c ? { id: c.id } : {}), provider: slug, channel, priority: prio, enabled, config: built.config },
      });
      setSaved({ callbackUrl: res.configureProvider.callbackUrl ?? null });
      await props.onDone(null);
    } catch (err) {
      const message = errorMessage(err);
      const field = propertiesOf(plugin).find(([name]) => new RegExp(`\\b${name}\\b`).test(message))?.[0];
      setError({ field: field ?? 'form', message });
    } finally {
      setBusy(false);
    }
  };

  const at = (field: string) =>
    error?.field === field ? (
      <p id={`provider-${field}-error`} class="field-error" role="alert">
        {error.message}
      </p>
    ) : null;
  const describedBy = (field: string, help?: string) =>
    [help, error?.field === field ? `provider-${field}-error` : undefined].filter(Boolean).join(' ') || undefined;
  const required = requiredOf(plugin);

  return (
    <section class="panel" aria-labelledby="provider-form-title">
      <h2 id="provider-form-title" ref={title} tabIndex={-1}>
        {c ? `Edit ${c.provider} for ${c.channel}` : 'New provider configuration'}
      </h2>
      <form class="rule-form" onSubmit={save} noValidate>
        <label>
          Plugin
          <select name="provider" value={slug} disabled={Boolean(c)} onChange={(e) => choose(e.currentTarget.value)}>
            {props.plugins.map((p) => (
              <option value={p.slug}>
                {p.title} ({p.slug})
              </option>
            ))}
          </select>
        </label>
        <label>
          Channel
          <select name="channel" value={channel} onChange={(e) => setChannel(e.currentTarget.value as Channel)}>
            {(plugin?.channels ?? []).map((ch) => (
              <option value={ch}>{ch}</option>
            ))}
          </select>
        </label>
        <label>
          Priority (lower is tried first)
          <input
            name="priority"
            type="number"
            value={priority}
            aria-describedby={describedBy('priority')}
            onInput={(e) => setPriority(e.currentTarget.value)}
          />
        </label>
        {at('priority')}
        <label class="inline">
          <input
            type="checkbox"
            name="enabled"
            checked={enabled}
            onChange={(e) => setEnabled(e.currentTarget.checked)}
          />
          Enabled
        </label>
        <fieldset>
          <legend>Settings of {plugin?.title ?? slug}</legend>
          {propertiesOf(plugin).map(([name, prop]) => {
            const help = prop.description ? `setting-${name}-help` : undefined;
            const label = `${name}${required.has(name) ? ' (required)' : ''}${prop.secret ? ' (secret)' : ''}`;
            const set = (v: string) => setValues((old) => ({ ...old, [name]: v }));
            const value = values[name];
            const common = {
              name: `setting-${name}`,
              'aria-describedby': describedBy(name, help),
              'aria-invalid': error?.field === name ? true : undefined,
            };
            let input;
            if (prop.type === 'boolean')
              // a select, not a checkbox: "not set" (the plugin's default) differs from "no"
              input = (
                <label>
                  {label}
                  <select {...common} value={String(value ?? '')} onChange={(e) => set(e.currentTarget.value)}>
                    <option value="">
                      {prop.default !== undefined ? `default (${prop.default ? 'yes' : 'no'})` : 'not set'}
                    </option>
                    <option value="true">yes</option>
                    <option value="false">no</option>
                  </select>
                </label>
              );
            else if (prop.enum)
              input = (
                <label>
                  {label}
                  <select {...common} value={String(value ?? '')} onChange={(e) => set(e.currentTarget.value)}>
                    <option value="">{prop.default !== undefined ? `default (${String(prop.default)})` : '—'}</option>
                    {prop.enum.map((v) => (
                      <option value={String(v)}>{String(v)}</option>
                    ))}
                  </select>
                </label>
              );
            else if (prop.type === 'object' || prop.type === 'array')
              input = (
                <label>
                  {label} (JSON)
                  <textarea
                    {...common}
                    rows={3}
                    class="mono"
                    spellcheck={false}
                    value={String(value ?? '')}
                    onInput={(e) => set(e.currentTarget.value)}
                  />
                </label>
              );
            else
              input = (
                <label>
                  {label}
                  <input
                    {...common}
                    type={
                      (prop.secret
                        ? 'password'
                        : prop.type === 'number' || prop.type === 'integer'
                          ? 'number'
                          : 'text') as 'text'
                    }
                    autoComplete={prop.secret ? 'new-password' : 'off'}
                    value={String(value ?? '')}
                    placeholder={prop.default !== undefined ? `default ${String(prop.default)}` : undefined}
                    onInput={(e) => set(e.currentTarget.value)}
                  />
                </label>
              );
            return (
              <div class="setting" key={name}>
                {input}
                {prop.description && (
                  <p id={help} class="muted">
                    {prop.description}
                    {prop.secret && c ? ` Leave ${MASK} to keep the stored secret.` : ''}
                  </p>
                )}
                {at(name)}
              </div>
            );
          })}
        </fieldset>
        {at('form')}
        <div class="row-actions">
          <button type="submit" class="primary" disabled={busy || !plugin}>
            {c ? 'Save provider' : 'Add provider'}
          </button>
          <button type="button" onClick={() => props.onDone('closed')}>
            {saved ? 'Close' : 'Cancel'}
          </button>
        </div>
        {saved && (
          <div role="status" class="ok">
            Saved.{' '}
            {saved.callbackUrl
              ? 'Paste its callback URL into the provider’s console (shown in the list below).'
              : 'This plugin takes no callbacks, or PIGEON_PUBLIC_URL is not set.'}
          </div>
        )}
      </form>
    </section>
  );
}

export function ProvidersPage() {
  const page = useQuery(PROVIDERS_PAGE, {}, 'providers');
  const [editing, setEditing] = useState<Config | 'new' | null>(null);
  const action = useAction();
  const remove = (id: string) =>
    action.run(async () => {
      await request(DELETE_PROVIDER, { id });
      await page.reload();
    });

  return (
    <section>
      <PageTitle>Providers</PageTitle>
      <p class="muted">
        Each channel is sent through its enabled configurations by ascending priority. Secrets are encrypted at rest and
        only ever shown as {MASK}.
      </p>
      <ErrorBox message={page.error} />
      <ActionNotes action={action} />
      {page.data && editing === null && (
        <p>
          <button type="button" class="primary" onClick={() => setEditing('new')}>
            New provider
          </button>
        </p>
      )}
      {page.data && editing !== null && (
        <ProviderForm
          key={editing === 'new' ? 'new' : editing.id}
          plugins={page.data.plugins}
          config={editing === 'new' ? null : editing}
          onDone={async (closed) => {
            if (closed) setEditing(null);
            await page.reload();
          }}
        />
      )}
      <DataTable
        label="Provider configurations"
        columns={['Channel', 'Plugin', 'Priority', 'Enabled', 'Settings', 'Callback URL', 'Actions']}
        rows={page.data?.providers}
        loading={page.loading}
        empty="No provider configured yet."
      >
        {(p) => (
          <tr key={p.id}>
            <td>{p.channel}</td>
            <td>{p.provider}</td>
            <td>{p.priority}</td>
            <td>{p.enabled ? 'yes' : 'no'}</td>
            <td class="mono">
              {Object.entries(p.config)
                .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
                .join(', ') || '—'}
            </td>
            <td>
              {p.callbackUrl ? (
                <span class="row-actions">
                  <code class="mono callback-url">{p.callbackUrl}</code>
                  <CopyButton text={p.callbackUrl} label={`Copy the callback URL of ${p.provider} ${p.channel}`} />
                </span>
              ) : (
                <span class="muted">none</span>
              )}
            </td>
            <td>
              <span class="row-actions">
                <button type="button" onClick={() => setEditing(p)} aria-label={`Edit ${p.provider} ${p.channel}`}>
                  Edit
                </button>
                <ConfirmButton
                  verb="Delete"
                  what={`${p.provider} ${p.channel}`}
                  busy={action.busy}
                  onConfirm={() => void remove(p.id)}
                />
              </span>
            </td>
          </tr>
        )}
      </DataTable>
    </section>
  );
}
