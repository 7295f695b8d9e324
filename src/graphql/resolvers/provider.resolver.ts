import { Arg, Ctx, ID, Mutation, Query, Resolver, UseMiddleware } from 'type-graphql';
import { ProviderConfig } from '../../domain/provider/provider-config.entity';
import { requireAdminKey } from '../auth-checker';
import { workspaceOf, type GraphQLContext } from '../context.type';
import { ProviderConfigInput } from '../inputs/provider-config.input';
import { ProviderPlugin } from '../types/provider-plugin.type';

@UseMiddleware(requireAdminKey)
@Resolver(() => ProviderConfig)
export class ProviderResolver {
  @Query(() => [ProviderConfig], { description: 'Configured providers; secrets read as "********"' })
  providers(@Ctx() ctx: GraphQLContext): Promise<ProviderConfig[]> {
    return ctx.services.providerConfigs.list(workspaceOf(ctx));
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
  ): Promise<ProviderConfig> {
    return ctx.services.providerConfigs.configure(workspaceOf(ctx), input);
  }

  @Mutation(() => Boolean)
  deleteProvider(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.providerConfigs.delete(workspaceOf(ctx), id);
  }
}
