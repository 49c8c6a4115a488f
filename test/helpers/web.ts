/**
 * Driving the web app in real Chromium: sign-in, sending, waiting for
 * messages, and saving screenshots for the README.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';

export const SCREENSHOT_DIR = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

export interface ChatPage {
  context: BrowserContext;
  page: Page;
  /** Dialogs (alert, confirm…) the page opened that the test did not expect; an XSS would show up here. */
  dialogs: string[];
  /** Console errors and uncaught page errors. */
  errors: string[];
}

export async function openApp(
  browser: Browser,
  baseUrl: string,
  options: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' } = {},
): Promise<ChatPage> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    colorScheme: options.colorScheme ?? 'light',
  });
  const page = await context.newPage();
  const chat: ChatPage = { context, page, dialogs: [], errors: [] };
  page.on('dialog', (dialog) => {
    // Delete confirmations are part of the app; anything else is unexpected.
    if (dialog.type() !== 'confirm') chat.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.accept();
  });
  page.on('pageerror', (error) => chat.errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/gravatar|ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED|net::ERR/i.test(message.text())) {
      chat.errors.push(message.text());
    }
  });
  await page.goto(baseUrl);
  return chat;
}

/** Signs in through the join screen and waits for the chat to be ready (general open). */
export async function signIn(chat: ChatPage, name: string, email = ''): Promise<void> {
  const { page } = chat;
  await page.getByTestId('join-name').fill(name);
  if (email) await page.getByTestId('join-email').fill(email);
  await page.getByTestId('join-submit').click();
  await page.getByTestId('composer-input').waitFor();
}

export async function send(chat: ChatPage, text: string): Promise<void> {
  const input = chat.page.getByTestId('composer-input');
  await input.fill(text);
  await input.press('Enter');
}

/** The message item whose text contains `text` (or matches it, for a RegExp). */
export function messageWith(chat: ChatPage, text: string | RegExp) {
  return chat.page.getByTestId('message').filter({ has: chat.page.getByTestId('message-text').filter({ hasText: text }) });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOT_DIR}${name}.png` });
}

/** Message items in the page's DOM now (the list renders a window of them, not every loaded one). */
export function renderedMessages(chat: ChatPage): Promise<number> {
  return chat.page.getByTestId('message').count();
}

/** Whether a message item is in the DOM and inside the visible part of the message list. */
export async function isShownInList(chat: ChatPage, item: Locator): Promise<boolean> {
  if ((await item.count()) !== 1) return false;
  const [box, list] = await Promise.all([item.boundingBox(), chat.page.getByTestId('message-list').boundingBox()]);
  return !!box && !!list && box.height > 0 && box.y >= list.y - 1 && box.y + Math.min(box.height, 20) <= list.y + list.height + 1;
}

/** Scrolls the message list to its very top, as a reader dragging the scrollbar up would. */
export async function scrollListToTop(chat: ChatPage): Promise<void> {
  const list = chat.page.getByTestId('message-list');
  await list.evaluate((el) => el.scrollTo({ top: 0 }));
  // At the top already, a wheel turn upwards is what asks for more.
  await list.hover();
  await chat.page.mouse.wheel(0, -400);
}

/** Signs up through the "Create account" form and waits for the chat. */
export async function signUp(chat: ChatPage, account: { username: string; password: string; displayName?: string }): Promise<void> {
  const { page } = chat;
  const tab = page.getByTestId('tab-signup');
  if ((await tab.count()) > 0) await tab.click();
  await page.getByTestId('signup-form').waitFor();
  await page.getByTestId('account-username').fill(account.username);
  await page.getByTestId('account-password').fill(account.password);
  if (account.displayName) await page.getByTestId('account-display-name').fill(account.displayName);
  await page.getByTestId('account-submit').click();
  await page.getByTestId('composer-input').waitFor();
}

/** Fills and sends the "Sign in" form; `waitForChat: false` when the attempt is meant to fail. */
export async function signInWithPassword(chat: ChatPage, username: string, password: string, options: { waitForChat?: boolean } = {}): Promise<void> {
  const { page } = chat;
  const tab = page.getByTestId('tab-signin');
  if ((await tab.count()) > 0) await tab.click();
  await page.getByTestId('signin-form').waitFor();
  await page.getByTestId('account-username').fill(username);
  await page.getByTestId('account-password').fill(password);
  await page.getByTestId('account-submit').click();
  if (options.waitForChat !== false) await page.getByTestId('composer-input').waitFor();
}

/** Opens the menu of the signed-in user (sidebar footer) and picks an entry: `menu-profile`, `menu-admin` or `sign-out`. */
export async function chooseFromAccountMenu(chat: ChatPage, entry: 'menu-profile' | 'menu-admin' | 'sign-out'): Promise<void> {
  await chat.page.getByTestId('account-menu-button').click();
  await chat.page.getByTestId(entry).click();
}

/** Opens the profile panel on one of its tabs. */
export async function openProfile(chat: ChatPage, tab: 'profile' | 'password' | 'devices' | 'claim' = 'profile'): Promise<void> {
  await chooseFromAccountMenu(chat, 'menu-profile');
  await chat.page.getByTestId('profile-dialog').waitFor();
  await chat.page.getByTestId(`tab-${tab}`).click();
}

/** Signs out from the account menu and waits for the sign-in screen. */
export async function signOutFromMenu(chat: ChatPage): Promise<void> {
  await chooseFromAccountMenu(chat, 'sign-out');
  await chat.page.locator('main.join').waitFor();
}

/** What the app keeps in `localStorage` about who is signed in (`parley.session`), or null. */
export function storedSession(chat: ChatPage): Promise<string | null> {
  return chat.page.evaluate(`localStorage.getItem('parley.session')`) as Promise<string | null>;
}

/** Puts `value` into `parley.session`, as an older version of the app would have left it. */
export async function storeSession(chat: ChatPage, value: unknown): Promise<void> {
  await chat.page.evaluate(`localStorage.setItem('parley.session', ${JSON.stringify(JSON.stringify(value))})`);
}
