import { EntitySchema } from 'typeorm';

export interface FeatureViewRecord {
  name: string;
  version: number;
  /** JSON: the view's input definition (the YAML/PUT shape, name included). */
  definition: string;
  createdAt: Date;
}

export const FeatureViewEntity = new EntitySchema<FeatureViewRecord>({
  name: 'FeatureStoreView',
  tableName: 'feature_store_views',
  columns: {
    name: { type: String, primary: true, length: 128 },
    version: { type: Number, primary: true },
    definition: { type: 'text' },
    createdAt: { type: Date, name: 'created_at' },
  },
});
