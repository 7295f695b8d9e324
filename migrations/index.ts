import { CreateWorkspacesAndApiKeys1764400000000 } from './1764400000000-create-workspaces-and-api-keys';
import { CreateProfiles1764400001000 } from './1764400001000-create-profiles';
import { CreateGroups1764400002000 } from './1764400002000-create-groups';
import { CreateInboundEvents1764400003000 } from './1764400003000-create-inbound-events';

/**
 * Every migration, in order. A new one (`npm run migration:generate -- migrations/<name>`)
 * must be added here; migrations that have shipped are never edited.
 */
export const MIGRATIONS = [
  CreateWorkspacesAndApiKeys1764400000000,
  CreateProfiles1764400001000,
  CreateGroups1764400002000,
  CreateInboundEvents1764400003000,
];
