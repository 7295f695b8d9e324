import { EventEmitter } from 'node:events';
import net from 'node:net';
import { Batcher } from '../../src/db/batcher';
import { countAcceptedConnections, MAX_ACCEPT_TURNS } from '../../src/lib/loop-turns';

/** A run whose batches finish only when the test says so, recording what each batch held. */
function controlledRun() {
  const batches: number[][] = [];
  const finishers: (() => void)[] = [];
  const run = (items: number[]) =>
    new Promise<number[]>((resolve) => {
      batches.push(items);
      finishers.push(() => resolve(items.map((i) => i * 10)));
    });
  return { batches, finishers, run };
}

const tick = () => new Promise((r) => setImmediate(r));

/** Submits one call to a `gatherTurn` batcher and returns what `read` gave when its batch started. */
async function readWhenGatheredBatchRuns<T>(read: () => T): Promise<T> {
  let seen: { value: T } | undefined;
  const b = new Batcher<number, number>(
    async (items) => {
      seen = { value: read() };
      return items;
    },
    { maxInFlight: 1, maxItems: 100, gatherTurn: true },
  );
  expect(await b.submit(7)).toBe(7);
  return seen!.value;
}

describe('Batcher (group commit)', () => {
  it('sends the first call at once and coalesces the calls that arrive meanwhile', async () => {
    const { batches, finishers, run } = controlledRun();
    const b = new Batcher<number, number>(run, { maxInFlight: 1, maxItems: 100 });
    const first = b.submit(1);
    const rest = [2, 3, 4].map((i) => b.submit(i));
    expect(batches).toEqual([[1]]);
    finishers[0]();
    expect(await first).toBe(10);
    await tick();
    expect(batches).toEqual([[1], [2, 3, 4]]);
    finishers[1]();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it('gatherTurn: work that never yields to I/O still groups the calls the event loop read together', async () => {
    // like better-sqlite3: the whole batch finishes inside promise callbacks, before any I/O callback runs
    const syncRun = (batches: number[][]) => async (items: number[]) => {
      batches.push(items);
      return items.map((i) => i * 10);
    };
    // calls arriving from separate callbacks of one event-loop phase (as requests read in one poll phase);
    // immediates queued together run in one check phase, with promise callbacks drained between them
    // (timers would not do: ones set 0 ms apart may fall due in different turns on a busy machine)
    const arriveTogether = (b: Batcher<number, number>) =>
      new Promise<number[]>((resolve) => {
        const results: Promise<number>[] = [];
        let pending = 5;
        for (let i = 1; i <= 5; i++) {
          setImmediate(() => {
            results.push(b.submit(i));
            if (--pending === 0) void Promise.all(results).then(resolve);
          });
        }
      });
    const alone: number[][] = [];
    await arriveTogether(new Batcher(syncRun(alone), { maxInFlight: 1, maxItems: 100 }));
    expect(alone).toEqual([[1], [2], [3], [4], [5]]); // each call committed before the next was read

    const gathered: number[][] = [];
    const results = await arriveTogether(
      new Batcher(syncRun(gathered), { maxInFlight: 1, maxItems: 100, gatherTurn: true }),
    );
    expect(gathered).toEqual([[1, 2, 3, 4, 5]]);
    expect(results).toEqual([10, 20, 30, 40, 50]);
  });

  it('gatherTurn: while turns of the loop accept connections, the batch waits for a turn that accepts none', async () => {
    // libuv accepts one connection per turn: twenty clients that connected at once take twenty turns
    const server = net.createServer((socket) => socket.on('error', () => undefined));
    let acceptedByServer = 0;
    server.on('connection', () => acceptedByServer++);
    countAcceptedConnections(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    const clients: net.Socket[] = [];
    try {
      const connected = Array.from(
        { length: 20 },
        () =>
          new Promise<void>((r) => {
            const c = net.connect(port, '127.0.0.1', r);
            c.on('error', () => undefined);
            clients.push(c);
          }),
      );
      await Promise.all(connected); // the handshakes are done: all twenty wait in the accept queue
      expect(await readWhenGatheredBatchRuns(() => acceptedByServer)).toBe(20);
    } finally {
      clients.forEach((c) => c.destroy());
      await new Promise((r) => server.close(r));
    }
  });

  it('gatherTurn: a storm of connections holds a batch back for at most MAX_ACCEPT_TURNS turns', async () => {
    const server = new EventEmitter();
    countAcceptedConnections(server);
    let turns = 0;
    let storming = true;
    const storm = () => {
      turns++;
      server.emit('connection');
      if (storming) setImmediate(storm);
    };
    setImmediate(storm);
    const turnsAtRun = await readWhenGatheredBatchRuns(() => turns);
    storming = false;
    expect(turnsAtRun).toBe(MAX_ACCEPT_TURNS);
  });

  it('never puts more than maxItems units in a batch (a larger call goes alone)', async () => {
    const { batches, finishers, run } = controlledRun();
    const b = new Batcher<number, number>(run, { maxInFlight: 1, maxItems: 10, sizeOf: (i) => i });
    const calls = [1, 6, 5, 20, 3, 4].map((i) => b.submit(i));
    for (let k = 0; k < 5; k++) {
      finishers[k]();
      await tick();
    }
    await Promise.all(calls);
    // 6 + 5 > 10, 5 + 20 > 10, 20 alone although over the limit, then 3 + 4
    expect(batches).toEqual([[1], [6], [5], [20], [3, 4]]);
  });

  it('overlapAt: small calls wait for the running batch; once enough wait, a batch overlaps it', async () => {
    const { batches, finishers, run } = controlledRun();
    const b = new Batcher<number, number>(run, {
      maxInFlight: 3,
      maxItems: 4,
      overlapAt: 4,
    });
    const calls = [b.submit(1), b.submit(2), b.submit(3)];
    // one running; two small calls wait although two more batches may run
    expect(batches).toEqual([[1]]);
    calls.push(b.submit(4), b.submit(5));
    // four units waiting: worth a batch of its own, it goes out beside the running one
    expect(batches).toEqual([[1], [2, 3, 4, 5]]);
    calls.push(b.submit(6));
    expect(batches).toHaveLength(2);
    // the first one done: one still runs, so the lone small call keeps waiting
    finishers[0]();
    await tick();
    expect(batches).toHaveLength(2);
    finishers[1]();
    await tick();
    expect(batches).toEqual([[1], [2, 3, 4, 5], [6]]);
    finishers[2]();
    expect(await Promise.all(calls)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('without overlapAt, up to maxInFlight batches run at once', () => {
    const { batches, run } = controlledRun();
    const b = new Batcher<number, number>(run, { maxInFlight: 2, maxItems: 4 });
    [1, 2, 3].forEach((i) => void b.submit(i));
    expect(batches).toEqual([[1], [2]]);
  });

  it('gives each running batch a slot no other running batch holds, and frees it when the batch ends', async () => {
    const slots: number[] = [];
    const finishers: (() => void)[] = [];
    const b = new Batcher<number, number>(
      (items, slot) =>
        new Promise<number[]>((resolve) => {
          slots.push(slot);
          finishers.push(() => resolve(items));
        }),
      { maxInFlight: 3, maxItems: 1 },
    );
    const calls = [1, 2, 3, 4, 5].map((i) => b.submit(i));
    expect(slots).toEqual([0, 1, 2]);
    finishers[1]();
    await tick();
    // slot 1 came free: the next batch takes it while 0 and 2 still run
    expect(slots).toEqual([0, 1, 2, 1]);
    finishers[0]();
    await tick();
    expect(slots).toEqual([0, 1, 2, 1, 0]);
    finishers.slice(2).forEach((f) => f());
    expect(await Promise.all(calls)).toEqual([1, 2, 3, 4, 5]);
  });

  it('a failed batch rejects each of its calls, and the next batch still runs', async () => {
    let n = 0;
    const b = new Batcher<number, number>(
      async (items) => {
        if (n++ === 0) throw new Error('boom');
        return items;
      },
      { maxInFlight: 1, maxItems: 10 },
    );
    const failing = b.submit(1);
    const next = b.submit(2);
    await expect(failing).rejects.toThrow('boom');
    expect(await next).toBe(2);
  });
});
