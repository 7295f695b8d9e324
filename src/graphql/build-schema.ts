import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchemaSync } from 'type-graphql';
import { ApiKeyResolver } from './resolvers/api-key.resolver';
import { EventResolver } from './resolvers/event.resolver';
import { GroupResolver } from './resolvers/group.resolver';
import { ProfileResolver } from './resolvers/profile.resolver';
import { EventNameResolver, MappingResolver } from './resolvers/mapping.resolver';
import { InboundEventMessageResolver, MessageResolver } from './resolvers/message.resolver';
import { ProviderResolver } from './resolvers/provider.resolver';
import { RoutingRuleResolver } from './resolvers/routing-rule.resolver';
import { TemplateResolver } from './resolvers/template.resolver';
import { DateTimeISO } from './scalars/date-time-iso.scalar';

let cached: GraphQLSchema | undefined;

/** The executable schema, built once from the type-graphql resolvers. */
export function buildGraphQLSchema(): GraphQLSchema {
  cached ??= buildSchemaSync({
    resolvers: [
      ProfileResolver,
      GroupResolver,
      EventResolver,
      ApiKeyResolver,
      TemplateResolver,
      MappingResolver,
      EventNameResolver,
      RoutingRuleResolver,
      ProviderResolver,
      MessageResolver,
      InboundEventMessageResolver,
    ],
    // graphql-scalars' DateTimeISO (type-graphql's default for Date) with a cheaper serializer
    scalarsMap: [{ type: Date, scalar: DateTimeISO }],
    validate: false,
  });
  return cached;
}

/** The SDL committed at schema/schema.graphql (sorted, so it only changes when the schema does). */
export function printSDL(): string {
  return printSchema(lexicographicSortSchema(buildGraphQLSchema())) + '\n';
}
