import { ApiKey } from './domain/workspace/api-key.entity';
import { Workspace } from './domain/workspace/workspace.entity';
import { Profile } from './domain/profile/profile.entity';
import { ProfileAlias } from './domain/profile/profile-alias.entity';
import { Group } from './domain/group/group.entity';
import { GroupMembership } from './domain/group/group-membership.entity';
import { InboundEvent } from './domain/event-log/inbound-event.entity';
import { EventNameStat } from './domain/event-log/event-name-stat.entity';
import { Template } from './domain/template/template.entity';
import { TemplateVersion } from './domain/template/template-version.entity';
import { EventMapping } from './domain/mapping/event-mapping.entity';
import { RoutingRule } from './domain/routing/routing-rule.entity';
import { ProviderConfig } from './domain/provider/provider-config.entity';
import { Message } from './domain/message/message.entity';
import { Delivery } from './domain/message/delivery.entity';
import { MessageHistory } from './domain/message/message-history.entity';
import { Job } from './pipeline/job.entity';
import { Workflow } from './domain/workflow/workflow.entity';
import { Topic } from './domain/preference/topic.entity';
import { Preference } from './domain/preference/preference.entity';
import { ProviderCallback } from './domain/callback/provider-callback.entity';
import { Suppression } from './domain/suppression/suppression.entity';
import { SoftBounce } from './domain/suppression/soft-bounce.entity';

/** Every entity, listed explicitly (no globs: the same list works under ts-jest and from dist/). */
export const ENTITIES = [
  Workspace,
  ApiKey,
  Profile,
  ProfileAlias,
  Group,
  GroupMembership,
  InboundEvent,
  EventNameStat,
  Template,
  TemplateVersion,
  EventMapping,
  RoutingRule,
  ProviderConfig,
  Message,
  Delivery,
  MessageHistory,
  Job,
  Workflow,
  Topic,
  Preference,
  ProviderCallback,
  Suppression,
  SoftBounce,
];
