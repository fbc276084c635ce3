import { Inject, Injectable, Optional } from '@nestjs/common';
import { InvalidInputError, UnavailableError } from '@mlops/errors';
import { FeatureViewLookup } from '../feature-view-lookup';
import { LOOP_CLOCK, LOOP_LOG, LOOP_SETTINGS, type LoopClock, type LoopLog, type LoopSettings } from '../loop.settings';
import { FeatureViewChoicesRepository } from '../store/feature-view-choices.repository';
import type { LoopTx } from '../store/loop.repository';

export interface ModelFeatureView {
  model: string;
  /** null: no view, a drift of the model ends its loop failed. */
  featureView: string | null;
  /** Where it comes from: set over the API, the LOOP_FEATURE_VIEWS default, or none. */
  from: 'api' | 'LOOP_FEATURE_VIEWS' | 'none';
  updatedAt?: string;
}

/**
 * The feature view each model retrains from: set at run time (stored), else the
 * LOOP_FEATURE_VIEWS default. With LOOP_FEATURE_STORE_URL a view the feature store does not
 * define is refused; without it any well-formed name is accepted (checked at retrain time).
 */
@Injectable()
export class ModelFeatureViews {
  constructor(
    private readonly choices: FeatureViewChoicesRepository,
    @Inject(LOOP_SETTINGS) private readonly settings: LoopSettings,
    @Inject(LOOP_CLOCK) private readonly now: LoopClock,
    @Inject(LOOP_LOG) private readonly log: LoopLog,
    @Optional() private readonly lookup?: FeatureViewLookup,
  ) {}

  async of(model: string, tx?: LoopTx): Promise<ModelFeatureView> {
    const chosen = await this.choices.find(model, tx);
    if (chosen) return { model, featureView: chosen.featureView, from: 'api', updatedAt: new Date(chosen.updatedAt).toISOString() };
    const fallback = this.settings.drift.featureViewFor(model);
    return fallback ? { model, featureView: fallback, from: 'LOOP_FEATURE_VIEWS' } : { model, featureView: null, from: 'none' };
  }

  async set(model: string, featureView: string): Promise<ModelFeatureView> {
    if (this.lookup) {
      let names: string[];
      try {
        names = await this.lookup.names();
      } catch (error) {
        throw new UnavailableError(`cannot check feature view "${featureView}" with the feature store: ${(error as Error).message}`);
      }
      if (!names.includes(featureView)) {
        throw InvalidInputError.of([{ field: 'featureView', message: `the feature store defines no view "${featureView}" (defined: ${names.join(', ') || 'none'})` }]);
      }
    }
    const updatedAt = this.now();
    await this.choices.save({ model, featureView, updatedAt });
    this.log.log(`model ${model} now retrains from feature view ${featureView}${this.lookup ? '' : ' (not checked: LOOP_FEATURE_STORE_URL is unset)'}`);
    return { model, featureView, from: 'api', updatedAt: new Date(updatedAt).toISOString() };
  }
}
