// The meeting room. The server renders the page with every address this
// script needs in data-* attributes of #room (the Content-Security-Policy
// allows no inline script), and this script does the rest: the device check
// before joining, the join request (which may wait in the lobby), the call
// itself through livekit-client, and the chat, people and agenda panels.
//
// Raise hand and reactions travel as LiveKit data messages between the
// people in the call; our server never sees or stores them. Chat and
// questions go through our API, which stores them with their author.
import {
  Room,
  RoomEvent,
  Track,
  DisconnectReason,
  createLocalTracks,
  createAudioAnalyser,
} from "livekit-client";

const root = document.getElementById("room");
if (root) {
  start(root);
}

// Reactions a person can send. Anything else arriving over a data message
// is ignored, so a modified client cannot put arbitrary text on others'
// screens.
const REACTIONS = ["👍", "👏", "❤️", "😂", "🎉", "😮"];
const TOPIC_HAND = "sessions.hand";
const TOPIC_REACTION = "sessions.reaction";
const POLL_MS = 3000;

function start(root) {
  const cfg = readConfig(root.dataset);
  const ui = findElements();
  const state = {
    cfg,
    room: null,
    role: "participant",
    identity: "",
    preview: { video: null, audio: null, analyser: null, meterTimer: 0 },
    hands: new Set(),
    handRaised: false,
    locked: cfg.locked,
    chatCursor: "",
    chatTimer: 0,
    lobbyTimer: 0,
    waitTimer: 0,
    leaving: false,
  };

  setupTabs(ui);
  setupPrejoin(cfg, ui, state);
  ui.prejoinForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    join(cfg, ui, state);
  });
  ui.lobbyLeave.addEventListener("click", () => stopWaiting(ui, state, "You left the waiting room."));
  ui.rejoin.addEventListener("click", () => location.reload());
  window.addEventListener("pagehide", () => {
    if (state.room) state.room.disconnect();
  });
}

// readConfig turns the data-* attributes into addresses. Addresses of
// actions on another person carry ":pid", replaced by their participant id.
function readConfig(d) {
  return {
    meetingID: d.meetingId || "",
    joinURL: d.joinUrl || "",
    pollURL: d.pollUrl || d.joinUrl || "",
    messagesURL: d.messagesUrl || "",
    sendURL: d.sendUrl || d.messagesUrl || "",
    lobbyURL: d.lobbyUrl || "",
    admitURL: d.admitUrl || "",
    denyURL: d.denyUrl || "",
    lockURL: d.lockUrl || "",
    unlockURL: d.unlockUrl || "",
    removeURL: d.removeUrl || "",
    muteURL: d.muteUrl || "",
    leaveURL: d.leaveUrl || "",
    locked: d.locked === "true",
  };
}

function findElements() {
  const $ = (id) => document.getElementById(id);
  return {
    status: $("room-status"),
    prejoin: $("prejoin"),
    prejoinForm: $("prejoin-form"),
    preview: $("preview"),
    previewOff: $("preview-off"),
    micLevel: $("mic-level"),
    cameraSelect: $("camera-select"),
    micSelect: $("mic-select"),
    cameraOn: $("camera-on"),
    micOn: $("mic-on"),
    joinButton: $("join-button"),
    deviceError: $("device-error"),
    joinError: $("join-error"),
    lobbyWait: $("lobby-wait"),
    lobbyLeave: $("lobby-leave"),
    call: $("call"),
    grid: $("grid"),
    audio: $("audio-sink"),
    reactions: $("reactions"),
    toggleMic: $("toggle-mic"),
    toggleCamera: $("toggle-camera"),
    toggleScreen: $("toggle-screen"),
    toggleHand: $("toggle-hand"),
    reactionButtons: document.querySelectorAll("[data-reaction]"),
    leave: $("leave"),
    ended: $("ended"),
    endedText: $("ended-text"),
    rejoin: $("rejoin"),
    chatList: $("chat-list"),
    chatForm: $("chat-form"),
    chatBody: $("chat-body"),
    chatQuestion: $("chat-question"),
    chatError: $("chat-error"),
    peopleList: $("people-list"),
    hostTools: $("host-tools"),
    lockToggle: $("lock-toggle"),
    lobbyList: $("lobby-list"),
    lobbyEmpty: $("lobby-empty"),
    tabs: document.querySelectorAll('[role="tab"]'),
  };
}

function say(ui, text) {
  ui.status.textContent = text;
}

function show(el, on) {
  el.hidden = !on;
}

// ---- Tabs -----------------------------------------------------------------

function setupTabs(ui) {
  const tabs = Array.from(ui.tabs);
  const select = (tab) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    }
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (ev) => {
      let next = -1;
      if (ev.key === "ArrowRight") next = (i + 1) % tabs.length;
      if (ev.key === "ArrowLeft") next = (i - 1 + tabs.length) % tabs.length;
      if (next >= 0) {
        ev.preventDefault();
        select(tabs[next]);
        tabs[next].focus();
      }
    });
  });
}

// ---- Device check before joining -----------------------------------------

function setupPrejoin(cfg, ui, state) {
  const restart = () => startPreview(ui, state);
  ui.cameraSelect.addEventListener("change", restart);
  ui.micSelect.addEventListener("change", restart);
  ui.cameraOn.addEventListener("change", restart);
  ui.micOn.addEventListener("change", restart);
  startPreview(ui, state).then(() => fillDevices(ui));
}

async function fillDevices(ui) {
  let devices = [];
  try {
    devices = await navigator.mediaDevices.enumerateDevices();
  } catch (e) {
    return;
  }
  const fill = (select, kind, current) => {
    const chosen = select.value || current;
    select.replaceChildren();
    let n = 0;
    for (const d of devices) {
      if (d.kind !== kind || !d.deviceId) continue;
      n++;
      const opt = document.createElement("option");
      opt.value = d.deviceId;
      opt.textContent = d.label || (kind === "videoinput" ? "Camera " : "Microphone ") + n;
      if (d.deviceId === chosen) opt.selected = true;
      select.append(opt);
    }
    select.disabled = n === 0;
  };
  fill(ui.cameraSelect, "videoinput", "");
  fill(ui.micSelect, "audioinput", "");
}

function stopPreview(state, keep) {
  const p = state.preview;
  clearInterval(p.meterTimer);
  p.meterTimer = 0;
  if (p.analyser) {
    p.analyser.cleanup();
    p.analyser = null;
  }
  if (!keep) {
    if (p.video) p.video.stop();
    if (p.audio) p.audio.stop();
  }
  p.video = null;
  p.audio = null;
}

async function startPreview(ui, state) {
  stopPreview(state, false);
  show(ui.deviceError, false);
  const wantVideo = ui.cameraOn.checked;
  const wantAudio = ui.micOn.checked;
  show(ui.previewOff, !wantVideo);
  ui.micLevel.value = 0;
  if (!wantVideo && !wantAudio) return;
  let tracks = [];
  try {
    tracks = await createLocalTracks({
      video: wantVideo ? (ui.cameraSelect.value ? { deviceId: ui.cameraSelect.value } : true) : false,
      audio: wantAudio ? (ui.micSelect.value ? { deviceId: ui.micSelect.value } : true) : false,
    });
  } catch (e) {
    ui.deviceError.textContent =
      "Your camera or microphone could not be started. Check that the browser may use them, or join with them off.";
    show(ui.deviceError, true);
    return;
  }
  for (const t of tracks) {
    if (t.kind === Track.Kind.Video) {
      state.preview.video = t;
      t.attach(ui.preview);
    } else if (t.kind === Track.Kind.Audio) {
      state.preview.audio = t;
      try {
        const a = createAudioAnalyser(t, { cloneTrack: true });
        state.preview.analyser = a;
        state.preview.meterTimer = setInterval(() => {
          ui.micLevel.value = Math.min(1, a.calculateVolume() * 4);
        }, 100);
      } catch (e) {
        // No level meter where Web Audio is unavailable; the call still works.
      }
    }
  }
}

// ---- Joining ---------------------------------------------------------------

function joinBody(ui) {
  const body = {};
  for (const el of ui.prejoinForm.querySelectorAll("[data-join-field]")) {
    if (el.value !== "") body[el.dataset.joinField] = el.value;
  }
  return body;
}

async function join(cfg, ui, state) {
  show(ui.joinError, false);
  ui.joinButton.disabled = true;
  say(ui, "Asking to join…");
  let res;
  try {
    res = await api("POST", cfg.joinURL, joinBody(ui));
  } catch (e) {
    failJoin(ui, e.message);
    return;
  }
  handleJoinAnswer(cfg, ui, state, res);
}

function handleJoinAnswer(cfg, ui, state, res) {
  if (res.state === "admitted" && res.token) {
    clearTimeout(state.waitTimer);
    show(ui.lobbyWait, false);
    connect(cfg, ui, state, res);
    return;
  }
  if (res.state === "waiting") {
    show(ui.prejoin, false);
    show(ui.lobbyWait, true);
    say(ui, "Waiting for the host to let you in.");
    state.waitTimer = setTimeout(() => pollLobby(cfg, ui, state), POLL_MS);
    return;
  }
  if (res.state === "denied") {
    stopWaiting(ui, state, "The host did not let you in to this session.");
    return;
  }
  failJoin(ui, "The server gave an answer this page does not understand.");
}

async function pollLobby(cfg, ui, state) {
  let res;
  try {
    res = await api("GET", cfg.pollURL);
  } catch (e) {
    if (e.status === 403 || e.status === 404) {
      stopWaiting(ui, state, e.message || "You cannot join this session.");
      return;
    }
    // A blip in the network: keep waiting.
    state.waitTimer = setTimeout(() => pollLobby(cfg, ui, state), POLL_MS * 2);
    return;
  }
  handleJoinAnswer(cfg, ui, state, res);
}

function stopWaiting(ui, state, text) {
  clearTimeout(state.waitTimer);
  stopPreview(state, false);
  show(ui.prejoin, false);
  show(ui.lobbyWait, false);
  ui.endedText.textContent = text;
  show(ui.ended, true);
  say(ui, text);
}

function failJoin(ui, text) {
  ui.joinError.textContent = text || "Joining failed. Please try again.";
  show(ui.joinError, true);
  ui.joinButton.disabled = false;
  say(ui, "Not joined.");
}

async function connect(cfg, ui, state, res) {
  state.role = res.role || "participant";
  state.identity = res.identity || "";
  const room = new Room({ adaptiveStream: true, dynacast: true });
  state.room = room;
  wireRoom(cfg, ui, state, room);
  say(ui, "Connecting…");
  try {
    await room.connect(res.url, res.token);
  } catch (e) {
    state.room = null;
    show(ui.lobbyWait, false);
    show(ui.prejoin, true);
    failJoin(ui, "The call could not be reached. Please try again in a moment.");
    return;
  }
  // Publish the tracks the device check already opened, so the camera
  // does not blink off and on again.
  const { video, audio } = state.preview;
  stopPreview(state, true);
  ui.preview.srcObject = null;
  try {
    if (video) await room.localParticipant.publishTrack(video, { source: Track.Source.Camera });
    if (audio) await room.localParticipant.publishTrack(audio, { source: Track.Source.Microphone });
  } catch (e) {
    say(ui, "Joined, but your camera or microphone could not be shared.");
  }
  show(ui.prejoin, false);
  show(ui.call, true);
  const canModerate = state.role === "host" || state.role === "co-host";
  show(ui.hostTools, canModerate);
  setupControls(cfg, ui, state);
  renderAll(ui, state);
  startChat(cfg, ui, state);
  if (canModerate) startLobbyWatch(cfg, ui, state);
  room.startAudio().catch(() => {});
  say(ui, "You are in the call.");
}

// ---- The call ----------------------------------------------------------------

function wireRoom(cfg, ui, state, room) {
  const rerender = () => renderAll(ui, state);
  room
    .on(RoomEvent.ParticipantConnected, (p) => {
      rerender();
      // Tell the newcomer whether our hand is up: data messages are not
      // replayed to people who join later.
      if (state.handRaised) sendData(state, TOPIC_HAND, { raised: true }, [p.identity]);
    })
    .on(RoomEvent.ParticipantDisconnected, (p) => {
      state.hands.delete(p.identity);
      rerender();
    })
    .on(RoomEvent.TrackSubscribed, rerender)
    .on(RoomEvent.TrackUnsubscribed, (track) => {
      track.detach();
      rerender();
    })
    .on(RoomEvent.TrackMuted, rerender)
    .on(RoomEvent.TrackUnmuted, rerender)
    .on(RoomEvent.LocalTrackPublished, rerender)
    .on(RoomEvent.LocalTrackUnpublished, (pub) => {
      if (pub.source === Track.Source.ScreenShare) setPressed(ui.toggleScreen, false, "Share screen", "Stop sharing");
      rerender();
    })
    .on(RoomEvent.ActiveSpeakersChanged, (speakers) => {
      const ids = new Set(speakers.map((s) => s.identity));
      for (const tile of ui.grid.children) {
        tile.classList.toggle("tile-speaking", ids.has(tile.dataset.identity));
      }
    })
    .on(RoomEvent.DataReceived, (payload, participant, _kind, topic) => {
      if (participant) receiveData(ui, state, participant, topic, payload);
    })
    .on(RoomEvent.Reconnecting, () => say(ui, "Connection lost; reconnecting…"))
    .on(RoomEvent.Reconnected, () => say(ui, "Reconnected."))
    .on(RoomEvent.Disconnected, (reason) => ended(ui, state, reason));
}

function setPressed(button, on, offLabel, onLabel) {
  button.setAttribute("aria-pressed", on ? "true" : "false");
  button.querySelector("span").textContent = on ? onLabel : offLabel;
}

function setupControls(cfg, ui, state) {
  const lp = () => state.room.localParticipant;
  const sync = () => {
    setPressed(ui.toggleMic, !lp().isMicrophoneEnabled, "Mute", "Unmute");
    setPressed(ui.toggleCamera, !lp().isCameraEnabled, "Stop video", "Start video");
  };
  sync();
  ui.toggleMic.addEventListener("click", async () => {
    try {
      await lp().setMicrophoneEnabled(!lp().isMicrophoneEnabled);
    } catch (e) {
      say(ui, "Your microphone could not be started.");
    }
    sync();
    renderAll(ui, state);
  });
  ui.toggleCamera.addEventListener("click", async () => {
    try {
      await lp().setCameraEnabled(!lp().isCameraEnabled);
    } catch (e) {
      say(ui, "Your camera could not be started.");
    }
    sync();
    renderAll(ui, state);
  });
  state.room.on(RoomEvent.TrackMuted, sync).on(RoomEvent.TrackUnmuted, sync);
  if (!navigator.mediaDevices || !navigator.mediaDevices.getDisplayMedia) {
    ui.toggleScreen.hidden = true;
  }
  ui.toggleScreen.addEventListener("click", async () => {
    const on = !lp().isScreenShareEnabled;
    try {
      await lp().setScreenShareEnabled(on, { audio: false });
    } catch (e) {
      say(ui, "Screen sharing did not start.");
    }
    setPressed(ui.toggleScreen, lp().isScreenShareEnabled, "Share screen", "Stop sharing");
    renderAll(ui, state);
  });
  ui.toggleHand.addEventListener("click", () => {
    state.handRaised = !state.handRaised;
    if (state.handRaised) state.hands.add(state.identity);
    else state.hands.delete(state.identity);
    setPressed(ui.toggleHand, state.handRaised, "Raise hand", "Lower hand");
    sendData(state, TOPIC_HAND, { raised: state.handRaised });
    renderAll(ui, state);
  });
  for (const b of ui.reactionButtons) {
    b.addEventListener("click", () => {
      const emoji = b.dataset.reaction;
      sendData(state, TOPIC_REACTION, { emoji });
      showReaction(ui, emoji, "You");
    });
  }
  ui.leave.addEventListener("click", () => {
    state.leaving = true;
    if (cfg.leaveURL) api("POST", cfg.leaveURL, {}).catch(() => {});
    state.room.disconnect();
  });
}

function sendData(state, topic, message, to) {
  if (!state.room) return;
  const data = new TextEncoder().encode(JSON.stringify(message));
  state.room.localParticipant
    .publishData(data, { reliable: true, topic, destinationIdentities: to })
    .catch(() => {});
}

function receiveData(ui, state, participant, topic, payload) {
  let msg;
  try {
    msg = JSON.parse(new TextDecoder().decode(payload));
  } catch (e) {
    return;
  }
  if (topic === TOPIC_HAND && typeof msg.raised === "boolean") {
    if (msg.raised) state.hands.add(participant.identity);
    else state.hands.delete(participant.identity);
    renderAll(ui, state);
  } else if (topic === TOPIC_REACTION && REACTIONS.includes(msg.emoji)) {
    showReaction(ui, msg.emoji, participant.name || "Someone");
  }
}

function showReaction(ui, emoji, who) {
  const el = document.createElement("li");
  el.className = "reaction";
  const e = document.createElement("span");
  e.className = "reaction-emoji";
  e.textContent = emoji;
  const n = document.createElement("span");
  n.className = "reaction-name";
  n.textContent = who;
  el.append(e, n);
  ui.reactions.append(el);
  setTimeout(() => el.remove(), 4000);
}

function ended(ui, state, reason) {
  clearInterval(state.chatTimer);
  clearInterval(state.lobbyTimer);
  for (const el of ui.audio.querySelectorAll("audio")) el.remove();
  ui.grid.replaceChildren();
  state.room = null;
  let text = "You left the session.";
  if (!state.leaving) {
    switch (reason) {
      case DisconnectReason.PARTICIPANT_REMOVED:
        text = "A host removed you from the session.";
        break;
      case DisconnectReason.ROOM_DELETED:
        text = "The session has ended.";
        break;
      case DisconnectReason.DUPLICATE_IDENTITY:
        text = "You joined this session from another window, so this one left.";
        break;
      default:
        text = "The connection to the session was lost.";
    }
  }
  show(ui.call, false);
  ui.endedText.textContent = text;
  show(ui.ended, true);
  say(ui, text);
}

// participantsOf lists everyone in the call, ourselves first.
function participantsOf(room) {
  return [room.localParticipant, ...room.remoteParticipants.values()];
}

// renderAll brings the grid and the people list up to date. Tiles are
// kept (matched by key) so playing videos are not interrupted.
function renderAll(ui, state) {
  const room = state.room;
  if (!room) return;
  const wanted = new Map();
  for (const p of participantsOf(room)) {
    wanted.set(p.identity, { p, source: Track.Source.Camera });
    const screen = p.getTrackPublication(Track.Source.ScreenShare);
    if (screen && screen.track) wanted.set(p.identity + "#screen", { p, source: Track.Source.ScreenShare });
  }
  for (const tile of Array.from(ui.grid.children)) {
    if (!wanted.has(tile.dataset.key)) tile.remove();
  }
  for (const [key, { p, source }] of wanted) {
    let tile = ui.grid.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (!tile) {
      tile = newTile(key, p, source);
      ui.grid.append(tile);
    }
    updateTile(ui, state, tile, p, source);
  }
  ui.grid.dataset.count = String(Math.min(ui.grid.children.length, 9));
  renderPeople(ui, state);
}

function newTile(key, p, source) {
  const tile = document.createElement("li");
  tile.className = "tile";
  tile.dataset.key = key;
  tile.dataset.identity = p.identity;
  if (p === p.room?.localParticipant || p.isLocal) tile.classList.add("tile-local");
  if (source === Track.Source.ScreenShare) tile.classList.add("tile-screen");
  const video = document.createElement("video");
  video.autoplay = true;
  video.playsInline = true;
  video.muted = true; // sound plays through the audio elements
  const avatar = document.createElement("span");
  avatar.className = "tile-avatar";
  avatar.setAttribute("aria-hidden", "true");
  const label = document.createElement("span");
  label.className = "tile-name";
  const flags = document.createElement("span");
  flags.className = "tile-flags";
  tile.append(video, avatar, label, flags);
  return tile;
}

function displayName(p, state) {
  const name = p.name || "Participant";
  return p.identity === state.identity ? name + " (you)" : name;
}

function updateTile(ui, state, tile, p, source) {
  const video = tile.querySelector("video");
  const pub = p.getTrackPublication(source);
  const track = pub && !pub.isMuted ? pub.track : null;
  if (track && video.dataset.sid !== pub.trackSid) {
    track.attach(video);
    video.dataset.sid = pub.trackSid;
  } else if (!track && video.dataset.sid) {
    if (pub && pub.track) pub.track.detach(video);
    video.srcObject = null;
    delete video.dataset.sid;
  }
  tile.classList.toggle("tile-novideo", !track);
  const name = displayName(p, state);
  tile.querySelector(".tile-name").textContent =
    source === Track.Source.ScreenShare ? name + " — screen" : name;
  tile.querySelector(".tile-avatar").textContent = initials(p.name || "?");
  const flags = [];
  if (source === Track.Source.Camera) {
    if (!p.isMicrophoneEnabled) flags.push("Muted");
    if (state.hands.has(p.identity)) flags.push("✋ Hand raised");
  }
  tile.querySelector(".tile-flags").textContent = flags.join(" · ");
  tile.classList.toggle("tile-hand", state.hands.has(p.identity));
  if (!p.isLocal && source === Track.Source.Camera) {
    const mic = p.getTrackPublication(Track.Source.Microphone);
    attachAudio(ui, p.identity, mic && mic.track);
  }
}

// attachAudio keeps one <audio> per remote participant in a hidden sink.
function attachAudio(ui, identity, track) {
  let el = ui.audio.querySelector(`[data-identity="${CSS.escape(identity)}"]`);
  if (!track) {
    if (el) el.remove();
    return;
  }
  if (!el) {
    el = document.createElement("audio");
    el.autoplay = true;
    el.dataset.identity = identity;
    ui.audio.append(el);
  }
  if (el.dataset.sid !== track.sid) {
    track.attach(el);
    el.dataset.sid = track.sid;
  }
}

function initials(name) {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = parts[0] ? Array.from(parts[0])[0] : "?";
  const last = parts.length > 1 ? Array.from(parts[parts.length - 1])[0] : "";
  return (first + last).toUpperCase();
}

// ---- People panel and host controls -----------------------------------------

function renderPeople(ui, state) {
  const room = state.room;
  if (!room) return;
  const canModerate = state.role === "host" || state.role === "co-host";
  const items = [];
  for (const p of participantsOf(room)) {
    const li = document.createElement("li");
    li.className = "person";
    li.dataset.identity = p.identity;
    const name = document.createElement("span");
    name.className = "person-name";
    name.textContent = displayName(p, state);
    li.append(name);
    if (state.hands.has(p.identity)) {
      const hand = document.createElement("span");
      hand.className = "badge";
      hand.textContent = "✋ Hand raised";
      li.append(hand);
    }
    if (canModerate && !p.isLocal) {
      const actions = document.createElement("span");
      actions.className = "person-actions";
      actions.append(
        actionButton("Mute", !p.isMicrophoneEnabled, () => moderate(ui, state, "mute", p)),
        actionButton("Remove", false, () => moderate(ui, state, "remove", p)),
      );
      li.append(actions);
    }
    items.push(li);
  }
  ui.peopleList.replaceChildren(...items);
}

function actionButton(label, disabled, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "btn btn-secondary btn-sm";
  b.textContent = label;
  b.disabled = disabled;
  b.addEventListener("click", onClick);
  return b;
}

async function moderate(ui, state, action, p) {
  const cfg = state.cfg;
  const url = (action === "mute" ? cfg.muteURL : cfg.removeURL).replace(":pid", encodeURIComponent(p.identity));
  if (action === "remove" && !window.confirm(`Remove ${p.name || "this person"} from the session?`)) return;
  try {
    await api("POST", url, {});
    say(ui, action === "mute" ? `${p.name || "They"} was muted.` : `${p.name || "They"} was removed.`);
  } catch (e) {
    say(ui, e.message || "That did not work.");
  }
}

function startLobbyWatch(cfg, ui, state) {
  renderLock(ui, state);
  ui.lockToggle.addEventListener("click", async () => {
    const url = state.locked ? cfg.unlockURL : cfg.lockURL;
    try {
      await api("POST", url, {});
      state.locked = !state.locked;
      renderLock(ui, state);
      say(ui, state.locked ? "The session is locked: nobody else can join." : "The session is unlocked.");
    } catch (e) {
      say(ui, e.message || "That did not work.");
    }
  });
  if (!cfg.lobbyURL) return;
  const poll = async () => {
    try {
      const res = await api("GET", cfg.lobbyURL);
      if (typeof res.locked === "boolean" && res.locked !== state.locked) {
        state.locked = res.locked;
        renderLock(ui, state);
      }
      renderLobby(cfg, ui, state, waitingPeople(res));
    } catch (e) {
      // Try again at the next tick.
    }
  };
  poll();
  state.lobbyTimer = setInterval(poll, POLL_MS);
}

function renderLock(ui, state) {
  setPressed(ui.lockToggle, state.locked, "Lock session", "Unlock session");
}

// waitingPeople accepts the lobby list either bare or wrapped in an object.
function waitingPeople(res) {
  const list = Array.isArray(res) ? res : res.waiting || res.participants || res.items || [];
  return list.filter((w) => !w.lobby_state || w.lobby_state === "waiting");
}

function renderLobby(cfg, ui, state, waiting) {
  show(ui.lobbyEmpty, waiting.length === 0);
  const items = waiting.map((w) => {
    const li = document.createElement("li");
    li.className = "person";
    const name = document.createElement("span");
    name.className = "person-name";
    name.textContent = w.name || w.display_name || "Guest";
    const actions = document.createElement("span");
    actions.className = "person-actions";
    const act = (url, label) =>
      actionButton(label, false, async () => {
        try {
          await api("POST", url.replace(":pid", encodeURIComponent(w.id || w.participant_id)), {});
          li.remove();
          show(ui.lobbyEmpty, ui.lobbyList.children.length === 0);
        } catch (e) {
          say(ui, e.message || "That did not work.");
        }
      });
    actions.append(act(cfg.admitURL, "Admit"), act(cfg.denyURL, "Deny"));
    li.append(name, actions);
    return li;
  });
  ui.lobbyList.replaceChildren(...items);
  const tab = document.querySelector('[aria-controls="panel-people"] .tab-count');
  if (tab) tab.textContent = waiting.length ? String(waiting.length) : "";
}

// ---- Chat and questions ------------------------------------------------------

function startChat(cfg, ui, state) {
  if (!cfg.messagesURL) return;
  const poll = async () => {
    const url = state.chatCursor
      ? cfg.messagesURL + (cfg.messagesURL.includes("?") ? "&" : "?") + "since=" + encodeURIComponent(state.chatCursor)
      : cfg.messagesURL;
    try {
      const res = await api("GET", url);
      addMessages(ui, state, res);
    } catch (e) {
      // Try again at the next tick.
    }
  };
  poll();
  state.chatTimer = setInterval(poll, POLL_MS);
  ui.chatForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = ui.chatBody.value.trim();
    if (!body) return;
    show(ui.chatError, false);
    try {
      const msg = await api("POST", cfg.sendURL, { body, kind: ui.chatQuestion.checked ? "question" : "chat" });
      ui.chatBody.value = "";
      ui.chatQuestion.checked = false;
      addMessages(ui, state, { messages: [msg] });
    } catch (e) {
      ui.chatError.textContent = e.message || "The message was not sent.";
      show(ui.chatError, true);
    }
  });
}

function addMessages(ui, state, res) {
  const list = Array.isArray(res) ? res : res.messages || res.items || [];
  if (res && typeof res.next === "string" && res.next) state.chatCursor = res.next;
  const atBottom = ui.chatList.scrollTop + ui.chatList.clientHeight >= ui.chatList.scrollHeight - 8;
  for (const m of list) {
    if (!m || !m.id) continue;
    if (!res.next && m.created_at) state.chatCursor = m.created_at;
    if (ui.chatList.querySelector(`[data-id="${CSS.escape(m.id)}"]`)) continue;
    const li = document.createElement("li");
    li.className = "message" + (m.kind === "question" ? " message-question" : "");
    li.dataset.id = m.id;
    const head = document.createElement("p");
    head.className = "message-head";
    const who = document.createElement("strong");
    who.textContent = m.author_name || "Participant";
    head.append(who);
    if (m.kind === "question") {
      const q = document.createElement("span");
      q.className = "badge";
      q.textContent = m.answered_at ? "Answered question" : "Question";
      head.append(" ", q);
    }
    if (m.created_at) {
      const time = document.createElement("time");
      time.dateTime = m.created_at;
      const d = new Date(m.created_at);
      time.textContent = isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      head.append(" ", time);
    }
    const body = document.createElement("p");
    body.className = "message-body";
    body.textContent = m.body || "";
    li.append(head, body);
    ui.chatList.append(li);
  }
  if (atBottom) ui.chatList.scrollTop = ui.chatList.scrollHeight;
}

// ---- Talking to our server ------------------------------------------------------

// api calls our own server. Errors become an Error with the status and the
// problem's safe detail, which the page shows as it is.
async function api(method, url, body) {
  const opts = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(url, opts);
  let data = null;
  const type = res.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
  }
  if (!res.ok) {
    const err = new Error(problemText(res.status, data));
    err.status = res.status;
    throw err;
  }
  if (data && res.status === 202 && !data.state) data.state = "waiting";
  return data || {};
}

function problemText(status, p) {
  if (p && p.detail) {
    const d = String(p.detail);
    return d.charAt(0).toUpperCase() + d.slice(1) + (/[.!?]$/.test(d) ? "" : ".");
  }
  switch (status) {
    case 401:
      return "Please sign in again.";
    case 403:
      return "You may not do that in this session.";
    case 404:
      return "This session or link was not found.";
    case 429:
      return "Too many attempts. Please wait a minute.";
    case 503:
      return "Calls are not available right now.";
    default:
      return "Something went wrong. Please try again.";
  }
}
