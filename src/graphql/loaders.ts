import DataLoader from 'dataloader';
import type { InboundEvent } from '../domain/event-log/inbound-event.entity';
import type { Group } from '../domain/group/group.entity';
import type { EventMapping } from '../domain/mapping/event-mapping.entity';
import type { Delivery } from '../domain/message/delivery.entity';
import type { Message } from '../domain/message/message.entity';
import type { MessageHistory } from '../domain/message/message-history.entity';
import type { Preference } from '../domain/preference/preference.entity';
import type { RequestContext } from '../domain/request-context';
import type { Template } from '../domain/template/template.entity';
import type { TemplateVersionRecord } from '../domain/template/template.service';
import type { Services } from '../services';
import type { Workflow } from '../domain/workflow/workflow.entity';
import type { WorkflowRun } from '../domain/workflow/workflow-run';
import type { WorkflowVersionRecord } from '../domain/workflow/workflow.service';

/** Per-request DataLoaders: a page of 50 messages or events costs a constant number of queries. */
export interface Loaders {
  anonymousIds: DataLoader<string, string[]>;
  groups: DataLoader<string, Group[]>;
  templates: DataLoader<string, Template | null>;
  messages: DataLoader<string, Message | null>;
  events: DataLoader<string, InboundEvent | null>;
  deliveries: DataLoader<string, Delivery[]>;
  history: DataLoader<string, MessageHistory[]>;
  mappings: DataLoader<string, EventMapping | null>;
  workflows: DataLoader<string, Workflow | null>;
  runs: DataLoader<string, WorkflowRun | null>;
  runHistory: DataLoader<string, MessageHistory[]>;
  runMessages: DataLoader<string, Message[]>;
  preferences: DataLoader<string, Preference[]>;
  templateVersions: DataLoader<string, TemplateVersionRecord[]>;
  workflowVersions: DataLoader<string, WorkflowVersionRecord[]>;
}

function loader<V>(load: (keys: readonly string[]) => Promise<Map<string, V>>, missing: V): DataLoader<string, V> {
  return new DataLoader(async (keys) => {
    const map = await load(keys);
    return keys.map((k) => map.get(k) ?? missing);
  });
}

export function createLoaders(services: Services, ctx: RequestContext): Loaders {
  return {
    anonymousIds: loader((ids) => services.profiles.anonymousIdsOf(ctx, ids), [] as string[]),
    groups: loader((ids) => services.groups.groupsOf(ctx, ids), [] as Group[]),
    templates: loader((ids) => services.templates.getByIds(ctx, ids), null as Template | null),
    messages: loader((ids) => services.messages.getByIds(ctx, ids), null as Message | null),
    events: loader((ids) => services.events.getByIds(ctx, ids), null as InboundEvent | null),
    // deliveries and history are only reached through a message of this workspace
    deliveries: loader((ids) => services.messages.deliveriesOf(ids), [] as Delivery[]),
    history: loader((ids) => services.messages.historyOf(ids), [] as MessageHistory[]),
    mappings: loader((names) => services.mappings.getByNames(ctx, names), null as EventMapping | null),
    workflows: loader((ids) => services.workflows.getByIds(ctx, ids), null as Workflow | null),
    runs: loader((ids) => services.runs.getByIds(ctx, ids), null as WorkflowRun | null),
    // a run's history and messages are only reached through a run of this workspace
    runHistory: loader((ids) => services.runs.historyOf(ids), [] as MessageHistory[]),
    runMessages: loader((ids) => services.messages.ofRuns(ids), [] as Message[]),
    preferences: loader((ids) => services.preferences.byUsers(ctx, ids), [] as Preference[]),
    // every published version of each template / workflow, newest first
    templateVersions: loader((ids) => services.templates.versionHistory(ctx, ids), [] as TemplateVersionRecord[]),
    workflowVersions: loader((ids) => services.workflows.versionHistory(ctx, ids), [] as WorkflowVersionRecord[]),
  };
}
