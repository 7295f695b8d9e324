import { registerEnumType } from 'type-graphql';

/** The Segment spec calls Pigeon accepts. */
export enum EventType {
  IDENTIFY = 'IDENTIFY',
  TRACK = 'TRACK',
  GROUP = 'GROUP',
  PAGE = 'PAGE',
  SCREEN = 'SCREEN',
  ALIAS = 'ALIAS',
}

registerEnumType(EventType, { name: 'EventType', description: 'The Segment spec call' });
