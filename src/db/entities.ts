import { ApiKey } from '../domain/workspace/api-key.entity';
import { Workspace } from '../domain/workspace/workspace.entity';
import { Profile } from '../domain/profile/profile.entity';
import { ProfileAlias } from '../domain/profile/profile-alias.entity';
import { Group } from '../domain/group/group.entity';
import { GroupMembership } from '../domain/group/group-membership.entity';
import { InboundEvent } from '../domain/event-log/inbound-event.entity';
import { EventNameStat } from '../domain/event-log/event-name-stat.entity';

/** Every entity, listed explicitly (no globs: the same list works under ts-jest and from dist/). */
export const ENTITIES = [Workspace, ApiKey, Profile, ProfileAlias, Group, GroupMembership, InboundEvent, EventNameStat];
