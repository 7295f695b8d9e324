import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import { InboundEvent } from '../../domain/event-log/inbound-event.entity';
import { Delivery } from '../../domain/message/delivery.entity';
import { Message } from '../../domain/message/message.entity';
import { MessageHistory } from '../../domain/message/message-history.entity';
import { pageSize } from '../../domain/pagination';
import { Template } from '../../domain/template/template.entity';
import { requireAdminKey } from '../require-admin-key.middleware';
import type { GraphQLContext } from '../context.type';
import { Workspace } from '../workspace.decorator';
import type { RequestContext } from '../../domain/request-context';
import { EventFilter } from '../inputs/event-filter.input';
import { MessageFilter } from '../inputs/message-filter.input';
import { SendInput } from '../inputs/send.input';
import { toConnection } from '../types/connection.type';
import { MessageConnection } from '../types/message-connection.type';

@UseMiddleware(requireAdminKey)
@Resolver(() => Message)
export class MessageResolver {
  @Query(() => MessageConnection, { description: 'Messages, newest first' })
  async messages(
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('filter', () => MessageFilter, { nullable: true }) filter?: MessageFilter | null,
  ) {
    return toConnection(await ctx.services.messages.list(workspace, filter ?? {}, pageSize(first), after));
  }

  @Query(() => Message, { nullable: true })
  message(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<Message | null> {
    return ctx.services.messages.get(workspace, id);
  }

  @Mutation(() => Message, { description: 'The direct Send API; the same idempotencyKey returns the same message' })
  send(
    @Arg('input', () => SendInput) input: SendInput,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<Message> {
    return ctx.services.messages.send(workspace, input);
  }

  @Mutation(() => Int, {
    description: 'Re-runs mapping for stored track events still UNMAPPED; returns how many became messages',
  })
  replayEvents(
    @Arg('filter', () => EventFilter) filter: EventFilter,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<number> {
    return ctx.services.eventMapper.replay(workspace, filter);
  }

  @FieldResolver(() => Template, { nullable: true })
  template(@Root() message: Message, @Ctx() ctx: GraphQLContext): Promise<Template | null> {
    return message.templateId ? ctx.loaders.templates.load(message.templateId) : Promise.resolve(null);
  }

  @FieldResolver(() => InboundEvent, {
    nullable: true,
    description: 'The event that created it (null for a direct send)',
  })
  event(@Root() message: Message, @Ctx() ctx: GraphQLContext): Promise<InboundEvent | null> {
    return message.eventId ? ctx.loaders.events.load(message.eventId) : Promise.resolve(null);
  }

  @FieldResolver(() => [Delivery])
  deliveries(@Root() message: Message, @Ctx() ctx: GraphQLContext): Promise<Delivery[]> {
    return ctx.loaders.deliveries.load(message.id);
  }

  @FieldResolver(() => [MessageHistory])
  history(@Root() message: Message, @Ctx() ctx: GraphQLContext): Promise<MessageHistory[]> {
    return ctx.loaders.history.load(message.id);
  }
}

@UseMiddleware(requireAdminKey)
@Resolver(() => InboundEvent)
export class InboundEventMessageResolver {
  @FieldResolver(() => Message, { nullable: true, description: 'The message this event became, once mapped' })
  message(@Root() event: InboundEvent, @Ctx() ctx: GraphQLContext): Promise<Message | null> {
    return event.messageRef ? ctx.loaders.messages.load(event.messageRef) : Promise.resolve(null);
  }
}
