/**
 * Where the proxy listens, and how to say so. Without a master key anyone who reaches the port can use
 * the proxy, so unless a host is given it listens on this machine only; and the banner names the socket's
 * real address (`0.0.0.0` included), not a URL that merely works from here.
 */
import type { AddressInfo } from "node:net";

export type HostChoice =
  /** `--host` or env HOST. */
  | "given"
  /** No master key: only this machine can reach the proxy. */
  | "loopback-without-key"
  /** A master key guards every interface. */
  | "all-interfaces";

export interface ListenHost {
  host: string;
  choice: HostChoice;
}

/** The host to listen on: the one given, else every interface with a master key, else loopback. */
export function chooseHost(given: string | undefined, hasMasterKey: boolean): ListenHost {
  if (given !== undefined && given !== "") return { host: given, choice: "given" };
  return hasMasterKey ? { host: "0.0.0.0", choice: "all-interfaces" } : { host: "127.0.0.1", choice: "loopback-without-key" };
}

/** Whether only this machine can reach a socket on `host`. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const ANY = new Set(["0.0.0.0", "::"]);

/** The banner's words for where the socket listens, as `server.address()` reports it. */
export function describeListening(address: AddressInfo | string | null): string {
  if (address === null) return "not listening";
  if (typeof address === "string") return `listening on ${address}`;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  if (ANY.has(address.address)) return `listening on ${host}:${address.port} (all interfaces), try http://127.0.0.1:${address.port}`;
  return `listening on http://${host}:${address.port}`;
}
