import { APIResource } from '../../core/resource.js';
import type { Transport } from '../../internal/transport.js';
import { Invalidation } from './invalidation/client.js';

export class Cache extends APIResource {
  readonly invalidation: Invalidation;

  constructor(transport: Transport) {
    super(transport);
    this.invalidation = new Invalidation(transport);
  }
}
