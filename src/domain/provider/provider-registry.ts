import type { Channel } from '../channel/channel.enum';
import type { ProviderDefinition, SendContext, SendResult } from './provider-plugin';
import { PermanentProviderError } from './provider.errors';
import { checkSettings, describeSettingsProblem, type SettingsProblem } from './provider-settings';

/** What validating one settings object gave: the settings with defaults, or why every send fails. */
type Checked = { settings: Record<string, unknown> } | { error: string };

interface Installed {
  /** The plugin as handed in. */
  plugin: ProviderDefinition;
  /** The same definition whose `send` goes through {@link ProviderRegistry.send}. */
  checked: ProviderDefinition;
  /** Validation results by settings object: a settings object is validated once, then reused. */
  results: WeakMap<object, Checked>;
}

/**
 * Looks provider plugins up by slug and validates their settings; the pipeline and the
 * configuration service share one registry. The domain defines what a plugin is
 * ({@link ProviderDefinition}); the list of installed plugins is handed in by the composition root
 * (`src/services.ts`), so the domain never imports a plugin.
 *
 * Settings are validated in one place, from the plugin's JSON Schema: {@link checkSettings} when a
 * configuration is saved, {@link send} before every send (with the schema's defaults applied).
 *
 * @example
 * ```ts
 * const registry = new ProviderRegistry([webhookProvider]);
 * registry.checkSettings('webhook', { url: 'ftp://x' }); // { path: ['url'], problem: 'must be an http(s) URL' }
 * await registry.send('webhook', ctx); // validates ctx.settings, then webhookProvider.send
 * ```
 */
export class ProviderRegistry {
  private readonly bySlug: Map<string, Installed>;

  constructor(readonly providers: readonly ProviderDefinition[]) {
    this.bySlug = new Map(
      providers.map((plugin) => [
        plugin.slug,
        {
          plugin,
          checked: { ...plugin, send: (ctx: SendContext<unknown>) => this.send(plugin.slug, ctx) },
          results: new WeakMap(),
        },
      ]),
    );
    if (this.bySlug.size !== providers.length) throw new Error('two provider plugins share a slug');
  }

  /**
   * Plugin `slug`, or undefined when it is not installed. Its `send` is {@link send}: settings are
   * validated (with defaults) before the plugin sees them.
   */
  get(slug: string): ProviderDefinition | undefined {
    return this.bySlug.get(slug)?.checked;
  }

  /** Whether plugin `slug` can deliver on `channel`. */
  serves(slug: string, channel: Channel): boolean {
    return this.bySlug.get(slug)?.plugin.channels.includes(channel) ?? false;
  }

  /**
   * The first problem with `settings` for plugin `slug` by its schema, or null when they are valid.
   * `settings` is not modified (defaults are not stored: a configuration keeps what was written).
   */
  checkSettings(slug: string, settings: unknown): SettingsProblem | null {
    const result = checkSettings(this.installed(slug).plugin.settings, settings);
    return result.ok ? null : result.problem;
  }

  /**
   * Sends one delivery through plugin `slug`: `ctx.settings` is validated against the plugin's schema
   * and its defaults applied, then the plugin's `send` runs with those settings. Invalid settings
   * reject with a {@link PermanentProviderError} naming the field (`sendgrid: settings.apiKey is
   * required`) and the plugin is not called.
   *
   * A settings object is validated once: the result is kept for as long as the object lives, so
   * treat settings objects as immutable once sent (a changed configuration is a new object).
   */
  async send(slug: string, ctx: SendContext<unknown>): Promise<SendResult> {
    const installed = this.bySlug.get(slug);
    if (!installed) throw new PermanentProviderError(`provider "${slug}" is not installed`);
    const checked = this.check(installed, ctx.settings);
    if ('error' in checked) throw new PermanentProviderError(checked.error);
    return installed.plugin.send({ ...ctx, settings: checked.settings });
  }

  private check(installed: Installed, settings: unknown): Checked {
    const cacheable = typeof settings === 'object' && settings !== null;
    const hit = cacheable ? installed.results.get(settings) : undefined;
    if (hit) return hit;
    const { plugin } = installed;
    const result = checkSettings(plugin.settings, settings);
    const checked: Checked = result.ok
      ? { settings: result.settings }
      : { error: describeSettingsProblem(plugin.slug, 'settings', result.problem) };
    if (cacheable) installed.results.set(settings, checked);
    return checked;
  }

  private installed(slug: string): Installed {
    const installed = this.bySlug.get(slug);
    if (!installed) throw new Error(`provider "${slug}" is not installed`);
    return installed;
  }
}
