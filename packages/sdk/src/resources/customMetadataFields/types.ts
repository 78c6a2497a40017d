import type { CustomMetadataFieldType, CustomMetadataScalar } from '../files/types.js';

export interface CustomMetadataFieldSchema {
  type: CustomMetadataFieldType;
  /** Allowed values; only for `SingleSelect` and `MultiSelect`. */
  selectOptions?: CustomMetadataScalar[];
  /** Required when `isValueRequired` is true; an array for `MultiSelect`. */
  defaultValue?: CustomMetadataScalar | CustomMetadataScalar[];
  isValueRequired?: boolean;
  /** For `Number` (a number) or `Date` (an ISO 8601 string). */
  minValue?: string | number;
  maxValue?: string | number;
  /** For `Text` and `Textarea`. */
  minLength?: number;
  maxLength?: number;
}

export interface CustomMetadataField {
  id: string;
  /** API name, unique across all fields, deleted ones included. */
  name: string;
  /** Display label, unique across non-deleted fields. */
  label: string;
  schema: CustomMetadataFieldSchema;
}

export interface CustomMetadataFieldsListRequest {
  includeDeleted?: boolean;
  /** Only fields applicable to this folder. */
  folderPath?: string;
}

export interface CustomMetadataFieldsCreateRequest {
  name: string;
  label: string;
  schema: CustomMetadataFieldSchema;
}

export interface CustomMetadataFieldsUpdateRequest {
  label?: string;
  /** The type cannot change. */
  schema?: Omit<CustomMetadataFieldSchema, 'type'>;
}
