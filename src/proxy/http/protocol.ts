/**
 * The HTTP server under Fastify and the checks on a request's protocol that come before anything else:
 * deadlines for slow clients, a Host that HTTP/1.1 requires, `Expect` headers, a stop under way. Node
 * answers the first three itself with bodiless responses; here they reach Fastify, so that they are
 * answered in the error shape with a request id and a log line like every other request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { FastifyReply, FastifyRequest } from "fastify";
import { APIError, BadRequestError, ServiceUnavailableError } from "../../errors.js";
import type { ServerSettings } from "../settings.js";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** The expectation Node's parser recognises (its own test); any other is refused with a 417. */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

export function httpServer(handler: Handler, settings: ServerSettings): Server {
  const server = createServer(
    {
      headersTimeout: settings.headersTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      // Node checks these deadlines every connectionsCheckingInterval (30 s by default): check each second, so
      // a client that trickles its headers or body is cut off near its deadline, not up to 30 s after it.
      connectionsCheckingInterval: 1000,
      // checkProtocol refuses a missing Host instead: Node's own refusal is a 400 with no body.
      requireHostHeader: false,
    },
    handler,
  );
  // Without these listeners Node answers an unknown Expect with a bodiless 417, and 100-continue with an
  // immediate 100. Handled by Fastify, the 417 has a body, and a request refused on its headers alone
  // (no key, say) is refused before its client sends the body: the 100 is sent only once the checks pass.
  server.on("checkExpectation", handler);
  server.on("checkContinue", handler);
  return server;
}

/** Throws for a request the proxy does not serve whatever its route: the first onRequest check. */
export function checkProtocol(request: FastifyRequest, closing: boolean): void {
  if (closing) {
    throw new ServiceUnavailableError(
      "xgate is shutting down and takes no new requests: send the request again (a load balancer sends it to another instance).",
      { code: "shutting_down" },
    );
  }
  const { httpVersion, headers } = request.raw;
  if (httpVersion !== "1.1") return;
  if (headers.host === undefined) {
    throw new BadRequestError("HTTP/1.1 requests must carry a Host header (RFC 9112): send Host: with the address you connect to.", {
      code: "missing_host",
    });
  }
  if (headers.expect !== undefined && !CONTINUE.test(headers.expect)) {
    throw new APIError(417, `xgate does not support 'Expect: ${headers.expect}'; send the request without it (or with Expect: 100-continue).`, {
      code: "expectation_failed",
    });
  }
}

/** The longest body a request may declare: a JSON body's limit, or a form's limit on its content plus its framing. */
export interface DeclaredLengthLimits {
  bodyLimitBytes: number;
  /** The form limit's error, for a form that declares more than `formDeclaredMaxBytes`. */
  formTooLarge: () => Error;
  formDeclaredMaxBytes: number;
}

/** Fastify's own error for a body over its limit: the error handler words it as for a body that was sent. */
function bodyTooLarge(): Error {
  return Object.assign(new Error("Request body is too large"), { statusCode: 413, code: "FST_ERR_CTP_BODY_TOO_LARGE" });
}

/**
 * A client that sent `Expect: 100-continue` waits for this before it sends the body: sent once its headers
 * passed every check — its declared length included, so that a body the proxy would refuse is never sent.
 */
export function continueIfExpected(request: FastifyRequest, reply: FastifyReply, limits: DeclaredLengthLimits): void {
  const { httpVersion, headers } = request.raw;
  if (httpVersion !== "1.1" || headers.expect === undefined || !CONTINUE.test(headers.expect) || reply.raw.headersSent) return;
  const declared = Number(headers["content-length"]);
  if (Number.isFinite(declared)) {
    const form = /^multipart\/form-data/i.test(headers["content-type"] ?? "");
    if (form && declared > limits.formDeclaredMaxBytes) throw limits.formTooLarge();
    if (!form && declared > limits.bodyLimitBytes) throw bodyTooLarge();
  }
  reply.raw.writeContinue();
}
