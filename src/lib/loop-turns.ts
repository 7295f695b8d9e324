/**
 * Turns of the event loop that take in new connections before synchronous work starts.
 *
 * libuv accepts one connection per turn of the event loop (it relies on the listening socket staying
 * readable). Where each turn also runs a synchronous group commit (better-sqlite3 blocks the loop for the
 * whole transaction, tens of ms for a group of 1,000 events), fifty clients that connect at once were
 * accepted one per commit, the last after 1.5–2.8 s (measured in bench scenario 3: the kernel's accept
 * queue held up to 25 of them). {@link afterQuietTurn} lets such work wait until a turn accepted nothing.
 */

/** Connections accepted so far by the servers handed to {@link countAcceptedConnections}. */
let accepted = 0;

/** Most turns {@link afterQuietTurn} takes (a storm of connections never holds the work back for long). */
export const MAX_ACCEPT_TURNS = 64;

/** Counts the connections `server` accepts (an HTTP or net server: its `connection` event). */
export function countAcceptedConnections(server: { on(event: 'connection', listener: () => void): unknown }): void {
  server.on('connection', () => {
    accepted++;
  });
}

/**
 * Calls `done` after two turns of the event loop (`setImmediate`; the first may run in the turn that called
 * this, before the loop polled again), or after more while each turn accepted a new connection, up to
 * {@link MAX_ACCEPT_TURNS}: the connections waiting in the accept queue are taken in, and the requests they
 * bring read, before the loop blocks again. A turn costs microseconds.
 */
export function afterQuietTurn(done: () => void): void {
  let seen: number | undefined;
  let turns = 0;
  const turn = () => {
    turns++;
    if ((seen === undefined || accepted !== seen) && turns < MAX_ACCEPT_TURNS) {
      seen = accepted;
      setImmediate(turn);
    } else done();
  };
  setImmediate(turn);
}
