import { z } from 'zod';

export interface GateDecision {
  passed: boolean;
  reason: string;
}

/**
 * Where the loop asks for the registry's gate decision of a version (the registry emits no
 * rejection event). An abstract class so it is its own injection token.
 */
export abstract class GateLookup {
  /** undefined when the registry has no decision for the version (yet). */
  abstract decision(model: string, version: number): Promise<GateDecision | undefined>;
}

const gateResponse = z.object({ passed: z.boolean(), reason: z.string() });

/** The registry's `GET /models/:name/versions/:version/gate` over HTTP. */
export class RegistryGateLookup implements GateLookup {
  constructor(
    private readonly baseUrl: string,
    /** The platform's API_TOKEN, when the registry's API requires it. */
    private readonly token?: string,
    private readonly timeoutMs = 2_000,
  ) {}

  async decision(model: string, version: number): Promise<GateDecision | undefined> {
    const url = `${this.baseUrl.replace(/\/$/, '')}/models/${encodeURIComponent(model)}/versions/${version}/gate`;
    const headers: Record<string, string> = this.token ? { authorization: `Bearer ${this.token}` } : {};
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
    if (response.status === 404) return undefined;
    if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
    const parsed = gateResponse.safeParse(await response.json());
    if (!parsed.success) throw new Error(`GET ${url}: expected {passed: boolean, reason: string}`);
    return parsed.data;
  }
}
