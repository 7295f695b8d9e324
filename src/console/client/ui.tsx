import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

export function Badge({ status }: { status: string }) {
  return <span class={`badge badge-${status.toLowerCase()}`}>{status}</span>;
}

export function ErrorBox({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <p class="error" role="alert">
      {message}
    </p>
  );
}

/** A page's heading; it takes the focus when the page opens, so keyboard and screen-reader users land on it. */
export function PageTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useLayoutEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function Json({ value, label }: { value: unknown; label: string }) {
  return (
    <pre class="json" aria-label={label} tabIndex={0}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

/** Previous/next over cursors: `stack` holds the `after` of each page already seen. */
export function Pager(props: {
  page: number;
  hasNext: boolean;
  onFirst: () => void;
  onPrev: () => void;
  onNext: () => void;
}) {
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" onClick={props.onFirst} disabled={props.page === 0}>
        First
      </button>
      <button type="button" onClick={props.onPrev} disabled={props.page === 0}>
        Previous
      </button>
      <span>Page {props.page + 1}</span>
      <button type="button" onClick={props.onNext} disabled={!props.hasNext}>
        Next
      </button>
    </nav>
  );
}

/** A table that may scroll sideways on a small screen: a labelled region that takes the focus, so the keyboard can scroll it. */
export function TableWrap({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

/** Copies `text` to the clipboard and says so (for a callback URL, a new key's secret). */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  return (
    <>
      <button
        type="button"
        aria-label={label}
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(text);
            setCopied(true);
          } catch {
            setCopied(false);
          }
        }}
      >
        Copy
      </button>
      <span role="status" class="muted">
        {copied === true ? 'Copied.' : copied === false ? 'Could not copy: select the text and copy it.' : ''}
      </span>
    </>
  );
}

/** Published versions, newest first, to open one (pressed: the one shown); the one in use is marked. */
export function VersionPicker(props: {
  versions: { version: number; publishedAt: string }[];
  current: number | null;
  selected: number | null;
  onSelect: (version: number | null) => void;
}) {
  if (props.versions.length === 0) return null;
  return (
    <ol class="version-list" aria-label="Published versions">
      {props.versions.map((v) => (
        <li key={v.version}>
          <button
            type="button"
            aria-pressed={props.selected === v.version}
            onClick={() => props.onSelect(props.selected === v.version ? null : v.version)}
          >
            Version {v.version}
          </button>{' '}
          <span class="muted">
            published {formatTime(v.publishedAt)}
            {v.version === props.current ? ' · what messages use' : ''}
          </span>
        </li>
      ))}
    </ol>
  );
}

/** One published version, read-only (its heading takes the focus when it opens), and **Restore into draft**. */
export function VersionView(props: {
  version: number;
  busy: boolean;
  /** What restoring does, next to the button. */
  hint: string;
  onRestore: () => void;
  children: ComponentChildren;
}) {
  const title = useRef<HTMLHeadingElement>(null);
  useEffect(() => title.current?.focus(), []);
  return (
    <section class="version-view" aria-labelledby="version-view-title">
      <h3 id="version-view-title" ref={title} tabIndex={-1}>
        Version {props.version} (read-only)
      </h3>
      {props.children}
      <div class="actions">
        <button type="button" class="primary" disabled={props.busy} onClick={props.onRestore}>
          Restore into draft
        </button>
        <span class="muted">{props.hint}</span>
      </div>
    </section>
  );
}
