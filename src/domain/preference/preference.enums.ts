import { registerEnumType } from 'type-graphql';

/** A topic's state for a user who has no preference row that decides (README, "Preferences and topics"). */
export enum TopicState {
  /** Sent unless the user opted out. */
  ON = 'ON',
  /** Sent only to users who opted in. */
  OFF = 'OFF',
  /** Always sent: preferences (and the `unsubscribed` trait) are not consulted. */
  REQUIRED = 'REQUIRED',
}

/** What a preference row says. */
export enum PreferenceState {
  OPTED_IN = 'OPTED_IN',
  OPTED_OUT = 'OPTED_OUT',
}

registerEnumType(TopicState, {
  name: 'TopicState',
  description: 'A topic default: ON (sent unless opted out), OFF (only to those opted in), REQUIRED (always sent)',
});
registerEnumType(PreferenceState, { name: 'PreferenceState' });
