import { registerEnumType } from 'type-graphql';

/** What a key may do: `INGEST` sends events; `ADMIN` also uses the GraphQL API. */
export enum ApiKeyScope {
  ADMIN = 'ADMIN',
  INGEST = 'INGEST',
}

registerEnumType(ApiKeyScope, { name: 'ApiKeyScope', description: 'What a key may do' });
