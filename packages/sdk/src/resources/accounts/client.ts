import { APIResource } from '../../core/resource.js';
import type { Transport } from '../../internal/transport.js';
import { Origins } from './origins/client.js';
import { UrlEndpoints } from './urlEndpoints/client.js';
import { Usage } from './usage/client.js';

/** Account-level settings and usage. */
export class Accounts extends APIResource {
  readonly usage: Usage;
  readonly origins: Origins;
  readonly urlEndpoints: UrlEndpoints;

  constructor(transport: Transport) {
    super(transport);
    this.usage = new Usage(transport);
    this.origins = new Origins(transport);
    this.urlEndpoints = new UrlEndpoints(transport);
  }
}
