// The operator console's remote viewer: mounts a banner, the remote screen on a canvas, input,
// clipboard and chat panels into a container, driven by an AgentClient. Plain DOM: text from the wire
// (names, chat, clipboard, reasons) is only ever set with textContent; no inline styles or scripts (CSP).

import { CloseReason, closeReasonName } from './bytes.js';
import { AgentClient } from './agent.js';
import { AccessMode } from './messages.js';
import { keysymForEvent } from './keysyms.js';

const STATE_TEXT = {
  connecting: 'Connecting…',
  'waiting-consent': 'Waiting for the end user to accept…',
  connected: 'Connected',
  reconnecting: 'Connection lost: reconnecting…',
  ended: 'Session ended',
};

function element(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(label, className, onClick) {
  const b = element('button', className, label);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

/** DOM buttons (1 left, 2 right, 4 middle, 8 back, 16 forward) as protocol bits (0 left, 1 middle, 2 right, 3 back, 4 forward). */
export function protocolButtons(domButtons) {
  return (domButtons & 1) | (domButtons & 4 ? 2 : 0) | (domButtons & 2 ? 4 : 0) | (domButtons & 8) | (domButtons & 16);
}

/**
 * Mounts the viewer. Options: `{sessionId, webSocketURL, mode = "control", onExit(result), token, WebSocket}`;
 * `token` is only needed until the broker takes the login cookie on the WebSocket upgrade.
 * Returns `{client, destroy()}`. Test hooks: `container.dataset.viewerState` (connecting,
 * waiting-consent, connected, reconnecting, ended), `.sas` ("123 456"), `.mode` (control, view, paused, away).
 */
export function mountViewer(container, { sessionId, webSocketURL, mode = 'control', onExit = () => {}, token = '', WebSocket } = {}) {
  const url = webSocketURL ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  const client = new AgentClient({ url, token, ...(WebSocket ? { WebSocket } : {}) });
  let endUserName = '';
  let exited = false;

  // MARK: DOM
  container.replaceChildren();
  container.classList.add('rs-viewer');
  const banner = element('header', 'rs-viewer__banner');
  const title = element('h2', 'rs-viewer__title', 'Remote session');
  const sas = element('p', 'rs-viewer__sas');
  sas.hidden = true;
  const stateText = element('p', 'rs-viewer__state');
  stateText.setAttribute('role', 'status');
  stateText.setAttribute('aria-live', 'polite');
  const actions = element('div', 'rs-viewer__actions');
  const scaleButton = button('Actual size (1:1)', 'rs-viewer__button', () => toggleScale());
  scaleButton.setAttribute('aria-pressed', 'false');
  const refreshButton = button('Refresh screen', 'rs-viewer__button', () => client.requestRefresh());
  const endButton = button('End session', 'rs-viewer__button rs-viewer__button--danger', () => endSession());
  const closeButton = button('Close viewer', 'rs-viewer__button', () => exit({ endedBy: 'agent', reason: 'normal' }));
  closeButton.hidden = true;
  actions.append(scaleButton, refreshButton, endButton, closeButton);
  banner.append(title, sas, stateText, actions);

  const stage = element('div', 'rs-viewer__stage rs-viewer__stage--fit');
  const canvas = element('canvas', 'rs-viewer__canvas');
  canvas.tabIndex = 0;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', "The end user's screen. Click to focus for keyboard control.");
  canvas.width = 1;
  canvas.height = 1;
  stage.append(canvas);
  const context = canvas.getContext('2d', { alpha: false });

  const side = element('aside', 'rs-viewer__side');
  // Clipboard
  const clipboard = element('section', 'rs-viewer__panel');
  clipboard.setAttribute('aria-labelledby', 'rs-viewer-clipboard-title');
  const clipTitle = element('h3', 'rs-viewer__panel-title', 'Clipboard');
  clipTitle.id = 'rs-viewer-clipboard-title';
  const clipLabel = element('label', 'rs-viewer__label', 'Text to send to the end user');
  const clipInput = element('textarea', 'rs-viewer__textarea');
  clipInput.id = 'rs-viewer-clipboard-send';
  clipLabel.htmlFor = clipInput.id;
  const clipSend = button('Send clipboard', 'rs-viewer__button', () => {
    if (clipInput.value && client.sendClipboard(clipInput.value)) clipInput.value = '';
  });
  const receivedLabel = element('label', 'rs-viewer__label', "End user's clipboard");
  const received = element('textarea', 'rs-viewer__textarea');
  received.id = 'rs-viewer-clipboard-received';
  received.readOnly = true;
  receivedLabel.htmlFor = received.id;
  const copyButton = button('Copy', 'rs-viewer__button', async () => {
    try { await navigator.clipboard.writeText(received.value); announce('Copied to your clipboard'); } catch {
      received.select();
      announce('Select and copy the text by hand: the browser refused clipboard access');
    }
  });
  copyButton.disabled = true;
  clipboard.append(clipTitle, clipLabel, clipInput, clipSend, receivedLabel, received, copyButton);
  // Chat
  const chat = element('section', 'rs-viewer__panel');
  chat.setAttribute('aria-labelledby', 'rs-viewer-chat-title');
  const chatTitle = element('h3', 'rs-viewer__panel-title', 'Chat');
  chatTitle.id = 'rs-viewer-chat-title';
  const chatLog = element('ol', 'rs-viewer__chat-log');
  chatLog.setAttribute('role', 'log');
  chatLog.setAttribute('aria-live', 'polite');
  const chatForm = element('form', 'rs-viewer__chat-form');
  const chatLabel = element('label', 'rs-viewer__label', 'Message');
  const chatInput = element('input', 'rs-viewer__input');
  chatInput.id = 'rs-viewer-chat-input';
  chatInput.autocomplete = 'off';
  chatLabel.htmlFor = chatInput.id;
  const chatSend = element('button', 'rs-viewer__button', 'Send');
  chatSend.type = 'submit';
  chatForm.append(chatLabel, chatInput, chatSend);
  chatForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = chatInput.value.trim();
    if (text && client.sendChat(text)) { addChat('You', text); chatInput.value = ''; }
  });
  chat.append(chatTitle, chatLog, chatForm);
  side.append(clipboard, chat);

  const body = element('div', 'rs-viewer__body');
  body.append(stage, side);
  container.append(banner, body);

  // MARK: State shown

  function setState(state, detail = '') {
    container.dataset.viewerState = state;
    stateText.textContent = detail ? `${STATE_TEXT[state]}: ${detail}` : STATE_TEXT[state];
    const live = state === 'connected';
    endButton.hidden = !(live || state === 'reconnecting');
    refreshButton.disabled = !live;
    closeButton.hidden = state !== 'ended';
    updateMode();
  }

  function announce(text) { stateText.textContent = text; }

  function modeName() {
    if (client.mode === null) return mode === 'view' ? 'view only' : 'control';
    if (client.peerAway) return 'end user away';
    if (client.paused) return 'paused by the end user';
    return client.mode === AccessMode.control ? 'control' : 'view only';
  }

  function updateMode() {
    const m = client.mode === null ? mode : client.peerAway ? 'away' : client.paused ? 'paused' : client.mode === AccessMode.control ? 'control' : 'view';
    container.dataset.mode = m;
    const who = endUserName || 'the end user';
    title.textContent = container.dataset.viewerState === 'connected' || container.dataset.viewerState === 'reconnecting'
      ? `Connected to ${who} - ${modeName()}` : `Remote session with ${who}`;
    canvas.classList.toggle('rs-viewer__canvas--input', client.canSendInput);
    if (!client.canSendInput) releaseKeys();
  }

  function addChat(who, text) {
    const item = element('li', 'rs-viewer__chat-item');
    const name = element('span', 'rs-viewer__chat-who', `${who}: `);
    const words = element('span', 'rs-viewer__chat-text', text);
    item.append(name, words);
    chatLog.append(item);
    item.scrollIntoView?.({ block: 'nearest' });
  }

  function exit(result) {
    if (exited) return;
    exited = true;
    destroy();
    onExit(result);
  }

  function endSession() {
    if (client.state === 'viewing') {
      client.endSession(CloseReason.endedByAgent, '').finally(() => {
        client.close(CloseReason.normal, '');
        exit({ endedBy: 'agent', reason: 'ended-by-agent' });
      });
    } else {
      client.close(CloseReason.endedByAgent, '');
      exit({ endedBy: 'agent', reason: 'ended-by-agent' });
    }
  }

  /** Fit: the largest size that shows the whole screen in the stage, up or down, keeping its aspect
   * ratio (the canvas' backing store stays at the remote size); 1:1 clears it. */
  function layout() {
    if (!stage.classList.contains('rs-viewer__stage--fit') || canvas.width < 2) {
      canvas.style.width = canvas.style.height = '';
      return;
    }
    const scale = Math.min(stage.clientWidth / canvas.width, stage.clientHeight / canvas.height);
    if (!(scale > 0)) return;
    canvas.style.width = `${Math.floor(canvas.width * scale)}px`;
    canvas.style.height = `${Math.floor(canvas.height * scale)}px`;
  }
  const resizes = new ResizeObserver(() => layout());
  resizes.observe(stage);

  function toggleScale() {
    const fit = stage.classList.toggle('rs-viewer__stage--fit');
    layout();
    scaleButton.setAttribute('aria-pressed', String(!fit));
    scaleButton.textContent = fit ? 'Actual size (1:1)' : 'Fit to window';
  }

  // MARK: Protocol events

  let image = null;
  const on = (type, handler) => client.addEventListener(type, (event) => handler(event.detail));
  on('authenticated', () => { setState('waiting-consent'); client.connect(sessionId, mode === 'view' ? AccessMode.view : AccessMode.control); });
  on('lobby-session', (s) => { if (s.sessionId === String(sessionId).toLowerCase()) { endUserName = s.name; updateMode(); } });
  on('connect-refused', ({ reason, message }) => {
    setState('ended', message || `the connection was refused (${closeReasonName(reason)})`);
    client.close(CloseReason.normal, '');
  });
  on('session-started', ({ sas: code }) => {
    container.dataset.sas = code;
    sas.hidden = false;
    sas.textContent = `Security code: ${code}`;
    sas.setAttribute('aria-label', `Security code ${code.split('').join(' ')}`);
    setState('connected');
  });
  on('screen-info', ({ width, height, framebuffer }) => {
    canvas.width = width;
    canvas.height = height;
    layout();
    image = new ImageData(framebuffer.rgba, width, height);
    context.putImageData(image, 0, 0);
    canvas.setAttribute('aria-label', `The end user's screen, ${width} by ${height} pixels. Focus it to send keyboard input.`);
  });
  on('screen-updated', ({ rectangles, framebuffer }) => {
    if (!image || image.data !== framebuffer.rgba) image = new ImageData(framebuffer.rgba, framebuffer.width, framebuffer.height);
    for (const r of rectangles) context.putImageData(image, 0, 0, r.x, r.y, r.width, r.height);
  });
  on('cursor-shape', (c) => setCursor(c));
  on('clipboard', ({ text }) => { received.value = text; copyButton.disabled = false; announce('The end user sent clipboard text'); });
  on('chat', ({ text }) => addChat(endUserName || 'End user', text));
  on('access', () => { updateMode(); announce(`The end user changed the access: ${modeName()}`); });
  on('paused', ({ paused }) => { updateMode(); announce(paused ? 'The end user paused sharing' : 'The end user resumed sharing'); });
  on('peer-away', () => { updateMode(); announce('The end user is away: waiting for them to come back'); });
  on('peer-resumed', () => { updateMode(); announce('The end user is back'); });
  on('reconnecting', () => setState('reconnecting'));
  on('resumed', () => setState('connected'));
  on('session-ended', ({ reason, message }) => {
    const who = reason === CloseReason.endedByEndUser ? 'by the end user' : reason === CloseReason.endedByAgent ? 'by you' : closeReasonName(reason);
    setState('ended', message ? `${who} (${message})` : who);
    client.close(CloseReason.normal, '');
  });
  on('closed', ({ reason, message, byPeer }) => {
    if (container.dataset.viewerState === 'ended') return;
    const text = `${byPeer ? 'the broker closed the connection' : 'closed'}: ${closeReasonName(reason)}${message ? ` (${message})` : ''}`;
    setState('ended', text);
  });

  function setCursor({ hotX, hotY, width, height, rgba }) {
    if (width === 0 || height === 0) { canvas.style.cursor = 'none'; return; }
    const c = document.createElement('canvas');
    c.width = width;
    c.height = height;
    c.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
    canvas.style.cursor = `url(${c.toDataURL('image/png')}) ${hotX} ${hotY}, auto`;
  }

  // MARK: Input

  let buttons = 0;
  let lastPoint = { x: 0, y: 0 };
  let wheelAccumulator = 0;
  let wheelAccumulatorX = 0;
  const heldKeys = new Map();   // event.code -> keysym, so a key goes up with the keysym it went down with

  function remotePoint(event) {
    const r = canvas.getBoundingClientRect();
    const x = Math.floor((event.clientX - r.left) * canvas.width / Math.max(r.width, 1));
    const y = Math.floor((event.clientY - r.top) * canvas.height / Math.max(r.height, 1));
    return { x: Math.max(0, Math.min(canvas.width - 1, x)), y: Math.max(0, Math.min(canvas.height - 1, y)) };
  }

  function pointer(event) {
    if (!client.canSendInput) return;
    buttons = protocolButtons(event.buttons);
    lastPoint = remotePoint(event);
    client.sendPointer({ ...lastPoint, buttons });
  }

  canvas.addEventListener('pointermove', pointer);
  canvas.addEventListener('pointerdown', (event) => {
    canvas.focus();
    if (!client.canSendInput) return;
    event.preventDefault();
    canvas.setPointerCapture?.(event.pointerId);
    pointer(event);
  });
  canvas.addEventListener('pointerup', (event) => { if (client.canSendInput) { event.preventDefault(); pointer(event); } });
  canvas.addEventListener('contextmenu', (event) => event.preventDefault());
  canvas.addEventListener('wheel', (event) => {
    if (!client.canSendInput) return;
    event.preventDefault();
    // One step per notch: a notch is about 100 pixels, 3 lines or one page depending on deltaMode.
    const unit = event.deltaMode === 0 ? 100 : event.deltaMode === 1 ? 3 : 1;
    wheelAccumulator += event.deltaY / unit;
    wheelAccumulatorX += event.deltaX / unit;
    const wheelY = Math.trunc(wheelAccumulator), wheelX = Math.trunc(wheelAccumulatorX);
    if (wheelY === 0 && wheelX === 0) return;
    wheelAccumulator -= wheelY;
    wheelAccumulatorX -= wheelX;
    client.sendPointer({ ...remotePoint(event), buttons, wheelX, wheelY });
  }, { passive: false });

  canvas.addEventListener('keydown', (event) => {
    if (!client.canSendInput || event.isComposing) return;
    const keysym = keysymForEvent(event);
    if (keysym === null) return;
    event.preventDefault();
    heldKeys.set(event.code || String(keysym), keysym);
    client.sendKey(keysym, true);
  });
  canvas.addEventListener('keyup', (event) => {
    const code = event.code || String(keysymForEvent(event));
    const keysym = heldKeys.get(code) ?? keysymForEvent(event);
    if (keysym === null || keysym === undefined) return;
    event.preventDefault();
    heldKeys.delete(code);
    client.sendKey(keysym, false);
  });
  canvas.addEventListener('blur', releaseKeys);

  function releaseKeys() {
    // Keys still down when focus leaves would stay down on the end user's machine.
    for (const keysym of heldKeys.values()) client.sendKey(keysym, false);
    heldKeys.clear();
    if (buttons !== 0 && client.canSendInput) { buttons = 0; client.sendPointer({ ...lastPoint, buttons: 0 }); }
  }

  function destroy() {
    resizes.disconnect();
    releaseKeys();
    if (client.state !== 'closed') client.close(CloseReason.normal, '');
  }

  setState('connecting');
  container.dataset.sas = '';
  client.start();
  return { client, destroy };
}
