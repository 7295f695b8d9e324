import type { Channel } from '../channel/channel.enum';
import type { ProviderDefinition } from './provider-plugin';

/**
 * Looks provider plugins up by slug; the pipeline and the configuration service share one registry.
 * The domain defines what a plugin is ({@link ProviderDefinition}); the list of installed plugins is
 * handed in by the composition root (`src/services.ts`), so the domain never imports a plugin.
 */
export class ProviderRegistry {
  private readonly bySlug: Map<string, ProviderDefinition>;

  constructor(readonly providers: readonly ProviderDefinition[]) {
    this.bySlug = new Map(providers.map((p) => [p.slug, p]));
    if (this.bySlug.size !== providers.length) throw new Error('two provider plugins share a slug');
  }

  get(slug: string): ProviderDefinition | undefined {
    return this.bySlug.get(slug);
  }

  /** Whether plugin `slug` can deliver on `channel`. */
  serves(slug: string, channel: Channel): boolean {
    return this.bySlug.get(slug)?.channels.includes(channel) ?? false;
  }
}
