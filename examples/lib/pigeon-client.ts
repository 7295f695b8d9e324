import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * A small GraphQL client for Pigeon automation scripts: `POST /graphql` with the admin key,
 * errors thrown with their messages, 429/503 retried after `Retry-After`, and Relay pagination.
 * Configure with `PIGEON_URL` (default http://127.0.0.1:3000) and `PIGEON_ADMIN_KEY`.
 */
export class PigeonClient {
  constructor(
    readonly baseUrl: string,
    private readonly adminKey: string,
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): PigeonClient {
    const key = env.PIGEON_ADMIN_KEY;
    if (!key) usage('PIGEON_ADMIN_KEY is not set: export an admin key of the workspace');
    return new PigeonClient((env.PIGEON_URL || 'http://127.0.0.1:3000').replace(/\/+$/, ''), key);
  }

  /** Runs one operation; throws {@link GraphQLRequestError} when the answer has errors. */
  async request<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(`${this.baseUrl}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.adminKey}` },
          body: JSON.stringify({ query, variables }),
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new UserError(
          `cannot reach Pigeon at ${this.baseUrl} (${cause?.code ?? cause?.message ?? (err as Error).message}): ` +
            'is the server running? PIGEON_URL sets its address',
        );
      }
      if ((res.status === 429 || res.status === 503) && attempt < 5) {
        const wait = Number(res.headers.get('retry-after')) || attempt;
        await new Promise((r) => setTimeout(r, Math.min(wait, 30) * 1000));
        continue;
      }
      const text = await res.text();
      let body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
      try {
        body = JSON.parse(text);
      } catch {
        throw new GraphQLRequestError(`${res.status} from ${this.baseUrl}/graphql: ${text.slice(0, 200)}`, []);
      }
      if (body.errors?.length) {
        throw new GraphQLRequestError(
          body.errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '),
          body.errors,
        );
      }
      return body.data as T;
    }
  }

  /**
   * Every node of a Relay connection, page by page. `query` takes `$first` and `$after` and
   * selects the connection at `path` (e.g. `messages`) with `edges { node { … } } pageInfo { hasNextPage endCursor }`.
   */
  async *paginate<N>(
    query: string,
    path: string,
    variables: Record<string, unknown> = {},
    pageSize = 100,
  ): AsyncGenerator<N> {
    let after: string | null = null;
    for (;;) {
      const data: Record<string, any> = await this.request(query, { ...variables, first: pageSize, after });
      const connection = data[path] as {
        edges: { node: N }[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
      for (const edge of connection.edges) yield edge.node;
      if (!connection.pageInfo.hasNextPage || !connection.pageInfo.endCursor) return;
      after = connection.pageInfo.endCursor;
    }
  }
}

/** A mistake the user can act on (a wrong name, an unreachable server): printed as one line, exit code 1. */
export class UserError extends Error {}

export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly errors: { message: string; extensions?: { code?: string } }[],
  ) {
    super(message);
  }
}

/** Prints a usage problem to stderr and exits with status 2. */
export function usage(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

/** The parsed command line: option name → its string (or `true` for a flag). */
export type Args = Record<string, string | boolean | undefined>;

/** Parses the command line (`--name value`), exiting with `help` on a mistake or `--help`. */
export function args(options: NonNullable<ParseArgsConfig['options']>, help: string): Args {
  let values: Args;
  try {
    values = parseArgs({ options: { ...options, help: { type: 'boolean' } }, allowPositionals: false }).values as Args;
  } catch (err) {
    usage(`${(err as Error).message}\n\n${help}`);
  }
  if (values.help) {
    process.stdout.write(`${help}\n`);
    process.exit(0);
  }
  return values;
}

/** Whether `err` is an ordinary failure to report in one line: ours, the server's, or the system's (ENOENT…). */
function ordinary(err: unknown): err is Error {
  return (
    err instanceof UserError ||
    err instanceof GraphQLRequestError ||
    (err instanceof Error && typeof (err as { code?: unknown }).code === 'string')
  );
}

/**
 * Runs `main`; when it fails, prints one line `<script>: <message>` to stderr and exits 1. Only an
 * unexpected error (a bug) shows its stack trace, and every error does with `PIGEON_DEBUG=1`.
 */
export function run(main: () => Promise<void>): void {
  main().catch((err) => {
    const script = path.basename(process.argv[1] ?? 'example', path.extname(process.argv[1] ?? ''));
    const debug = Boolean(process.env.PIGEON_DEBUG);
    const message = err instanceof Error ? err.message : String(err);
    const stack = (debug || !ordinary(err)) && err instanceof Error && err.stack ? `\n${err.stack}` : '';
    process.stderr.write(`${script}: ${message.replace(/\s*\n\s*/g, ' ')}${stack}\n`);
    process.exit(1);
  });
}
