// The classic demo: connect, subscribe, show "Topic: X | payload" lines (the same lines as
// `wsmqtt sub`), publish. Eclipse Paho JavaScript client, MQTT 3.1.1 over WebSocket.
"use strict";

const $ = (selector) => document.querySelector(selector);
const status = $("#status");
const messages = $("#messages");
const publishButton = $("#publish button");
let client = null;

function setStatus(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

function show(line) {
  const item = document.createElement("li");
  item.textContent = line; // text, never HTML: payloads come from anyone who can publish
  messages.append(item);
}

// Query parameters fill the form (?broker=ws://host:port/path&filter=topic), and ?connect=1 connects.
const params = new URLSearchParams(location.search);
for (const name of ["broker", "filter", "topic", "payload"]) {
  if (params.has(name)) document.querySelector(`[name=${name}]`).value = params.get(name);
}

$("#connect").addEventListener("submit", (event) => {
  event.preventDefault();
  connect($("[name=broker]").value, $("[name=filter]").value);
});

$("#publish").addEventListener("submit", (event) => {
  event.preventDefault();
  const message = new Paho.Message($("[name=payload]").value);
  message.destinationName = $("[name=topic]").value;
  message.qos = 1;
  client.send(message);
});

function connect(broker, filter) {
  if (client && client.isConnected()) client.disconnect();
  const clientId = "browser-" + Math.random().toString(16).slice(2, 10);
  try {
    client = new Paho.Client(broker, clientId); // full ws:// or wss:// URL, path included
  } catch (error) {
    setStatus("error", "bad broker URL: " + error.message);
    return;
  }
  client.onMessageArrived = (message) => {
    let payload;
    try {
      payload = message.payloadString;
    } catch {
      payload = `<${message.payloadBytes.length} bytes, not UTF-8>`;
    }
    show(`Topic: ${message.destinationName} | ${payload}`);
  };
  client.onConnectionLost = (response) => {
    publishButton.disabled = true;
    setStatus("error", response.errorCode ? "connection lost: " + response.errorMessage : "disconnected");
  };
  setStatus("connecting", "connecting…");
  client.connect({
    mqttVersion: 4,
    timeout: 10,
    onSuccess: () => {
      client.subscribe(filter, {
        qos: 1,
        onSuccess: () => {
          publishButton.disabled = false;
          setStatus("connected", `connected, subscribed to ${filter}`);
        },
        onFailure: (response) => setStatus("error", "subscription refused: " + response.errorMessage),
      });
    },
    onFailure: (response) => setStatus("error", "cannot connect: " + response.errorMessage),
  });
}

if (params.get("connect") === "1") connect($("[name=broker]").value, $("[name=filter]").value);
