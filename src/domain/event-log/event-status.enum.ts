import { registerEnumType } from 'type-graphql';

/**
 * identify/group/page/screen/alias are `PROCESSED`; a track is `UNMAPPED` until a mapping
 * turns it into a message, then `MAPPED`.
 */
export enum EventStatus {
  PROCESSED = 'PROCESSED',
  UNMAPPED = 'UNMAPPED',
  MAPPED = 'MAPPED',
}

registerEnumType(EventStatus, { name: 'EventStatus', description: 'What became of an inbound event' });
