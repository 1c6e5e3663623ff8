// A real-browser check of the scan page's offline mode (not a CI test: it needs Chromium).
// Log in as a checkpoint account, scan CODE1 online, go offline, scan CODE2 (valid), CODE3
// (revoked) and garbage, come back online and see the queue upload once.
//   npm install playwright-core@1 && apt-get install chromium
//   BASE=http://127.0.0.1:8080 PASSWORD=… CODE1=… CODE2=… CODE3=… node ops/browser/scan-offline.js
const BASE = process.env.BASE || 'http://127.0.0.1:8080';
const { chromium } = require('playwright-core');
const fs = require('fs');
const code = (i) => process.env['CODE' + i];
(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu','--disable-quic','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync'] });
  const context = await browser.newContext({ viewport: { width: 800, height: 1000 } });
  const page = await context.newPage();
  page.on('console', (m) => console.log('console:', m.text()));
  page.on('pageerror', (e) => console.log('pageerror:', e.message));
  await page.goto(BASE + '/login');
  await page.fill('#username', 'checkpoint'); await page.fill('#password', process.env.PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForFunction(() => localStorage.getItem('bd-bundle') && localStorage.getItem('bd-anchors'));
  // Online scan goes to the hall.
  await page.fill('#lane', 'YYG-C5'); await page.focus('#code');
  await page.keyboard.type(code(1)); await page.keyboard.press('Enter');
  await page.waitForSelector('.verdict');
  console.log('online:', (await page.textContent('.verdict')).replace(/\s+/g, ' '));
  // The link to the hall goes down.
  await context.setOffline(true);
  for (const [i, label] of [[2, 'valid'], [3, 'revoked'], ['', 'garbage']]) {
    await page.focus('#code');
    await page.keyboard.type(i === '' ? 'not-a-code' : code(i)); await page.keyboard.press('Enter');
    await page.waitForFunction((n) => document.querySelector('#offline-result') && JSON.parse(localStorage.getItem('bd-queue') || '[]').length === n, label === 'valid' ? 1 : label === 'revoked' ? 2 : 3);
    console.log('offline', label + ':', (await page.textContent('#offline-result')).replace(/\s+/g, ' '));
    if (label === 'revoked') await page.screenshot({ path: 'scan-offline.png', fullPage: true });
  }
  console.log('queued:', JSON.parse(await page.evaluate(() => localStorage.getItem('bd-queue'))).length);
  // Back online: the page uploads its queue once.
  await context.setOffline(false);
  await page.goto(BASE + '/checkpoint?lane=YYG-C5');
  await page.waitForFunction(() => JSON.parse(localStorage.getItem('bd-queue') || '[]').length === 0, null, { timeout: 10000 });
  console.log('queue after reconnect:', JSON.parse(await page.evaluate(() => localStorage.getItem('bd-queue'))).length);
  await browser.close();
})().catch(e => { console.error(e); process.exit(1); });
