// escala's chat page. Every piece of user text goes through textContent, so HTML in a
// message or nickname is shown as text and never runs.
const $ = (id) => document.getElementById(id);
// After a dropped connection (a replica draining, a network blip) the client reconnects on
// its own; the page then logs in again and asks for what it missed since the last message
// id it saw (`since`), so nothing is lost and nothing is shown twice.
let lastId = 0;
let loggedIn = false;
let viewRoom = "lobby"; // the room on screen: messages of any other room are not shown
let rejoining = false; // after a reconnect, on the way back through the lobby to viewRoom
const seen = new Set();
// Websocket first (one connection, no upgrade dance); where a proxy blocks websockets,
// tryAllTransports falls back to long-polling, which the server speaks too.
const socket = io({
  autoConnect: false,
  transports: ["websocket", "polling"],
  tryAllTransports: true,
  auth: (cb) => cb(lastId ? { since: lastId } : {}),
});
let typingTimer = null;
const typists = new Set();

function line(text, cls) {
  const li = document.createElement("li");
  li.textContent = text;
  if (cls) li.className = cls;
  $("messages").appendChild(li);
}
function showMessage(m) {
  if (m.room !== undefined && m.room !== viewRoom) return;
  if (m.id !== undefined) {
    if (seen.has(m.id)) return;
    seen.add(m.id);
    lastId = Math.max(lastId, m.id);
  }
  line(m.username + ": " + m.message, "message");
}
function refreshUsers() {
  socket.emit("users", (r) => {
    $("online").replaceChildren(...r.users.map((u) => {
      const li = document.createElement("li"); li.textContent = u; return li;
    }));
  });
}
function showTyping() { $("typing").textContent = typists.size ? [...typists].join(", ") + " typing…" : ""; }

$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  socket.connect();
  socket.emit("add user", $("nick").value, (r) => {
    if (r && r.error) { $("error").textContent = r.error; socket.disconnect(); return; }
    loggedIn = true;
    $("login").hidden = true; $("chat").hidden = false; $("text").focus();
  });
});
$("join").addEventListener("click", () => {
  socket.emit("join", $("room").value, (r) => {
    if (r && r.error) $("error").textContent = r.error;
  });
});
$("send").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value;
  if (!text) return;
  socket.emit("new message", text, (r) => {
    if (r && r.error) { $("error").textContent = r.error; return; }
    $("error").textContent = "";
    showMessage({ id: r.id, username: $("nick").value.trim(), message: text });
  });
  $("text").value = "";
  socket.emit("stop typing");
});
$("text").addEventListener("input", () => {
  socket.emit("typing");
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => socket.emit("stop typing"), 800);
});

socket.on("disconnect", () => { if (loggedIn) $("status").textContent = "reconnecting…"; });
socket.on("connect", () => {
  if (!loggedIn) return;
  const room = viewRoom;
  rejoining = room !== "lobby";
  socket.emit("add user", $("nick").value, () => {
    if (rejoining) socket.emit("join", room, lastId);
  });
});
socket.on("login", (d) => {
  if (d.room !== viewRoom) {
    if (rejoining) return;
    viewRoom = d.room;
    seen.clear();
    $("messages").replaceChildren();
  }
  rejoining = false;
  $("status").textContent = "";
  $("count").textContent = d.numUsers + " in " + d.room;
  refreshUsers();
});
socket.on("history", (list) => list.forEach(showMessage));
socket.on("new message", showMessage);
socket.on("user joined", (d) => { line(d.username + " joined", "log"); $("count").textContent = d.numUsers + " in " + d.room; refreshUsers(); });
socket.on("user left", (d) => { line(d.username + " left", "log"); $("count").textContent = d.numUsers + " in " + d.room; refreshUsers(); });
socket.on("typing", (d) => { typists.add(d.username); showTyping(); });
socket.on("stop typing", (d) => { typists.delete(d.username); showTyping(); });
socket.on("chat error", (d) => { $("error").textContent = d.error; });
