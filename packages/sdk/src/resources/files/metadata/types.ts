/** EXIF `image` block (IFD0). */
export interface ExifImage {
  Make?: string;
  Model?: string;
  ImageDescription?: string;
  Artist?: string;
  Copyright?: string;
  Orientation?: number;
  XResolution?: number;
  YResolution?: number;
  ResolutionUnit?: number;
  Software?: string;
  ModifyDate?: string;
  YCbCrPositioning?: number;
  ExifOffset?: number;
  GPSInfo?: number;
  [key: string]: unknown;
}

export interface ExifThumbnail {
  Compression?: number;
  XResolution?: number;
  YResolution?: number;
  ResolutionUnit?: number;
  ThumbnailOffset?: number;
  ThumbnailLength?: number;
  [key: string]: unknown;
}

export interface ExifDetails {
  ExposureTime?: number;
  FNumber?: number;
  ExposureProgram?: number;
  ISO?: number;
  ExifVersion?: string;
  DateTimeOriginal?: string;
  CreateDate?: string;
  ShutterSpeedValue?: number;
  ApertureValue?: number;
  ExposureCompensation?: number;
  MeteringMode?: number;
  Flash?: number;
  BrightnessValue?: number;
  MaxApertureValue?: number;
  LightSource?: number;
  FocalLength?: number;
  UserComment?: string;
  SensingMethod?: number;
  SceneType?: string;
  FocalLengthIn35mmFormat?: number;
  LensModel?: string;
  SubSecTime?: string;
  FlashpixVersion?: string;
  ColorSpace?: number;
  ExifImageWidth?: number;
  ExifImageHeight?: number;
  InteropOffset?: number;
  FocalPlaneXResolution?: number;
  FocalPlaneYResolution?: number;
  FocalPlaneResolutionUnit?: number;
  CustomRendered?: number;
  ExposureMode?: number;
  WhiteBalance?: number;
  SceneCaptureType?: number;
  [key: string]: unknown;
}

export interface Gps {
  GPSVersionID?: number[];
  GPSLatitudeRef?: string;
  GPSLatitude?: number[];
  GPSLongitudeRef?: string;
  GPSLongitude?: number[];
  GPSAltitudeRef?: number;
  GPSAltitude?: number;
  GPSTimeStamp?: number[];
  GPSImgDirectionRef?: string;
  GPSImgDirection?: number;
  GPSDateStamp?: string;
  [key: string]: unknown;
}

export interface Interoperability {
  InteropIndex?: string;
  InteropVersion?: string;
  [key: string]: unknown;
}

export interface Exif {
  image?: ExifImage;
  thumbnail?: ExifThumbnail;
  exif?: ExifDetails;
  gps?: Gps;
  interoperability?: Interoperability;
  makernote?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Technical metadata of an image or video: dimensions, format, pHash, EXIF … */
export interface Metadata {
  height?: number;
  width?: number;
  size?: number;
  format?: string;
  hasColorProfile?: boolean;
  quality?: number;
  density?: number;
  hasTransparency?: boolean;
  /** Perceptual hash, 16 hex digits. */
  pHash?: string;
  bitRate?: number;
  duration?: number;
  audioCodec?: string;
  videoCodec?: string;
  exif?: Exif;
  [key: string]: unknown;
}

export interface MetadataGetFromUrlRequest {
  /** A URL served by ImageKit (or this Tessera server). */
  url: string;
}
