import { registerEnumType } from 'type-graphql';

/** What a key may do: `INGEST` sends events; `ADMIN` also uses the GraphQL API. */
export enum ApiKeyScope {
  ADMIN = 'ADMIN',
  INGEST = 'INGEST',
}

registerEnumType(ApiKeyScope, { name: 'ApiKeyScope', description: 'What a key may do' });

/** The scopes whose keys may send events (the ingest routes and `EventLogService.ingestWithKey`). */
export const SENDING_SCOPES: readonly ApiKeyScope[] = [ApiKeyScope.INGEST, ApiKeyScope.ADMIN];
