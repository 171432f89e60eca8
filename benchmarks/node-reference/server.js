// Reference Node.js Socket.IO chat server: the official socket.io chat example's
// broadcast logic (https://github.com/socketio/socket.io/tree/main/examples/chat),
// without the static page. Usage: node server.js PORT
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 3000);
const io = new Server(port, { transports: ["websocket", "polling"] });
let numUsers = 0;

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
