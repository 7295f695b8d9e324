import { Arg, Ctx, ID, Query, Resolver, UseMiddleware } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { previewRouting } from '../../pipeline/routing/preview-routing';
import type { RequestContext } from '../../domain/request-context';
import { requireAdminKey } from '../require-admin-key.middleware';
import type { GraphQLContext } from '../context.type';
import { RoutingPreview } from '../types/routing-preview.type';
import { Workspace } from '../workspace.decorator';

@UseMiddleware(requireAdminKey)
@Resolver(() => RoutingPreview)
export class RoutingPreviewResolver {
  @Query(() => RoutingPreview, {
    description:
      'Runs the routing decision for a message of this template to this user with this data, as a send would, ' +
      'and stores nothing: which rule matches and why, the channels, the status it would reach',
  })
  async previewRouting(
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
    @Arg('templateId', () => ID) templateId: string,
    @Arg('userId', () => String) userId: string,
    @Arg('data', () => GraphQLJSONObject, { nullable: true }) data?: Record<string, unknown> | null,
  ): Promise<RoutingPreview> {
    return (await previewRouting(ctx.services, workspace, { templateId, userId, data })) as RoutingPreview;
  }
}
