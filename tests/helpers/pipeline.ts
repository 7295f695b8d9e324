import type { TestApp } from './test-app';

/** GraphQL calls a mapping script would make, for the pipeline tests. */
export const MESSAGE_FIELDS = `id status reason userId data channel templateVersion eventName createdAt
  template { id key }
  event { id name }
  deliveries { channel provider status attempts lastError externalId sentAt }
  history { at type detail }`;

async function ok<T>(t: TestApp, query: string, variables: Record<string, unknown>, key?: string): Promise<T> {
  const res = await t.gql(query, variables, key);
  if (res.errors) throw new Error(`GraphQL error: ${JSON.stringify(res.errors)}`);
  return res.data as T;
}

export async function createTemplate(
  t: TestApp,
  input: Record<string, unknown>,
  publish = true,
  key?: string,
): Promise<string> {
  const { createTemplate } = await ok<any>(
    t,
    'mutation($i: TemplateInput!) { createTemplate(input: $i) { id } }',
    { i: input },
    key,
  );
  if (publish)
    await ok(
      t,
      'mutation($id: ID!) { publishTemplate(id: $id) { id publishedVersion } }',
      { id: createTemplate.id },
      key,
    );
  return createTemplate.id;
}

export async function mapEvent(t: TestApp, eventName: string, templateId: string, key?: string): Promise<void> {
  await ok(
    t,
    'mutation($n: String!, $t: ID!) { mapEvent(eventName: $n, templateId: $t) { eventName } }',
    { n: eventName, t: templateId },
    key,
  );
}

/** The login the pipeline tests' SMTP fake accepts: `SmtpFake.start(SMTP_LOGIN)`. */
export const SMTP_LOGIN = { username: 'mailer', password: 'smtp-pass' };

/** `configureProvider` input: the `smtp` provider for EMAIL, sending through `smtp` with {@link SMTP_LOGIN}. */
export function smtpProvider(smtp: { host: string; port: number }): Record<string, unknown> {
  return {
    channel: 'EMAIL',
    provider: 'smtp',
    config: {
      host: smtp.host,
      port: smtp.port,
      secure: false,
      allowPlaintext: true, // the fake offers no STARTTLS
      ...SMTP_LOGIN,
      from: 'Pigeon <pigeon@example.com>',
    },
  };
}

export async function configureProvider(t: TestApp, input: Record<string, unknown>, key?: string): Promise<string> {
  const { configureProvider } = await ok<any>(
    t,
    'mutation($i: ProviderConfigInput!) { configureProvider(input: $i) { id } }',
    { i: input },
    key,
  );
  return configureProvider.id;
}

export async function createRule(t: TestApp, input: Record<string, unknown>, key?: string): Promise<string> {
  const { createRoutingRule } = await ok<any>(
    t,
    'mutation($i: RoutingRuleInput!) { createRoutingRule(input: $i) { id } }',
    { i: input },
    key,
  );
  return createRoutingRule.id;
}

export async function send(t: TestApp, input: Record<string, unknown>, key?: string): Promise<any> {
  const { send } = await ok<any>(
    t,
    `mutation($i: SendInput!) { send(input: $i) { ${MESSAGE_FIELDS} } }`,
    { i: input },
    key,
  );
  return send;
}

export async function message(t: TestApp, id: string, key?: string): Promise<any> {
  const { message } = await ok<any>(t, `query($id: ID!) { message(id: $id) { ${MESSAGE_FIELDS} } }`, { id }, key);
  return message;
}

export async function identify(
  t: TestApp,
  userId: string,
  traits: Record<string, unknown>,
  key?: string,
): Promise<void> {
  const res = await t.send('/v1/identify', { userId, traits }, key);
  if (res.statusCode !== 200) throw new Error(`identify failed: ${res.body}`);
}

/** The history entry types of a message, in order. */
export const historyTypes = (m: any): string[] => m.history.map((h: any) => h.type);
export const historyOf = (m: any, type: string): any[] =>
  m.history.filter((h: any) => h.type === type).map((h: any) => h.detail);
