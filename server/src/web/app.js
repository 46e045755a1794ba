// The tokens panel: setup wizard, sign-in, create, list, revoke.
// The sign-in token lives in sessionStorage (this tab only), never in a
// cookie or a URL. A new token is shown once, from memory: a reload loses it.
"use strict";

const STORAGE_KEY = "tokenkeep.token";
const $ = (id) => document.getElementById(id);

const MESSAGES = {
  TOKEN_LIMIT_REACHED: "You already have the most active tokens allowed. Revoke one before creating another.",
  NAME_TAKEN: "You already have an active token with this label. Choose another label.",
  INVALID_DURATION: "That expiry is not valid. Choose never, 30 days, 90 days or 1 year.",
  INVALID_NAME: "A label is 1 to 100 characters, without control characters.",
  INVALID_SCOPE: "That route is not valid: use a path such as /releases and tick read and/or write.",
  INVALID_TOKEN: "Your sign-in token is invalid, expired or revoked. Sign in again.",
  UNAUTHORIZED: "Please sign in.",
  INSUFFICIENT_SCOPE: "This token cannot manage tokens: sign in with a manager token.",
  INVALID_SETUP_TOKEN: "That is not the setup token this instance was configured with.",
  ALREADY_CLAIMED: "This instance was already claimed. Sign in with a token.",
  STORE_UNAVAILABLE: "The server cannot reach its token store right now. Try again shortly.",
};

class ApiError extends Error {
  constructor(code, message) {
    super(MESSAGES[code] || message || code);
    this.code = code;
  }
}

const state = { token: sessionStorage.getItem(STORAGE_KEY), owner: null, pending: null };

async function api(method, path, body) {
  const headers = {};
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(data.error || `HTTP_${response.status}`, data.message);
  return data;
}

function show(message) {
  const box = $("message");
  box.textContent = message;
  box.hidden = !message;
}

function showOnly(section) {
  for (const id of ["setup", "sign-in", "panel"]) $(id).hidden = id !== section;
  const signedIn = section === "panel";
  $("sign-out").hidden = !signedIn;
  $("signed-in-as").hidden = !signedIn;
}

function when(iso) {
  if (!iso) return "never";
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

function signOut(message) {
  state.token = null;
  state.owner = null;
  sessionStorage.removeItem(STORAGE_KEY);
  $("banner").hidden = true;
  showOnly("sign-in");
  show(message || "");
}

async function signIn(token) {
  state.token = token;
  try {
    const me = await api("GET", "/api/whoami");
    if (!me.scopes.manager) throw new ApiError("INSUFFICIENT_SCOPE");
    state.owner = me.owner;
    sessionStorage.setItem(STORAGE_KEY, token);
    $("signed-in-as").textContent = `Signed in as ${me.owner} (${me.name})`;
    showOnly("panel");
    show("");
    await refresh();
  } catch (error) {
    signOut(error.message);
  }
}

// Why a token stopped, as the record says: who revoked or rotated it.
const REASONS = {
  revoked: "revoked",
  revoke_all: "revoked with all of its owner's tokens",
  rotated: "rotated",
  rotation_grace: "rotated, in its grace period",
  reuse_detected: "revoked: a token it replaced was used again",
  leaked: "revoked: reported as leaked",
};

const WEEK_MS = 7 * 24 * 60 * 60 * 1000;

// What else holds the token back: uses left, addresses, a rate.
function limits(token) {
  const notes = [];
  if (token.usage) notes.push(`${token.usage.remaining} uses left`);
  if (token.allowed_ips && token.allowed_ips.length) notes.push(`from ${token.allowed_ips.join(", ")}`);
  if (token.rate_limit) notes.push(`at most ${token.rate_limit}`);
  return notes;
}

function status(token) {
  const by = token.revoked_by ? ` by ${token.revoked_by}` : "";
  if (token.revoked_at) {
    const reason = REASONS[token.revoke_reason] || "revoked";
    return `${reason} ${when(token.revoked_at)}${by}`;
  }
  if (token.revoke_reason === "rotation_grace") return `${REASONS.rotation_grace}${by}`;
  return "active";
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

async function refresh() {
  const includeRevoked = $("show-revoked").checked;
  const query = new URLSearchParams({ owner: state.owner });
  if (includeRevoked) query.set("include_revoked", "true");
  let tokens;
  try {
    tokens = await api("GET", `/api/auth/tokens?${query}`);
  } catch (error) {
    if (error.code === "INVALID_TOKEN") return signOut(error.message);
    return show(error.message);
  }
  const rows = $("token-rows");
  rows.replaceChildren();
  for (const token of tokens) {
    const row = document.createElement("tr");
    row.dataset.id = token.id;
    const revoked = Boolean(token.revoked_at);
    cell(row, token.name, "label").dataset.label = "Label";
    cell(row, token.prefix ? `${token.prefix}…` : "—", "mono").dataset.label = "Prefix";
    cell(row, when(token.created_at)).dataset.label = "Created";
    cell(row, when(token.last_used_at)).dataset.label = "Last used";
    // Tokens that stop working within a week are marked, so their owner
    // rotates them in time.
    const soon = !revoked && token.expires_at && Date.parse(token.expires_at) - Date.now() < WEEK_MS;
    if (soon) row.classList.add("expiring");
    const expires = token.expires_at ? `${when(token.expires_at)}${soon ? " (soon)" : ""}` : "never";
    cell(row, expires).dataset.label = "Expires";
    cell(row, [status(token), ...limits(token)].join(" · ")).dataset.label = "Status";
    const actions = cell(row, "");
    if (!revoked && token.kind === "persistent") {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "danger revoke";
      button.textContent = "Revoke";
      button.setAttribute("aria-label", `Revoke ${token.name}`);
      button.addEventListener("click", () => askRevoke(token));
      actions.appendChild(button);
    }
    rows.appendChild(row);
  }
  $("no-tokens").hidden = tokens.length > 0;
}

function askRevoke(token) {
  state.pending = token;
  $("revoke-name").textContent = token.name;
  $("revoke-prefix").textContent = token.prefix || "custom";
  $("confirm-revoke").showModal();
}

async function confirmRevoke() {
  const token = state.pending;
  $("confirm-revoke").close();
  state.pending = null;
  if (!token) return;
  try {
    await api("DELETE", `/api/auth/tokens/${encodeURIComponent(token.id)}`);
    show("");
  } catch (error) {
    if (error.code === "INVALID_TOKEN") return signOut(error.message);
    show(error.message);
  }
  await refresh();
}

function showNewToken(token) {
  $("new-token").textContent = token;
  $("login-command").textContent =
    `tokenkeep-server login --host ${location.origin}`;
  $("banner").hidden = false;
}

function defaultLabel() {
  const now = new Date().toISOString().replace(/[-:]/g, "").slice(0, 15);
  return `cli-token-${now}`;
}

async function create(event) {
  event.preventDefault();
  const body = {
    name: $("create-label").value.trim() || defaultLabel(),
    owner: state.owner,
  };
  const description = $("create-description").value.trim();
  if (description) body.description = description;
  const expiry = $("create-expiry").value;
  if (expiry) body.expires_in = expiry;
  const path = $("route-path").value.trim();
  if (path) {
    const access = ($("route-read").checked ? "r" : "") + ($("route-write").checked ? "w" : "");
    if (!access) return show("Tick read and/or write for the route.");
    body.routes = [{ path, access }];
  }
  try {
    const created = await api("POST", "/api/auth/tokens", body);
    show("");
    $("create-form").reset();
    showNewToken(created.token);
    await refresh();
  } catch (error) {
    if (error.code === "INVALID_TOKEN") return signOut(error.message);
    show(error.message);
  }
}

async function claim(event) {
  event.preventDefault();
  try {
    const created = await api("POST", "/api/setup/claim", {
      name: $("setup-name").value.trim(),
      setup_token: $("setup-token").value,
    });
    await signIn(created.token);
    showNewToken(created.token);
  } catch (error) {
    show(error.message);
    if (error.code === "ALREADY_CLAIMED") showOnly("sign-in");
  }
}

function copy(id) {
  navigator.clipboard.writeText($(id).textContent).then(
    () => show("Copied."),
    () => show("Copy failed: select the text and copy it by hand."),
  );
}

async function start() {
  $("setup-form").addEventListener("submit", claim);
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn($("sign-in-token").value.trim());
    $("sign-in-token").value = "";
  });
  $("sign-out").addEventListener("click", () => signOut(""));
  $("create-form").addEventListener("submit", create);
  $("show-revoked").addEventListener("change", refresh);
  $("confirm-revoke-yes").addEventListener("click", confirmRevoke);
  $("confirm-revoke-no").addEventListener("click", () => $("confirm-revoke").close());
  $("copy-token").addEventListener("click", () => copy("new-token"));
  $("copy-login").addEventListener("click", () => copy("login-command"));
  $("dismiss-banner").addEventListener("click", () => {
    $("banner").hidden = true;
    $("new-token").textContent = "";
    $("login-command").textContent = "";
  });

  if (state.token) return signIn(state.token);
  try {
    const status = await api("GET", "/api/setup/status");
    showOnly(status.claimed ? "sign-in" : "setup");
  } catch (error) {
    show(error.message);
  }
}

start();
