// escala's chat page. Every piece of user text goes through textContent, so HTML in a
// message or nickname is shown as text and never runs.
const $ = (id) => document.getElementById(id);
// Websocket first: the fast server (`--server fast`) speaks only that transport; where a
// proxy blocks websockets, tryAllTransports falls back to long-polling (uvicorn server).
const socket = io({ autoConnect: false, transports: ["websocket", "polling"], tryAllTransports: true });
let typingTimer = null;
const typists = new Set();

function line(text, cls) {
  const li = document.createElement("li");
  li.textContent = text;
  if (cls) li.className = cls;
  $("messages").appendChild(li);
}
function showMessage(m) { line(m.username + ": " + m.message, "message"); }
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
    $("login").hidden = true; $("chat").hidden = false; $("text").focus();
  });
});
$("join").addEventListener("click", () => {
  socket.emit("join", $("room").value, (r) => {
    if (r.error) return;
    $("messages").replaceChildren();
  });
});
$("send").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value;
  if (!text) return;
  socket.emit("new message", text, (r) => {
    if (r && r.error) { $("error").textContent = r.error; return; }
    $("error").textContent = "";
    showMessage({ username: $("nick").value.trim(), message: text });
  });
  $("text").value = "";
  socket.emit("stop typing");
});
$("text").addEventListener("input", () => {
  socket.emit("typing");
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => socket.emit("stop typing"), 800);
});

socket.on("login", (d) => { $("count").textContent = d.numUsers + " in " + d.room; refreshUsers(); });
socket.on("history", (list) => list.forEach(showMessage));
socket.on("new message", showMessage);
socket.on("user joined", (d) => { line(d.username + " joined", "log"); $("count").textContent = d.numUsers + " in " + d.room; refreshUsers(); });
socket.on("user left", (d) => { line(d.username + " left", "log"); $("count").textContent = d.numUsers + " in " + d.room; refreshUsers(); });
socket.on("typing", (d) => { typists.add(d.username); showTyping(); });
socket.on("stop typing", (d) => { typists.delete(d.username); showTyping(); });
socket.on("chat error", (d) => { $("error").textContent = d.error; });
