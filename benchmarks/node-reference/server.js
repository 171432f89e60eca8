// Reference Node.js Socket.IO chat server: the official socket.io chat example's
// broadcast logic (https://github.com/socketio/socket.io/tree/main/examples/chat),
// without the static page. Usage: node server.js PORT [REDIS_URL]
// With REDIS_URL, broadcasts go through the official @socket.io/redis-adapter, so several
// instances behind one Redis act as one chat (the two-replica benchmark).
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 3000);
const redisUrl = process.argv[3];
const io = new Server({ transports: ["websocket", "polling"] });
let numUsers = 0;

if (redisUrl) {
  const { createClient } = require("redis");
  const { createAdapter } = require("@socket.io/redis-adapter");
  const pubClient = createClient({ url: redisUrl });
  const subClient = pubClient.duplicate();
  // Listen only once the adapter is in place, so no client lands on the in-memory one.
  Promise.all([pubClient.connect(), subClient.connect()]).then(() => {
    io.adapter(createAdapter(pubClient, subClient));
    io.listen(port);
  });
} else {
  io.listen(port);
}

io.on("connection", (socket) => {
  let addedUser = false;

  socket.on("new message", (data) => {
    socket.broadcast.emit("new message", { username: socket.username, message: data });
  });

  socket.on("add user", (username) => {
    if (addedUser) return;
    socket.username = username;
    ++numUsers;
    addedUser = true;
    socket.emit("login", { numUsers });
    socket.broadcast.emit("user joined", { username: socket.username, numUsers });
  });

  socket.on("disconnect", () => {
    if (addedUser) {
      --numUsers;
      socket.broadcast.emit("user left", { username: socket.username, numUsers });
    }
  });
});
