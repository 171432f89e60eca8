// escala's chat page. Every piece of user text goes through textContent, so HTML in a
// message or nickname is shown as text and never runs.
const $ = (id) => document.getElementById(id);
// After a dropped connection (a replica draining, a network blip) the client reconnects on
// its own; the page then logs in again and asks for what it missed since the last message
// id it saw (`since`), so nothing is lost and nothing is shown twice.
let lastId = 0;
let loggedIn = false;
let nick = "";
let viewRoom = "lobby"; // the room on screen: messages of any other room are not shown
let rejoining = false; // after a reconnect, on the way back through the lobby to viewRoom
const seen = new Set();
// The rooms the side panel lists: a few to start with, then every room this page has been
// in or seen someone move to. The server counts who is in each (`rooms`).
const rooms = new Set(["lobby", "random"]);
const typists = new Set();
let typingTimer = null;
let typing = false; // as the demo: one `typing` when it starts, not one per key
// Websocket first (one connection, no upgrade dance); where a proxy blocks websockets,
// tryAllTransports falls back to long-polling, which the server speaks too.
// A server started with --auth-secret-file wants a token: open the page as
// /#token=<JWT> (the fragment never reaches a server or its logs).
const token = new URLSearchParams(location.hash.slice(1)).get("token");
// This tab's own random key: after a reconnect it gets its nickname back even while the
// server still holds the old connection (nicknames are unique per room).
const key =
  sessionStorage.getItem("escala-key") ||
  Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
sessionStorage.setItem("escala-key", key);
const socket = io({
  autoConnect: false,
  transports: ["websocket", "polling"],
  tryAllTransports: true,
  auth: (cb) => cb({ key, ...(lastId ? { since: lastId } : {}), ...(token ? { token } : {}) }),
});

function clock(ts) {
  const at = ts ? new Date(ts * 1000) : new Date();
  const time = document.createElement("time");
  time.dateTime = at.toISOString();
  time.textContent = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  time.title = at.toLocaleString();
  return time;
}
function span(cls, text) {
  const s = document.createElement("span");
  s.className = cls;
  s.textContent = text;
  return s;
}
function append(li) {
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.appendChild(li);
  if (atBottom || li.classList.contains("mine")) li.scrollIntoView({ block: "end" });
}
// A system line: someone joined, left or moved rooms; styled apart from what people say.
function systemLine(text, kind) {
  const li = document.createElement("li");
  li.className = "system " + kind;
  li.append(span("text", text), clock());
  append(li);
}
function showMessage(m) {
  if (m.room !== undefined && m.room !== viewRoom) return;
  if (m.id !== undefined) {
    if (seen.has(m.id)) return;
    seen.add(m.id);
    lastId = Math.max(lastId, m.id);
  }
  typists.delete(m.username);
  showTyping();
  const li = document.createElement("li");
  li.className = "message" + (m.username === nick ? " mine" : "");
  li.append(span("who", m.username), span("text", m.message), clock(m.ts));
  append(li);
}
function showError(where, text) {
  $(where).textContent = text || "";
}

function refreshUsers() {
  socket.emit("users", (r) => {
    if (!r || !r.users) return;
    $("online").replaceChildren(...r.users.map((u) => {
      const li = document.createElement("li");
      li.textContent = u;
      if (u === nick) li.className = "me";
      return li;
    }));
    $("online-count").textContent = "(" + r.users.length + ")";
  });
}
function refreshRooms() {
  socket.emit("rooms", [...rooms].slice(-20), (r) => {
    if (!r || !r.rooms) return;
    $("rooms").replaceChildren(...r.rooms.map(({ room, numUsers }) => {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.room = room;
      button.setAttribute("aria-current", room === viewRoom ? "true" : "false");
      button.append(span("name", "#" + room), span("n", String(numUsers)));
      button.title = numUsers + " online in #" + room;
      button.addEventListener("click", () => switchRoom(room));
      const li = document.createElement("li");
      li.appendChild(button);
      return li;
    }));
  });
}
function refreshPresence(d) {
  if (d && d.room === viewRoom) $("count").textContent = people(d.numUsers) + " here";
  refreshUsers();
  refreshRooms();
}
function people(n) { return n === 1 ? "1 person" : n + " people"; }
function showTyping() {
  const names = [...typists];
  let text = "";
  if (names.length === 1) text = names[0] + " is typing…";
  else if (names.length === 2) text = names[0] + " and " + names[1] + " are typing…";
  else if (names.length > 2) text = names.length + " people are typing…";
  $("typing").textContent = text;
}
function switchRoom(name) {
  const room = (name || "").trim();
  if (!room) { showError("error", "room: give a room name, e.g. /join random"); return; }
  closeSide();
  if (room === viewRoom) return;
  socket.emit("join", room, (r) => {
    if (r && r.error) showError("error", r.error);
  });
}
function closeSide() {
  $("chat").classList.remove("side-open");
  $("side-toggle").setAttribute("aria-expanded", "false");
}

// Logging in: an empty nickname is refused here (the server refuses it too) and every
// error shows right under the field, on the login screen itself.
$("login-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const wanted = $("nick").value.trim();
  $("nick").setAttribute("aria-invalid", "false");
  if (!wanted) {
    showError("login-error", "Type a nickname first: it cannot be empty.");
    $("nick").setAttribute("aria-invalid", "true");
    $("nick").focus();
    return;
  }
  showError("login-error", "");
  $("enter").disabled = true;
  nick = wanted; // before the ack: the history that comes first marks our own messages
  socket.connect();
  socket.emit("add user", wanted, (r) => {
    $("enter").disabled = false;
    if (r && r.error) {
      showError("login-error", r.error);
      $("nick").setAttribute("aria-invalid", "true");
      socket.disconnect();
      return;
    }
    loggedIn = true;
    if (r && r.username) nick = r.username; // a token's name wins over the one typed
    $("me").textContent = "signed in as " + nick;
    $("login").hidden = true;
    $("chat").hidden = false;
    systemLine("Welcome, " + nick + ". You are in #" + viewRoom + ".", "welcome");
    $("text").focus();
  });
});
socket.on("connect_error", (err) => {
  // Refused by the server (socket no longer active: no or a bad token) it says why;
  // otherwise the network is at fault and the client keeps trying.
  const why = socket.active ? "Cannot reach the chat server; still trying…" : err.message;
  if (!loggedIn) showError("login-error", why);
});

$("send").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("text").value;
  if (!text.trim()) return;
  $("text").value = "";
  const command = text.match(/^\/join\s+(.+)$/);
  if (command) { switchRoom(command[1]); return; }
  socket.emit("new message", text, (r) => {
    if (r && r.error) { showError("error", r.error); return; }
    showError("error", "");
    showMessage({ id: r.id, ts: r.ts, username: nick, message: text });
  });
  clearTimeout(typingTimer);
  typing = false;
  socket.emit("stop typing");
});
$("text").addEventListener("input", () => {
  if (!typing) socket.emit("typing");
  typing = true;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => { typing = false; socket.emit("stop typing"); }, 1500);
});
$("join-form").addEventListener("submit", (e) => {
  e.preventDefault();
  switchRoom($("room").value);
  $("room").value = "";
});
$("side-toggle").addEventListener("click", () => {
  const open = $("chat").classList.toggle("side-open");
  $("side-toggle").setAttribute("aria-expanded", String(open));
  if (open) $("rooms").querySelector("button")?.focus();
});
// Keyboard: Alt+Up / Alt+Down walk the room list; Escape closes the side panel.
document.addEventListener("keydown", (e) => {
  if (!loggedIn) return;
  if (e.key === "Escape") { closeSide(); $("text").focus(); return; }
  if (!e.altKey || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
  const list = [...rooms];
  const at = list.indexOf(viewRoom);
  const step = e.key === "ArrowUp" ? -1 : 1;
  e.preventDefault();
  switchRoom(list[(at + step + list.length) % list.length]);
});

socket.on("disconnect", () => {
  if (!loggedIn) return;
  $("status").textContent = "reconnecting…";
  document.body.classList.add("offline");
});
socket.on("connect", () => {
  if (!loggedIn) return;
  const room = viewRoom;
  rejoining = room !== "lobby";
  socket.emit("add user", nick, () => {
    if (rejoining) socket.emit("join", room, lastId);
  });
});
socket.on("login", (d) => {
  if (d.room !== viewRoom) {
    if (rejoining) return;
    viewRoom = d.room;
    rooms.add(d.room);
    seen.clear();
    typists.clear();
    showTyping();
    $("messages").replaceChildren();
    systemLine("You moved to #" + d.room + ".", "moved");
  }
  rejoining = false;
  $("status").textContent = "";
  document.body.classList.remove("offline");
  $("room-title").textContent = "#" + d.room;
  $("text").placeholder = "Message #" + d.room;
  document.title = "#" + d.room + " · escala chat";
  refreshPresence(d);
});
socket.on("history", (list) => list.forEach(showMessage));
// A replay is one page; the server says when more follows, and the page asks for it.
function catchUp(after) {
  socket.emit("history", { after }, (r) => {
    if (!r || !r.messages) return;
    r.messages.forEach(showMessage);
    if (r.more && r.messages.length) catchUp(r.messages[r.messages.length - 1].id);
  });
}
socket.on("history more", (d) => catchUp(d.after));
socket.on("new message", showMessage);
socket.on("user joined", (d) => {
  if (d.from) systemLine(d.username + " moved here from #" + d.from, "moved");
  else systemLine(d.username + " joined", "joined");
  refreshPresence(d);
});
socket.on("user left", (d) => {
  typists.delete(d.username);
  showTyping();
  if (d.to) {
    rooms.add(d.to);
    systemLine(d.username + " moved to #" + d.to, "moved");
  } else {
    systemLine(d.username + " left", "left");
  }
  refreshPresence(d);
});
socket.on("typing", (d) => { typists.add(d.username); showTyping(); });
socket.on("stop typing", (d) => { typists.delete(d.username); showTyping(); });
socket.on("chat error", (d) => { showError(loggedIn ? "error" : "login-error", d.error); });
setInterval(() => { if (loggedIn && socket.connected) refreshRooms(); }, 15000);
