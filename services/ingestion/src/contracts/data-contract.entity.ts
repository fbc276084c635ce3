import { EntitySchema } from 'typeorm';

export interface DataContractRow {
  source: string;
  version: number;
  definition: string;
  createdAt: Date;
}

/** Owned by ingestion: every version of every source's data contract. */
export const DataContractEntity = new EntitySchema<DataContractRow>({
  name: 'IngestionDataContract',
  tableName: 'ingestion_data_contracts',
  columns: {
    source: { type: String, primary: true, length: 100 },
    version: { type: Number, primary: true },
    definition: { type: 'text' },
    createdAt: { type: Date, name: 'created_at' },
  },
});
