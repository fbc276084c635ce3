import { z } from 'zod';

/**
 * Where the loop checks that a feature view exists before a model is set to retrain from it
 * (the feature store's GET /feature-views). An abstract class so it is its own injection token.
 */
export abstract class FeatureViewLookup {
  /** The names of the views the feature store defines now. */
  abstract names(): Promise<string[]>;
}

const viewsResponse = z.object({ featureViews: z.array(z.object({ name: z.string() })) });

/** The feature store's `GET /feature-views` over HTTP (LOOP_FEATURE_STORE_URL). */
export class FeatureStoreViewLookup implements FeatureViewLookup {
  constructor(
    private readonly baseUrl: string,
    /** The platform's API_TOKEN, when the feature store's API requires it. */
    private readonly token?: string,
    private readonly timeoutMs = 2_000,
  ) {}

  async names(): Promise<string[]> {
    const url = `${this.baseUrl.replace(/\/$/, '')}/feature-views`;
    const headers: Record<string, string> = this.token ? { authorization: `Bearer ${this.token}` } : {};
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
    if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
    const parsed = viewsResponse.safeParse(await response.json());
    if (!parsed.success) throw new Error(`GET ${url}: expected {featureViews: [{name}]}`);
    return parsed.data.featureViews.map((v) => v.name);
  }
}
