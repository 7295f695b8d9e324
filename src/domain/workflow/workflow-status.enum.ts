import { registerEnumType } from 'type-graphql';

/** `PUBLISHED` once a version has been published (the draft may have moved on since). */
export enum WorkflowStatus {
  DRAFT = 'DRAFT',
  PUBLISHED = 'PUBLISHED',
}

registerEnumType(WorkflowStatus, { name: 'WorkflowStatus' });
