import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { issuesOf } from '@mlops/contracts';
import { InvalidInputError } from '@mlops/errors';
import { UnknownViewError } from '../feature-store.errors';
import { FEATURE_STORE_LOG, FEATURE_STORE_SETTINGS, type FeatureStoreLog, type FeatureStoreSettings } from '../feature-store.settings';
import { featureNames, featureViewSchema, type FeatureView } from './feature-view';
import { FeatureViewRepository } from './feature-view.repository';

/** What every online read of a view needs, computed once: its feature names in column order, as a set. */
export interface ReadShape {
  names: readonly string[];
  known: ReadonlySet<string>;
}

export interface VersionedView {
  view: FeatureView;
  version: number;
}

/** The stored form of a view: its input shape with every default spelled out, in a fixed key order. */
export function canonicalDefinition(view: FeatureView): string {
  return JSON.stringify({
    name: view.name,
    source: view.source,
    entityKey: view.entityKey,
    timestampField: view.timestampField,
    features: view.features.map((f) => ({ name: f.name, field: f.field, type: f.type })),
    aggregations: view.aggregations.map((a) => ({ name: a.name, function: a.function, ...(a.field ? { field: a.field } : {}), window: a.window })),
  });
}

/**
 * The feature views this store serves, by name and by source, each with its version. At
 * start the views file seeds the feature_store_views table (a view not yet stored becomes
 * version 1) and the table's latest versions are served; `define` adds or changes one at
 * run time.
 */
@Injectable()
export class FeatureViewCatalog implements OnModuleInit {
  private readonly views = new Map<string, VersionedView>();
  private readonly readShapes = new Map<string, ReadShape>();
  private bySource = new Map<string, FeatureView[]>();

  constructor(
    @Inject(FEATURE_STORE_SETTINGS) private readonly settings: Pick<FeatureStoreSettings, 'views'>,
    private readonly repository: FeatureViewRepository,
    @Inject(FEATURE_STORE_LOG) private readonly log: FeatureStoreLog,
  ) {
    for (const view of settings.views.list) this.put(view, 1);
  }

  async onModuleInit(): Promise<void> {
    const stored = new Set((await this.repository.latest()).map((r) => r.name));
    for (const view of this.settings.views.list) {
      if (!stored.has(view.name)) await this.repository.save(view.name, canonicalDefinition(view));
    }
    for (const record of await this.repository.latest()) {
      const parsed = featureViewSchema.safeParse(JSON.parse(record.definition));
      if (!parsed.success) throw new Error(`stored feature view ${record.name} version ${record.version} is not valid: ${issuesOf(parsed.error).map((i) => `${i.field}: ${i.message}`).join('; ')}`);
      const fromFile = this.settings.views.list.find((v) => v.name === record.name);
      if (fromFile && canonicalDefinition(fromFile) !== record.definition) {
        this.log.log(`feature view ${record.name}: serving stored version ${record.version} (changed at run time), not the definition in ${this.settings.views.file}`);
      }
      this.put(parsed.data, record.version);
    }
  }

  /**
   * Adds or changes a view (PUT /feature-views/:name): an identical definition is a no-op, a
   * changed one is stored as the next version and, after `beforeServing` (which clears the
   * old version's rows), served from now on by this instance.
   */
  async define(view: FeatureView, beforeServing: () => Promise<void>): Promise<VersionedView & { changed: boolean }> {
    const current = this.views.get(view.name);
    if (current && current.view.source !== view.source) {
      // Rows of one view name come from one source; a new source would mix two histories.
      throw InvalidInputError.of([{ field: 'source', message: `view ${view.name} reads source "${current.view.source}"; a view keeps its source (define a new view instead)` }]);
    }
    const { version, changed } = await this.repository.save(view.name, canonicalDefinition(view));
    if (changed) {
      await beforeServing();
      this.put(view, version);
    }
    return { view: this.views.get(view.name)!.view, version, changed };
  }

  list(): FeatureView[] {
    return [...this.views.values()].map((v) => v.view);
  }

  versioned(): VersionedView[] {
    return [...this.views.values()];
  }

  has(name: string): boolean {
    return this.views.has(name);
  }

  get(name: string): FeatureView {
    return this.getVersioned(name).view;
  }

  getVersioned(name: string): VersionedView {
    const view = this.views.get(name);
    if (!view) throw new UnknownViewError(name, [...this.views.keys()]);
    return view;
  }

  /** The version in force of a defined view. */
  versionOf(name: string): number {
    return this.getVersioned(name).version;
  }

  readShape(view: FeatureView): ReadShape {
    return this.readShapes.get(view.name)!;
  }

  /** The views fed by a source; undefined when no view uses it. */
  ofSource(source: string): FeatureView[] | undefined {
    return this.bySource.get(source);
  }

  private put(view: FeatureView, version: number): void {
    this.views.set(view.name, { view, version });
    const names = featureNames(view);
    this.readShapes.set(view.name, { names, known: new Set(names) });
    const bySource = new Map<string, FeatureView[]>();
    for (const { view: v } of this.views.values()) bySource.set(v.source, [...(bySource.get(v.source) ?? []), v]);
    this.bySource = bySource;
  }
}
