/**
 * Bulk-imports profiles from a CSV file through `mergeProfile` (RFC 7396: traits are merged into
 * existing profiles, nothing else is touched).
 *
 *   npm run example:import-profiles -- --file users.csv [--user-id-column userId] [--infer-types] [--concurrency 8]
 *
 * The header row names the traits; the user id column (default `userId`) says whose profile it is.
 * A dotted header (`address.city`) makes a nested trait. Empty cells are skipped. Values are strings
 * unless `--infer-types` turns `true`/`false`, `null` (removes the trait) and plain numbers into JSON
 * values (numbers with a leading zero, like zip codes, stay strings). Rows are streamed, so files of
 * any size work. Prints a JSON summary; failed rows are listed on stderr with their line number.
 * Env: PIGEON_URL (default http://127.0.0.1:3000), PIGEON_ADMIN_KEY.
 */
import fs from 'node:fs';
import { parse } from 'csv-parse';
import { args, PigeonClient, run, usage, UserError } from './lib/pigeon-client';

const HELP =
  'Usage: npm run example:import-profiles -- --file <users.csv> [--user-id-column userId] [--infer-types] [--delimiter ,] [--concurrency 8]';

/** A CSV cell as a JSON value: with `infer`, booleans, null and plain numbers; otherwise the string. */
function cellValue(cell: string, infer: boolean): unknown {
  if (!infer) return cell;
  if (cell === 'true') return true;
  if (cell === 'false') return false;
  if (cell === 'null') return null;
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(cell) && Number.isFinite(Number(cell))) return Number(cell);
  return cell;
}

/** The traits of one row: every column but the user id, dotted headers nested, empty cells skipped. */
function rowTraits(row: Record<string, string>, userIdColumn: string, infer: boolean): Record<string, unknown> {
  const traits: Record<string, unknown> = {};
  for (const [header, cell] of Object.entries(row)) {
    if (header === userIdColumn || cell === undefined || cell === '') continue;
    const keys = header.split('.');
    let target = traits;
    for (const key of keys.slice(0, -1)) {
      if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[keys[keys.length - 1]] = cellValue(cell, infer);
  }
  return traits;
}

run(async () => {
  const opts = args(
    {
      file: { type: 'string' },
      'user-id-column': { type: 'string', default: 'userId' },
      'infer-types': { type: 'boolean' },
      delimiter: { type: 'string', default: ',' },
      concurrency: { type: 'string', default: '8' },
    },
    HELP,
  );
  if (typeof opts.file !== 'string') usage(`--file is required\n${HELP}`);
  if (!fs.existsSync(opts.file)) usage(`No such file: ${opts.file}`);
  const userIdColumn = String(opts['user-id-column']);
  const concurrency = Number(opts.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) usage('--concurrency must be a positive integer');
  const infer = Boolean(opts['infer-types']);

  const pigeon = PigeonClient.fromEnv();
  const parser = fs.createReadStream(opts.file).pipe(
    parse({
      columns: true,
      bom: true,
      trim: true,
      skip_empty_lines: true,
      delimiter: String(opts.delimiter),
      info: true,
    }),
  );

  let imported = 0;
  let failed = 0;
  const inflight = new Set<Promise<void>>();
  const fail = (line: number, message: string) => {
    failed++;
    process.stderr.write(`line ${line}: ${message}\n`);
  };

  let checkedHeader = false;
  for await (const { record, info } of parser as AsyncIterable<{
    record: Record<string, string>;
    info: { lines: number };
  }>) {
    if (!checkedHeader) {
      checkedHeader = true;
      if (!(userIdColumn in record))
        throw new UserError(`The CSV has no "${userIdColumn}" column (see --user-id-column)`);
    }
    const line = info.lines;
    const userId = record[userIdColumn];
    if (!userId) {
      fail(line, `no ${userIdColumn}`);
      continue;
    }
    const traits = rowTraits(record, userIdColumn, infer);
    const p = pigeon
      .request('mutation($u: String!, $t: JSONObject!) { mergeProfile(userId: $u, traits: $t) { userId } }', {
        u: userId,
        t: traits,
      })
      .then(
        () => {
          imported++;
        },
        (err: Error) => fail(line, err.message),
      )
      .finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= concurrency) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  console.log(JSON.stringify({ imported, failed }));
  if (failed) process.exitCode = 1;
});
