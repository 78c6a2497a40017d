export interface UsageGetRequest {
  /** First day included, `YYYY-MM-DD`. */
  startDate: string;
  /** First day excluded, `YYYY-MM-DD`. */
  endDate: string;
}

export interface UsageGetResponse {
  bandwidthBytes?: number;
  mediaLibraryStorageBytes?: number;
  videoProcessingUnitsCount?: number;
  extensionUnitsCount?: number;
  originalCacheStorageBytes?: number;
}
