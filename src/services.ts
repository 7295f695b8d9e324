import type { Config } from './config';
import type { Database } from './db/database';
import { EventLogService } from './domain/event-log/event-log.service';
import { EventRetentionService } from './domain/event-log/retention.service';
import { GroupService } from './domain/group/group.service';
import { MappingService } from './domain/mapping/mapping.service';
import { MessageService } from './domain/message/message.service';
import { ProfileService } from './domain/profile/profile.service';
import { ProviderConfigService } from './domain/provider/provider-config.service';
import { SecretBox } from './domain/provider/secret-box';
import { RoutingRuleService } from './domain/routing/routing-rule.service';
import { TemplateService } from './domain/template/template.service';
import { WorkspaceService } from './domain/workspace/workspace.service';
import { JobQueue } from './pipeline/job-queue';
import { SendPipeline } from './pipeline/send-pipeline';
import type { Logger } from 'pino';
import { installedProviders } from './plugins/providers';
import { ProviderRegistry } from './domain/provider/provider-registry';
import { Metrics } from './ops/metrics';
import { pipelineTelemetry } from './ops/pipeline-telemetry';

/** The services, wired once per process: the composition root for HTTP, GraphQL and workers. */
export interface Services {
  db: Database;
  workspaces: WorkspaceService;
  profiles: ProfileService;
  groups: GroupService;
  events: EventLogService;
  templates: TemplateService;
  mappings: MappingService;
  rules: RoutingRuleService;
  providerConfigs: ProviderConfigService;
  registry: ProviderRegistry;
  messages: MessageService;
  queue: JobQueue;
  pipeline: SendPipeline;
  /** Prometheus metrics of this process (a registry of its own), served at /metrics. */
  metrics: Metrics;
  /** Event retention (PIGEON_EVENT_RETENTION_DAYS); tests call it directly. */
  retention: EventRetentionService;
}

export type ServiceConfig = Pick<Config, 'secret' | 'retryAttempts' | 'retryBaseMs'>;

export const DEFAULT_SERVICE_CONFIG: ServiceConfig = { secret: undefined, retryAttempts: 3, retryBaseMs: 1000 };

export function createServices(
  db: Database,
  config: ServiceConfig = DEFAULT_SERVICE_CONFIG,
  logger?: Logger,
  registry = new ProviderRegistry(installedProviders(logger)),
  metrics = new Metrics(),
): Services {
  const workspaces = new WorkspaceService(db);
  const profiles = new ProfileService(db);
  const groups = new GroupService(db);
  const templates = new TemplateService(db, profiles);
  const mappings = new MappingService(db);
  const rules = new RoutingRuleService(db);
  const providerConfigs = new ProviderConfigService(db, registry, new SecretBox(config.secret));
  const queue = new JobQueue(db);
  metrics.watchQueue(queue);
  const telemetry = pipelineTelemetry(metrics, logger);
  const messages = new MessageService(db, templates, mappings, profiles, queue);
  const events = new EventLogService(db, profiles, groups, mappings, messages);
  const pipeline = new SendPipeline(
    { db, templates, profiles, rules, providerConfigs, messages, events, registry, telemetry },
    { attempts: config.retryAttempts, baseMs: config.retryBaseMs },
  );
  return {
    db,
    workspaces,
    profiles,
    groups,
    events,
    templates,
    mappings,
    rules,
    providerConfigs,
    registry,
    messages,
    queue,
    pipeline,
    metrics,
    retention: new EventRetentionService(db, metrics),
  };
}
