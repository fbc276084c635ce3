import { Inject, Injectable } from '@nestjs/common';
import { UnknownViewError } from '../feature-store.errors';
import { FEATURE_STORE_SETTINGS, type FeatureStoreSettings } from '../feature-store.settings';
import { featureNames, type FeatureView } from './feature-view';

/** What every online read of a view needs, computed once: its feature names in column order, as a set. */
export interface ReadShape {
  names: readonly string[];
  known: ReadonlySet<string>;
}

/** The feature views this store serves (from the views file), by name and by source. */
@Injectable()
export class FeatureViewCatalog {
  private readonly views = new Map<string, FeatureView>();
  private readonly readShapes = new Map<string, ReadShape>();
  private readonly bySource = new Map<string, FeatureView[]>();

  constructor(@Inject(FEATURE_STORE_SETTINGS) settings: Pick<FeatureStoreSettings, 'views'>) {
    for (const view of settings.views.list) {
      this.views.set(view.name, view);
      const names = featureNames(view);
      this.readShapes.set(view.name, { names, known: new Set(names) });
      this.bySource.set(view.source, [...(this.bySource.get(view.source) ?? []), view]);
    }
  }

  list(): FeatureView[] {
    return [...this.views.values()];
  }

  has(name: string): boolean {
    return this.views.has(name);
  }

  get(name: string): FeatureView {
    const view = this.views.get(name);
    if (!view) throw new UnknownViewError(name);
    return view;
  }

  readShape(view: FeatureView): ReadShape {
    return this.readShapes.get(view.name)!;
  }

  /** The views fed by a source; undefined when no view uses it. */
  ofSource(source: string): FeatureView[] | undefined {
    return this.bySource.get(source);
  }
}
