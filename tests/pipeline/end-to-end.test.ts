import { Analytics } from '@segment/analytics-node';
import { SmtpFake } from '../helpers/fakes/smtp-fake';
import {
  configureProvider,
  createTemplate,
  historyOf,
  mapEvent,
  message,
  SMTP_LOGIN,
  smtpProvider,
} from '../helpers/pipeline';
import { startTestApp, uid, type TestApp } from '../helpers/test-app';

/**
 * The whole story with the real Segment library: identify → an unmapped track → a template is
 * created, published and mapped → the next track is emailed, rendered with its properties →
 * replayEvents sends the earlier one too, once.
 */
describe('Segment to inbox, end to end', () => {
  let t: TestApp;
  let smtp: SmtpFake;
  let analytics: Analytics;

  beforeAll(async () => {
    t = await startTestApp();
    smtp = await SmtpFake.start(SMTP_LOGIN);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as { port: number };
    analytics = new Analytics({
      writeKey: t.ws.ingestKey,
      host: `http://127.0.0.1:${port}`,
      flushInterval: 20,
      maxRetries: 1,
    });
  });
  afterAll(async () => {
    await analytics.closeAndFlush({ timeout: 5000 });
    await t.close();
    await smtp.close();
  });

  /** Sends through the library and waits for its delivery callback (the server answered). */
  function flushed(send: (done: (err?: unknown) => void) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => send((err) => (err ? reject(err) : resolve())));
  }

  const eventsOf = async (userId: string) =>
    (
      await t.gql(
        `query($u: String!) { events(filter: {userId: $u, type: TRACK}) { edges { node { id status properties: payload message { id status } } } } }`,
        { u: userId },
      )
    ).data!.events.edges.map((e: any) => e.node);

  it('sends mapped tracks by email and replays the earlier unmapped one exactly once', async () => {
    const userId = uid();
    await flushed((done) =>
      analytics.identify(
        {
          userId,
          traits: { email: `${userId}@example.com`, phone: '+15555550199', firstName: 'Grace' },
        },
        done,
      ),
    );
    await flushed((done) =>
      analytics.track({ userId, event: 'Order Shipped', properties: { orderId: 'A-1', carrier: 'Pigeon Post' } }, done),
    );

    const [early] = await eventsOf(userId);
    expect(early).toMatchObject({ status: 'UNMAPPED', message: null });

    await configureProvider(t, smtpProvider(smtp));
    const templateId = await createTemplate(t, {
      key: `shipped-${uid()}`,
      name: 'Order shipped',
      channels: ['EMAIL'],
      content: {
        email: {
          subject: 'Order {{data.orderId}} has shipped',
          html: '<p>Hi {{profile.firstName}}, {{data.carrier}} has order <b>{{data.orderId}}</b>.</p>',
          text: 'Hi {{profile.firstName}}, {{data.carrier}} has order {{data.orderId}}.',
        },
      },
    });
    await mapEvent(t, 'Segment-TrackEvent:Order Shipped', templateId);

    await flushed((done) =>
      analytics.track(
        {
          userId,
          event: 'Order Shipped',
          properties: { orderId: 'B-2', carrier: 'Raven & Co <express>' },
        },
        done,
      ),
    );
    const afterMapping = await eventsOf(userId);
    const late = afterMapping.find((e: any) => e.id !== early.id);
    expect(late.status).toBe('MAPPED');
    expect(late.message.status).toBe('ENQUEUED');

    const worker = t.worker();
    await worker.drain(300);
    const toUser = () => smtp.messages.filter((m) => m.envelope.to.includes(`${userId}@example.com`));
    expect(toUser()).toHaveLength(1);
    expect(toUser()[0].subject).toBe('Order B-2 has shipped');
    expect(toUser()[0].text).toContain('Hi Grace, Raven & Co <express> has order B-2.');
    expect(toUser()[0].html).toContain('Raven &amp; Co &lt;express&gt; has order <b>B-2</b>');
    const sent = await message(t, late.message.id);
    expect(sent).toMatchObject({
      status: 'SENT',
      channel: 'EMAIL',
      eventName: 'Segment-TrackEvent:Order Shipped',
      event: { id: late.id },
    });
    expect(historyOf(sent, 'ENQUEUED')[0]).toMatchObject({
      source: 'event',
      eventName: 'Segment-TrackEvent:Order Shipped',
    });

    const replayed = await t.gql('mutation($f: EventFilter!) { replayEvents(filter: $f) }', {
      f: { name: 'Segment-TrackEvent:Order Shipped', userId },
    });
    expect(replayed.data!.replayEvents).toBe(1);
    const again = await t.gql('mutation($f: EventFilter!) { replayEvents(filter: $f) }', {
      f: { name: 'Segment-TrackEvent:Order Shipped', userId },
    });
    expect(again.data!.replayEvents).toBe(0);
    await worker.drain(300);
    expect(
      toUser()
        .map((m) => m.subject)
        .sort(),
    ).toEqual(['Order A-1 has shipped', 'Order B-2 has shipped']);
    const [replayedEvent] = (await eventsOf(userId)).filter((e: any) => e.id === early.id);
    expect(replayedEvent.status).toBe('MAPPED');
    expect(replayedEvent.message.status).toBe('SENT');

    // mapping never applies twice: a new replay of everything finds nothing left
    expect((await t.gql('mutation { replayEvents(filter: {}) }')).data!.replayEvents).toBe(0);
    expect((await t.gql('mutation { replayEvents(filter: {type: IDENTIFY}) }')).data!.replayEvents).toBe(0);
  });

  it('a mapped track from an anonymous visitor is sent to the user it was merged into', async () => {
    const userId = uid();
    const anonymousId = uid('anon');
    await configureProvider(t, { channel: 'SMS', provider: 'log', config: { label: 'e2e' } });
    const templateId = await createTemplate(t, {
      key: `cart-${uid()}`,
      name: 'Cart',
      channels: ['SMS'],
      content: { sms: { body: 'Your cart: {{data.items}}' } },
    });
    await mapEvent(t, 'Segment-TrackEvent:Cart Abandoned', templateId);
    await flushed((done) =>
      analytics.identify({ userId, anonymousId, traits: { phone_number: '+15555550123' } }, done),
    );
    await flushed((done) => analytics.track({ anonymousId, event: 'Cart Abandoned', properties: { items: 3 } }, done));
    await t.worker().drain(300);
    const res = await t.gql(
      `query($u: String!) { messages(filter: {userId: $u}) { edges { node { status channel data userId } } } }`,
      { u: userId },
    );
    expect(res.data!.messages.edges).toEqual([
      { node: { status: 'SENT', channel: 'SMS', data: { items: 3 }, userId } },
    ]);
  });
});
