/**
 * The GraphQL documents the web console (`GET /console`) sends to `POST /graphql`. They live here, not in
 * the page, so the route injects them into the HTML as JSON and the tests validate each one against the
 * real schema (tests/console). Every document is read-only: the console changes nothing.
 */

/** What the console shows of an event, in the list and in the detail. */
const EVENT_FIELDS = /* GraphQL */ `
  fragment ConsoleEventFields on InboundEvent {
    id
    type
    name
    userId
    anonymousId
    messageId
    status
    timestamp
    receivedAt
  }
`;

export const EVENTS_QUERY = /* GraphQL */ `
  query ConsoleEvents($first: Int, $after: String, $filter: EventFilter) {
    events(first: $first, after: $after, filter: $filter) {
      edges {
        cursor
        node {
          ...ConsoleEventFields
        }
      }
      pageInfo {
        endCursor
        hasNextPage
      }
    }
  }
  ${EVENT_FIELDS}
`;

export const EVENT_QUERY = /* GraphQL */ `
  query ConsoleEvent($id: ID!) {
    event(id: $id) {
      ...ConsoleEventFields
      payload
      message {
        id
        status
      }
    }
  }
  ${EVENT_FIELDS}
`;

export const EVENT_NAMES_QUERY = /* GraphQL */ `
  query ConsoleEventNames {
    eventNames {
      name
      count
      lastSeenAt
      mapping {
        eventName
        createdAt
        updatedAt
        template {
          id
          key
          name
          status
        }
      }
    }
  }
`;

export const PROFILES_QUERY = /* GraphQL */ `
  query ConsoleProfiles($first: Int, $after: String, $filter: ProfileFilter) {
    profiles(first: $first, after: $after, filter: $filter) {
      edges {
        cursor
        node {
          userId
          anonymousIds
          createdAt
          updatedAt
        }
      }
      pageInfo {
        endCursor
        hasNextPage
      }
    }
  }
`;

export const PROFILE_QUERY = /* GraphQL */ `
  query ConsoleProfile($userId: String!) {
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
    }
  }
`;

export const MESSAGES_QUERY = /* GraphQL */ `
  query ConsoleMessages($first: Int, $after: String, $filter: MessageFilter) {
    messages(first: $first, after: $after, filter: $filter) {
      edges {
        cursor
        node {
          id
          userId
          status
          channel
          eventName
          reason
          createdAt
          updatedAt
          template {
            id
            key
          }
        }
      }
      pageInfo {
        endCursor
        hasNextPage
      }
    }
  }
`;

export const MESSAGE_QUERY = /* GraphQL */ `
  query ConsoleMessage($id: ID!) {
    message(id: $id) {
      id
      userId
      status
      channel
      eventName
      reason
      idempotencyKey
      templateVersion
      createdAt
      updatedAt
      data
      template {
        id
        key
        name
      }
      event {
        id
        name
      }
      deliveries {
        channel
        provider
        status
        attempts
        externalId
        lastError
        sentAt
      }
      history {
        at
        type
        detail
      }
    }
  }
`;

export const TEMPLATES_QUERY = /* GraphQL */ `
  query ConsoleTemplates {
    templates {
      id
      key
      name
      status
      channels
      publishedVersion
      createdAt
      updatedAt
    }
  }
`;

export const ROUTING_RULES_QUERY = /* GraphQL */ `
  query ConsoleRoutingRules {
    routingRules {
      id
      name
      action
      method
      channels
      priority
      enabled
      templateId
      when
      createdAt
    }
  }
`;

/** Every document, by the name the page's script uses. */
export const CONSOLE_QUERIES = {
  events: EVENTS_QUERY,
  event: EVENT_QUERY,
  eventNames: EVENT_NAMES_QUERY,
  profiles: PROFILES_QUERY,
  profile: PROFILE_QUERY,
  messages: MESSAGES_QUERY,
  message: MESSAGE_QUERY,
  templates: TEMPLATES_QUERY,
  routingRules: ROUTING_RULES_QUERY,
} as const;

export type ConsoleQueryName = keyof typeof CONSOLE_QUERIES;
