import { registerEnumType } from 'type-graphql';

/** What a matching rule does: route the message, or suppress it (`FILTERED`). */
export enum RoutingAction {
  ROUTE = 'ROUTE',
  SUPPRESS = 'SUPPRESS',
}

/** `SINGLE`: the first available channel, the next one if it fails for good. `ALL`: every available channel. */
export enum RoutingMethod {
  SINGLE = 'SINGLE',
  ALL = 'ALL',
}

registerEnumType(RoutingAction, { name: 'RoutingAction' });
registerEnumType(RoutingMethod, { name: 'RoutingMethod' });
