import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Inject, Injectable } from '@nestjs/common';
import { causedBy, type EventOf, type PayloadOf } from '@mlops/contracts';
import { ModelRepository, type LoadedModel } from './model-repository';
import { SERVING_LOGGER, type ServingLogger } from './serving.logger';
import { SERVING_SETTINGS, type ServingSettings } from './serving.settings';
import { WarmStandby } from './warm-standby';
import { latencyCheck, type DeploymentCheck } from './warm-up-validation';

/** A file path from a deployment's artifactUri (a plain path or file://). */
export function artifactPath(uri: string): string {
  if (uri.startsWith('file://')) return fileURLToPath(uri);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) throw new Error(`artifactUri ${uri}: only file paths and file:// URIs are supported`);
  return resolve(uri);
}

/** How a deployment.requested ended in this process. */
export interface DeploymentOutcome {
  status: 'serving' | 'failed' | 'rejected';
  error?: string;
}

/**
 * Puts model versions into service: SERVING_MODELS at start; then deployment.requested (hot
 * swap, blue-green, canary or shadow), model.promoted (the canary or shadow takes over) and
 * model.rolled_back (it is dropped, or a blue-green standby takes traffic back).
 */
@Injectable()
export class DeploymentService {
  /** Made at start-up, before the models load: a replayed event older than this was handled by a sibling already. */
  private readonly startedAt = Date.now();
  /** Callers waiting for a deployment to be applied here (RepositoryModelLoad), by `model/version`. */
  private readonly waiting = new Map<string, ((outcome: DeploymentOutcome) => void)[]>();
  /** Blue-green's previous versions, kept warm for a while. */
  private readonly standby: WarmStandby;

  constructor(
    @Inject(SERVING_SETTINGS) private readonly settings: ServingSettings,
    @Inject(SERVING_LOGGER) private readonly log: ServingLogger,
    private readonly repository: ModelRepository,
  ) {
    this.standby = new WarmStandby(repository, log, settings.deployments.blueGreenKeepMs);
  }

  /** Loads and warms every SERVING_MODELS entry. */
  async loadConfigured(): Promise<void> {
    for (const m of this.settings.models) {
      const model = await this.repository.load(m.name, m.version, m.path, { warm: true });
      this.log.log(`loaded model '${m.name}' version ${m.version} from ${m.path} (batching: ${model.batchable ? 'yes' : 'no, static batch dimension'})`);
      this.logNaming(model);
    }
  }

  /** Which names a loaded version's predictions are logged with (a warning when its metadata declares names that do not fit). */
  private logNaming(model: LoadedModel): void {
    const line = `model '${model.name}' version ${model.version}: ${model.naming.note}`;
    if (model.naming.problem) this.log.warn(line);
    else this.log.log(line);
  }

  /**
   * deployment.requested: loads and warms the artifact; with a `validation`, times it on the
   * holdout (latencyCheck) and, above the bound, unloads it unrouted (`rejected`), unless the
   * version already takes traffic here (a redeploy is not re-checked); then routes
   * all traffic to it (a full or blue-green rollout, or the model's first version), the canary
   * share, or a copy of every request (shadow). Returns the deployment.completed this process
   * reports, if any: of several workers, worker 0 reports for all and a worker that failed or
   * rejected the version reports that too; a restarted worker replaying history reports nothing
   * older than itself.
   */
  async deploy(event: EventOf<'deployment.requested'>): Promise<EventOf<'deployment.completed'> | undefined> {
    const { model, version, artifactUri, strategy, validation } = event.data;
    let status: DeploymentOutcome['status'] = 'serving';
    let trafficShare = 0;
    let error: string | undefined;
    let checks: DeploymentCheck[] | undefined;
    try {
      const routed = this.routes(model, version);
      const loaded = await this.repository.load(model, version, artifactPath(artifactUri), { warm: true, activate: false });
      this.logNaming(loaded);
      // A version that already takes traffic here was released before: a redeploy reloads it,
      // and a failed re-check must not leave the model with nothing to answer.
      if (validation && routed) this.log.log(`model '${model}' version ${version} already serves here: its warm-up check is not repeated`);
      else if (validation) {
        const check = await latencyCheck(loaded, validation, artifactPath);
        checks = [check];
        if (!check.passed) {
          status = 'rejected';
          error = `latency ${check.detail}`;
          this.repository.unload(model, version);
          this.log.warn(`deployment of '${model}' version ${version} rejected by its warm-up check, unloaded and never routed: latency ${check.detail}`);
        } else this.log.log(`model '${model}' version ${version} passed its warm-up check: latency ${check.detail}`);
      }
      if (status === 'serving') trafficShare = this.route(event.data);
    } catch (err) {
      status = 'failed';
      error = (err as Error).message;
      this.log.error(`deployment of '${model}' version ${version} failed: ${error}`);
    }
    this.settle(model, version, { status, error });
    const { replaying, reportsSuccess } = this.settings.deployments;
    const replayed = replaying && Date.parse(event.time) < this.startedAt;
    if (replayed || (status === 'serving' && !reportsSuccess)) return undefined;
    const { abLabels } = event.data;
    return causedBy(event, 'deployment.completed', { source: 'serving', subject: model, data: { model, version, status, trafficShare, error, strategy, abLabels, checks } });
  }

  /** Whether `version` is loaded here and routed: stable, canary or shadow. */
  private routes(model: string, version: number): boolean {
    const route = this.repository.route(model);
    const routed = route?.stable === version || route?.canary?.version === version || route?.shadow?.version === version;
    return routed && this.repository.versions(model).includes(version);
  }

  /** Routes a loaded (warmed) version as its strategy says; returns the share of answers it gives. */
  private route({ model, version, artifactUri, strategy, canaryShare }: PayloadOf<'deployment.requested'>): number {
    const { repository, log } = this;
    const route = repository.route(model);
    const stableLoaded = route !== undefined && repository.versions(model).includes(route.stable);
    const challenger = route?.canary?.version ?? route?.shadow?.version;
    if (strategy === 'full' || strategy === 'blue-green' || !stableLoaded || route.stable === version) {
      // The first version of a model (or a full rollout) takes all traffic at once.
      repository.setStable(model, version);
      if (strategy === 'blue-green' && stableLoaded && route.stable !== version) {
        this.standby.keep(model, route.stable);
        log.log(`deployed model '${model}' version ${version} from ${artifactUri}: blue-green, warmed, then all traffic at once; version ${route.stable} kept warm ${this.settings.deployments.blueGreenKeepMs / 1000} s for an instant rollback`);
      } else log.log(`deployed model '${model}' version ${version} from ${artifactUri}: all traffic`);
      return 1;
    }
    // A canary or shadow this one replaces is dropped.
    const dropped = challenger !== undefined && challenger !== version ? challenger : undefined;
    if (strategy === 'shadow') {
      repository.setShadow(model, version);
      if (dropped !== undefined) repository.unload(model, dropped);
      log.log(`deployed model '${model}' version ${version} from ${artifactUri}: shadow of stable version ${route.stable} (a copy of every request, answers logged, never returned)`);
      return 0;
    }
    // An A/B test splits traffic as a canary does; the monitor decides it differently.
    repository.setCanary(model, version, canaryShare);
    if (dropped !== undefined) repository.unload(model, dropped);
    log.log(`deployed model '${model}' version ${version} from ${artifactUri}: ${strategy === 'ab' ? 'A/B split' : 'canary'} ${canaryShare} beside stable version ${route.stable}`);
    return canaryShare;
  }

  /**
   * Resolves when this process has applied a deployment.requested of `model` version `version`
   * (call before publishing it); rejects after `timeoutMs`.
   */
  applied(model: string, version: number, timeoutMs: number): Promise<DeploymentOutcome> {
    const key = `${model}/${version}`;
    return new Promise<DeploymentOutcome>((resolve, reject) => {
      const waiter = (outcome: DeploymentOutcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        this.waiting.set(key, (this.waiting.get(key) ?? []).filter((w) => w !== waiter));
        reject(new Error(`deployment of '${model}' version ${version} not applied within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.waiting.set(key, [...(this.waiting.get(key) ?? []), waiter]);
    });
  }

  private settle(model: string, version: number, outcome: DeploymentOutcome): void {
    const key = `${model}/${version}`;
    const waiters = this.waiting.get(key) ?? [];
    this.waiting.delete(key);
    for (const waiter of waiters) waiter(outcome);
  }

  /** model.promoted: the canary (or shadow) becomes stable and the old stable is drained; a loaded non-canary version takes all traffic. */
  promote({ model, version }: PayloadOf<'model.promoted'>): void {
    const { repository, log } = this;
    const wasShadow = repository.route(model)?.shadow?.version === version;
    const old = repository.promoteCanary(model, version);
    if (old !== undefined) return log.log(`model '${model}' ${wasShadow ? 'shadow' : 'canary'} version ${version} promoted: all traffic; version ${old} drained and unloaded`);
    if (!repository.versions(model).includes(version)) return log.warn(`model '${model}' version ${version} promoted but not loaded here`);
    if (repository.route(model)?.stable !== version) {
      repository.setStable(model, version);
      log.log(`model '${model}' version ${version} promoted: all traffic`);
    }
  }

  /**
   * model.rolled_back: a canary or shadow is dropped (stable keeps 100%); a rolled-back stable
   * gives way to the restored version if loaded: a blue-green standby at once, with no load,
   * and the rolled-back version is then drained and unloaded.
   */
  rollBack({ model, version, restoredVersion, reason }: PayloadOf<'model.rolled_back'>): void {
    const { repository, log } = this;
    const route = repository.route(model);
    const kind = route?.shadow?.version === version ? 'shadow' : 'canary';
    if (repository.dropCanary(model, version)) return log.log(`model '${model}' ${kind} version ${version} rolled back (${reason}): dropped and unloaded; stable version ${route?.stable} unchanged`);
    if (route?.stable !== version || restoredVersion === undefined) return;
    if (!repository.versions(model).includes(restoredVersion)) {
      return log.warn(`model '${model}' version ${version} rolled back (${reason}) but version ${restoredVersion} is not loaded here: version ${version} keeps serving until ${restoredVersion} is deployed`);
    }
    repository.setStable(model, restoredVersion);
    if (this.standby.restored(model, restoredVersion)) {
      repository.unload(model, version);
      return log.log(`model '${model}' version ${version} rolled back (${reason}): blue-green standby version ${restoredVersion} takes all traffic at once (kept warm, no load); version ${version} drained and unloaded`);
    }
    log.log(`model '${model}' version ${version} rolled back (${reason}): version ${restoredVersion} takes all traffic`);
  }

  onModuleDestroy(): void {
    this.standby.close();
  }
}
