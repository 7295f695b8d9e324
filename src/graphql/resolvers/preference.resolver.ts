import { Arg, Ctx, FieldResolver, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import { Channel } from '../../domain/channel/channel.enum';
import { Preference } from '../../domain/preference/preference.entity';
import { PreferenceState } from '../../domain/preference/preference.enums';
import { Topic } from '../../domain/preference/topic.entity';
import { Profile } from '../../domain/profile/profile.entity';
import type { RequestContext } from '../../domain/request-context';
import type { GraphQLContext } from '../context.type';
import { TopicInput } from '../inputs/topic.input';
import { requireAdminKey } from '../require-admin-key.middleware';
import { Workspace } from '../workspace.decorator';

/** Topics (README, "Preferences and topics"). */
@UseMiddleware(requireAdminKey)
@Resolver(() => Topic)
export class TopicResolver {
  @Query(() => [Topic], { description: 'The workspace topics, by key' })
  topics(@Ctx() ctx: GraphQLContext, @Workspace() workspace: RequestContext): Promise<Topic[]> {
    return ctx.services.topics.list(workspace);
  }

  @Mutation(() => Topic, { description: 'Creates a topic (defaultState ON unless given)' })
  createTopic(
    @Arg('input', () => TopicInput) input: TopicInput,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<Topic> {
    return ctx.services.topics.create(workspace, input);
  }

  @Mutation(() => Topic, { description: 'Changes the fields given; the key cannot change' })
  updateTopic(
    @Arg('key', () => String) key: string,
    @Arg('input', () => TopicInput) input: TopicInput,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<Topic> {
    return ctx.services.topics.update(workspace, key, input);
  }

  @Mutation(() => Boolean, {
    description:
      'Deletes a topic; false when there was none. Refused (BAD_USER_INPUT) while a template or workflow names it',
  })
  deleteTopic(
    @Arg('key', () => String) key: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<boolean> {
    return ctx.services.topics.delete(workspace, key);
  }
}

/** Users' preferences: set and cleared here, read as `Profile.preferences`. */
@UseMiddleware(requireAdminKey)
@Resolver(() => Profile)
export class PreferenceResolver {
  @Mutation(() => Preference, {
    description: 'Sets (upserts) a preference of a user; an omitted or null topic/channel means all',
  })
  setPreference(
    @Arg('userId', () => String) userId: string,
    @Arg('state', () => PreferenceState) state: PreferenceState,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
    @Arg('topic', () => String, { nullable: true }) topic?: string | null,
    @Arg('channel', () => Channel, { nullable: true }) channel?: Channel | null,
  ): Promise<Preference> {
    return ctx.services.preferences.set(workspace, userId, topic, channel, state);
  }

  @Mutation(() => Boolean, { description: 'Removes one preference row; false when there was none' })
  clearPreference(
    @Arg('userId', () => String) userId: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
    @Arg('topic', () => String, { nullable: true }) topic?: string | null,
    @Arg('channel', () => Channel, { nullable: true }) channel?: Channel | null,
  ): Promise<boolean> {
    return ctx.services.preferences.clear(workspace, userId, topic, channel);
  }

  @FieldResolver(() => [Preference], {
    description:
      'The stored preference rows (null topic/channel: all). The trait `unsubscribed: true` also counts, as an (all, all) opt-out',
  })
  preferences(@Root() profile: Profile, @Ctx() ctx: GraphQLContext): Promise<Preference[]> {
    return ctx.loaders.preferences.load(profile.userId);
  }
}
