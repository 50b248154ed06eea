// Drives the example page in headless Chromium for tests/integration/test_browser.py:
//   node e2e.mjs PAGE_URL      (Chromium from CHROMIUM, default /usr/bin/chromium)
// Commands on stdin, one per line; answers on stdout:
//   (start)                       -> READY once the page is connected and subscribed
//   EXPECT <line>                 -> SEEN when the page shows exactly <line>
//   PUBLISH <topic> <payload...>  -> PUBLISHED once the page has sent it
// Any failure prints "ERROR <why>" and exits 1.
import { chromium } from "playwright-core";
import { createInterface } from "node:readline";

const [url] = process.argv.slice(2);
const fail = (why) => {
  console.log(`ERROR ${why}`);
  process.exit(1);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  // No network but loopback here: Chromium's own background traffic is switched off.
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps"],
}).catch((e) => fail(`cannot start Chromium: ${e.message}`));
try {
  const page = await browser.newPage();
  page.on("console", (m) => console.error(`page: ${m.text()}`));
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await page.goto(url);
  await page.locator("#status[data-state=connected]").waitFor({ timeout: 20000 })
    .catch(async () => fail(`page not connected: ${await page.locator("#status").textContent()}`));
  console.log("READY");
  for await (const line of createInterface({ input: process.stdin })) {
    const [command, ...rest] = line.split(" ");
    if (command === "EXPECT") {
      const text = rest.join(" ");
      await page.locator("#messages li", { hasText: text }).filter({ hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) })
        .first().waitFor({ timeout: 15000 })
        .catch(async () => fail(`not shown: ${text}; the page shows: ${JSON.stringify(await page.locator("#messages li").allTextContents())}`));
      console.log("SEEN");
    } else if (command === "PUBLISH") {
      await page.fill("[name=topic]", rest[0]);
      await page.fill("[name=payload]", rest.slice(1).join(" "));
      await page.click("#publish button");
      console.log("PUBLISHED");
    } else if (command === "QUIT") {
      break;
    }
  }
} catch (e) {
  await browser.close();
  fail(e.message);
}
await browser.close();
process.exit(0); // stdin may still be open
