// t/browser/page.js - open one page in headless Chromium, report what went
// wrong in it and save a screenshot.
//
// Owns: launching Debian's chromium through playwright-core (never a
// browser download) with a new empty profile, loading the page, collecting
// its console errors, uncaught exceptions, failed requests and requests to
// anywhere but the page's own origin (which it blocks: a page under test
// must be self-contained), and the full-page screenshot.
// Must not decide what a test asserts: it prints TAP comment lines
// ("# console error: ...") and says by its exit status whether any came.
// Tests that drive a page themselves (t/http_page.js) require it for
// browserOpen and browserWatch.
//
// Usage: node t/browser/page.js [--wait MS] URL-OR-FILE SCREENSHOT.png
//   --wait MS  let the page's scripts run this long after "load" (500)
// Environment: NODE_PATH finds playwright-core; CHROMIUM (/usr/bin/chromium).
// Exit status: 0 the page loaded without an error, 1 it had errors,
// 2 the browser could not be started or the page not loaded.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { pathToFileURL } = require('url');

const FLAGS = [
	'--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
	'--no-first-run', '--disable-background-networking',
	'--disable-component-update', '--disable-sync',
];
const HARD_LIMIT_MS = 90000;

function usage() {
	process.stderr.write('usage: node page.js [--wait MS] URL-OR-FILE SCREENSHOT.png\n');
	process.exit(2);
}

function parseArgs(argv) {
	const a = { waitMs: 500 };
	const rest = [];
	for (let i = 0; i < argv.length; i++) {
		if (argv[i] === '--wait' && i + 1 < argv.length && /^\d+$/.test(argv[i + 1]))
			a.waitMs = Number(argv[++i]);
		else
			rest.push(argv[i]);
	}
	if (rest.length !== 2)
		usage();
	a.url = /^[a-z][a-z0-9+.-]*:/i.test(rest[0]) ? rest[0] :
	    pathToFileURL(path.resolve(rest[0])).href;
	a.shot = rest[1];
	return a;
}

// sameOrigin - a request the page may make: its own origin, data: or about:.
function sameOrigin(pageUrl, reqUrl) {
	const p = new URL(pageUrl), r = new URL(reqUrl);
	if (r.protocol === 'data:' || r.protocol === 'about:' || r.protocol === 'blob:')
		return true;
	if (p.protocol === 'file:')
		return r.protocol === 'file:';
	return r.origin === p.origin;
}

function say(kind, text) {
	console.log(`# ${kind}: ${String(text).replace(/\s+/g, ' ').trim()}`);
}

/*
 * browserOpen - Debian's chromium through playwright-core with a new empty
 * profile: { ctx, page, close }. Throws, saying why, if it cannot start.
 */
async function browserOpen() {
	let playwright;
	try {
		playwright = require('playwright-core');
	} catch (e) {
		throw new Error(`cannot load playwright-core: ${e.message}`);
	}
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'janus-chromium-'));
	let ctx;
	try {
		ctx = await playwright.chromium.launchPersistentContext(profile, {
			executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
			headless: true,
			args: FLAGS,
			viewport: { width: 1280, height: 900 },
		});
	} catch (e) {
		fs.rmSync(profile, { recursive: true, force: true });
		throw new Error(`cannot start chromium: ${e.message}`);
	}
	const page = ctx.pages()[0] || await ctx.newPage();
	const close = async () => {
		await ctx.close();
		fs.rmSync(profile, { recursive: true, force: true });
	};
	return { ctx, page, close };
}

/*
 * browserWatch - report through error(kind, text) every console error,
 * uncaught exception, failed request, HTTP error and request to another
 * origin than pageUrl's (which it blocks).
 */
async function browserWatch(page, pageUrl, error) {
	const blocked = new Set();
	await page.route('**/*', (route) => {
		const u = route.request().url();
		if (sameOrigin(pageUrl, u))
			return route.continue();
		blocked.add(u);
		error('request to another origin (blocked)', u);
		return route.abort();
	});
	page.on('console', (m) => { if (m.type() === 'error') error('console error', m.text()); });
	page.on('pageerror', (e) => error('page error', e.message));
	page.on('requestfailed', (r) => {
		if (!blocked.has(r.url()))
			error('request failed', `${r.url()} (${r.failure() ? r.failure().errorText : '?'})`);
	});
	page.on('response', (r) => {
		if (r.status() >= 400)
			error('HTTP error', `${r.status()} ${r.url()}`);
	});
}

async function run(a) {
	let b;
	let errors = 0;
	const error = (kind, text) => { errors++; say(kind, text); };
	try {
		b = await browserOpen();
	} catch (e) {
		say('no browser', e.message);
		return 2;
	}
	try {
		const page = b.page;
		await browserWatch(page, a.url, error);
		try {
			await page.goto(a.url, { waitUntil: 'load', timeout: 30000 });
		} catch (e) {
			say('cannot load the page', e.message);
			return 2;
		}
		await page.waitForTimeout(a.waitMs);
		// a full-page shot of a bare SVG document never completes: the view will do
		const html = await page.evaluate(() => document.contentType === 'text/html');
		await page.screenshot({ path: a.shot, fullPage: html });
		say('title', await page.title());
		say('screenshot', a.shot);
		say('errors', errors);
		return errors === 0 ? 0 : 1;
	} finally {
		await b.close();
	}
}

module.exports = { browserOpen, browserWatch, say };

if (require.main === module) {
	const args = parseArgs(process.argv.slice(2));
	setTimeout(() => { say('gave up', `no result after ${HARD_LIMIT_MS} ms`); process.exit(2); },
	    HARD_LIMIT_MS).unref();
	run(args).then((rc) => process.exit(rc), (e) => { say('failed', e.stack || e); process.exit(2); });
}
