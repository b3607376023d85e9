#!/usr/bin/env node
// A minimal SMSC on the npm `smpp` package (an SMPP implementation nobody here wrote),
// to check that smscope's ESME interoperates with it and to give a throughput baseline.
//
//   node server.js [--host 127.0.0.1] [--port 0] [--system-id esme] [--password secret]
//                  [--mo-trigger NUMBER]
//
// Prints {"port": N} on stdout once listening. Every submit_sm is answered with a fresh
// message id (a counter, in hex) and at once followed, on the same session, by a
// delivery receipt for it: deliver_sm, esm_class 0x04, the SMPP 3.4 Appendix B text and
// the receipted_message_id and message_state (2, DELIVERED) TLVs. A submit_sm to the
// --mo-trigger number also gets an MO deliver_sm "STOP" from that number back to the
// submit's source. On SIGTERM/SIGINT prints one JSON line of counts (see `counts`: what
// was submitted, which receipts were acknowledged, and the first texts as the package
// decoded them) and exits.
// No per-message logging: this is also the baseline of a throughput benchmark.
'use strict';

const smpp = require('smpp');

function usage(message) {
	process.stderr.write(`server.js: ${message}\n`);
	process.stderr.write('usage: node server.js [--host H] [--port P] [--system-id ID] ' +
		'[--password PW] [--mo-trigger NUMBER]\n');
	process.exit(2);
}

function parseArgs(argv) {
	const opts = {host: '127.0.0.1', port: 0, systemId: 'esme', password: 'secret', moTrigger: null};
	const names = {'--host': 'host', '--port': 'port', '--system-id': 'systemId',
		'--password': 'password', '--mo-trigger': 'moTrigger'};
	for (let i = 0; i < argv.length; i += 2) {
		const key = names[argv[i]];
		if (!key) usage(`unknown argument ${argv[i]}`);
		if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
		opts[key] = argv[i + 1];
	}
	opts.port = Number(opts.port);
	if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) usage('bad --port');
	return opts;
}

const opts = parseArgs(process.argv.slice(2));

const counts = {
	binds: 0,
	binds_refused: 0,
	submits: 0,               // submit_sm answered ESME_ROK
	concat_parts: 0,          // ... of which carried a concatenation UDH (05 00 03 / 06 08 04)
	ucs2_parts: 0,            // ... of which had data_coding 8
	sar_parts: 0,             // ... of which had the sar_msg_ref_num TLV
	payload_parts: 0,         // ... of which had the message_payload TLV
	receipts_sent: 0,         // deliver_sm receipts written
	receipts_acked: 0,        // deliver_sm_resp status 0 for a receipt
	receipt_resp_errors: 0,   // deliver_sm_resp with another status for a receipt
	receipts_unroutable: 0,   // no receiver or transceiver session bound to send it on
	mo_sent: 0,
	mo_acked: 0,
	unacked_receipt_ids: [],  // filled at exit: receipts never acknowledged (at most 1000)
	// the first submits as the package decoded them: [data_coding, text, concat] with
	// concat [ref, total, seq] from a concatenation UDH (8- or 16-bit reference) or the
	// sar_* TLVs, or null
	samples: [],
};
const MAX_SAMPLES = 50;
// receipted message id -> true while its receipt waits for a deliver_sm_resp
const unacked = new Map();

let nextId = 0;

function pad2(n) {
	return n < 10 ? '0' + n : String(n);
}

function smppDate(d) {
	return pad2(d.getUTCFullYear() % 100) + pad2(d.getUTCMonth() + 1) + pad2(d.getUTCDate()) +
		pad2(d.getUTCHours()) + pad2(d.getUTCMinutes());
}

// the date fields change once a minute: no need to format them for every message
let dateStamp = '';
let dateUntil = 0;
function nowStamp() {
	const now = Date.now();
	if (now >= dateUntil) {
		dateStamp = smppDate(new Date(now));
		dateUntil = now - (now % 60000) + 60000;
	}
	return dateStamp;
}

// the first `length` characters of the submitted text, as the package decoded it
function receiptText(pdu, length = 20) {
	for (const field of [pdu.short_message, pdu.message_payload]) {
		if (field && typeof field.message === 'string' && field.message) {
			return field.message.slice(0, length);
		}
	}
	return '';
}

// characters that are the same octet in ASCII and in GSM 03.38
const SAME_IN_GSM = /^[A-Za-z0-9 !"#%&'()*+,\-./:;<=>?]*$/;

// receipts go out with data_coding 0, the SMSC default alphabet (GSM 03.38): encode
// with the package's GSM coder unless every character is the same octet in ASCII
function gsmBytes(text) {
	return SAME_IN_GSM.test(text) ? Buffer.from(text, 'latin1') : smpp.gsmCoder.encode(text, 0);
}

// [ref, total, seq] of a concatenation UDH (8-bit ref: IEI 0, 16-bit: IEI 8) or of the
// sar_* TLVs; null for a message in one part
function concatOf(pdu) {
	if (pdu.sar_msg_ref_num !== undefined) {
		return [pdu.sar_msg_ref_num, pdu.sar_total_segments, pdu.sar_segment_seqnum];
	}
	const sm = pdu.short_message;
	if (!(pdu.esm_class & 0x40) || !sm || !Array.isArray(sm.udh)) return null;
	for (const ie of sm.udh) {
		if (ie.length === 5 && ie[0] === 0x00 && ie[1] === 0x03) return [ie[2], ie[3], ie[4]];
		if (ie.length === 6 && ie[0] === 0x08 && ie[1] === 0x04) {
			return [ie.readUInt16BE(2), ie[4], ie[5]];
		}
	}
	return null;
}

// where deliver_sm for a submit on `session` go: that session if it is a transceiver,
// else any bound receiver or transceiver session (there is only one system_id)
function receiverFor(session) {
	if (session.bound === 'bind_transceiver') return session;
	for (const other of server.sessions) {
		if (other.bound === 'bind_transceiver' || other.bound === 'bind_receiver') return other;
	}
	return null;
}

function onSubmit(session, pdu) {
	if (session.bound !== 'bind_transceiver' && session.bound !== 'bind_transmitter') {
		session.send(pdu.response({command_status: smpp.ESME_RINVBNDSTS}));
		return;
	}
	const id = (++nextId).toString(16);
	session.send(pdu.response({message_id: id}));
	counts.submits++;
	if (pdu.data_coding === 8) counts.ucs2_parts++;
	const concat = concatOf(pdu);
	if (concat !== null && pdu.sar_msg_ref_num === undefined) counts.concat_parts++;
	if (pdu.sar_msg_ref_num !== undefined) counts.sar_parts++;
	if (pdu.message_payload !== undefined) counts.payload_parts++;

	if (counts.samples.length < MAX_SAMPLES) {
		counts.samples.push([pdu.data_coding, receiptText(pdu, Infinity), concat]);
	}

	const stamp = nowStamp();
	const text = `id:${id} sub:001 dlvrd:001 submit date:${stamp} done date:${stamp} ` +
		`stat:DELIVRD err:000 text:${receiptText(pdu)}`;
	const receipt = new smpp.PDU('deliver_sm', {
		source_addr_ton: pdu.dest_addr_ton,
		source_addr_npi: pdu.dest_addr_npi,
		source_addr: pdu.destination_addr,
		dest_addr_ton: pdu.source_addr_ton,
		dest_addr_npi: pdu.source_addr_npi,
		destination_addr: pdu.source_addr,
		esm_class: 0x04,
		data_coding: 0,
		short_message: gsmBytes(text),
		receipted_message_id: id,
		message_state: 2,
	});
	const to = receiverFor(session);
	if (to === null) {
		counts.receipts_unroutable++;
		return;
	}
	unacked.set(id, true);
	counts.receipts_sent++;
	to.send(receipt, (resp) => {
		if (resp.command_status === 0) {
			counts.receipts_acked++;
			unacked.delete(id);
		} else {
			counts.receipt_resp_errors++;
		}
	});

	if (opts.moTrigger !== null && pdu.destination_addr === opts.moTrigger) {
		const mo = new smpp.PDU('deliver_sm', {
			source_addr_ton: pdu.dest_addr_ton,
			source_addr_npi: pdu.dest_addr_npi,
			source_addr: opts.moTrigger,
			dest_addr_ton: pdu.source_addr_ton,
			dest_addr_npi: pdu.source_addr_npi,
			destination_addr: pdu.source_addr,
			esm_class: 0,
			data_coding: 0,
			short_message: Buffer.from('STOP', 'latin1'),
		});
		counts.mo_sent++;
		to.send(mo, (resp) => {
			if (resp.command_status === 0) counts.mo_acked++;
		});
	}
}

function onBind(session, pdu) {
	if (session.bound) {
		session.send(pdu.response({command_status: smpp.ESME_RALYBND}));
		return;
	}
	let status = 0;
	if (pdu.system_id !== opts.systemId) status = smpp.ESME_RINVSYSID;
	else if (pdu.password !== opts.password) status = smpp.ESME_RINVPASWD;
	if (status !== 0) {
		counts.binds_refused++;
		session.send(pdu.response({command_status: status}));
		session.close();
		return;
	}
	counts.binds++;
	session.bound = pdu.command;
	session.send(pdu.response({system_id: 'npm-smpp'}));
}

const HANDLED = new Set(['bind_transceiver', 'bind_transmitter', 'bind_receiver', 'submit_sm',
	'enquire_link', 'unbind']);

const server = smpp.createServer((session) => {
	session.bound = null;  // the bind command once bound
	// the library's default socket options (Nagle on): smscope must cope with such peers
	session.on('error', () => {});  // a peer resetting the connection is not our failure
	session.on('bind_transceiver', (pdu) => onBind(session, pdu));
	session.on('bind_transmitter', (pdu) => onBind(session, pdu));
	session.on('bind_receiver', (pdu) => onBind(session, pdu));
	session.on('submit_sm', (pdu) => onSubmit(session, pdu));
	session.on('enquire_link', (pdu) => session.send(pdu.response()));
	session.on('unbind', (pdu) => {
		session.send(pdu.response());
		session.bound = null;
		session.close();
	});
	// anything else asked of us (unknown command ids included): "not supported"
	session.on('pdu', (pdu) => {
		if (!pdu.isResponse() && !HANDLED.has(pdu.command)) {
			session.send(pdu.response({command_status: smpp.ESME_RINVCMDID}));
		}
	});
});

server.on('error', (err) => {
	process.stderr.write(`server.js: ${err.message}\n`);
	process.exit(1);
});

server.listen(opts.port, opts.host, () => {
	process.stdout.write(JSON.stringify({port: server.address().port}) + '\n');
});

let stopping = false;
function stop() {
	if (stopping) return;
	stopping = true;
	counts.unacked_receipt_ids = Array.from(unacked.keys()).slice(0, 1000);
	process.stdout.write(JSON.stringify(counts) + '\n', () => process.exit(0));
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
