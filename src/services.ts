import type { Config } from './config';
import type { Database } from './db/database';
import { EventLogService } from './domain/event-log/event-log.service';
import { EventRetentionService } from './domain/event-log/retention.service';
import { GroupService } from './domain/group/group.service';
import { EventMapper } from './domain/mapping/event-mapper';
import { MappingService } from './domain/mapping/mapping.service';
import { MessageService } from './domain/message/message.service';
import { MessageStore } from './domain/message/message-store';
import { ProfileService } from './domain/profile/profile.service';
import { ProviderConfigService } from './domain/provider/provider-config.service';
import { CallbackIntakeService } from './domain/callback/callback-intake.service';
import { CallbackStore } from './domain/callback/callback-store';
import { SecretBox } from './domain/provider/secret-box';
import { RoutingRuleService } from './domain/routing/routing-rule.service';
import { TemplateService } from './domain/template/template.service';
import { PreferenceService } from './domain/preference/preference.service';
import { TopicService, type TopicReferences } from './domain/preference/topic.service';
import { PreferenceLinks } from './domain/preference/preference-links';
import { WorkspaceService } from './domain/workspace/workspace.service';
import { SENDING_SCOPES } from './domain/workspace/api-key-scope.enum';
import { SuppressionService } from './domain/suppression/suppression.service';
import { WorkflowService } from './domain/workflow/workflow.service';
import { JobQueue } from './pipeline/job-queue';
import { SendPipeline } from './pipeline/send-pipeline';
import type { Logger } from 'pino';
import { installedProviders } from './plugins/providers';
import { ProviderRegistry } from './domain/provider/provider-registry';
import { Metrics } from './ops/metrics';
import { pipelineTelemetry, workflowTelemetry } from './ops/pipeline-telemetry';
import { RunStore } from './domain/workflow/run-store';
import { WorkflowRunService } from './domain/workflow/workflow-run.service';
import { WorkflowRunner } from './pipeline/workflow-runner';
import { CallbackApplier } from './pipeline/callback-applier';

/** The services, wired once per process: the composition root for HTTP, GraphQL and workers. */
export interface Services {
  db: Database;
  workspaces: WorkspaceService;
  profiles: ProfileService;
  groups: GroupService;
  events: EventLogService;
  templates: TemplateService;
  workflows: WorkflowService;
  /** Topics (the only writer of `topics`). */
  topics: TopicService;
  /** Users' preferences (the only writer of `preferences`). */
  preferences: PreferenceService;
  /** Signed unsubscribe and preferences links (PIGEON_PUBLIC_URL, PIGEON_SECRET). */
  links: PreferenceLinks;
  /** Suppressed addresses (the only writer of `suppressions` and `soft_bounces`). */
  suppressions: SuppressionService;
  mappings: MappingService;
  rules: RoutingRuleService;
  providerConfigs: ProviderConfigService;
  /** Provider callbacks: verifies and stores them (the only writer of INSERTs into `provider_callbacks`). */
  /** The owner of `provider_callbacks` (stored by the intake, claimed and marked by the applier). */
  callbackStore: CallbackStore;
  callbackIntake: CallbackIntakeService;
  registry: ProviderRegistry;
  messages: MessageService;
  /** The only writer of messages, deliveries and message history. */
  messageStore: MessageStore;
  /** Track → message or run: maps stored tracks when they arrive and on `replayEvents`. */
  eventMapper: EventMapper;
  /** Workflow runs: trigger, cancel, read. */
  runs: WorkflowRunService;
  /** The only writer of workflow runs and their history. */
  runStore: RunStore;
  /** Advances claimed workflow runs (handed to each worker). */
  runner: WorkflowRunner;
  queue: JobQueue;
  pipeline: SendPipeline;
  /** Applies stored provider callbacks to deliveries and messages (handed to each worker). */
  callbacks: CallbackApplier;
  /** Prometheus metrics of this process (a registry of its own), served at /metrics. */
  metrics: Metrics;
  /** Event retention (PIGEON_EVENT_RETENTION_DAYS); tests call it directly. */
  retention: EventRetentionService;
}

export type ServiceConfig = Pick<Config, 'secret' | 'secretPrevious' | 'retryAttempts' | 'retryBaseMs'> &
  Partial<Pick<Config, 'defaultTimezone' | 'publicUrl'>>;

export const DEFAULT_SERVICE_CONFIG: ServiceConfig = { secret: undefined, retryAttempts: 3, retryBaseMs: 1000 };

export function createServices(
  db: Database,
  config: ServiceConfig = DEFAULT_SERVICE_CONFIG,
  logger?: Logger,
  registry = new ProviderRegistry(installedProviders(logger)),
  metrics = new Metrics(),
): Services {
  const workspaces = new WorkspaceService(db);
  const groups = new GroupService(db);
  const profiles = new ProfileService(db, groups);
  const topics: TopicService = new TopicService(db, (): TopicReferences[] => [templates, workflows]);
  const preferences = new PreferenceService(db, topics);
  const links = new PreferenceLinks(config.publicUrl, config.secret, {
    previousSecrets: config.secretPrevious ? [config.secretPrevious] : [],
  });
  const suppressions = new SuppressionService(db, metrics);
  const templates: TemplateService = new TemplateService(db, profiles, topics);
  const workflows: WorkflowService = new WorkflowService(db, topics);
  const mappings = new MappingService(db);
  const rules = new RoutingRuleService(db);
  const box = new SecretBox(config.secret, config.secretPrevious ? [config.secretPrevious] : []);
  const providerConfigs = new ProviderConfigService(db, registry, box, config.publicUrl);
  const queue = new JobQueue(db);
  metrics.watchQueue(queue);
  const telemetry = pipelineTelemetry(metrics, logger);
  const messageStore = new MessageStore(db);
  const messages = new MessageService(db, templates, messageStore, queue);
  const runStore = new RunStore(queue);
  const runs = new WorkflowRunService(db, workflows, runStore);
  const eventMapper = new EventMapper(db, mappings, profiles, messages, runs);
  // ingest callers' keys are checked in the transaction that stores their events
  const events = new EventLogService(db, profiles, groups, eventMapper, {
    authenticateIn: (tx, secrets) => workspaces.authenticateIn(tx, secrets, SENDING_SCOPES),
  });
  const runner = new WorkflowRunner({
    db,
    queue,
    store: runStore,
    workflows,
    profiles,
    events,
    templates,
    messages,
    defaultTimezone: config.defaultTimezone ?? 'UTC',
    telemetry: workflowTelemetry(metrics),
  });
  const pipeline = new SendPipeline(
    {
      db,
      templates,
      profiles,
      rules,
      providerConfigs,
      messages,
      store: messageStore,
      events,
      topics,
      preferences,
      suppressions,
      links,
      registry,
      telemetry,
    },
    { attempts: config.retryAttempts, baseMs: config.retryBaseMs },
  );
  const callbackStore = new CallbackStore();
  const callbacks = new CallbackApplier({
    db,
    callbacks: callbackStore,
    store: messageStore,
    scheduler: queue,
    suppressions,
    telemetry: { applied: (provider, result, n) => metrics.callbacksApplied.inc({ provider, result }, n) },
    pipelineTelemetry: telemetry,
  });
  return {
    db,
    workspaces,
    profiles,
    groups,
    events,
    templates,
    workflows,
    topics,
    preferences,
    links,
    suppressions,
    mappings,
    rules,
    providerConfigs,
    callbackStore,
    callbackIntake: new CallbackIntakeService(db, callbackStore, providerConfigs, registry, config.publicUrl),
    registry,
    messages,
    messageStore,
    eventMapper,
    runs,
    runStore,
    runner,
    queue,
    pipeline,
    callbacks,
    metrics,
    retention: new EventRetentionService(db, metrics),
  };
}
