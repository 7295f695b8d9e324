/**
 * The channel enum and its content keys. They are defined with the rest of each channel's traits
 * in the channel table, `./channels.ts`; this module keeps the names other modules import.
 */
export { ALL_CHANNELS, Channel, contentKey, type ChannelContentKey } from './channels';
