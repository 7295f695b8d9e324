import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { createApp } from '../../src/app';
import type { Database } from '../../src/db/database';
import { toDbTime } from '../../src/db/dialect';
import { openDatabase } from '../../src/open-database';
import type { JobQueue } from '../../src/pipeline/job-queue';
import { METRIC_NAMES, Metrics, type QueueDepthSource } from '../../src/ops/metrics';
import { createServices } from '../../src/services';
import { ownDatabase, type OwnDatabase } from '../helpers/own-database';
import { TEST_SERVICE_CONFIG } from '../helpers/test-app';
import { parseMetrics, sampleValue, scrape } from './metrics-text';

const gauges = (text: string) => {
  const samples = parseMetrics(text);
  return {
    depth: sampleValue(samples, METRIC_NAMES.queueDepth),
    waiting: sampleValue(samples, METRIC_NAMES.workflowRunsWaiting),
    oldestS: sampleValue(samples, METRIC_NAMES.queueOldest),
  };
};

/**
 * The queue gauges of `/metrics` (README.md, "Metrics"): how late the oldest due job is, read at every
 * scrape from the head of the index; the job and waiting-run counts, whose cost grows with the queue, read
 * again only when the last count's cost allows it.
 */
describe('queue gauges', () => {
  describe('on a database of their own', () => {
    let own: OwnDatabase;
    let db: Database;
    let app: FastifyInstance;
    let queue: JobQueue;

    beforeAll(async () => {
      own = await ownDatabase('pigeon_gauges');
      db = await openDatabase(own.url);
      const services = createServices(db, TEST_SERVICE_CONFIG, pino({ level: 'silent' }));
      queue = services.queue;
      app = await createApp({ services, config: { production: false, logLevel: 'silent' } });
      await app.ready();
    });
    afterAll(async () => {
      await app.close();
      await db.dataSource.destroy();
      await own.drop();
    });

    it('show every job, the runs waiting for a later time, and the oldest due job (an expired lease is due)', async () => {
      const t0 = Date.now();
      const at = (s: number) => new Date(t0 + s * 1000);
      await db.transaction(async (tx) => {
        await queue.enqueue(tx, 1, ['m-30'], at(-30));
        await queue.enqueue(tx, 1, ['m-10a', 'm-10b'], at(-10));
        await queue.enqueue(tx, 1, ['m-later'], at(600));
        await queue.enqueueRunsIn(tx, 1, [
          { runId: 'r-due', at: at(-5) },
          { runId: 'r-60', at: at(60) },
          { runId: 'r-3600', at: at(3600) },
        ]);
      });

      expect(await queue.counts()).toEqual({ jobs: 7, waitingRuns: 2 });
      expect((await queue.oldestDue())?.getTime()).toBe(at(-30).getTime());
      let g = gauges((await scrape({ inject: (o) => app.inject(o) })).text);
      expect(g.depth).toBe(7);
      expect(g.waiting).toBe(2);
      expect(g.oldestS).toBeGreaterThanOrEqual(30);
      expect(g.oldestS).toBeLessThan(40);

      // a worker leases the oldest: it is no longer due, the next one is; the queue still holds 7 jobs
      const [leased] = await queue.claim('gauge-worker', 1, 60_000);
      expect(leased.messageId).toBe('m-30');
      expect((await queue.oldestDue())?.getTime()).toBe(at(-10).getTime());
      expect((await queue.counts()).jobs).toBe(7);

      // the worker died and its lease ran out 40 s ago: the job is due again (a claim takes it), and the oldest
      await db.run(`UPDATE jobs SET run_at = ? WHERE message_id = 'm-30'`, [toDbTime(at(-40))]);
      expect((await queue.oldestDue())?.getTime()).toBe(at(-40).getTime());
      g = gauges((await scrape({ inject: (o) => app.inject(o) })).text);
      expect(g.oldestS).toBeGreaterThanOrEqual(40);
      expect(g.oldestS).toBeLessThan(50);
      const [again] = await queue.claim('other-worker', 1, 60_000);
      expect(again.messageId).toBe('m-30');

      // nothing due: 0, not the age of a job due later
      await db.run(`DELETE FROM jobs WHERE run_at <= ?`, [toDbTime(at(1))]);
      expect(await queue.oldestDue()).toBeNull();
      expect(await queue.counts()).toEqual({ jobs: 4, waitingRuns: 2 });
      expect(gauges((await scrape({ inject: (o) => app.inject(o) })).text).oldestS).toBe(0);
      // the app's counts may be a reading kept from before (a count over 20 ms on a busy machine): a fresh registry counts
      const fresh = new Metrics();
      fresh.watchQueue(queue);
      expect(gauges(await fresh.registry.metrics())).toEqual({ depth: 4, waiting: 2, oldestS: 0 });
    });
  });

  describe('how often the counts are read', () => {
    /** A queue whose counts take `countsMs` and say how often they were asked. */
    function source(countsMs: number) {
      const calls = { oldestDue: 0, counts: 0 };
      let jobs = 100;
      const s: QueueDepthSource & { calls: typeof calls; grow(): void; fail: boolean } = {
        calls,
        fail: false,
        grow: () => void (jobs += 100),
        async oldestDue() {
          calls.oldestDue++;
          if (s.fail) throw new Error('database down');
          return new Date(Date.now() - 5_000);
        },
        async counts() {
          calls.counts++;
          if (s.fail) throw new Error('database down');
          // a quick source answers at once: a timer, even of 0 ms, may fire late on a busy machine
          if (countsMs > 0) await new Promise((resolve) => setTimeout(resolve, countsMs));
          return { jobs, waitingRuns: jobs / 10 };
        },
      };
      return s;
    }

    it('reads quick counts at every scrape', async () => {
      const metrics = new Metrics();
      const queue = source(0);
      metrics.watchQueue(queue);
      expect(gauges(await metrics.registry.metrics()).depth).toBe(100);
      queue.grow();
      expect(gauges(await metrics.registry.metrics())).toEqual({
        depth: 200,
        waiting: 20,
        oldestS: expect.any(Number),
      });
      expect(queue.calls).toEqual({ oldestDue: 2, counts: 2 });
    });

    it('keeps a slow count for 100 times its duration, while the oldest due job is looked up at every scrape', async () => {
      const metrics = new Metrics();
      const queue = source(40); // ≥ 20 ms: not read again for ≥ 4 s
      metrics.watchQueue(queue);
      expect(gauges(await metrics.registry.metrics()).depth).toBe(100);
      queue.grow();
      for (let i = 0; i < 3; i++) {
        const g = gauges(await metrics.registry.metrics());
        expect(g.depth).toBe(100);
        expect(g.waiting).toBe(10);
        expect(g.oldestS).toBeGreaterThanOrEqual(5);
      }
      expect(queue.calls).toEqual({ oldestDue: 4, counts: 1 });
    });

    it('one scrape reads the queue once for its three gauges, and keeps the last values when the database is down', async () => {
      const metrics = new Metrics();
      const queue = source(0);
      metrics.watchQueue(queue);
      await metrics.registry.metrics();
      expect(queue.calls).toEqual({ oldestDue: 1, counts: 1 });
      queue.fail = true;
      const g = gauges(await metrics.registry.metrics());
      expect(g.depth).toBe(100);
      expect(g.waiting).toBe(10);
      expect(g.oldestS).toBeGreaterThanOrEqual(5);
    });
  });
});
