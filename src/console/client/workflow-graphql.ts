/** The workflow pages' GraphQL documents (typed by gql.tada from schema/schema.graphql, like graphql.ts). */
import { graphql } from './graphql';
import type { introspection } from './graphql-env.d.ts';

type EnumValues<Name extends keyof introspection['types']> = introspection['types'][Name] extends {
  enumValues: infer V;
}
  ? V
  : never;
export type WorkflowRunStatus = EnumValues<'WorkflowRunStatus'>;

/** Every run status, listed once: the `Record` makes a status added to or removed from the schema a type error. */
const RUN_STATUS_SET: Record<WorkflowRunStatus, true> = {
  RUNNING: true,
  WAITING: true,
  COMPLETED: true,
  EXITED: true,
  CANCELLED: true,
  THROTTLED: true,
  DIGESTED: true,
  FAILED: true,
};
export const RUN_STATUSES = Object.keys(RUN_STATUS_SET) as WorkflowRunStatus[];

export const WORKFLOWS = graphql(`
  query ConsoleWorkflows {
    workflows {
      id
      key
      name
      status
      publishedVersion
      topic
      window
      updatedAt
    }
  }
`);

export const WORKFLOW = graphql(`
  query ConsoleWorkflow($id: ID!) {
    workflow(id: $id) {
      id
      key
      name
      status
      publishedVersion
      draft
      published
      updatedAt
    }
  }
`);

export const WORKFLOW_TEMPLATES = graphql(`
  query ConsoleWorkflowTemplates {
    templates {
      key
      name
      publishedVersion
    }
  }
`);

export const CREATE_WORKFLOW = graphql(`
  mutation ConsoleCreateWorkflow($input: WorkflowInput!) {
    createWorkflow(input: $input) {
      id
    }
  }
`);

export const UPDATE_WORKFLOW = graphql(`
  mutation ConsoleUpdateWorkflow($id: ID!, $input: WorkflowInput!) {
    updateWorkflow(id: $id, input: $input) {
      id
      draft
      updatedAt
    }
  }
`);

export const PUBLISH_WORKFLOW = graphql(`
  mutation ConsolePublishWorkflow($id: ID!) {
    publishWorkflow(id: $id) {
      id
      status
      publishedVersion
    }
  }
`);

export const WORKFLOW_RUNS = graphql(`
  query ConsoleWorkflowRuns($first: Int, $after: String, $filter: WorkflowRunFilter) {
    workflowRuns(first: $first, after: $after, filter: $filter) {
      edges {
        cursor
        node {
          id
          userId
          status
          step
          resumeAt
          createdAt
          cancelKey
          workflow {
            key
            name
          }
        }
      }
      pageInfo {
        endCursor
        hasNextPage
      }
    }
  }
`);

export const WORKFLOW_RUN = graphql(`
  query ConsoleWorkflowRun($id: ID!) {
    workflowRun(id: $id) {
      id
      userId
      status
      reason
      step
      resumeAt
      timezone
      version
      cancelKey
      createdAt
      updatedAt
      data
      event {
        id
        name
      }
      workflow {
        id
        key
        name
      }
      messages {
        id
        status
        channel
        createdAt
        template {
          key
        }
      }
      history {
        at
        type
        detail
      }
    }
  }
`);

export const CANCEL_RUNS = graphql(`
  mutation ConsoleCancelRuns($workflowKey: String!, $cancelKey: String!) {
    cancelRuns(workflowKey: $workflowKey, cancelKey: $cancelKey)
  }
`);

export const TRIGGER_RUN = graphql(`
  mutation ConsoleTrigger($input: TriggerInput!) {
    trigger(input: $input) {
      id
      status
      userId
      createdAt
      workflow {
        key
      }
    }
  }
`);

export const MAP_CANCEL = graphql(`
  mutation ConsoleMapCancel($eventName: String!, $keyPath: String!, $workflowId: ID!) {
    mapCancel(eventName: $eventName, keyPath: $keyPath, workflowId: $workflowId) {
      eventName
      keyPath
    }
  }
`);

export const CANCEL_RUN = graphql(`
  mutation ConsoleCancelRun($id: ID!) {
    cancelRun(id: $id) {
      id
      status
    }
  }
`);
