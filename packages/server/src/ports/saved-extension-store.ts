/** Saved extensions: named, reusable extension configs (the spec's ExtensionConfig), referenced by id. */
export interface SavedExtensionRecord {
  id: string;
  name: string;
  description: string;
  /** An ExtensionConfig: remove-bg, google/aws-auto-tagging, ai-auto-description or ai-tasks. */
  config: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface SavedExtensionStore {
  /** Oldest first. */
  list(): Promise<SavedExtensionRecord[]>;
  get(id: string): Promise<SavedExtensionRecord | undefined>;
  /** Inserts unless `limit` saved extensions exist already (checked atomically); false when refused. */
  insertUnderLimit(rec: SavedExtensionRecord, limit: number): Promise<boolean>;
  /** false when there is no such id. */
  update(id: string, patch: Partial<Pick<SavedExtensionRecord, 'name' | 'description' | 'config' | 'updatedAt'>>): Promise<boolean>;
  /** false when there is no such id. */
  delete(id: string): Promise<boolean>;
}
