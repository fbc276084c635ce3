import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { FailedPreconditionError, NotFoundError } from '@mlops/errors';
import { TRAINER_SETTINGS, type TrainerSettings } from '../trainer.settings';

/** A materialized dataset named as POST /datasets answers or dataset.materialized carries. */
export interface DatasetReference {
  featureView: string;
  version: number;
}

/** What a job needs of a dataset for the same lineage as loop-driven training. */
export interface ResolvedDataset {
  datasetUri: string;
  datasetId: string;
  datasetHash: string;
  datasetVersion: string;
}

const sha256 = (file: string) =>
  new Promise<string>((done, fail) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => done(hash.digest('hex')))
      .on('error', fail);
  });

/**
 * Finds a dataset by reference in the feature store's dataset root
 * (<root>/<view>/v<version>/manifest.json) and checks that its data file still has the
 * manifest's sha256, so the run's recorded hash is the data it trained on.
 */
@Injectable()
export class DatasetReferences {
  private readonly root: string;

  constructor(@Inject(TRAINER_SETTINGS) settings: Pick<TrainerSettings, 'jobs'>) {
    this.root = settings.jobs.datasetRoot;
  }

  async resolve(reference: DatasetReference): Promise<ResolvedDataset> {
    const dir = join(this.root, reference.featureView, `v${reference.version}`);
    const manifestFile = join(dir, 'manifest.json');
    if (!existsSync(manifestFile)) {
      throw new NotFoundError(`dataset ${reference.featureView} version ${reference.version} not found: no ${manifestFile} (TRAINER_DATASET_ROOT is ${this.root})`);
    }
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { datasetId: string; version: number; hash: string; dataFile: string };
    const datasetUri = join(dir, manifest.dataFile);
    if (!existsSync(datasetUri)) throw new NotFoundError(`dataset ${manifest.datasetId}: its data file ${datasetUri} is missing`);
    const actual = await sha256(datasetUri);
    if (actual !== manifest.hash) {
      throw new FailedPreconditionError(`dataset ${manifest.datasetId}: ${datasetUri} has sha256 ${actual}, its manifest says ${manifest.hash}`);
    }
    return { datasetUri, datasetId: manifest.datasetId, datasetHash: manifest.hash, datasetVersion: String(manifest.version) };
  }
}
