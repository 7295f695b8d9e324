import { CreateWorkspacesAndApiKeys1764400000000 } from './1764400000000-create-workspaces-and-api-keys';
import { CreateProfiles1764400001000 } from './1764400001000-create-profiles';
import { CreateGroups1764400002000 } from './1764400002000-create-groups';
import { CreateInboundEvents1764400003000 } from './1764400003000-create-inbound-events';
import { CreateTemplates1764500000000 } from './1764500000000-create-templates';
import { CreateEventMappings1764500001000 } from './1764500001000-create-event-mappings';
import { CreateRoutingRules1764500002000 } from './1764500002000-create-routing-rules';
import { CreateProviderConfigs1764500003000 } from './1764500003000-create-provider-configs';
import { CreateMessages1764500004000 } from './1764500004000-create-messages';
import { CreateJobs1764500005000 } from './1764500005000-create-jobs';
import { NoPadBinaryKeys1764600000000 } from './1764600000000-no-pad-binary-keys';
import { CreateWorkflows1764700000000 } from './1764700000000-create-workflows';
import { CreateWorkflowRuns1764700001000 } from './1764700001000-create-workflow-runs';
import { CreateTopicsAndPreferences1764800000000 } from './1764800000000-create-topics-and-preferences';
import { AddTemplateTopic1764800001000 } from './1764800001000-add-template-topic';
import { CreateDeliveryOutcomes1764900000000 } from './1764900000000-create-delivery-outcomes';
import { JobsByKind1764900001000 } from './1764900001000-jobs-by-kind';
import { EventNameShards1765000002000 } from './1765000002000-event-name-shards';
import { EventListIndexes1765000003000 } from './1765000003000-event-list-indexes';

/**
 * Every migration, in order. A new one (`npm run migration:generate -- migrations/<name>`)
 * must be added here; migrations that have shipped are never edited.
 */
export const MIGRATIONS = [
  CreateWorkspacesAndApiKeys1764400000000,
  CreateProfiles1764400001000,
  CreateGroups1764400002000,
  CreateInboundEvents1764400003000,
  CreateTemplates1764500000000,
  CreateEventMappings1764500001000,
  CreateRoutingRules1764500002000,
  CreateProviderConfigs1764500003000,
  CreateMessages1764500004000,
  CreateJobs1764500005000,
  NoPadBinaryKeys1764600000000,
  CreateWorkflows1764700000000,
  CreateWorkflowRuns1764700001000,
  CreateTopicsAndPreferences1764800000000,
  AddTemplateTopic1764800001000,
  CreateDeliveryOutcomes1764900000000,
  JobsByKind1764900001000,
  EventNameShards1765000002000,
  EventListIndexes1765000003000,
];
