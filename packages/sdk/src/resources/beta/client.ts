import { APIResource } from '../../core/resource.js';
import type { Transport } from '../../internal/transport.js';
import { V2 } from './v2/client.js';

/** APIs ImageKit marks as beta. */
export class Beta extends APIResource {
  readonly v2: V2;

  constructor(transport: Transport) {
    super(transport);
    this.v2 = new V2(transport);
  }
}
