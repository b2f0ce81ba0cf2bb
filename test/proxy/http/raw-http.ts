/**
 * HTTP at the byte level, for what a well-behaved client cannot send: raw bytes written on a socket, and
 * the responses read back (interim 1xx ones included) until the server closes the connection.
 */
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";

export interface RawResponse {
  status: number;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: string;
}

/** The port of an app listening on 127.0.0.1. */
export function portOf(app: FastifyInstance): number {
  return (app.server.address() as AddressInfo).port;
}

/** Splits what a server wrote into responses: 1xx ones have no body, the others a Content-Length. */
export function parseResponses(text: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) throw new Error(`not an HTTP response: ${JSON.stringify(rest.slice(0, 200))}`);
    const [statusLine, ...lines] = rest.slice(0, end).split("\r\n");
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine ?? "")?.[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = status < 200 ? 0 : Number(headers["content-length"] ?? 0);
    const bodyStart = end + 4;
    responses.push({ status, headers, body: rest.slice(bodyStart, bodyStart + length) });
    rest = rest.slice(bodyStart + length);
  }
  return responses;
}

export interface ExchangeOptions {
  /** Half-close the connection after writing, as a client that stops sending does. */
  end?: boolean;
  /** Written only once the server has answered with an interim 100 Continue. */
  afterContinue?: string;
}

/** Writes `data` on a new connection and resolves with every response the server wrote before closing it. */
export function exchange(port: number, data: string | Buffer, options: ExchangeOptions = {}): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(data);
      if (options.end === true) socket.end();
    });
    let received = "";
    let continued = false;
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      if (options.afterContinue !== undefined && !continued && received.startsWith("HTTP/1.1 100 Continue\r\n\r\n")) {
        continued = true;
        socket.write(options.afterContinue);
      }
    });
    // A server that closes on a request it refused may reset the connection while the client still writes.
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "ECONNRESET" && err.code !== "EPIPE") reject(err);
    });
    socket.on("close", () => {
      try {
        resolve(parseResponses(received));
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** A request's head, with `Connection: close` so that the server ends the exchange once it has answered. */
export function head(requestLine: string, headers: Record<string, string | number> = {}): string {
  const lines = Object.entries({ Host: "xgate.test", Connection: "close", ...headers }).map(([name, value]) => `${name}: ${value}\r\n`);
  return `${requestLine}\r\n${lines.join("")}\r\n`;
}
