import { Injectable } from '@nestjs/common';
import { RunService } from '../runs/run.service';
import { ArtifactStore, proxiedPath, type FileInfo } from './artifact-store';

/** artifacts/list: a run's artifacts, found under its artifact URI. */
@Injectable()
export class RunArtifactsService {
  constructor(
    private readonly runs: RunService,
    private readonly artifacts: ArtifactStore,
  ) {}

  /** Paths relative to the run's artifact root; none when the run's artifacts are not proxied here. */
  async listArtifacts(runId: unknown, path?: string): Promise<{ rootUri: string; files: FileInfo[] }> {
    const run = await this.runs.requireRun(runId);
    const root = proxiedPath(run.artifactUri);
    if (root === undefined) return { rootUri: run.artifactUri, files: [] };
    const sub = path ? this.artifactsSubPath(path) : '';
    const files = await this.artifacts.list(sub ? `${root}/${sub}` : root);
    return { rootUri: run.artifactUri, files: files.map((f) => ({ ...f, path: sub ? `${sub}/${f.path}` : f.path })) };
  }

  private artifactsSubPath(path: string): string {
    this.artifacts.locate(path); // rejects traversal
    return path.replace(/^\/+|\/+$/g, '');
  }
}
