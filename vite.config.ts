/**
 * The console's build: ui/ into dist/ui, served by the proxy under /ui/ (src/proxy/routes/console.ts).
 * Everything is bundled into hashed files (no inline script or style, so that the strict CSP holds).
 */
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const uiRoot = fileURLToPath(new URL("./ui", import.meta.url));

export default defineConfig({
  root: uiRoot,
  base: "/ui/",
  plugins: [react()],
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("./dist/ui", import.meta.url)),
    emptyOutDir: true,
    // Nothing inlined as data: URLs into scripts or styles; small assets stay files under the CSP's 'self'.
    assetsInlineLimit: 0,
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 700,
  },
});
