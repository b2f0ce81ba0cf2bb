/**
 * Hosted images: the route that serves them, and the URLs that point at them. A URL's base is
 * `public_base_url` when set; else, behind a trusted proxy (`trust_proxy`), what its X-Forwarded-Host and
 * X-Forwarded-Proto say; else the address the client connected to. Never the Host header, which the
 * client writes: a URL built from it would send whoever follows the answer wherever the client said.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { createReadStream } from "node:fs";
import { isIPv4, isIPv6 } from "node:net";
import { NotFoundError } from "../../errors.js";
import type { ImageStore } from "../files/image-store.js";

const HOSTED_PATH = "/v1/files/images/";
/** A host name or bracketed IPv6 address, with an optional port: nothing that could add a path or credentials to the URL. */
const FORWARDED_HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export interface HostedImageUrls {
  publicBaseUrl: string | undefined;
  /** `general_settings.trust_proxy`. */
  trustProxy: boolean;
}

/** A forwarded header's last entry: the one the proxy nearest to xgate wrote. */
function lastEntry(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value.at(-1) : value;
  const entry = text?.split(",").at(-1)?.trim();
  return entry === "" ? undefined : entry;
}

/** The address and port the client's connection reached, as a URL's host. */
function connectedHost(request: FastifyRequest): string {
  const { localAddress, localPort } = request.raw.socket;
  // An IPv4 client of a dual-stack listener shows as ::ffff:a.b.c.d.
  const address = localAddress?.startsWith("::ffff:") && isIPv4(localAddress.slice(7)) ? localAddress.slice(7) : localAddress;
  const host = address === undefined ? "localhost" : isIPv6(address) ? `[${address.replace("%", "%25")}]` : address;
  return localPort === undefined ? host : `${host}:${localPort}`;
}

function originOf(request: FastifyRequest, trustProxy: boolean): string {
  const encrypted = (request.raw.socket as { encrypted?: boolean }).encrypted === true;
  let protocol = encrypted ? "https" : "http";
  let host = connectedHost(request);
  if (trustProxy) {
    const forwardedProto = lastEntry(request.headers["x-forwarded-proto"])?.toLowerCase();
    if (forwardedProto === "http" || forwardedProto === "https") protocol = forwardedProto;
    const forwardedHost = lastEntry(request.headers["x-forwarded-host"]);
    if (forwardedHost !== undefined && FORWARDED_HOST.test(forwardedHost)) host = forwardedHost;
  }
  return `${protocol}://${host}`;
}

export function hostedImageUrl(urls: HostedImageUrls, request: FastifyRequest, name: string): string {
  const base = urls.publicBaseUrl ?? originOf(request, urls.trustProxy);
  return `${base.replace(/\/+$/, "")}${HOSTED_PATH}${name}`;
}

/** Hosted images need no key: the unguessable name is the capability, so browsers and <img> tags can fetch them. */
export function hostedImageRoutes(app: FastifyInstance, images: ImageStore): void {
  app.get<{ Params: { name: string } }>(`${HOSTED_PATH}:name`, { config: { public: true } }, async (request, reply) => {
    const image = await images.get(request.params.name);
    if (!image) {
      throw new NotFoundError("No such image, or it has expired (general_settings.image_url_ttl_seconds).", {
        code: "image_not_found",
      });
    }
    const maxAge = Math.max(0, Math.floor((image.expiresAt - Date.now()) / 1000));
    reply.header("content-type", image.contentType);
    reply.header("content-length", image.size);
    reply.header("cache-control", `private, max-age=${maxAge}`);
    return reply.send(createReadStream(image.path));
  });
}
