// Hand-written helpers of the SDK: URL building, signing, upload auth and webhooks.
// Everything here is pure TypeScript with no runtime dependency, safe for browsers and Node 18+.

export { buildSrc, signUrl, DEFAULT_SIGNATURE_EXPIRY } from './url.js';
export { buildTransformationString } from './transformation.js';
export { getResponsiveImageAttributes } from './responsive.js';
export { getAuthenticationParameters, DEFAULT_AUTH_EXPIRY_SECONDS } from './auth.js';
export type { AuthenticationParameters } from './auth.js';
export {
  createUploadToken,
  serializeUploadPayload,
  MAX_UPLOAD_TOKEN_SECONDS,
  DEFAULT_UPLOAD_TOKEN_SECONDS,
} from './upload-token.js';
export type { CreateUploadTokenOptions, UploadTokenHeader, UploadTokenPayload } from './upload-token.js';
export {
  verifyWebhook,
  verifyWebhookSync,
  signWebhook,
  WebhookVerificationError,
  DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
} from './webhooks.js';
export type {
  WebhookEvent,
  WebhookFile,
  WebhookHeaders,
  WebhookSecretFormat,
  WebhookSignatureHeaders,
  WebhookVerificationFailure,
  VerifyWebhookOptions,
  SignWebhookOptions,
  VideoWebhookRequestInfo,
  VideoTransformationOptions,
  VideoTransformationBase,
  VideoTransformationAcceptedEvent,
  VideoTransformationReadyEvent,
  VideoTransformationErrorEvent,
  UploadPreTransformSuccessEvent,
  UploadPreTransformErrorEvent,
  PostTransformWebhookRequestInfo,
  UploadPostTransformSuccessEvent,
  UploadPostTransformErrorEvent,
  FileCreateEvent,
  FileUpdateEvent,
  FileDeleteEvent,
  FileVersionCreateEvent,
  FileVersionDeleteEvent,
} from './webhooks.js';
export type {
  SrcOptions,
  Transformation,
  TransformationPosition,
  StreamingResolution,
  Overlay,
  OverlayEncoding,
  OverlayPosition,
  OverlayTiming,
  BaseOverlay,
  TextOverlay,
  ImageOverlay,
  VideoOverlay,
  SubtitleOverlay,
  SolidColorOverlay,
  TextOverlayTransformation,
  SubtitleOverlayTransformation,
  SolidColorOverlayTransformation,
  GetImageAttributesOptions,
  ResponsiveImageAttributes,
  LiteralOrString,
} from './types.js';
