import { isObjectType, lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchemaSync, getMetadataStorage } from 'type-graphql';
import { ApiKeyResolver } from './resolvers/api-key.resolver';
import { EventResolver } from './resolvers/event.resolver';
import { GroupResolver } from './resolvers/group.resolver';
import { ProfileResolver } from './resolvers/profile.resolver';
import { PreferenceResolver, TopicResolver } from './resolvers/preference.resolver';
import { MappingResolver } from './resolvers/mapping.resolver';
import { InboundEventMessageResolver, MessageResolver } from './resolvers/message.resolver';
import { ProviderResolver } from './resolvers/provider.resolver';
import { RoutingRuleResolver } from './resolvers/routing-rule.resolver';
import { RoutingPreviewResolver } from './resolvers/routing-preview.resolver';
import { SuppressionResolver } from './resolvers/suppression.resolver';
import { TemplateResolver } from './resolvers/template.resolver';
import { WorkflowResolver } from './resolvers/workflow.resolver';
import { MessageRunResolver, WorkflowRunResolver } from './resolvers/workflow-run.resolver';
import { CancelMappingResolver } from './resolvers/mapping.resolver';
import { DateTimeISO } from './scalars/date-time-iso.scalar';

let cached: GraphQLSchema | undefined;

/** The executable schema, built once from the type-graphql resolvers. */
export function buildGraphQLSchema(): GraphQLSchema {
  if (cached) return cached;
  cached = buildSchemaSync({
    resolvers: [
      ProfileResolver,
      GroupResolver,
      EventResolver,
      ApiKeyResolver,
      TemplateResolver,
      MappingResolver,
      RoutingRuleResolver,
      RoutingPreviewResolver,
      ProviderResolver,
      MessageResolver,
      InboundEventMessageResolver,
      WorkflowResolver,
      WorkflowRunResolver,
      MessageRunResolver,
      CancelMappingResolver,
      TopicResolver,
      PreferenceResolver,
      SuppressionResolver,
    ],
    // graphql-scalars' DateTimeISO (type-graphql's default for Date) with a cheaper serializer
    scalarsMap: [{ type: Date, scalar: DateTimeISO }],
    validate: false,
  });
  plainFieldsReadTheProperty(cached);
  return cached;
}

/**
 * type-graphql gives every field of every object type a resolver of its own, which runs the field's
 * middlewares and then reads the property — also for the plain `@Field()` properties that have none
 * (this schema puts no middleware and no auth on fields: `@UseMiddleware` sits on resolver classes,
 * see require-admin-key.middleware.ts). A page of 50 events is ~500 such fields. Those plain fields go back to
 * graphql-js's default resolver, which reads the same property without the wrapper. Fields with
 * arguments, middlewares, roles, a different schema name, a getter/method, or a `@FieldResolver`
 * keep type-graphql's resolver.
 */
function plainFieldsReadTheProperty(schema: GraphQLSchema): void {
  const storage = getMetadataStorage();
  const resolved = new Map<unknown, Set<string>>();
  for (const r of storage.fieldResolvers) {
    const target = r.getObjectType?.();
    resolved.set(target, (resolved.get(target) ?? new Set()).add(r.schemaName));
  }
  for (const objectType of storage.objectTypes) {
    const type = schema.getType(objectType.name);
    if (!isObjectType(type)) continue;
    const fields = type.getFields();
    for (const f of objectType.fields ?? []) {
      const field = fields[f.schemaName];
      if (!field?.resolve || f.schemaName !== f.name || f.params?.length || f.middlewares?.length || f.roles?.length)
        continue;
      if (resolved.get(objectType.target)?.has(f.schemaName)) continue;
      const descriptor = Object.getOwnPropertyDescriptor(objectType.target.prototype, f.name);
      if (descriptor && (descriptor.get || typeof descriptor.value === 'function')) continue;
      field.resolve = undefined;
    }
  }
}

/** The SDL committed at schema/schema.graphql (sorted, so it only changes when the schema does). */
export function printSDL(): string {
  return printSchema(lexicographicSortSchema(buildGraphQLSchema())) + '\n';
}
