import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root, UseMiddleware } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Template } from '../../domain/template/template.entity';
import { TemplateStatus } from '../../domain/template/template-status.enum';
import { templateStatus } from '../../domain/template/template.service';
import { requireAdminKey } from '../require-admin-key.middleware';
import type { GraphQLContext } from '../context.type';
import { Workspace } from '../workspace.decorator';
import type { RequestContext } from '../../domain/request-context';
import { TemplateInput } from '../inputs/template.input';
import { TemplatePreview } from '../types/template-preview.type';
import { TemplateVersion } from '../types/template-version.type';

@UseMiddleware(requireAdminKey)
@Resolver(() => Template)
export class TemplateResolver {
  @Query(() => [Template])
  templates(@Ctx() ctx: GraphQLContext, @Workspace() workspace: RequestContext): Promise<Template[]> {
    return ctx.services.templates.list(workspace);
  }

  @Query(() => Template, { nullable: true, description: 'By id or by key' })
  template(
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
    @Arg('id', () => ID, { nullable: true }) id?: string | null,
    @Arg('key', () => String, { nullable: true }) key?: string | null,
  ): Promise<Template | null> {
    return ctx.services.templates.get(workspace, { id, key });
  }

  @Query(() => TemplatePreview, { description: 'Renders a template draft or inline content over sample data' })
  previewTemplate(
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
    @Arg('templateId', () => ID, { nullable: true }) templateId?: string | null,
    @Arg('content', () => GraphQLJSONObject, { nullable: true }) content?: Record<string, unknown> | null,
    @Arg('data', () => GraphQLJSONObject, { nullable: true }) data?: Record<string, unknown> | null,
    @Arg('userId', () => String, { nullable: true }) userId?: string | null,
  ): Promise<TemplatePreview> {
    return ctx.services.templates.preview(workspace, {
      templateId,
      content,
      data,
      userId,
    }) as Promise<TemplatePreview>;
  }

  @Mutation(() => Template, { description: 'Creates a template as a draft' })
  createTemplate(
    @Arg('input', () => TemplateInput) input: TemplateInput,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<Template> {
    return ctx.services.templates.create(workspace, input);
  }

  @Mutation(() => Template, {
    description:
      'Edits the draft; published versions never change. Only the fields given change: content per channel (null removes a channel)',
  })
  updateTemplate(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => TemplateInput) input: TemplateInput,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<Template> {
    return ctx.services.templates.update(workspace, id, input);
  }

  @Mutation(() => Template, { description: 'The draft becomes the next published version' })
  publishTemplate(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<Template> {
    return ctx.services.templates.publish(workspace, id);
  }

  @FieldResolver(() => GraphQLJSONObject, {
    nullable: true,
    description: 'The content of the latest published version',
  })
  async published(
    @Root() template: Template,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<Record<string, unknown> | null> {
    if (!template.publishedVersion) return null;
    const published = await ctx.services.templates.published(workspace, template.id, template.publishedVersion);
    return (published?.content as Record<string, unknown>) ?? null;
  }

  @FieldResolver(() => [TemplateVersion], { description: 'Every published version, newest first' })
  async versions(@Root() template: Template, @Ctx() ctx: GraphQLContext): Promise<TemplateVersion[]> {
    const versions = await ctx.loaders.templateVersions.load(template.id);
    return versions.map((v) => ({
      version: v.version,
      channels: v.channels,
      content: v.content as Record<string, unknown>,
      topic: v.topic,
      publishedAt: v.publishedAt,
    }));
  }

  @FieldResolver(() => TemplateStatus)
  status(@Root() template: Template): TemplateStatus {
    return templateStatus(template);
  }

  @FieldResolver(() => Boolean, {
    description:
      "True when the draft's channels or content differ from the latest published version (always true before the first publish)",
  })
  hasUnpublishedChanges(
    @Root() template: Template,
    @Ctx() ctx: GraphQLContext,
    @Workspace() workspace: RequestContext,
  ): Promise<boolean> {
    return ctx.services.templates.hasUnpublishedChanges(workspace, template);
  }
}
