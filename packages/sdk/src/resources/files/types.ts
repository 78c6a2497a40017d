// Request and response shapes of the files resource, named as in the SDK reference and typed after
// the OpenAPI spec (fields the spec does not require are optional; `null` where the spec allows it).
import type { Uploadable } from '../../core/uploads.js';
import type { Metadata } from './metadata/types.js';

/** An AI-generated tag (`AITag` in the spec). */
export interface AITag {
  /** Name of the tag. */
  name?: string;
  /** Confidence score of the tag. */
  confidence?: number;
  /** Extension that produced the tag, e.g. `google-auto-tagging`. */
  source?: string;
}

export interface VersionInfo {
  /** Unique identifier of the file version. */
  id?: string;
  /** Name of the file version, e.g. `Version 2`. */
  name?: string;
}

/** Values of custom metadata fields, keyed by field name. */
export type CustomMetadata = Record<string, unknown>;

/** Metadata embedded in the file (EXIF, IPTC, XMP …), flattened. */
export type EmbeddedMetadata = Record<string, unknown>;

export type CustomMetadataFieldType = 'Text' | 'Textarea' | 'Number' | 'Date' | 'Boolean' | 'SingleSelect' | 'MultiSelect';

/** A single custom metadata value. */
export type CustomMetadataScalar = string | number | boolean;

/** Schema of one custom metadata field, as included with `selectedFieldsSchema`. */
export interface SelectedFieldSchema {
  type: CustomMetadataFieldType;
  selectOptions?: CustomMetadataScalar[];
  selectOptionsTruncated?: boolean;
  defaultValue?: CustomMetadataScalar | CustomMetadataScalar[];
  isValueRequired?: boolean;
  readOnly?: boolean;
  minValue?: string | number;
  maxValue?: string | number;
  minLength?: number;
  maxLength?: number;
}

export type SelectedFieldsSchema = Record<string, SelectedFieldSchema>;

export type ExtensionStatusValue = 'success' | 'pending' | 'failed';

/** Status of each extension requested with an upload or update. */
export interface ExtensionStatus {
  'google-auto-tagging'?: ExtensionStatusValue;
  'aws-auto-tagging'?: ExtensionStatusValue;
  'remove-bg'?: ExtensionStatusValue;
  'ai-auto-description'?: ExtensionStatusValue;
  'ai-tasks'?: ExtensionStatusValue;
}

/** Details of a file or file version. */
export interface FileDetails {
  fileId?: string;
  type?: 'file' | 'file-version';
  name?: string;
  filePath?: string;
  tags?: string[] | null;
  AITags?: AITag[] | null;
  versionInfo?: VersionInfo;
  isPrivateFile?: boolean;
  isPublished?: boolean;
  customCoordinates?: string | null;
  url?: string;
  thumbnail?: string;
  fileType?: string;
  mime?: string;
  width?: number;
  height?: number;
  size?: number;
  bitRate?: number;
  duration?: number;
  audioCodec?: string;
  videoCodec?: string;
  hasAlpha?: boolean;
  customMetadata?: CustomMetadata;
  selectedFieldsSchema?: SelectedFieldsSchema;
  embeddedMetadata?: EmbeddedMetadata;
  description?: string;
  /** ISO 8601 date-time. */
  createdAt?: string;
  /** ISO 8601 date-time. */
  updatedAt?: string;
}

/** A folder, as returned by assets.list with `type: "folder"` or `"all"`. */
export interface FolderDetails {
  type?: 'folder';
  folderId?: string;
  name?: string;
  customMetadata?: Record<string, unknown>;
  folderPath?: string;
  createdAt?: string;
  updatedAt?: string;
}

// ---- extensions ----

export interface RemoveBgExtension {
  name: 'remove-bg';
  options?: {
    add_shadow?: boolean;
    semitransparency?: boolean;
    bg_color?: string;
    bg_image_url?: string;
  };
}

export interface AutoTaggingExtension {
  name: 'google-auto-tagging' | 'aws-auto-tagging';
  minConfidence: number;
  maxTags: number;
}

export interface AutoDescriptionExtension {
  name: 'ai-auto-description';
}

export interface AITaskAction {
  add_tags?: string[];
  remove_tags?: string[];
  set_metadata?: Array<{ field: string; value: CustomMetadataScalar | CustomMetadataScalar[] }>;
  unset_metadata?: Array<{ field: string }>;
}

export interface AITaskSelectTags {
  type: 'select_tags';
  instruction: string;
  vocabulary?: string[];
  min_selections?: number;
  max_selections?: number;
}

export interface AITaskSelectMetadata {
  type: 'select_metadata';
  instruction: string;
  field: string;
  vocabulary?: CustomMetadataScalar[];
  min_selections?: number;
  max_selections?: number;
}

export interface AITaskYesNo {
  type: 'yes_no';
  instruction: string;
  on_yes?: AITaskAction;
  on_no?: AITaskAction;
  on_unknown?: AITaskAction;
}

export type AITask = AITaskSelectTags | AITaskSelectMetadata | AITaskYesNo;

export interface AITasksExtension {
  name: 'ai-tasks';
  tasks: AITask[];
}

export interface SavedExtensionReference {
  name: 'saved-extension';
  id: string;
}

export type Extension =
  | RemoveBgExtension
  | AutoTaggingExtension
  | AutoDescriptionExtension
  | AITasksExtension
  | SavedExtensionReference;

/** Extensions to run on the file (background removal, auto-tagging, AI description, AI tasks). */
export type Extensions = Extension[];

// ---- upload ----

export type UploadPostTransformation =
  | { type: 'transformation'; value: string }
  | { type: 'gif-to-video'; value?: string }
  | { type: 'thumbnail'; value?: string }
  | { type: 'abs'; value: string; protocol: 'hls' | 'dash' };

/** Pre- and post-transformations applied on upload. */
export interface UploadTransformation {
  pre?: string;
  post?: UploadPostTransformation[];
}

export type UploadResponseField =
  | 'tags'
  | 'customCoordinates'
  | 'isPrivateFile'
  | 'embeddedMetadata'
  | 'isPublished'
  | 'customMetadata'
  | 'metadata'
  | 'selectedFieldsSchema';

/** Parameters shared by the V1 and V2 upload APIs. */
export interface UploadOptionsBase {
  /** The file: bytes, a Blob/File, a stream, an http(s) URL or a base64 string. */
  file: Uploadable;
  /**
   * Name for the stored file. Required by the API; defaults to the input's own name
   * (`File.name`, the basename of a `ReadStream`'s path) when omitted.
   */
  fileName?: string;
  useUniqueFileName?: boolean;
  /** Sent as a comma-separated list. */
  tags?: string[];
  folder?: string;
  isPrivateFile?: boolean;
  isPublished?: boolean;
  /** `x,y,width,height`. */
  customCoordinates?: string;
  /** Sent as a comma-separated list. */
  responseFields?: UploadResponseField[];
  /** Sent as JSON. */
  extensions?: Extensions;
  webhookUrl?: string;
  overwriteFile?: boolean;
  overwriteAITags?: boolean;
  overwriteTags?: boolean;
  overwriteCustomMetadata?: boolean;
  /** Sent as JSON. */
  customMetadata?: CustomMetadata;
  /** Sent as JSON. */
  transformation?: UploadTransformation;
  /** Upload checks, e.g. `"file.size" < "1mb"`. */
  checks?: string;
  description?: string;
}

/**
 * Upload API V1 request. Server-side, the client's private key authenticates it; client-side, pass
 * `publicKey`, `signature`, `expire` and `token` (from `getAuthenticationParameters`) instead.
 */
export interface FileUploadV1 extends UploadOptionsBase {
  publicKey?: string;
  signature?: string;
  /** Unix time (seconds) at which the signature expires. */
  expire?: number;
  token?: string;
}

/** Result of an upload. */
export interface Upload {
  fileId?: string;
  name?: string;
  filePath?: string;
  url?: string;
  thumbnailUrl?: string;
  height?: number;
  width?: number;
  size?: number;
  bitRate?: number;
  duration?: number;
  audioCodec?: string;
  videoCodec?: string;
  tags?: string[] | null;
  AITags?: AITag[] | null;
  versionInfo?: VersionInfo;
  isPrivateFile?: boolean;
  isPublished?: boolean;
  customCoordinates?: string | null;
  fileType?: string;
  customMetadata?: CustomMetadata;
  selectedFieldsSchema?: SelectedFieldsSchema;
  extensionStatus?: ExtensionStatus;
  metadata?: Metadata;
  embeddedMetadata?: EmbeddedMetadata;
  description?: string;
}

// ---- update, copy, move, rename ----

/** Changes tags, custom coordinates, custom metadata, AI tags or description, and/or runs extensions. */
export interface FilesUpdateDetailsRequest {
  /** AI tags to remove, or `"all"`. */
  removeAITags?: string[] | 'all';
  webhookUrl?: string;
  extensions?: Extensions;
  /** Replaces the tags; `null` removes them all. */
  tags?: string[] | null;
  /** `null` removes the custom coordinates. */
  customCoordinates?: string | null;
  customMetadata?: CustomMetadata;
  description?: string;
}

/** Publishes or unpublishes the file. */
export interface FilesUpdatePublicationRequest {
  publish: {
    isPublished: boolean;
    includeFileVersions?: boolean;
  };
}

/** Either a details update or a publication change (the API takes one or the other). */
export type FilesUpdateRequest = FilesUpdateDetailsRequest | FilesUpdatePublicationRequest;

export type FilesUpdateResponse = FileDetails & { extensionStatus?: ExtensionStatus };

export interface FilesCopyRequest {
  /** Full path of the file to copy, e.g. `/path/to/file.jpg`. */
  sourceFilePath: string;
  /** Folder to copy into, e.g. `/folder/to/copy/into/`. */
  destinationPath: string;
  includeFileVersions?: boolean;
}

export interface FilesMoveRequest {
  sourceFilePath: string;
  destinationPath: string;
}

export interface FilesRenameRequest {
  filePath: string;
  /** New name, including the extension; no slashes. */
  newFileName: string;
  /** Also purge the CDN cache for the old URL. */
  purgeCache?: boolean;
}

export interface FilesRenameResponse {
  /** Set when `purgeCache` was requested. */
  purgeRequestId?: string;
}
