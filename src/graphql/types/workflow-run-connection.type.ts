import { WorkflowRun } from '../../domain/workflow/workflow-run';
import { connectionType } from './connection.type';

export const WorkflowRunConnection = connectionType(WorkflowRun, 'WorkflowRun');
