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
      const res = await fetch(`${this.baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.adminKey}` },
        body: JSON.stringify({ query, variables }),
      });
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

/** Runs `main`, printing an error (without a stack for GraphQL errors) and exiting 1 when it fails. */
export function run(main: () => Promise<void>): void {
  main().catch((err) => {
    process.stderr.write(
      `${err instanceof GraphQLRequestError ? err.message : ((err as Error)?.stack ?? String(err))}\n`,
    );
    process.exit(1);
  });
}
