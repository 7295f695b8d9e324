/**
 * What one bench run shares between the driver (run.ts), the scenarios (scenarios/) and the report
 * (report.ts): the run's names and keys, the figures measured so far, failures and notes, and the
 * connections that the driver opens and closes.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type mysql from 'mysql2/promise';
import type { ProfileSummary } from './lib/cpuprofile';
import { RssSampler } from './lib/proc';

export const RUN = new Date().toISOString().replace(/[-:T]/g, '').replace(/\..*$/, '').slice(0, 14);
export const TMP = path.join(os.tmpdir(), `pigeon-bench-${RUN}`);
export const PIGEON_DB = `pigeon_bench_${RUN}`;
export const CEILING_DB = `pigeon_bench_${RUN}_ceiling`;
export const ADMIN_KEY = `bench_admin_${crypto.randomBytes(16).toString('hex')}`;
export const INGEST_KEY = `bench_ingest_${crypto.randomBytes(16).toString('hex')}`;
export const INGEST_AUTH = `Basic ${Buffer.from(`${INGEST_KEY}:`).toString('base64')}`;

export const log = (s: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

// ---- what is measured ----------------------------------------------------------------------------

export interface Measured {
  figure: number;
  unit: string;
  p50?: number;
  p99?: number;
  rows?: number;
  acked?: number;
  cpu?: Record<string, number>;
  detail?: unknown;
}

export const measured: Record<string, Measured> = {};
export const failures: Record<string, string> = {};
export const notes: string[] = [];
export const profiles: (ProfileSummary & { process: string })[] = [];
/** Pigeon processes by pid, to name their CPU profiles. */
export const profileNames = new Map<number, string>();
export const rss = new RssSampler();
export const startedAt = new Date();

/** Set by the driver while the run lasts. */
export const shared: {
  /** Root connection to MariaDB (creates and drops the bench databases, counts rows). */
  admin?: mysql.Connection;
  /** mariadbd's pid, for its CPU share; undefined when not found. */
  maria?: number;
  machineInfo: Record<string, string | number>;
  /** Seconds spent waiting for a quiet machine before measured runs (bounded). */
  quietWaitedS: number;
} = { machineInfo: {}, quietWaitedS: 0 };
