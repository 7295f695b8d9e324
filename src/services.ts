import type { Database } from './db/database';
import { EventLogService } from './domain/event-log/event-log.service';
import { GroupService } from './domain/group/group.service';
import { ProfileService } from './domain/profile/profile.service';
import { WorkspaceService } from './domain/workspace/workspace.service';

/** The domain services, wired once per process (the composition root for HTTP, GraphQL and workers). */
export interface Services {
  db: Database;
  workspaces: WorkspaceService;
  profiles: ProfileService;
  groups: GroupService;
  events: EventLogService;
}

export function createServices(db: Database): Services {
  const workspaces = new WorkspaceService(db);
  const profiles = new ProfileService(db);
  const groups = new GroupService(db);
  const events = new EventLogService(db, profiles, groups);
  return { db, workspaces, profiles, groups, events };
}
