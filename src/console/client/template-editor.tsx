import { Fragment, type ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, errorMessage, request } from './api';
import { MapPanel } from './events';
import type { ResultOf } from './graphql';
import { useQuery } from './hooks';
import { useUnsavedChanges } from './unsaved';
import {
  CREATE_TEMPLATE,
  LATEST_EVENT,
  PREVIEW_TEMPLATE,
  PUBLISH_TEMPLATE,
  TEMPLATE_EDITOR,
  TEMPLATE_VERSIONS,
  UPDATE_TEMPLATE,
} from './template-queries';
import { Badge, ErrorBox, formatTime, PageTitle, VersionPicker, VersionView } from './ui';

type Loaded = ResultOf<typeof TEMPLATE_EDITOR>;
type Saved = ResultOf<typeof CREATE_TEMPLATE>['createTemplate'];
type Channel = NonNullable<Loaded['template']>['channels'][number];

/** Each channel's content fields, as the server's channel table has them (`TemplateInput.content`). */
const FIELDS: Record<Channel, { name: string; label: string; multiline?: boolean; optional?: boolean }[]> = {
  EMAIL: [
    { name: 'subject', label: 'Subject' },
    { name: 'text', label: 'Text body', multiline: true, optional: true },
    { name: 'html', label: 'HTML body', multiline: true, optional: true },
  ],
  SMS: [{ name: 'body', label: 'Body', multiline: true }],
  PUSH: [
    { name: 'title', label: 'Title' },
    { name: 'body', label: 'Body', multiline: true },
  ],
  SLACK: [{ name: 'text', label: 'Text', multiline: true }],
  MSTEAMS: [{ name: 'text', label: 'Text', multiline: true }],
  WHATSAPP: [{ name: 'body', label: 'Body', multiline: true }],
  WEBHOOK: [{ name: 'body', label: 'Body (JSON, with Handlebars in it)', multiline: true }],
};
const CHANNELS = Object.keys(FIELDS) as Channel[];
const lower = (c: Channel) => c.toLowerCase();

type Content = Record<string, Record<string, string>>;

/** The draft as the editor holds it: every field a string, so nothing typed is lost until it is saved. */
function contentFromDraft(draft: Record<string, unknown> | null | undefined): Content {
  const out: Content = {};
  for (const [channel, value] of Object.entries(draft ?? {})) {
    if (!value || typeof value !== 'object') continue;
    out[channel] = {};
    for (const [field, text] of Object.entries(value as Record<string, unknown>)) {
      out[channel][field] = typeof text === 'string' ? text : JSON.stringify(text, null, 2);
    }
  }
  return out;
}

/** What the preview puts in a required field not written yet (so the others render); the preview hides it. */
const PLACEHOLDER = '\u2026';

/**
 * The content to send for `channels`: empty optional fields left out; a webhook body that reads as JSON sent as JSON.
 * For the preview, a channel with nothing written is left out and an empty required field is a {@link PLACEHOLDER}.
 */
function contentToSend(channels: Channel[], content: Content, forPreview = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const channel of channels) {
    const fields = content[lower(channel)] ?? {};
    if (forPreview && !Object.values(fields).some((v) => v.trim() !== '')) continue;
    const entry: Record<string, unknown> = {};
    for (const { name, optional } of FIELDS[channel]) {
      let text = fields[name] ?? '';
      if (text.trim() === '' && optional) continue;
      if (text.trim() === '' && forPreview) text = PLACEHOLDER;
      entry[name] = text;
      if (channel === 'WEBHOOK' && /^\s*[[{]/.test(text)) {
        try {
          entry[name] = JSON.parse(text);
        } catch {
          // JSON text with templates in it: sent as the string it is
        }
      }
    }
    // email needs a text or an HTML body: the preview renders the subject before either is written
    if (forPreview && channel === 'EMAIL' && entry.text === undefined && entry.html === undefined) {
      entry.text = PLACEHOLDER;
    }
    out[lower(channel)] = entry;
  }
  return out;
}

/** The form's values as what would be saved, to compare with what was last loaded or saved. */
function signatureOf(key: string, name: string, channels: Channel[], topic: string, content: Content): string {
  return JSON.stringify([key.trim(), name.trim(), channels, topic, contentToSend(channels, content)]);
}

/** `Segment-TrackEvent:Order Shipped` → `order-shipped`, a valid template key. */
export function keyFromEventName(eventName: string): string {
  const bare = eventName.replace(/^Segment-TrackEvent:/, '');
  return (
    bare
      .toLowerCase()
      .replace(/[^a-z0-9_.:-]+/g, '-')
      .replace(/^[^a-z0-9]+|-+$/g, '')
      .slice(0, 100) || 'template'
  );
}

/**
 * Which field a server error concerns: `extensions.channel` + `extensions.field` for content (the Handlebars errors
 * carry `line` and `column` too, and the message says them), `extensions.field` for the topic, else the field the
 * message starts with.
 */
function errorField(err: unknown): string | null {
  if (!(err instanceof ApiError)) return null;
  const { channel, field } = err.details as { channel?: string; field?: string };
  if (typeof channel === 'string') {
    const base = channel.toLowerCase();
    const top = typeof field === 'string' ? field.split(/[.[]/)[0] : null;
    return top ? `${base}.${top}` : base;
  }
  if (typeof field === 'string' && ['key', 'name', 'channels', 'topic'].includes(field)) return field;
  const m = /^(?:A template with )?(key|name|channels|topic)\b/.exec(err.message);
  return m ? m[1] : null;
}

interface FieldError {
  field: string | null;
  message: string;
}

/** A form control with its label, the server's message about it (if any) right under it, and a hint. */
function Field(props: {
  id: string;
  label: string;
  error?: string | null;
  hint?: string;
  children: (a11y: { id: string; 'aria-invalid'?: 'true'; 'aria-describedby'?: string }) => ComponentChildren;
}) {
  const describedBy = [props.error ? `${props.id}-error` : null, props.hint ? `${props.id}-hint` : null]
    .filter(Boolean)
    .join(' ');
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children({
        id: props.id,
        ...(props.error ? { 'aria-invalid': 'true' as const } : {}),
        ...(describedBy ? { 'aria-describedby': describedBy } : {}),
      })}
      {props.hint && (
        <span id={`${props.id}-hint`} class="muted hint">
          {props.hint}
        </span>
      )}
      {props.error && (
        <span id={`${props.id}-error`} class="field-error">
          {props.error}
        </span>
      )}
    </div>
  );
}

/** The template editor: `id` null for a new template (prefilled from `eventName` when it comes from a Map panel). */
export function TemplateEditorPage({ id, eventName }: { id: string | null; eventName?: string }) {
  const loaded = useQuery(TEMPLATE_EDITOR, { id, withTemplate: id !== null }, id ?? 'new');
  if (loaded.error && !loaded.data) {
    return (
      <section>
        <p>
          <a href="#/templates">← Templates</a>
        </p>
        <PageTitle>Template</PageTitle>
        <ErrorBox message={loaded.error} />
      </section>
    );
  }
  if (!loaded.data) return <p class="muted">Loading…</p>;
  if (id !== null && !loaded.data.template) {
    return (
      <section>
        <p>
          <a href="#/templates">← Templates</a>
        </p>
        <PageTitle>Template not found</PageTitle>
        <p>No template has this id in this workspace.</p>
      </section>
    );
  }
  return <Editor data={loaded.data} eventName={eventName} />;
}

function Editor({ data, eventName }: { data: Loaded; eventName?: string }) {
  const t = data.template;
  const [templateId, setTemplateId] = useState<string | null>(t?.id ?? null);
  const [key, setKey] = useState(t?.key ?? (eventName ? keyFromEventName(eventName) : ''));
  const [name, setName] = useState(t?.name ?? (eventName ? eventName.replace(/^Segment-TrackEvent:/, '') : ''));
  const [channels, setChannels] = useState<Channel[]>(t?.channels ?? ['EMAIL']);
  const [topic, setTopic] = useState(t?.topic ?? '');
  const [content, setContent] = useState<Content>(() => contentFromDraft(t?.draft));
  const loadedChannels = useRef<string[]>(Object.keys(t?.draft ?? {}));
  const [saved, setSaved] = useState<
    Pick<Saved, 'status' | 'publishedVersion' | 'hasUnpublishedChanges' | 'published'>
  >({
    status: t?.status ?? 'DRAFT',
    publishedVersion: t?.publishedVersion ?? null,
    hasUnpublishedChanges: t?.hasUnpublishedChanges ?? true,
    published: t?.published ?? null,
  });
  // what was last loaded or saved, to tell whether the form holds unsaved edits
  const formSignature = () => signatureOf(key, name, channels, topic, content);
  const [savedSignature, setSavedSignature] = useState(formSignature);
  const changed = formSignature() !== savedSignature;
  const dirty = templateId === null || changed;
  useUnsavedChanges(changed);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FieldError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [justPublished, setJustPublished] = useState(false);
  const [previewError, setPreviewError] = useState<FieldError | null>(null);
  // a refused save takes the focus to the field the server named (its message is next to it)
  useEffect(() => {
    if (!error?.field) return;
    const id = `tpl-${error.field.replace('.', '-')}`;
    const target = document.getElementById(id) ?? document.getElementById(`${id}-subject`);
    target?.focus();
  }, [error]);

  // the sample the preview renders over
  const mappedName =
    eventName ??
    data.eventNames
      .filter((n) => t && n.mapping?.template?.id === t.id)
      .sort((a, b) => b.lastSeenAt.localeCompare(a.lastSeenAt))[0]?.name;
  const [userId, setUserId] = useState('');
  const [sample, setSample] = useState('{}');
  const [sampleFrom, setSampleFrom] = useState<string | null>(null);
  const touchedSample = useRef(false);
  useEffect(() => {
    if (!mappedName) return;
    let live = true;
    request(LATEST_EVENT, { name: mappedName })
      .then((r) => {
        const node = r.events.edges[0]?.node;
        if (!live || !node || touchedSample.current) return;
        const properties = (node.payload as { properties?: unknown }).properties;
        setSample(JSON.stringify(properties && typeof properties === 'object' ? properties : {}, null, 2));
        setUserId(node.userId ?? node.anonymousId ?? '');
        setSampleFrom(mappedName);
      })
      .catch(() => undefined); // no sample: the preview renders over what the user types
    return () => {
      live = false;
    };
  }, [mappedName]);

  const edit = () => {
    setNotice(null);
    setJustPublished(false);
  };
  const setField = (channel: Channel, field: string, value: string) => {
    setContent((c) => ({ ...c, [lower(channel)]: { ...c[lower(channel)], [field]: value } }));
    edit();
  };
  const toggleChannel = (channel: Channel, on: boolean) => {
    setChannels((cs) => (on ? [...cs.filter((c) => c !== channel), channel] : cs.filter((c) => c !== channel)));
    edit();
  };
  const move = (channel: Channel, by: -1 | 1) => {
    setChannels((cs) => {
      const i = cs.indexOf(channel);
      const j = i + by;
      if (i < 0 || j < 0 || j >= cs.length) return cs;
      const next = [...cs];
      [next[i], next[j]] = [next[j], next[i]];
      return next;
    });
    edit();
  };

  /** Saves the draft (creating the template the first time); false when the server refused it. */
  const save = async (): Promise<string | null> => {
    setError(null);
    const body = contentToSend(channels, content);
    const signature = formSignature();
    try {
      let result: Saved;
      if (templateId === null) {
        result = (
          await request(CREATE_TEMPLATE, {
            input: { key: key.trim(), name: name.trim(), channels, content: body, topic: topic || null },
          })
        ).createTemplate;
        history.replaceState(
          null,
          '',
          `#/templates/${encodeURIComponent(result.id)}${eventName ? `?event=${encodeURIComponent(eventName)}` : ''}`,
        );
        setTemplateId(result.id);
      } else {
        const removed = Object.fromEntries(
          loadedChannels.current.filter((k) => !(k in body)).map((k) => [k, null] as const),
        );
        result = (
          await request(UPDATE_TEMPLATE, {
            id: templateId,
            input: { key: key.trim(), name: name.trim(), channels, content: { ...body, ...removed }, topic },
          })
        ).updateTemplate;
      }
      loadedChannels.current = Object.keys(body);
      setSaved(result);
      setSavedSignature(signature);
      return result.id;
    } catch (err) {
      setError({ field: errorField(err), message: errorMessage(err) });
      return null;
    }
  };

  const onSave = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setNotice(null);
    if (await save()) setNotice('Draft saved.');
    setBusy(false);
  };

  const onPublish = async () => {
    setBusy(true);
    setNotice(null);
    try {
      const id = dirty || templateId === null ? await save() : templateId;
      if (!id) return;
      const result = (await request(PUBLISH_TEMPLATE, { id })).publishTemplate;
      setSaved(result);
      setNotice(`Published version ${result.publishedVersion}.`);
      setJustPublished(true);
    } catch (err) {
      setError({ field: errorField(err), message: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  /** Copies a published version's channels, content and topic into the draft and saves it (it does not publish). */
  const restore = async (v: TemplateVersion) => {
    if (templateId === null) return;
    if (changed && !window.confirm(`Restoring version ${v.version} replaces your unsaved changes. Restore it?`)) return;
    const nextChannels = v.channels;
    const nextContent = contentFromDraft(v.content);
    const nextTopic = v.topic ?? '';
    setChannels(nextChannels);
    setContent(nextContent);
    setTopic(nextTopic);
    setBusy(true);
    setNotice(null);
    setError(null);
    setJustPublished(false);
    try {
      const body = v.content as Record<string, unknown>;
      const removed = Object.fromEntries(
        loadedChannels.current.filter((k) => !(k in body)).map((k) => [k, null] as const),
      );
      const result = (
        await request(UPDATE_TEMPLATE, {
          id: templateId,
          input: { channels: nextChannels, content: { ...body, ...removed }, topic: nextTopic },
        })
      ).updateTemplate;
      loadedChannels.current = Object.keys(body);
      setSaved(result);
      setSavedSignature(signatureOf(key, name, nextChannels, nextTopic, nextContent));
      setNotice(`Version ${v.version} restored into the draft (not published).`);
    } catch (err) {
      setError({ field: errorField(err), message: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  const errorFor = (field: string) =>
    error?.field === field ? error.message : previewError?.field === field ? previewError.message : null;
  const unplaced = error && (!error.field || !isShown(error.field, channels)) ? error.message : null;

  return (
    <section>
      <p>
        <a href="#/templates">← Templates</a>
      </p>
      <PageTitle>{templateId === null ? 'New template' : `Template ${t?.name ?? name}`}</PageTitle>
      {eventName && templateId === null && (
        <p class="notice">
          For <span class="mono">{eventName}</span>: write it, publish it, then map the event to it.
        </p>
      )}
      <div class="editor">
        <form class="editor-form" onSubmit={onSave} aria-label="Template">
          <Field id="tpl-key" label="Key" error={errorFor('key')} hint="Letters, digits, _ . : or -; scripts use it">
            {(a) => (
              <input
                {...a}
                name="key"
                required
                spellcheck={false}
                autoComplete="off"
                value={key}
                onInput={(e) => {
                  setKey(e.currentTarget.value);
                  edit();
                }}
              />
            )}
          </Field>
          <Field id="tpl-name" label="Name" error={errorFor('name')}>
            {(a) => (
              <input
                {...a}
                name="name"
                required
                value={name}
                onInput={(e) => {
                  setName(e.currentTarget.value);
                  edit();
                }}
              />
            )}
          </Field>
          <fieldset
            class="channels"
            aria-invalid={errorFor('channels') ? 'true' : undefined}
            aria-describedby={errorFor('channels') ? 'tpl-channels-error' : undefined}
          >
            <legend>Channels, in order of preference</legend>
            {CHANNELS.map((c) => (
              <label class="inline" key={c}>
                <input
                  type="checkbox"
                  name="channels"
                  value={c}
                  checked={channels.includes(c)}
                  onChange={(e) => toggleChannel(c, e.currentTarget.checked)}
                />
                {c}
              </label>
            ))}
            {channels.length > 1 && (
              <ol class="channel-order" aria-label="Channel order">
                {channels.map((c, i) => (
                  <li key={c}>
                    {c}{' '}
                    <button type="button" disabled={i === 0} onClick={() => move(c, -1)} aria-label={`Move ${c} up`}>
                      ↑
                    </button>
                    <button
                      type="button"
                      disabled={i === channels.length - 1}
                      onClick={() => move(c, 1)}
                      aria-label={`Move ${c} down`}
                    >
                      ↓
                    </button>
                  </li>
                ))}
              </ol>
            )}
            {errorFor('channels') && (
              <span id="tpl-channels-error" class="field-error">
                {errorFor('channels')}
              </span>
            )}
          </fieldset>
          <Field id="tpl-topic" label="Topic" error={errorFor('topic')} hint="Its messages are judged by this topic">
            {(a) => (
              <select
                {...a}
                name="topic"
                value={topic}
                onChange={(e) => {
                  setTopic(e.currentTarget.value);
                  edit();
                }}
              >
                <option value="">None</option>
                {data.topics.map((tp) => (
                  <option key={tp.key} value={tp.key}>
                    {tp.name} ({tp.key})
                  </option>
                ))}
              </select>
            )}
          </Field>

          {channels.map((c) => (
            <fieldset class="channel-content" key={c}>
              <legend>{c} content</legend>
              {errorFor(lower(c)) && <span class="field-error">{errorFor(lower(c))}</span>}
              {FIELDS[c].map((f) => {
                const id = `tpl-${lower(c)}-${f.name}`;
                const value = content[lower(c)]?.[f.name] ?? '';
                const onInput = (e: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) =>
                  setField(c, f.name, e.currentTarget.value);
                return (
                  <Field
                    key={id}
                    id={id}
                    label={`${c === 'EMAIL' ? 'Email' : c} ${f.label.toLowerCase()}${f.optional ? ' (optional)' : ''}`}
                    error={errorFor(`${lower(c)}.${f.name}`)}
                  >
                    {(a) =>
                      f.multiline ? (
                        <textarea {...a} name={`${lower(c)}.${f.name}`} rows={4} value={value} onInput={onInput} />
                      ) : (
                        <input {...a} name={`${lower(c)}.${f.name}`} value={value} onInput={onInput} />
                      )
                    }
                  </Field>
                );
              })}
            </fieldset>
          ))}
          <p class="muted">
            Handlebars over <span class="mono">data</span> (the event's properties), <span class="mono">profile</span>{' '}
            (the user's traits) and <span class="mono">event</span>, e.g.{' '}
            <span class="mono">{'{{profile.firstName}}'}</span>.
          </p>
          <ErrorBox message={unplaced} />
          {error && !unplaced && (
            <p class="error" role="alert">
              Not saved: {error.message}
            </p>
          )}
          <div class="actions">
            <button type="submit" disabled={busy}>
              {templateId === null ? 'Create draft' : 'Save draft'}
            </button>
            <button type="button" class="primary" disabled={busy} onClick={onPublish}>
              Publish
            </button>
            <span role="status" class="ok">
              {notice}
            </span>
          </div>
        </form>
        <Preview
          channels={channels}
          content={content}
          userId={userId}
          sample={sample}
          sampleFrom={sampleFrom}
          onError={setPreviewError}
          onUserId={(v) => {
            touchedSample.current = true;
            setUserId(v);
          }}
          onSample={(v) => {
            touchedSample.current = true;
            setSample(v);
          }}
        />
      </div>
      <Versions
        templateId={templateId}
        saved={saved}
        dirty={dirty}
        busy={busy}
        userId={userId}
        sample={sample}
        onRestore={restore}
      />
      {justPublished && eventName && templateId && (
        <MapPanel
          key={templateId}
          eventName={eventName}
          focus
          initialChoice={`template:${templateId}`}
          onMapped={() => undefined}
          onDone={() => undefined}
        />
      )}
    </section>
  );
}

/** True when an error's field is one the form shows (so the message goes next to it rather than above the buttons). */
function isShown(field: string, channels: Channel[]): boolean {
  if (['key', 'name', 'channels', 'topic'].includes(field)) return true;
  const [channel, name] = field.split('.');
  const c = channels.find((x) => lower(x) === channel);
  return Boolean(c && (!name || FIELDS[c].some((f) => f.name === name)));
}

type TemplateVersion = NonNullable<ResultOf<typeof TEMPLATE_VERSIONS>['template']>['versions'][number];

/**
 * Which version messages use and whether the draft differs from it; the published versions, newest first: one opens
 * read-only with its preview (over the editor's profile and sample data) and can be restored into the draft.
 */
function Versions(props: {
  templateId: string | null;
  saved: Pick<Saved, 'publishedVersion' | 'hasUnpublishedChanges'>;
  dirty: boolean;
  busy: boolean;
  userId: string;
  sample: string;
  onRestore: (v: TemplateVersion) => Promise<void>;
}) {
  const { saved, templateId, ...view } = props;
  return (
    <section class="versions panel" aria-labelledby="versions-title">
      <h2 id="versions-title">Versions</h2>
      {saved.publishedVersion == null ? (
        <p>
          <Badge status="DRAFT" /> Not published yet: messages use only published versions.
        </p>
      ) : (
        <p>
          <Badge status="PUBLISHED" /> Version {saved.publishedVersion} is what messages use.{' '}
          {props.dirty
            ? 'You have unsaved changes.'
            : saved.hasUnpublishedChanges
              ? 'The saved draft differs from it: publish to make it version ' + (saved.publishedVersion + 1) + '.'
              : 'The draft is the same as it.'}
        </p>
      )}
      {templateId !== null && saved.publishedVersion != null && (
        <VersionList templateId={templateId} current={saved.publishedVersion} {...view} />
      )}
    </section>
  );
}

/** The published versions (read again when a new one is published); one opens below the list. */
function VersionList(props: {
  templateId: string;
  current: number;
  busy: boolean;
  userId: string;
  sample: string;
  onRestore: (v: TemplateVersion) => Promise<void>;
}) {
  const { templateId, current, ...view } = props;
  const [selected, setSelected] = useState<number | null>(null);
  const loaded = useQuery(TEMPLATE_VERSIONS, { id: templateId }, `${templateId}:${current}`);
  const versions = loaded.data?.template?.versions ?? [];
  const shown = versions.find((v) => v.version === selected) ?? null;
  return (
    <>
      <ErrorBox message={loaded.error} />
      <VersionPicker versions={versions} current={current} selected={selected} onSelect={setSelected} />
      {shown && <TemplateVersionView key={shown.version} version={shown} {...view} />}
    </>
  );
}

/** One published version, read-only: its channels, topic and content, its preview, and **Restore into draft**. */
function TemplateVersionView(props: {
  version: TemplateVersion;
  busy: boolean;
  userId: string;
  sample: string;
  onRestore: (v: TemplateVersion) => Promise<void>;
}) {
  const v = props.version;
  const content = v.content as Record<string, Record<string, unknown> | undefined>;
  const [result, setResult] = useState<PreviewResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    let data: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(props.sample || '{}');
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) data = parsed as Record<string, unknown>;
    } catch {
      // the editor's sample is being typed: render over no data
    }
    request(PREVIEW_TEMPLATE, { content: v.content, data, userId: props.userId.trim() || null })
      .then((r) => {
        if (!live) return;
        setResult(r.previewTemplate);
        setError(null);
      })
      .catch((err) => {
        if (live) setError(errorMessage(err));
      });
    return () => {
      live = false;
    };
  }, [v, props.userId, props.sample]);

  return (
    <VersionView
      version={v.version}
      busy={props.busy}
      hint="Copies this version into the draft and saves it; publish to send it again."
      onRestore={() => void props.onRestore(v)}
    >
      <p class="muted">
        Published {formatTime(v.publishedAt)}. Channels: {v.channels.join(', ')}. Topic: {v.topic ?? 'none'}.
      </p>
      <div class="editor">
        <div aria-label={`Content of version ${v.version}`} role="group">
          {v.channels.map((c) => (
            <article key={c} class="rendered" aria-label={`${c} content of version ${v.version}`}>
              <h4>{c}</h4>
              <dl>
                {FIELDS[c]
                  .filter((f) => content[lower(c)]?.[f.name] !== undefined)
                  .map((f) => {
                    const text = content[lower(c)]?.[f.name];
                    return (
                      <Fragment key={f.name}>
                        <dt>{f.label}</dt>
                        <dd class="pre mono">{typeof text === 'string' ? text : JSON.stringify(text, null, 2)}</dd>
                      </Fragment>
                    );
                  })}
              </dl>
            </article>
          ))}
        </div>
        <div class="preview" aria-label={`Preview of version ${v.version}`} role="group">
          {error && <p class="error">Cannot render: {error}</p>}
          {result ? (
            <Rendered result={result} label={(c) => `${c} as version ${v.version} renders`} />
          ) : (
            !error && <p class="muted">Rendering…</p>
          )}
        </div>
      </div>
    </VersionView>
  );
}

/** Rendered content, one article per channel (a field still a placeholder is left out). */
function Rendered({
  result,
  stale,
  label = (channel) => `${channel} preview`,
}: {
  result: PreviewResult;
  stale?: boolean;
  label?: (channel: string) => string;
}) {
  return (
    <div class={stale ? 'stale' : undefined}>
      {Object.entries(result.rendered).map(([channel, fields]) => (
        <article key={channel} class="rendered" aria-label={label(channel)}>
          <h3>{channel.toUpperCase()}</h3>
          <dl>
            {Object.entries((fields ?? {}) as Record<string, unknown>)
              .filter(([, text]) => text !== PLACEHOLDER)
              .map(([field, text]) => (
                <Fragment key={field}>
                  <dt>{field}</dt>
                  <dd class={field === 'subject' || field === 'title' ? undefined : 'pre'}>
                    {typeof text === 'string' ? text : JSON.stringify(text, null, 2)}
                  </dd>
                </Fragment>
              ))}
          </dl>
        </article>
      ))}
    </div>
  );
}

type PreviewResult = ResultOf<typeof PREVIEW_TEMPLATE>['previewTemplate'];

/** The live preview: the unsaved content rendered by `previewTemplate` over a profile and sample data, debounced. */
function Preview(props: {
  channels: Channel[];
  content: Content;
  userId: string;
  sample: string;
  sampleFrom: string | null;
  onUserId: (v: string) => void;
  onSample: (v: string) => void;
  onError: (e: FieldError | null) => void;
}) {
  const { channels, content, userId, sample } = props;
  const [result, setResult] = useState<PreviewResult | null>(null);
  const [error, setError] = useState<FieldError | null>(null);
  const [sampleError, setSampleError] = useState<string | null>(null);
  const latest = useRef(0);
  const body = contentToSend(channels, content, true);
  const signature = JSON.stringify([body, userId, sample]);

  useEffect(() => {
    const id = ++latest.current;
    let data: unknown;
    try {
      data = JSON.parse(sample || '{}');
      if (!data || typeof data !== 'object' || Array.isArray(data)) throw new Error('it must be a JSON object');
      setSampleError(null);
    } catch (err) {
      setSampleError(`Sample data is not a JSON object: ${errorMessage(err)}`);
      return;
    }
    if (Object.keys(body).length === 0) {
      setResult(null);
      setError(null);
      props.onError(null);
      return;
    }
    const timer = setTimeout(() => {
      request(PREVIEW_TEMPLATE, {
        content: body,
        data: data as Record<string, unknown>,
        userId: userId.trim() || null,
      })
        .then((r) => {
          if (id !== latest.current) return;
          setResult(r.previewTemplate);
          setError(null);
          props.onError(null);
        })
        .catch((err) => {
          if (id !== latest.current) return;
          const e = { field: errorField(err), message: errorMessage(err) };
          setError(e);
          props.onError(e);
        });
    }, 300);
    return () => clearTimeout(timer);
    // the signature covers body, userId and sample
  }, [signature]);

  return (
    <section class="preview panel" aria-labelledby="preview-title">
      <h2 id="preview-title">Live preview</h2>
      <Field
        id="preview-user"
        label="Profile (user id)"
        hint={
          props.sampleFrom
            ? `From the latest “${props.sampleFrom}” event`
            : 'Its traits are what templates read as profile'
        }
      >
        {(a) => (
          <input
            {...a}
            name="previewUserId"
            spellcheck={false}
            value={userId}
            onInput={(e) => props.onUserId(e.currentTarget.value)}
          />
        )}
      </Field>
      <Field id="preview-data" label="Sample data (JSON)" error={sampleError} hint="What templates read as data">
        {(a) => (
          <textarea
            {...a}
            name="previewData"
            rows={5}
            spellcheck={false}
            class="mono"
            value={sample}
            onInput={(e) => props.onSample(e.currentTarget.value)}
          />
        )}
      </Field>
      <div aria-live="polite">
        {error && (
          <p class="error" id="preview-error">
            Cannot render: {error.message}
          </p>
        )}
        {!error && result && result.missingVariables.length > 0 && (
          <p class="warning" id="preview-missing">
            Missing in this sample (rendered empty): <span class="mono">{result.missingVariables.join(', ')}</span>
          </p>
        )}
      </div>
      {Object.keys(body).length === 0 && <p class="muted">Write some content to see it rendered.</p>}
      {result && <Rendered result={result} stale={Boolean(error)} />}
    </section>
  );
}
