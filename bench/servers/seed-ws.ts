/**
 * The seed tutorials' broadcast chat, in Node: a `ws` server at `/ws` with a
 * set of clients; every message a client sends is parsed as JSON and written
 * to every client, serialized for each one (as the Go tutorial's
 * handleMessages calls WriteJSON per client). No history, no authentication.
 *
 * Usage: node seed-ws.js --port N
 */
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

interface Message {
  email: string;
  username: string;
  message: string;
}

const port = Number(process.argv[process.argv.indexOf('--port') + 1] ?? 8000);
const clients = new Set<WebSocket>();
const server = createServer((_request, response) => {
  response.writeHead(404).end();
});
const wss = new WebSocketServer({ server, path: '/ws' });

function handleMessages(msg: Message): void {
  for (const client of clients) {
    try {
      client.send(JSON.stringify(msg));
    } catch (error) {
      console.error(`error: ${String(error)}`);
      client.close();
      clients.delete(client);
    }
  }
}

wss.on('connection', (ws) => {
  clients.add(ws);
  ws.on('message', (data) => {
    let msg: Message;
    try {
      msg = JSON.parse(String(data)) as Message;
    } catch (error) {
      console.error(`error: ${String(error)}`);
      clients.delete(ws);
      ws.close();
      return;
    }
    handleMessages(msg);
  });
  ws.on('close', () => clients.delete(ws));
  ws.on('error', () => clients.delete(ws));
});

server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
