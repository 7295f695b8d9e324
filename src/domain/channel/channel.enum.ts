import { registerEnumType } from 'type-graphql';

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

export const ALL_CHANNELS = Object.values(Channel);

/** The key of a channel's entry in template content: `EMAIL` → `email`. */
export function contentKey(channel: Channel): ChannelContentKey {
  return channel.toLowerCase() as ChannelContentKey;
}

export type ChannelContentKey = 'email' | 'sms' | 'push' | 'slack' | 'msteams' | 'whatsapp' | 'webhook';
