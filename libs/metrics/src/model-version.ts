import { Gauge, type Registry } from 'prom-client';

export interface ModelVersionMetrics {
  version: Gauge<'model' | 'role'>;
  trafficShare: Gauge<'model' | 'version'>;
  /** The version a model serves in a role (`stable`, `canary`, `champion`, ...). */
  setVersion(model: string, role: string, version: number): void;
  /** Share of a model's traffic (0..1) a version receives. */
  setTrafficShare(model: string, version: number, share: number): void;
  /** Forgets a role (e.g. the canary after promotion or rollback). */
  clearRole(model: string, role: string): void;
  /** Forgets a version's traffic share (after it is unloaded). */
  clearVersion(model: string, version: number): void;
}

export function createModelVersionMetrics(registry: Registry): ModelVersionMetrics {
  const version = new Gauge({
    name: 'mlops_model_version',
    help: 'Model version currently in each role (value is the version number)',
    labelNames: ['model', 'role'] as const,
    registers: [registry],
  });
  const trafficShare = new Gauge({
    name: 'mlops_model_traffic_share',
    help: 'Share of a model\'s unpinned requests routed to a version (0..1)',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
  });
  return {
    version,
    trafficShare,
    setVersion(model, role, value) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`version: expected a positive integer, got ${value}`);
      version.set({ model, role }, value);
    },
    setTrafficShare(model, value, share) {
      if (!(share >= 0 && share <= 1)) throw new RangeError(`share: expected a number between 0 and 1, got ${share}`);
      trafficShare.set({ model, version: String(value) }, share);
    },
    clearRole(model, role) {
      version.remove({ model, role });
    },
    clearVersion(model, value) {
      trafficShare.remove({ model, version: String(value) });
    },
  };
}
