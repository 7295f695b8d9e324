import { startTestApp } from '../helpers/test-app';

/**
 * Issue 14, item 4: a worker a test started and never stopped (the test failed between `start()` and
 * `stop()`) polls the queue forever — every 20 ms, and on after the database is closed — so its timers keep
 * the Jest worker process alive ("A worker process has failed to exit gracefully", seen on MariaDB). The
 * test app's `close()` stops every worker it made.
 */
describe('test app teardown', () => {
  it('close() stops a worker that is still running, before the database closes', async () => {
    const t = await startTestApp();
    const worker = t.worker({ id: 'left-running' });
    const idle = t.worker({ id: 'never-started' });
    worker.start();
    try {
      await t.close();
      expect(worker.isRunning).toBe(false);
      expect(idle.isRunning).toBe(false);
    } finally {
      await worker.stop(1000);
    }
  });
});
