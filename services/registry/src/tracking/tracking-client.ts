import { Inject, Injectable } from '@nestjs/common';
import { InvalidInputError, NotFoundError, UnavailableError } from '@mlops/errors';
import { REGISTRY_SETTINGS, type RegistrySettings } from '../registry.settings';

/** The parts of MLflow's Run this registry reads (service.proto). */
export interface TrackedRun {
  info: { run_id: string; experiment_id: string; artifact_uri: string };
  data?: { metrics?: { key: string; value: number }[]; tags?: { key: string; value: string }[] };
  inputs?: { dataset_inputs?: { dataset?: { digest?: string; name?: string } }[] };
  outputs?: { model_outputs?: { model_id: string; step?: number | string }[] };
}

/** The parts of MLflow 3's LoggedModel this registry reads. */
export interface LoggedModelInfo {
  model_id: string;
  name?: string;
  experiment_id?: string;
  source_run_id?: string;
  artifact_uri: string;
}

interface FileInfo {
  path: string;
  is_dir?: boolean;
  file_size?: number | string;
}

/** Files of a model directory: path relative to the directory -> bytes. */
export type ModelFiles = Map<string, Buffer>;

const PROXY_SCHEME = /^mlflow-artifacts:(\/\/[^/]*)?\/?/;
/** A model directory larger than this is not downloaded (the registry holds it in memory once). */
const MAX_FILES = 500;

/**
 * MLflow's tracking REST API as its own client calls it (runs/get, logged-models, and the
 * artifact proxy `/api/2.0/mlflow-artifacts/artifacts`), at REGISTRY_TRACKING_URI.
 */
@Injectable()
export class TrackingClient {
  private readonly uri?: string;

  constructor(@Inject(REGISTRY_SETTINGS) settings: RegistrySettings) {
    this.uri = settings.tracking.uri;
  }

  /** Whether REGISTRY_TRACKING_URI is set. */
  get configured(): boolean {
    return this.uri !== undefined;
  }

  /** The tracking server, or a clear refusal naming the variable when it is not configured. */
  private base(what: string): string {
    if (!this.uri) {
      throw new InvalidInputError(`${what}: the registry cannot read tracking sources because REGISTRY_TRACKING_URI is not set (e.g. REGISTRY_TRACKING_URI=http://127.0.0.1:5000)`);
    }
    return this.uri;
  }

  getRun(runId: string): Promise<TrackedRun> {
    return this.json<{ run: TrackedRun }>(`run ${runId}`, `/api/2.0/mlflow/runs/get?${new URLSearchParams({ run_id: runId })}`).then((r) => r.run);
  }

  getLoggedModel(modelId: string): Promise<LoggedModelInfo> {
    return this.json<{ model: { info: LoggedModelInfo } }>(`logged model ${modelId}`, `/api/2.0/mlflow/logged-models/${encodeURIComponent(modelId)}`).then((r) => r.model.info);
  }

  /** The logged models named `name` in an experiment (every page). */
  async searchLoggedModels(experimentId: string, name: string): Promise<LoggedModelInfo[]> {
    const found: LoggedModelInfo[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.json<{ models?: { info: LoggedModelInfo }[]; next_page_token?: string }>(`logged models named ${name}`, '/api/2.0/mlflow/logged-models/search', {
        experiment_ids: [experimentId],
        filter: `name = '${name.replace(/'/g, "\\'")}'`,
        ...(pageToken ? { page_token: pageToken } : {}),
      });
      found.push(...(page.models ?? []).map((m) => m.info));
      pageToken = page.next_page_token || undefined;
    } while (pageToken);
    return found;
  }

  /** The entries directly under an `mlflow-artifacts:/` URI (empty when there are none). */
  async list(uri: string): Promise<FileInfo[]> {
    const path = proxiedPath(uri);
    const body = await this.json<{ files?: FileInfo[] }>(`artifacts at ${uri}`, `/api/2.0/mlflow-artifacts/artifacts?${new URLSearchParams({ path })}`);
    return body.files ?? [];
  }

  /** Every file under an `mlflow-artifacts:/` directory URI, downloaded through the artifact proxy. */
  async download(uri: string): Promise<ModelFiles> {
    const files: ModelFiles = new Map();
    const walk = async (relative: string): Promise<void> => {
      const entries = await this.list(relative ? `${uri}/${relative}` : uri);
      for (const entry of entries) {
        const name = entry.path.split('/').pop()!;
        const child = relative ? `${relative}/${name}` : name;
        if (entry.is_dir) await walk(child);
        else {
          if (files.size >= MAX_FILES) throw new InvalidInputError(`${uri} holds more than ${MAX_FILES} files; that is not a model directory`);
          files.set(child, await this.bytes(`${uri}/${child}`));
        }
      }
    };
    await walk('');
    return files;
  }

  private async bytes(uri: string): Promise<Buffer> {
    const path = proxiedPath(uri).split('/').map(encodeURIComponent).join('/');
    const response = await this.fetch(`artifact ${uri}`, `/api/2.0/mlflow-artifacts/artifacts/${path}`);
    return Buffer.from(await response.arrayBuffer());
  }

  private async json<T>(what: string, path: string, body?: unknown): Promise<T> {
    const response = await this.fetch(what, path, body);
    return (await response.json()) as T;
  }

  private async fetch(what: string, path: string, body?: unknown): Promise<Response> {
    const url = `${this.base(what)}${path}`;
    let response: Response;
    try {
      response = await fetch(url, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    } catch (error) {
      throw new UnavailableError(`cannot reach the tracking server at ${this.uri} for ${what}: ${(error as Error).message}`);
    }
    if (response.ok) return response;
    const detail = await response.text().catch(() => '');
    let parsed: { error_code?: string; message?: string } = {};
    try {
      parsed = JSON.parse(detail) as typeof parsed;
    } catch {
      // not MLflow's JSON error body; the status says enough
    }
    const message = `tracking server: ${what}: ${parsed.message ?? `HTTP ${response.status}`}`;
    if (response.status === 404 || parsed.error_code === 'RESOURCE_DOES_NOT_EXIST') throw new NotFoundError(message);
    if (response.status >= 500) throw new UnavailableError(message);
    throw new InvalidInputError(message);
  }
}

/** `mlflow-artifacts:/1/abc/artifacts` -> `1/abc/artifacts`; refuses other schemes, naming what is supported. */
export function proxiedPath(uri: string): string {
  if (!PROXY_SCHEME.test(uri)) {
    throw new InvalidInputError(`artifact location "${uri}" is not served by the tracking server's artifact proxy (expected mlflow-artifacts:/...)`);
  }
  return uri.replace(PROXY_SCHEME, '').replace(/\/+$/, '');
}
