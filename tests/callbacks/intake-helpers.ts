import type { LightMyRequestResponse } from 'fastify';
import { configureProvider } from '../helpers/pipeline';
import type { TestApp, TestWorkspace } from '../helpers/test-app';

/** The PIGEON_PUBLIC_URL of the intake tests: Pigeon behind a proxy, reached at another address than its own. */
export const PUBLIC_URL = 'https://pigeon.example.test';

/** One row of `provider_callbacks`, as the tests read it. */
export interface CallbackRow {
  workspace_id: number;
  provider_config_id: string;
  provider: string;
  channel: string;
  event_id: string;
  external_id: string | null;
  outcome: string;
  happened_at: unknown;
  reason: string | null;
  error_code: string | null;
  raw: unknown;
  received_at: unknown;
  applied_at: unknown;
  result: string | null;
}

/** The stored callbacks of a configuration, oldest first, `raw` parsed. */
export async function storedRows(t: TestApp, configId: string): Promise<CallbackRow[]> {
  const rows = await t.db.rows<CallbackRow>(
    'SELECT * FROM provider_callbacks WHERE provider_config_id = ? ORDER BY id',
    [configId],
  );
  return rows.map((r) => ({ ...r, raw: typeof r.raw === 'string' ? JSON.parse(r.raw) : r.raw }));
}

/** A configuration and its callback URL (and the path part, `/hooks/<id>`). */
export interface Hook {
  configId: string;
  callbackUrl: string;
  path: string;
}

/** Configures a provider in `ws` and reads its callbackUrl back over GraphQL. */
export async function hookFor(t: TestApp, ws: TestWorkspace, input: Record<string, unknown>): Promise<Hook> {
  const configId = await configureProvider(t, input, ws.adminKey);
  const res = await t.gql<{ providers: { id: string; callbackUrl: string | null }[] }>(
    '{ providers { id callbackUrl } }',
    {},
    ws.adminKey,
  );
  const callbackUrl = res.data!.providers.find((p) => p.id === configId)!.callbackUrl!;
  return { configId, callbackUrl, path: new URL(callbackUrl).pathname };
}

/** Posts exact `body` bytes to `path` with `headers`. */
export function post(
  t: TestApp,
  path: string,
  request: { body: string | Buffer; headers: Record<string, string> },
): Promise<LightMyRequestResponse> {
  return t.inject({ method: 'POST', url: path, headers: request.headers, payload: request.body });
}
