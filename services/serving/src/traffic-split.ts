import { Injectable } from '@nestjs/common';

/** Which loaded version answers requests that name no version. */
export interface TrafficRoute {
  stable: number;
  /** The challenger and the share (0..1) of unversioned requests it gets, sticky by request key. */
  canary?: { version: number; share: number };
  /** A challenger that gets a copy of every unversioned request; its answers are logged, never returned. */
  shadow?: { version: number };
}

export type RouteName = 'stable' | 'canary' | 'shadow';

/**
 * A stable hash of a request key to [0, 1): FNV-1a (32-bit) over the UTF-8 bytes, then the
 * murmur3 finalizer so that keys differing only in their last characters spread evenly.
 */
export function keyFraction(key: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/**
 * The traffic split: per model, the stable version and, beside it, an optional canary with
 * the share of unversioned requests it gets, or a shadow that gets a copy of each of them. It holds routes only; which versions are
 * loaded is ModelRepository's, which checks a version is loaded before routing to it and
 * unloads what a route change takes out of service. Every change of a route is one assignment.
 */
@Injectable()
export class TrafficSplit {
  private readonly routes = new Map<string, TrafficRoute>();

  /** The route as stored, not a copy: read on every request, which must not allocate. */
  current(name: string): Readonly<TrafficRoute> | undefined {
    return this.routes.get(name);
  }

  /** The route of a model (a copy), undefined when it has none. */
  route(name: string): TrafficRoute | undefined {
    const route = this.routes.get(name);
    return route && { stable: route.stable, ...(route.canary ? { canary: { ...route.canary } } : {}), ...(route.shadow ? { shadow: { ...route.shadow } } : {}) };
  }

  /**
   * A version just loaded with `activate`: it takes all unversioned traffic when it is the
   * model's first, or newer than its stable version while no canary or shadow is pending.
   */
  activate(name: string, version: number): void {
    const route = this.routes.get(name);
    if (!route || (version > route.stable && !route.canary && !route.shadow)) this.routes.set(name, { stable: version });
  }

  /** All unversioned traffic to `version`; a canary or shadow is dropped from the route. */
  setStable(name: string, version: number): void {
    this.routes.set(name, { stable: version });
  }

  /** `share` of unversioned traffic to `version` beside the stable one (all of it when there is no other stable); a shadow is dropped. */
  setCanary(name: string, version: number, share: number): void {
    const route = this.routes.get(name);
    if (!route || route.stable === version) {
      this.routes.set(name, { stable: version });
      return;
    }
    this.routes.set(name, { stable: route.stable, canary: { version, share: Math.min(1, Math.max(0, share)) } });
  }

  /**
   * `version` gets a copy of every unversioned request beside the stable one, which keeps
   * answering all of them (a canary is dropped from the route). A shadow of the stable version
   * itself is no shadow: nothing changes.
   */
  setShadow(name: string, version: number): void {
    const route = this.routes.get(name);
    if (!route) {
      this.routes.set(name, { stable: version });
      return;
    }
    if (route.stable === version) return;
    this.routes.set(name, { stable: route.stable, shadow: { version } });
  }

  /** The canary or shadow becomes stable. Returns the old stable version, or undefined when `version` is neither. */
  promote(name: string, version: number): number | undefined {
    const route = this.routes.get(name);
    if (route?.canary?.version !== version && route?.shadow?.version !== version) return undefined;
    this.routes.set(name, { stable: version });
    return route.stable;
  }

  /** Drops the canary or shadow; stable keeps 100%. False when `version` is neither. */
  drop(name: string, version: number): boolean {
    const route = this.routes.get(name);
    if (route?.canary?.version !== version && route?.shadow?.version !== version) return false;
    this.routes.set(name, { stable: route.stable });
    return true;
  }

  /** The model has no route any more (all its versions were unloaded). */
  forget(name: string): void {
    this.routes.delete(name);
  }

  clear(): void {
    this.routes.clear();
  }
}
