export interface FoldersCreateRequest {
  folderName: string;
  /** Parent folder; created if missing. `/` for the root. */
  parentFolderPath: string;
}

export interface FoldersDeleteRequest {
  folderPath: string;
}

/** A bulk job started by a folder copy, move or rename. */
export interface JobResponse {
  /** Poll it with `client.folders.job.get(jobId)`. */
  jobId: string;
}

export interface FoldersCopyRequest {
  sourceFolderPath: string;
  destinationPath: string;
  includeVersions?: boolean;
}

export type FoldersCopyResponse = JobResponse;

export interface FoldersMoveRequest {
  sourceFolderPath: string;
  destinationPath: string;
}

export type FoldersMoveResponse = JobResponse;

export interface FoldersRenameRequest {
  folderPath: string;
  newFolderName: string;
  purgeCache?: boolean;
}

export type FoldersRenameResponse = JobResponse;
