import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, ID, Info, Int, Query, Resolver, UseMiddleware } from 'type-graphql';
import type { EventField } from '../../domain/event-log/event-filter';
import { InboundEvent } from '../../domain/event-log/inbound-event.entity';
import { pageSize } from '../../domain/pagination';
import { requireAdminKey } from '../require-admin-key.middleware';
import type { GraphQLContext } from '../context.type';
import { Workspace } from '../workspace.decorator';
import type { RequestContext } from '../../domain/request-context';
import { EventFilter } from '../inputs/event-filter.input';
import { toConnection } from '../types/connection.type';
import { EventConnection } from '../types/event-connection.type';
import { EventName } from '../types/event-name.type';
import { selectsBelow } from '../selection';

/**
 * The fields of InboundEvent an `events` query needs from the database, each with the GraphQL field that
 * asks for it (`message` is found by the event's `messageRef`). A field selected nowhere below `events` is
 * not read: the payload (the largest column, JSON to parse) least of all.
 */
const EVENT_FIELDS: [EventField, (info: GraphQLResolveInfo) => boolean][] = (
  [
    ['messageId', 'messageId'],
    ['type', 'type'],
    ['name', 'name'],
    ['userId', 'userId'],
    ['anonymousId', 'anonymousId'],
    ['status', 'status'],
    ['payload', 'payload'],
    ['timestamp', 'timestamp'],
    ['messageRef', 'message'],
  ] as const
).map(([field, graphqlField]) => [field, selectsBelow(graphqlField)]);

/** The event fields below the `events` field being resolved ({@link EVENT_FIELDS}); worked out once per document. */
const fieldsOf = (() => {
  const answers = new WeakMap<object, EventField[]>();
  return (info: GraphQLResolveInfo): EventField[] => {
    let fields = answers.get(info.fieldNodes[0]);
    if (!fields) {
      fields = EVENT_FIELDS.filter(([, selects]) => selects(info)).map(([field]) => field);
      answers.set(info.fieldNodes[0], fields);
    }
    return fields;
  };
})();

/** Whether an eventNames query asks for the names' mappings: else they are not read. */
const selectsMapping = selectsBelow('mapping');

@UseMiddleware(requireAdminKey)
@Resolver(() => InboundEvent)
export class EventResolver {
  @Query(() => EventConnection, { description: 'The event log, newest first' })
  async events(
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
    @Info() info: GraphQLResolveInfo,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('filter', () => EventFilter, { nullable: true }) filter?: EventFilter | null,
  ) {
    const page = await ctx.services.events.list(workspace, filter ?? {}, pageSize(first), after, {
      fields: fieldsOf(info),
    });
    return toConnection(page);
  }

  @Query(() => InboundEvent, { nullable: true })
  event(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<InboundEvent | null> {
    return ctx.services.events.get(workspace, id);
  }

  /**
   * The mappings of all the names are read with one query here, and set on each name, instead of by a
   * resolver per name: a resolver (and its promise) for each of 50 names cost as much as the rest of the
   * request. They also prime the request's mapping loader.
   */
  @Query(() => [EventName], { description: 'Distinct track event names seen, with count and last time seen' })
  async eventNames(
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<EventName[]> {
    const names: EventName[] = await ctx.services.events.names(workspace);
    if (!names.length || !selectsMapping(info)) return names;
    const mappings = await ctx.services.mappings.getByNames(
      workspace,
      names.map((n) => n.name),
    );
    for (const n of names) {
      n.mapping = mappings.get(n.name) ?? null;
      if (n.mapping) ctx.loaders.mappings.prime(n.name, n.mapping);
    }
    return names;
  }
}
