import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, DEFAULT_HELP } from '../../errors/index.js';

/** Fastify's own 4xx errors carry internal codes; these say the same thing in plain words. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'Your request body is not valid JSON.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'Your request has a JSON content type but an empty body.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Your request has an unsupported Content-Type.',
  FST_ERR_CTP_BODY_TOO_LARGE: 'Your request body is too large.',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Your request has an invalid Content-Length.',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'Your request is not multipart/form-data.',
  FST_REQ_FILE_TOO_LARGE: 'Your request contains invalid file parameter. The file size exceeds limits.',
  FST_PARTS_LIMIT: 'Your request has too many multipart parts.',
  FST_FILES_LIMIT: 'Your request has more than one file part; send exactly one "file".',
  FST_FIELDS_LIMIT: 'Your request has too many form fields.',
  FST_PROTO_VIOLATION: 'Your request contains a forbidden field name.',
};

/**
 * One handler turns every error into ImageKit's `{ message, help }`. Unknown errors become a
 * generic 500 carrying the request id, logged with the stack; the stack never reaches the wire.
 * Set on the root instance, so every scope inherits it.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError | Error, req, reply) => {
    reply.header('x-request-id', req.id);
    if (err instanceof ApiError) {
      if (err.status >= 500) req.log.error({ err }, 'api error');
      for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
      if (err.status === 413) reply.header('connection', 'close');
      return reply.status(err.status).send(err.toBody());
    }
    const fe = err as FastifyError;
    const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
    if (status >= 400 && status < 500) {
      const message = (fe.code && FASTIFY_MESSAGES[fe.code]) ?? cleanMessage(fe.message);
      if (status === 413) reply.header('connection', 'close');
      return reply.status(status).send({ message, help: DEFAULT_HELP });
    }
    // Malformed multipart surfaces from busboy as plain Errors while the body is read.
    if (isMultipartSyntaxError(err)) {
      return reply.status(400).send({ message: `Your request is not valid multipart/form-data: ${err.message}.`, help: DEFAULT_HELP });
    }
    // A client that hangs up mid-body surfaces as "aborted" (ECONNRESET): its doing, not a server fault.
    const ne = err as NodeJS.ErrnoException;
    if ((ne.code === 'ECONNRESET' && ne.message === 'aborted') || req.raw.socket?.destroyed) {
      req.log.info({ err: ne.message }, 'client closed the connection before the request was read');
      return reply.status(400).send({ message: 'Your request was closed before it was fully received.', help: DEFAULT_HELP });
    }
    req.log.error({ err }, 'unhandled error');
    return reply
      .status(500)
      .send({ message: `Internal server error. Quote request id ${req.id} when reporting it.`, help: DEFAULT_HELP });
  });
}

/**
 * Requests no route matches: `{message, help}` with 404. Runs with the hooks and body parsers of
 * the scope it is set in (set without a prefix, it answers for the whole server).
 */
export function registerNotFoundHandler(app: FastifyInstance): void {
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ message: `No route for ${req.method} ${req.url.split('?')[0]}.`, help: DEFAULT_HELP });
  });
}

function cleanMessage(m: string): string {
  return m.replace(/^FST_\w+:\s*/, '').slice(0, 300);
}

function isMultipartSyntaxError(err: Error): boolean {
  return /multipart|boundary|Unexpected end of form|Malformed part header/i.test(err.message);
}

/**
 * Errors Fastify raises before a route runs (a path that is not valid percent-encoding, an
 * over-long path parameter). Without this they answer with Fastify's own body, not `{message, help}`.
 */
export function onFrameworkError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', req.id);
  const message =
    err.code === 'FST_ERR_BAD_URL'
      ? 'The URL path is not valid percent-encoding.'
      : err.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? 'Your request contains a path parameter that is too long.'
        : 'Your request could not be routed.';
  void reply.status(400).send({ message, help: DEFAULT_HELP });
}
