/** Rewrites another provider's URL format into ImageKit's. */
export type UrlRewriter =
  | { type: 'CLOUDINARY'; preserveAssetDeliveryTypes?: boolean }
  | { type: 'IMGIX' }
  | { type: 'AKAMAI' };

/** A URL endpoint to create or replace. */
export interface UrlEndpointSchema {
  description: string;
  /** Path prefix this endpoint serves, e.g. `product-images`; empty for the root. */
  urlPrefix?: string;
  /** Origin ids, tried in order (at most 10). */
  origins?: string[];
  urlRewriter?: UrlRewriter;
}

export type UrlRewriterResponse =
  | { type: 'CLOUDINARY'; preserveAssetDeliveryTypes: boolean }
  | { type: 'IMGIX' }
  | { type: 'AKAMAI' };

export interface UrlEndpointResponse {
  /** `default` for the endpoint created with the account. */
  id: string;
  description: string;
  urlPrefix: string;
  origins: string[];
  urlRewriter?: UrlRewriterResponse;
}

export type UrlEndpointResponseArray = UrlEndpointResponse[];
