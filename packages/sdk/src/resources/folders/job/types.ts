export interface JobGetResponse {
  jobId?: string;
  type?: 'COPY_FOLDER' | 'MOVE_FOLDER' | 'RENAME_FOLDER';
  status?: 'Pending' | 'Completed';
  /** Set for a rename with `purgeCache`. */
  purgeRequestId?: string;
}
