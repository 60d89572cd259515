// The web client's browser tests: Debian's Chromium (/usr/bin/chromium; Playwright's own
// browser download does not work here), headless, against a real confide-server and Redis
// started per test (stack.ts). Run from scripts/test.sh, or: npx playwright test
import { defineConfig } from "@playwright/test";

const outDir = process.env.CONFIDE_BROWSER_OUT ?? "../../build/browser";

export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.ts",
  outputDir: `${outDir}/test-results`,
  // Two cores shared with builds: one browser at a time keeps timings honest.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: true,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  use: {
    browserName: "chromium",
    headless: true,
    launchOptions: {
      executablePath: process.env.CONFIDE_CHROMIUM ?? "/usr/bin/chromium",
      // Without the background-networking flags Chromium keeps dialing out, which this
      // machine's closed network refuses.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
});
