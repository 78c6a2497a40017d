/**
 * The custom metadata field store port: the definitions of custom metadata fields (name, label,
 * schema, soft-deleted flag) and a read of the values files hold under a field's name, which a
 * schema change is checked against.
 */

export const CUSTOM_FIELD_TYPES = ['Text', 'Textarea', 'Number', 'Date', 'Boolean', 'SingleSelect', 'MultiSelect'] as const;
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number];

export type SelectOption = string | number | boolean;

/** The `schema` object exactly as the API returns it (and as the `schema` column stores it, as JSON). */
export interface CustomFieldSchema {
  type: CustomFieldType;
  selectOptions?: SelectOption[];
  defaultValue?: SelectOption | SelectOption[];
  isValueRequired?: boolean;
  minValue?: string | number;
  maxValue?: string | number;
  minLength?: number;
  maxLength?: number;
}

export interface CustomFieldRecord {
  id: string;
  /** API name: the key in an asset's `customMetadata`. Unique across all fields, deleted ones included. */
  name: string;
  /** Display name: unique among fields that are not deleted. */
  label: string;
  schema: CustomFieldSchema;
  isDeleted: boolean;
  createdAt: string;
  updatedAt: string;
}

/** A value stored under a field's name on a file (the file's current state). */
export interface StoredFieldValue {
  fileId: string;
  value: unknown;
}

export interface CustomFieldRepo {
  /** In creation order. */
  list(opts: { includeDeleted: boolean }): Promise<CustomFieldRecord[]>;
  get(id: string): Promise<CustomFieldRecord | undefined>;
  /** Any field with this name, deleted or not. */
  getByName(name: string): Promise<CustomFieldRecord | undefined>;
  /** The field with this label that is not deleted, if any. */
  getLiveByLabel(label: string): Promise<CustomFieldRecord | undefined>;
  /** false when the name is already taken (the store enforces name uniqueness). */
  insert(rec: CustomFieldRecord): Promise<boolean>;
  update(id: string, patch: { label?: string; schema?: CustomFieldSchema; updatedAt: string }): Promise<void>;
  markDeleted(id: string, now: string): Promise<void>;
  /**
   * Values stored under `name` in the custom metadata of current files, ordered by file id and
   * starting after the cursor; at most `limit` files per call, so callers page through any size.
   * `next` is the cursor for the following page, null after the last one.
   */
  storedValues(name: string, cursor: string | null, limit: number): Promise<{ values: StoredFieldValue[]; next: string | null }>;
}

export interface CustomFieldStore extends CustomFieldRepo {
  /** Runs fn in one transaction; everything commits or nothing does. */
  transaction<T>(fn: (tx: CustomFieldRepo) => Promise<T>): Promise<T>;
}
