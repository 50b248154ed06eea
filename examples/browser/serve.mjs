// Serves the example on 127.0.0.1: node serve.mjs [PORT] (default 8000; 0 picks a free port).
// Prints "listening PORT". Only these files are served, with the Paho client from node_modules.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const files = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/index.html": ["index.html", "text/html; charset=utf-8"],
  "/app.js": ["app.js", "text/javascript; charset=utf-8"],
  "/paho-mqtt.js": ["node_modules/paho-mqtt/paho-mqtt.js", "text/javascript; charset=utf-8"],
};

const server = createServer(async (req, res) => {
  const entry = files[new URL(req.url, "http://localhost").pathname];
  if (!entry) {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    return;
  }
  try {
    const body = await readFile(join(here, entry[0]));
    res.writeHead(200, { "content-type": entry[1], "cache-control": "no-store" }).end(body);
  } catch {
    res.writeHead(500, { "content-type": "text/plain" }).end("run npm install in examples/browser\n");
  }
});
server.listen(Number(process.argv[2] ?? 8000), "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
