/** A per-file failure in a 207 (partial success) bulk response. */
export interface BulkError {
  fileId?: string;
  error?: string;
}

export interface BulkDeleteRequest {
  /** Up to 100 file ids. */
  fileIds: string[];
}

export interface BulkDeleteResponse {
  successfullyDeletedFileIds?: string[];
  /** Present on partial success (HTTP 207). */
  errors?: BulkError[];
}

export interface BulkAddTagsRequest {
  /** Up to 50 file ids. */
  fileIds: string[];
  tags: string[];
}

export interface BulkAddTagsResponse {
  successfullyUpdatedFileIds?: string[];
  errors?: BulkError[];
}

export interface BulkRemoveTagsRequest {
  fileIds: string[];
  tags: string[];
}

export interface BulkRemoveTagsResponse {
  successfullyUpdatedFileIds?: string[];
  errors?: BulkError[];
}

export interface BulkRemoveAiTagsRequest {
  fileIds: string[];
  AITags: string[];
}

export interface BulkRemoveAiTagsResponse {
  successfullyUpdatedFileIds?: string[];
  errors?: BulkError[];
}
