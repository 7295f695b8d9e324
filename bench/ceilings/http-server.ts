/**
 * The bare HTTP ceilings, one Fastify server per run (its own process):
 *
 * - `echo`: `POST /segment` and `POST /v1/batch` parse the JSON body and answer 200; nothing stored.
 * - `insert`: `POST /segment` does one prepared INSERT of the message into the event-log copy
 *   (mysql2 pool of 10, autocommit: durable when answered); `POST /v1/batch` writes the batch's
 *   events with one multi-row INSERT (the orientation figure for batch ingest).
 *
 * Usage: http-server.ts <echo|insert> <port> [database]
 */
import Fastify from 'fastify';
import mysql from 'mysql2/promise';
import { EVENT_COLUMNS, eventRow, type Message } from '../lib/events';

const [mode, port, database] = process.argv.slice(2);

async function main(): Promise<void> {
  const app = Fastify({ logger: false, bodyLimit: 500 * 1024 });
  app.get('/healthz', async () => ({ ok: true }));

  if (mode === 'echo') {
    app.post('/segment', async (request, reply) =>
      reply.code(200).send({ messageId: (request.body as Message).messageId }),
    );
    app.post('/v1/batch', async (request, reply) => {
      const { batch } = request.body as { batch: Message[] };
      return reply.code(200).send({ success: true, n: batch.length });
    });
  } else if (mode === 'insert') {
    const pool = mysql.createPool({
      host: '127.0.0.1',
      port: 3306,
      user: 'root',
      database,
      connectionLimit: 10,
      charset: 'utf8mb4_unicode_ci',
    });
    const insertOne = `INSERT INTO inbound_events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
    app.post('/segment', async (request, reply) => {
      const m = request.body as Message;
      await pool.execute(insertOne, eventRow(m, new Date()) as any[]);
      return reply.code(200).send({ messageId: m.messageId });
    });
    app.post('/v1/batch', async (request, reply) => {
      const { batch } = request.body as { batch: Message[] };
      const now = new Date();
      await pool.query(`INSERT INTO inbound_events (${EVENT_COLUMNS}) VALUES ?`, [batch.map((m) => eventRow(m, now))]);
      return reply.code(200).send({ success: true });
    });
    app.addHook('onClose', async () => pool.end());
  } else {
    throw new Error(`unknown mode ${mode}`);
  }

  await app.listen({ port: Number(port), host: '127.0.0.1' });
  const close = () => void app.close().finally(() => process.exit(0));
  process.on('SIGTERM', close);
  process.on('SIGINT', close);
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
