import { fcmProvider } from './fcm/fcm.provider';
import type { Logger } from 'pino';
import { createLogProvider, logProvider } from './log/log.provider';
import { msTeamsProvider } from './msteams/msteams.provider';
import { sendgridProvider } from './sendgrid/sendgrid.provider';
import { slackProvider } from './slack/slack.provider';
import { smtpProvider } from './smtp/smtp.provider';
import { twilioProvider } from './twilio/twilio.provider';
import type { ProviderDefinition } from '../../domain/provider/provider-plugin';
import { webhookProvider } from './webhook/webhook.provider';

/**
 * The installed provider plugins, listed explicitly (no discovery, no globs). To add one, write
 * its definition (see README.md in this folder) and add it here.
 */
export const PROVIDERS: readonly ProviderDefinition[] = [
  smtpProvider,
  sendgridProvider,
  twilioProvider,
  slackProvider,
  msTeamsProvider,
  fcmProvider,
  webhookProvider,
  logProvider,
];

/** The installed plugins, with the `log` provider writing to `logger` (the app's) when given. */
export function installedProviders(logger?: Logger): readonly ProviderDefinition[] {
  return logger ? PROVIDERS.map((p) => (p === logProvider ? createLogProvider(logger) : p)) : PROVIDERS;
}
