/**
 * The webhook provider fake of scenario 5: a bare node:http server on 127.0.0.1 that answers 200 to
 * every POST and counts deliveries by `Idempotency-Key` header and by message (the `n` the template
 * renders from the track's properties; set = floor(n / 1e6)).
 *
 * Usage: webhook-fake.ts <port>. IPC: `{type: 'stats'}` → `{type: 'stats', sets: {...}}`.
 */
import http from 'node:http';

interface SetStats {
  requests: number;
  byN: Map<number, number>;
  byKey: Map<string, number>;
  firstAt: number;
  lastAt: number;
  /** Date.now() when the expected number of distinct messages had arrived. */
  completeAt: number;
  expected: number;
}

const sets = new Map<number, SetStats>();
let unparsable = 0;
let missingKey = 0;

function setOf(id: number): SetStats {
  let s = sets.get(id);
  if (!s) {
    s = { requests: 0, byN: new Map(), byKey: new Map(), firstAt: 0, lastAt: 0, completeAt: 0, expected: 0 };
    sets.set(id, s);
  }
  return s;
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    let n: number;
    try {
      n = Number(JSON.parse(Buffer.concat(chunks).toString('utf8')).n);
    } catch {
      n = NaN;
    }
    if (!Number.isFinite(n)) unparsable++;
    else {
      const s = setOf(Math.floor(n / 1e6));
      s.requests++;
      s.firstAt ||= now;
      s.lastAt = now;
      s.byN.set(n, (s.byN.get(n) ?? 0) + 1);
      const key = req.headers['idempotency-key'];
      if (typeof key === 'string') s.byKey.set(key, (s.byKey.get(key) ?? 0) + 1);
      else missingKey++;
      if (!s.completeAt && s.expected && s.byN.size >= s.expected) s.completeAt = now;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"id":"ok"}');
  });
});

process.on('message', (m: any) => {
  if (m?.type === 'expect') {
    const s = setOf(m.set);
    s.expected = m.count;
    if (!s.completeAt && s.byN.size >= s.expected) s.completeAt = Date.now();
  }
  if (m?.type === 'stats') {
    const out: Record<string, unknown> = {};
    for (const [id, s] of sets) {
      let doubledByN = 0;
      let doubledByKey = 0;
      for (const c of s.byN.values()) if (c > 1) doubledByN += c - 1;
      for (const c of s.byKey.values()) if (c > 1) doubledByKey += c - 1;
      out[id] = {
        requests: s.requests,
        distinct: s.byN.size,
        distinctKeys: s.byKey.size,
        doubledByN,
        doubledByKey,
        firstAt: s.firstAt,
        lastAt: s.lastAt,
        completeAt: s.completeAt,
        expected: s.expected,
      };
    }
    process.send!({ type: 'stats', sets: out, unparsable, missingKey });
  }
});

server.keepAliveTimeout = 30_000;
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.send!({ type: 'ready' }));
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
