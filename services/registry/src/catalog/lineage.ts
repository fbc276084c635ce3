import { Injectable } from '@nestjs/common';
import { InvalidInputError } from '@mlops/errors';
import { ModelVersionRepository } from '../store/model-version.repository';
import { ModelCatalog } from './model-catalog';

/** Where a version came from (run, dataset, code, artifact), and what was trained on a dataset. */
@Injectable()
export class Lineage {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly versions: ModelVersionRepository,
  ) {}

  async lineage(name: unknown, version: unknown) {
    const row = await this.catalog.version(name, version);
    return {
      model: row.name,
      version: row.version,
      run_id: row.runId,
      dataset: { id: row.datasetId, hash: row.datasetHash },
      code_version: row.codeVersion,
      artifact: { hash: row.artifactHash, uri: row.artifactUri },
      source: row.source,
    };
  }

  async datasetLineage(hash: unknown) {
    if (typeof hash !== 'string' || !hash) throw new InvalidInputError('a dataset hash is required');
    const rows = await this.versions.byDatasetHash(hash);
    return {
      dataset_hash: hash,
      model_versions: rows.map((r) => ({ model: r.name, version: r.version, run_id: r.runId, dataset_id: r.datasetId, code_version: r.codeVersion })),
    };
  }
}
