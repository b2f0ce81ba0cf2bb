import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Packages only the proxy may use: the SDK and everything under it stay free of the server's dependencies. */
const SERVER_PACKAGES = ["fastify", "@fastify/*", "ioredis", "pino", "kysely", "pg", "better-sqlite3", "prom-client", "@opentelemetry/*"];

/** What the SDK side (everything outside src/proxy) must not import. */
const SDK_SIDE = ["**/proxy/**", ...SERVER_PACKAGES];
const SDK_MESSAGE = "Only the proxy uses the proxy's modules and the server's packages (Fastify, ioredis, pino…).";

/** Climbing two folders from ui/src/ leaves ui/ (ui/src/ is at most one folder deep); node: modules and xgate are server-side. */
const UI_OUTSIDE = {
  regex: "^(\\.\\./){2,}|^node:|^xgate(/|$)",
  message: "The console (ui/) runs in the browser: it imports only its own modules and browser packages, and reaches the proxy over HTTP (ui/src/api.ts).",
};
const UI_INSIDE = { regex: "(^|/)ui(/|$)", message: "The proxy and the SDK import nothing from the console (ui/): it is a separate build." };

/** The layers, as design.md draws them: each folder may import only the folders below it. */
const layer = (files, forbidden, message) => ({
  files,
  rules: { "no-restricted-imports": ["error", { patterns: [{ group: forbidden, message }] }] },
});

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "bench/results/", "bench/scratch/", "coverage/", "test-artifacts/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": ["error", { allow: ["warn", "error"] }],
    },
  },
  {
    files: ["src/proxy/cli.ts", "test/support/emulator/cli.ts", "bench/**"],
    rules: { "no-console": "off" },
  },
  // The console runs in the browser: ui/ imports nothing from outside ui/ (src/ included), and src/ nothing from ui/.
  // A rule of its own, so that it adds to the layers' lists below instead of replacing them.
  {
    files: ["ui/**/*.{ts,tsx}"],
    languageOptions: { parserOptions: { ecmaFeatures: { jsx: true } } },
    rules: { "@typescript-eslint/no-restricted-imports": ["error", { patterns: [UI_OUTSIDE] }] },
  },
  { files: ["src/**"], rules: { "@typescript-eslint/no-restricted-imports": ["error", { patterns: [UI_INSIDE] }] } },
  layer(["src/core/**"], ["../*", "!../core/*", ...SERVER_PACKAGES], "core/ depends on nothing else in xgate."),
  // Each file gets one list (a later config would replace an earlier one's), so each folder's list is whole.
  layer(["src/*.ts", "src/sdk/**"], [...SDK_SIDE], SDK_MESSAGE),
  // The OpenAI wire format is data and framing: it knows xgate's errors and nothing else.
  layer(
    ["src/openai/**"],
    [...SDK_SIDE, "**/upstream/**", "**/providers/**", "**/operations/**", "**/sdk/**", "../index.js"],
    `${SDK_MESSAGE} src/openai/ depends only on core/ and the errors.`,
  ),
  layer(["src/upstream/**"], [...SDK_SIDE, "**/providers/**", "**/operations/**", "**/sdk/**"], `${SDK_MESSAGE} The transport knows no provider or operation.`),
  layer(["src/providers/**"], [...SDK_SIDE, "**/operations/**", "**/sdk/**"], `${SDK_MESSAGE} Providers know no operation or SDK facade.`),
  layer(["src/operations/**"], [...SDK_SIDE, "**/sdk/**"], `${SDK_MESSAGE} Operations are shared by the SDK and the proxy; they import neither.`),
  layer(["src/proxy/router/**"], ["**/providers/**", "**/operations/**", "**/sdk/**"], "The router imports no provider: the pipeline's dispatch stage joins them."),
  layer(
    ["src/proxy/routes/**"],
    ["**/upstream/**", "**/providers/**", "**/router/**", "**/sdk/**"],
    "Routes reach upstreams only through the pipeline.",
  ),
);
