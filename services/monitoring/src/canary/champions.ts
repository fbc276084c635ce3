import { Injectable } from '@nestjs/common';
import type { ChampionRow } from '../store/entities';

/** The champion version of each model (model.promoted with alias champion, model.rolled_back). */
@Injectable()
export class Champions {
  private readonly champions = new Map<string, number>();

  restore(rows: ChampionRow[]): void {
    rows.forEach((c) => this.champions.set(c.model, c.version));
  }

  of(model: string): number | undefined {
    return this.champions.get(model);
  }

  set(model: string, version: number | undefined): void {
    if (version === undefined) this.champions.delete(model);
    else this.champions.set(model, version);
  }

  models(): IterableIterator<string> {
    return this.champions.keys();
  }
}
