// The meeting room. The server renders the page with every address this
// script needs in data-* attributes of #room (the Content-Security-Policy
// allows no inline script), and only renders the host's tools for hosts
// and co-hosts. This script does the rest: the device check before
// joining, the join request (which may wait in the lobby), the call itself
// through livekit-client, and the chat, people and agenda panels.
//
// Raise hand and reactions travel as LiveKit data messages between the
// people in the call; our server never sees or stores them. Chat and
// questions go through our API, which stores them with their author and
// numbers them; a data message only tells the others to fetch what is new
// at once instead of at their next poll, so a lost hint delays a message
// by a few seconds and never loses it.
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

// Reactions a person can send, drawn from the page's icon sprite so they
// look the same without an emoji font. Anything else arriving over a data
// message is ignored, so a modified client cannot put arbitrary text on
// others' screens.
const REACTIONS = {
  "thumbs-up": "Like",
  heart: "Love",
  laugh: "Ha ha",
  wow: "Wow",
  celebrate: "Hooray",
  agree: "Agree",
};
const TOPIC_HAND = "sessions.hand";
const TOPIC_REACTION = "sessions.reaction";
const TOPIC_CHAT = "sessions.chat";
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
    callMeter: { analyser: null, timer: 0 },
    hands: new Set(),
    handRaised: false,
    locked: cfg.locked,
    chat: { cursor: "", timer: 0, busy: false, again: false, failures: 0, unread: 0, stopped: false },
    lobbyTimer: 0,
    waitTimer: 0,
    knownWaiting: new Set(),
    audioCtx: null,
    view: "grid",
    speaker: "",
    leaving: false,
    endedByMe: false,
  };

  setupTabs(ui, state);
  setupPrejoin(cfg, ui, state);
  ui.prejoinForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    // A user gesture: the only moment browsers let a page start sound, so
    // the knock chime is made ready here.
    prepareSound(state);
    join(cfg, ui, state);
  });
  ui.lobbyLeave.addEventListener("click", () => stopWaiting(ui, state, "You left the waiting room."));
  ui.rejoin.addEventListener("click", () => location.reload());
  window.addEventListener("pagehide", () => {
    if (state.room) state.room.disconnect();
  });
}

// readConfig turns the data-* attributes into addresses. Addresses of
// actions on another person carry ":pid", replaced by their participant id;
// the address marking a question answered carries ":mid".
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
    endURL: d.endUrl || "",
    answeredURL: d.answeredUrl || "",
    leaveURL: d.leaveUrl || "",
    icons: d.icons || "",
    locked: d.locked === "true",
  };
}

function findElements() {
  const $ = (id) => document.getElementById(id);
  return {
    root: $("room"),
    status: $("room-status"),
    reconnecting: $("reconnecting"),
    prejoin: $("prejoin"),
    prejoinForm: $("prejoin-form"),
    preview: $("preview"),
    previewOff: $("preview-off"),
    micLevel: $("mic-level"),
    cameraSelect: $("camera-select"),
    micSelect: $("mic-select"),
    speakerField: $("speaker-field"),
    speakerSelect: $("speaker-select"),
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
    toggleView: $("toggle-view"),
    reactionPicker: $("reaction-picker"),
    reactionButtons: document.querySelectorAll("[data-reaction]"),
    openSettings: $("open-settings"),
    devices: $("devices"),
    callCamera: $("call-camera"),
    callMic: $("call-mic"),
    callMicLevel: $("call-mic-level"),
    callSpeakerField: $("call-speaker-field"),
    callSpeaker: $("call-speaker"),
    callDeviceError: $("call-device-error"),
    endAll: $("end-all"),
    leave: $("leave"),
    ended: $("ended"),
    endedText: $("ended-text"),
    rejoin: $("rejoin"),
    chatList: $("chat-list"),
    chatForm: $("chat-form"),
    chatBody: $("chat-body"),
    chatQuestion: $("chat-question"),
    chatError: $("chat-error"),
    chatStatus: $("chat-status"),
    chatUnread: $("chat-unread"),
    peopleList: $("people-list"),
    peopleCount: $("people-count"),
    hostTools: $("host-tools"),
    lockToggle: $("lock-toggle"),
    lobbyList: $("lobby-list"),
    lobbyEmpty: $("lobby-empty"),
    knock: $("knock"),
    knockText: $("knock-text"),
    knockAdmit: $("knock-admit"),
    knockDeny: $("knock-deny"),
    tabs: document.querySelectorAll('[role="tab"]'),
  };
}

function say(ui, text) {
  ui.status.textContent = text;
}

function show(el, on) {
  if (el) el.hidden = !on;
}

function canModerate(state) {
  return state.role === "host" || state.role === "co-host";
}

// icon is an <svg> showing a symbol of the room's sprite.
function icon(cfg, name) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const use = document.createElementNS(ns, "use");
  use.setAttribute("href", cfg.icons + "#" + name);
  svg.append(use);
  return svg;
}

// ---- Tabs -----------------------------------------------------------------

function setupTabs(ui, state) {
  const tabs = Array.from(ui.tabs);
  const select = (tab) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    }
    if (tab.id === "tab-chat") setUnread(ui, state, 0);
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

// ---- Devices ---------------------------------------------------------------

function setupPrejoin(cfg, ui, state) {
  const restart = () => startPreview(ui, state);
  ui.cameraSelect.addEventListener("change", restart);
  ui.micSelect.addEventListener("change", restart);
  ui.cameraOn.addEventListener("change", restart);
  ui.micOn.addEventListener("change", restart);
  startPreview(ui, state).then(() => {
    fillDevices({ camera: ui.cameraSelect, mic: ui.micSelect, speaker: ui.speakerSelect, speakerField: ui.speakerField });
    if (!state.room && ui.deviceError.hidden) say(ui, "Ready when you are.");
  });
}

// canChooseSpeaker: only browsers that can route a media element's sound
// to another output offer the choice.
function canChooseSpeaker() {
  return typeof HTMLMediaElement !== "undefined" && "setSinkId" in HTMLMediaElement.prototype;
}

// fillDevices lists the cameras, microphones and (where the browser can
// route sound) speakers in the selects, keeping the choices made, or
// marking the devices in use (current, by kind).
async function fillDevices(sel, current = {}) {
  let devices = [];
  try {
    devices = await navigator.mediaDevices.enumerateDevices();
  } catch (e) {
    return;
  }
  const fill = (select, kind, chosenID, noun) => {
    if (!select) return 0;
    const chosen = chosenID || select.value;
    select.replaceChildren();
    let n = 0;
    for (const d of devices) {
      if (d.kind !== kind || !d.deviceId) continue;
      n++;
      const opt = document.createElement("option");
      opt.value = d.deviceId;
      opt.textContent = d.label || noun + " " + n;
      if (d.deviceId === chosen) opt.selected = true;
      select.append(opt);
    }
    select.disabled = n === 0;
    return n;
  };
  fill(sel.camera, "videoinput", current.videoinput, "Camera");
  fill(sel.mic, "audioinput", current.audioinput, "Microphone");
  const speakers = canChooseSpeaker() ? fill(sel.speaker, "audiooutput", current.audiooutput, "Speaker") : 0;
  show(sel.speakerField, speakers > 0);
}

// meter shows a microphone track's level in a <meter>; the returned
// function stops it.
function meter(track, el) {
  try {
    const a = createAudioAnalyser(track, { cloneTrack: true });
    const timer = setInterval(() => {
      el.value = Math.min(1, a.calculateVolume() * 4);
    }, 100);
    return () => {
      clearInterval(timer);
      a.cleanup();
      el.value = 0;
    };
  } catch (e) {
    // No level meter where Web Audio is unavailable; the call still works.
    return () => {};
  }
}

function stopPreview(state, keep) {
  const p = state.preview;
  if (p.stopMeter) p.stopMeter();
  p.stopMeter = null;
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
    show(ui.previewOff, true);
    return;
  }
  for (const t of tracks) {
    if (t.kind === Track.Kind.Video) {
      state.preview.video = t;
      t.attach(ui.preview);
    } else if (t.kind === Track.Kind.Audio) {
      state.preview.audio = t;
      state.preview.stopMeter = meter(t, ui.micLevel);
    }
  }
}

// setupDeviceDialog lets people change camera, microphone and speaker in
// the call; their own tile is the preview, and the dialog shows the
// microphone's level.
function setupDeviceDialog(ui, state) {
  const room = () => state.room;
  const sel = { camera: ui.callCamera, mic: ui.callMic, speaker: ui.callSpeaker, speakerField: ui.callSpeakerField };
  const stopMeter = () => {
    if (state.callMeter.stop) state.callMeter.stop();
    state.callMeter.stop = null;
  };
  const startMeter = () => {
    stopMeter();
    const pub = room() && room().localParticipant.getTrackPublication(Track.Source.Microphone);
    if (pub && pub.track && !pub.isMuted) state.callMeter.stop = meter(pub.track, ui.callMicLevel);
  };
  ui.openSettings.addEventListener("click", async () => {
    show(ui.callDeviceError, false);
    const r = room();
    const current = {};
    if (r) for (const k of ["videoinput", "audioinput", "audiooutput"]) current[k] = r.getActiveDevice(k);
    await fillDevices(sel, current);
    startMeter();
    if (typeof ui.devices.showModal === "function") ui.devices.showModal();
    else ui.devices.setAttribute("open", "");
  });
  ui.devices.addEventListener("close", stopMeter);
  const change = (kind, select) =>
    select.addEventListener("change", async () => {
      show(ui.callDeviceError, false);
      try {
        await room().switchActiveDevice(kind, select.value);
      } catch (e) {
        ui.callDeviceError.textContent = "That device could not be started.";
        show(ui.callDeviceError, true);
      }
      if (kind === "audioinput") startMeter();
    });
  change("videoinput", ui.callCamera);
  change("audioinput", ui.callMic);
  change("audiooutput", ui.callSpeaker);
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
  const options = { adaptiveStream: true, dynacast: true };
  if (ui.speakerSelect.value && canChooseSpeaker()) options.audioOutput = { deviceId: ui.speakerSelect.value };
  const room = new Room(options);
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
  ui.root.classList.add("in-call");
  setupControls(cfg, ui, state);
  setupDeviceDialog(ui, state);
  renderAll(ui, state);
  startChat(cfg, ui, state);
  if (canModerate(state)) startLobbyWatch(cfg, ui, state);
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
    .on(RoomEvent.ParticipantNameChanged, rerender)
    .on(RoomEvent.TrackPublished, rerender)
    .on(RoomEvent.TrackSubscribed, rerender)
    .on(RoomEvent.TrackUnsubscribed, (track) => {
      track.detach();
      rerender();
    })
    // Someone stopping a screen share or camera unpublishes the track;
    // its tile must go at once, not at the next unrelated redraw.
    .on(RoomEvent.TrackUnpublished, rerender)
    .on(RoomEvent.TrackMuted, rerender)
    .on(RoomEvent.TrackUnmuted, rerender)
    .on(RoomEvent.LocalTrackPublished, rerender)
    .on(RoomEvent.LocalTrackUnpublished, (pub) => {
      if (pub.source === Track.Source.ScreenShare) setPressed(ui.toggleScreen, false, "Share screen", "Stop sharing");
      rerender();
    })
    .on(RoomEvent.ActiveSpeakersChanged, (speakers) => {
      const ids = new Set(speakers.map((s) => s.identity));
      const loudest = speakers.find((s) => !s.isLocal);
      if (loudest && loudest.identity !== state.speaker) {
        state.speaker = loudest.identity;
        if (state.view === "speaker") rerender();
      }
      for (const tile of ui.grid.children) {
        tile.classList.toggle("tile-speaking", ids.has(tile.dataset.identity) && !tile.classList.contains("tile-screen"));
      }
    })
    .on(RoomEvent.DataReceived, (payload, participant, _kind, topic) => {
      if (participant) receiveData(ui, state, participant, topic, payload);
    })
    .on(RoomEvent.Reconnecting, () => {
      show(ui.reconnecting, true);
      say(ui, "Connection lost; reconnecting…");
    })
    .on(RoomEvent.Reconnected, () => {
      show(ui.reconnecting, false);
      say(ui, "Reconnected.");
      pollChat(state.cfg, ui, state);
    })
    .on(RoomEvent.Disconnected, (reason) => ended(ui, state, reason));
}

function setPressed(button, on, offLabel, onLabel) {
  if (!button) return;
  button.setAttribute("aria-pressed", on ? "true" : "false");
  button.querySelector("span").textContent = on ? onLabel : offLabel;
  if (button.title) button.title = on ? onLabel : offLabel;
}

function setIcon(button, name) {
  const use = button.querySelector("use");
  if (use) use.setAttribute("href", use.getAttribute("href").replace(/#.*$/, "#" + name));
}

function setupControls(cfg, ui, state) {
  const lp = () => state.room.localParticipant;
  const sync = () => {
    if (!state.room) return;
    const mic = lp().isMicrophoneEnabled;
    const cam = lp().isCameraEnabled;
    setPressed(ui.toggleMic, !mic, "Mute", "Unmute");
    setIcon(ui.toggleMic, mic ? "mic" : "mic-off");
    setPressed(ui.toggleCamera, !cam, "Stop video", "Start video");
    setIcon(ui.toggleCamera, cam ? "video" : "video-off");
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
  state.room.on(RoomEvent.TrackMuted, sync).on(RoomEvent.TrackUnmuted, sync).on(RoomEvent.LocalTrackPublished, sync);
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
  ui.toggleView.addEventListener("click", () => {
    state.view = state.view === "grid" ? "speaker" : "grid";
    const speaker = state.view === "speaker";
    ui.toggleView.setAttribute("aria-pressed", speaker ? "true" : "false");
    ui.toggleView.querySelector("span").textContent = ui.toggleView.title = speaker ? "Grid view" : "Speaker view";
    setIcon(ui.toggleView, speaker ? "grid" : "speaker-view");
    renderAll(ui, state);
  });
  for (const b of ui.reactionButtons) {
    b.addEventListener("click", () => {
      const reaction = b.dataset.reaction;
      sendData(state, TOPIC_REACTION, { reaction });
      showReaction(ui, state, reaction, "You");
      ui.reactionPicker.open = false;
    });
  }
  if (ui.endAll) {
    ui.endAll.addEventListener("click", async () => {
      if (!window.confirm("End the session for everyone? Everybody in the call is disconnected.")) return;
      ui.endAll.disabled = true;
      try {
        await api("POST", cfg.endURL, {});
        state.endedByMe = true;
        if (state.room) state.room.disconnect();
      } catch (e) {
        say(ui, e.message || "The session could not be ended.");
        ui.endAll.disabled = false;
      }
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
  } else if (topic === TOPIC_REACTION && Object.prototype.hasOwnProperty.call(REACTIONS, msg.reaction)) {
    showReaction(ui, state, msg.reaction, participant.name || "Someone");
  } else if (topic === TOPIC_CHAT) {
    // Only a hint: what is shown always comes from our server.
    if (msg.answered) state.chat.resync = true;
    pollChat(state.cfg, ui, state);
  }
}

function showReaction(ui, state, reaction, who) {
  const el = document.createElement("li");
  el.className = "reaction";
  const what = document.createElement("span");
  what.className = "reaction-label";
  what.textContent = REACTIONS[reaction];
  const n = document.createElement("span");
  n.className = "reaction-name";
  n.textContent = who;
  el.append(icon(state.cfg, reaction), what, n);
  ui.reactions.append(el);
  setTimeout(() => el.remove(), 4000);
}

function ended(ui, state, reason) {
  clearInterval(state.chat.timer);
  state.chat.stopped = true;
  clearInterval(state.lobbyTimer);
  if (state.callMeter.stop) state.callMeter.stop();
  if (ui.devices.open) ui.devices.close();
  for (const el of ui.audio.querySelectorAll("audio")) el.remove();
  ui.grid.replaceChildren();
  state.room = null;
  ui.root.classList.remove("in-call");
  show(ui.reconnecting, false);
  show(ui.knock, false);
  let text = "You left the session.";
  if (state.endedByMe) {
    text = "You ended the session for everyone.";
  } else if (!state.leaving) {
    switch (reason) {
      case DisconnectReason.PARTICIPANT_REMOVED:
        text = "A host removed you from the session.";
        break;
      case DisconnectReason.ROOM_DELETED:
        text = "The host ended the session for everyone.";
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
// kept (matched by key) so playing videos are not interrupted. A screen
// share, when there is one, is the large tile; otherwise, in speaker
// view, the person who spoke last is.
function renderAll(ui, state) {
  const room = state.room;
  if (!room) return;
  const wanted = new Map();
  let screenKey = "";
  for (const p of participantsOf(room)) {
    wanted.set(p.identity, { p, source: Track.Source.Camera });
    const screen = p.getTrackPublication(Track.Source.ScreenShare);
    if (screen && screen.track && !screen.isMuted) {
      const key = p.identity + "#screen";
      wanted.set(key, { p, source: Track.Source.ScreenShare });
      if (!screenKey || !p.isLocal) screenKey = key;
    }
  }
  for (const tile of Array.from(ui.grid.children)) {
    if (!wanted.has(tile.dataset.key)) {
      const v = tile.querySelector("video");
      if (v) v.srcObject = null;
      tile.remove();
    }
  }
  let mainKey = screenKey;
  if (!mainKey && state.view === "speaker") {
    const others = participantsOf(room).filter((p) => !p.isLocal);
    const speaker = others.find((p) => p.identity === state.speaker) || others[0] || room.localParticipant;
    mainKey = speaker.identity;
  }
  for (const [key, { p, source }] of wanted) {
    let tile = ui.grid.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (!tile) {
      tile = newTile(key, p, source);
      ui.grid.append(tile);
    }
    tile.classList.toggle("tile-main", key === mainKey);
    updateTile(ui, state, tile, p, source);
  }
  ui.grid.classList.toggle("grid-focus", !!mainKey);
  ui.grid.dataset.count = String(Math.min(ui.grid.children.length, 9));
  renderPeople(ui, state);
}

function newTile(key, p, source) {
  const tile = document.createElement("li");
  tile.className = "tile";
  tile.dataset.key = key;
  tile.dataset.identity = p.identity;
  if (p.isLocal) tile.classList.add("tile-local");
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

// flag is one state badge on a tile or in the people list: an icon with
// its meaning in words for screen readers and as a tooltip.
function flag(cfg, name, text) {
  const f = document.createElement("span");
  f.className = "flag flag-" + name;
  f.title = text;
  const t = document.createElement("span");
  t.className = "visually-hidden";
  t.textContent = text;
  f.append(icon(cfg, name), t);
  return f;
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
  tile.querySelector(".tile-name").textContent = source === Track.Source.ScreenShare ? name + " — screen" : name;
  tile.querySelector(".tile-avatar").textContent = initials(p.name || "?");
  const flags = [];
  if (source === Track.Source.Camera) {
    const cfg = state.cfg;
    if (state.hands.has(p.identity)) flags.push(flag(cfg, "hand", "Hand raised"));
    if (!p.isMicrophoneEnabled) flags.push(flag(cfg, "mic-off", "Microphone off"));
    if (!track) flags.push(flag(cfg, "video-off", "Camera off"));
  }
  const box = tile.querySelector(".tile-flags");
  box.replaceChildren(...flags);
  tile.dataset.mic = p.isMicrophoneEnabled ? "on" : "off";
  tile.dataset.camera = track ? "on" : "off";
  tile.classList.toggle("tile-hand", state.hands.has(p.identity) && source === Track.Source.Camera);
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
  const moderator = canModerate(state);
  const items = [];
  for (const p of participantsOf(room)) {
    const li = document.createElement("li");
    li.className = "person";
    li.dataset.identity = p.identity;
    const name = document.createElement("span");
    name.className = "person-name";
    name.textContent = displayName(p, state);
    li.append(name);
    if (state.hands.has(p.identity)) li.append(flag(state.cfg, "hand", "Hand raised"));
    if (!p.isMicrophoneEnabled) li.append(flag(state.cfg, "mic-off", "Microphone off"));
    if (!p.isCameraEnabled) li.append(flag(state.cfg, "video-off", "Camera off"));
    if (moderator && !p.isLocal) {
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
  if (!ui.hostTools) return;
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
  state.pollLobby = poll;
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

// lobbyAction admits or turns away someone waiting ("admit" or "deny").
async function lobbyAction(ui, state, action, w) {
  const cfg = state.cfg;
  const url = (action === "admit" ? cfg.admitURL : cfg.denyURL).replace(":pid", encodeURIComponent(w.id || w.participant_id));
  try {
    await api("POST", url, {});
    say(ui, action === "admit" ? `${w.name || "The guest"} was let in.` : `${w.name || "The guest"} was turned away.`);
  } catch (e) {
    say(ui, e.message || "That did not work.");
  }
  if (state.pollLobby) state.pollLobby();
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
    actions.append(
      actionButton("Admit", false, () => lobbyAction(ui, state, "admit", w)),
      actionButton("Deny", false, () => lobbyAction(ui, state, "deny", w)),
    );
    li.append(name, actions);
    return li;
  });
  ui.lobbyList.replaceChildren(...items);
  ui.peopleCount.textContent = waiting.length ? String(waiting.length) : "";
  renderKnock(ui, state, waiting);
}

// renderKnock shows the first person waiting in a banner over the call,
// with a short chime when someone new knocks.
function renderKnock(ui, state, waiting) {
  if (!ui.knock) return;
  const ids = new Set(waiting.map((w) => w.id || w.participant_id));
  let someoneNew = false;
  for (const id of ids) if (!state.knownWaiting.has(id)) someoneNew = true;
  state.knownWaiting = ids;
  if (waiting.length === 0) {
    show(ui.knock, false);
    return;
  }
  const first = waiting[0];
  const name = first.name || first.display_name || "A guest";
  const more = waiting.length - 1;
  ui.knockText.textContent =
    name + " wants to join." + (more > 0 ? ` ${more} more ${more === 1 ? "person is" : "people are"} waiting.` : "");
  ui.knockAdmit.onclick = () => lobbyAction(ui, state, "admit", first);
  ui.knockDeny.onclick = () => lobbyAction(ui, state, "deny", first);
  show(ui.knock, true);
  if (someoneNew) chime(state);
}

function prepareSound(state) {
  if (state.audioCtx) return;
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  try {
    state.audioCtx = new Ctx();
    state.audioCtx.resume().catch(() => {});
  } catch (e) {
    state.audioCtx = null;
  }
}

// chime plays two soft notes, made on the spot: no sound file to fetch.
function chime(state) {
  const ctx = state.audioCtx;
  if (!ctx) return;
  const now = ctx.currentTime;
  [660, 880].forEach((freq, i) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    const t = now + i * 0.18;
    gain.gain.setValueAtTime(0.0001, t);
    gain.gain.exponentialRampToValueAtTime(0.2, t + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.3);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t);
    osc.stop(t + 0.32);
  });
}

// ---- Chat and questions ------------------------------------------------------

function startChat(cfg, ui, state) {
  if (!cfg.messagesURL) return;
  pollChat(cfg, ui, state);
  state.chat.timer = setInterval(() => pollChat(cfg, ui, state), POLL_MS);
  ui.chatForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    sendChat(cfg, ui, state);
  });
  ui.chatBody.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      sendChat(cfg, ui, state);
    }
  });
}

async function sendChat(cfg, ui, state) {
  const body = ui.chatBody.value.trim();
  if (!body) return;
  show(ui.chatError, false);
  try {
    const msg = await api("POST", cfg.sendURL, { body, kind: ui.chatQuestion.checked ? "question" : "chat" });
    ui.chatBody.value = "";
    ui.chatQuestion.checked = false;
    // Shown at once; the cursor is left alone, so messages others wrote
    // before this one still arrive with the next poll.
    addMessages(ui, state, [msg]);
    sendData(state, TOPIC_CHAT, {});
    pollChat(cfg, ui, state);
  } catch (e) {
    ui.chatError.textContent = e.message || "The message was not sent.";
    show(ui.chatError, true);
  }
}

// pollChat fetches the messages after the cursor, page after page; a call
// while one runs makes it go round once more. After a failure the panel
// says so until a poll succeeds again.
async function pollChat(cfg, ui, state) {
  const chat = state.chat;
  if (chat.stopped || !cfg.messagesURL) return;
  if (chat.busy) {
    chat.again = true;
    return;
  }
  chat.busy = true;
  try {
    do {
      chat.again = false;
      if (chat.resync) {
        // A question was marked answered: read the conversation again
        // from the start to update it.
        chat.resync = false;
        chat.cursor = "";
      }
      let more = true;
      while (more && !chat.stopped) {
        const sep = cfg.messagesURL.includes("?") ? "&" : "?";
        const url = chat.cursor ? cfg.messagesURL + sep + "since=" + encodeURIComponent(chat.cursor) : cfg.messagesURL;
        const res = await api("GET", url);
        const list = Array.isArray(res.messages) ? res.messages : [];
        addMessages(ui, state, list);
        more = list.length > 0 && typeof res.next === "string" && res.next !== chat.cursor;
        if (typeof res.next === "string" && res.next) chat.cursor = res.next;
      }
    } while (chat.again && !chat.stopped);
    if (chat.failures > 0) {
      chat.failures = 0;
      show(ui.chatStatus, false);
    }
  } catch (e) {
    chat.failures++;
    ui.chatStatus.textContent =
      e.status === 403 || e.status === 404 || e.status === 401
        ? e.message || "The chat is closed to you."
        : "The chat lost its connection; trying again…";
    show(ui.chatStatus, true);
  } finally {
    chat.busy = false;
  }
}

function setUnread(ui, state, n) {
  state.chat.unread = n;
  ui.chatUnread.textContent = n > 0 ? String(n) : "";
}

function chatVisible(ui) {
  return !document.getElementById("panel-chat").hidden;
}

function addMessages(ui, state, list) {
  const atBottom = ui.chatList.scrollTop + ui.chatList.clientHeight >= ui.chatList.scrollHeight - 8;
  let fresh = 0;
  for (const m of list) {
    if (!m || !m.id) continue;
    const old = ui.chatList.querySelector(`[data-id="${CSS.escape(m.id)}"]`);
    if (old) {
      if (m.kind === "question" && m.answered_at && !old.classList.contains("message-answered")) {
        old.replaceWith(messageItem(ui, state, m));
      }
      continue;
    }
    ui.chatList.append(messageItem(ui, state, m));
    if (m.participant_id !== state.identity) fresh++;
  }
  if (fresh && !chatVisible(ui)) setUnread(ui, state, state.chat.unread + fresh);
  if (atBottom) ui.chatList.scrollTop = ui.chatList.scrollHeight;
}

function messageItem(ui, state, m) {
  const li = document.createElement("li");
  const answered = m.kind === "question" && !!m.answered_at;
  li.className = "message" + (m.kind === "question" ? " message-question" : "") + (answered ? " message-answered" : "");
  if (m.participant_id && m.participant_id === state.identity) li.classList.add("message-mine");
  li.dataset.id = m.id;
  const head = document.createElement("p");
  head.className = "message-head";
  const who = document.createElement("strong");
  who.textContent = m.author_name || "Participant";
  head.append(who);
  if (m.kind === "question") {
    const q = document.createElement("span");
    q.className = "badge" + (answered ? " badge-success" : "");
    q.textContent = answered ? "Answered" : "Question";
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
  if (m.kind === "question" && !answered && state.cfg.answeredURL && canModerate(state)) {
    const b = actionButton("Mark answered", false, () => markAnswered(ui, state, m, b));
    b.classList.add("message-answer");
    li.append(b);
  }
  return li;
}

async function markAnswered(ui, state, m, button) {
  button.disabled = true;
  try {
    await api("POST", state.cfg.answeredURL.replace(":mid", encodeURIComponent(m.id)), {});
    const li = ui.chatList.querySelector(`[data-id="${CSS.escape(m.id)}"]`);
    if (li) li.replaceWith(messageItem(ui, state, { ...m, answered_at: new Date().toISOString() }));
    sendData(state, TOPIC_CHAT, { answered: m.id });
  } catch (e) {
    button.disabled = false;
    ui.chatError.textContent = e.message || "The question could not be marked answered.";
    show(ui.chatError, true);
  }
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
