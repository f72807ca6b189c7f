/** Unit tests of the web app (test/*.test.ts), in Node: authkit-nextjs is replaced per test with vi.mock. */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    restoreMocks: true,
  },
});
