import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { FEATURE_STORE_SETTINGS, type FeatureStoreSettings } from '../feature-store.settings';
import { OfflineStore, type EntityRow } from '../offline/offline-store';
import type { Scalar } from '../views/feature-row';
import { featureNames, viewColumns, type FeatureView } from '../views/feature-view';
import { encodeSnapshot, type ColumnStats } from './dataset-snapshot';
import { DatasetRepository } from './dataset.repository';

export interface MaterializeRequest {
  featureView: FeatureView;
  /** Point-in-time join: one dataset row per entity row, with features as of its timestamp. */
  entities?: EntityRow[];
  /** Without entities: every history row with event time in [fromMs, toMs]. */
  fromMs?: number;
  toMs?: number;
}

export interface DatasetManifest {
  datasetId: string;
  featureView: string;
  version: number;
  format: 'arrow-ipc-file';
  dataFile: string;
  hashAlgorithm: 'sha256';
  hash: string;
  rowCount: number;
  schema: { name: string; type: ReturnType<typeof viewColumns>[number]['type'] }[];
  timeRange?: { from: string; to: string };
  columns: Record<string, ColumnStats>;
  request: { mode: 'point-in-time' | 'history'; entityRows?: number; from?: string; to?: string };
  createdAt: string;
}

export interface MaterializedDataset {
  manifest: DatasetManifest;
  /** Absolute path of the Arrow file. */
  uri: string;
  manifestUri: string;
  /** False when an identical snapshot of the view existed: its version is returned. */
  changed: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Writes versioned, content-hashed dataset snapshots of a view: an Arrow IPC file and a
 * JSON manifest under <root>/<view>/v<version>/. Rows are in a canonical order (entity,
 * time, event id), so the same request over the same data gives the same hash, and a
 * snapshot identical to an earlier version of the view is that version.
 */
@Injectable()
export class Materializer {
  private readonly root: string;

  constructor(
    private readonly datasets: DatasetRepository,
    private readonly offline: OfflineStore,
    @Inject(FEATURE_STORE_SETTINGS) settings: Pick<FeatureStoreSettings, 'datasets'>,
  ) {
    this.root = resolve(settings.datasets.artifactRoot);
  }

  async rows(request: MaterializeRequest): Promise<Record<string, Scalar>[]> {
    const view = request.featureView;
    const names = featureNames(view);
    if (request.entities) {
      const entities = [...request.entities].sort((a, b) =>
        a.entityKey < b.entityKey ? -1 : a.entityKey > b.entityKey ? 1 : a.timestampMs - b.timestampMs,
      );
      const matches = await this.offline.asOf(view.name, entities);
      return entities.map((e, i) => ({
        [view.entityKey]: e.entityKey,
        event_timestamp: e.timestampMs,
        ...Object.fromEntries(names.map((n) => [n, matches[i]?.values[n] ?? null])),
      }));
    }
    const history = await this.offline.history(view.name, { fromMs: request.fromMs, toMs: request.toMs });
    return history.map((r) => ({
      [view.entityKey]: r.entityKey,
      event_timestamp: r.eventTimeMs,
      ...Object.fromEntries(names.map((n) => [n, r.values[n] ?? null])),
    }));
  }

  async materialize(request: MaterializeRequest): Promise<MaterializedDataset> {
    const view = request.featureView;
    const columns = viewColumns(view);
    const rows = await this.rows(request);
    const snapshot = encodeSnapshot(columns, rows);
    const times = rows.map((r) => r.event_timestamp as number);
    const timeRange = times.length ? { from: iso(Math.min(...times)), to: iso(Math.max(...times)) } : undefined;

    return this.datasets.transaction(async (tx) => {
      const same = await this.datasets.withHash(tx, view.name, snapshot.hash);
      if (same) {
        const manifest = JSON.parse(same.manifest) as DatasetManifest;
        return { manifest, uri: same.uri, manifestUri: join(same.uri, '..', 'manifest.json'), changed: false };
      }
      const version = (await this.datasets.latestVersion(tx, view.name)) + 1;
      const dir = join(this.root, view.name, `v${version}`);
      const manifest: DatasetManifest = {
        datasetId: `${view.name}-v${version}`,
        featureView: view.name,
        version,
        format: 'arrow-ipc-file',
        dataFile: 'data.arrow',
        hashAlgorithm: 'sha256',
        hash: snapshot.hash,
        rowCount: snapshot.rowCount,
        schema: columns,
        timeRange,
        columns: snapshot.stats,
        request: request.entities
          ? { mode: 'point-in-time', entityRows: request.entities.length }
          : {
              mode: 'history',
              from: request.fromMs === undefined ? undefined : iso(request.fromMs),
              to: request.toMs === undefined ? undefined : iso(request.toMs),
            },
        createdAt: new Date().toISOString(),
      };
      mkdirSync(dir, { recursive: true });
      const uri = join(dir, 'data.arrow');
      const manifestUri = join(dir, 'manifest.json');
      writeAtomically(uri, snapshot.bytes);
      writeAtomically(manifestUri, JSON.stringify(manifest, null, 2));
      await this.datasets.insert(tx, {
        view: view.name,
        version,
        hash: snapshot.hash,
        uri,
        rowCount: snapshot.rowCount,
        manifest: JSON.stringify(manifest),
        createdAt: new Date(),
      });
      return { manifest, uri, manifestUri, changed: true };
    });
  }

  /** A materialized version of a view (its Arrow file and manifest); undefined when there is none. */
  async find(view: string, version: number): Promise<{ uri: string; manifest: DatasetManifest } | undefined> {
    const found = await this.datasets.find(view, version);
    return found ? { uri: found.uri, manifest: JSON.parse(found.manifest) as DatasetManifest } : undefined;
  }
}

function writeAtomically(path: string, data: Uint8Array | string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, data);
  renameSync(temporary, path);
}
