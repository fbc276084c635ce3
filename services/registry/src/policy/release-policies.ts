import { Inject, Injectable, Logger } from '@nestjs/common';
import { validName } from '../catalog/names';
import { SERVICE } from '../registry.names';
import { REGISTRY_SETTINGS, type RegistrySettings } from '../registry.settings';
import type { ReleasePolicyRow } from '../store/entities';
import { ReleasePolicyRepository } from '../store/release-policy.repository';
import { RegistryTransactions } from '../store/registry.transactions';
import { canonicalPolicy, effectivePolicy, parseReleasePolicy, type EffectivePolicy, type ReleasePolicy } from './release-policy';

/** Attempts of a PUT when another PUT of the same model took the next version number first. */
const MAX_PUT_ATTEMPTS = 3;

/** The policy a candidate of a model is checked against, and which version of it. */
export interface PolicyInForce {
  version: number | null;
  effective: EffectivePolicy;
}

/** Release policies per model: declared by PUT, versioned on each change, read by the gate over the config's defaults. */
@Injectable()
export class ReleasePolicies {
  private readonly log = new Logger(SERVICE);

  constructor(
    private readonly policies: ReleasePolicyRepository,
    private readonly transactions: RegistryTransactions,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
  ) {}

  /** What the gate checks a candidate of `model` against. */
  async inForce(model: string): Promise<PolicyInForce> {
    const row = await this.policies.current(model);
    return { version: row?.version ?? null, effective: this.effective(row) };
  }

  /** GET /models/:name/policy: the current version (null when none was declared) and the policy in force. */
  async get(name: unknown) {
    const model = validName(name);
    const row = await this.policies.current(model);
    return this.json(model, row);
  }

  /** GET /models/:name/policy/versions: every declared version, newest first. */
  async history(name: unknown) {
    const model = validName(name);
    const rows = await this.policies.history(model);
    return { model, versions: rows.map((row) => ({ version: row.version, policy: JSON.parse(row.policy) as ReleasePolicy, createdAt: row.createdAt })) };
  }

  /** PUT /models/:name/policy: stores a new version when the policy differs from the current one. */
  async put(name: unknown, body: unknown) {
    const model = validName(name);
    const text = canonicalPolicy(parseReleasePolicy(body));
    for (let attempt = 1; ; attempt++) {
      try {
        const { row, changed } = await this.transactions.run(async (tx) => {
          const current = await this.policies.current(model, tx);
          if (current?.policy === text) return { row: current, changed: false };
          const next: ReleasePolicyRow = { name: model, version: (current?.version ?? 0) + 1, policy: text, createdAt: Date.now() };
          await this.policies.insert(tx, next);
          return { row: next, changed: true };
        });
        this.log.log(changed ? `model ${model}: release policy version ${row.version} stored: ${text}` : `model ${model}: release policy unchanged (version ${row.version})`);
        return { ...this.json(model, row), changed };
      } catch (error) {
        // Two PUTs raced for the same version number: read the current one again.
        if (attempt >= MAX_PUT_ATTEMPTS) throw error;
      }
    }
  }

  private effective(row: ReleasePolicyRow | null): EffectivePolicy {
    const { metric, tolerance, defaultPolicy } = this.settings.gate;
    return effectivePolicy(row ? (JSON.parse(row.policy) as ReleasePolicy) : undefined, { policy: defaultPolicy, metric, tolerance });
  }

  private json(model: string, row: ReleasePolicyRow | null) {
    return {
      model,
      version: row?.version ?? null,
      policy: row ? (JSON.parse(row.policy) as ReleasePolicy) : {},
      effective: this.effective(row),
      createdAt: row?.createdAt ?? null,
    };
  }
}
