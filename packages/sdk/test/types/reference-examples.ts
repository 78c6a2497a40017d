/**
 * Type test: every usage example of sdk-reference.md, verbatim (unindented on purpose, so each block
 * is a byte-for-byte copy; test/reference-examples.test.ts checks that), each inside an async
 * function. Never executed — `tsc --noEmit` (npm run typecheck) compiles it against the SDK.
 * The second part pins each method's resolved type to the one the reference documents.
 */
import fs from 'node:fs';
import type {
  Assets,
  Bulk,
  CustomMetadataFields,
  Files,
  Folders,
  ImageKit,
  ImageKitClient,
  Invalidation,
  Job,
  Metadata,
  Origins,
  RequestOptions,
  UrlEndpoints,
  Usage,
  Versions,
} from '../../src/index.js';

declare const client: ImageKitClient;

// client.files.upload({ ...params }) -> ImageKit.Upload
export async function example01_files_upload(): Promise<void> {
await client.files.upload({
    file: fs.createReadStream("/path/to/your/file"),
    fileName: "fileName",
});
}

// client.files.get(fileId) -> ImageKit.FileDetails
export async function example02_files_get(): Promise<void> {
await client.files.get("fileId");
}

// client.files.update(fileId, { ...params }) -> ImageKit.FilesUpdateResponse
export async function example03_files_update(): Promise<void> {
await client.files.update("fileId", {
    removeAITags: ["car", "vehicle", "motorsports"],
    webhookUrl: "https://webhook.site/0d6b6c7a-8e5a-4b3a-8b7c-0d6b6c7a8e5a",
    extensions: [
        {
            name: "remove-bg",
            options: {
                add_shadow: true,
            },
        },
        {
            name: "google-auto-tagging",
            minConfidence: 80,
            maxTags: 10,
        },
        {
            name: "aws-auto-tagging",
            minConfidence: 80,
            maxTags: 10,
        },
        {
            name: "ai-auto-description",
        },
    ],
    tags: ["tag1", "tag2"],
    customCoordinates: "10,10,100,100",
    customMetadata: {
        brand: "Nike",
        color: "red",
    },
});
}

// client.files.delete(fileId) -> void
export async function example04_files_delete(): Promise<void> {
await client.files.delete("fileId");
}

// client.files.copy({ ...params }) -> Record<string, unknown>
export async function example05_files_copy(): Promise<void> {
await client.files.copy({
    sourceFilePath: "/path/to/file.jpg",
    destinationPath: "/folder/to/copy/into/",
});
}

// client.files.move({ ...params }) -> Record<string, unknown>
export async function example06_files_move(): Promise<void> {
await client.files.move({
    sourceFilePath: "/path/to/file.jpg",
    destinationPath: "/folder/to/move/into/",
});
}

// client.files.rename({ ...params }) -> ImageKit.FilesRenameResponse
export async function example07_files_rename(): Promise<void> {
await client.files.rename({
    filePath: "/path/to/file.jpg",
    newFileName: "newFileName.jpg",
});
}

// client.customMetadataFields.list({ ...params }) -> ImageKit.CustomMetadataField[]
export async function example08_customMetadataFields_list(): Promise<void> {
await client.customMetadataFields.list();
}

// client.customMetadataFields.create({ ...params }) -> ImageKit.CustomMetadataField
export async function example09_customMetadataFields_create(): Promise<void> {
await client.customMetadataFields.create({
    name: "price",
    label: "price",
    schema: {
        type: "Number",
        minValue: 1000,
        maxValue: 3000,
    },
});
}

// client.customMetadataFields.delete(id) -> Record<string, unknown>
export async function example10_customMetadataFields_delete(): Promise<void> {
await client.customMetadataFields.delete("id");
}

// client.customMetadataFields.update(id, { ...params }) -> ImageKit.CustomMetadataField
export async function example11_customMetadataFields_update(): Promise<void> {
await client.customMetadataFields.update("id", {
    label: "price",
    schema: {
        minValue: 1000,
        maxValue: 3000,
    },
});
}

// client.assets.list({ ...params }) -> ImageKit.AssetsListResponseItem[]
export async function example12_assets_list(): Promise<void> {
await client.assets.list();
}

// client.folders.create({ ...params }) -> Record<string, unknown>
export async function example13_folders_create(): Promise<void> {
await client.folders.create({
    folderName: "summer",
    parentFolderPath: "/product/images/",
});
}

// client.folders.delete({ ...params }) -> Record<string, unknown>
export async function example14_folders_delete(): Promise<void> {
await client.folders.delete({
    folderPath: "/folder/to/delete/",
});
}

// client.folders.copy({ ...params }) -> ImageKit.FoldersCopyResponse
export async function example15_folders_copy(): Promise<void> {
await client.folders.copy({
    sourceFolderPath: "/path/of/source/folder",
    destinationPath: "/path/of/destination/folder",
});
}

// client.folders.move({ ...params }) -> ImageKit.FoldersMoveResponse
export async function example16_folders_move(): Promise<void> {
await client.folders.move({
    sourceFolderPath: "/path/of/source/folder",
    destinationPath: "/path/of/destination/folder",
});
}

// client.folders.rename({ ...params }) -> ImageKit.FoldersRenameResponse
export async function example17_folders_rename(): Promise<void> {
await client.folders.rename({
    folderPath: "/path/of/folder",
    newFolderName: "new-folder-name",
});
}

// client.accounts.usage.get({ ...params }) -> ImageKit.UsageGetResponse
export async function example18_accounts_usage_get(): Promise<void> {
await client.accounts.usage.get({
    startDate: "startDate",
    endDate: "endDate",
});
}

// client.accounts.origins.list() -> ImageKit.OriginResponseArray
export async function example19_accounts_origins_list(): Promise<void> {
await client.accounts.origins.list();
}

// client.accounts.origins.create({ ...params }) -> ImageKit.OriginResponse
export async function example20_accounts_origins_create(): Promise<void> {
await client.accounts.origins.create({
    type: "S3",
    name: "US S3 Storage",
    bucket: "product-images",
    accessKey: "AKIAIOSFODNN7EXAMPLE",
    secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
});
}

// client.accounts.origins.get(id) -> ImageKit.OriginResponse
export async function example21_accounts_origins_get(): Promise<void> {
await client.accounts.origins.get("id");
}

// client.accounts.origins.update(id, { ...params }) -> ImageKit.OriginResponse
export async function example22_accounts_origins_update(): Promise<void> {
await client.accounts.origins.update("id", {
    type: "S3",
    name: "US S3 Storage",
    bucket: "product-images",
    accessKey: "AKIAIOSFODNN7EXAMPLE",
    secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
});
}

// client.accounts.origins.delete(id) -> void
export async function example23_accounts_origins_delete(): Promise<void> {
await client.accounts.origins.delete("id");
}

// client.accounts.urlEndpoints.list() -> ImageKit.UrlEndpointResponseArray
export async function example24_accounts_urlEndpoints_list(): Promise<void> {
await client.accounts.urlEndpoints.list();
}

// client.accounts.urlEndpoints.create({ ...params }) -> ImageKit.UrlEndpointResponse
export async function example25_accounts_urlEndpoints_create(): Promise<void> {
await client.accounts.urlEndpoints.create({
    description: "My custom URL endpoint",
    urlPrefix: "product-images",
    origins: ["origin-id-1"],
});
}

// client.accounts.urlEndpoints.get(id) -> ImageKit.UrlEndpointResponse
export async function example26_accounts_urlEndpoints_get(): Promise<void> {
await client.accounts.urlEndpoints.get("id");
}

// client.accounts.urlEndpoints.update(id, { ...params }) -> ImageKit.UrlEndpointResponse
export async function example27_accounts_urlEndpoints_update(): Promise<void> {
await client.accounts.urlEndpoints.update("id", {
    description: "My custom URL endpoint",
    urlPrefix: "product-images",
    origins: ["origin-id-1"],
});
}

// client.accounts.urlEndpoints.delete(id) -> void
export async function example28_accounts_urlEndpoints_delete(): Promise<void> {
await client.accounts.urlEndpoints.delete("id");
}

// client.beta.v2.files.upload({ ...params }) -> ImageKit.Upload
export async function example29_beta_v2_files_upload(): Promise<void> {
await client.beta.v2.files.upload({
    file: fs.createReadStream("/path/to/your/file"),
    fileName: "fileName",
});
}

// client.cache.invalidation.create({ ...params }) -> ImageKit.InvalidationCreateResponse
export async function example30_cache_invalidation_create(): Promise<void> {
await client.cache.invalidation.create({
    url: "https://ik.imagekit.io/your_imagekit_id/default-image.jpg",
});
}

// client.cache.invalidation.get(requestId) -> ImageKit.InvalidationGetResponse
export async function example31_cache_invalidation_get(): Promise<void> {
await client.cache.invalidation.get("requestId");
}

// client.files.bulk.delete({ ...params }) -> ImageKit.BulkDeleteResponse
export async function example32_files_bulk_delete(): Promise<void> {
await client.files.bulk.delete({
    fileIds: ["598821f949c0a938d57563bd", "598821f949c0a938d57563be"],
});
}

// client.files.bulk.addTags({ ...params }) -> ImageKit.BulkAddTagsResponse
export async function example33_files_bulk_addTags(): Promise<void> {
await client.files.bulk.addTags({
    fileIds: ["598821f949c0a938d57563bd", "598821f949c0a938d57563be"],
    tags: ["t-shirt", "round-neck", "sale2019"],
});
}

// client.files.bulk.removeTags({ ...params }) -> ImageKit.BulkRemoveTagsResponse
export async function example34_files_bulk_removeTags(): Promise<void> {
await client.files.bulk.removeTags({
    fileIds: ["598821f949c0a938d57563bd", "598821f949c0a938d57563be"],
    tags: ["t-shirt", "round-neck", "sale2019"],
});
}

// client.files.bulk.removeAiTags({ ...params }) -> ImageKit.BulkRemoveAiTagsResponse
export async function example35_files_bulk_removeAiTags(): Promise<void> {
await client.files.bulk.removeAiTags({
    fileIds: ["598821f949c0a938d57563bd", "598821f949c0a938d57563be"],
    AITags: ["t-shirt", "round-neck", "sale2019"],
});
}

// client.files.versions.list(fileId) -> ImageKit.FileDetails[]
export async function example36_files_versions_list(): Promise<void> {
await client.files.versions.list("fileId");
}

// client.files.versions.get(fileId, versionId) -> ImageKit.FileDetails
export async function example37_files_versions_get(): Promise<void> {
await client.files.versions.get("fileId", "versionId");
}

// client.files.versions.delete(fileId, versionId) -> Record<string, unknown>
export async function example38_files_versions_delete(): Promise<void> {
await client.files.versions.delete("fileId", "versionId");
}

// client.files.versions.restore(fileId, versionId) -> ImageKit.FileDetails
export async function example39_files_versions_restore(): Promise<void> {
await client.files.versions.restore("fileId", "versionId");
}

// client.files.metadata.get(fileId) -> ImageKit.Metadata
export async function example40_files_metadata_get(): Promise<void> {
await client.files.metadata.get("fileId");
}

// client.files.metadata.getFromUrl({ ...params }) -> ImageKit.Metadata
export async function example41_files_metadata_getFromUrl(): Promise<void> {
await client.files.metadata.getFromUrl({
    url: "url",
});
}

// client.folders.job.get(jobId) -> ImageKit.JobGetResponse
export async function example42_folders_job_get(): Promise<void> {
await client.folders.job.get("jobId");
}

// ---- resolved types, as documented ----

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Resolves<F> = F extends (...args: never[]) => PromiseLike<infer R> ? R : never;
function assertType<T extends true>(): T | void {}

assertType<Equal<Resolves<ImageKitClient['files']['upload']>, ImageKit.Upload>>();
assertType<Equal<Resolves<ImageKitClient['files']['get']>, ImageKit.FileDetails>>();
assertType<Equal<Resolves<ImageKitClient['files']['update']>, ImageKit.FilesUpdateResponse>>();
assertType<Equal<Resolves<ImageKitClient['files']['delete']>, void>>();
assertType<Equal<Resolves<ImageKitClient['files']['copy']>, Record<string, unknown>>>();
assertType<Equal<Resolves<ImageKitClient['files']['move']>, Record<string, unknown>>>();
assertType<Equal<Resolves<ImageKitClient['files']['rename']>, ImageKit.FilesRenameResponse>>();
assertType<Equal<Resolves<ImageKitClient['customMetadataFields']['list']>, ImageKit.CustomMetadataField[]>>();
assertType<Equal<Resolves<ImageKitClient['customMetadataFields']['create']>, ImageKit.CustomMetadataField>>();
assertType<Equal<Resolves<ImageKitClient['customMetadataFields']['delete']>, Record<string, unknown>>>();
assertType<Equal<Resolves<ImageKitClient['customMetadataFields']['update']>, ImageKit.CustomMetadataField>>();
assertType<Equal<Resolves<ImageKitClient['assets']['list']>, ImageKit.AssetsListResponseItem[]>>();
assertType<Equal<Resolves<ImageKitClient['folders']['create']>, Record<string, unknown>>>();
assertType<Equal<Resolves<ImageKitClient['folders']['delete']>, Record<string, unknown>>>();
assertType<Equal<Resolves<ImageKitClient['folders']['copy']>, ImageKit.FoldersCopyResponse>>();
assertType<Equal<Resolves<ImageKitClient['folders']['move']>, ImageKit.FoldersMoveResponse>>();
assertType<Equal<Resolves<ImageKitClient['folders']['rename']>, ImageKit.FoldersRenameResponse>>();
assertType<Equal<Resolves<ImageKitClient['accounts']['usage']['get']>, ImageKit.UsageGetResponse>>();
assertType<Equal<Resolves<ImageKitClient['accounts']['origins']['list']>, ImageKit.OriginResponseArray>>();
assertType<Equal<Resolves<ImageKitClient['accounts']['origins']['create']>, ImageKit.OriginResponse>>();
assertType<Equal<Resolves<ImageKitClient['accounts']['origins']['get']>, ImageKit.OriginResponse>>();
assertType<Equal<Resolves<ImageKitClient['accounts']['origins']['update']>, ImageKit.OriginResponse>>();
assertType<Equal<Resolves<ImageKitClient['accounts']['origins']['delete']>, void>>();
assertType<Equal<Resolves<ImageKitClient['accounts']['urlEndpoints']['list']>, ImageKit.UrlEndpointResponseArray>>();
assertType<Equal<Resolves<ImageKitClient['accounts']['urlEndpoints']['create']>, ImageKit.UrlEndpointResponse>>();
assertType<Equal<Resolves<ImageKitClient['accounts']['urlEndpoints']['get']>, ImageKit.UrlEndpointResponse>>();
assertType<Equal<Resolves<ImageKitClient['accounts']['urlEndpoints']['update']>, ImageKit.UrlEndpointResponse>>();
assertType<Equal<Resolves<ImageKitClient['accounts']['urlEndpoints']['delete']>, void>>();
assertType<Equal<Resolves<ImageKitClient['beta']['v2']['files']['upload']>, ImageKit.Upload>>();
assertType<Equal<Resolves<ImageKitClient['cache']['invalidation']['create']>, ImageKit.InvalidationCreateResponse>>();
assertType<Equal<Resolves<ImageKitClient['cache']['invalidation']['get']>, ImageKit.InvalidationGetResponse>>();
assertType<Equal<Resolves<ImageKitClient['files']['bulk']['delete']>, ImageKit.BulkDeleteResponse>>();
assertType<Equal<Resolves<ImageKitClient['files']['bulk']['addTags']>, ImageKit.BulkAddTagsResponse>>();
assertType<Equal<Resolves<ImageKitClient['files']['bulk']['removeTags']>, ImageKit.BulkRemoveTagsResponse>>();
assertType<Equal<Resolves<ImageKitClient['files']['bulk']['removeAiTags']>, ImageKit.BulkRemoveAiTagsResponse>>();
assertType<Equal<Resolves<ImageKitClient['files']['versions']['list']>, ImageKit.FileDetails[]>>();
assertType<Equal<Resolves<ImageKitClient['files']['versions']['get']>, ImageKit.FileDetails>>();
assertType<Equal<Resolves<ImageKitClient['files']['versions']['delete']>, Record<string, unknown>>>();
assertType<Equal<Resolves<ImageKitClient['files']['versions']['restore']>, ImageKit.FileDetails>>();
assertType<Equal<Resolves<ImageKitClient['files']['metadata']['get']>, ImageKit.Metadata>>();
assertType<Equal<Resolves<ImageKitClient['files']['metadata']['getFromUrl']>, ImageKit.Metadata>>();
assertType<Equal<Resolves<ImageKitClient['folders']['job']['get']>, ImageKit.JobGetResponse>>();

// ---- request types, as documented (the parameter after the path ids) ----

assertType<Equal<NonNullable<Parameters<ImageKitClient['files']['upload']>[0]>, ImageKit.FileUploadV1>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['files']['update']>[1]>, ImageKit.FilesUpdateRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['files']['copy']>[0]>, ImageKit.FilesCopyRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['files']['move']>[0]>, ImageKit.FilesMoveRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['files']['rename']>[0]>, ImageKit.FilesRenameRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['customMetadataFields']['list']>[0]>, ImageKit.CustomMetadataFieldsListRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['customMetadataFields']['create']>[0]>, ImageKit.CustomMetadataFieldsCreateRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['customMetadataFields']['update']>[1]>, ImageKit.CustomMetadataFieldsUpdateRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['assets']['list']>[0]>, ImageKit.AssetsListRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['folders']['create']>[0]>, ImageKit.FoldersCreateRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['folders']['delete']>[0]>, ImageKit.FoldersDeleteRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['folders']['copy']>[0]>, ImageKit.FoldersCopyRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['folders']['move']>[0]>, ImageKit.FoldersMoveRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['folders']['rename']>[0]>, ImageKit.FoldersRenameRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['accounts']['usage']['get']>[0]>, ImageKit.accounts.UsageGetRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['accounts']['origins']['create']>[0]>, ImageKit.OriginSchema>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['accounts']['origins']['update']>[1]>, ImageKit.OriginSchema>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['accounts']['urlEndpoints']['create']>[0]>, ImageKit.UrlEndpointSchema>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['accounts']['urlEndpoints']['update']>[1]>, ImageKit.UrlEndpointSchema>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['beta']['v2']['files']['upload']>[0]>, ImageKit.beta.v2.FileUploadV2>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['cache']['invalidation']['create']>[0]>, ImageKit.cache.InvalidationCreateRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['files']['bulk']['delete']>[0]>, ImageKit.files.BulkDeleteRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['files']['bulk']['addTags']>[0]>, ImageKit.files.BulkAddTagsRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['files']['bulk']['removeTags']>[0]>, ImageKit.files.BulkRemoveTagsRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['files']['bulk']['removeAiTags']>[0]>, ImageKit.files.BulkRemoveAiTagsRequest>>();
assertType<Equal<NonNullable<Parameters<ImageKitClient['files']['metadata']['getFromUrl']>[0]>, ImageKit.files.MetadataGetFromUrlRequest>>();

// ---- the reference's `<Resource>.RequestOptions` names ----

assertType<Equal<Files.RequestOptions, RequestOptions>>();
assertType<Equal<Bulk.RequestOptions, RequestOptions>>();
assertType<Equal<Versions.RequestOptions, RequestOptions>>();
assertType<Equal<Metadata.RequestOptions, RequestOptions>>();
assertType<Equal<CustomMetadataFields.RequestOptions, RequestOptions>>();
assertType<Equal<Assets.RequestOptions, RequestOptions>>();
assertType<Equal<Folders.RequestOptions, RequestOptions>>();
assertType<Equal<Job.RequestOptions, RequestOptions>>();
assertType<Equal<Usage.RequestOptions, RequestOptions>>();
assertType<Equal<Origins.RequestOptions, RequestOptions>>();
assertType<Equal<UrlEndpoints.RequestOptions, RequestOptions>>();
assertType<Equal<Invalidation.RequestOptions, RequestOptions>>();
