/**
 * The GraphQL documents of the Templates pages (list, editor, live preview), typed by gql.tada like those of
 * graphql.ts; kept apart so the template editor's documents change without touching the shared file.
 */
import { graphql } from './graphql';

export const TEMPLATE_LIST = graphql(`
  query ConsoleTemplateList {
    templates {
      id
      key
      name
      status
      channels
      topic
      publishedVersion
      hasUnpublishedChanges
      updatedAt
    }
    eventNames {
      name
      mapping {
        template {
          id
        }
      }
    }
  }
`);

/** What the editor of one template (or of a new one, without `id`) needs. */
export const TEMPLATE_EDITOR = graphql(`
  query ConsoleTemplateEditor($id: ID, $withTemplate: Boolean!) {
    template(id: $id) @include(if: $withTemplate) {
      id
      key
      name
      status
      channels
      topic
      draft
      published
      publishedVersion
      hasUnpublishedChanges
      updatedAt
    }
    topics {
      key
      name
    }
    eventNames {
      name
      lastSeenAt
      mapping {
        template {
          id
        }
      }
    }
  }
`);

/** The latest event of a name: its properties are the preview's default sample data, its user the default profile. */
export const LATEST_EVENT = graphql(`
  query ConsoleLatestEvent($name: String!) {
    events(first: 1, filter: { name: $name }) {
      edges {
        node {
          id
          userId
          anonymousId
          payload
        }
      }
    }
  }
`);

export const CREATE_TEMPLATE = graphql(`
  mutation ConsoleCreateTemplate($input: TemplateInput!) {
    createTemplate(input: $input) {
      id
      status
      publishedVersion
      hasUnpublishedChanges
      published
    }
  }
`);

export const UPDATE_TEMPLATE = graphql(`
  mutation ConsoleUpdateTemplate($id: ID!, $input: TemplateInput!) {
    updateTemplate(id: $id, input: $input) {
      id
      status
      publishedVersion
      hasUnpublishedChanges
      published
    }
  }
`);

export const PUBLISH_TEMPLATE = graphql(`
  mutation ConsolePublishTemplate($id: ID!) {
    publishTemplate(id: $id) {
      id
      status
      publishedVersion
      hasUnpublishedChanges
      published
    }
  }
`);

export const PREVIEW_TEMPLATE = graphql(`
  query ConsolePreviewTemplate($content: JSONObject, $data: JSONObject, $userId: String) {
    previewTemplate(content: $content, data: $data, userId: $userId) {
      rendered
      missingVariables
    }
  }
`);

/** Every published version of a template, newest first (the editor's Versions list). */
export const TEMPLATE_VERSIONS = graphql(`
  query ConsoleTemplateVersions($id: ID!) {
    template(id: $id) {
      id
      versions {
        version
        channels
        content
        topic
        publishedAt
      }
    }
  }
`);
