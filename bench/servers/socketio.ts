/**
 * The canonical Socket.IO 4 chat server: every `chat message` event is
 * emitted to everyone. WebSocket transport only (no long-polling).
 *
 * Usage: node socketio.js --port N
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[process.argv.indexOf('--port') + 1] ?? 3000);
const httpServer = createServer();
const io = new Server(httpServer, { transports: ['websocket'] });

io.on('connection', (socket) => {
  socket.on('chat message', (msg: unknown) => {
    io.emit('chat message', msg);
  });
});

httpServer.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
