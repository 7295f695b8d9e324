import { registerEnumType } from 'type-graphql';
import { singleEmailAddress } from './email-address';

/**
 * The channel table: every channel Pigeon can deliver on, in one place. Template validation and
 * rendering, the address look-up, the provider contract's content types and the GraphQL template
 * input are all derived from it. Adding a channel: `src/plugins/providers/README.md`, "Adding a channel".
 */

/** The channels a message can go out on. */
export enum Channel {
  EMAIL = 'EMAIL',
  SMS = 'SMS',
  PUSH = 'PUSH',
  SLACK = 'SLACK',
  MSTEAMS = 'MSTEAMS',
  WHATSAPP = 'WHATSAPP',
  WEBHOOK = 'WEBHOOK',
}

registerEnumType(Channel, { name: 'Channel', description: 'A delivery channel' });

/** One field of a channel's template content. */
export interface ContentField {
  /** A required field must be present and not blank. */
  readonly required: boolean;
  /**
   * `template` (the default): a Handlebars template string. `json`: a JSON document whose string
   * leaves are templates, or one template producing JSON text.
   */
  readonly type?: 'template' | 'json';
  /** Render with HTML escaping (only `email.html`); every other field is rendered as is. */
  readonly escapeHtml?: boolean;
  /** What is used when an optional field is left out, when something is (shown in the API description). */
  readonly absent?: string;
}

/** A row of the channel table. */
export interface ChannelDefinition<C extends Channel = Channel> {
  /** The channel's key in template content (`TemplateInput.content`): its enum value in lower case. */
  readonly contentKey: Lowercase<C>;
  /** Human-readable name. */
  readonly label: string;
  /** The fields of its template content, in the order they are checked and described. */
  readonly content: { readonly [field: string]: ContentField };
  /** At least one of these (optional) fields must be given, e.g. email's `html` or `text`. */
  readonly oneOf?: readonly string[];
  readonly address: {
    /**
     * Profile traits that may hold the address (dotted paths), tried in order: the first present
     * one wins. Empty when the address is part of the provider's configuration (WEBHOOK's URL).
     */
    readonly traits: readonly string[];
    /** True when the address is a credential (a device token, an access token, a webhook URL), not a contact. */
    readonly credential: boolean;
    /**
     * Checks a trait's value before it is used as the address (traits come from ingest: untrusted). Returns
     * the address to use (e.g. trimmed), or why the value is not usable: the channel is then unavailable
     * for that profile, with the reason in the routing decision's CHANNELS entry.
     */
    readonly validate?: (value: unknown) => { ok: true; address: unknown } | { ok: false; reason: string };
  };
}

/** The channel table. A channel missing here, or a row with another content key, does not compile. */
export const CHANNELS = {
  [Channel.EMAIL]: {
    contentKey: 'email',
    label: 'Email',
    content: {
      subject: { required: true },
      html: { required: false, escapeHtml: true },
      text: { required: false },
    },
    oneOf: ['html', 'text'],
    // exactly one address: a list would send one message to several people
    address: { traits: ['email'], credential: false, validate: singleEmailAddress },
  },
  [Channel.SMS]: {
    contentKey: 'sms',
    label: 'SMS',
    content: { body: { required: true } },
    address: { traits: ['phone_number', 'phone', 'sms'], credential: false },
  },
  [Channel.PUSH]: {
    contentKey: 'push',
    label: 'Push notification',
    content: { title: { required: true }, body: { required: true } },
    address: { traits: ['firebaseToken', 'apn', 'tokens.push'], credential: true },
  },
  [Channel.SLACK]: {
    contentKey: 'slack',
    label: 'Slack',
    content: { text: { required: true } },
    address: { traits: ['slack', 'tokens.slackToken'], credential: true },
  },
  [Channel.MSTEAMS]: {
    contentKey: 'msteams',
    label: 'Microsoft Teams',
    content: { text: { required: true } },
    address: { traits: ['ms_teams', 'tokens.microsoftTeamsToken'], credential: true },
  },
  [Channel.WHATSAPP]: {
    contentKey: 'whatsapp',
    label: 'WhatsApp',
    content: { body: { required: true } },
    address: { traits: ['whatsapp', 'phone_number', 'tokens.whatsAppToken'], credential: false },
  },
  [Channel.WEBHOOK]: {
    contentKey: 'webhook',
    label: 'Webhook',
    content: {
      body: {
        required: false,
        type: 'json',
        absent: 'the webhook provider posts { event, userId, data, messageId }',
      },
    },
    address: { traits: [], credential: false },
  },
} as const satisfies { readonly [C in Channel]: ChannelDefinition<C> };

/** Every channel, in the enum's order. */
export const ALL_CHANNELS = Object.values(Channel);

/** The key of a channel's entry in template content: `EMAIL` → `email`. */
export type ChannelContentKey = (typeof CHANNELS)[Channel]['contentKey'];

/** The key of a channel's entry in template content: `EMAIL` → `email` (the table's rows are typed to agree). */
export function contentKey(channel: Channel): ChannelContentKey {
  return channel.toLowerCase() as ChannelContentKey;
}

/** The row of `channel`. */
export function channelDefinition(channel: Channel): ChannelDefinition {
  return CHANNELS[channel];
}

const BY_CONTENT_KEY = new Map<string, Channel>(ALL_CHANNELS.map((c) => [CHANNELS[c].contentKey, c]));

/** The channel whose content key is `key`, or undefined. */
export function channelOfContentKey(key: string): Channel | undefined {
  return BY_CONTENT_KEY.get(key);
}

/** Every content key, in the enum's order: `email, sms, …`. */
export const CONTENT_KEYS: readonly ChannelContentKey[] = ALL_CHANNELS.map(contentKey);

/**
 * The content fields of every channel in words, for API descriptions: `email {subject, html?, text?},
 * sms {body}, …` (`?` marks a field that may be left out with nothing in its place).
 */
export function describeChannelContent(): string {
  return ALL_CHANNELS.map((c) => {
    const fields = Object.entries(channelDefinition(c).content).map(([name, field]) =>
      field.required || field.absent ? name : `${name}?`,
    );
    return `${contentKey(c)} {${fields.join(', ')}}`;
  }).join(', ');
}
