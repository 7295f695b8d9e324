/**
 * What the console's list pages share: a Relay connection read page by page with a filter form (`useConnection`,
 * `FilterForm`, `FilterField`, `ConnectionTable`), a plain table with its empty state (`DataTable`), and row actions
 * that ask before they act (`useAction`, `ActionNotes`, `ConfirmButton`).
 */
import type { ComponentChildren } from 'preact';
import type { TadaDocumentNode } from 'gql.tada';
import { useState } from 'preact/hooks';
import { errorMessage } from './api';
import { useInterval, useQuery } from './hooks';
import { ErrorBox, Pager, TableWrap } from './ui';

export interface Connection<N> {
  edges: { node: N }[];
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
}

/**
 * Where a paged list is: the applied filter and the `after` cursor of each page seen. A page keeps one at module level,
 * so opening a row and coming back (or an auto-refresh) keeps the filters and the page.
 */
export interface ListPlace<F> {
  filter: F;
  cursors: (string | null)[];
  auto: boolean;
}

export function listPlace<F>(filter: F): ListPlace<F> {
  return { filter, cursors: [null], auto: true };
}

type FilterOf<V> = V extends { filter?: infer F } ? NonNullable<F> : never;
type Value = string | undefined;

export interface ConnectionList<R, F, N> {
  data: R | null;
  conn: Connection<N> | null;
  error: string | null;
  loading: boolean;
  reload: () => Promise<void>;
  /** The filter the list shows; `draft` is the form's, applied by `apply`. */
  filter: F;
  draft: F;
  setDraftField: (name: keyof F & string, value: string) => void;
  apply: () => void;
  auto: boolean;
  setAuto: (on: boolean) => void;
  pager: { page: number; hasNext: boolean; onFirst: () => void; onPrev: () => void; onNext: () => void };
}

/**
 * Reads a connection (`doc` takes `first`, `after` and `filter`) a page at a time from `place`; `start` is a filter a
 * link asked for (it starts a fresh search when it differs from the place's). Refreshes every `refreshMs` while
 * auto-refresh is on, keeping the page and what is typed in the form.
 */
export function useConnection<R, V extends { first?: number | null; after?: string | null }, N>(
  doc: TadaDocumentNode<R, V>,
  options: {
    place: ListPlace<FilterOf<V>>;
    select: (data: R) => Connection<N> | null | undefined;
    start?: Partial<FilterOf<V>>;
    pageSize?: number;
    refreshMs?: number;
  },
): ConnectionList<R, FilterOf<V>, N> {
  type F = FilterOf<V>;
  const { place, select, start, pageSize = 25, refreshMs = 5000 } = options;
  const fresh = Object.entries(start ?? {}).filter(([, v]) => v !== undefined);
  if (fresh.length && fresh.some(([k, v]) => (place.filter as Record<string, unknown>)[k] !== v))
    Object.assign(place, { filter: Object.fromEntries(fresh), cursors: [null] });
  const [filter, setFilter] = useState<F>(place.filter);
  const [draft, setDraft] = useState<F>(place.filter);
  const [cursors, setCursors] = useState(place.cursors);
  const [auto, setAuto] = useState(place.auto);
  Object.assign(place, { filter, cursors, auto });
  const after = cursors[cursors.length - 1];
  const loaded = useQuery(doc, { first: pageSize, after, filter } as unknown as V, JSON.stringify([filter, after]));
  useInterval(() => void loaded.reload(), refreshMs, auto);
  const conn = (loaded.data && select(loaded.data)) ?? null;
  return {
    ...loaded,
    conn,
    filter,
    draft,
    setDraftField: (name, value) => setDraft({ ...draft, [name]: (value === '' ? undefined : value) as Value }),
    apply: () => {
      setFilter(draft);
      setCursors([null]);
    },
    auto,
    setAuto,
    pager: {
      page: cursors.length - 1,
      hasNext: Boolean(conn?.pageInfo.hasNextPage),
      onFirst: () => setCursors([null]),
      onPrev: () => setCursors(cursors.slice(0, -1)),
      onNext: () => conn?.pageInfo.endCursor && setCursors([...cursors, conn.pageInfo.endCursor]),
    },
  };
}

/** A list's filter form: its fields, **Apply filters**, then `after` (e.g. an auto-refresh switch). */
export function FilterForm(props: { onApply: () => void; children: ComponentChildren; after?: ComponentChildren }) {
  return (
    <form
      class="filters"
      onSubmit={(e) => {
        e.preventDefault();
        props.onApply();
      }}
    >
      {props.children}
      <button type="submit" class="primary">
        Apply filters
      </button>
      {props.after}
    </form>
  );
}

/** One filter of a `useConnection` list: a select with **Any** when `options` are given, else a text input. */
export function FilterField<F>(props: {
  list: Pick<ConnectionList<unknown, F, unknown>, 'draft' | 'setDraftField'>;
  name: keyof F & string;
  label: string;
  options?: readonly string[];
  placeholder?: string;
}) {
  const { list, name } = props;
  const value = ((list.draft as Record<string, Value>)[name] ?? '') as string;
  const set = (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) =>
    list.setDraftField(name, e.currentTarget.value);
  return (
    <label>
      {props.label}
      {props.options ? (
        <select name={name} value={value} onChange={set}>
          <option value="">Any</option>
          {props.options.map((o) => (
            <option value={o}>{o}</option>
          ))}
        </select>
      ) : (
        <input name={name} value={value} onInput={set} placeholder={props.placeholder} />
      )}
    </label>
  );
}

/**
 * A scrollable table with a header row of `columns`, or the `empty` text when there is no row; before the rows are
 * first loaded, "Loading…" while `loading`, else nothing (the page shows the error).
 */
export function DataTable<T>(props: {
  label: string;
  caption?: string;
  columns: string[];
  rows: T[] | null | undefined;
  empty: string;
  loading?: boolean;
  children: (row: T) => ComponentChildren;
}) {
  if (!props.rows) return props.loading ? <p class="muted">Loading…</p> : null;
  if (props.rows.length === 0) return <p class="muted">{props.empty}</p>;
  return (
    <TableWrap label={props.label}>
      <table>
        {props.caption && <caption class="sr-only">{props.caption}</caption>}
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{props.rows.map(props.children)}</tbody>
      </table>
    </TableWrap>
  );
}

/** A `useConnection` list's body: its error, the page's rows as a `DataTable` (or `empty`), and the pager. */
export function ConnectionTable<N>(props: {
  list: Pick<ConnectionList<unknown, unknown, N>, 'conn' | 'error' | 'loading' | 'pager'>;
  label: string;
  caption?: string;
  columns: string[];
  empty: string;
  children: (node: N) => ComponentChildren;
}) {
  const { list, ...table } = props;
  return (
    <>
      <ErrorBox message={list.error} />
      <DataTable {...table} rows={list.conn?.edges.map((e) => e.node)} loading={list.loading && !list.error} />
      <Pager {...list.pager} />
    </>
  );
}

export interface Action {
  busy: boolean;
  error: string | null;
  status: string | null;
  /** Runs `fn` (a mutation and a reload): its result, when a string, becomes the status; a failure, the error. */
  run: (fn: () => Promise<string | void>) => Promise<void>;
}

/** The state of a list's row actions (delete, revoke…): one at a time, with the outcome said once. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  return {
    busy,
    error,
    status,
    run: async (fn) => {
      setBusy(true);
      setError(null);
      setStatus(null);
      try {
        const done = await fn();
        if (done) setStatus(done);
      } catch (err) {
        setError(errorMessage(err));
      } finally {
        setBusy(false);
      }
    },
  };
}

/** What the last row action did: its error, or its status line. */
export function ActionNotes({ action }: { action: Pick<Action, 'error' | 'status'> }) {
  return (
    <>
      <ErrorBox message={action.error} />
      {action.status && (
        <p class="ok" role="status">
          {action.status}
        </p>
      )}
    </>
  );
}

/** A row's destructive button (`verb`, e.g. Delete) that asks first: **Confirm <verb>** or **Cancel**. */
export function ConfirmButton(props: {
  verb: string;
  /** What the row is, for screen readers: the button is labelled "<verb> <what>". */
  what: string;
  busy: boolean;
  onConfirm: () => void;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" onClick={() => setAsking(true)} aria-label={`${props.verb} ${props.what}`}>
        {props.verb}
      </button>
    );
  return (
    <span class="row-actions" role="group" aria-label={`${props.verb} ${props.what}?`}>
      <button
        type="button"
        class="danger"
        disabled={props.busy}
        onClick={() => {
          setAsking(false);
          props.onConfirm();
        }}
      >
        Confirm {props.verb.toLowerCase()}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
