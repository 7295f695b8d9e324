/**
 * The command line of `npm run bench` (documented in bench/run.ts's header and bench/README.md): which
 * steps run, for how long, and how. Parsed once, when this module is first imported.
 */
import fs from 'node:fs';
import path from 'node:path';

export const CEILINGS = ['echo', 'naive', 'raw', 'batch-route', 'sqlite-raw'] as const;
export const SCENARIOS = ['s1', 's2', 's3', 's4', 's5', 's7', 's7-sqlite', 's8'] as const;
export type StepName = (typeof CEILINGS)[number] | (typeof SCENARIOS)[number];
export const MARIADB_SET: StepName[] = ['echo', 'naive', 'raw', 'batch-route', 's1', 's2', 's4', 's5', 's7', 's8'];
export const SQLITE_SET: StepName[] = ['sqlite-raw', 's3', 's7-sqlite'];
/** The ceilings a scenario's ratio needs: `--only s1` runs the naive insert too (unless `--no-ceilings`). */
const NEEDS: Partial<Record<StepName, StepName[]>> = { s1: ['naive'], s2: ['raw', 'batch-route'], s3: ['sqlite-raw'] };

function parseArgs(argv: string[]) {
  const opts = {
    steps: [...MARIADB_SET, ...SQLITE_SET] as StepName[],
    full: true,
    durationS: 10,
    build: true,
    keep: false,
    profile: false,
    ceilings: true,
    workerConcurrency: undefined as number | undefined,
  };
  let only: StepName[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--sqlite') {
      opts.steps = [...SQLITE_SET];
      opts.full = false;
    } else if (a === '--mariadb') {
      opts.steps = [...MARIADB_SET];
      opts.full = false;
    } else if (a === '--only') {
      only = value()
        .split(',')
        .map((s) => s.trim() as StepName);
      for (const s of only) {
        if (![...CEILINGS, ...SCENARIOS].includes(s))
          throw new Error(`--only: unknown "${s}" (one of ${[...CEILINGS, ...SCENARIOS].join(', ')})`);
      }
    } else if (a === '--duration') opts.durationS = Number(value());
    else if (a === '--no-build') opts.build = false;
    else if (a === '--keep') opts.keep = true;
    else if (a === '--profile') opts.profile = true;
    else if (a === '--no-ceilings') opts.ceilings = false;
    else if (a === '--worker-concurrency') opts.workerConcurrency = Number(value());
    else if (a === '--help' || a === '-h') {
      // the usage is the header comment of the driver
      process.stdout.write(fs.readFileSync(path.join(__dirname, 'run.ts'), 'utf8').split('*/')[0] + '*/\n');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (only) {
    const wanted = new Set<StepName>(only);
    if (opts.ceilings) for (const s of only) for (const n of NEEDS[s] ?? []) wanted.add(n);
    opts.steps = [...MARIADB_SET, ...SQLITE_SET].filter((s) => wanted.has(s));
    opts.full = false;
  }
  if (!(opts.durationS > 0)) throw new Error('--duration must be a positive number of seconds');
  return opts;
}

export type BenchOptions = ReturnType<typeof parseArgs>;

export const opts: BenchOptions = parseArgs(process.argv.slice(2));
