#!/usr/bin/env node
// An ESME on the npm `smpp` package (an SMPP implementation nobody here wrote), to check
// that smscope's SMSC side interoperates with it and to measure throughput.
//
//   node client.js --host H --port P --system-id ID --password PW
//                  [--count N] [--window W] [--mix plain|varied] [--timeout S]
//
// Binds as a transceiver and submits N messages (registered_delivery 1) to 33600000001,
// 33600000002, ... (TON 1, NPI 1), keeping at most W submit_sm unanswered (a counter,
// not one PDU at a time). --mix varied: about 10% long GSM texts (several parts, 8-bit
// concatenation UDH 05 00 03 ref total seq, esm_class 0x40), about 10% UCS-2 (data_coding
// 8, UTF-16BE), half of those long. Every deliver_sm is answered deliver_sm_resp 0;
// receipts (esm_class 0x04) are matched to the submitted parts by receipted_message_id
// (or the text's id: field). Stops when every accepted part has its receipt, or at the
// timeout, and prints one JSON object:
//
//   submitted_messages  messages whose every part was sent and answered
//   submitted_parts     submit_sm answered ESME_ROK
//   submit_errors       submit_sm answered with an error (after retries when throttled)
//   receipts            receipts received (duplicates included)
//   matched_receipts    accepted parts that got a receipt
//   unmatched           receipts whose id matches no accepted part
//   stats               receipts by their stat
//   submit_seconds      first submit_sm to the last submit_sm_resp
//   total_seconds       first submit_sm to the end (last receipt, or the timeout)
//   submits_per_second, receipts_per_second; and mo (MO deliver_sm received), retries
//   (parts sent again after ESME_RTHROTTLED / ESME_RMSGQFUL: sending pauses 50 ms, the
//   part waits 50 ms per attempt, 20 attempts at most), timed_out, link_lost, first_errors
//   (submit errors by status name)
//
// Exit code 0 whenever it ran (complete or not: read the JSON); 2 on a usage error,
// 3 when it cannot connect or bind.
'use strict';

const smpp = require('smpp');

function usage(message) {
	process.stderr.write(`client.js: ${message}\n`);
	process.stderr.write('usage: node client.js --host H --port P --system-id ID --password PW ' +
		'[--count N] [--window W] [--mix plain|varied] [--timeout S]\n');
	process.exit(2);
}

function parseArgs(argv) {
	const opts = {host: '127.0.0.1', port: null, systemId: null, password: null,
		count: 1000, window: 50, mix: 'plain', timeout: 60};
	const names = {'--host': 'host', '--port': 'port', '--system-id': 'systemId',
		'--password': 'password', '--count': 'count', '--window': 'window', '--mix': 'mix',
		'--timeout': 'timeout'};
	for (let i = 0; i < argv.length; i += 2) {
		const key = names[argv[i]];
		if (!key) usage(`unknown argument ${argv[i]}`);
		if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
		opts[key] = argv[i + 1];
	}
	if (opts.port === null || opts.systemId === null || opts.password === null) {
		usage('--port, --system-id and --password are required');
	}
	for (const key of ['port', 'count', 'window', 'timeout']) {
		opts[key] = Number(opts[key]);
		if (!Number.isFinite(opts[key]) || opts[key] < 0) usage(`bad --${key}`);
	}
	if (!Number.isInteger(opts.count) || !Number.isInteger(opts.window) || opts.window < 1) {
		usage('--count and --window must be whole numbers, --window at least 1');
	}
	if (opts.mix !== 'plain' && opts.mix !== 'varied') usage('--mix must be plain or varied');
	return opts;
}

const opts = parseArgs(process.argv.slice(2));

// -- the messages ----------------------------------------------------------------------

const GSM_LONG = 'Long GSM text @ 10€ {ok}: the quick brown fox jumps over the lazy dog. ';
const UCS2_SHORT = 'Καλημέρα κόσμε 👋 ';
const UCS2_LONG = 'Γειά σου κόσμε, αυτό είναι ένα μεγάλο μήνυμα 📨 ';

let concatRef = 0;

function ucs2(text) {
	return Buffer.from(text, 'utf16le').swap16();
}

// split encoded text into submit_sm parts: {data_coding, esm_class, short_message}
function parts(encoded, dataCoding, single, perPart, unitOk) {
	if (encoded.length <= single) {
		return [{data_coding: dataCoding, esm_class: 0, short_message: encoded}];
	}
	const chunks = [];
	let start = 0;
	while (start < encoded.length) {
		let end = Math.min(start + perPart, encoded.length);
		while (end < encoded.length && !unitOk(encoded, end)) end -= 1;
		chunks.push(encoded.subarray(start, end));
		start = end;
	}
	concatRef = (concatRef + 1) & 0xFF;
	return chunks.map((chunk, k) => ({
		data_coding: dataCoding,
		esm_class: 0x40,
		short_message: Buffer.concat([
			Buffer.from([0x05, 0x00, 0x03, concatRef, chunks.length, k + 1]), chunk]),
	}));
}

// do not cut a GSM escape (0x1B) from the character it announces
const gsmCut = (buf, end) => buf[end - 1] !== 0x1B;
// do not cut a UTF-16 surrogate pair
const ucs2Cut = (buf, end) => end % 2 === 0 && !(buf[end - 2] >= 0xD8 && buf[end - 2] <= 0xDB);

function gsmParts(text) {
	// GSM 03.38, one septet an octet (data_coding 0), by the package's own encoder
	return parts(smpp.gsmCoder.encode(text, 0x00), 0, 160, 153, gsmCut);
}

function ucs2Parts(text) {
	return parts(ucs2(text), 8, 140, 134, ucs2Cut);
}

function messageParts(i) {
	if (opts.mix === 'varied') {
		if (i % 10 === 3) return gsmParts(`#${i} ` + GSM_LONG.repeat(5));
		if (i % 20 === 17) return ucs2Parts(`#${i} ` + UCS2_LONG.repeat(3));
		if (i % 20 === 7) return ucs2Parts(`#${i} ` + UCS2_SHORT);
	}
	return [{data_coding: 0, esm_class: 0, short_message: Buffer.from(`Hello #${i}`, 'latin1')}];
}

function destination(i) {
	return '336' + String(i + 1).padStart(8, '0');
}

// -- state -------------------------------------------------------------------------------

const THROTTLED = new Set([smpp.ESME_RTHROTTLED, smpp.ESME_RMSGQFUL]);
const MAX_RETRIES = 20;
// after a throttle, send nothing new for this long (the SMSC asked us to slow down)
const THROTTLE_PAUSE_MS = 50;
const STATES = {1: 'ENROUTE', 2: 'DELIVRD', 3: 'EXPIRED', 4: 'DELETED', 5: 'UNDELIV',
	6: 'ACCEPTD', 7: 'UNKNOWN', 8: 'REJECTD'};

const result = {
	submitted_messages: 0,
	submitted_parts: 0,
	submit_errors: 0,
	receipts: 0,
	matched_receipts: 0,
	unmatched: 0,
	stats: {},
	submit_seconds: 0,
	total_seconds: 0,
	submits_per_second: 0,
	receipts_per_second: 0,
	mo: 0,
	retries: 0,
	timed_out: false,
	link_lost: false,
	first_errors: {},
};

let nextMessage = 0;      // index of the next message to split
let queue = [];           // parts of split messages not yet sent
let queueHead = 0;
let inflight = 0;         // submit_sm sent and unanswered
let retrying = 0;         // parts waiting out their pause after a throttle
const again = [];         // parts to send again (before new ones) once the window allows
let pausedUntil = 0;      // no submit_sm before this time (ms) after a throttle
let pauseTimer = null;
const partsLeft = [];     // message index -> parts not answered yet (or -1 once failed)
const accepted = new Map(); // normalised message id -> has a receipt (bool)
const early = new Map();    // normalised receipt id not (yet) matching a part -> count
let startedAt = 0;
let lastSubmitAt = 0;
let finished = false;

// ids may come back in another rendering ("0A" for "a", "000010"): compare them without
// case and leading zeros
function idKey(id) {
	const key = String(id).trim().toLowerCase().replace(/^0+(?=.)/, '');
	return key;
}

function allSent() {
	return nextMessage >= opts.count && queueHead >= queue.length && inflight === 0 &&
		retrying === 0 && again.length === 0;
}

function checkDone() {
	if (!finished && allSent() && result.matched_receipts >= accepted.size) finish(false);
}

function refill() {
	if (queueHead >= queue.length && nextMessage < opts.count) {
		const i = nextMessage++;
		queue = messageParts(i).map((p) => ({message: i, attempts: 0, fields: p}));
		queueHead = 0;
		partsLeft[i] = queue.length;
	}
}

function send(part) {
	inflight++;
	part.attempts++;
	const pdu = new smpp.PDU('submit_sm', {
		source_addr_ton: 5,
		source_addr_npi: 0,
		source_addr: 'NPMTEST',
		dest_addr_ton: 1,
		dest_addr_npi: 1,
		destination_addr: destination(part.message),
		esm_class: part.fields.esm_class,
		registered_delivery: 1,
		data_coding: part.fields.data_coding,
		short_message: part.fields.short_message,
	});
	if (!session.send(pdu, (resp) => onSubmitResp(part, resp))) {
		inflight--;
		lost();
	}
}

function pump() {
	if (pausedUntil > 0) {
		if (Date.now() < pausedUntil) return;
		pausedUntil = 0;
	}
	while (!finished && inflight < opts.window) {
		if (again.length > 0) {
			send(again.shift());
			continue;
		}
		refill();
		if (queueHead >= queue.length) break;
		send(queue[queueHead++]);
	}
}

function onSubmitResp(part, resp) {
	inflight--;
	lastSubmitAt = Date.now();
	const status = resp.command_status;
	if (status === 0) {
		result.submitted_parts++;
		const key = idKey(resp.message_id);
		const seen = early.get(key);
		if (seen) {
			early.delete(key);
			accepted.set(key, true);
			result.matched_receipts++;
		} else {
			accepted.set(key, false);
		}
		if (partsLeft[part.message] > 0 && --partsLeft[part.message] === 0) {
			result.submitted_messages++;
		}
	} else if (THROTTLED.has(status) && part.attempts <= MAX_RETRIES) {
		result.retries++;
		retrying++;
		if (pauseTimer === null) {
			pausedUntil = Date.now() + THROTTLE_PAUSE_MS;
			pauseTimer = setTimeout(() => {
				pauseTimer = null;
				pump();
			}, THROTTLE_PAUSE_MS);
		}
		setTimeout(() => {
			retrying--;
			again.push(part);
			pump();
		}, Math.min(1000, THROTTLE_PAUSE_MS * part.attempts));
	} else {
		result.submit_errors++;
		const name = statusName(status);
		result.first_errors[name] = (result.first_errors[name] || 0) + 1;
		partsLeft[part.message] = -1;
	}
	pump();
	checkDone();
}

function statusName(status) {
	for (const name in smpp.errors) {
		if (smpp.errors[name] === status) return name;
	}
	return '0x' + status.toString(16);
}

function textOf(pdu) {
	const sm = pdu.short_message;
	let value = sm && sm.message !== undefined ? sm.message : sm;
	if ((!value || value.length === 0) && pdu.message_payload) {
		const mp = pdu.message_payload;
		value = mp.message !== undefined ? mp.message : mp;
	}
	if (Buffer.isBuffer(value)) return value.toString('latin1');
	return typeof value === 'string' ? value : '';
}

function onDeliver(pdu) {
	session.send(pdu.response());
	const isReceipt = (pdu.esm_class & 0x04) !== 0 || pdu.receipted_message_id !== undefined;
	if (!isReceipt) {
		result.mo++;
		return;
	}
	result.receipts++;
	const text = textOf(pdu);
	let id = pdu.receipted_message_id;
	if (!id) {
		const m = /(?:^|\s)id:(\S+)/i.exec(text);
		id = m ? m[1] : '';
	}
	const m = /(?:^|\s)stat:(\S+)/i.exec(text);
	const stat = m ? m[1].toUpperCase() : (STATES[pdu.message_state] || 'NONE');
	result.stats[stat] = (result.stats[stat] || 0) + 1;
	const key = idKey(id);
	const had = accepted.get(key);
	if (had === false) {
		accepted.set(key, true);
		result.matched_receipts++;
		checkDone();
	} else if (had === undefined) {
		early.set(key, (early.get(key) || 0) + 1);
	}
}

// -- the session -------------------------------------------------------------------------

let exitTimer = null;

function finish(timedOut) {
	if (finished) return;
	finished = true;
	clearTimeout(exitTimer);
	clearTimeout(pauseTimer);
	const end = Date.now();
	result.timed_out = timedOut;
	for (const count of early.values()) result.unmatched += count;
	if (startedAt) {
		result.submit_seconds = ((lastSubmitAt || end) - startedAt) / 1000;
		result.total_seconds = (end - startedAt) / 1000;
	}
	result.submits_per_second = result.submit_seconds > 0
		? Math.round(result.submitted_parts / result.submit_seconds) : 0;
	result.receipts_per_second = result.total_seconds > 0
		? Math.round(result.receipts / result.total_seconds) : 0;
	// what was seen until now: answers still arriving during the unbind are not counted
	const line = JSON.stringify(result) + '\n';
	const done = () => {
		process.stdout.write(line, () => process.exit(0));
	};
	if (result.link_lost) {
		done();
		return;
	}
	// unbind politely, but do not wait more than a second for the answer
	const giveUp = setTimeout(() => {
		session.destroy();
		done();
	}, 1000);
	const sent = session.unbind({}, () => {
		clearTimeout(giveUp);
		session.close();
		done();
	});
	if (!sent) {
		clearTimeout(giveUp);
		done();
	}
}

function lost() {
	if (finished) return;
	result.link_lost = true;
	finish(false);
}

let bound = false;
const session = smpp.connect({host: opts.host, port: opts.port});

session.on('connect', () => {
	// the library's default socket options (Nagle on): smscope must cope with such peers
	session.bind_transceiver({system_id: opts.systemId, password: opts.password}, (resp) => {
		if (resp.command_status !== 0) {
			process.stderr.write(
				`client.js: bind refused: ${statusName(resp.command_status)}\n`);
			session.destroy();
			process.exit(3);
		}
		bound = true;
		startedAt = Date.now();
		exitTimer = setTimeout(() => finish(true), opts.timeout * 1000);
		pump();
		checkDone();
	});
});

session.on('deliver_sm', onDeliver);
session.on('enquire_link', (pdu) => session.send(pdu.response()));
session.on('unbind', (pdu) => {
	session.send(pdu.response());
	lost();
});
session.on('error', (err) => {
	if (!bound) {
		process.stderr.write(`client.js: cannot reach ${opts.host}:${opts.port}: ${err.message}\n`);
		process.exit(3);
	}
	lost();
});
session.on('close', () => {
	if (!bound) {
		process.stderr.write('client.js: the SMSC closed the connection before the bind\n');
		process.exit(3);
	}
	lost();
});
