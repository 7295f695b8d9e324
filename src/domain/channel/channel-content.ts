/**
 * Per-channel template content (CONTRACT §3, `TemplateInput.content`). Strings are Handlebars
 * templates over `{ data, profile, event }`; the rendered form has the same shape with plain strings.
 */
export interface EmailContent {
  subject: string;
  html?: string;
  text?: string;
}
export interface SmsContent {
  body: string;
}
export interface PushContent {
  title: string;
  body: string;
}
export interface SlackContent {
  text: string;
}
export interface MsTeamsContent {
  text: string;
}
export interface WhatsAppContent {
  body: string;
}
/**
 * `body` is a JSON document whose string values are templates, or a template producing JSON text;
 * without it the webhook provider posts `{ event, userId, data, messageId }`.
 */
export interface WebhookContent {
  body?: unknown;
}

export interface ChannelContent {
  email?: EmailContent;
  sms?: SmsContent;
  push?: PushContent;
  slack?: SlackContent;
  msteams?: MsTeamsContent;
  whatsapp?: WhatsAppContent;
  webhook?: WebhookContent;
}
