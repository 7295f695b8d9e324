import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { TadaDocumentNode } from 'gql.tada';
import { errorMessage, request } from './api';

export interface Loaded<R> {
  data: R | null;
  error: string | null;
  loading: boolean;
  reload: () => Promise<void>;
}

/** Runs a query when `key` changes (and on `reload`); a failed reload keeps what was shown and says why. */
export function useQuery<R, V>(doc: TadaDocumentNode<R, V>, variables: V, key: string): Loaded<R> {
  const [data, setData] = useState<R | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const latest = useRef(0);
  const vars = useRef(variables);
  vars.current = variables;

  const reload = useCallback(async () => {
    const id = ++latest.current;
    setLoading(true);
    try {
      const result = await request(doc, vars.current);
      if (id !== latest.current) return;
      setData(result);
      setError(null);
    } catch (err) {
      if (id !== latest.current) return;
      setError(errorMessage(err));
    } finally {
      if (id === latest.current) setLoading(false);
    }
  }, [doc]);

  useEffect(() => {
    void reload();
  }, [reload, key]);

  return { data, error, loading, reload };
}

/** Calls `fn` every `ms` while `on` (and the tab is visible). */
export function useInterval(fn: () => void, ms: number, on: boolean): void {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!on) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') saved.current();
    }, ms);
    return () => clearInterval(timer);
  }, [ms, on]);
}
