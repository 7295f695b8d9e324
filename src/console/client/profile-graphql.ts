/** The profile page's GraphQL documents (typed by gql.tada from schema/schema.graphql, like graphql.ts). */
import { graphql } from './graphql';
import type { introspection } from './graphql-env.d.ts';

type EnumValues<Name extends keyof introspection['types']> = introspection['types'][Name] extends {
  enumValues: infer V;
}
  ? V
  : never;
export type Channel = EnumValues<'Channel'>;
export type PreferenceState = EnumValues<'PreferenceState'>;

/** Every channel once; the `Record` makes a channel added to the schema a type error here. */
const CHANNEL_SET: Record<Channel, true> = {
  EMAIL: true,
  SMS: true,
  PUSH: true,
  WEBHOOK: true,
  SLACK: true,
  MSTEAMS: true,
  WHATSAPP: true,
};
export const CHANNELS = Object.keys(CHANNEL_SET) as Channel[];

/** The traits that hold a profile's contact addresses (email, phone numbers), where suppressions are looked up. */
export const ADDRESS_TRAITS = ['email', 'phone_number', 'phone', 'sms', 'whatsapp'] as const;

export const RECENT = 10;

export const PROFILE_PAGE = graphql(`
  query ConsoleProfilePage($userId: String!, $recent: Int) {
    profile(userId: $userId) {
      userId
      anonymousIds
      createdAt
      updatedAt
      traits
      groups {
        groupId
        traits
      }
      preferences {
        topic
        channel
        state
        updatedAt
      }
    }
    topics {
      key
      name
    }
    events(first: $recent, filter: { userId: $userId }) {
      edges {
        node {
          id
          type
          name
          status
          receivedAt
        }
      }
    }
    messages(first: $recent, filter: { userId: $userId }) {
      edges {
        node {
          id
          status
          channel
          eventName
          createdAt
          template {
            key
          }
        }
      }
    }
  }
`);

export const SUPPRESSIONS_OF = graphql(`
  query ConsoleSuppressionsOf($address: String!) {
    suppressions(first: 50, filter: { address: $address }) {
      edges {
        node {
          address
          channel
          reason
          createdAt
          expiresAt
        }
      }
    }
  }
`);

export const MERGE_PROFILE = graphql(`
  mutation ConsoleMergeProfile($userId: String!, $traits: JSONObject!) {
    mergeProfile(userId: $userId, traits: $traits) {
      userId
      traits
      updatedAt
    }
  }
`);

export const REPLACE_PROFILE = graphql(`
  mutation ConsoleReplaceProfile($userId: String!, $traits: JSONObject!) {
    replaceProfile(userId: $userId, traits: $traits) {
      userId
      traits
      updatedAt
    }
  }
`);

export const SET_PREFERENCE = graphql(`
  mutation ConsoleSetPreference($userId: String!, $topic: String, $channel: Channel, $state: PreferenceState!) {
    setPreference(userId: $userId, topic: $topic, channel: $channel, state: $state) {
      topic
      channel
      state
    }
  }
`);

export const CLEAR_PREFERENCE = graphql(`
  mutation ConsoleClearPreference($userId: String!, $topic: String, $channel: Channel) {
    clearPreference(userId: $userId, topic: $topic, channel: $channel)
  }
`);

export const REMOVE_SUPPRESSION = graphql(`
  mutation ConsoleRemoveSuppression($address: String!, $channel: Channel!) {
    removeSuppression(address: $address, channel: $channel)
  }
`);

export const DELETE_PROFILE = graphql(`
  mutation ConsoleDeleteProfile($userId: String!) {
    deleteProfile(userId: $userId)
  }
`);
