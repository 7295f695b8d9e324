import type { Channel, CHANNELS } from './channels';

/**
 * Per-channel template content (`TemplateInput.content`; README.md, "From event to notification: a
 * walk-through", step 2), typed from the channel table's content fields (`./channels.ts`). Strings are
 * Handlebars templates over `{ data, profile, event }`; the rendered form has the same shape with plain strings.
 */

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type Fields<C extends Channel> = (typeof CHANNELS)[C]['content'];
type FieldValue<F> = F extends { readonly type: 'json' } ? unknown : string;
type RequiredField<C extends Channel> = {
  [K in keyof Fields<C>]: Fields<C>[K] extends { readonly required: true } ? K : never;
}[keyof Fields<C>];

/** The content of channel `C`: its required fields, and the optional ones marked `?`. */
export type ContentOf<C extends Channel> = Simplify<
  { -readonly [K in keyof Fields<C> as K extends RequiredField<C> ? K : never]: FieldValue<Fields<C>[K]> } & {
    -readonly [K in keyof Fields<C> as K extends RequiredField<C> ? never : K]?: FieldValue<Fields<C>[K]>;
  }
>;

/** The content of each channel, by channel. */
export type ContentByChannel = { [C in Channel]: ContentOf<C> };

/** `{ subject, html?, text? }` */
export type EmailContent = ContentOf<Channel.EMAIL>;
/** `{ body }` */
export type SmsContent = ContentOf<Channel.SMS>;
/** `{ title, body }` */
export type PushContent = ContentOf<Channel.PUSH>;
/** `{ text }` */
export type SlackContent = ContentOf<Channel.SLACK>;
/** `{ text }` */
export type MsTeamsContent = ContentOf<Channel.MSTEAMS>;
/** `{ body }` */
export type WhatsAppContent = ContentOf<Channel.WHATSAPP>;
/**
 * `{ body? }`: a JSON document whose string values are templates, or a template producing JSON
 * text; without it the webhook provider posts `{ event, userId, data, messageId }`.
 */
export type WebhookContent = ContentOf<Channel.WEBHOOK>;

/** Template content: an entry per channel, under the channel's content key (`email`, `sms`, …). */
export type ChannelContent = { [C in Channel as Lowercase<C>]?: ContentOf<C> };
