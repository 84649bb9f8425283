/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The operator console's entry (SPEC §14): sign-in with the admin token (kept in this tab's
// sessionStorage only), then the overview and an account lookup, refreshed every few seconds. Nothing
// is asked of Herald before sign-in, and nothing from its answers is shown without the token.
import { AdminRequestError, createAdminClient, type AdminClient } from './admin-api.js';
import { accountFindings } from './account.js';
import { h, replaceContent } from './elements.js';
import { renderFinding, renderHeadline, type Finding } from './findings.js';
import { overviewFindings } from './overview.js';
import { clockWithSeconds, duration } from './words.js';

/** SPEC §14 asks for at least every 10 s. */
const REFRESH_MS = 5000;
const TOKEN_KEY = 'herald-admin-token';

const byId = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
};

const ui = {
  signIn: byId<HTMLElement>('sign-in'),
  signInForm: byId<HTMLFormElement>('sign-in-form'),
  token: byId<HTMLInputElement>('token'),
  signInError: byId<HTMLElement>('sign-in-error'),
  signOut: byId<HTMLButtonElement>('sign-out'),
  console: byId<HTMLElement>('console'),
  about: byId<HTMLElement>('about'),
  updated: byId<HTMLElement>('updated'),
  refreshError: byId<HTMLElement>('refresh-error'),
  overview: byId<HTMLElement>('overview-body'),
  accountForm: byId<HTMLFormElement>('account-form'),
  accountId: byId<HTMLInputElement>('account-id'),
  account: byId<HTMLElement>('account-body'),
};

let client: AdminClient | null = null;
let timer: number | undefined;
/** Which account the lookup shows; kept in the address (#account=…) so a reload shows it again. */
let accountId: string | null = readAccountFromAddress();
/** What is on screen, so an unchanged answer does not re-render (and move the reader's focus). */
const shown = { overview: '', account: '' };

function readAccountFromAddress(): string | null {
  const match = /^#account=(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

function showSignIn(message = ''): void {
  ui.console.hidden = true;
  ui.signOut.hidden = true;
  ui.signIn.hidden = false;
  ui.signInError.textContent = message;
  ui.signInError.hidden = message === '';
  ui.token.focus();
}

function showConsole(): void {
  ui.signIn.hidden = true;
  ui.signInError.hidden = true;
  ui.console.hidden = false;
  ui.signOut.hidden = false;
  ui.accountId.value = accountId ?? '';
}

function signOut(message = ''): void {
  window.clearTimeout(timer);
  sessionStorage.removeItem(TOKEN_KEY);
  client = null;
  for (const element of [ui.overview, ui.account, ui.about, ui.updated, ui.refreshError]) element.replaceChildren();
  ui.refreshError.hidden = true;
  shown.overview = shown.account = '';
  showSignIn(message);
}

async function signIn(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  const token = ui.token.value.trim();
  if (!token) return showSignIn('Paste the admin token first.');
  const button = ui.signInForm.querySelector('button');
  if (button) button.disabled = true;
  try {
    const candidate = createAdminClient(token);
    await candidate.status();
    sessionStorage.setItem(TOKEN_KEY, token);
    ui.token.value = '';
    client = candidate;
    showConsole();
    await refresh();
  } catch (error) {
    showSignIn(
      error instanceof AdminRequestError && error.kind === 'unauthorized'
        ? 'Herald did not accept that token. Use the admin token: HERALD_ADMIN_TOKEN, or the one Herald printed when it first started.'
        : error instanceof AdminRequestError
          ? `${error.message} Try again in a moment.`
          : 'Something went wrong while signing in. Try again.',
    );
  } finally {
    if (button) button.disabled = false;
  }
}

/** Renders `findings` into `container` unless the same findings are already there. */
function show(container: HTMLElement, which: keyof typeof shown, nodes: () => Node[], findings: readonly Finding[]): void {
  const key = JSON.stringify(findings);
  if (key === shown[which]) return;
  shown[which] = key;
  replaceContent(container, nodes());
}

async function refreshOverview(api: AdminClient): Promise<void> {
  const [status, queue, origins] = await Promise.all([api.status(), api.queue(), api.origins()]);
  const findings = overviewFindings({ status: status.body, queue: queue.body, origins: origins.body.origins, now: status.serverNow });
  // Uptime is the oldest running process's; with none running there is none to give.
  const up = status.body.processes.length ? `, up ${duration(status.body.uptime_seconds)}` : '';
  ui.about.textContent = `Herald ${status.body.version}${up}`;
  show(ui.overview, 'overview', () => [renderHeadline(findings), h('div', { class: 'findings' }, ...findings.map(renderFinding))], findings);
}

async function refreshAccount(api: AdminClient): Promise<void> {
  const id = accountId;
  if (id === null) {
    show(ui.account, 'account', () => [], []);
    return;
  }
  let nodes: () => Node[];
  let findings: Finding[];
  try {
    const answer = await api.account(id);
    const { findings: diagnosis, subscriptions, removed } = accountFindings(answer.body, answer.serverNow);
    findings = [...diagnosis, ...subscriptions, ...removed];
    nodes = () => [
      h('h3', null, `Account ${answer.body.account_id}`),
      renderHeadline(diagnosis),
      h('div', { class: 'findings' }, ...diagnosis.map(renderFinding)),
      h('h4', null, subscriptions.length ? `Push subscriptions (${subscriptions.length})` : 'Push subscriptions'),
      subscriptions.length ? h('div', { class: 'findings' }, ...subscriptions.map(renderFinding)) : h('p', { class: 'quiet' }, 'None right now.'),
      h('h4', null, removed.length ? `Removed in the last 7 days (${removed.length})` : 'Removed in the last 7 days'),
      removed.length ? h('div', { class: 'findings' }, ...removed.map(renderFinding)) : h('p', { class: 'quiet' }, 'None.'),
    ];
  } catch (error) {
    if (!(error instanceof AdminRequestError) || error.kind !== 'not-found') throw error;
    findings = [{ key: 'unknown', level: 'warning', topic: id, text: 'unknown' }];
    nodes = () => [h('p', { class: 'headline warning', role: 'status' }, `Herald knows no account with the id “${id}”. Check the id the platform uses for it.`)];
  }
  if (id === accountId) show(ui.account, 'account', nodes, findings);
}

async function refresh(): Promise<void> {
  window.clearTimeout(timer);
  const api = client;
  if (!api) return;
  try {
    await Promise.all([refreshOverview(api), refreshAccount(api)]);
    if (api !== client) return;
    ui.refreshError.hidden = true;
    ui.updated.textContent = `Updated ${clockWithSeconds(new Date())}`;
  } catch (error) {
    if (api !== client) return;
    if (error instanceof AdminRequestError && error.kind === 'unauthorized') return signOut('Herald no longer accepts this token. Sign in again.');
    const why = error instanceof AdminRequestError ? error.message : 'The answer could not be read.';
    ui.refreshError.textContent = `Could not update at ${clockWithSeconds(new Date())}: ${why} Trying again; what is shown may be out of date.`;
    ui.refreshError.hidden = false;
  }
  if (api !== client) return;
  window.clearTimeout(timer);
  timer = window.setTimeout(() => {
    if (document.visibilityState !== 'hidden') void refresh();
  }, REFRESH_MS);
}

function lookUp(event: SubmitEvent): void {
  event.preventDefault();
  const id = ui.accountId.value.trim();
  accountId = id === '' ? null : id;
  history.replaceState(null, '', accountId === null ? location.pathname : `#account=${encodeURIComponent(accountId)}`);
  shown.account = '';
  if (accountId !== null) ui.account.replaceChildren(h('p', { class: 'quiet' }, 'Looking up…'));
  void refresh();
}

ui.signInForm.addEventListener('submit', (event) => void signIn(event));
ui.signOut.addEventListener('click', () => signOut());
ui.accountForm.addEventListener('submit', lookUp);
// A hidden tab is not refreshed; it catches up as soon as it is shown again.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && client) void refresh();
});

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) {
  client = createAdminClient(saved);
  showConsole();
  void refresh();
} else {
  showSignIn();
}
