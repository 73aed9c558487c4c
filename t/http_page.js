// t/http_page.js - the live page (GET /) and a browser's WebSocket against
// a running janusd, in headless Chromium (t/browser/page.js starts it).
//
// Owns: the checks of t/http_page.sh that need a browser. It opens the
// page, waits for its counters, subscribes one TCP client and one
// WebSocket opened by the page itself (greeting, then ACK), publishes
// over TCP, checks that both receive the same bytes and that the page's
// counters and WebSocket count change, that the page read /stats about
// once a second without a console error, saves a screenshot, then stops
// janusd (by the pid given) and checks the page says the server is
// unreachable. Must not start or find the server itself.
//
// Usage: node t/http_page.js HTTP_PORT JANUS_PORT JANUSD_PID SCREENSHOT.png
// Output: one "ok - WHAT" or "not ok - WHAT" line per entry of CHECKS, in
// that order, and "# ..." comments; t/http_page.sh numbers them.
'use strict';

const fs = require('fs');
const net = require('net');
const path = require('path');
const { browserOpen, browserWatch, say } = require(path.join(__dirname, 'browser', 'page.js'));

const CHECKS = [
	'GET / is the page',
	'its counters render and it says live',
	'the page\'s WebSocket gets the greeting first',
	'then ACK for its subscribe',
	'the page counts its WebSocket connection',
	'a message published over TCP reaches the page\'s WebSocket with the bytes TCP subscribers get',
	'the page\'s published and delivered counters follow',
	'the page reads /stats about once a second',
	'no console error, exception, failed or foreign request',
	'the screenshot is saved',
	'with janusd gone the page says server unreachable',
];
const TOPIC = 'page.test';
const COUNT = 3;
const WAIT_MS = 20000;         // generous: only against hangs
const HARD_LIMIT_MS = 150000;

let next = 0;
function check(ok, detail) {
	const name = CHECKS[next++];
	console.log(`${ok ? 'ok' : 'not ok'} - ${name}${detail ? ` (${detail})` : ''}`);
	return ok;
}
function notReached(why) {
	while (next < CHECKS.length)
		check(false, `not reached: ${why}`);
}

// janus - a TCP client of the Janus port: frames end with \1 (\0 going out).
function janus(port) {
	const sock = net.connect(port, '127.0.0.1');
	const frames = [];
	let buf = Buffer.alloc(0), waiter = null;
	sock.on('data', (d) => {
		buf = Buffer.concat([buf, d]);
		for (let i; (i = buf.indexOf(1)) >= 0; buf = buf.subarray(i + 1))
			frames.push(buf.subarray(0, i).toString('utf8'));
		if (waiter) waiter();
	});
	sock.on('error', (e) => say('janus client', e.message));
	return {
		send: (text) => sock.write(Buffer.concat([Buffer.from(text, 'utf8'), Buffer.from([0])])),
		// frame - the next frame, or null after WAIT_MS
		frame: () => new Promise((resolve) => {
			const take = () => { waiter = null; clearTimeout(t); resolve(frames.shift()); };
			const t = setTimeout(() => { waiter = null; resolve(null); }, WAIT_MS);
			if (frames.length) take(); else waiter = take;
		}),
		close: () => sock.destroy(),
	};
}

const GREETING = /^\{"timestamp":\[\d+,\d+,\d+\],"token":"[0-9a-f]{32}"\}$/;
const PREFIX = /^\{"timestamp":\[\d+,\d+,\d+\],/;

// shown - a counter of the page as a number (it formats them 1,234).
const shown = (page, id) => page.$eval(`#${id}`, (e) => Number(e.textContent.replace(/[^0-9]/g, '') || NaN));

async function waitFor(page, fn, arg) {
	try {
		await page.waitForFunction(fn, arg, { timeout: WAIT_MS, polling: 100 });
		return true;
	} catch (e) {
		return false;
	}
}

async function steps(b, a, error, expected) {
	const page = b.page, url = `http://127.0.0.1:${a.http}/`, polls = [];
	page.on('request', (r) => { if (new URL(r.url()).pathname === '/stats') polls.push(Date.now()); });
	await browserWatch(page, url, (kind, text) => { if (!expected.now) error(kind, text); });

	const resp = await page.goto(url, { waitUntil: 'load', timeout: WAIT_MS });
	const type = resp ? resp.headers()['content-type'] || '' : '';
	if (!check(resp && resp.status() === 200 && /^text\/html/.test(type) && await page.title() === 'janusd',
	    `${resp ? resp.status() : 'no answer'}, ${type}`))
		return notReached('no page');
	const live = await waitFor(page, () => document.getElementById('status').textContent === 'live' &&
	    /^[0-9,]+$/.test(document.getElementById('published').textContent));
	const p0 = await shown(page, 'published'), d0 = await shown(page, 'delivered');
	check(live, `published ${p0}, delivered ${d0}`);

	const tcp = janus(a.janus);
	const hello = await tcp.frame();
	tcp.send(JSON.stringify({ action: 'subscribe', data: TOPIC }));
	const ack = await tcp.frame();
	if (!GREETING.test(hello || '') || ack !== 'ACK')
		say('TCP subscriber', `greeting ${hello}, then ${ack}`);

	await page.evaluate(({ port, topic }) => {
		const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
		window.janusWs = { msgs: [], closed: null };
		ws.onmessage = (e) => {
			window.janusWs.msgs.push(e.data);
			if (window.janusWs.msgs.length === 1)
				ws.send(JSON.stringify({ action: 'subscribe', data: topic }));
		};
		ws.onclose = (e) => { window.janusWs.closed = e.code; };
	}, { port: a.http, topic: TOPIC });
	await waitFor(page, () => window.janusWs.msgs.length >= 2 || window.janusWs.closed !== null);
	let got = await page.evaluate(() => window.janusWs);
	check(GREETING.test(got.msgs[0] || ''), `${got.msgs[0]}${got.closed !== null ? `, closed ${got.closed}` : ''}`);
	check(got.msgs[1] === 'ACK', got.msgs[1]);
	const wsShown = await waitFor(page, () => Number(document.getElementById('conns_ws').textContent) >= 1);
	check(wsShown, `conns_ws ${await shown(page, 'conns_ws')}`);

	// the first carries what must pass through unchanged: member order, escapes, UTF-8
	const bodies = [];
	for (let i = 0; i < COUNT; i++)
		bodies.push(`"topic":"${TOPIC}","event":"e${i}","message_id":"m${i}",` +
		    `"data":{"text":"h\\u00e9llo \\"x\\" \u00e9\u4e2d\ud83d\ude00","n":[1,2.5e3,true,null],"i":${i}}`);
	const pub = janus(a.janus);
	await pub.frame();
	const seqs = [];
	for (const body of bodies) {
		pub.send(`{"action":"publish",${body},"ack":true}`);
		seqs.push(await pub.frame());
	}
	pub.close();
	const tcpGot = [];
	for (let i = 0; i < COUNT; i++)
		tcpGot.push(await tcp.frame());
	tcp.close();
	await waitFor(page, (n) => window.janusWs.msgs.length >= n, 2 + COUNT);
	got = await page.evaluate(() => window.janusWs);
	const wsGot = got.msgs.slice(2);
	const same = wsGot.length === COUNT && wsGot.every((m, i) => m === tcpGot[i] &&
	    PREFIX.test(m) && m.replace(PREFIX, '') === `${bodies[i]}}`);
	if (!same)
		say('published', `${seqs.join(' ')}; TCP got ${JSON.stringify(tcpGot)}; WebSocket got ${JSON.stringify(wsGot)}`);
	check(same, `${wsGot.length} of ${COUNT}: ${wsGot[0]}`);

	const counted = await waitFor(page, ({ p, d, n }) => {
		const v = (id) => Number(document.getElementById(id).textContent.replace(/[^0-9]/g, ''));
		return v('published') === p + n && v('delivered') === d + 2 * n;
	}, { p: p0, d: d0, n: COUNT });
	check(counted, `published ${p0} -> ${await shown(page, 'published')}, ` +
	    `delivered ${d0} -> ${await shown(page, 'delivered')} (want +${COUNT}, +${2 * COUNT})`);

	const gaps = polls.slice(1).map((t, i) => t - polls[i]).sort((x, y) => x - y);
	const median = gaps.length ? gaps[Math.floor(gaps.length / 2)] : Infinity;
	check(gaps.length >= 2 && median <= 1250, `${polls.length} readings, median ${median} ms apart`);
	check(a.errors() === 0, `${a.errors()}`);

	await page.screenshot({ path: a.shot, fullPage: true });
	const png = fs.existsSync(a.shot) ? fs.readFileSync(a.shot).subarray(0, 8).toString('hex') : '';
	check(png === '89504e470d0a1a0a', a.shot);

	expected.now = true;
	process.kill(a.pid, 'SIGTERM');
	const down = await waitFor(page, () => /unreachable/.test(document.getElementById('status').textContent));
	check(down, await page.$eval('#status', (e) => e.textContent));
}

async function main() {
	const [http, port, pid, shot] = process.argv.slice(2);
	if (!shot) {
		process.stderr.write('usage: node t/http_page.js HTTP_PORT JANUS_PORT JANUSD_PID SCREENSHOT.png\n');
		return 2;
	}
	let errors = 0, b;
	const expected = { now: false };
	const a = { http: Number(http), janus: Number(port), pid: Number(pid), shot, errors: () => errors };
	try {
		b = await browserOpen();
	} catch (e) {
		notReached(e.message);
		return 1;
	}
	try {
		await steps(b, a, (kind, text) => { errors++; say(kind, text); }, expected);
	} catch (e) {
		say('failed', e.stack || e);
		notReached(e.message);
	} finally {
		await b.close();
	}
	return 0;
}

setTimeout(() => { notReached(`no result after ${HARD_LIMIT_MS} ms`); process.exit(1); }, HARD_LIMIT_MS).unref();
main().then((rc) => process.exit(rc), (e) => { say('failed', e.stack || e); process.exit(1); });
