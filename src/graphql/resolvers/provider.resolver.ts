import { Arg, Ctx, ID, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import { ProviderConfig } from '../../domain/provider/provider-config.entity';
import { requireAdminKey } from '../require-admin-key.middleware';
import type { GraphQLContext } from '../context.type';
import { Workspace } from '../workspace.decorator';
import type { RequestContext } from '../../domain/request-context';
import { ProviderConfigInput } from '../inputs/provider-config.input';
import { ProviderPlugin } from '../types/provider-plugin.type';

@UseMiddleware(requireAdminKey)
@Resolver(() => ProviderConfig)
export class ProviderResolver {
  @Query(() => [ProviderConfig], { description: 'Configured providers; secrets read as "********"' })
  providers(@Ctx() ctx: GraphQLContext, @Workspace() workspace: RequestContext): Promise<ProviderConfig[]> {
    return ctx.services.providerConfigs.list(workspace);
  }

  @Query(() => [ProviderPlugin], { description: 'Installed provider plugins and their settings schema' })
  plugins(@Ctx() ctx: GraphQLContext): ProviderPlugin[] {
    return ctx.services.registry.providers.map((p) => ({
      slug: p.slug,
      title: p.title,
      channels: p.channels,
      settingsSchema: p.settings as unknown as Record<string, unknown>,
    }));
  }

  @Mutation(() => ProviderConfig, { description: 'Adds a configuration, or updates the one with input.id' })
  configureProvider(
    @Arg('input', () => ProviderConfigInput) input: ProviderConfigInput,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<ProviderConfig> {
    return ctx.services.providerConfigs.configure(workspace, input);
  }

  @Mutation(() => Boolean)
  deleteProvider(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<boolean> {
    return ctx.services.providerConfigs.delete(workspace, id);
  }
}
