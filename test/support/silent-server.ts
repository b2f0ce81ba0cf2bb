/**
 * A TCP server that accepts connections and never answers: an upstream that hangs (a wedged process, a
 * firewall that swallows packets after the handshake). Tests wait for its connections as events.
 */
import { once } from "node:events";
import { createServer, type Socket } from "node:net";

export interface SilentServer {
  /** `http://127.0.0.1:PORT${path}`: different paths make different api_bases on the one server. */
  url(path?: string): string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Resolves once `count` connections have been accepted in all. */
  connected(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // Reads and drops what the client sends, so that its writes never block.
    socket.resume();
    for (const waiter of waiters.filter((w) => w.count <= connections)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("silent server has no port");
  return {
    url: (path = "") => `http://127.0.0.1:${address.port}${path}`,
    get connections() {
      return connections;
    },
    connected(count) {
      if (connections >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
}
