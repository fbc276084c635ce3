import type { ModelRepository } from './model-repository';
import type { ServingLogger } from './serving.logger';

interface Standby {
  version: number;
  timer: NodeJS.Timeout;
}

/**
 * Blue-green's previous version: after the switch it stays loaded (warm, out of the route)
 * for `keepMs`, so a rollback to it is one route assignment and no load; then it is drained
 * and unloaded, unless it has taken traffic again by then. One standby per model: a newer
 * blue-green switch replaces it (the older standby is unloaded at once).
 */
export class WarmStandby {
  private readonly standbys = new Map<string, Standby>();

  constructor(
    private readonly repository: ModelRepository,
    private readonly log: ServingLogger,
    private readonly keepMs: number,
  ) {}

  /** `version` just lost all traffic to a blue-green switch: keep it warm for a while. */
  keep(model: string, version: number): void {
    const previous = this.standbys.get(model);
    if (previous) {
      clearTimeout(previous.timer);
      if (previous.version !== version && this.repository.route(model)?.stable !== previous.version) this.repository.unload(model, previous.version);
    }
    const timer = setTimeout(() => this.expire(model, version), this.keepMs);
    timer.unref();
    this.standbys.set(model, { version, timer });
  }

  /** The standby version of a model, if one is kept. */
  version(model: string): number | undefined {
    return this.standbys.get(model)?.version;
  }

  /** The standby took all traffic back (a rollback): it is no standby any more. */
  restored(model: string, version: number): boolean {
    const standby = this.standbys.get(model);
    if (standby?.version !== version) return false;
    clearTimeout(standby.timer);
    this.standbys.delete(model);
    return true;
  }

  private expire(model: string, version: number): void {
    if (this.standbys.get(model)?.version !== version) return;
    this.standbys.delete(model);
    if (this.repository.route(model)?.stable === version) return;
    this.repository.unload(model, version);
    this.log.log(`model '${model}' version ${version}: blue-green standby unloaded after ${this.keepMs / 1000} s (rollback to it needs a deployment now)`);
  }

  close(): void {
    for (const { timer } of this.standbys.values()) clearTimeout(timer);
    this.standbys.clear();
  }
}
